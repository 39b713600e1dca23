//! NodeUnschedulable: cordoned nodes (`spec.unschedulable`) take only pods that tolerate the
//! `node.kubernetes.io/unschedulable:NoSchedule` taint (`nodeunschedulable/node_unschedulable.go`).

use k8s_openapi::api::core::v1::Taint;

use super::PodContext;
use super::rejection::{Code, Detail, Plugin, Rejection};
use super::taints::{UNSCHEDULABLE_TAINT, tolerated};
use crate::fit::index::NodeEntry;
use crate::fit::reasons;

pub(crate) fn check(ctx: &PodContext, node: &NodeEntry) -> Option<Rejection> {
    if !node.unschedulable {
        return None;
    }
    let cordon = Taint {
        key: UNSCHEDULABLE_TAINT.to_string(),
        effect: "NoSchedule".to_string(),
        ..Taint::default()
    };
    if tolerated(ctx.tolerations, &cordon) {
        return None;
    }
    Some(
        Rejection::new(
            Plugin::NodeUnschedulable,
            Code::UnschedulableAndUnresolvable,
            reasons::NODE_UNSCHEDULABLE,
            Detail::Cordoned,
        )
        .explained(format!(
            "Node {} is cordoned (spec.unschedulable: true).",
            node.name
        ))
        .with_evidence("spec.unschedulable: true")
        .with_fix(format!(
            "If the maintenance is over, run `kubectl uncordon {}`; otherwise wait for it.",
            node.name
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::index::Snapshot;
    use crate::fit::testing::{node_from, pod_with_spec};
    use serde_json::json;

    fn verdict(tolerations: serde_json::Value) -> Option<Rejection> {
        let nodes = [node_from(
            json!({"metadata": {"name": "n1"}, "spec": {"unschedulable": true}}),
        )];
        let snapshot = Snapshot::new(&nodes, &[]);
        let pod = pod_with_spec(json!({"containers": [], "tolerations": tolerations}));
        check(&PodContext::new(&pod), &snapshot.nodes[0])
    }

    #[test]
    fn cordoned_nodes_reject_pods() {
        let rejection = verdict(json!([])).unwrap();
        assert_eq!(rejection.reason, "node(s) were unschedulable");
        assert!(rejection.fix.contains("kubectl uncordon n1"));
    }

    #[test]
    fn tolerating_the_unschedulable_taint_exempts_the_pod() {
        let daemonset = json!([{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}]);
        assert!(verdict(daemonset).is_none());
        assert!(verdict(json!([{"operator": "Exists"}])).is_none());
        assert!(verdict(json!([{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoExecute"}])).is_some());
    }
}
