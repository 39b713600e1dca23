//! Parses FailedScheduling event and PodScheduled condition messages of every supported release
//! (v1.28 to v1.37) into a node count, a histogram of normalised reasons, the PreFilter message
//! that replaces the histogram, and the PostFilter (preemption) text.
//!
//! Wordings handled: `0/N nodes are available: <histogram|prefilter>. <postfilter>`, a doubled
//! final period (`..`, releases that added `" %v."` around a message ending in `.`), the DRA
//! `no new claims to deallocate,` PostFilter prefix, old taint wordings that named the taint,
//! `node is filtered out by the prefilter result`, and messages wrapped over several lines.

use std::collections::BTreeMap;

use serde::Serialize;

use super::reasons;

/// A parsed scheduler message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParsedMessage {
    /// `N` of `0/N nodes are available`; 0 for `no nodes available to schedule pods`.
    pub total_nodes: Option<usize>,
    /// Normalised reason → count (see [`normalize_reason`]); counts of reasons that normalise
    /// alike are added.
    pub histogram: BTreeMap<String, usize>,
    /// The reasons as written, with their counts.
    pub raw_reasons: Vec<(usize, String)>,
    /// A PreFilter message that replaced the histogram, e.g. `pod has unbound immediate
    /// PersistentVolumeClaims`.
    pub prefilter_message: Option<String>,
    /// Everything after the filter part, e.g. `no new claims to deallocate, preemption: ...`.
    pub postfilter: Option<String>,
    /// The preemption outcome, after `preemption: `.
    pub preemption: Option<String>,
    /// Taints named by releases before kubernetes#134740, with the node counts.
    pub named_taints: Vec<(String, usize)>,
    /// The pod is waiting for its scheduling gates.
    pub scheduling_gated: bool,
}

const AVAILABLE: &str = " nodes are available";
const NO_NODES: &str = "no nodes available to schedule pods";

/// Parses a FailedScheduling / PodScheduled message; `None` when it is not a scheduler
/// verdict (e.g. a `SchedulerError` text).
pub fn parse_message(message: &str) -> Option<ParsedMessage> {
    let text = message.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.contains(reasons::SCHEDULING_GATED) {
        return Some(ParsedMessage {
            scheduling_gated: true,
            ..ParsedMessage::default()
        });
    }
    if text.contains(NO_NODES) {
        return Some(ParsedMessage {
            total_nodes: Some(0),
            ..ParsedMessage::default()
        });
    }
    let at = text.find(AVAILABLE)?;
    let total = text[..at].rsplit_once("0/").map(|(_, n)| n)?.parse().ok()?;
    let rest = text[at + AVAILABLE.len()..].trim_start_matches(':').trim();
    let (filter_part, postfilter) = match rest.find(". ") {
        Some(end) => (&rest[..end], Some(rest[end + 2..].trim())),
        None => (rest.trim_end_matches('.'), None),
    };
    let mut parsed = ParsedMessage {
        total_nodes: Some(total),
        postfilter: postfilter.filter(|p| !p.is_empty()).map(str::to_string),
        ..ParsedMessage::default()
    };
    parsed.preemption = postfilter
        .and_then(|p| p.split_once("preemption: "))
        .map(|(_, outcome)| outcome.trim_end_matches('.').trim().to_string());
    let entries = histogram_entries(filter_part);
    if entries.is_empty() && !filter_part.is_empty() {
        parsed.prefilter_message = Some(filter_part.to_string());
        return Some(parsed);
    }
    for (count, reason) in entries {
        if let Some(taint) = named_taint(&reason) {
            parsed.named_taints.push((taint, count));
        }
        let normalized = normalize_reason(&reason);
        if !normalized.is_empty() {
            *parsed.histogram.entry(normalized).or_default() += count;
        }
        parsed.raw_reasons.push((count, reason));
    }
    Some(parsed)
}

/// `3 Insufficient cpu, 2 node(s) had taint {a: b}, that the pod didn't tolerate` →
/// `[(3, "Insufficient cpu"), (2, "node(s) had taint {a: b}, that the pod didn't tolerate")]`.
/// Empty when the text does not start with a count (a PreFilter message).
fn histogram_entries(text: &str) -> Vec<(usize, String)> {
    let mut entries: Vec<(usize, String)> = Vec::new();
    for piece in text.split(", ") {
        match counted(piece) {
            Some((count, reason)) => entries.push((count, reason.to_string())),
            None => match entries.last_mut() {
                Some((_, reason)) => {
                    reason.push_str(", ");
                    reason.push_str(piece);
                }
                None => return Vec::new(),
            },
        }
    }
    entries
}

fn counted(piece: &str) -> Option<(usize, &str)> {
    let (count, reason) = piece.split_once(' ')?;
    Some((count.parse().ok()?, reason))
}

/// Maps a reason of any supported release to the v1.37 string the engine produces; returns an
/// empty string for reasons old releases added next to a specific one
/// (`node(s) didn't match pod affinity/anti-affinity`).
pub fn normalize_reason(reason: &str) -> String {
    let reason = reason.trim().trim_end_matches('.').trim();
    let untolerated = reason.starts_with("node(s) had untolerated taint")
        || reason.starts_with("node(s) had taint {")
        || reason == "node(s) had taints that the pod didn't tolerate";
    if untolerated {
        return reasons::UNTOLERATED_TAINT.to_string();
    }
    match reason {
        "node(s) didn't match node selector" | "node(s) didn't match Pod's node affinity" => {
            reasons::NODE_AFFINITY.to_string()
        }
        "node is filtered out by the prefilter result" => reasons::PREFILTER_NARROWED.to_string(),
        "node(s) had volume node affinity conflict" => reasons::VOLUME_NODE_CONFLICT.to_string(),
        "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode" => {
            reasons::READ_WRITE_ONCE_POD_CONFLICT.to_string()
        }
        "node(s) didn't match pod affinity/anti-affinity" => String::new(),
        other => other.to_string(),
    }
}

/// The `key=value` of an old wording that named the taint.
fn named_taint(reason: &str) -> Option<String> {
    if !reason.contains("taint {") {
        return None;
    }
    let inner = reason.split_once('{')?.1.split_once('}')?.0;
    let (key, value) = inner.split_once(": ").unwrap_or((inner, ""));
    Some(if value.is_empty() {
        key.to_string()
    } else {
        format!("{key}={value}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram(entries: &[(&str, usize)]) -> BTreeMap<String, usize> {
        entries.iter().map(|(r, c)| (r.to_string(), *c)).collect()
    }

    #[test]
    fn current_message_with_preemption() {
        let parsed = parse_message(
            "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu, 2 Insufficient memory. \
             preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.",
        )
        .unwrap();
        assert_eq!(parsed.total_nodes, Some(3));
        assert_eq!(
            parsed.histogram,
            histogram(&[
                (reasons::UNTOLERATED_TAINT, 1),
                ("Insufficient cpu", 2),
                ("Insufficient memory", 2)
            ])
        );
        assert_eq!(
            parsed.preemption.as_deref(),
            Some(
                "0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod"
            )
        );
        assert_eq!(parsed.prefilter_message, None);
    }

    #[test]
    fn dra_prefix_and_wrapped_lines() {
        let parsed = parse_message(
            "0/6 nodes are available:\n  3 node(s) didn't match pod anti-affinity rules,\n  3 node(s) had untolerated taint(s).\n\
             no new claims to deallocate,\npreemption: 0/6 nodes are available:\n  3 No preemption victims found for incoming pod,\n  \
             3 Preemption is not helpful for scheduling.",
        )
        .unwrap();
        assert_eq!(
            parsed.histogram,
            histogram(&[
                (reasons::POD_ANTI_AFFINITY, 3),
                (reasons::UNTOLERATED_TAINT, 3)
            ])
        );
        assert!(
            parsed
                .postfilter
                .unwrap()
                .starts_with("no new claims to deallocate, preemption:")
        );
        assert!(
            parsed
                .preemption
                .unwrap()
                .ends_with("3 Preemption is not helpful for scheduling")
        );
    }

    #[test]
    fn trailing_double_period_of_older_releases() {
        let parsed = parse_message(
            "0/4 nodes are available: 1 node(s) had untolerated taint(s), 3 node(s) didn't match Pod's node affinity/selector..",
        )
        .unwrap();
        assert_eq!(
            parsed.histogram,
            histogram(&[(reasons::UNTOLERATED_TAINT, 1), (reasons::NODE_AFFINITY, 3)])
        );
        let with_preemption = parse_message(
            "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod..",
        )
        .unwrap();
        assert_eq!(
            with_preemption.preemption.as_deref(),
            Some("0/3 nodes are available: 3 No preemption victims found for incoming pod")
        );
    }

    #[test]
    fn old_taint_wordings_name_the_taint() {
        let v1_26 = parse_message(
            "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) had untolerated taint {node.kubernetes.io/unreachable: }. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
        )
        .unwrap();
        assert_eq!(
            v1_26.histogram,
            histogram(&[(reasons::UNTOLERATED_TAINT, 3)])
        );
        assert_eq!(
            v1_26.named_taints,
            [
                ("node-role.kubernetes.io/control-plane".to_string(), 1),
                ("node.kubernetes.io/unreachable".to_string(), 2)
            ]
        );
        let v1_20 = parse_message(
            "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had taint {dedicated: gpu}, that the pod didn't tolerate.",
        )
        .unwrap();
        assert_eq!(
            v1_20.histogram,
            histogram(&[("Insufficient cpu", 1), (reasons::UNTOLERATED_TAINT, 1)])
        );
        assert_eq!(v1_20.named_taints, [("dedicated=gpu".to_string(), 1)]);
    }

    #[test]
    fn prefilter_messages_replace_the_histogram() {
        let parsed = parse_message(
            "0/3 nodes are available: persistentvolumeclaim \"data-0\" not found. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
        )
        .unwrap();
        assert_eq!(
            parsed.prefilter_message.as_deref(),
            Some("persistentvolumeclaim \"data-0\" not found")
        );
        assert!(parsed.histogram.is_empty());
        let unbound = parse_message("0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..").unwrap();
        assert_eq!(
            unbound.prefilter_message.as_deref(),
            Some(reasons::UNBOUND_IMMEDIATE_CLAIMS)
        );
    }

    #[test]
    fn volume_reasons_in_old_and_current_wordings() {
        let current = parse_message("0/6 nodes are available: 2 node(s) didn't match PersistentVolume's node affinity, 4 node(s) unavailable due to PersistentVolumeClaim with ReadWriteOncePod access mode already in-use by another pod.").unwrap();
        let older = parse_message("0/6 nodes are available: 2 node(s) had volume node affinity conflict, 4 node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode.").unwrap();
        assert_eq!(current.histogram, older.histogram);
        assert_eq!(current.histogram[reasons::VOLUME_NODE_CONFLICT], 2);
        assert_eq!(current.histogram[reasons::READ_WRITE_ONCE_POD_CONFLICT], 4);
    }

    #[test]
    fn prefilter_narrowing_in_both_wordings() {
        let current = parse_message("0/46 nodes are available: 1 Too many pods, 45 node(s) didn't satisfy plugin(s) [NodeAffinity].").unwrap();
        let older = parse_message("0/46 nodes are available: 1 Too many pods, 45 node is filtered out by the prefilter result.").unwrap();
        assert_eq!(current.histogram, older.histogram);
        assert_eq!(current.histogram[reasons::PREFILTER_NARROWED], 45);
    }

    #[test]
    fn old_generic_affinity_reason_is_dropped() {
        let parsed = parse_message(
            "0/3 nodes are available: 3 node(s) didn't match pod affinity/anti-affinity, 3 node(s) didn't match pod anti-affinity rules.",
        )
        .unwrap();
        assert_eq!(
            parsed.histogram,
            histogram(&[(reasons::POD_ANTI_AFFINITY, 3)])
        );
        assert_eq!(parsed.raw_reasons.len(), 2);
    }

    #[test]
    fn node_selector_wording_of_old_releases() {
        assert_eq!(
            normalize_reason("node(s) didn't match node selector"),
            reasons::NODE_AFFINITY
        );
        assert_eq!(
            normalize_reason("Insufficient nvidia.com/gpu."),
            "Insufficient nvidia.com/gpu"
        );
    }

    #[test]
    fn gated_and_empty_clusters() {
        assert!(
            parse_message("Scheduling is blocked due to non-empty scheduling gates")
                .unwrap()
                .scheduling_gated
        );
        assert_eq!(
            parse_message("no nodes available to schedule pods")
                .unwrap()
                .total_nodes,
            Some(0)
        );
        assert_eq!(
            parse_message("running PreBind plugin \"VolumeBinding\": binding volumes: timed out"),
            None
        );
    }

    /// A message, its node count and its normalised histogram.
    type Case = (&'static str, usize, &'static [(&'static str, usize)]);

    #[test]
    fn messages_seen_in_the_wild() {
        let cases: [Case; 4] = [
            (
                "0/16 nodes are available: 13 node(s) had untolerated taint(s), 3 node(s) didn't match pod anti-affinity rules.",
                16,
                &[
                    (reasons::UNTOLERATED_TAINT, 13),
                    (reasons::POD_ANTI_AFFINITY, 3),
                ],
            ),
            (
                "0/39 nodes are available: 1 Insufficient cpu, 34 node(s) had untolerated taint(s), 4 node(s) didn't match Pod's node affinity/selector.",
                39,
                &[
                    ("Insufficient cpu", 1),
                    (reasons::UNTOLERATED_TAINT, 34),
                    (reasons::NODE_AFFINITY, 4),
                ],
            ),
            (
                "0/7 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, 6 node(s) didn't satisfy plugin(s) [NodeAffinity]",
                7,
                &[(reasons::NODE_PORTS, 1), (reasons::PREFILTER_NARROWED, 6)],
            ),
            (
                "Warning  FailedScheduling  5s  default-scheduler  0/2 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 node(s) had untolerated taint(s). preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
                2,
                &[
                    ("Insufficient cpu", 1),
                    ("Insufficient memory", 1),
                    (reasons::UNTOLERATED_TAINT, 1),
                ],
            ),
        ];
        for (message, total, expected) in cases {
            let parsed = parse_message(message).unwrap();
            assert_eq!(parsed.total_nodes, Some(total), "{message}");
            assert_eq!(parsed.histogram, histogram(expected), "{message}");
        }
    }

    #[test]
    fn preemption_policy_and_nominated_node_wordings() {
        let never = parse_message("0/3 nodes are available: 3 Insufficient memory. preemption: not eligible due to preemptionPolicy=Never.").unwrap();
        assert_eq!(
            never.preemption.as_deref(),
            Some("not eligible due to preemptionPolicy=Never")
        );
        let terminating = parse_message(
            "0/3 nodes are available: 3 Insufficient memory. preemption: not eligible due to a terminating pod on the nominated node.",
        )
        .unwrap();
        assert_eq!(
            terminating.preemption.as_deref(),
            Some("not eligible due to a terminating pod on the nominated node")
        );
    }

    #[test]
    fn ten_comes_before_two_and_counts_add_up_per_reason() {
        let parsed = parse_message(
            "0/12 nodes are available: 10 node(s) were unschedulable, 2 Insufficient cpu.",
        )
        .unwrap();
        assert_eq!(
            parsed.raw_reasons[0],
            (10, reasons::NODE_UNSCHEDULABLE.to_string())
        );
        assert_eq!(parsed.histogram.values().sum::<usize>(), 12);
    }
}
