//! Small, real-shaped fixtures for the fit engine's unit tests.

use k8s_openapi::api::core::v1::{Node, Pod};
use serde_json::{Value, json};

/// A node with 4 CPU, 8Gi memory and 110 pods allocatable, and `labels`.
pub fn node(name: &str, labels: Value) -> Node {
    node_from(json!({
        "metadata": {"name": name, "labels": labels},
        "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "ephemeral-storage": "100Gi", "pods": "110"}},
    }))
}

/// A node from its full JSON.
pub fn node_from(value: Value) -> Node {
    serde_json::from_value(value).expect("valid node fixture")
}

/// A pod in namespace `default` with `spec`.
pub fn pod(name: &str, spec: Value) -> Pod {
    pod_from(
        json!({"metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}")}, "spec": spec}),
    )
}

/// A pod `incoming` in namespace `default` with `spec`.
pub fn pod_with_spec(spec: Value) -> Pod {
    pod("incoming", spec)
}

/// A pod from its full JSON.
pub fn pod_from(value: Value) -> Pod {
    serde_json::from_value(value).expect("valid pod fixture")
}

/// A running pod bound to `node` with `labels` and a container requesting `cpu` and `memory`.
pub fn running(name: &str, node: &str, labels: Value, cpu: &str, memory: &str) -> Pod {
    pod_from(json!({
        "metadata": {"name": name, "namespace": "default", "labels": labels},
        "spec": {"nodeName": node, "containers": [
            {"name": "c", "resources": {"requests": {"cpu": cpu, "memory": memory}}}
        ]},
        "status": {"phase": "Running"},
    }))
}

/// A container requesting `cpu` and `memory`.
pub fn container(cpu: &str, memory: &str) -> Value {
    json!({"name": "app", "resources": {"requests": {"cpu": cpu, "memory": memory}}})
}
