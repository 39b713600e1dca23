use serde_json::{Value, json};

use crate::kubelet::analyse;
use crate::kubelet::fixtures::{codes, event, find, node, pod, state, text};
use kube_runbook::report::Severity;

const WEB: Option<&str> = Some("spec.containers{web}");

fn crash_looping(last: Value, container: Value) -> k8s_openapi::api::core::v1::Pod {
    pod(json!({
        "spec": {"containers": [container]},
        "status": {"phase": "Running", "containerStatuses": [{"name": "web", "image": "x", "imageID": "", "ready": false, "restartCount": 7,
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container=web pod=web-1_shop(u-1)"}},
            "lastState": {"terminated": last}}]}
    }))
}

#[test]
fn oom_killed_against_the_memory_limit() {
    let state = state();
    let pod = crash_looping(
        json!({"exitCode": 137, "reason": "OOMKilled", "finishedAt": "2026-03-01T11:58:00Z"}),
        json!({"name": "web", "image": "x:1", "resources": {"limits": {"memory": "256Mi"}, "requests": {"memory": "128Mi"}}}),
    );
    let findings = analyse(&pod, &state);
    let oom = find(&findings, "oom-killed");
    assert_eq!(oom.details["exitCode"], 137);
    assert_eq!(oom.details["signal"], 9);
    assert_eq!(oom.details["memoryLimit"], "256Mi");
    let all = text(oom);
    assert!(all.contains("memory limit 256Mi, request 128Mi"), "{all}");
    assert!(
        all.contains("kubectl logs web-1 -n shop -c web --previous"),
        "{all}"
    );
    assert!(all.contains("restarted 7 times"), "{all}");
}

#[test]
fn liveness_restarts_on_an_overloaded_node() {
    let mut state = state();
    state.nodes = vec![node(
        "node-a",
        json!([{"type": "Ready", "status": "True"}, {"type": "PIDPressure", "status": "True"}]),
    )];
    state.events.push(event(
        "Unhealthy",
        "Liveness probe failed: dial tcp 10.0.0.5:8080: connect: connection refused",
        WEB,
    ));
    state.events.push(event(
        "Killing",
        "Container web failed liveness probe, will be restarted",
        WEB,
    ));
    let pod = crash_looping(
        json!({"exitCode": 143, "reason": "Error"}),
        json!({"name": "web", "image": "x:1", "livenessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 5, "failureThreshold": 2}}),
    );
    let findings = analyse(&pod, &state);
    assert_eq!(
        codes(&findings),
        vec!["liveness-probe-failed", "node-pressure"]
    );
    let all = text(&findings[0]);
    assert!(all.contains("livenessProbe: tcpSocket :8080, initialDelaySeconds=0 periodSeconds=5 timeoutSeconds=1 failureThreshold=2"), "{all}");
    assert!(all.contains("connection refused"), "{all}");
    assert!(all.contains("PIDPressure=True"), "{all}");
    assert!(all.contains("failureThreshold: 6"), "{all}");
}

#[test]
fn command_not_found_reads_exit_127() {
    let state = state();
    let pod = crash_looping(
        json!({"exitCode": 127, "reason": "Error"}),
        json!({"name": "web", "image": "x:1", "command": ["srv"]}),
    );
    let findings = analyse(&pod, &state);
    let crash = find(&findings, "crash-loop-back-off");
    assert!(crash.title.contains("exit code 127"));
    let all = text(crash);
    assert!(all.contains("command not found"), "{all}");
    assert!(all.contains("command: srv"), "{all}");
}

#[test]
fn exit_zero_under_restart_policy_always() {
    let state = state();
    let pod = crash_looping(
        json!({"exitCode": 0, "reason": "Completed"}),
        json!({"name": "web", "image": "x:1"}),
    );
    let findings = analyse(&pod, &state);
    let crash = find(&findings, "crash-loop-back-off");
    assert!(crash.title.contains("exits with code 0"));
    assert!(text(crash).contains("Job"));
}

#[test]
fn a_failed_init_container_of_a_never_restarting_pod() {
    let state = state();
    let pod = pod(json!({
        "spec": {"restartPolicy": "Never", "initContainers": [{"name": "setup", "image": "x:1"}]},
        "status": {"phase": "Failed",
            "initContainerStatuses": [{"name": "setup", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 139, "reason": "Error"}}}],
            "containerStatuses": [{"name": "web", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": "PodInitializing"}}}]}
    }));
    let findings = analyse(&pod, &state);
    let failed = find(&findings, "container-failed");
    assert!(
        failed.title.starts_with("init container setup failed"),
        "{}",
        failed.title
    );
    assert!(text(failed).contains("SIGSEGV"));
    assert!(
        text(failed).contains("kubectl logs web-1 -n shop -c setup"),
        "{}",
        text(failed)
    );
}

#[test]
fn readiness_failures_keep_a_running_container_out_of_service() {
    let mut state = state();
    state.events.push(event(
        "Unhealthy",
        "Readiness probe failed: HTTP probe failed with statuscode: 503",
        WEB,
    ));
    let pod = pod(json!({
        "spec": {"containers": [{"name": "web", "image": "x:1", "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}}}]},
        "status": {"containerStatuses": [{"name": "web", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"running": {"startedAt": "2026-03-01T11:00:00Z"}}}]}
    }));
    let findings = analyse(&pod, &state);
    let failing = find(&findings, "readiness-probe-failed");
    assert_eq!(failing.severity, Severity::Error);
    assert!(
        text(failing).contains("httpGet /ready:8080"),
        "{}",
        text(failing)
    );
    assert!(text(failing).contains("statuscode: 503"));
}

#[test]
fn restarts_of_a_ready_container_are_a_warning() {
    let state = state();
    let pod = pod(
        json!({"status": {"containerStatuses": [{"name": "web", "image": "x", "imageID": "", "ready": true, "restartCount": 3,
        "state": {"running": {}}, "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]}}),
    );
    let findings = analyse(&pod, &state);
    let restarts = find(&findings, "container-restarts");
    assert_eq!(restarts.severity, Severity::Warning);
    assert!(restarts.title.contains("OOMKilled"));
}
