//! Lists of a snapshot's pods that only some questions need: per namespace (topology spread,
//! pod affinity, removing a pod), per node (disk conflicts, excluding a node), per claim
//! (ReadWriteOncePod) and the host ports in use per node. The snapshot derives them on first use
//! in one pass over its pods and keeps them up to date afterwards.

use std::borrow::Cow;

use super::filters::claims::claim_refs;
use super::filters::node_ports::{HostPort, host_ports};
use super::hash::FxHashMap;
use super::index::{NodeId, PodEntry, PodId};

#[derive(Clone, Debug, Default)]
pub(crate) struct PodLists<'a> {
    by_namespace: FxHashMap<&'a str, Vec<PodId>>,
    by_node: Vec<Vec<PodId>>,
    ports_by_node: Vec<Vec<(HostPort<'a>, PodId)>>,
    /// namespace → claim name → pods whose volumes reference it.
    claim_users: FxHashMap<&'a str, FxHashMap<Cow<'a, str>, Vec<PodId>>>,
}

impl<'a> PodLists<'a> {
    /// The lists of the live pods among `pods`, on `nodes` nodes.
    pub fn build(pods: &[PodEntry<'a>], nodes: usize) -> PodLists<'a> {
        let mut lists = PodLists {
            by_node: vec![Vec::new(); nodes],
            ports_by_node: vec![Vec::new(); nodes],
            ..PodLists::default()
        };
        for pod in pods.iter().filter(|p| !p.removed) {
            lists.add(pod);
        }
        lists
    }

    /// Adds a pod placed after the lists were built.
    pub fn add(&mut self, entry: &PodEntry<'a>) {
        let (id, node, namespace) = (entry.id, entry.node, entry.namespace());
        self.by_namespace.entry(namespace).or_default().push(id);
        self.by_node[node].push(id);
        self.ports_by_node[node].extend(host_ports(entry.pod).map(|port| (port, id)));
        for (claim, _) in claim_refs(entry.pod) {
            self.claim_users
                .entry(namespace)
                .or_default()
                .entry(claim)
                .or_default()
                .push(id);
        }
    }

    /// Takes a removed pod off its node; the other lists skip removed pods when read.
    pub fn detach(&mut self, id: PodId, node: NodeId) {
        self.by_node[node].retain(|&p| p != id);
        self.ports_by_node[node].retain(|(_, p)| *p != id);
    }

    pub fn in_namespace(&self, namespace: &str) -> &[PodId] {
        self.by_namespace
            .get(namespace)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    pub fn on_node(&self, node: NodeId) -> &[PodId] {
        &self.by_node[node]
    }

    pub fn ports_on_node(&self, node: NodeId) -> &[(HostPort<'a>, PodId)] {
        &self.ports_by_node[node]
    }

    pub fn claim_users(&self, namespace: &str, claim: &str) -> &[PodId] {
        self.claim_users
            .get(namespace)
            .and_then(|claims| claims.get(claim))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }
}
