//! Bin-packing pods onto generated nodes without exceeding allocatable, honouring node
//! selectors, the GPU taint and cordoned nodes, like the scheduler's filters would.

use super::nodes::NodeState;
use super::rng::Rng;

/// What a pod needs from a node.
#[derive(Debug, Clone, Default)]
pub struct Demand {
    pub cpu_millis: u64,
    pub memory_bytes: u64,
    pub gpus: u64,
    /// `nodeSelector` / required node affinity on the `pool` label.
    pub pool: Option<&'static str>,
    /// Required node affinity on an instance type no pool has (always unschedulable).
    pub impossible_selector: bool,
    /// Tolerates the GPU taint.
    pub tolerates_gpu: bool,
    /// Tolerates every taint and cordons (DaemonSet pods).
    pub tolerates_all: bool,
    /// Must land on this node (DaemonSet pods).
    pub node: Option<usize>,
}

/// True if `node` can take `demand` now.
pub fn fits(node: &NodeState, demand: &Demand) -> bool {
    if demand.impossible_selector {
        return false;
    }
    if !demand.tolerates_all && (node.unschedulable || (node.tainted_gpu && !demand.tolerates_gpu))
    {
        return false;
    }
    if demand.pool.is_some_and(|pool| pool != node.pool) {
        return false;
    }
    node.used_pods < node.max_pods
        && node.used_cpu + demand.cpu_millis <= node.cpu_millis
        && node.used_memory + demand.memory_bytes <= node.memory_bytes
        && node.used_gpus + demand.gpus <= node.gpus
}

/// Picks a node for `demand` (a few random probes, then a scan from a random start) and books
/// the resources; `None` leaves the pod Pending.
pub fn place(nodes: &mut [NodeState], demand: &Demand, rng: &mut Rng) -> Option<usize> {
    if nodes.is_empty() {
        return None;
    }
    let chosen = match demand.node {
        Some(i) => fits(&nodes[i], demand).then_some(i),
        None => {
            let probes = (0..8)
                .map(|_| rng.below(nodes.len()))
                .find(|&i| fits(&nodes[i], demand));
            probes.or_else(|| {
                let start = rng.below(nodes.len());
                (0..nodes.len())
                    .map(|k| (start + k) % nodes.len())
                    .find(|&i| fits(&nodes[i], demand))
            })
        }
    }?;
    let node = &mut nodes[chosen];
    node.used_pods += 1;
    node.used_cpu += demand.cpu_millis;
    node.used_memory += demand.memory_bytes;
    node.used_gpus += demand.gpus;
    Some(chosen)
}

/// Why a demand fits nowhere, as the scheduler's FailedScheduling message says it: each node
/// counts under the first filter it fails (NodeUnschedulable, TaintToleration, NodeAffinity,
/// then every NodeResourcesFit shortage).
pub fn unschedulable_message(nodes: &[NodeState], demand: &Demand) -> String {
    let total = nodes.len();
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for n in nodes {
        let mut reasons = Vec::new();
        if !demand.tolerates_all && n.unschedulable {
            reasons.push("node(s) were unschedulable".to_string());
        } else if !demand.tolerates_all && n.tainted_gpu && !demand.tolerates_gpu {
            reasons.push("node(s) had untolerated taint {nvidia.com/gpu: present}".to_string());
        } else if demand.impossible_selector || demand.pool.is_some_and(|p| p != n.pool) {
            reasons.push("node(s) didn't match Pod's node affinity/selector".to_string());
        } else {
            if n.used_pods >= n.max_pods {
                reasons.push("Too many pods".to_string());
            }
            if n.used_cpu + demand.cpu_millis > n.cpu_millis {
                reasons.push("Insufficient cpu".to_string());
            }
            if n.used_memory + demand.memory_bytes > n.memory_bytes {
                reasons.push("Insufficient memory".to_string());
            }
            if n.used_gpus + demand.gpus > n.gpus {
                reasons.push("Insufficient nvidia.com/gpu".to_string());
            }
        }
        for reason in reasons {
            *counts.entry(reason).or_default() += 1;
        }
    }
    let mut parts: Vec<String> = counts.iter().map(|(r, n)| format!("{n} {r}")).collect();
    parts.sort();
    format!(
        "0/{total} nodes are available: {}. preemption: 0/{total} nodes are available: {total} No preemption victims found for incoming pod.",
        parts.join(", ")
    )
}
