//! Compares the engine's [`SchedulerView`] with a parsed scheduler message, listing every
//! difference and the known reasons the two can legitimately differ.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::message::{ParsedMessage, normalize_reason};
use super::reasons;
use super::scheduler_view::SchedulerView;

/// The outcome of [`compare`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Agreement {
    pub agrees: bool,
    pub engine_total_nodes: usize,
    pub scheduler_total_nodes: Option<usize>,
    /// Set when the PreFilter messages differ: (engine, scheduler).
    pub prefilter_difference: Option<(Option<String>, Option<String>)>,
    /// Reasons whose node counts differ, sorted by reason.
    pub differences: Vec<ReasonDifference>,
    /// Nodes the engine finds feasible although the scheduler reported the pod unschedulable.
    pub engine_feasible_nodes: Vec<String>,
    /// Known causes that could explain the differences, most likely first.
    pub possible_causes: Vec<KnownCause>,
}

/// A reason counted differently.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReasonDifference {
    pub reason: String,
    pub engine: usize,
    pub scheduler: usize,
}

/// Why the engine and the scheduler can disagree by design.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum KnownCause {
    /// Nodes were added, removed or changed since the message was written; events repeat the
    /// last attempt's text and may be up to an hour old.
    ClusterChangedSinceMessage,
    /// Pods nominated to nodes by preemption count on those nodes for the scheduler.
    NominatedPods { pods: Vec<String> },
    /// Pods the scheduler assumed onto nodes but had not bound yet counted for it.
    AssumedPods,
    /// The pod uses another scheduler or profile, whose plugins or arguments may differ.
    CustomProfile { scheduler_name: String },
    /// A scheduler extender or a plugin the engine does not simulate rejected nodes.
    UnsimulatedFilters { reasons: Vec<String> },
}

impl KnownCause {
    /// A sentence for people.
    pub fn describe(&self) -> String {
        match self {
            KnownCause::ClusterChangedSinceMessage => {
                "The message is from the scheduler's last attempt; nodes or pods \
                 may have changed since (events live up to an hour by default)."
                    .to_string()
            }
            KnownCause::NominatedPods { pods } if pods.is_empty() => {
                "The scheduler also counts pods that preemption nominated to a node.".to_string()
            }
            KnownCause::NominatedPods { pods } => format!(
                "The scheduler also counts pods nominated to nodes by preemption: {}.",
                pods.join(", ")
            ),
            KnownCause::AssumedPods => {
                "The scheduler counts pods it has assumed onto nodes before they are bound."
                    .to_string()
            }
            KnownCause::CustomProfile { scheduler_name } => format!(
                "The pod uses schedulerName {scheduler_name}; its profile may enable or configure plugins differently."
            ),
            KnownCause::UnsimulatedFilters { reasons } => format!(
                "These reasons come from an extender or a plugin the engine does not simulate: {}.",
                reasons.join(", ")
            ),
        }
    }
}

/// Compares the engine's view with what the scheduler reported.
pub fn compare(view: &SchedulerView, parsed: &ParsedMessage) -> Agreement {
    let engine: BTreeMap<String, usize> = normalized(&view.histogram);
    let reported_unschedulable = parsed.total_nodes.is_some() || parsed.scheduling_gated;
    let prefilter_difference = (view.prefilter_message != parsed.prefilter_message).then(|| {
        (
            view.prefilter_message.clone(),
            parsed.prefilter_message.clone(),
        )
    });
    let reasons: BTreeSet<&String> = engine.keys().chain(parsed.histogram.keys()).collect();
    let differences: Vec<ReasonDifference> = reasons
        .into_iter()
        .map(|reason| ReasonDifference {
            reason: reason.clone(),
            engine: engine.get(reason).copied().unwrap_or(0),
            scheduler: parsed.histogram.get(reason).copied().unwrap_or(0),
        })
        .filter(|d| d.engine != d.scheduler)
        .collect();
    let gating_differs = parsed.scheduling_gated == view.scheduling_gates.is_empty();
    let totals_differ = parsed.total_nodes.is_some_and(|n| n != view.total_nodes);
    let engine_feasible_nodes = if reported_unschedulable && view.scheduling_gates.is_empty() {
        view.feasible_nodes.clone()
    } else {
        Vec::new()
    };
    let agrees = !totals_differ
        && !gating_differs
        && prefilter_difference.is_none()
        && differences.is_empty()
        && engine_feasible_nodes.is_empty();
    let possible_causes = if agrees {
        Vec::new()
    } else {
        causes(view, totals_differ, &differences)
    };
    Agreement {
        agrees,
        engine_total_nodes: view.total_nodes,
        scheduler_total_nodes: parsed.total_nodes,
        prefilter_difference,
        differences,
        engine_feasible_nodes,
        possible_causes,
    }
}

fn normalized(histogram: &BTreeMap<String, usize>) -> BTreeMap<String, usize> {
    let mut result = BTreeMap::new();
    for (reason, count) in histogram {
        let key = normalize_reason(reason);
        if !key.is_empty() {
            *result.entry(key).or_default() += count;
        }
    }
    result
}

fn causes(
    view: &SchedulerView,
    totals_differ: bool,
    differences: &[ReasonDifference],
) -> Vec<KnownCause> {
    let mut causes = Vec::new();
    if totals_differ {
        causes.push(KnownCause::ClusterChangedSinceMessage);
    }
    let unknown: Vec<String> = differences
        .iter()
        .filter(|d| d.scheduler > d.engine && !is_simulated(&d.reason))
        .map(|d| d.reason.clone())
        .collect();
    if !unknown.is_empty() {
        causes.push(KnownCause::UnsimulatedFilters { reasons: unknown });
    }
    if view.scheduler_name != "default-scheduler" && !view.scheduler_name.is_empty() {
        causes.push(KnownCause::CustomProfile {
            scheduler_name: view.scheduler_name.clone(),
        });
    }
    let scheduler_saw_more_load = differences
        .iter()
        .any(|d| d.scheduler > d.engine && depends_on_other_pods(&d.reason));
    if scheduler_saw_more_load || !view.nominated_pods.is_empty() {
        causes.push(KnownCause::NominatedPods {
            pods: view.nominated_pods.clone(),
        });
        causes.push(KnownCause::AssumedPods);
    }
    if !totals_differ {
        causes.push(KnownCause::ClusterChangedSinceMessage);
    }
    causes
}

/// Reasons whose count grows with pods the scheduler knows and the snapshot may not.
fn depends_on_other_pods(reason: &str) -> bool {
    reason.starts_with(reasons::INSUFFICIENT_PREFIX)
        || [
            reasons::TOO_MANY_PODS,
            reasons::NODE_PORTS,
            reasons::POD_ANTI_AFFINITY,
            reasons::EXISTING_ANTI_AFFINITY,
            reasons::SPREAD_CONSTRAINTS,
            reasons::READ_WRITE_ONCE_POD_CONFLICT,
        ]
        .contains(&reason)
}

/// Whether the engine can produce `reason` at all.
fn is_simulated(reason: &str) -> bool {
    reason.starts_with(reasons::INSUFFICIENT_PREFIX)
        || [
            reasons::NODE_UNSCHEDULABLE,
            reasons::NODE_NAME,
            reasons::UNTOLERATED_TAINT,
            reasons::NODE_AFFINITY,
            reasons::NODE_PORTS,
            reasons::TOO_MANY_PODS,
            reasons::DISK_CONFLICT,
            reasons::READ_WRITE_ONCE_POD_CONFLICT,
            reasons::VOLUME_NODE_CONFLICT,
            reasons::VOLUME_BIND_CONFLICT,
            reasons::VOLUME_PV_NOT_EXIST,
            reasons::VOLUME_ZONE_CONFLICT,
            reasons::SPREAD_CONSTRAINTS,
            reasons::SPREAD_MISSING_LABEL,
            reasons::POD_AFFINITY,
            reasons::POD_ANTI_AFFINITY,
            reasons::EXISTING_ANTI_AFFINITY,
            reasons::PREFILTER_NARROWED,
        ]
        .contains(&reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::message::parse_message;

    fn view(histogram: &[(&str, usize)], total: usize) -> SchedulerView {
        SchedulerView {
            total_nodes: total,
            histogram: histogram.iter().map(|(r, c)| (r.to_string(), *c)).collect(),
            scheduler_name: "default-scheduler".to_string(),
            ..SchedulerView::default()
        }
    }

    #[test]
    fn agrees_across_release_wordings() {
        let engine = view(
            &[(reasons::UNTOLERATED_TAINT, 1), ("Insufficient cpu", 2)],
            3,
        );
        let old = parse_message(
            "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. \
             preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod..",
        )
        .unwrap();
        let agreement = compare(&engine, &old);
        assert!(agreement.agrees, "{agreement:?}");
        assert!(agreement.possible_causes.is_empty());
    }

    #[test]
    fn lists_differences_and_likely_causes() {
        let mut engine = view(&[("Insufficient cpu", 1)], 3);
        engine.feasible_nodes = vec!["n3".into(), "n2".into()];
        let parsed = parse_message(
            "0/4 nodes are available: 3 Insufficient cpu, 1 node(s) exceed max volume count.",
        )
        .unwrap();
        let agreement = compare(&engine, &parsed);
        assert!(!agreement.agrees);
        assert_eq!(
            agreement.differences,
            [
                ReasonDifference {
                    reason: "Insufficient cpu".into(),
                    engine: 1,
                    scheduler: 3
                },
                ReasonDifference {
                    reason: "node(s) exceed max volume count".into(),
                    engine: 0,
                    scheduler: 1
                },
            ]
        );
        assert_eq!(agreement.engine_feasible_nodes, ["n3", "n2"]);
        assert_eq!(
            agreement.possible_causes[0],
            KnownCause::ClusterChangedSinceMessage
        );
        assert!(
            agreement
                .possible_causes
                .contains(&KnownCause::UnsimulatedFilters {
                    reasons: vec!["node(s) exceed max volume count".into()]
                })
        );
        assert!(agreement.possible_causes.contains(&KnownCause::AssumedPods));
    }

    #[test]
    fn prefilter_messages_are_compared_verbatim() {
        let mut engine = view(&[], 2);
        engine.prefilter_message = Some(reasons::UNBOUND_IMMEDIATE_CLAIMS.to_string());
        let same = parse_message("0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.").unwrap();
        assert!(compare(&engine, &same).agrees);
        let other =
            parse_message("0/2 nodes are available: persistentvolumeclaim \"x\" not found.")
                .unwrap();
        let agreement = compare(&engine, &other);
        assert_eq!(
            agreement.prefilter_difference,
            Some((
                Some(reasons::UNBOUND_IMMEDIATE_CLAIMS.to_string()),
                Some("persistentvolumeclaim \"x\" not found".to_string())
            ))
        );
    }

    #[test]
    fn custom_scheduler_is_a_cause() {
        let mut engine = view(&[], 1);
        engine.scheduler_name = "batch".into();
        let agreement = compare(
            &engine,
            &parse_message("0/1 nodes are available: 1 Insufficient cpu.").unwrap(),
        );
        assert!(
            agreement
                .possible_causes
                .contains(&KnownCause::CustomProfile {
                    scheduler_name: "batch".into()
                })
        );
        assert!(
            agreement
                .possible_causes
                .iter()
                .all(|c| !c.describe().is_empty())
        );
    }

    #[test]
    fn gating_is_compared() {
        let mut engine = view(&[], 1);
        engine.scheduling_gates = vec!["wait".into()];
        let gated =
            parse_message("Scheduling is blocked due to non-empty scheduling gates").unwrap();
        assert!(compare(&engine, &gated).agrees);
        assert!(!compare(&view(&[], 1), &gated).agrees);
    }
}
