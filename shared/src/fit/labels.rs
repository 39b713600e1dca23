//! Label selectors (`metav1.LabelSelector`) and node selector requirements, matched like
//! apimachinery's `labels.Selector`.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::core::v1::NodeSelectorRequirement;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// Object labels as k8s-openapi stores them.
pub type Labels = BTreeMap<String, String>;

static NO_LABELS: Labels = BTreeMap::new();

/// The labels of an object, or an empty map.
pub fn labels_or_empty(labels: Option<&Labels>) -> &Labels {
    labels.unwrap_or(&NO_LABELS)
}

/// A comparison in a selector requirement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
    /// Node selectors only: the label parses as an integer greater than the value.
    Gt,
    /// Node selectors only: the label parses as an integer less than the value.
    Lt,
}

/// One `key <op> values` condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    pub values: Vec<String>,
}

impl Requirement {
    /// A validated requirement; errors as `LabelSelectorAsSelector` and
    /// `NodeSelectorRequirementAsSelector` reject them.
    pub fn new(key: &str, operator: &str, values: Vec<String>) -> Result<Requirement, String> {
        let operator = match operator {
            "In" => Operator::In,
            "NotIn" => Operator::NotIn,
            "Exists" => Operator::Exists,
            "DoesNotExist" => Operator::DoesNotExist,
            "Gt" => Operator::Gt,
            "Lt" => Operator::Lt,
            other => return Err(format!("{other:?} is not a valid selector operator")),
        };
        let count_ok = match operator {
            Operator::In | Operator::NotIn => !values.is_empty(),
            Operator::Exists | Operator::DoesNotExist => values.is_empty(),
            Operator::Gt | Operator::Lt => values.len() == 1 && values[0].parse::<i64>().is_ok(),
        };
        if !count_ok {
            return Err(format!(
                "{key}: invalid values {values:?} for operator {operator:?}"
            ));
        }
        Ok(Requirement {
            key: key.to_string(),
            operator,
            values,
        })
    }

    /// `key In (value)`.
    pub fn equals(key: &str, value: &str) -> Requirement {
        Requirement {
            key: key.to_string(),
            operator: Operator::In,
            values: vec![value.to_string()],
        }
    }

    /// From a node selector `matchExpressions` entry.
    pub fn from_node_selector(
        requirement: &NodeSelectorRequirement,
    ) -> Result<Requirement, String> {
        let values = requirement.values.clone().unwrap_or_default();
        Requirement::new(&requirement.key, &requirement.operator, values)
    }

    /// Whether a label value (absent: `None`) satisfies the requirement.
    pub fn matches_value(&self, value: Option<&str>) -> bool {
        let as_integer = || value.and_then(|v| v.parse::<i64>().ok());
        let bound = || self.values.first().and_then(|v| v.parse::<i64>().ok());
        match self.operator {
            Operator::In => value.is_some_and(|v| self.values.iter().any(|w| w == v)),
            Operator::NotIn => value.is_none_or(|v| self.values.iter().all(|w| w != v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
            Operator::Gt => matches!((as_integer(), bound()), (Some(v), Some(b)) if v > b),
            Operator::Lt => matches!((as_integer(), bound()), (Some(v), Some(b)) if v < b),
        }
    }

    /// Whether `labels` satisfy the requirement.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.matches_value(labels.get(&self.key).map(String::as_str))
    }
}

impl fmt::Display for Requirement {
    /// kubectl's selector syntax: `app=web`, `tier in (a,b)`, `!gpu`, `cores>4`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = &self.key;
        let values = self.values.join(",");
        match (self.operator, self.values.len()) {
            (Operator::In, 1) => write!(f, "{key}={values}"),
            (Operator::In, _) => write!(f, "{key} in ({values})"),
            (Operator::NotIn, 1) => write!(f, "{key}!={values}"),
            (Operator::NotIn, _) => write!(f, "{key} notin ({values})"),
            (Operator::Exists, _) => write!(f, "{key}"),
            (Operator::DoesNotExist, _) => write!(f, "!{key}"),
            (Operator::Gt, _) => write!(f, "{key}>{values}"),
            (Operator::Lt, _) => write!(f, "{key}<{values}"),
        }
    }
}

/// A compiled label selector: every requirement must hold. A missing selector matches nothing,
/// an empty one everything, as in apimachinery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    requirements: Vec<Requirement>,
    matches_nothing: bool,
}

impl Selector {
    /// The selector that matches no object (a missing `labelSelector`).
    pub fn nothing() -> Selector {
        Selector {
            requirements: Vec::new(),
            matches_nothing: true,
        }
    }

    /// Compiles `matchLabels` and `matchExpressions` (In, NotIn, Exists, DoesNotExist).
    pub fn from_label_selector(selector: Option<&LabelSelector>) -> Result<Selector, String> {
        let Some(selector) = selector else {
            return Ok(Selector::nothing());
        };
        let mut requirements: Vec<Requirement> = selector
            .match_labels
            .iter()
            .flatten()
            .map(|(key, value)| Requirement::equals(key, value))
            .collect();
        for expression in selector.match_expressions.iter().flatten() {
            if matches!(expression.operator.as_str(), "Gt" | "Lt") {
                return Err(format!(
                    "{:?} is not a valid label selector operator",
                    expression.operator
                ));
            }
            let values = expression.values.clone().unwrap_or_default();
            requirements.push(Requirement::new(
                &expression.key,
                &expression.operator,
                values,
            )?);
        }
        Ok(Selector {
            requirements,
            matches_nothing: false,
        })
    }

    /// Adds `key In (value)`; a selector that matches nothing stays so (`matchLabelKeys`).
    pub fn and_equals(mut self, key: &str, value: &str) -> Selector {
        if !self.matches_nothing {
            self.requirements.push(Requirement::equals(key, value));
        }
        self
    }

    /// Whether `labels` satisfy every requirement.
    pub fn matches(&self, labels: &Labels) -> bool {
        !self.matches_nothing && self.requirements.iter().all(|r| r.matches(labels))
    }

    /// Whether this selector matches no object at all.
    pub fn matches_nothing(&self) -> bool {
        self.matches_nothing
    }

    /// Whether this selector matches every object.
    pub fn is_everything(&self) -> bool {
        !self.matches_nothing && self.requirements.is_empty()
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.matches_nothing {
            return write!(f, "<none>");
        }
        if self.requirements.is_empty() {
            return write!(f, "<everything>");
        }
        let parts: Vec<String> = self.requirements.iter().map(ToString::to_string).collect();
        write!(f, "{}", parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn selector(value: serde_json::Value) -> Result<Selector, String> {
        let parsed: LabelSelector = serde_json::from_value(value).unwrap();
        Selector::from_label_selector(Some(&parsed))
    }

    fn requirement(key: &str, op: &str, values: &[&str]) -> Requirement {
        Requirement::new(key, op, values.iter().map(|v| v.to_string()).collect()).unwrap()
    }

    #[test]
    fn every_operator() {
        let node = labels(&[("zone", "a"), ("cores", "8")]);
        assert!(requirement("zone", "In", &["a", "b"]).matches(&node));
        assert!(!requirement("zone", "In", &["b"]).matches(&node));
        assert!(requirement("zone", "NotIn", &["b"]).matches(&node));
        assert!(requirement("absent", "NotIn", &["b"]).matches(&node));
        assert!(!requirement("zone", "NotIn", &["a"]).matches(&node));
        assert!(requirement("zone", "Exists", &[]).matches(&node));
        assert!(!requirement("absent", "Exists", &[]).matches(&node));
        assert!(requirement("absent", "DoesNotExist", &[]).matches(&node));
        assert!(!requirement("zone", "DoesNotExist", &[]).matches(&node));
        assert!(requirement("cores", "Gt", &["4"]).matches(&node));
        assert!(!requirement("cores", "Gt", &["8"]).matches(&node));
        assert!(requirement("cores", "Lt", &["16"]).matches(&node));
        assert!(!requirement("cores", "Lt", &["8"]).matches(&node));
        assert!(
            !requirement("zone", "Gt", &["1"]).matches(&node),
            "non-integer label"
        );
        assert!(!requirement("absent", "Lt", &["1"]).matches(&node));
    }

    #[test]
    fn invalid_requirements_are_rejected() {
        assert!(Requirement::new("k", "In", vec![]).is_err());
        assert!(Requirement::new("k", "Exists", vec!["v".into()]).is_err());
        assert!(Requirement::new("k", "Gt", vec!["x".into()]).is_err());
        assert!(Requirement::new("k", "Gt", vec!["1".into(), "2".into()]).is_err());
        assert!(Requirement::new("k", "Like", vec!["v".into()]).is_err());
    }

    #[test]
    fn missing_selector_matches_nothing_and_empty_matches_everything() {
        let pod = labels(&[("app", "web")]);
        assert!(!Selector::from_label_selector(None).unwrap().matches(&pod));
        assert!(selector(json!({})).unwrap().matches(&pod));
        assert!(selector(json!({})).unwrap().is_everything());
    }

    #[test]
    fn match_labels_and_expressions_are_anded() {
        let sel = selector(json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe", "be"]}],
        }))
        .unwrap();
        assert!(sel.matches(&labels(&[("app", "web"), ("tier", "fe")])));
        assert!(!sel.matches(&labels(&[("app", "web")])));
        assert_eq!(sel.to_string(), "app=web,tier in (fe,be)");
    }

    #[test]
    fn label_selectors_reject_numeric_operators() {
        assert!(
            selector(
                json!({"matchExpressions": [{"key": "k", "operator": "Gt", "values": ["1"]}]})
            )
            .is_err()
        );
    }

    #[test]
    fn and_equals_keeps_nothing_as_nothing() {
        let pod = labels(&[("app", "web"), ("rev", "2")]);
        let everything = || selector(json!({})).unwrap();
        assert!(everything().and_equals("rev", "2").matches(&pod));
        assert!(!everything().and_equals("rev", "3").matches(&pod));
        assert!(!Selector::nothing().and_equals("rev", "2").matches(&pod));
    }

    #[test]
    fn displays_kubectl_syntax() {
        assert_eq!(requirement("gpu", "DoesNotExist", &[]).to_string(), "!gpu");
        assert_eq!(requirement("gpu", "Exists", &[]).to_string(), "gpu");
        assert_eq!(requirement("zone", "NotIn", &["a"]).to_string(), "zone!=a");
        assert_eq!(requirement("cores", "Gt", &["4"]).to_string(), "cores>4");
        assert_eq!(Selector::nothing().to_string(), "<none>");
    }
}
