//! NodeResourcesFit: the pod's request must fit in `allocatable − Σ requests of the node's pods`,
//! for every resource it requests, and the node must have room for one more pod
//! (`noderesources/fit.go`, `fitsRequest`). Every insufficient resource is reported.

use super::rejection::{Code, Detail, Plugin, Rejection};
use crate::fit::index::NodeEntry;
use crate::fit::reasons;
use crate::fit::resources::{CPU, EPHEMERAL_STORAGE, MEMORY, Resources, format_amount};

pub(crate) fn check(requests: &Resources, node: &NodeEntry) -> Vec<Rejection> {
    let mut rejections = Vec::new();
    let existing = node.pod_count;
    let allowed = node.allowed_pods();
    if existing as i64 + 1 > allowed {
        rejections.push(
            Rejection::new(
                Plugin::NodeResourcesFit,
                Code::Unschedulable,
                reasons::TOO_MANY_PODS,
                Detail::TooManyPods { allowed, existing },
            )
            .explained(format!(
                "Node {} already runs {existing} pods and its allocatable pods is {allowed}.",
                node.name
            ))
            .with_evidence(format!(
                "allocatable pods {allowed}, pods on the node {existing}"
            ))
            .with_fix(
                "Remove finished or unneeded pods from the node, raise the kubelet's maxPods, or \
                 add a node.",
            ),
        );
    }
    if requests.requests_nothing() {
        return rejections;
    }
    let native = [CPU, MEMORY, EPHEMERAL_STORAGE].map(|name| (name, requests.get(name)));
    let wanted = native
        .into_iter()
        .filter(|(_, amount)| *amount > 0)
        .chain(requests.scalars());
    for (name, requested) in wanted.filter(|(_, amount)| *amount != 0) {
        let allocatable = node.allocatable.get(name);
        let used = node.requested.get(name);
        let free = allocatable - used;
        if requested > free {
            rejections.push(insufficient(
                node,
                name,
                requested,
                allocatable,
                used,
                existing,
            ));
        }
    }
    rejections
}

fn insufficient(
    node: &NodeEntry,
    name: &str,
    requested: i64,
    allocatable: i64,
    used: i64,
    pods: usize,
) -> Rejection {
    let free = allocatable - used;
    let show = |amount: i64| labelled(name, amount);
    let rejection = Rejection::new(
        Plugin::NodeResourcesFit,
        Code::Unschedulable,
        reasons::insufficient(name),
        Detail::InsufficientResource {
            resource: name.to_string(),
            requested,
            allocatable,
            used,
            free,
        },
    )
    .with_evidence(format!(
        "requests {}; node allocatable {}, already requested {} by {pods} pods, free {}",
        show(requested),
        show(allocatable),
        show(used),
        show(free.max(0)),
    ));
    if allocatable == 0 {
        return rejection
            .explained(format!(
                "Node {} offers no {name} at all (allocatable 0).",
                node.name
            ))
            .with_fix(format!(
                "Run the pod on nodes that provide {name} (check the device plugin or node pool), \
                 or drop the request."
            ));
    }
    let shortfall = requested - free.max(0);
    let verdict = if requested > allocatable {
        format!(
            "more than the node's whole allocatable {}",
            show(allocatable)
        )
    } else {
        format!(
            "only {} of it is not yet requested by other pods",
            show(free.max(0))
        )
    };
    rejection
        .explained(format!(
            "The pod needs {} on node {}, {verdict}; {} short.",
            show(requested),
            node.name,
            show(shortfall)
        ))
        .with_fix(format!(
            "Lower the pod's {name} request, free {name} on a node (scale down or move pods), or \
             add a node with more {name}."
        ))
}

fn labelled(name: &str, amount: i64) -> String {
    let amount_text = format_amount(name, amount);
    if name == CPU {
        amount_text
    } else {
        format!("{amount_text} {name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::index::Snapshot;
    use crate::fit::requests::pod_requests;
    use crate::fit::testing::{container, node, node_from, pod_with_spec, running};
    use serde_json::json;

    fn reasons_for(
        nodes: &[k8s_openapi::api::core::v1::Node],
        pods: &[k8s_openapi::api::core::v1::Pod],
        spec: serde_json::Value,
    ) -> Vec<Rejection> {
        let snapshot = Snapshot::new(nodes, pods);
        check(&pod_requests(&pod_with_spec(spec)), &snapshot.nodes[0])
    }

    #[test]
    fn shows_requested_allocatable_used_and_free() {
        let nodes = [node("n1", json!({}))];
        let pods: Vec<_> = (0..7)
            .map(|i| running(&format!("p{i}"), "n1", json!({}), "500m", "0"))
            .collect();
        let rejections = reasons_for(
            &nodes,
            &pods,
            json!({"containers": [container("1", "1Gi")]}),
        );
        assert_eq!(rejections.len(), 1);
        let rejection = &rejections[0];
        assert_eq!(rejection.reason, "Insufficient cpu");
        assert_eq!(
            rejection.evidence[0],
            "requests 1 CPU; node allocatable 4 CPU, already requested 3.5 CPU by 7 pods, free 0.5 CPU"
        );
        assert!(rejection.explanation.contains("0.5 CPU short"));
    }

    #[test]
    fn reports_every_insufficient_resource() {
        let nodes = [node("n1", json!({}))];
        let spec = json!({"containers": [{"name": "c", "resources": {"requests": {
            "cpu": "5", "memory": "9Gi", "ephemeral-storage": "200Gi", "nvidia.com/gpu": "1"}}}]});
        let reasons: Vec<String> = reasons_for(&nodes, &[], spec)
            .into_iter()
            .map(|r| r.reason)
            .collect();
        assert_eq!(
            reasons,
            [
                "Insufficient cpu",
                "Insufficient memory",
                "Insufficient ephemeral-storage",
                "Insufficient nvidia.com/gpu"
            ]
        );
    }

    #[test]
    fn exactly_full_still_fits() {
        let nodes = [node("n1", json!({}))];
        let pods = [running("p", "n1", json!({}), "3", "4Gi")];
        assert!(
            reasons_for(
                &nodes,
                &pods,
                json!({"containers": [container("1", "4Gi")]})
            )
            .is_empty()
        );
    }

    #[test]
    fn too_many_pods_counts_every_pod_even_without_requests() {
        let nodes = [node_from(json!({
            "metadata": {"name": "n1"},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "2"}},
        }))];
        let pods = [
            running("a", "n1", json!({}), "0", "0"),
            running("b", "n1", json!({}), "0", "0"),
        ];
        let rejections = reasons_for(&nodes, &pods, json!({"containers": [{"name": "c"}]}));
        assert_eq!(rejections.len(), 1);
        assert_eq!(rejections[0].reason, "Too many pods");
    }

    #[test]
    fn missing_extended_resource_says_the_node_has_none() {
        let nodes = [node("n1", json!({}))];
        let spec = json!({"containers": [{"name": "c", "resources": {"requests": {"example.com/fpga": "1"}}}]});
        let rejections = reasons_for(&nodes, &[], spec);
        assert!(
            rejections[0]
                .explanation
                .contains("offers no example.com/fpga at all")
        );
    }

    #[test]
    fn zero_extended_request_is_skipped() {
        let nodes = [node("n1", json!({}))];
        let spec = json!({"containers": [{"name": "c", "resources": {"requests": {"nvidia.com/gpu": "0"}}}]});
        assert!(reasons_for(&nodes, &[], spec).is_empty());
    }
}
