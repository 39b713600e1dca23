//! What the fit index needs of every pod, read in one pass into a flat array: where the pod
//! stands (bound to which node, with or without required anti-affinity; nominated; neither) and,
//! per node, the sum of its pods' requests. Loading builds it once ([`ClusterState::index_pods`]),
//! so that each fit index is a walk over small records instead of 150,000 pod objects and their
//! request quantities.
//!
//! The pass is split across the machine's cores: reading the pods is bound by memory latency, and
//! each part only reads.

use std::thread;

use k8s_openapi::api::core::v1::{Node, Pod};
use rustc_hash::FxHashMap;

use super::affinity_term::required_anti_affinity_terms;
use super::requests::assigned_pod_requests;
use super::resources::Resources;
use crate::state::ClusterState;

/// Below this many pods one thread is quicker than starting others.
const PODS_PER_THREAD: usize = 20_000;

/// Where one pod stands for the scheduler; nodes are positions in the node list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Binding {
    /// Bound to a known node and not terminal (`Succeeded`/`Failed`).
    Bound { node: u32, anti_affinity: bool },
    /// Pending, and preemption nominated it to a known node.
    Nominated { node: u32 },
    /// Terminal, bound to an unknown node, or pending without a nomination.
    Elsewhere,
}

/// What the bound pods of one node hold.
#[derive(Clone, Debug, Default)]
pub(crate) struct NodeUsage {
    /// Σ of the requests of the node's pods (`NodeInfo.Requested`).
    pub requested: Resources,
    pub pods: usize,
}

/// One [`Binding`] per pod and one [`NodeUsage`] per node, in the order of the lists read.
#[derive(Clone)]
pub(crate) struct PodRecords {
    pub(crate) bindings: Vec<Binding>,
    pub(crate) usage: Vec<NodeUsage>,
    read_from: Origin,
}

/// The lists the records were read from, by address and length: lists changed since are read
/// again rather than trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Origin {
    nodes: (usize, usize),
    pods: (usize, usize),
}

impl Origin {
    fn of(nodes: &[Node], pods: &[Pod]) -> Origin {
        Origin {
            nodes: (nodes.as_ptr() as usize, nodes.len()),
            pods: (pods.as_ptr() as usize, pods.len()),
        }
    }
}

impl std::fmt::Debug for PodRecords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PodRecords {{ {} pods, {} nodes }}",
            self.bindings.len(),
            self.usage.len()
        )
    }
}

impl PodRecords {
    /// Reads every pod of `pods` against the nodes of `nodes`.
    pub(crate) fn read(nodes: &[Node], pods: &[Pod]) -> PodRecords {
        let mut positions = FxHashMap::with_capacity_and_hasher(nodes.len(), Default::default());
        for (position, node) in nodes.iter().enumerate() {
            if let Some(name) = node.metadata.name.as_deref() {
                positions.insert(name, position as u32);
            }
        }
        let mut bindings = vec![Binding::Elsewhere; pods.len()];
        let usage = read_in_parts(pods, &mut bindings, &positions, nodes.len());
        PodRecords {
            bindings,
            usage,
            read_from: Origin::of(nodes, pods),
        }
    }

    /// Whether these records were read from exactly these lists.
    pub(crate) fn describe(&self, nodes: &[Node], pods: &[Pod]) -> bool {
        self.read_from == Origin::of(nodes, pods)
    }
}

/// Reads `pods` into `bindings` in parts, one per core (at most one per [`PODS_PER_THREAD`] pods),
/// and adds up what each part found on each node.
fn read_in_parts(
    pods: &[Pod],
    bindings: &mut [Binding],
    positions: &FxHashMap<&str, u32>,
    nodes: usize,
) -> Vec<NodeUsage> {
    let cores = thread::available_parallelism().map_or(1, usize::from);
    let parts = cores.min(pods.len() / PODS_PER_THREAD).max(1);
    if parts == 1 {
        return read_part(pods, bindings, positions, nodes);
    }
    let chunk = pods.len().div_ceil(parts);
    let found: Vec<Vec<NodeUsage>> = thread::scope(|scope| {
        let running: Vec<_> = pods
            .chunks(chunk)
            .zip(bindings.chunks_mut(chunk))
            .map(|(part, out)| scope.spawn(move || read_part(part, out, positions, nodes)))
            .collect();
        running
            .into_iter()
            .map(|part| {
                part.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let mut usage = vec![NodeUsage::default(); nodes];
    for part in found {
        for (total, on_node) in usage.iter_mut().zip(part) {
            total.requested.add(&on_node.requested);
            total.pods += on_node.pods;
        }
    }
    usage
}

fn read_part(
    pods: &[Pod],
    out: &mut [Binding],
    positions: &FxHashMap<&str, u32>,
    nodes: usize,
) -> Vec<NodeUsage> {
    let mut usage = vec![NodeUsage::default(); nodes];
    for (pod, binding) in pods.iter().zip(out) {
        *binding = place(pod, positions, &mut usage);
    }
    usage
}

fn place(pod: &Pod, positions: &FxHashMap<&str, u32>, usage: &mut [NodeUsage]) -> Binding {
    let status = pod.status.as_ref();
    if matches!(
        status.and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    ) {
        return Binding::Elsewhere;
    }
    let spec = pod.spec.as_ref();
    let node_name = spec.and_then(|s| s.node_name.as_deref()).unwrap_or("");
    if let Some(&node) = positions.get(node_name) {
        let found = &mut usage[node as usize];
        found.requested.add(&assigned_pod_requests(pod));
        found.pods += 1;
        let affinity = spec.and_then(|s| s.affinity.as_ref());
        let anti_affinity = !required_anti_affinity_terms(affinity).is_empty();
        return Binding::Bound {
            node,
            anti_affinity,
        };
    }
    let nominee = status.and_then(|s| s.nominated_node_name.as_deref());
    match nominee.and_then(|n| positions.get(n)) {
        Some(&node) if node_name.is_empty() => Binding::Nominated { node },
        _ => Binding::Elsewhere,
    }
}

impl ClusterState {
    /// Reads the pods for the fit engine now, while loading, so that every fit index built from
    /// this state reuses the records (until its pods or nodes change).
    pub fn index_pods(&mut self) {
        self.pod_records = Some(PodRecords::read(&self.nodes, &self.pods));
    }

    /// The records of the current pods and nodes, when [`Self::index_pods`] read them.
    pub(crate) fn pod_records(&self) -> Option<&PodRecords> {
        self.pod_records
            .as_ref()
            .filter(|records| records.describe(&self.nodes, &self.pods))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::Snapshot;
    use crate::fit::resources::CPU;
    use crate::fit::testing::{node, pod_from, running};
    use crate::state::Origin;
    use k8s_openapi::jiff::Timestamp;
    use serde_json::json;

    fn nominated(name: &str, node: &str) -> Pod {
        pod_from(json!({
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "c"}]},
            "status": {"phase": "Pending", "nominatedNodeName": node},
        }))
    }

    fn finished(name: &str, node: &str) -> Pod {
        let mut pod = running(name, node, json!({}), "1", "1Gi");
        pod.status.as_mut().unwrap().phase = Some("Succeeded".into());
        pod
    }

    fn state(nodes: Vec<Node>, pods: Vec<Pod>) -> ClusterState {
        let mut state = ClusterState::new(
            Origin::Snapshot {
                path: "test".into(),
            },
            Timestamp::UNIX_EPOCH,
        );
        state.insert_all(nodes);
        state.insert_all(pods);
        state
    }

    #[test]
    fn each_pod_is_bound_nominated_or_elsewhere_and_nodes_sum_their_pods() {
        let nodes = vec![node("a", json!({})), node("b", json!({}))];
        let pods = vec![
            running("web", "b", json!({}), "500m", "1Gi"),
            nominated("waiting", "a"),
            finished("done", "b"),
            running("lost", "gone", json!({}), "1", "1Gi"),
            nominated("nominated-to-nowhere", "gone"),
            running("api", "b", json!({}), "250m", "1Gi"),
        ];
        let records = PodRecords::read(&nodes, &pods);
        let bound = |node| Binding::Bound {
            node,
            anti_affinity: false,
        };
        assert_eq!(
            records.bindings,
            [
                bound(1),
                Binding::Nominated { node: 0 },
                Binding::Elsewhere,
                Binding::Elsewhere,
                Binding::Elsewhere,
                bound(1),
            ]
        );
        assert_eq!(records.usage[0].pods, 0);
        assert_eq!(records.usage[1].pods, 2);
        assert_eq!(records.usage[1].requested.get(CPU), 750);
    }

    #[test]
    fn a_state_indexed_while_loading_gives_the_same_snapshot_as_reading_the_pods_again() {
        let mut state = state(
            vec![node("a", json!({})), node("b", json!({}))],
            vec![
                running("web", "a", json!({}), "500m", "1Gi"),
                nominated("waiting", "b"),
            ],
        );
        let unindexed = format!("{:?}", Snapshot::from_state(&state));
        state.index_pods();
        assert!(state.pod_records().is_some());
        assert_eq!(format!("{:?}", Snapshot::from_state(&state)), unindexed);
    }

    #[test]
    fn records_of_lists_changed_since_are_not_used() {
        let mut state = state(
            vec![node("a", json!({}))],
            vec![running("web", "a", json!({}), "500m", "1Gi")],
        );
        state.index_pods();
        state.insert_all([running("api", "a", json!({}), "1", "1Gi")]);
        assert!(state.pod_records().is_none());
        let snapshot = Snapshot::from_state(&state);
        assert_eq!(snapshot.nodes[0].pod_count, 2);
        assert_eq!(snapshot.nodes[0].requested.get(CPU), 1500);
    }
}
