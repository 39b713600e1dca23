//! `metav1.LabelSelector` (matchLabels + matchExpressions) compiled once and matched like
//! apimachinery, able to say which requirement a set of labels fails (for explanations).

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// Object labels as k8s-openapi stores them.
pub type Labels = BTreeMap<String, String>;

static NO_LABELS: Labels = BTreeMap::new();

/// The labels of an object, or an empty map.
pub fn labels_or_empty(labels: Option<&Labels>) -> &Labels {
    labels.unwrap_or(&NO_LABELS)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

impl Requirement {
    fn matches(&self, labels: &Labels) -> bool {
        match self {
            Requirement::In(key, values) => labels.get(key).is_some_and(|v| values.contains(v)),
            Requirement::NotIn(key, values) => labels.get(key).is_none_or(|v| !values.contains(v)),
            Requirement::Exists(key) => labels.contains_key(key),
            Requirement::DoesNotExist(key) => !labels.contains_key(key),
        }
    }
}

impl fmt::Display for Requirement {
    /// kubectl's selector syntax: `app=web`, `tier in (a,b)`, `gpu`, `!gpu`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Requirement::In(key, values) if values.len() == 1 => write!(f, "{key}={}", values[0]),
            Requirement::In(key, values) => write!(f, "{key} in ({})", values.join(",")),
            Requirement::NotIn(key, values) if values.len() == 1 => {
                write!(f, "{key}!={}", values[0])
            }
            Requirement::NotIn(key, values) => write!(f, "{key} notin ({})", values.join(",")),
            Requirement::Exists(key) => write!(f, "{key}"),
            Requirement::DoesNotExist(key) => write!(f, "!{key}"),
        }
    }
}

/// A compiled label selector: every requirement must hold; empty matches everything. A selector
/// the API would reject matches nothing and keeps the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledSelector {
    requirements: Vec<Requirement>,
    invalid: Option<String>,
}

impl CompiledSelector {
    pub fn new(selector: &LabelSelector) -> CompiledSelector {
        let mut requirements: Vec<Requirement> = selector
            .match_labels
            .iter()
            .flatten()
            .map(|(k, v)| Requirement::In(k.clone(), vec![v.clone()]))
            .collect();
        for expression in selector.match_expressions.iter().flatten() {
            let key = expression.key.clone();
            let values = expression.values.clone().unwrap_or_default();
            let requirement = match (expression.operator.as_str(), values.is_empty()) {
                ("In", false) => Requirement::In(key, values),
                ("NotIn", false) => Requirement::NotIn(key, values),
                ("Exists", true) => Requirement::Exists(key),
                ("DoesNotExist", true) => Requirement::DoesNotExist(key),
                (operator, _) => {
                    return CompiledSelector {
                        requirements: Vec::new(),
                        invalid: Some(format!(
                            "{key}: operator {operator:?} with values {values:?}"
                        )),
                    };
                }
            };
            requirements.push(requirement);
        }
        CompiledSelector {
            requirements,
            invalid: None,
        }
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        self.invalid.is_none() && self.requirements.iter().all(|r| r.matches(labels))
    }

    /// Whether it matches every object (an empty selector).
    pub fn is_everything(&self) -> bool {
        self.invalid.is_none() && self.requirements.is_empty()
    }

    /// The requirements `labels` fail, in kubectl syntax; the reason for an invalid selector.
    pub fn failed_by(&self, labels: &Labels) -> Vec<String> {
        if let Some(reason) = &self.invalid {
            return vec![format!("invalid selector ({reason})")];
        }
        self.requirements
            .iter()
            .filter(|r| !r.matches(labels))
            .map(ToString::to_string)
            .collect()
    }
}

impl fmt::Display for CompiledSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.invalid.is_some() {
            return write!(f, "<invalid>");
        }
        if self.requirements.is_empty() {
            return write!(f, "<all>");
        }
        let parts: Vec<String> = self.requirements.iter().map(ToString::to_string).collect();
        write!(f, "{}", parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn compiled(value: serde_json::Value) -> CompiledSelector {
        CompiledSelector::new(&serde_json::from_value(value).unwrap())
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_operator_and_the_failed_requirements() {
        let sel = compiled(json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["fe", "be"]},
                {"key": "env", "operator": "NotIn", "values": ["dev"]},
                {"key": "team", "operator": "Exists"},
                {"key": "legacy", "operator": "DoesNotExist"}
            ]
        }));
        let good = labels(&[("app", "web"), ("tier", "fe"), ("team", "a")]);
        assert!(sel.matches(&good));
        let bad = labels(&[
            ("app", "web"),
            ("tier", "db"),
            ("env", "dev"),
            ("legacy", "1"),
        ]);
        assert_eq!(
            sel.failed_by(&bad),
            vec!["tier in (fe,be)", "env!=dev", "team", "!legacy"]
        );
        assert_eq!(
            sel.to_string(),
            "app=web,tier in (fe,be),env!=dev,team,!legacy"
        );
    }

    #[test]
    fn empty_matches_everything_and_invalid_nothing() {
        assert!(compiled(json!({})).is_everything());
        assert!(compiled(json!({})).matches(&labels(&[])));
        let invalid = compiled(
            json!({"matchExpressions": [{"key": "k", "operator": "Gt", "values": ["1"]}]}),
        );
        assert!(!invalid.matches(&labels(&[("k", "2")])));
        assert_eq!(invalid.to_string(), "<invalid>");
        assert!(labels_or_empty(None).is_empty());
    }
}
