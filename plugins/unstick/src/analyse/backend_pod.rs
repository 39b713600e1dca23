//! Why a pod behind a Service is not ready, in one line: not scheduled (the scheduler's message),
//! a container waiting (its reason, message and last exit), a running container whose probes do
//! not pass, or else the pod's Ready condition.

use k8s_openapi::api::core::v1::{ContainerStatus, Pod, PodCondition};

use super::cause::first_line;

/// "pod metrics-server-abc: Running, not ready (container metrics-server: CrashLoopBackOff, last
/// exit OOMKilled (code 137)) on node n1".
pub fn describe(pod: &Pod) -> String {
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    let status = pod.status.as_ref();
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("Unknown");
    let node = pod.spec.as_ref().and_then(|s| s.node_name.as_deref());
    let Some(node) = node else {
        let why = condition(pod, "PodScheduled")
            .filter(|c| c.status == "False")
            .and_then(|c| c.message.as_deref())
            .map(|m| format!(": {}", first_line(m)))
            .unwrap_or_default();
        return format!("pod {name}: {phase}, not scheduled{why}");
    };
    let containers: Vec<&ContainerStatus> = status
        .iter()
        .flat_map(|s| s.container_statuses.iter().flatten())
        .collect();
    let why = containers
        .iter()
        .find_map(|c| waiting(c))
        .or_else(|| {
            containers
                .iter()
                .find(|c| !c.ready && c.state.as_ref().is_some_and(|s| s.running.is_some()))
                .map(|c| {
                    format!(
                        "container {} runs but its readiness or startup probe does not pass",
                        c.name
                    )
                })
        })
        .or_else(|| {
            condition(pod, "Ready")
                .filter(|c| c.status != "True")
                .map(|c| match (c.reason.as_deref(), c.message.as_deref()) {
                    (Some(reason), Some(message)) => format!("{reason}: {}", first_line(message)),
                    (Some(reason), None) => reason.to_string(),
                    (None, message) => first_line(message.unwrap_or("no reason given")),
                })
        });
    match why {
        Some(why) => format!("pod {name}: {phase}, not ready ({why}) on node {node}"),
        None => format!("pod {name}: {phase}, not ready on node {node}"),
    }
}

/// "container app: CrashLoopBackOff, last exit OOMKilled (code 137)" for a waiting container.
fn waiting(container: &ContainerStatus) -> Option<String> {
    let state = container.state.as_ref()?.waiting.as_ref()?;
    let reason = state.reason.as_deref().unwrap_or("Waiting");
    let message = state
        .message
        .as_deref()
        .map(|m| format!(": {}", first_line(m)))
        .unwrap_or_default();
    let last_exit = container
        .last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .map(|t| {
            format!(
                ", last exit {} (code {})",
                t.reason.as_deref().unwrap_or("unknown"),
                t.exit_code
            )
        })
        .unwrap_or_default();
    Some(format!(
        "container {}: {reason}{message}{last_exit}",
        container.name
    ))
}

fn condition<'a>(pod: &'a Pod, type_: &str) -> Option<&'a PodCondition> {
    pod.status
        .as_ref()?
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == type_)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::analyse::testing::from;

    fn pod(spec: serde_json::Value, status: serde_json::Value) -> Pod {
        from(json!({
            "metadata": {"name": "metrics-server-abc", "namespace": "kube-system"},
            "spec": spec, "status": status,
        }))
    }

    #[test]
    fn a_crashing_container_names_its_last_exit() {
        let crashing = pod(
            json!({"nodeName": "n1", "containers": []}),
            json!({"phase": "Running", "containerStatuses": [{
                "name": "metrics-server", "image": "m", "imageID": "", "ready": false, "restartCount": 9,
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container=metrics-server pod=metrics-server-abc_kube-system(u)"}},
                "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
            }]}),
        );
        assert_eq!(
            describe(&crashing),
            "pod metrics-server-abc: Running, not ready (container metrics-server: CrashLoopBackOff: back-off 5m0s restarting failed container=metrics-server pod=metrics-server-abc_kube-system(u), last exit OOMKilled (code 137)) on node n1"
        );
    }

    #[test]
    fn a_running_container_that_is_not_ready_fails_its_probe() {
        let unready = pod(
            json!({"nodeName": "n1", "containers": []}),
            json!({"phase": "Running",
                   "conditions": [{"type": "Ready", "status": "False", "reason": "ContainersNotReady",
                                   "message": "containers with unready status: [metrics-server]"}],
                   "containerStatuses": [{
                "name": "metrics-server", "image": "m", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}},
            }]}),
        );
        assert_eq!(
            describe(&unready),
            "pod metrics-server-abc: Running, not ready (container metrics-server runs but its readiness or startup probe does not pass) on node n1"
        );
    }

    #[test]
    fn an_image_that_cannot_be_pulled_is_quoted() {
        let pulling = pod(
            json!({"nodeName": "n1", "containers": []}),
            json!({"phase": "Pending", "containerStatuses": [{
                "name": "metrics-server", "image": "m", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"registry.example/metrics-server:v9\""}},
            }]}),
        );
        assert_eq!(
            describe(&pulling),
            "pod metrics-server-abc: Pending, not ready (container metrics-server: ImagePullBackOff: Back-off pulling image \"registry.example/metrics-server:v9\") on node n1"
        );
    }

    #[test]
    fn an_unscheduled_pod_quotes_the_scheduler() {
        let pending = pod(
            json!({"containers": []}),
            json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                   "message": "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."}]}),
        );
        assert_eq!(
            describe(&pending),
            "pod metrics-server-abc: Pending, not scheduled: 0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
        );
    }

    #[test]
    fn otherwise_the_ready_condition_says_why() {
        let gated = pod(
            json!({"nodeName": "n1", "containers": []}),
            json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "False", "reason": "ReadinessGatesNotReady",
                   "message": "corresponding condition of pod readiness gate \"example.com/lb\" does not exist."}]}),
        );
        assert_eq!(
            describe(&gated),
            "pod metrics-server-abc: Running, not ready (ReadinessGatesNotReady: corresponding condition of pod readiness gate \"example.com/lb\" does not exist.) on node n1"
        );
    }
}
