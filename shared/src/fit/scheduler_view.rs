//! What kube-scheduler v1.37 itself would report for the pod: per node only the first failing
//! plugin of the default filter order (`RunFilterPlugins` stops there), counted per reason
//! string into the histogram of `FitError.Error()` (`pkg/scheduler/framework/types.go`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::filters::{Plugin, PreFilterRejection, Rejection};
use super::reasons;

/// The scheduler's verdict, comparable with a parsed FailedScheduling message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SchedulerView {
    /// Nodes the scheduler knows (`0/N nodes are available`).
    pub total_nodes: usize,
    /// Non-empty when the pod is gated and never tried.
    pub scheduling_gates: Vec<String>,
    /// The first PreFilter rejection; it replaces the histogram.
    pub prefilter_message: Option<String>,
    /// Reason string → number of nodes reporting it. One node can count under several
    /// reasons of the same plugin (`Insufficient cpu` and `Insufficient memory`).
    pub histogram: BTreeMap<String, usize>,
    /// Node → the plugin that rejected it first, for nodes that were filtered.
    pub first_failing_plugin: BTreeMap<String, Plugin>,
    /// Nodes that pass every filter; when there are any the pod would be bound, not reported.
    pub feasible_nodes: Vec<String>,
    /// `spec.schedulerName`; only `default-scheduler` is simulated.
    pub scheduler_name: String,
    /// Pending pods nominated to a node (by preemption) with at least this pod's priority;
    /// the scheduler counts them on their nodes, this view does not.
    pub nominated_pods: Vec<String>,
}

/// Counts one more node under `reason`, allocating the key only for a new reason.
fn count(histogram: &mut BTreeMap<String, usize>, reason: &str) {
    match histogram.get_mut(reason) {
        Some(nodes) => *nodes += 1,
        None => {
            histogram.insert(reason.to_string(), 1);
        }
    }
}

/// One node's full evaluation, the input of [`SchedulerView::build`].
pub struct NodeOutcome<'v> {
    pub node: &'v str,
    pub rejections: &'v [Rejection],
    /// Whether the node is among the PreFilter's node names (always true without narrowing).
    pub in_prefilter_result: bool,
}

impl SchedulerView {
    /// Applies the scheduler's reporting rules to a full evaluation.
    pub fn build<'v>(
        gates: &[String],
        prefilter: &[PreFilterRejection],
        nodes: impl IntoIterator<Item = NodeOutcome<'v>>,
    ) -> SchedulerView {
        let mut view = SchedulerView {
            scheduling_gates: gates.to_vec(),
            ..SchedulerView::default()
        };
        let nodes: Vec<NodeOutcome> = nodes.into_iter().collect();
        view.total_nodes = nodes.len();
        if !gates.is_empty() {
            return view;
        }
        if let Some(first) = prefilter.first() {
            view.prefilter_message = Some(first.message.clone());
            return view;
        }
        for outcome in nodes {
            if !outcome.in_prefilter_result {
                count(&mut view.histogram, reasons::PREFILTER_NARROWED);
                continue;
            }
            let Some(first) = outcome.rejections.first() else {
                view.feasible_nodes.push(outcome.node.to_string());
                continue;
            };
            view.first_failing_plugin
                .insert(outcome.node.to_string(), first.plugin);
            let mut counted: Vec<&str> = Vec::new();
            for rejection in outcome
                .rejections
                .iter()
                .filter(|r| r.plugin == first.plugin)
            {
                if !counted.contains(&rejection.reason.as_str()) {
                    counted.push(&rejection.reason);
                    count(&mut view.histogram, &rejection.reason);
                }
            }
        }
        view
    }

    /// Whether the scheduler would leave the pod Pending.
    pub fn is_unschedulable(&self) -> bool {
        !self.scheduling_gates.is_empty()
            || self.feasible_nodes.is_empty()
            || self.prefilter_message.is_some()
    }

    /// The message kube-scheduler v1.37 would write (without the preemption part), or `None`
    /// when some node fits.
    pub fn message(&self) -> Option<String> {
        if !self.scheduling_gates.is_empty() {
            return Some(reasons::SCHEDULING_GATED.to_string());
        }
        if self.total_nodes == 0 {
            return Some("no nodes available to schedule pods".to_string());
        }
        let head = format!("0/{} nodes are available:", self.total_nodes);
        if let Some(prefilter) = &self.prefilter_message {
            return Some(format!("{head} {prefilter}."));
        }
        if !self.feasible_nodes.is_empty() {
            return None;
        }
        let mut parts: Vec<String> = self
            .histogram
            .iter()
            .map(|(reason, count)| format!("{count} {reason}"))
            .collect();
        parts.sort();
        Some(format!("{head} {}.", parts.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::filters::{Code, Detail};

    fn rejection(plugin: Plugin, reason: &str) -> Rejection {
        Rejection {
            plugin,
            reason: reason.to_string(),
            code: Code::Unschedulable,
            explanation: String::new(),
            evidence: Vec::new(),
            fix: String::new(),
            fix_yaml: None,
            detail: Detail::Cordoned,
        }
    }

    fn outcome<'v>(node: &'v str, rejections: &'v [Rejection]) -> NodeOutcome<'v> {
        NodeOutcome {
            node,
            rejections,
            in_prefilter_result: true,
        }
    }

    #[test]
    fn counts_only_the_first_failing_plugin_but_all_its_reasons() {
        let tainted_and_full = [
            rejection(Plugin::TaintToleration, reasons::UNTOLERATED_TAINT),
            rejection(Plugin::NodeResourcesFit, "Insufficient cpu"),
        ];
        let full = [
            rejection(Plugin::NodeResourcesFit, "Insufficient cpu"),
            rejection(Plugin::NodeResourcesFit, "Insufficient memory"),
            rejection(Plugin::InterPodAffinity, reasons::POD_ANTI_AFFINITY),
        ];
        let view = SchedulerView::build(
            &[],
            &[],
            [
                outcome("n1", &tainted_and_full),
                outcome("n2", &full),
                outcome("n3", &full),
            ],
        );
        assert_eq!(
            view.histogram,
            BTreeMap::from([
                ("Insufficient cpu".to_string(), 2),
                ("Insufficient memory".to_string(), 2),
                (reasons::UNTOLERATED_TAINT.to_string(), 1),
            ])
        );
        assert_eq!(view.first_failing_plugin["n1"], Plugin::TaintToleration);
        assert_eq!(
            view.message().unwrap(),
            "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu, 2 Insufficient memory."
        );
    }

    #[test]
    fn go_string_sort_puts_10_before_2() {
        let full = [rejection(Plugin::NodeResourcesFit, "Insufficient cpu")];
        let cordoned = [rejection(
            Plugin::NodeUnschedulable,
            reasons::NODE_UNSCHEDULABLE,
        )];
        let mut nodes: Vec<NodeOutcome> = (0..10).map(|_| outcome("c", &cordoned)).collect();
        nodes.extend((0..2).map(|_| outcome("f", &full)));
        let view = SchedulerView::build(&[], &[], nodes);
        assert_eq!(
            view.message().unwrap(),
            "0/12 nodes are available: 10 node(s) were unschedulable, 2 Insufficient cpu."
        );
    }

    #[test]
    fn prefilter_rejection_replaces_the_histogram() {
        let full = [rejection(Plugin::NodeResourcesFit, "Insufficient cpu")];
        let prefilter = [PreFilterRejection {
            plugin: Plugin::VolumeBinding,
            message: reasons::UNBOUND_IMMEDIATE_CLAIMS.to_string(),
            explanation: String::new(),
            fix: String::new(),
        }];
        let view = SchedulerView::build(&[], &prefilter, [outcome("n1", &full)]);
        assert!(view.histogram.is_empty());
        assert_eq!(
            view.message().unwrap(),
            "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims."
        );
    }

    #[test]
    fn nodes_outside_the_prefilter_result_are_reported_as_such() {
        let ports = [rejection(Plugin::NodePorts, reasons::NODE_PORTS)];
        let narrowed = NodeOutcome {
            node: "other",
            rejections: &[],
            in_prefilter_result: false,
        };
        let view = SchedulerView::build(&[], &[], [outcome("target", &ports), narrowed]);
        assert_eq!(
            view.message().unwrap(),
            "0/2 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, 1 node(s) didn't satisfy plugin(s) [NodeAffinity]."
        );
    }

    #[test]
    fn a_feasible_node_means_no_message() {
        let view = SchedulerView::build(&[], &[], [outcome("n1", &[])]);
        assert!(!view.is_unschedulable());
        assert_eq!(view.message(), None);
        assert_eq!(view.feasible_nodes, ["n1"]);
    }

    #[test]
    fn gated_pods_are_never_tried() {
        let view =
            SchedulerView::build(&["example.com/wait".to_string()], &[], [outcome("n1", &[])]);
        assert!(view.is_unschedulable());
        assert_eq!(view.message().unwrap(), reasons::SCHEDULING_GATED);
        assert!(view.histogram.is_empty());
    }

    #[test]
    fn no_nodes_at_all() {
        let view = SchedulerView::build(&[], &[], []);
        assert_eq!(
            view.message().unwrap(),
            "no nodes available to schedule pods"
        );
    }
}
