//! A compiled pod (anti-)affinity term: which pods it selects, in which namespaces, over which
//! topology key (`fwk.AffinityTerm` in the scheduler).

use k8s_openapi::api::core::v1::{Affinity, PodAffinityTerm};

use super::labels::{Labels, Selector};

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AffinityTerm {
    /// `namespaces`, or the owning pod's namespace when neither it nor a selector is given.
    pub namespaces: Vec<String>,
    /// `namespaceSelector`: missing matches nothing, `{}` matches every namespace.
    pub namespace_selector: Selector,
    pub selector: Selector,
    pub topology_key: String,
}

impl AffinityTerm {
    /// Compiles `term` of a pod in `owner_namespace`.
    pub fn compile(owner_namespace: &str, term: &PodAffinityTerm) -> Result<AffinityTerm, String> {
        let explicit = term.namespaces.clone().unwrap_or_default();
        let namespaces = if explicit.is_empty() && term.namespace_selector.is_none() {
            vec![owner_namespace.to_string()]
        } else {
            explicit
        };
        Ok(AffinityTerm {
            namespaces,
            namespace_selector: Selector::from_label_selector(term.namespace_selector.as_ref())?,
            selector: Selector::from_label_selector(term.label_selector.as_ref())?,
            topology_key: term.topology_key.clone(),
        })
    }

    /// Whether a pod in `namespace` with `labels` is selected by this term; `namespace_labels`
    /// is only asked for when the namespace list alone does not decide.
    pub fn matches<'l>(
        &self,
        namespace: &str,
        labels: &Labels,
        namespace_labels: impl FnOnce() -> &'l Labels,
    ) -> bool {
        self.selector.matches(labels)
            && (self.namespaces.iter().any(|n| n == namespace)
                || (!self.namespace_selector.matches_nothing()
                    && self.namespace_selector.matches(namespace_labels())))
    }

    /// Whether the term may select pods outside its explicit namespace list.
    pub fn selects_namespaces_by_label(&self) -> bool {
        !self.namespace_selector.matches_nothing()
    }

    /// `app=web in namespaces [shop]`, for explanations.
    pub fn describe(&self) -> String {
        let mut scope = Vec::new();
        if !self.namespaces.is_empty() {
            scope.push(format!("namespaces [{}]", self.namespaces.join(", ")));
        }
        if self.selects_namespaces_by_label() {
            scope.push(format!(
                "namespaces selected by {}",
                self.namespace_selector
            ));
        }
        format!("pods matching {} in {}", self.selector, scope.join(" or "))
    }
}

/// The required pod affinity terms of `affinity`.
pub(crate) fn required_affinity_terms(affinity: Option<&Affinity>) -> &[PodAffinityTerm] {
    affinity
        .and_then(|a| a.pod_affinity.as_ref())
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_deref()
        })
        .unwrap_or_default()
}

/// The required pod anti-affinity terms of `affinity`.
pub(crate) fn required_anti_affinity_terms(affinity: Option<&Affinity>) -> &[PodAffinityTerm] {
    affinity
        .and_then(|a| a.pod_anti_affinity.as_ref())
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_deref()
        })
        .unwrap_or_default()
}

/// Compiles terms, failing on the first invalid selector.
pub(crate) fn compile_all(
    owner_namespace: &str,
    terms: &[PodAffinityTerm],
) -> Result<Vec<AffinityTerm>, String> {
    terms
        .iter()
        .map(|term| AffinityTerm::compile(owner_namespace, term))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    static NO_LABELS: Labels = Labels::new();

    fn term(value: serde_json::Value) -> AffinityTerm {
        AffinityTerm::compile("shop", &serde_json::from_value(value).unwrap()).unwrap()
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn selects(t: &AffinityTerm, namespace: &str, pod: &Labels, namespace_labels: &Labels) -> bool {
        t.matches(namespace, pod, || namespace_labels)
    }

    #[test]
    fn defaults_to_the_owners_namespace() {
        let t =
            term(json!({"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "zone"}));
        let db = labels(&[("app", "db")]);
        assert!(selects(&t, "shop", &db, &NO_LABELS));
        assert!(!selects(&t, "other", &db, &NO_LABELS));
    }

    #[test]
    fn explicit_namespaces_replace_the_default() {
        let t = term(json!({"labelSelector": {}, "namespaces": ["a", "b"], "topologyKey": "zone"}));
        assert!(selects(&t, "b", &NO_LABELS, &NO_LABELS));
        assert!(!selects(&t, "shop", &NO_LABELS, &NO_LABELS));
    }

    #[test]
    fn namespace_selector_is_ored_with_the_list() {
        let t = term(json!({
            "labelSelector": {"matchLabels": {"app": "db"}},
            "namespaces": ["a"],
            "namespaceSelector": {"matchLabels": {"team": "data"}},
            "topologyKey": "zone",
        }));
        let db = labels(&[("app", "db")]);
        assert!(selects(&t, "a", &db, &NO_LABELS));
        assert!(selects(&t, "x", &db, &labels(&[("team", "data")])));
        assert!(!selects(&t, "x", &db, &labels(&[("team", "web")])));
        assert!(t.describe().contains("namespaces selected by team=data"));
    }

    #[test]
    fn empty_namespace_selector_means_every_namespace() {
        let t = term(json!({
            "labelSelector": {"matchLabels": {"app": "db"}},
            "namespaceSelector": {},
            "topologyKey": "zone",
        }));
        assert!(selects(
            &t,
            "anything",
            &labels(&[("app", "db")]),
            &NO_LABELS
        ));
        assert!(t.namespaces.is_empty());
    }

    #[test]
    fn missing_label_selector_selects_no_pod() {
        let t = term(json!({"topologyKey": "zone"}));
        assert!(!selects(&t, "shop", &NO_LABELS, &NO_LABELS));
    }
}
