//! Small, real-shaped objects for the plan's unit tests (namespace `shop`).

use k8s_openapi::{
    api::{
        apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet},
        core::v1::{Node, Pod},
        policy::v1::PodDisruptionBudget,
    },
    apimachinery::pkg::apis::meta::v1::Time,
};
use kube_runbook::state::{ClusterState, Origin};
use serde_json::{Value, json};

/// A state holding `pods`, with every kind the plan reads marked loaded.
pub fn state_with(pods: Vec<Pod>) -> ClusterState {
    let mut state = ClusterState::new(
        Origin::Snapshot {
            path: "test".into(),
        },
        "2026-01-01T00:00:00Z".parse().expect("valid time"),
    );
    state.insert_all(pods);
    state.insert_all(Vec::<Node>::new());
    state.insert_all(Vec::<ReplicaSet>::new());
    state.insert_all(Vec::<Deployment>::new());
    state.insert_all(Vec::<StatefulSet>::new());
    state.insert_all(Vec::<DaemonSet>::new());
    state.insert_all(Vec::<PodDisruptionBudget>::new());
    state
}

pub fn time(text: &str) -> Time {
    Time(text.parse().expect("valid time"))
}

pub fn pod_from(value: Value) -> Pod {
    serde_json::from_value(value).expect("valid pod fixture")
}

/// A running pod on `node` with no owner, requesting 100m CPU.
pub fn bare_pod(name: &str, node: &str) -> Pod {
    pod_from(json!({
        "metadata": {"name": name, "namespace": "shop", "uid": format!("uid-{name}"), "labels": {"app": name}},
        "spec": {"nodeName": node, "containers": [{"name": "c", "resources": {"requests": {"cpu": "100m"}}}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
    }))
}

/// A pod on `node` controlled by `kind/owner`, labelled `app=<owner>`, Ready or not.
pub fn owned_pod(name: &str, node: &str, kind: &str, owner: &str, ready: bool) -> Pod {
    let mut pod = bare_pod(name, node);
    pod.metadata.labels = Some([("app".to_string(), owner.to_string())].into());
    pod.metadata.owner_references = Some(vec![
        serde_json::from_value(json!({
            "apiVersion": if kind == "Job" { "batch/v1" } else { "apps/v1" },
            "kind": kind, "name": owner, "uid": format!("uid-{owner}"), "controller": true,
        }))
        .expect("valid owner reference"),
    ]);
    if let Some(status) = pod.status.as_mut() {
        status.conditions = Some(vec![
            serde_json::from_value(
                json!({"type": "Ready", "status": if ready { "True" } else { "False" }}),
            )
            .expect("valid condition"),
        ]);
    }
    pod
}

pub fn node(name: &str) -> Node {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "status": {
            "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }))
    .expect("valid node fixture")
}

pub fn replica_set(name: &str, deployment: Option<&str>) -> ReplicaSet {
    let owners = deployment.map(|d| {
        json!([{"apiVersion": "apps/v1", "kind": "Deployment", "name": d, "uid": format!("uid-{d}"), "controller": true}])
    });
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "shop", "ownerReferences": owners},
        "spec": {"replicas": 2, "selector": {}},
    }))
    .expect("valid replica set fixture")
}

pub fn deployment(name: &str, replicas: i32) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"replicas": replicas, "selector": {}, "template": {}},
    }))
    .expect("valid deployment fixture")
}

pub fn stateful_set(name: &str, replicas: i32) -> StatefulSet {
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"replicas": replicas, "selector": {}, "template": {}},
    }))
    .expect("valid statefulset fixture")
}

pub fn daemon_set(name: &str) -> DaemonSet {
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"selector": {}, "template": {}},
    }))
    .expect("valid daemonset fixture")
}

/// A budget selecting `app=<app>` with `spec` merged in and `status` as given.
pub fn pdb(name: &str, app: &str, spec: Value, status: Value) -> PodDisruptionBudget {
    let mut spec_value = json!({"selector": {"matchLabels": {"app": app}}});
    if let (Some(base), Some(extra)) = (spec_value.as_object_mut(), spec.as_object()) {
        base.extend(extra.clone());
    }
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "shop", "generation": 1},
        "spec": spec_value,
        "status": status,
    }))
    .expect("valid pdb fixture")
}
