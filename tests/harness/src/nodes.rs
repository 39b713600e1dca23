//! Fake nodes run by kwok: creation, readiness, and simulated kubelet loss.
//!
//! Nodes are cluster-wide: every test of a binary sees every node. A test that needs a fixed set
//! of nodes gives them distinctive labels or taints and selects or tolerates exactly those.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, Taint};
use kube::Api;
use kube::api::PostParams;
use serde_json::json;

use crate::ControlPlane;
use crate::wait;

/// The annotation that makes kwok manage a node (set on every [`FakeNode`]).
pub const KWOK_ANNOTATION: &str = "kwok.x-k8s.io/node";

/// A node for kwok to run. Capacity equals allocatable.
#[derive(Debug, Clone)]
pub struct FakeNode {
    pub name: String,
    pub cpu: String,
    pub memory: String,
    pub pods: String,
    pub ephemeral_storage: String,
    /// Extended resources, e.g. `nvidia.com/gpu` → `4`.
    pub extended_resources: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    /// Sets `topology.kubernetes.io/zone` (and a matching `topology.kubernetes.io/region`).
    pub zone: Option<String>,
    pub unschedulable: bool,
}

impl FakeNode {
    /// A node with 4 CPUs, 16Gi memory, 110 pods and 100Gi ephemeral storage.
    pub fn new(name: &str) -> FakeNode {
        FakeNode {
            name: name.to_string(),
            cpu: "4".into(),
            memory: "16Gi".into(),
            pods: "110".into(),
            ephemeral_storage: "100Gi".into(),
            extended_resources: BTreeMap::new(),
            labels: BTreeMap::new(),
            taints: Vec::new(),
            zone: None,
            unschedulable: false,
        }
    }

    pub fn cpu(mut self, cpu: &str) -> Self {
        self.cpu = cpu.into();
        self
    }

    pub fn memory(mut self, memory: &str) -> Self {
        self.memory = memory.into();
        self
    }

    pub fn pods(mut self, pods: &str) -> Self {
        self.pods = pods.into();
        self
    }

    pub fn ephemeral_storage(mut self, quantity: &str) -> Self {
        self.ephemeral_storage = quantity.into();
        self
    }

    pub fn extended_resource(mut self, name: &str, quantity: &str) -> Self {
        self.extended_resources.insert(name.into(), quantity.into());
        self
    }

    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Adds a taint; `effect` is `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    pub fn taint(mut self, key: &str, value: &str, effect: &str) -> Self {
        self.taints.push(Taint {
            key: key.into(),
            value: Some(value.into()),
            effect: effect.into(),
            time_added: None,
        });
        self
    }

    pub fn zone(mut self, zone: &str) -> Self {
        self.zone = Some(zone.into());
        self
    }

    pub fn unschedulable(mut self, unschedulable: bool) -> Self {
        self.unschedulable = unschedulable;
        self
    }

    /// The Node object: kwok annotation (no kwok taint), hostname/os/arch/zone labels, status.
    pub fn to_node(&self) -> Node {
        let mut labels = BTreeMap::from([
            ("kubernetes.io/hostname".to_string(), self.name.clone()),
            ("kubernetes.io/os".to_string(), "linux".to_string()),
            ("kubernetes.io/arch".to_string(), "amd64".to_string()),
            ("type".to_string(), "kwok".to_string()),
        ]);
        if let Some(zone) = &self.zone {
            labels.insert("topology.kubernetes.io/zone".into(), zone.clone());
            let region = zone.rsplit_once('-').map_or(zone.as_str(), |(r, _)| r);
            labels.insert("topology.kubernetes.io/region".into(), region.to_string());
        }
        labels.extend(self.labels.clone());
        let mut resources = BTreeMap::from([
            ("cpu".to_string(), self.cpu.clone()),
            ("memory".to_string(), self.memory.clone()),
            ("pods".to_string(), self.pods.clone()),
            (
                "ephemeral-storage".to_string(),
                self.ephemeral_storage.clone(),
            ),
        ]);
        resources.extend(self.extended_resources.clone());
        let node = json!({
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": self.name,
                "labels": labels,
                "annotations": {KWOK_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
            },
            "spec": {"taints": self.taints, "unschedulable": self.unschedulable},
            "status": {"capacity": resources, "allocatable": resources},
        });
        serde_json::from_value(node).unwrap_or_else(|e| panic!("invalid node {}: {e}", self.name))
    }
}

impl ControlPlane {
    /// Creates the node and waits until kwok reports it Ready.
    pub async fn add_node(&self, node: FakeNode) -> Node {
        let nodes: Api<Node> = Api::all(self.client());
        nodes
            .create(&PostParams::default(), &node.to_node())
            .await
            .unwrap_or_else(|e| panic!("cannot create node {}: {e}", node.name));
        self.wait_node_condition(&node.name, "Ready", "True").await
    }

    /// Waits up to a minute until node `name` has condition `type_` with `status`.
    pub async fn wait_node_condition(&self, name: &str, type_: &str, status: &str) -> Node {
        wait::node_condition(&self.client(), name, type_, status, wait::DEFAULT_TIMEOUT).await
    }
}
