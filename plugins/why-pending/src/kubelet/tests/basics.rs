use serde_json::json;

use crate::kubelet::analyse;
use crate::kubelet::fixtures::{codes, event, find, node, pod, state, text};

#[test]
fn running_and_ready_without_restarts_gives_nothing() {
    let state = state();
    let pod = pod(json!({"status": {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True"}],
        "containerStatuses": [{"name": "web", "image": "x", "imageID": "", "ready": true, "restartCount": 0,
            "state": {"running": {"startedAt": "2026-03-01T11:01:00Z"}}}]
    }}));
    assert!(analyse(&pod, &state).is_empty());
}

#[test]
fn an_unscheduled_pod_is_left_to_the_scheduling_analysis() {
    let state = state();
    let pod = pod(
        json!({"spec": {"nodeName": null}, "status": {"phase": "Pending", "conditions": null}}),
    );
    assert!(analyse(&pod, &state).is_empty());
}

#[test]
fn container_creating_without_a_cause_shows_the_latest_events() {
    let mut state = state();
    state.events.push(event(
        "Pulling",
        "Pulling image \"registry.example/shop/web:1.4\"",
        Some("spec.containers{web}"),
    ));
    let pod = pod(
        json!({"status": {"phase": "Pending", "containerStatuses": [{"name": "web", "image": "x", "imageID": "",
        "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}]}}),
    );
    let findings = analyse(&pod, &state);
    let creating = find(&findings, "container-creating");
    assert!(creating.title.contains("for 60m"), "{}", creating.title);
    assert!(
        text(creating).contains("Pulling image"),
        "{}",
        text(creating)
    );
}

#[test]
fn a_running_init_container_holds_the_app_back() {
    let state = state();
    let pod = pod(json!({
        "spec": {"initContainers": [{"name": "migrate", "image": "x:1"}]},
        "status": {"phase": "Pending",
            "initContainerStatuses": [{"name": "migrate", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"running": {"startedAt": "2026-03-01T11:50:00Z"}}}],
            "containerStatuses": [{"name": "web", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": "PodInitializing"}}}]}
    }));
    let findings = analyse(&pod, &state);
    assert_eq!(codes(&findings), vec!["init-container-running"]);
    let running = &findings[0];
    assert_eq!(
        running.severity,
        kube_runbook::report::Severity::Warning,
        "running for 10m"
    );
    assert!(
        text(running).contains("kubectl logs web-1 -n shop -c migrate"),
        "{}",
        text(running)
    );
}

#[test]
fn readiness_gates_not_set_by_their_controller() {
    let state = state();
    let pod = pod(json!({
        "spec": {"readinessGates": [{"conditionType": "target-health.elbv2.k8s.aws/web"}]},
        "status": {"phase": "Running", "containerStatuses": [{"name": "web", "image": "x", "imageID": "", "ready": true,
            "restartCount": 0, "state": {"running": {}}}]}
    }));
    let findings = analyse(&pod, &state);
    let gate = find(&findings, "readiness-gate-not-ready");
    assert_eq!(gate.details["status"], "missing");
}

#[test]
fn node_pressure_is_added_as_context() {
    let mut state = state();
    state.nodes = vec![node(
        "node-a",
        json!([
            {"type": "Ready", "status": "True"},
            {"type": "MemoryPressure", "status": "True", "message": "kubelet has insufficient memory available"}
        ]),
    )];
    let pod = pod(
        json!({"status": {"containerStatuses": [{"name": "web", "image": "x", "imageID": "", "ready": false,
        "restartCount": 0, "state": {"running": {}}}]}}),
    );
    let findings = analyse(&pod, &state);
    assert_eq!(
        codes(&findings),
        vec!["container-not-ready", "node-pressure"]
    );
    assert!(text(&findings[1]).contains("MemoryPressure=True"));
}
