//! NodeName: a pod with `spec.nodeName` fits only that node (`nodename/node_name.go`).

use super::PodContext;
use super::rejection::{Code, Detail, Plugin, Rejection};
use crate::fit::index::NodeEntry;
use crate::fit::reasons;

pub(crate) fn check(ctx: &PodContext, node: &NodeEntry) -> Option<Rejection> {
    let requested = ctx
        .pod
        .spec
        .as_ref()?
        .node_name
        .as_deref()
        .filter(|n| !n.is_empty())?;
    if requested == node.name {
        return None;
    }
    Some(
        Rejection::new(
            Plugin::NodeName,
            Code::UnschedulableAndUnresolvable,
            reasons::NODE_NAME,
            Detail::NodeNameMismatch {
                requested: requested.to_string(),
            },
        )
        .explained(format!(
            "The pod names node {requested} in spec.nodeName, not {}.",
            node.name
        ))
        .with_evidence(format!("spec.nodeName: {requested}"))
        .with_fix("Remove spec.nodeName and use a nodeSelector, so the scheduler can choose."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::index::Snapshot;
    use crate::fit::testing::{node, pod_with_spec};
    use serde_json::json;

    #[test]
    fn only_the_named_node_fits() {
        let nodes = [node("a", json!({})), node("b", json!({}))];
        let snapshot = Snapshot::new(&nodes, &[]);
        let pod = pod_with_spec(json!({"containers": [], "nodeName": "b"}));
        let ctx = PodContext::new(&pod);
        let rejection = check(&ctx, &snapshot.nodes[0]).unwrap();
        assert_eq!(
            rejection.reason,
            "node(s) didn't match the requested node name"
        );
        assert!(check(&ctx, &snapshot.nodes[1]).is_none());
        let unnamed = pod_with_spec(json!({"containers": []}));
        assert!(check(&PodContext::new(&unnamed), &snapshot.nodes[0]).is_none());
    }
}
