//! Capacity that exists in total but not on any single node ("6 CPU free in total but at most
//! 1.5 on any node"), over the nodes whose only obstacle is NodeResourcesFit.

use serde::Serialize;

use super::evaluate::NodeVerdict;
use super::filters::Plugin;
use super::index::Snapshot;
use super::resources::{CPU, EPHEMERAL_STORAGE, MEMORY, Resources, format_amount};

/// Free capacity of one requested resource across the otherwise usable nodes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fragmentation {
    pub resource: String,
    pub requested: i64,
    /// Σ of `allocatable − requested` over the candidate nodes (negative free counts as 0).
    pub total_free: i64,
    pub largest_free: i64,
    pub largest_free_node: Option<String>,
    /// Nodes that pass every filter except, possibly, NodeResourcesFit.
    pub candidate_nodes: usize,
    /// Enough is free in total, but no single node has enough.
    pub fragmented: bool,
    pub summary: String,
}

/// One entry per requested resource that some candidate node lacks.
pub fn fragmentation(
    requests: &Resources,
    snapshot: &Snapshot,
    verdicts: &[NodeVerdict],
) -> Vec<Fragmentation> {
    let candidates: Vec<(&str, &Resources, &Resources)> = snapshot
        .nodes
        .iter()
        .filter(|node| !node.excluded)
        .zip(verdicts)
        .filter(|(_, verdict)| {
            verdict
                .reasons
                .iter()
                .all(|r| r.plugin == Plugin::NodeResourcesFit)
        })
        .map(|(node, _)| (node.name, &node.allocatable, &node.requested))
        .collect();
    let native = [CPU, MEMORY, EPHEMERAL_STORAGE].map(|name| (name, requests.get(name)));
    let wanted = native
        .into_iter()
        .chain(requests.scalars())
        .filter(|(_, amount)| *amount > 0);
    wanted
        .filter_map(|(name, requested)| {
            let free: Vec<(&str, i64)> = candidates
                .iter()
                .map(|(node, allocatable, used)| (*node, (allocatable.get(name) - used.get(name)).max(0)))
                .collect();
            if free.iter().all(|(_, amount)| *amount >= requested) {
                return None;
            }
            let total_free = free.iter().map(|(_, amount)| amount).sum::<i64>();
            let largest = free.iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)));
            let largest_free = largest.map_or(0, |(_, amount)| *amount);
            let fragmented = total_free >= requested && largest_free < requested;
            let show = |amount: i64| format_amount(name, amount);
            let scope = format!("the {} node(s) that pass every other check", candidates.len());
            let amount_of = |amount: i64| {
                if name == CPU { show(amount) } else { format!("{} of {name}", show(amount)) }
            };
            let summary = if fragmented {
                format!(
                    "{} is free in total on {scope}, but at most {} on any one ({}); the pod needs {}.",
                    amount_of(total_free),
                    show(largest_free),
                    largest.map_or("", |(node, _)| node),
                    show(requested)
                )
            } else {
                format!("Only {} is free in total on {scope}; the pod needs {}.", amount_of(total_free), show(requested))
            };
            Some(Fragmentation {
                resource: name.to_string(),
                requested,
                total_free,
                largest_free,
                largest_free_node: largest.map(|(node, _)| node.to_string()),
                candidate_nodes: candidates.len(),
                fragmented,
                summary,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::fit::evaluate::evaluate;
    use crate::fit::index::Snapshot;
    use crate::fit::testing::{container, node, node_from, pod_with_spec, running};
    use serde_json::json;

    #[test]
    fn capacity_spread_thin_across_nodes_is_fragmentation() {
        let nodes: Vec<_> = (0..4).map(|i| node(&format!("n{i}"), json!({}))).collect();
        let pods: Vec<_> = (0..4)
            .map(|i| {
                running(
                    &format!("p{i}"),
                    &format!("n{i}"),
                    json!({}),
                    "2500m",
                    "1Gi",
                )
            })
            .collect();
        let snapshot = Snapshot::new(&nodes, &pods);
        let fit = evaluate(
            &pod_with_spec(json!({"containers": [container("2", "1Gi")]})),
            &snapshot,
        );
        let cpu = &fit.fragmentation[0];
        assert!(cpu.fragmented);
        assert_eq!((cpu.total_free, cpu.largest_free), (6000, 1500));
        assert_eq!(
            cpu.summary,
            "6 CPU is free in total on the 4 node(s) that pass every other check, but at most 1.5 CPU on any one (n0); the pod needs 2 CPU."
        );
    }

    #[test]
    fn nodes_blocked_by_other_filters_are_not_counted() {
        let nodes = vec![
            node_from(json!({
                "metadata": {"name": "cordoned"},
                "spec": {"unschedulable": true},
                "status": {"allocatable": {"cpu": "64", "memory": "8Gi", "pods": "110"}},
            })),
            node("small", json!({})),
        ];
        let snapshot = Snapshot::new(&nodes, &[]);
        let fit = evaluate(
            &pod_with_spec(json!({"containers": [container("8", "1Gi")]})),
            &snapshot,
        );
        let cpu = &fit.fragmentation[0];
        assert_eq!(cpu.candidate_nodes, 1);
        assert!(!cpu.fragmented);
        assert!(cpu.summary.starts_with("Only 4 CPU is free"));
    }
}
