//! The one-word status shown beside a pod or node name, as in the STATUS column of kubectl get.

use k8s_openapi::api::core::v1::{Node, Pod};

/// `Terminating`, the pod's reason (`Evicted`), a waiting container's reason
/// (`CrashLoopBackOff`, `ContainerCreating`), else the phase.
pub fn pod_status(pod: &Pod) -> String {
    if pod.metadata.deletion_timestamp.is_some() {
        return "Terminating".into();
    }
    let status = pod.status.as_ref();
    let waiting = status
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone())
        .next();
    status
        .and_then(|s| s.reason.clone())
        .or(waiting)
        .or_else(|| status.and_then(|s| s.phase.clone()))
        .unwrap_or_else(|| "Unknown".into())
}

/// `Ready`, `NotReady` or `Unknown`, with `,SchedulingDisabled` when cordoned.
pub fn node_status(node: &Node) -> String {
    let ready = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .find(|c| c.type_ == "Ready")
        .map(|c| c.status.as_str());
    let state = match ready {
        Some("True") => "Ready",
        Some("False") => "NotReady",
        _ => "Unknown",
    };
    if is_cordoned(node) {
        format!("{state},SchedulingDisabled")
    } else {
        state.into()
    }
}

/// Whether the node is marked unschedulable.
pub fn is_cordoned(node: &Node) -> bool {
    node.spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(json: serde_json::Value) -> Pod {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn pod_statuses() {
        let pending = pod(serde_json::json!({"status": {"phase": "Pending"}}));
        assert_eq!(pod_status(&pending), "Pending");
        let crashing = pod(
            serde_json::json!({"status": {"phase": "Running", "containerStatuses": [
            {"name": "a", "image": "i", "imageID": "", "ready": false, "restartCount": 3,
             "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}),
        );
        assert_eq!(pod_status(&crashing), "CrashLoopBackOff");
        let evicted = pod(serde_json::json!({"status": {"phase": "Failed", "reason": "Evicted"}}));
        assert_eq!(pod_status(&evicted), "Evicted");
        let deleting =
            pod(serde_json::json!({"metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"}}));
        assert_eq!(pod_status(&deleting), "Terminating");
    }

    #[test]
    fn node_statuses() {
        let node: Node = serde_json::from_value(serde_json::json!({
            "spec": {"unschedulable": true},
            "status": {"conditions": [{"type": "Ready", "status": "False"}]}
        }))
        .unwrap();
        assert_eq!(node_status(&node), "NotReady,SchedulingDisabled");
        assert_eq!(node_status(&Node::default()), "Unknown");
    }
}
