//! NodeResourcesFit: the pod's request must fit in `allocatable − Σ requests of the node's pods`,
//! for every resource it requests, and the node must have room for one more pod
//! (`noderesources/fit.go`, `fitsRequest`). Every insufficient resource is reported.

use super::rejection::{Code, Detail, Plugin, Rejection};
use crate::fit::index::NodeEntry;
use crate::fit::reasons;
use crate::fit::resources::{CPU, EPHEMERAL_STORAGE, MEMORY, Resources, write_amount};

/// The pod's request, with what every node's rejection repeats (the requested amount in words,
/// the reason and the fixes) written once.
pub(crate) struct Prepared {
    requests_nothing: bool,
    wanted: Vec<Wanted>,
}

/// One requested resource.
struct Wanted {
    name: String,
    requested: i64,
    /// `1.5 CPU`, `2Gi memory`.
    requested_text: String,
    /// `Insufficient cpu`.
    reason: String,
    /// For a node that has some of it.
    fix: String,
    /// For a node that has none of it.
    fix_where_absent: String,
}

impl Prepared {
    pub fn new(requests: &Resources) -> Prepared {
        let native = [CPU, MEMORY, EPHEMERAL_STORAGE].map(|name| (name, requests.get(name)));
        let wanted = native
            .into_iter()
            .filter(|(_, amount)| *amount > 0)
            .chain(requests.scalars())
            .filter(|(_, amount)| *amount != 0)
            .map(|(name, requested)| Wanted {
                name: name.to_string(),
                requested,
                requested_text: labelled(name, requested),
                reason: reasons::insufficient(name),
                fix: format!(
                    "Lower the pod's {name} request, free {name} on a node (scale down or move \
                     pods), or add a node with more {name}."
                ),
                fix_where_absent: format!(
                    "Run the pod on nodes that provide {name} (check the device plugin or node \
                     pool), or drop the request."
                ),
            })
            .collect();
        Prepared {
            requests_nothing: requests.requests_nothing(),
            wanted,
        }
    }

    pub fn check(&self, node: &NodeEntry) -> Vec<Rejection> {
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
                    "Remove finished or unneeded pods from the node, raise the kubelet's maxPods, \
                     or add a node.",
                ),
            );
        }
        if self.requests_nothing {
            return rejections;
        }
        for wanted in &self.wanted {
            let allocatable = node.allocatable.get(&wanted.name);
            let used = node.requested.get(&wanted.name);
            if wanted.requested > allocatable - used {
                rejections.push(insufficient(node, wanted, allocatable, used));
            }
        }
        rejections
    }
}

fn insufficient(node: &NodeEntry, wanted: &Wanted, allocatable: i64, used: i64) -> Rejection {
    let (name, requested) = (wanted.name.as_str(), wanted.requested);
    let free = allocatable - used;
    let mut evidence = format!("requests {}; node allocatable ", wanted.requested_text);
    write_labelled(&mut evidence, name, allocatable);
    evidence.push_str(", already requested ");
    write_labelled(&mut evidence, name, used);
    evidence.push_str(&format!(" by {} pods, free ", node.pod_count));
    write_labelled(&mut evidence, name, free.max(0));
    let rejection = Rejection::new(
        Plugin::NodeResourcesFit,
        Code::Unschedulable,
        wanted.reason.clone(),
        Detail::InsufficientResource {
            resource: name.to_string(),
            requested,
            allocatable,
            used,
            free,
        },
    )
    .with_evidence(evidence);
    if allocatable == 0 {
        return rejection
            .explained(format!(
                "Node {} offers no {name} at all (allocatable 0).",
                node.name
            ))
            .with_fix(wanted.fix_where_absent.clone());
    }
    let mut explanation = format!(
        "The pod needs {} on node {}, ",
        wanted.requested_text, node.name
    );
    if requested > allocatable {
        explanation.push_str("more than the node's whole allocatable ");
        write_labelled(&mut explanation, name, allocatable);
    } else {
        explanation.push_str("only ");
        write_labelled(&mut explanation, name, free.max(0));
        explanation.push_str(" of it is not yet requested by other pods");
    }
    explanation.push_str("; ");
    write_labelled(&mut explanation, name, requested - free.max(0));
    explanation.push_str(" short.");
    rejection
        .explained(explanation)
        .with_fix(wanted.fix.clone())
}

/// `1.5 CPU`, `2Gi memory`, `1 nvidia.com/gpu`.
fn labelled(name: &str, amount: i64) -> String {
    let mut text = String::new();
    write_labelled(&mut text, name, amount);
    text
}

fn write_labelled(out: &mut String, name: &str, amount: i64) {
    write_amount(out, name, amount);
    if name != CPU {
        out.push(' ');
        out.push_str(name);
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
        Prepared::new(&pod_requests(&pod_with_spec(spec))).check(&snapshot.nodes[0])
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
