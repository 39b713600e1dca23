//! The pod analysis on fixtures: each way a pod's deletion is stuck, and the ladder it gets.

use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim, Pod};
use serde_json::{Value, json};

use super::*;
use crate::{
    analyse::{
        diagnose,
        testing::{add, from, inventory, node},
    },
    fix::plan::{Rung, Step},
};

const NOW: &str = "2026-01-01T00:10:00Z";

fn pod(name: &str, node: &str, extra: Value) -> Pod {
    let mut value = json!({
        "metadata": {
            "name": name, "namespace": "shop", "uid": format!("uid-{name}"), "resourceVersion": "7",
            "deletionTimestamp": "2026-01-01T00:00:30Z", "deletionGracePeriodSeconds": 30,
        },
        "spec": {"nodeName": node, "containers": [{"name": "app", "image": "app:1"}]},
        "status": {"phase": "Running"},
    });
    merge(&mut value, extra);
    from(value)
}

fn merge(base: &mut Value, extra: Value) {
    match (base, extra) {
        (Value::Object(base), Value::Object(extra)) => {
            for (k, v) in extra {
                merge(base.entry(k).or_insert(Value::Null), v);
            }
        }
        (base, extra) => *base = extra,
    }
}

/// A kubelet Warning about pod shop/stuck.
fn kubelet_event(reason: &str, count: i32, message: &str) -> Event {
    from(json!({
        "metadata": {"name": "e1", "namespace": "shop"},
        "involvedObject": {"kind": "Pod", "name": "stuck", "namespace": "shop", "uid": "uid-stuck"},
        "reason": reason, "type": "Warning", "count": count, "message": message,
        "lastTimestamp": "2026-01-01T00:09:00Z", "source": {"component": "kubelet"},
    }))
}

fn subject(inv: &crate::inventory::Inventory, name: &str) -> MetaObject {
    inv.object("", "Pod", Some("shop"), name).cloned().unwrap()
}

#[test]
fn pod_on_a_node_that_stopped_heartbeating() {
    let mut inv = inventory(NOW);
    inv.state
        .nodes
        .push(node("n1", "Unknown", "2026-01-01T00:01:00Z"));
    add(
        &mut inv,
        pod(
            "web-7d9",
            "n1",
            json!({
                "metadata": {"ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d", "uid": "rs", "controller": true}]},
            }),
        ),
    );
    let d = diagnose(&inv, &subject(&inv, "web-7d9"));
    assert_eq!(d.findings.len(), 1, "{:#?}", d.findings);
    let finding = &d.findings[0];
    assert_eq!(finding.code, "pod-node-unreachable");
    assert_eq!(
        finding.title,
        "Terminating for 10m: node n1 stopped reporting (Ready=Unknown): no kubelet can confirm the pod stopped"
    );
    assert_eq!(finding.severity, Severity::Error);
    let ladder = d.ladder();
    let keys: Vec<String> = ladder.iter().map(Step::key).collect();
    assert_eq!(
        keys,
        vec![
            "taint Node n1",
            "delete Node n1",
            "force-delete Pod shop/web-7d9"
        ]
    );
    assert_eq!(
        ladder[2].typed_confirmation, None,
        "a Deployment pod without volumes needs no typed name"
    );
}

#[test]
fn statefulset_pod_on_a_lost_node_is_never_replaced() {
    let mut inv = inventory(NOW);
    inv.state
        .nodes
        .push(node("n1", "Unknown", "2026-01-01T00:07:00Z"));
    let mut not_deleted = pod(
        "db-0",
        "n1",
        json!({
            "metadata": {"ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "uid": "sts", "controller": true}]},
        }),
    );
    not_deleted.metadata.deletion_timestamp = None;
    not_deleted.metadata.deletion_grace_period_seconds = None;
    add(&mut inv, not_deleted);
    let object = subject(&inv, "db-0");
    assert!(stuck_without_deletion(&inv, &object));
    let d = diagnose(&inv, &object);
    let finding = &d.findings[0];
    assert_eq!(finding.code, "statefulset-pod-on-lost-node");
    assert_eq!(
        finding.title,
        "On a lost node for 3m: node n1 stopped reporting (Ready=Unknown); StatefulSet db will not replace db-0 until the node is handled"
    );
    let force = d
        .ladder()
        .into_iter()
        .find(|s| s.rung == Rung::ForceDelete)
        .unwrap();
    assert_eq!(force.typed_confirmation.as_deref(), Some("db-0"));
    assert!(force.danger.starts_with("split-brain"), "{}", force.danger);
}

#[test]
fn rwo_volume_needs_a_typed_name_to_force_delete() {
    let mut inv = inventory(NOW);
    inv.state
        .nodes
        .push(node("n1", "Unknown", "2026-01-01T00:01:00Z"));
    inv.state
        .persistent_volume_claims
        .push(from::<PersistentVolumeClaim>(json!({
            "metadata": {"name": "data", "namespace": "shop"},
            "spec": {"accessModes": ["ReadWriteOnce"]},
        })));
    add(
        &mut inv,
        pod(
            "solo",
            "n1",
            json!({"spec": {"volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]}}),
        ),
    );
    let d = diagnose(&inv, &subject(&inv, "solo"));
    let force = d
        .ladder()
        .into_iter()
        .find(|s| s.rung == Rung::ForceDelete)
        .unwrap();
    assert_eq!(force.typed_confirmation.as_deref(), Some("solo"));
    assert!(
        force.danger.contains("ReadWriteOnce claim data"),
        "{}",
        force.danger
    );
}

#[test]
fn a_freshly_out_of_service_node_is_left_to_pod_gc() {
    let mut inv = inventory(NOW);
    let mut down = node("n1", "Unknown", "2026-01-01T00:01:00Z");
    down.spec = Some(from(json!({"taints": [{
        "key": "node.kubernetes.io/out-of-service", "value": "nodeshutdown", "effect": "NoExecute",
        "timeAdded": "2026-01-01T00:09:40Z",
    }]})));
    inv.state.nodes.push(down);
    add(&mut inv, pod("web-1", "n1", json!({})));
    let d = diagnose(&inv, &subject(&inv, "web-1"));
    assert_eq!(d.findings[0].code, "pod-node-out-of-service");
    assert_eq!(d.findings[0].severity, Severity::Info);
    assert!(d.steps.is_empty());
    assert!(!d.is_stuck());
}

#[test]
fn a_statefulset_pod_on_a_freshly_out_of_service_node_waits_for_eviction() {
    let mut inv = inventory(NOW);
    let mut down = node("n1", "Unknown", "2026-01-01T00:01:00Z");
    down.spec = Some(from(json!({"taints": [{
        "key": "node.kubernetes.io/out-of-service", "value": "nodeshutdown", "effect": "NoExecute",
        "timeAdded": "2026-01-01T00:09:50Z",
    }]})));
    inv.state.nodes.push(down);
    let mut member = pod(
        "db-0",
        "n1",
        json!({
            "metadata": {"ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "uid": "s", "controller": true}]},
        }),
    );
    member.metadata.deletion_timestamp = None;
    add(&mut inv, member);
    let d = diagnose(&inv, &subject(&inv, "db-0"));
    assert_eq!(d.findings[0].code, "pod-node-out-of-service");
    assert_eq!(d.findings[0].severity, Severity::Info);
    assert!(!d.is_stuck());
}

#[test]
fn node_gone() {
    let mut inv = inventory(NOW);
    add(&mut inv, pod("orphan", "vanished", json!({})));
    let d = diagnose(&inv, &subject(&inv, "orphan"));
    assert_eq!(d.findings[0].code, "pod-node-missing");
    let keys: Vec<String> = d.ladder().iter().map(Step::key).collect();
    assert_eq!(keys, vec!["force-delete Pod shop/orphan"]);
}

#[test]
fn a_node_deleted_moments_ago_is_left_to_pod_gc() {
    let mut inv = inventory(NOW);
    add(&mut inv, pod("orphan", "vanished", json!({})));
    inv.state.events.push(from(json!({
        "metadata": {"name": "vanished.1", "namespace": "default"},
        "involvedObject": {"kind": "Node", "name": "vanished", "uid": "uid-vanished"},
        "reason": "RemovingNode", "type": "Normal", "message": "Removing Node vanished from Controller",
        "lastTimestamp": "2026-01-01T00:09:30Z", "source": {"component": "node-controller"},
    })));
    let d = diagnose(&inv, &subject(&inv, "orphan"));
    let finding = &d.findings[0];
    assert_eq!(finding.code, "pod-node-missing");
    assert_eq!(finding.severity, Severity::Info);
    assert_eq!(
        finding.title,
        "Terminating for 10m: node vanished was deleted 30s ago; pod GC force-deletes the pod shortly"
    );
    assert!(d.steps.is_empty(), "pod GC acts: nothing to force");
    assert!(!d.is_stuck());

    let later = {
        let mut inv = inv.clone();
        inv.state.observed_at = "2026-01-01T00:12:00Z".parse().unwrap();
        inv
    };
    let d = diagnose(&later, &subject(&later, "orphan"));
    assert_eq!(d.findings[0].severity, Severity::Error);
    assert_eq!(
        d.findings[0].evidence[1].fact,
        "node vanished was deleted 2m30s ago"
    );
    let keys: Vec<String> = d.ladder().iter().map(Step::key).collect();
    assert_eq!(keys, vec!["force-delete Pod shop/orphan"]);
}

#[test]
fn kubelet_alive_but_volume_will_not_unmount() {
    let mut inv = inventory(NOW);
    inv.state
        .nodes
        .push(node("n1", "True", "2026-01-01T00:00:00Z"));
    add(&mut inv, pod("stuck", "n1", json!({})));
    inv.state.events.push(kubelet_event(
        "FailedUnMount",
        12,
        "UnmountVolume.TearDown failed for volume \"data\" : device or resource busy",
    ));
    let d = diagnose(&inv, &subject(&inv, "stuck"));
    let finding = &d.findings[0];
    assert_eq!(finding.code, "pod-kubelet-not-finishing");
    assert!(finding.title.ends_with(
        "node n1 is up but its kubelet cannot finish: UnmountVolume.TearDown failed for volume \"data\" : device or resource busy"
    ), "{}", finding.title);
    assert!(matches!(
        finding.evidence[0].source,
        Source::Event {
            count: Some(12),
            ..
        }
    ));
}

#[test]
fn not_ready_with_a_fresh_lease_is_a_kubelet_not_finishing_not_a_lost_node() {
    let mut inv = inventory(NOW);
    inv.state.nodes.push(from(json!({
        "metadata": {"name": "n1", "uid": "uid-n1", "resourceVersion": "10"},
        "status": {"conditions": [{
            "type": "Ready", "status": "False", "reason": "KubeletNotReady",
            "message": "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady",
            "lastTransitionTime": "2026-01-01T00:02:00Z", "lastHeartbeatTime": "2026-01-01T00:09:50Z",
        }]},
    })));
    inv.state.leases.push(from(json!({
        "metadata": {"name": "n1", "namespace": "kube-node-lease"},
        "spec": {"renewTime": "2026-01-01T00:09:55.000000Z", "leaseDurationSeconds": 40},
    })));
    add(&mut inv, pod("stuck", "n1", json!({})));
    let d = diagnose(&inv, &subject(&inv, "stuck"));
    assert_eq!(d.findings.len(), 1, "{:#?}", d.findings);
    let finding = &d.findings[0];
    assert_eq!(finding.code, "pod-kubelet-not-finishing");
    assert!(finding.title.ends_with(
        "node n1 is NotReady (KubeletNotReady: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady) while its kubelet is alive: it cannot finish the deletion"
    ), "{}", finding.title);
    assert_eq!(
        finding.evidence[0].fact,
        "node n1: Ready=False since 8m ago (KubeletNotReady): container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady"
    );
    assert_eq!(
        finding.evidence[1].fact,
        "node n1: its kubelet lease was last renewed 5s ago (lease duration 40s)"
    );
    let keys: Vec<String> = d.ladder().iter().map(Step::key).collect();
    assert_eq!(
        keys,
        vec!["force-delete Pod shop/stuck"],
        "neither the out-of-service taint nor deleting the Node fits a machine that runs"
    );
    inv.state.events.push(kubelet_event(
        "FailedKillPod",
        3,
        "error killing pod: rpc error: code = DeadlineExceeded",
    ));
    let with_event = diagnose(&inv, &subject(&inv, "stuck"));
    assert!(with_event.findings[0].title.ends_with(
        "node n1 is NotReady (KubeletNotReady: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady) and its kubelet cannot finish: error killing pod: rpc error: code = DeadlineExceeded"
    ), "{}", with_event.findings[0].title);
}

#[test]
fn within_grace_period_is_info() {
    let mut inv = inventory("2026-01-01T00:00:10Z");
    inv.state
        .nodes
        .push(node("n1", "True", "2026-01-01T00:00:00Z"));
    add(&mut inv, pod("leaving", "n1", json!({})));
    let d = diagnose(&inv, &subject(&inv, "leaving"));
    assert_eq!(d.findings[0].code, "pod-in-grace-period");
    assert_eq!(d.findings[0].severity, Severity::Info);
    assert!(d.steps.is_empty());
}

#[test]
fn finished_kubelet_leaves_only_the_finalizer() {
    let mut inv = inventory(NOW);
    add(
        &mut inv,
        pod(
            "held",
            "n1",
            json!({
                "metadata": {"deletionGracePeriodSeconds": 0, "deletionTimestamp": "2026-01-01T00:00:00Z", "finalizers": ["example.com/hold"]},
            }),
        ),
    );
    let d = diagnose(&inv, &subject(&inv, "held"));
    let codes: Vec<&str> = d.findings.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, vec!["finalizer-no-controller"]);
}
