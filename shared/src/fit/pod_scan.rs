//! The one pass over every pod that building a [`super::Snapshot`] needs, split across the
//! machine's cores: reading 150,000 pods is bound by memory latency, and each part of the pass
//! only reads.

use std::thread;

use k8s_openapi::api::core::v1::Pod;
use rustc_hash::FxHashMap;

use super::affinity_term::required_anti_affinity_terms;
use super::index::NodeId;
use super::requests::assigned_pod_requests;
use super::resources::Resources;

/// Below this many pods one thread is quicker than starting others.
const PODS_PER_THREAD: usize = 20_000;

/// What a part of the pods holds, in their order.
pub(crate) struct PodScan<'a> {
    /// Pods bound to a known node and not terminal, with that node and whether they carry
    /// required anti-affinity terms.
    pub bound: Vec<(&'a Pod, NodeId, bool)>,
    /// Σ of the requests of the bound pods, per node.
    pub requested: Vec<Resources>,
    /// Bound pods per node.
    pub counts: Vec<usize>,
    /// Pending pods that preemption nominated to a known node.
    pub nominated: Vec<(&'a Pod, NodeId)>,
}

/// Scans `pods` in parts, one per core (at most one per [`PODS_PER_THREAD`] pods), in order.
pub(crate) fn scan_pods<'a>(
    pods: &'a [Pod],
    node_ids: &FxHashMap<&str, NodeId>,
    nodes: usize,
) -> Vec<PodScan<'a>> {
    let cores = thread::available_parallelism().map_or(1, usize::from);
    let parts = cores.min(pods.len() / PODS_PER_THREAD).max(1);
    if parts == 1 {
        return vec![scan(pods, node_ids, nodes)];
    }
    let chunk = pods.len().div_ceil(parts);
    thread::scope(|scope| {
        let running: Vec<_> = pods
            .chunks(chunk)
            .map(|part| scope.spawn(move || scan(part, node_ids, nodes)))
            .collect();
        running
            .into_iter()
            .map(|part| {
                part.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

fn scan<'a>(pods: &'a [Pod], node_ids: &FxHashMap<&str, NodeId>, nodes: usize) -> PodScan<'a> {
    let mut found = PodScan {
        bound: Vec::with_capacity(pods.len()),
        requested: vec![Resources::default(); nodes],
        counts: vec![0; nodes],
        nominated: Vec::new(),
    };
    for pod in pods {
        let status = pod.status.as_ref();
        let terminal = matches!(
            status.and_then(|s| s.phase.as_deref()),
            Some("Succeeded" | "Failed")
        );
        if terminal {
            continue;
        }
        let spec = pod.spec.as_ref();
        let node_name = spec.and_then(|s| s.node_name.as_deref()).unwrap_or("");
        match node_ids.get(node_name) {
            Some(&node) => {
                found.requested[node].add(&assigned_pod_requests(pod));
                found.counts[node] += 1;
                let anti = !required_anti_affinity_terms(spec.and_then(|s| s.affinity.as_ref()))
                    .is_empty();
                found.bound.push((pod, node, anti));
            }
            None if node_name.is_empty() => {
                let nominee = status.and_then(|s| s.nominated_node_name.as_deref());
                if let Some(&node) = nominee.and_then(|n| node_ids.get(n)) {
                    found.nominated.push((pod, node));
                }
            }
            None => {}
        }
    }
    found
}
