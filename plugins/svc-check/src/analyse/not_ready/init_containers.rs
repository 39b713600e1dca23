//! Init containers holding a pod back: a plain one that has not exited 0 (the app containers
//! start only after it), a sidecar (restartPolicy Always) not started or not ready.

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};

use super::{Reason, field};
use crate::pods;

/// The first init container holding the pod back: a plain one that has not exited 0, or a
/// sidecar (restartPolicy Always) that has not started or is not ready.
pub(super) fn unfinished(pod: &Pod) -> Option<Reason> {
    let statuses = pod.status.as_ref()?.init_container_statuses.as_ref()?;
    let specs = pod.spec.as_ref().and_then(|s| s.init_containers.as_ref());
    for status in statuses {
        let sidecar = specs
            .and_then(|specs| specs.iter().find(|c| c.name == status.name))
            .is_some_and(pods::is_sidecar);
        let text = if sidecar {
            sidecar_state(status)
        } else {
            unfinished_state(status)
        };
        if let Some(text) = text {
            return Some(
                Reason::new(text, field(pod, "status.initContainerStatuses")).handoff(pod),
            );
        }
    }
    None
}

fn sidecar_state(status: &ContainerStatus) -> Option<String> {
    let name = &status.name;
    if status.ready {
        return None;
    }
    if status.started != Some(true) {
        return Some(format!(
            "sidecar container {name} has not started{}, and the app containers start only after it",
            waiting(status)
        ));
    }
    Some(format!(
        "sidecar container {name} (an init container with restartPolicy Always) is running but not ready"
    ))
}

/// A plain init container's state while it has not exited 0: the app containers wait for it.
fn unfinished_state(status: &ContainerStatus) -> Option<String> {
    let name = &status.name;
    let state = status.state.as_ref();
    if let Some(done) = state.and_then(|s| s.terminated.as_ref()) {
        if done.exit_code == 0 {
            return None;
        }
        return Some(format!(
            "init container {name} failed (exit code {}, {}); the app containers start only after it succeeds",
            done.exit_code,
            done.reason.as_deref().unwrap_or("Error")
        ));
    }
    let now = if state.and_then(|s| s.running.as_ref()).is_some() {
        ": it is still running".to_string()
    } else {
        waiting(status)
    };
    let last_failure = status
        .last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .filter(|t| t.exit_code != 0)
        .map(|t| format!(", last exit code {}", t.exit_code))
        .unwrap_or_default();
    Some(format!(
        "init container {name} has not finished{now}{last_failure}; the app containers start only after it"
    ))
}

/// `: waiting: REASON: MESSAGE` for a waiting container, else nothing.
fn waiting(status: &ContainerStatus) -> String {
    let Some(waiting) = status.state.as_ref().and_then(|s| s.waiting.as_ref()) else {
        return String::new();
    };
    let message = waiting
        .message
        .as_deref()
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    format!(
        ": waiting: {}{message}",
        waiting.reason.as_deref().unwrap_or("Waiting")
    )
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::testing::{not_ready_finding, remedies, web_2_not_ready};
    use crate::testing::facts;

    /// A pod still initialising: Pending, Initialized False, the app container PodInitializing.
    fn initialising(p: &mut Value, init: Value) {
        p["status"]["phase"] = json!("Pending");
        p["spec"]["initContainers"] = json!([{"name": "migrate", "image": "x"}]);
        p["status"]["initContainerStatuses"] = json!([init]);
        p["status"]["containerStatuses"][0]["state"] =
            json!({"waiting": {"reason": "PodInitializing"}});
    }

    #[test]
    fn a_running_init_container_holds_the_app_back() {
        let f = web_2_not_ready(|p| {
            initialising(
                p,
                json!({"name": "migrate", "ready": false, "restartCount": 0, "image": "x", "imageID": "",
                       "state": {"running": {"startedAt": "2026-01-01T00:59:00Z"}}}),
            )
        });
        let finding = not_ready_finding(&f);
        assert!(
            facts(&finding).contains("pod web-2: init container migrate has not finished: it is still running; the app containers start only after it"),
            "{}",
            facts(&finding)
        );
        assert!(
            remedies(&finding)
                .iter()
                .any(|r| r.ends_with("kubectl why-pending web-2 -n shop")),
            "{:?}",
            remedies(&finding)
        );
    }

    #[test]
    fn a_crash_looping_init_container_gives_its_last_exit_code() {
        let f = web_2_not_ready(|p| {
            initialising(
                p,
                json!({"name": "migrate", "ready": false, "restartCount": 4, "image": "x", "imageID": "",
                       "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 1m20s restarting failed container"}},
                       "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}}),
            )
        });
        assert!(
            facts(&not_ready_finding(&f)).contains(
                "init container migrate has not finished: waiting: CrashLoopBackOff: back-off 1m20s restarting failed container, last exit code 1"
            ),
            "{}",
            facts(&not_ready_finding(&f))
        );
    }

    #[test]
    fn a_sidecar_that_is_not_ready_is_not_called_unfinished() {
        let f = web_2_not_ready(|p| {
            p["spec"]["initContainers"] =
                json!([{"name": "proxy", "image": "x", "restartPolicy": "Always"}]);
            p["status"]["initContainerStatuses"] = json!([{"name": "proxy", "ready": false, "started": true,
                "restartCount": 0, "image": "x", "imageID": "", "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}]);
            p["status"]["containerStatuses"][0]["ready"] = json!(true);
        });
        let evidence = facts(&not_ready_finding(&f));
        assert!(
            evidence.contains("pod web-2: sidecar container proxy (an init container with restartPolicy Always) is running but not ready"),
            "{evidence}"
        );
    }
}
