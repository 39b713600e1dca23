//! The scheduler's view of the cluster, built once: nodes with their aggregates (requested
//! resources, pod count) and the assigned pods, indexed so that evaluating one pod never rescans
//! every pod for every node.
//!
//! Building it walks the pods' records ([`PodRecords`]: the node a pod is bound to, whether it
//! counts, whether it carries required anti-affinity, each node's summed requests), read while
//! loading or, for lists not read so, on the spot; everything else is borrowed from the objects.
//! The lists only some questions need (pods per namespace, per node, per claim, the host ports
//! in use) are derived on first use ([`PodLists`]).
//!
//! Like the scheduler cache, it holds the pods bound to a known node whose phase is neither
//! `Succeeded` nor `Failed` (`newPodInformer` in `pkg/scheduler/scheduler.go`); terminating pods
//! still count. It can be changed for "what-if" questions: remove pods, exclude or cordon nodes,
//! and place pods.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::{
    Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod, Taint,
};
use k8s_openapi::api::storage::v1::StorageClass;
use rustc_hash::FxHashMap;

use super::affinity_term::{AffinityTerm, compile_all, required_anti_affinity_terms};
use super::filters::node_ports::HostPort;
use super::labels::{Labels, labels_or_empty};
use super::pod_lists::PodLists;
use super::pod_records::{Binding, PodRecords};
use super::requests::{assigned_pod_requests, node_allocatable};
use super::resources::{PODS, Resources};
use crate::state::{ClusterState, Kind};

/// Position of a node in a [`Snapshot`].
pub type NodeId = usize;
/// Position of an assigned pod in a [`Snapshot`].
pub type PodId = usize;

/// One node and what its assigned pods hold.
#[derive(Clone, Debug)]
pub(crate) struct NodeEntry<'a> {
    pub id: NodeId,
    pub name: &'a str,
    pub labels: &'a Labels,
    pub taints: &'a [Taint],
    pub unschedulable: bool,
    pub allocatable: Resources,
    /// Σ of the requests of the node's pods (`NodeInfo.Requested`).
    pub requested: Resources,
    /// How many pods are bound to it.
    pub pod_count: usize,
    /// Removed from the cluster for a what-if question.
    pub excluded: bool,
}

/// One assigned, non-terminal pod.
#[derive(Clone, Debug)]
pub(crate) struct PodEntry<'a> {
    pub id: PodId,
    pub pod: &'a Pod,
    pub node: NodeId,
    pub removed: bool,
}

impl<'a> PodEntry<'a> {
    pub fn namespace(&self) -> &'a str {
        self.pod.metadata.namespace.as_deref().unwrap_or("default")
    }

    pub fn name(&self) -> &'a str {
        self.pod.metadata.name.as_deref().unwrap_or("")
    }

    pub fn labels(&self) -> &'a Labels {
        labels_or_empty(self.pod.metadata.labels.as_ref())
    }

    pub fn terminating(&self) -> bool {
        self.pod.metadata.deletion_timestamp.is_some()
    }

    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace(), self.name())
    }
}

/// Which optional kinds were loaded, so that checks can say what they could not verify.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Loaded {
    pub namespaces: bool,
    pub storage: bool,
}

/// Nodes, assigned pods and the storage objects volume checks need, indexed for evaluation.
#[derive(Clone, Debug)]
pub struct Snapshot<'a> {
    pub(crate) nodes: Vec<NodeEntry<'a>>,
    node_ids: FxHashMap<&'a str, NodeId>,
    pub(crate) pods: Vec<PodEntry<'a>>,
    lists: PodLists<'a>,
    /// The pods with required anti-affinity terms, compiled once (invalid terms leave a pod out).
    anti_affinity: Vec<(PodId, Vec<AffinityTerm>)>,
    namespace_labels: HashMap<&'a str, &'a Labels>,
    claims: HashMap<(&'a str, &'a str), &'a PersistentVolumeClaim>,
    volumes: HashMap<&'a str, &'a PersistentVolume>,
    storage_classes: HashMap<&'a str, &'a StorageClass>,
    /// Pending pods that preemption nominated to a node (`status.nominatedNodeName`).
    nominated: Vec<(&'a Pod, NodeId)>,
    pub(crate) loaded: Loaded,
}

impl<'a> Snapshot<'a> {
    /// Indexes `nodes` and the pods of `pods` bound to one of them and not terminal.
    pub fn new(nodes: &'a [Node], pods: &'a [Pod]) -> Snapshot<'a> {
        Snapshot::from_records(nodes, pods, &PodRecords::read(nodes, pods))
    }

    /// [`Snapshot::new`] from records read from exactly `nodes` and `pods`.
    fn from_records(nodes: &'a [Node], pods: &'a [Pod], records: &PodRecords) -> Snapshot<'a> {
        let mut snapshot = Snapshot {
            nodes: Vec::with_capacity(nodes.len()),
            node_ids: FxHashMap::with_capacity_and_hasher(nodes.len(), Default::default()),
            pods: Vec::with_capacity(pods.len()),
            lists: PodLists::default(),
            anti_affinity: Vec::new(),
            namespace_labels: HashMap::new(),
            claims: HashMap::new(),
            volumes: HashMap::new(),
            storage_classes: HashMap::new(),
            nominated: Vec::new(),
            loaded: Loaded::default(),
        };
        for (node, usage) in nodes.iter().zip(&records.usage) {
            if let Some(id) = snapshot.add_node(node) {
                snapshot.nodes[id].requested.add(&usage.requested);
                snapshot.nodes[id].pod_count += usage.pods;
            }
        }
        let ids: Vec<Option<NodeId>> = nodes
            .iter()
            .map(|node| {
                let name = node.metadata.name.as_deref()?;
                snapshot.node_ids.get(name).copied()
            })
            .collect();
        for (pod, binding) in pods.iter().zip(&records.bindings) {
            match *binding {
                Binding::Bound {
                    node,
                    anti_affinity,
                } => {
                    if let Some(id) = ids[node as usize] {
                        snapshot.push_pod(pod, id, anti_affinity);
                    }
                }
                Binding::Nominated { node } => {
                    if let Some(id) = ids[node as usize] {
                        snapshot.nominated.push((pod, id));
                    }
                }
                Binding::Elsewhere => {}
            }
        }
        snapshot
    }

    /// Adds namespace labels, which `namespaceSelector`s of affinity terms match against.
    pub fn with_namespaces(mut self, namespaces: &'a [Namespace]) -> Snapshot<'a> {
        for namespace in namespaces {
            if let Some(name) = namespace.metadata.name.as_deref() {
                self.namespace_labels
                    .insert(name, labels_or_empty(namespace.metadata.labels.as_ref()));
            }
        }
        self.loaded.namespaces = true;
        self
    }

    /// Adds the claims, volumes and storage classes the volume checks look up.
    pub fn with_storage(
        mut self,
        claims: &'a [PersistentVolumeClaim],
        volumes: &'a [PersistentVolume],
        storage_classes: &'a [StorageClass],
    ) -> Snapshot<'a> {
        for claim in claims {
            let meta = &claim.metadata;
            if let (Some(namespace), Some(name)) = (meta.namespace.as_deref(), meta.name.as_deref())
            {
                self.claims.insert((namespace, name), claim);
            }
        }
        for volume in volumes {
            if let Some(name) = volume.metadata.name.as_deref() {
                self.volumes.insert(name, volume);
            }
        }
        for class in storage_classes {
            if let Some(name) = class.metadata.name.as_deref() {
                self.storage_classes.insert(name, class);
            }
        }
        self.loaded.storage = true;
        self
    }

    /// Everything the fit engine uses from `state`: nodes, pods, and, when loaded, namespaces
    /// and (only all three together) claims, volumes and storage classes.
    pub fn from_state(state: &'a ClusterState) -> Snapshot<'a> {
        let mut snapshot = match state.pod_records() {
            Some(records) => Snapshot::from_records(&state.nodes, &state.pods, records),
            None => Snapshot::new(&state.nodes, &state.pods),
        };
        if state.has(Kind::Namespace) {
            snapshot = snapshot.with_namespaces(&state.namespaces);
        }
        let storage = [
            Kind::PersistentVolumeClaim,
            Kind::PersistentVolume,
            Kind::StorageClass,
        ];
        if storage.into_iter().all(|kind| state.has(kind)) {
            snapshot = snapshot.with_storage(
                &state.persistent_volume_claims,
                &state.persistent_volumes,
                &state.storage_classes,
            );
        }
        snapshot
    }

    /// How many nodes the scheduler would consider (excluded nodes left out).
    pub fn node_count(&self) -> usize {
        self.nodes.iter().filter(|n| !n.excluded).count()
    }

    /// Removes an assigned pod, as if it were evicted; false when it is not in the snapshot.
    pub fn remove_pod(&mut self, namespace: &str, name: &str) -> bool {
        let found = self.pods_in_namespace(namespace).find(|p| p.name() == name);
        match found.map(|p| p.id) {
            Some(id) => {
                self.detach_pod(id);
                true
            }
            None => false,
        }
    }

    /// Removes a node and every pod on it from the cluster; false when there is no such node.
    pub fn exclude_node(&mut self, name: &str) -> bool {
        let Some(&id) = self.node_ids.get(name) else {
            return false;
        };
        for pod in self.pods_on_node(id).to_vec() {
            self.detach_pod(pod);
        }
        self.nodes[id].excluded = true;
        true
    }

    /// Marks a node unschedulable (`kubectl cordon`); false when there is no such node.
    pub fn cordon_node(&mut self, name: &str) -> bool {
        match self.node_ids.get(name) {
            Some(&id) => {
                self.nodes[id].unschedulable = true;
                true
            }
            None => false,
        }
    }

    /// Binds `pod` to the node `node_name`, consuming its capacity, ports and topology counts;
    /// false when there is no such node or it is excluded.
    pub fn place_pod(&mut self, pod: &'a Pod, node_name: &str) -> bool {
        match self.node_ids.get(node_name) {
            Some(&id) if !self.nodes[id].excluded => {
                let placed = self.add_pod(pod, id);
                self.lists.add(&self.pods[placed]);
                true
            }
            _ => false,
        }
    }

    /// Pending pods nominated to a live node, with that node.
    pub(crate) fn nominated_pods(&self) -> impl Iterator<Item = (&'a Pod, &NodeEntry<'a>)> {
        self.nominated
            .iter()
            .map(|&(pod, node)| (pod, &self.nodes[node]))
            .filter(|(_, node)| !node.excluded)
    }

    /// The live pods of `namespace`.
    pub(crate) fn pods_in_namespace(&self, namespace: &str) -> impl Iterator<Item = &PodEntry<'a>> {
        self.live(self.lists.in_namespace(&self.pods, namespace))
    }

    /// Every live pod.
    pub(crate) fn all_pods(&self) -> impl Iterator<Item = &PodEntry<'a>> {
        self.pods.iter().filter(|p| !p.removed)
    }

    /// The live pods bound to the node `node`.
    pub(crate) fn pods_on_node(&self, node: NodeId) -> &[PodId] {
        self.lists.on_node(&self.pods, self.nodes.len(), node)
    }

    /// The host ports the live pods bound to the node `node` bind, with the pod binding each.
    pub(crate) fn ports_on_node(&self, node: NodeId) -> &[(HostPort<'a>, PodId)] {
        self.lists.ports_on_node(&self.pods, self.nodes.len(), node)
    }

    /// Live pods with required anti-affinity terms, with those terms.
    pub(crate) fn pods_with_anti_affinity(
        &self,
    ) -> impl Iterator<Item = (&PodEntry<'a>, &[AffinityTerm])> {
        self.anti_affinity
            .iter()
            .map(|(id, terms)| (&self.pods[*id], terms.as_slice()))
            .filter(|(pod, _)| !pod.removed)
    }

    /// Live pods whose volumes reference the claim `namespace/claim`.
    pub(crate) fn claim_users(
        &self,
        namespace: &str,
        claim: &str,
    ) -> impl Iterator<Item = &PodEntry<'a>> {
        self.live(self.lists.claim_users(&self.pods, namespace, claim))
    }

    pub(crate) fn namespace_labels(&self, namespace: &str) -> &'a Labels {
        labels_or_empty(self.namespace_labels.get(namespace).copied())
    }

    pub(crate) fn claim(&self, namespace: &str, name: &str) -> Option<&'a PersistentVolumeClaim> {
        self.claims.get(&(namespace, name)).copied()
    }

    pub(crate) fn volume(&self, name: &str) -> Option<&'a PersistentVolume> {
        self.volumes.get(name).copied()
    }

    pub(crate) fn volumes(&self) -> impl Iterator<Item = &'a PersistentVolume> + '_ {
        self.volumes.values().copied()
    }

    pub(crate) fn storage_class(&self, name: &str) -> Option<&'a StorageClass> {
        self.storage_classes.get(name).copied()
    }

    fn live<'s>(&'s self, ids: &'s [PodId]) -> impl Iterator<Item = &'s PodEntry<'a>> {
        ids.iter().map(|&id| &self.pods[id]).filter(|p| !p.removed)
    }

    fn add_node(&mut self, node: &'a Node) -> Option<NodeId> {
        let name = node.metadata.name.as_deref()?;
        let spec = node.spec.as_ref();
        let id = self.nodes.len();
        self.node_ids.insert(name, id);
        self.nodes.push(NodeEntry {
            id,
            name,
            labels: labels_or_empty(node.metadata.labels.as_ref()),
            taints: spec.and_then(|s| s.taints.as_deref()).unwrap_or_default(),
            unschedulable: spec.and_then(|s| s.unschedulable).unwrap_or(false),
            allocatable: node_allocatable(node),
            requested: Resources::default(),
            pod_count: 0,
            excluded: false,
        });
        Some(id)
    }

    /// Binds `pod` to `node` in the aggregates; the lists already built are the caller's.
    fn add_pod(&mut self, pod: &'a Pod, node: NodeId) -> PodId {
        let node_entry = &mut self.nodes[node];
        node_entry.requested.add(&assigned_pod_requests(pod));
        node_entry.pod_count += 1;
        let affinity = pod.spec.as_ref().and_then(|s| s.affinity.as_ref());
        self.push_pod(
            pod,
            node,
            !required_anti_affinity_terms(affinity).is_empty(),
        )
    }

    /// Lists `pod` as bound to `node` (whose aggregates already count it), compiling its
    /// required anti-affinity terms when it has any.
    fn push_pod(&mut self, pod: &'a Pod, node: NodeId, anti_affinity: bool) -> PodId {
        let id = self.pods.len();
        if anti_affinity {
            let affinity = pod.spec.as_ref().and_then(|s| s.affinity.as_ref());
            let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
            let compiled =
                compile_all(namespace, required_anti_affinity_terms(affinity)).unwrap_or_default();
            if !compiled.is_empty() {
                self.anti_affinity.push((id, compiled));
            }
        }
        self.pods.push(PodEntry {
            id,
            pod,
            node,
            removed: false,
        });
        id
    }

    fn detach_pod(&mut self, id: PodId) {
        let entry = &mut self.pods[id];
        if entry.removed {
            return;
        }
        entry.removed = true;
        let (pod, node) = (entry.pod, entry.node);
        let node_entry = &mut self.nodes[node];
        node_entry.requested.subtract(&assigned_pod_requests(pod));
        node_entry.pod_count -= 1;
        self.lists.detach(id, node);
    }
}

impl NodeEntry<'_> {
    /// How many pods the node may still take (`allocatable.pods`).
    pub fn allowed_pods(&self) -> i64 {
        self.allocatable.get(PODS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::resources::CPU;
    use serde_json::json;

    fn node(name: &str) -> Node {
        serde_json::from_value(json!({
            "metadata": {"name": name},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}},
        }))
        .unwrap()
    }

    fn pod(name: &str, node: &str, phase: &str) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"nodeName": node, "containers": [{
                "name": "c",
                "resources": {"requests": {"cpu": "500m"}},
                "ports": [{"containerPort": 80, "hostPort": 8080}],
            }]},
            "status": {"phase": phase},
        }))
        .unwrap()
    }

    #[test]
    fn aggregates_non_terminal_pods_on_known_nodes() {
        let nodes = vec![node("a"), node("b")];
        let pods = vec![
            pod("running", "a", "Running"),
            pod("pending-bound", "a", "Pending"),
            pod("done", "a", "Succeeded"),
            pod("failed", "b", "Failed"),
            pod("elsewhere", "gone", "Running"),
        ];
        let snapshot = Snapshot::new(&nodes, &pods);
        let a = &snapshot.nodes[0];
        assert_eq!(a.pod_count, 2);
        assert_eq!(a.requested.get(CPU), 1000);
        assert_eq!(snapshot.ports_on_node(0).len(), 2);
        assert_eq!(snapshot.pods_on_node(0).len(), 2);
        assert_eq!(snapshot.nodes[1].pod_count, 0);
        assert!(snapshot.pods_on_node(1).is_empty());
        assert_eq!(snapshot.pods_in_namespace("default").count(), 2);
    }

    #[test]
    fn from_state_uses_storage_only_when_every_storage_kind_was_loaded() {
        use crate::state::{ClusterState, Origin};
        use k8s_openapi::api::core::v1::PersistentVolumeClaim;
        let mut state = ClusterState::new(
            Origin::Snapshot {
                path: "test".into(),
            },
            k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
        );
        state.insert_all([node("a")]);
        state.insert_all([pod("p", "a", "Running")]);
        state.insert_all(Vec::<PersistentVolumeClaim>::new());
        let partial = Snapshot::from_state(&state);
        assert!(!partial.loaded.storage);
        assert_eq!(partial.nodes[0].pod_count, 1);
        state.insert_all(Vec::<PersistentVolume>::new());
        state.insert_all(Vec::<StorageClass>::new());
        assert!(Snapshot::from_state(&state).loaded.storage);
    }

    #[test]
    fn what_if_changes_update_the_aggregates() {
        let nodes = vec![node("a"), node("b")];
        let pods = vec![pod("p1", "a", "Running"), pod("p2", "b", "Running")];
        let incoming = pod("new", "", "Pending");
        let mut snapshot = Snapshot::new(&nodes, &pods);
        assert!(snapshot.remove_pod("default", "p1"));
        assert!(!snapshot.remove_pod("default", "p1"));
        assert_eq!(snapshot.nodes[0].requested.get(CPU), 0);
        assert!(snapshot.ports_on_node(0).is_empty());
        assert_eq!(snapshot.nodes[0].pod_count, 0);
        assert!(snapshot.exclude_node("b"));
        assert_eq!(snapshot.node_count(), 1);
        assert_eq!(snapshot.all_pods().count(), 0);
        assert!(snapshot.place_pod(&incoming, "a"));
        assert!(
            !snapshot.place_pod(&incoming, "b"),
            "excluded nodes take no pods"
        );
        assert_eq!(snapshot.nodes[0].requested.get(CPU), 500);
        assert!(snapshot.cordon_node("a"));
        assert!(snapshot.nodes[0].unschedulable);
    }

    #[test]
    fn lists_built_before_a_change_follow_it() {
        let nodes = vec![node("a"), node("b")];
        let pods = vec![pod("p1", "a", "Running"), pod("p2", "b", "Running")];
        let incoming = pod("new", "", "Pending");
        let mut snapshot = Snapshot::new(&nodes, &pods);
        assert_eq!(snapshot.ports_on_node(0).len(), 1);
        assert_eq!(snapshot.pods_in_namespace("default").count(), 2);
        assert!(snapshot.remove_pod("default", "p1"));
        assert!(snapshot.ports_on_node(0).is_empty());
        assert!(snapshot.pods_on_node(0).is_empty());
        assert_eq!(snapshot.pods_in_namespace("default").count(), 1);
        assert!(snapshot.place_pod(&incoming, "a"));
        assert_eq!(snapshot.pods_on_node(0), [2]);
        assert_eq!(snapshot.ports_on_node(0).len(), 1);
        assert_eq!(snapshot.pods_in_namespace("default").count(), 2);
        assert!(snapshot.exclude_node("a"));
        assert_eq!(snapshot.pods_in_namespace("default").count(), 1);
    }
}
