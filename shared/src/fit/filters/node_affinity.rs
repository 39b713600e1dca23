//! NodeAffinity: `spec.nodeSelector` and the required node affinity terms
//! (`nodeaffinity/node_affinity.go`, `component-helpers/scheduling/corev1/nodeaffinity`).
//!
//! Its PreFilter narrows the candidate nodes when every term names nodes with
//! `matchFields: metadata.name In`, and rejects the pod when those names cannot all be met.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{NodeSelector, NodeSelectorTerm, Pod};

use super::rejection::{Code, Detail, Plugin, PreFilterRejection, Rejection, TermMismatch};
use crate::fit::index::NodeEntry;
use crate::fit::labels::{Labels, Operator, Requirement};
use crate::fit::reasons;

const NAME_FIELD: &str = "metadata.name";

/// Compiled `nodeSelectorTerms`: a node matches when any term matches.
#[derive(Clone, Debug)]
pub(crate) struct CompiledTerms {
    terms: Vec<Result<Vec<TermRequirement>, String>>,
}

#[derive(Clone, Debug)]
struct TermRequirement {
    on_name: bool,
    requirement: Requirement,
    /// How a failure names it: `zone=a`, `metadata.name = n1`.
    shown: String,
}

impl TermRequirement {
    fn new(on_name: bool, requirement: Requirement) -> TermRequirement {
        let shown = if on_name {
            format!("{NAME_FIELD} {}", describe_field(&requirement))
        } else {
            requirement.to_string()
        };
        TermRequirement {
            on_name,
            requirement,
            shown,
        }
    }
}

impl CompiledTerms {
    pub fn compile(selector: &NodeSelector) -> CompiledTerms {
        CompiledTerms {
            terms: selector
                .node_selector_terms
                .iter()
                .map(compile_term)
                .collect(),
        }
    }

    /// Whether any term matches (without building explanations).
    pub fn matches(&self, labels: &Labels, node_name: &str) -> bool {
        self.terms.iter().any(|term| {
            term.as_ref().is_ok_and(|requirements| {
                !requirements.is_empty()
                    && requirements.iter().all(|r| {
                        let value = if r.on_name {
                            Some(node_name)
                        } else {
                            labels.get(&r.requirement.key).map(String::as_str)
                        };
                        r.requirement.matches_value(value)
                    })
            })
        })
    }

    /// `None` when a term matches the node; otherwise, for every term, its first failure.
    pub fn mismatches(&self, labels: &Labels, node_name: &str) -> Option<Vec<TermMismatch>> {
        let mut failures = Vec::with_capacity(self.terms.len());
        for (index, term) in self.terms.iter().enumerate() {
            let failure = match term {
                Err(error) => Some((format!("invalid term: {error}"), None)),
                Ok(requirements) if requirements.is_empty() => {
                    Some(("an empty term, which matches no node".to_string(), None))
                }
                Ok(requirements) => requirements.iter().find_map(|r| {
                    let value = if r.on_name {
                        Some(node_name)
                    } else {
                        labels.get(&r.requirement.key).map(String::as_str)
                    };
                    (!r.requirement.matches_value(value))
                        .then(|| (r.shown.clone(), value.map(str::to_string)))
                }),
            };
            match failure {
                None => return None,
                Some((requirement, node_value)) => failures.push(TermMismatch {
                    term: index + 1,
                    requirement,
                    node_value,
                }),
            }
        }
        Some(failures)
    }
}

fn compile_term(term: &NodeSelectorTerm) -> Result<Vec<TermRequirement>, String> {
    let mut compiled = Vec::new();
    for expression in term.match_expressions.iter().flatten() {
        compiled.push(TermRequirement::new(
            false,
            Requirement::from_node_selector(expression)?,
        ));
    }
    for field in term.match_fields.iter().flatten() {
        let values = field.values.clone().unwrap_or_default();
        let supported = field.key == NAME_FIELD
            && matches!(field.operator.as_str(), "In" | "NotIn")
            && values.len() == 1;
        if !supported {
            return Err(format!(
                "unsupported field selector {} {} {values:?}",
                field.key, field.operator
            ));
        }
        compiled.push(TermRequirement::new(
            true,
            Requirement::new(&field.key, &field.operator, values)?,
        ));
    }
    Ok(compiled)
}

fn describe_field(requirement: &Requirement) -> String {
    let operator = if requirement.operator == Operator::In {
        "="
    } else {
        "!="
    };
    format!("{operator} {}", requirement.values.join(","))
}

/// The pod's node selector and required node affinity, compiled once.
#[derive(Clone, Debug)]
pub(crate) struct Prepared {
    node_selector: Vec<(String, String)>,
    terms: Option<CompiledTerms>,
    /// The PreFilter result: the only node names the scheduler will filter.
    pub narrowed_to: Option<BTreeSet<String>>,
    pub prefilter: Option<PreFilterRejection>,
}

impl Prepared {
    pub fn new(pod: &Pod) -> Prepared {
        let spec = pod.spec.as_ref();
        let node_selector = spec
            .and_then(|s| s.node_selector.as_ref())
            .map(|s| s.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let required = spec
            .and_then(|s| s.affinity.as_ref())
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|a| {
                a.required_during_scheduling_ignored_during_execution
                    .as_ref()
            });
        let narrowed_to = required.and_then(|r| node_names_of_terms(&r.node_selector_terms));
        let prefilter = narrowed_to
            .as_ref()
            .filter(|names| names.is_empty())
            .map(|_| PreFilterRejection {
                plugin: Plugin::NodeAffinity,
                message: reasons::NODE_AFFINITY_CONFLICT.to_string(),
                explanation: "Every required node affinity term pins the pod to nodes by name \
                          (matchFields metadata.name), and within each term those names contradict \
                          each other, so no node can match."
                    .to_string(),
                fix: "Fix the matchFields of the pod's required node affinity so a term names an \
                  existing node."
                    .to_string(),
            });
        Prepared {
            node_selector,
            terms: required.map(CompiledTerms::compile),
            narrowed_to,
            prefilter,
        }
    }

    /// Whether the node satisfies the pod's node selector and required node affinity.
    pub fn matches(&self, node: &NodeEntry) -> bool {
        self.node_selector
            .iter()
            .all(|(key, wanted)| node.labels.get(key) == Some(wanted))
            && self
                .terms
                .as_ref()
                .is_none_or(|terms| terms.matches(node.labels, node.name))
    }

    pub fn check(&self, node: &NodeEntry) -> Option<Rejection> {
        if self.matches(node) {
            return None;
        }
        let rejection = |detail| {
            Rejection::new(
                Plugin::NodeAffinity,
                Code::UnschedulableAndUnresolvable,
                reasons::NODE_AFFINITY,
                detail,
            )
        };
        for (key, wanted) in &self.node_selector {
            let actual = node.labels.get(key);
            if actual == Some(wanted) {
                continue;
            }
            let has = match actual {
                Some(value) => format!("has {key}={value}"),
                None => format!("has no {key} label"),
            };
            return Some(
                rejection(Detail::NodeSelectorMismatch {
                    key: key.clone(),
                    wanted: wanted.clone(),
                    node_value: actual.cloned(),
                })
                .explained(format!(
                    "The pod's nodeSelector requires {key}={wanted}; node {} {has}.",
                    node.name
                ))
                .with_evidence(format!("nodeSelector {key}={wanted}; node {has}"))
                .with_fix(format!(
                    "Label a suitable node (`kubectl label node {} {key}={wanted}`) or change the \
                     pod's nodeSelector.",
                    node.name
                )),
            );
        }
        let failures = self.terms.as_ref()?.mismatches(node.labels, node.name)?;
        let evidence: Vec<String> = failures.iter().map(describe_mismatch).collect();
        let first = evidence.first().map_or(
            "the pod's required node affinity has no terms",
            String::as_str,
        );
        let explanation = format!(
            "Node {} matches none of the pod's {} required node affinity term(s); {first}.",
            node.name,
            failures.len()
        );
        let mut rejected = rejection(Detail::NodeAffinityMismatch {
            failed_terms: failures,
        })
        .explained(explanation)
        .with_fix(
            "Relax spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution, \
                 or label a node so one term matches.",
        );
        rejected.evidence = evidence;
        Some(rejected)
    }
}

fn describe_mismatch(failure: &TermMismatch) -> String {
    let has = match &failure.node_value {
        Some(value) => format!("the node has {value}"),
        None => "the node has no such label".to_string(),
    };
    format!(
        "term {} needs {} but {has}",
        failure.term, failure.requirement
    )
}

/// The PreFilter's node-name set: `None` unless every term has a `metadata.name In` field.
fn node_names_of_terms(terms: &[NodeSelectorTerm]) -> Option<BTreeSet<String>> {
    if terms.is_empty() {
        return None;
    }
    let mut union = BTreeSet::new();
    for term in terms {
        let mut in_term: Option<BTreeSet<String>> = None;
        let name_fields = term
            .match_fields
            .iter()
            .flatten()
            .filter(|f| f.key == NAME_FIELD && f.operator == "In");
        for field in name_fields {
            let names: BTreeSet<String> = field.values.iter().flatten().cloned().collect();
            in_term = Some(match in_term {
                None => names,
                Some(previous) => previous.intersection(&names).cloned().collect(),
            });
        }
        union.extend(in_term?);
    }
    Some(union)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::index::Snapshot;
    use crate::fit::testing::{node, pod_with_spec};
    use serde_json::json;

    fn prepared(spec: serde_json::Value) -> Prepared {
        Prepared::new(&pod_with_spec(spec))
    }

    fn required(terms: serde_json::Value) -> serde_json::Value {
        json!({"containers": [], "affinity": {"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}
        }}})
    }

    fn check(p: &Prepared, name: &str, labels: serde_json::Value) -> Option<Rejection> {
        let nodes = [node(name, labels)];
        let snapshot = Snapshot::new(&nodes, &[]);
        p.check(&snapshot.nodes[0])
    }

    #[test]
    fn node_selector_names_the_mismatching_label() {
        let p = prepared(json!({"containers": [], "nodeSelector": {"disktype": "ssd"}}));
        let rejection = check(&p, "n1", json!({"disktype": "hdd"})).unwrap();
        assert_eq!(rejection.reason, reasons::NODE_AFFINITY);
        assert_eq!(rejection.code, Code::UnschedulableAndUnresolvable);
        assert!(rejection.explanation.contains("has disktype=hdd"));
        assert!(check(&p, "n2", json!({"disktype": "ssd"})).is_none());
        let missing = check(&p, "n3", json!({})).unwrap();
        assert!(missing.explanation.contains("has no disktype label"));
    }

    #[test]
    fn terms_are_ored_and_requirements_anded() {
        let p = prepared(required(json!([
            {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]},
                                  {"key": "gpu", "operator": "Exists"}]},
            {"matchExpressions": [{"key": "cores", "operator": "Gt", "values": ["16"]}]},
        ])));
        let rejection = check(&p, "n1", json!({"zone": "a", "cores": "8"})).unwrap();
        let Detail::NodeAffinityMismatch { failed_terms } = &rejection.detail else {
            panic!()
        };
        assert_eq!(failed_terms[0].requirement, "gpu");
        assert_eq!(failed_terms[1].requirement, "cores>16");
        assert_eq!(failed_terms[1].node_value.as_deref(), Some("8"));
        assert!(rejection.explanation.contains("term 1 needs gpu"));
        assert!(check(&p, "n2", json!({"cores": "32"})).is_none());
        assert!(check(&p, "n3", json!({"zone": "a", "gpu": "true"})).is_none());
    }

    #[test]
    fn every_operator_in_terms() {
        let cases = [
            (
                json!({"key": "zone", "operator": "In", "values": ["a", "b"]}),
                true,
            ),
            (
                json!({"key": "zone", "operator": "NotIn", "values": ["b"]}),
                true,
            ),
            (
                json!({"key": "zone", "operator": "NotIn", "values": ["a"]}),
                false,
            ),
            (json!({"key": "zone", "operator": "Exists"}), true),
            (json!({"key": "zone", "operator": "DoesNotExist"}), false),
            (json!({"key": "spot", "operator": "DoesNotExist"}), true),
            (
                json!({"key": "cores", "operator": "Gt", "values": ["7"]}),
                true,
            ),
            (
                json!({"key": "cores", "operator": "Lt", "values": ["4"]}),
                false,
            ),
            (
                json!({"key": "cores", "operator": "Lt", "values": ["9"]}),
                true,
            ),
        ];
        for (expression, fits) in cases {
            let p = prepared(required(
                json!([{"matchExpressions": [expression.clone()]}]),
            ));
            let verdict = check(&p, "n1", json!({"zone": "a", "cores": "8"}));
            assert_eq!(verdict.is_none(), fits, "{expression}");
        }
    }

    #[test]
    fn empty_and_invalid_terms_match_nothing() {
        let empty = prepared(required(json!([{}])));
        assert!(check(&empty, "n1", json!({"zone": "a"})).is_some());
        let invalid = prepared(required(json!([
            {"matchExpressions": [{"key": "zone", "operator": "In", "values": []}]}
        ])));
        let rejection = check(&invalid, "n1", json!({"zone": "a"})).unwrap();
        assert!(rejection.evidence[0].contains("invalid term"));
    }

    #[test]
    fn match_fields_pin_node_names_and_narrow_the_prefilter() {
        let p = prepared(required(json!([
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n2"]}]},
        ])));
        assert_eq!(p.narrowed_to, Some(BTreeSet::from(["n2".to_string()])));
        assert!(p.prefilter.is_none());
        let rejection = check(&p, "n1", json!({})).unwrap();
        let Detail::NodeAffinityMismatch { failed_terms } = &rejection.detail else {
            panic!()
        };
        assert_eq!(failed_terms[0].requirement, "metadata.name = n2");
        assert!(check(&p, "n2", json!({})).is_none());
    }

    #[test]
    fn a_term_without_name_fields_disables_narrowing() {
        let p = prepared(required(json!([
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n2"]}]},
            {"matchExpressions": [{"key": "zone", "operator": "Exists"}]},
        ])));
        assert_eq!(p.narrowed_to, None);
    }

    #[test]
    fn conflicting_name_fields_reject_in_prefilter() {
        let p = prepared(required(json!([{"matchFields": [
            {"key": "metadata.name", "operator": "In", "values": ["n1"]},
            {"key": "metadata.name", "operator": "In", "values": ["n2"]},
        ]}])));
        assert_eq!(p.narrowed_to, Some(BTreeSet::new()));
        assert_eq!(
            p.prefilter.map(|r| r.message).as_deref(),
            Some("pod affinity terms conflict")
        );
    }
}
