use kube_runbook::report::{Risk, Severity};
use serde_json::json;

use crate::kubelet::analyse;
use crate::kubelet::fixtures::{codes, find, node, object, other_pod, pod, state, text};

fn failed(reason: &str, message: &str) -> k8s_openapi::api::core::v1::Pod {
    pod(json!({"status": {"phase": "Failed", "reason": reason, "message": message}}))
}

#[test]
fn evicted_for_ephemeral_storage_pressure_counts_the_evicted_pods_left_behind() {
    let mut state = state();
    state.nodes = vec![node(
        "node-a",
        json!([{"type": "Ready", "status": "True"}, {"type": "DiskPressure", "status": "True"}]),
    )];
    state.pods.push(other_pod(
        "old-1",
        "node-a",
        json!({"status": {"phase": "Failed", "reason": "Evicted"}}),
    ));
    let pod = failed(
        "Evicted",
        "The node was low on resource: ephemeral-storage. Threshold quantity: 10Gi, available: 9Gi. Container web was using 12Gi, request is 0, has larger consumption of ephemeral-storage. ",
    );
    state.pods.push(pod.clone());
    let findings = analyse(&pod, &state);
    assert_eq!(codes(&findings), vec!["evicted-node-pressure"]);
    let evicted = &findings[0];
    assert_eq!(evicted.details["evictedPodsInNamespace"], 2);
    let all = text(evicted);
    assert!(
        all.contains("container web used 12Gi against a request of 0"),
        "{all}"
    );
    assert!(all.contains("DiskPressure=True"), "{all}");
    assert!(all.contains("ephemeral-storage: \"2Gi\""), "{all}");
    let cleanup = evicted.remediation.iter().find(|r| {
        r.command
            .as_deref()
            .is_some_and(|c| c.contains("--field-selector=status.phase==Failed"))
    });
    assert!(matches!(
        cleanup.map(|r| &r.risk),
        Some(Risk::Dangerous { .. })
    ));
}

#[test]
fn evicted_for_its_own_storage_limit() {
    let state = state();
    let pod = failed(
        "Evicted",
        "Pod ephemeral local storage usage exceeds the total limit of containers 2Gi. ",
    );
    let findings = analyse(&pod, &state);
    let evicted = find(&findings, "evicted-storage-limit");
    assert_eq!(evicted.details["cause"], "pod-ephemeral-storage-limit");
    assert!(evicted.title.contains("2Gi"));
}

#[test]
fn out_of_cpu_at_kubelet_admission() {
    let state = state();
    let pod = failed(
        "OutOfcpu",
        "Pod was rejected: Node didn't have enough resource: cpu, requested: 2000, used: 3500, capacity: 4000",
    );
    let findings = analyse(&pod, &state);
    let rejected = find(&findings, "kubelet-out-of-resources");
    assert!(rejected.title.contains("not enough cpu"));
    assert!(text(rejected).contains("requested 2000, already used 3500, node capacity 4000"));
}

#[test]
fn node_shutdown_and_other_rejections() {
    let state = state();
    let shutdown = failed(
        "NodeShutdown",
        "Pod was rejected as the node is shutting down.",
    );
    assert_eq!(codes(&analyse(&shutdown, &state)), vec!["node-shutdown"]);
    let terminated = failed(
        "Terminated",
        "Pod was terminated in response to imminent node shutdown.",
    );
    assert_eq!(codes(&analyse(&terminated, &state)), vec!["node-shutdown"]);
    let affinity = failed(
        "NodeAffinity",
        "Pod was rejected: Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector",
    );
    assert_eq!(codes(&analyse(&affinity, &state)), vec!["kubelet-rejected"]);
}

#[test]
fn stuck_terminating_hands_off_to_unstick_with_the_node_evidence() {
    let mut state = state();
    state.nodes = vec![node(
        "node-a",
        json!([{"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown"}]),
    )];
    state.leases.push(object(json!({
        "metadata": {"name": "node-a", "namespace": "kube-node-lease"},
        "spec": {"renewTime": "2026-03-01T11:40:00.000000Z"}
    })));
    let pod = pod(
        json!({"metadata": {"deletionTimestamp": "2026-03-01T11:50:00Z", "finalizers": ["example.com/cleanup"]}}),
    );
    let findings = analyse(&pod, &state);
    assert_eq!(codes(&findings), vec!["pod-terminating"]);
    let stuck = &findings[0];
    assert_eq!(stuck.severity, Severity::Error);
    let all = text(stuck);
    assert!(all.contains("kubectl unstick pod/web-1 -n shop"), "{all}");
    assert!(all.contains("finalizers: example.com/cleanup"), "{all}");
    assert!(all.contains("Ready=Unknown"), "{all}");
    assert!(all.contains("renewed its Lease 20m ago"), "{all}");
}

#[test]
fn a_node_that_stopped_reporting() {
    let mut state = state();
    state.nodes = vec![node(
        "node-a",
        json!([{"type": "Ready", "status": "False", "message": "PLEG is not healthy"}]),
    )];
    let pod = pod(json!({"status": {"phase": "Running"}}));
    let findings = analyse(&pod, &state);
    let down = find(&findings, "node-not-ready");
    let all = text(down);
    assert!(all.contains("PLEG is not healthy"), "{all}");
    assert!(all.contains("node has no heartbeat Lease"), "{all}");
    assert!(all.contains("kubectl unstick pod/web-1 -n shop"), "{all}");
}

#[test]
fn a_node_that_no_longer_exists_and_an_unknown_phase() {
    let mut state = state();
    state.nodes.clear();
    let gone = pod(json!({"status": {"phase": "Unknown"}}));
    assert_eq!(codes(&analyse(&gone, &state)), vec!["node-missing"]);
    state.loaded.remove(&kube_runbook::state::Kind::Node);
    let findings = analyse(&gone, &state);
    assert_eq!(codes(&findings), vec!["pod-status-unknown"]);
    assert!(text(&findings[0]).contains("nodes were not loaded"));
}
