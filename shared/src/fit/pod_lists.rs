//! Lists of a snapshot's pods that only some questions need: per namespace (topology spread,
//! pod affinity, removing a pod), per node with the host ports they bind (host ports, inline
//! disks, excluding a node) and per claim (ReadWriteOncePod). Each is derived on first use in
//! one pass over the pods, then kept up to date as pods are placed and removed; evaluating a
//! pod without such constraints never builds them.

use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use super::filters::claims::claim_names;
use super::filters::node_ports::{HostPort, host_ports};
use super::index::{NodeId, PodEntry, PodId};

#[derive(Clone, Debug, Default)]
pub(crate) struct PodLists<'a> {
    by_namespace: OnceLock<FxHashMap<&'a str, Vec<PodId>>>,
    by_node: OnceLock<Vec<NodePods<'a>>>,
    /// `namespace/claim` → the pods whose volumes reference it.
    claim_users: OnceLock<FxHashMap<String, Vec<PodId>>>,
}

/// The pods bound to one node and the host ports they bind.
#[derive(Clone, Debug, Default)]
struct NodePods<'a> {
    pods: Vec<PodId>,
    ports: Vec<(HostPort<'a>, PodId)>,
}

impl<'a> PodLists<'a> {
    /// The pods of `namespace` among `pods` (the snapshot's pods, indexed by id); removed pods
    /// may be among them.
    pub fn in_namespace(&self, pods: &[PodEntry<'a>], namespace: &str) -> &[PodId] {
        let lists = self.by_namespace.get_or_init(|| {
            let mut lists = FxHashMap::default();
            for pod in live(pods) {
                add_to_namespace(&mut lists, pod);
            }
            lists
        });
        lists.get(namespace).map(Vec::as_slice).unwrap_or_default()
    }

    /// The live pods bound to `node`, of the `nodes` nodes.
    pub fn on_node(&self, pods: &[PodEntry<'a>], nodes: usize, node: NodeId) -> &[PodId] {
        &self.node_lists(pods, nodes)[node].pods
    }

    /// The host ports the live pods bound to `node` bind, with the pod binding each.
    pub fn ports_on_node(
        &self,
        pods: &[PodEntry<'a>],
        nodes: usize,
        node: NodeId,
    ) -> &[(HostPort<'a>, PodId)] {
        &self.node_lists(pods, nodes)[node].ports
    }

    /// The pods among `pods` whose volumes reference the claim `namespace/claim`; removed pods
    /// may be among them.
    pub fn claim_users(&self, pods: &[PodEntry<'a>], namespace: &str, claim: &str) -> &[PodId] {
        let lists = self.claim_users.get_or_init(|| {
            let mut lists = FxHashMap::default();
            for pod in live(pods) {
                add_to_claims(&mut lists, pod);
            }
            lists
        });
        lists
            .get(&claim_key(namespace, claim))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Adds a pod placed after some lists were built.
    pub fn add(&mut self, pod: &PodEntry<'a>) {
        if let Some(lists) = self.by_namespace.get_mut() {
            add_to_namespace(lists, pod);
        }
        if let Some(lists) = self.by_node.get_mut() {
            add_to_node(lists, pod);
        }
        if let Some(lists) = self.claim_users.get_mut() {
            add_to_claims(lists, pod);
        }
    }

    /// Takes a removed pod off its node; the other lists keep it and are filtered when read.
    pub fn detach(&mut self, pod: PodId, node: NodeId) {
        if let Some(lists) = self.by_node.get_mut() {
            lists[node].pods.retain(|&p| p != pod);
            lists[node].ports.retain(|(_, p)| *p != pod);
        }
    }

    fn node_lists(&self, pods: &[PodEntry<'a>], nodes: usize) -> &[NodePods<'a>] {
        self.by_node.get_or_init(|| {
            let mut lists = vec![NodePods::default(); nodes];
            for pod in live(pods) {
                add_to_node(&mut lists, pod);
            }
            lists
        })
    }
}

fn live<'p, 'a>(pods: &'p [PodEntry<'a>]) -> impl Iterator<Item = &'p PodEntry<'a>> {
    pods.iter().filter(|p| !p.removed)
}

fn add_to_namespace<'a>(lists: &mut FxHashMap<&'a str, Vec<PodId>>, pod: &PodEntry<'a>) {
    lists.entry(pod.namespace()).or_default().push(pod.id);
}

fn add_to_node<'a>(lists: &mut [NodePods<'a>], pod: &PodEntry<'a>) {
    let node = &mut lists[pod.node];
    node.pods.push(pod.id);
    node.ports
        .extend(host_ports(pod.pod).map(|port| (port, pod.id)));
}

fn add_to_claims(lists: &mut FxHashMap<String, Vec<PodId>>, pod: &PodEntry) {
    for (claim, _) in claim_names(pod.pod) {
        lists
            .entry(claim_key(pod.namespace(), &claim))
            .or_default()
            .push(pod.id);
    }
}

fn claim_key(namespace: &str, claim: &str) -> String {
    format!("{namespace}/{claim}")
}
