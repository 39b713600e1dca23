//! Fixtures for the analysis tests: an inventory observed at a fixed time, and helpers that put
//! real-shaped objects (built with `json!`) into both its typed state and its object listing.

use std::sync::Arc;

use k8s_openapi::{
    Metadata, api::core::v1::Node, apimachinery::pkg::apis::meta::v1::ObjectMeta, jiff::Timestamp,
};
use kube_runbook::state::{ClusterState, Kind, Origin, Stored};
use serde_json::{Value, json};

use crate::{inventory::Inventory, resources::ResourceType};

/// An empty inventory observed at `now`, with every kind the analysis reads marked as loaded.
pub fn inventory(now: &str) -> Inventory {
    let now: Timestamp = now.parse().expect("fixture time");
    let origin = Origin::Snapshot {
        path: "fixture".into(),
    };
    let mut state = ClusterState::new(origin.clone(), now);
    state.loaded.extend(Kind::ALL);
    let mut workloads = ClusterState::new(origin, now);
    workloads
        .loaded
        .extend([Kind::Deployment, Kind::StatefulSet, Kind::DaemonSet]);
    Inventory {
        state,
        objects: Vec::new(),
        discovery_failures: Vec::new(),
        workloads,
        backends: Default::default(),
        not_checked: Vec::new(),
    }
}

/// Deserializes a fixture, panicking with the JSON on a shape error.
pub fn from<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("bad fixture {value}: {e}"))
}

/// Adds a typed object to the state and its metadata to the listing.
pub fn add<T>(inventory: &mut Inventory, object: T)
where
    T: Stored + Metadata<Ty = ObjectMeta> + Clone,
{
    inventory
        .objects
        .push(crate::inventory::MetaObject::of_kind(
            <T as Stored>::KIND,
            object.metadata(),
        ));
    inventory.state.insert_all([object]);
}

/// A node whose Ready condition has `status` since `since`.
pub fn node(name: &str, status: &str, since: &str) -> Node {
    let (reason, message) = match status {
        "Unknown" => ("NodeStatusUnknown", "Kubelet stopped posting node status."),
        "True" => ("KubeletReady", "kubelet is posting ready status"),
        _ => ("KubeletNotReady", "container runtime network not ready"),
    };
    from(json!({
        "metadata": {"name": name, "uid": format!("uid-{name}"), "resourceVersion": "10"},
        "status": {"conditions": [{
            "type": "Ready", "status": status, "reason": reason,
            "message": message, "lastTransitionTime": since, "lastHeartbeatTime": since,
        }]},
    }))
}

/// A custom resource type `widgets.example.com`.
pub fn widget_type() -> Arc<ResourceType> {
    Arc::new(ResourceType {
        group: "example.com".into(),
        version: "v1".into(),
        kind: "Widget".into(),
        plural: "widgets".into(),
        singular: "widget".into(),
        short_names: Vec::new(),
        namespaced: true,
        verbs: vec!["list".into(), "delete".into(), "patch".into()],
    })
}
