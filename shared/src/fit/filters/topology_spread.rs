//! PodTopologySpread with `whenUnsatisfiable: DoNotSchedule`: placing the pod in a domain must
//! keep `matching pods there + 1 − global minimum ≤ maxSkew` (`podtopologyspread/filtering.go`).
//!
//! Domains come from nodes carrying every constraint's topology key and passing the inclusion
//! policies (nodeAffinityPolicy defaults to Honor, nodeTaintsPolicy to Ignore); terminating pods
//! are not counted; with fewer domains than `minDomains` the global minimum is 0.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::{Pod, TopologySpreadConstraint};

use super::PodContext;
use super::node_affinity;
use super::rejection::{Code, Detail, Plugin, PreFilterRejection, Rejection};
use super::taints::untolerated;
use crate::fit::index::{NodeEntry, Snapshot};
use crate::fit::labels::Selector;
use crate::fit::reasons;

#[derive(Clone, Debug, Default)]
pub(crate) struct Prepared<'a> {
    constraints: Vec<Constraint<'a>>,
    pub prefilter: Option<PreFilterRejection>,
}

#[derive(Clone, Debug)]
struct Constraint<'a> {
    max_skew: i32,
    topology_key: String,
    selector: Selector,
    min_domains: i32,
    self_match: bool,
    /// Domain (topology value) → matching pods, for every eligible domain.
    matching: HashMap<&'a str, usize>,
    global_minimum: usize,
}

impl<'a> Prepared<'a> {
    pub fn new(
        ctx: &PodContext,
        snapshot: &Snapshot<'a>,
        node_affinity: &node_affinity::Prepared,
    ) -> Prepared<'a> {
        let hard = hard_constraints(ctx.pod);
        let mut constraints = Vec::with_capacity(hard.len());
        for spec in &hard {
            match Selector::from_label_selector(spec.label_selector.as_ref()) {
                Ok(selector) => constraints.push(compile(ctx, spec, selector)),
                Err(error) => return Prepared::invalid(&error),
            }
        }
        for (constraint, spec) in constraints.iter_mut().zip(&hard) {
            let eligible: Vec<bool> = snapshot
                .nodes
                .iter()
                .map(|node| {
                    !node.excluded
                        && hard
                            .iter()
                            .all(|c| node.labels.contains_key(&c.topology_key))
                        && includes(ctx, spec, node, node_affinity)
                })
                .collect();
            let mut per_node = vec![0_usize; snapshot.nodes.len()];
            for pod in snapshot.pods_in_namespace(ctx.namespace) {
                if !pod.terminating()
                    && eligible[pod.node]
                    && constraint.selector.matches(pod.labels())
                {
                    per_node[pod.node] += 1;
                }
            }
            let counted = snapshot.nodes.iter().zip(eligible).zip(per_node);
            for ((node, _), count) in counted.filter(|((_, eligible), _)| *eligible) {
                if let Some(value) = node.labels.get(&constraint.topology_key) {
                    *constraint.matching.entry(value.as_str()).or_insert(0) += count;
                }
            }
            let minimum = constraint.matching.values().copied().min().unwrap_or(0);
            let too_few = (constraint.matching.len() as i64) < i64::from(constraint.min_domains);
            constraint.global_minimum = if too_few { 0 } else { minimum };
        }
        Prepared {
            constraints,
            prefilter: None,
        }
    }

    fn invalid(error: &str) -> Prepared<'a> {
        Prepared {
            constraints: Vec::new(),
            prefilter: Some(PreFilterRejection {
                plugin: Plugin::PodTopologySpread,
                message: format!("obtaining pod's hard topology spread constraints: {error}"),
                explanation: format!(
                    "A topology spread constraint has an invalid labelSelector: {error}."
                ),
                fix: "Fix the labelSelector of spec.topologySpreadConstraints.".to_string(),
            }),
        }
    }

    pub fn check(&self, node: &NodeEntry) -> Option<Rejection> {
        for constraint in &self.constraints {
            let key = &constraint.topology_key;
            let Some(domain) = node.labels.get(key) else {
                return Some(
                    Rejection::new(
                        Plugin::PodTopologySpread,
                        Code::UnschedulableAndUnresolvable,
                        reasons::SPREAD_MISSING_LABEL,
                        Detail::MissingTopologyLabel {
                            topology_key: key.clone(),
                        },
                    )
                    .explained(format!(
                        "The pod spreads over {key}, and node {} has no {key} label.",
                        node.name
                    ))
                    .with_fix(format!(
                        "Label the node with {key}, or spread over a key every node has."
                    )),
                );
            };
            let matching = constraint
                .matching
                .get(domain.as_str())
                .copied()
                .unwrap_or(0);
            let with_pod = matching + usize::from(constraint.self_match);
            let skew = with_pod as i64 - constraint.global_minimum as i64;
            if skew > i64::from(constraint.max_skew) {
                return Some(skew_rejection(constraint, node, domain, matching, skew));
            }
        }
        None
    }
}

fn skew_rejection(
    constraint: &Constraint<'_>,
    node: &NodeEntry,
    domain: &str,
    matching: usize,
    skew: i64,
) -> Rejection {
    let key = &constraint.topology_key;
    let mut counts: Vec<(&&str, &usize)> = constraint.matching.iter().collect();
    counts.sort();
    let shown: Vec<String> = counts
        .iter()
        .take(12)
        .map(|(d, n)| format!("{d}={n}"))
        .collect();
    let more = counts.len().saturating_sub(shown.len());
    let minimum_note = if (constraint.matching.len() as i64) < i64::from(constraint.min_domains) {
        format!(
            " (only {} of minDomains {} domains exist, so the minimum counts as 0)",
            constraint.matching.len(),
            constraint.min_domains
        )
    } else {
        String::new()
    };
    Rejection::new(
        Plugin::PodTopologySpread,
        Code::Unschedulable,
        reasons::SPREAD_CONSTRAINTS,
        Detail::TopologySkew {
            topology_key: key.clone(),
            domain: domain.to_string(),
            matching_pods: matching,
            self_match: constraint.self_match,
            global_minimum: constraint.global_minimum,
            max_skew: constraint.max_skew,
            domains: constraint.matching.len(),
            min_domains: constraint.min_domains,
        },
    )
    .explained(format!(
        "Node {} is in {key}={domain}, which already has {matching} pod(s) matching {}; adding this \
         one gives skew {skew} against the global minimum {}{minimum_note}, above maxSkew {}.",
        node.name, constraint.selector, constraint.global_minimum, constraint.max_skew
    ))
    .with_evidence(format!(
        "matching pods per {key}: {}{}",
        shown.join(", "),
        if more > 0 { format!(" and {more} more") } else { String::new() }
    ))
    .with_fix(
        "Make room in the emptier domains (their nodes may be failing other checks), raise maxSkew, \
         or use whenUnsatisfiable: ScheduleAnyway.",
    )
}

fn hard_constraints(pod: &Pod) -> Vec<TopologySpreadConstraint> {
    let all = pod
        .spec
        .as_ref()
        .and_then(|s| s.topology_spread_constraints.as_deref())
        .unwrap_or_default();
    all.iter()
        .filter(|c| c.when_unsatisfiable == "DoNotSchedule")
        .cloned()
        .collect()
}

fn compile<'a>(
    ctx: &PodContext,
    spec: &TopologySpreadConstraint,
    selector: Selector,
) -> Constraint<'a> {
    let selector = spec
        .match_label_keys
        .iter()
        .flatten()
        .fold(selector, |selector, key| match ctx.labels.get(key) {
            Some(value) => selector.and_equals(key, value),
            None => selector,
        });
    Constraint {
        max_skew: spec.max_skew,
        topology_key: spec.topology_key.clone(),
        self_match: selector.matches(ctx.labels),
        selector,
        min_domains: spec.min_domains.unwrap_or(1),
        matching: HashMap::new(),
        global_minimum: 0,
    }
}

/// `matchNodeInclusionPolicies`: Honor the pod's node affinity (default) and, if asked, taints.
fn includes(
    ctx: &PodContext,
    spec: &TopologySpreadConstraint,
    node: &NodeEntry,
    node_affinity: &node_affinity::Prepared,
) -> bool {
    let honor_affinity = spec.node_affinity_policy.as_deref().unwrap_or("Honor") == "Honor";
    let honor_taints = spec.node_taints_policy.as_deref().unwrap_or("Ignore") == "Honor";
    (!honor_affinity || node_affinity.matches(node))
        && (!honor_taints || untolerated(node.taints, ctx.tolerations).is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::filters::PodContext;
    use crate::fit::testing::{node, node_from, pod_from, running};
    use k8s_openapi::api::core::v1::Node;
    use serde_json::{Value, json};

    fn spread(constraint: Value) -> Pod {
        pod_from(json!({
            "metadata": {"name": "web-new", "namespace": "default", "labels": {"app": "web", "rev": "2"}},
            "spec": {"containers": [], "topologySpreadConstraints": [constraint]},
        }))
    }

    fn zone_constraint(extra: Value) -> Value {
        let mut constraint = json!({
            "maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app": "web"}},
        });
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            constraint[k] = v;
        }
        constraint
    }

    fn verdicts(nodes: &[Node], pods: &[Pod], incoming: &Pod) -> Vec<Option<String>> {
        let snapshot = Snapshot::new(nodes, pods);
        let ctx = PodContext::new(incoming);
        let affinity = node_affinity::Prepared::new(incoming);
        let prepared = Prepared::new(&ctx, &snapshot, &affinity);
        snapshot
            .nodes
            .iter()
            .map(|n| prepared.check(n).map(|r| r.reason))
            .collect()
    }

    fn three_zones() -> Vec<Node> {
        vec![
            node("a1", json!({"zone": "a"})),
            node("b1", json!({"zone": "b"})),
            node("c1", json!({"zone": "c"})),
        ]
    }

    fn web(name: &str, node: &str) -> Pod {
        running(name, node, json!({"app": "web", "rev": "1"}), "0", "0")
    }

    #[test]
    fn skew_against_the_global_minimum() {
        let pods = [web("w1", "a1"), web("w2", "a1"), web("w3", "b1")];
        let got = verdicts(&three_zones(), &pods, &spread(zone_constraint(json!({}))));
        assert_eq!(
            got,
            [
                Some(reasons::SPREAD_CONSTRAINTS.to_string()),
                Some(reasons::SPREAD_CONSTRAINTS.to_string()),
                None
            ]
        );
    }

    #[test]
    fn missing_topology_label_is_unresolvable() {
        let nodes = [node("a1", json!({"zone": "a"})), node("x", json!({}))];
        let got = verdicts(&nodes, &[], &spread(zone_constraint(json!({}))));
        assert_eq!(got, [None, Some(reasons::SPREAD_MISSING_LABEL.to_string())]);
    }

    #[test]
    fn min_domains_forces_the_minimum_to_zero() {
        let nodes = [
            node("a1", json!({"zone": "a"})),
            node("b1", json!({"zone": "b"})),
        ];
        let pods = [web("w1", "a1"), web("w2", "b1")];
        let relaxed = verdicts(&nodes, &pods, &spread(zone_constraint(json!({}))));
        assert_eq!(relaxed, [None, None]);
        let strict = verdicts(
            &nodes,
            &pods,
            &spread(zone_constraint(json!({"minDomains": 3}))),
        );
        assert_eq!(
            strict,
            [
                Some(reasons::SPREAD_CONSTRAINTS.to_string()),
                Some(reasons::SPREAD_CONSTRAINTS.to_string())
            ]
        );
    }

    #[test]
    fn node_affinity_policy_honor_ignores_domains_the_pod_cannot_use() {
        let nodes = three_zones();
        let pods = [web("w1", "a1"), web("w2", "b1")];
        let mut incoming = spread(zone_constraint(json!({})));
        let spec = incoming.spec.as_mut().unwrap();
        spec.node_selector = Some([("zone".to_string(), "a".to_string())].into());
        assert_eq!(
            verdicts(&nodes, &pods, &incoming)[0],
            None,
            "zone c is ignored, min is 1"
        );
        spec_policy(&mut incoming, "nodeAffinityPolicy", "Ignore");
        assert_eq!(
            verdicts(&nodes, &pods, &incoming)[0],
            Some(reasons::SPREAD_CONSTRAINTS.to_string())
        );
    }

    fn spec_policy(pod: &mut Pod, field: &str, value: &str) {
        let constraint = &mut pod
            .spec
            .as_mut()
            .unwrap()
            .topology_spread_constraints
            .as_mut()
            .unwrap()[0];
        match field {
            "nodeAffinityPolicy" => constraint.node_affinity_policy = Some(value.to_string()),
            _ => constraint.node_taints_policy = Some(value.to_string()),
        }
    }

    #[test]
    fn node_taints_policy_honor_ignores_tainted_domains() {
        let mut nodes = three_zones();
        nodes[2] = node_from(json!({
            "metadata": {"name": "c1", "labels": {"zone": "c"}},
            "spec": {"taints": [{"key": "dedicated", "value": "x", "effect": "NoSchedule"}]},
        }));
        let pods = [web("w1", "a1"), web("w2", "b1")];
        let mut incoming = spread(zone_constraint(json!({})));
        assert_eq!(
            verdicts(&nodes, &pods, &incoming)[0],
            Some(reasons::SPREAD_CONSTRAINTS.to_string())
        );
        spec_policy(&mut incoming, "nodeTaintsPolicy", "Honor");
        assert_eq!(verdicts(&nodes, &pods, &incoming)[0], None);
    }

    #[test]
    fn match_label_keys_narrow_the_selector_to_the_pods_revision() {
        let pods = [web("w1", "a1"), web("w2", "a1")];
        let incoming = spread(zone_constraint(json!({"matchLabelKeys": ["rev"]})));
        assert_eq!(
            verdicts(&three_zones(), &pods, &incoming),
            [None, None, None]
        );
    }

    #[test]
    fn terminating_pods_and_other_namespaces_do_not_count() {
        let mut terminating = web("w1", "a1");
        terminating.metadata.deletion_timestamp =
            Some(serde_json::from_value(json!("2026-01-01T00:00:00Z")).unwrap());
        let mut elsewhere = web("w2", "a1");
        elsewhere.metadata.namespace = Some("other".into());
        let got = verdicts(
            &three_zones(),
            &[terminating, elsewhere],
            &spread(zone_constraint(json!({}))),
        );
        assert_eq!(got, [None, None, None]);
    }

    #[test]
    fn schedule_anyway_constraints_are_not_filters() {
        let pods = [web("w1", "a1"), web("w2", "a1")];
        let incoming = spread(zone_constraint(
            json!({"whenUnsatisfiable": "ScheduleAnyway"}),
        ));
        assert_eq!(
            verdicts(&three_zones(), &pods, &incoming),
            [None, None, None]
        );
    }
}
