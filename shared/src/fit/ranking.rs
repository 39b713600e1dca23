//! Orders nodes by how close they are to taking the pod: fitting nodes first, then by the number
//! of failing plugins, then nodes where preemption or freeing capacity could help before nodes
//! that need a configuration change, then by the relative resource shortfall.

use std::cmp::Ordering;

use serde::Serialize;

use super::evaluate::NodeVerdict;
use super::filters::{Code, Detail, Plugin};

/// A node's place in the ranking.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RankedNode {
    pub node: String,
    /// The distinct failing plugins, in filter order; empty when the pod fits.
    pub blocking_plugins: Vec<Plugin>,
    /// Whether every rejection could be resolved by freeing capacity (status `Unschedulable`).
    pub resolvable_by_freeing_capacity: bool,
    /// Σ over insufficient resources of shortfall ÷ allocatable (0 when none is short).
    pub resource_shortfall: f64,
    /// `fits`, or the reasons, e.g. `Insufficient cpu, Insufficient memory`.
    pub summary: String,
}

/// Ranks every verdict, closest to fitting first.
pub fn rank(verdicts: &[NodeVerdict]) -> Vec<RankedNode> {
    let mut ranked: Vec<RankedNode> = verdicts.iter().map(ranked).collect();
    ranked.sort_by(|a, b| {
        a.blocking_plugins
            .len()
            .cmp(&b.blocking_plugins.len())
            .then(
                b.resolvable_by_freeing_capacity
                    .cmp(&a.resolvable_by_freeing_capacity),
            )
            .then(
                a.resource_shortfall
                    .partial_cmp(&b.resource_shortfall)
                    .unwrap_or(Ordering::Equal),
            )
            .then_with(|| a.node.cmp(&b.node))
    });
    ranked
}

fn ranked(verdict: &NodeVerdict) -> RankedNode {
    let mut blocking_plugins: Vec<Plugin> = verdict.reasons.iter().map(|r| r.plugin).collect();
    blocking_plugins.dedup();
    let resource_shortfall = verdict
        .reasons
        .iter()
        .map(|r| match &r.detail {
            Detail::InsufficientResource {
                requested,
                allocatable,
                free,
                ..
            } => (requested - free.max(&0)) as f64 / (*allocatable).max(1) as f64,
            Detail::TooManyPods { allowed, .. } => 1.0 / (*allowed).max(1) as f64,
            _ => 0.0,
        })
        .sum();
    let summary = if verdict.fits {
        "fits".to_string()
    } else {
        let mut reasons: Vec<&str> = verdict.reasons.iter().map(|r| r.reason.as_str()).collect();
        reasons.dedup();
        reasons.join(", ")
    };
    RankedNode {
        node: verdict.node.clone(),
        resolvable_by_freeing_capacity: verdict
            .reasons
            .iter()
            .all(|r| r.code == Code::Unschedulable),
        blocking_plugins,
        resource_shortfall,
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::filters::Rejection;

    fn rejection(plugin: Plugin, code: Code, detail: Detail) -> Rejection {
        Rejection {
            plugin,
            reason: format!("{plugin} says no"),
            code,
            explanation: String::new(),
            evidence: Vec::new(),
            fix: String::new(),
            fix_yaml: None,
            detail,
        }
    }

    fn short(requested: i64, free: i64) -> Rejection {
        let detail = Detail::InsufficientResource {
            resource: "cpu".into(),
            requested,
            allocatable: 4000,
            used: 4000 - free,
            free,
        };
        rejection(Plugin::NodeResourcesFit, Code::Unschedulable, detail)
    }

    fn verdict(node: &str, reasons: Vec<Rejection>) -> NodeVerdict {
        NodeVerdict {
            node: node.to_string(),
            fits: reasons.is_empty(),
            reasons,
        }
    }

    #[test]
    fn closest_nodes_come_first() {
        let cordoned = rejection(
            Plugin::NodeUnschedulable,
            Code::UnschedulableAndUnresolvable,
            Detail::Cordoned,
        );
        let verdicts = vec![
            verdict("two-blockers", vec![cordoned.clone(), short(1000, 500)]),
            verdict("cordoned-only", vec![cordoned]),
            verdict("far-short", vec![short(3000, 0)]),
            verdict("near-short", vec![short(1000, 500)]),
            verdict("fits", vec![]),
        ];
        let order: Vec<String> = rank(&verdicts).into_iter().map(|r| r.node).collect();
        assert_eq!(
            order,
            [
                "fits",
                "near-short",
                "far-short",
                "cordoned-only",
                "two-blockers"
            ]
        );
    }

    #[test]
    fn summaries_list_reasons() {
        let ranked = rank(&[verdict("n", vec![short(1000, 0)])]);
        assert_eq!(ranked[0].summary, "NodeResourcesFit says no");
        assert!((ranked[0].resource_shortfall - 0.25).abs() < 1e-9);
    }
}
