//! Small real-shaped objects for the unit tests: a base pod merged with each test's changes.

use k8s_openapi::api::core::v1::{Event, Node, Pod};
use k8s_openapi::jiff::Timestamp;
use kube_runbook::{
    report::Finding,
    state::{ClusterState, Kind, Origin},
};
use serde_json::{Value, json};

pub const NOW: &str = "2026-03-01T12:00:00Z";
pub const MINUTE_AGO: &str = "2026-03-01T11:59:00Z";

/// An empty state observed at [`NOW`] with every kind the kubelet analysis reads marked loaded.
pub fn state() -> ClusterState {
    let now: Timestamp = NOW.parse().unwrap();
    let mut state = ClusterState::new(
        Origin::Snapshot {
            path: "test".into(),
        },
        now,
    );
    for kind in [
        Kind::Pod,
        Kind::Node,
        Kind::Event,
        Kind::Secret,
        Kind::ConfigMap,
        Kind::PersistentVolumeClaim,
        Kind::PersistentVolume,
        Kind::ServiceAccount,
        Kind::Lease,
    ] {
        state.loaded.insert(kind);
    }
    state
        .nodes
        .push(node("node-a", json!([{"type": "Ready", "status": "True"}])));
    state
}

/// Pod `shop/web-1` (uid u-1) on node-a with container `web`, changed by `changes`.
pub fn pod(changes: Value) -> Pod {
    let mut base = json!({
        "metadata": {"name": "web-1", "namespace": "shop", "uid": "u-1", "creationTimestamp": "2026-03-01T11:00:00Z"},
        "spec": {"nodeName": "node-a", "containers": [{"name": "web", "image": "registry.example/shop/web:1.4"}]},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": "2026-03-01T11:00:00Z"}]
        }
    });
    merge(&mut base, changes);
    serde_json::from_value(base).unwrap()
}

/// A pod of `shop` named `name` on `node` mounting claim `claim`.
pub fn other_pod(name: &str, node: &str, changes: Value) -> Pod {
    let mut value = json!({
        "metadata": {"name": name, "namespace": "shop", "uid": format!("u-{name}")},
        "spec": {"nodeName": node, "containers": [{"name": "main", "image": "x:1"}]},
        "status": {"phase": "Running"}
    });
    merge(&mut value, changes);
    serde_json::from_value(value).unwrap()
}

pub fn node(name: &str, conditions: Value) -> Node {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "status": {"conditions": conditions, "nodeInfo": {
            "architecture": "arm64", "operatingSystem": "linux", "bootID": "", "containerRuntimeVersion": "",
            "kernelVersion": "", "kubeProxyVersion": "", "kubeletVersion": "", "machineID": "", "osImage": "", "systemUUID": ""
        }}
    }))
    .unwrap()
}

/// A kubelet event about web-1 a minute ago; `field_path` names a container, e.g. `spec.containers{web}`.
pub fn event(reason: &str, message: &str, field_path: Option<&str>) -> Event {
    serde_json::from_value(json!({
        "metadata": {"name": format!("web-1.{reason}"), "namespace": "shop"},
        "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "shop", "uid": "u-1", "fieldPath": field_path},
        "reason": reason,
        "message": message,
        "type": "Warning",
        "count": 4,
        "lastTimestamp": MINUTE_AGO,
        "source": {"component": "kubelet", "host": "node-a"}
    }))
    .unwrap()
}

pub fn object<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).unwrap()
}

pub fn codes(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.code.as_str()).collect()
}

/// The only finding with `code`.
pub fn find<'a>(findings: &'a [Finding], code: &str) -> &'a Finding {
    let matching: Vec<&Finding> = findings.iter().filter(|f| f.code == code).collect();
    assert_eq!(
        matching.len(),
        1,
        "want one {code} in {:?}",
        codes(findings)
    );
    matching[0]
}

/// Every evidence fact, remedy description and command of a finding, as one text to search.
pub fn text(finding: &Finding) -> String {
    let mut out = vec![finding.title.clone(), finding.explanation.clone()];
    out.extend(finding.evidence.iter().map(|e| e.fact.clone()));
    for remedy in &finding.remediation {
        out.push(remedy.description.clone());
        out.extend(remedy.command.clone());
        out.extend(remedy.yaml.clone());
    }
    out.join("\n")
}

fn merge(base: &mut Value, changes: Value) {
    match (base, changes) {
        (Value::Object(base), Value::Object(changes)) => {
            for (key, value) in changes {
                merge(base.entry(key).or_insert(Value::Null), value);
            }
        }
        (base, changes) => *base = changes,
    }
}
