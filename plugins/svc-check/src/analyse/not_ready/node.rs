//! A backend on a node whose Ready condition is not True: the node lifecycle controller marks
//! every pod there not ready.

use k8s_openapi::api::core::v1::{Node, NodeCondition, Pod};
use kube_runbook::report::{ObjectRef, Remedy, Source};

use super::{Context, Reason, in_parentheses, pod_events};
use crate::pods;

/// A node whose Ready condition is not True: the node lifecycle controller marks its pods not
/// ready. Without the Node (unreadable), the controller's NodeNotReady event on the pod tells.
pub(super) fn not_ready(cx: &Context, pod: &Pod) -> Option<Reason> {
    let node = pods::node(pod)?;
    let reason = match cx.index.node(node) {
        Some(object) => {
            let ready = ready_condition_of(object).filter(|c| c.status != "True")?;
            let cause = in_parentheses(ready.reason.as_deref(), ready.message.as_deref());
            let lost = if ready.status == "Unknown" {
                "its kubelet stopped reporting, so "
            } else {
                ""
            };
            Reason::new(
                format!(
                    "runs on node {node}, whose Ready condition is {}{cause}: {lost}the node lifecycle controller marked the pod not ready",
                    ready.status
                ),
                Source::Condition {
                    object: ObjectRef::cluster("Node", node),
                    condition_type: "Ready".into(),
                    status: ready.status.clone(),
                    reason: ready.reason.clone(),
                },
            )
        }
        None => {
            let event =
                pod_events(cx, pod).find(|e| e.reason.as_deref() == Some("NodeNotReady"))?;
            Reason::new(
                format!(
                    "runs on node {node}, which the node lifecycle controller reported not Ready, marking the pod not ready"
                ),
                cx.event_source(event),
            )
        }
    };
    Some(reason.remedy(Remedy::command(
        format!("Find out why node {node} is not Ready (its conditions, kubelet and network)"),
        format!("kubectl describe node {node}"),
    )))
}

fn ready_condition_of(node: &Node) -> Option<&NodeCondition> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::{not_ready_finding, remedies, web_2_not_ready};
    use crate::testing::facts;

    #[test]
    fn a_node_that_stopped_reporting_is_named_with_its_condition() {
        let mut f = web_2_not_ready(|_| {});
        f.edit_node("n2", |n| {
            n["status"]["conditions"] = json!([{"type": "Ready", "status": "Unknown",
                "reason": "NodeStatusUnknown", "message": "Kubelet stopped posting node status."}]);
        });
        let finding = not_ready_finding(&f);
        assert!(
            facts(&finding).contains(
                "pod web-2: runs on node n2, whose Ready condition is Unknown (NodeStatusUnknown: Kubelet stopped posting node status.): its kubelet stopped reporting, so the node lifecycle controller marked the pod not ready"
            ),
            "{}",
            facts(&finding)
        );
        assert!(
            remedies(&finding)
                .iter()
                .any(|r| r.ends_with("kubectl describe node n2")),
            "{:?}",
            remedies(&finding)
        );
    }

    #[test]
    fn an_unreadable_node_is_told_by_the_controller_event() {
        let mut f = web_2_not_ready(|_| {});
        f.remove_node("n2").event(json!({
            "metadata": {"name": "e2", "namespace": "shop"},
            "involvedObject": {"kind": "Pod", "name": "web-2", "namespace": "shop", "uid": "uid-web-2"},
            "reason": "NodeNotReady", "type": "Warning", "count": 1, "message": "Node is not ready",
            "lastTimestamp": "2026-01-01T00:58:00Z"
        }));
        assert!(
            facts(&not_ready_finding(&f)).contains(
                "pod web-2: runs on node n2, which the node lifecycle controller reported not Ready"
            ),
            "{}",
            facts(&not_ready_finding(&f))
        );
    }
}
