//! InterPodAffinity: the pod's required affinity and anti-affinity, and the required
//! anti-affinity of pods already running (`interpodaffinity/filtering.go`).
//!
//! Matching pods are kept per topology pair (`key=value`), so a rejection can name the
//! conflicting pods. A pod whose affinity matches no pod anywhere but matches its own terms may
//! go to any node carrying the topology keys (the "first pod of a series" rule).

use std::collections::{HashMap, HashSet};

use super::PodContext;
use super::rejection::{Code, Detail, Plugin, PreFilterRejection, Rejection};
use crate::fit::affinity_term::{
    AffinityTerm, compile_all, required_affinity_terms, required_anti_affinity_terms,
};
use crate::fit::index::{NodeEntry, PodEntry, PodId, Snapshot};
use crate::fit::reasons;

/// How many conflicting pods a rejection names.
const NAMED_PODS: usize = 10;

/// A topology pair `(key, value)`, borrowed from node labels.
type Pair<'a> = (&'a str, &'a str);

/// The pods behind a topology pair: how many, and the first few to name.
#[derive(Clone, Debug, Default)]
struct Matches {
    count: usize,
    first: Vec<PodId>,
}

impl Matches {
    fn add(&mut self, pods: &[PodId]) {
        self.count += pods.len();
        let room = NAMED_PODS.saturating_sub(self.first.len());
        self.first.extend(pods.iter().take(room));
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Prepared<'a> {
    affinity: Vec<AffinityTerm>,
    anti_affinity: Vec<AffinityTerm>,
    /// Pairs where a pod matching every affinity term runs.
    affinity_pairs: HashSet<Pair<'a>>,
    anti_affinity_pods: HashMap<Pair<'a>, Matches>,
    existing_anti_affinity_pods: HashMap<Pair<'a>, Matches>,
    matches_own_affinity: bool,
    pub prefilter: Option<PreFilterRejection>,
    /// Whether a term selects namespaces by label while namespace labels were not loaded.
    pub needs_namespaces: bool,
}

impl<'a> Prepared<'a> {
    pub fn new(ctx: &PodContext, snapshot: &Snapshot<'a>) -> Prepared<'a> {
        let affinity = ctx.pod.spec.as_ref().and_then(|s| s.affinity.as_ref());
        let compiled =
            compile_all(ctx.namespace, required_affinity_terms(affinity)).and_then(|a| {
                Ok((
                    a,
                    compile_all(ctx.namespace, required_anti_affinity_terms(affinity))?,
                ))
            });
        let (affinity, anti_affinity) = match compiled {
            Ok(terms) => terms,
            Err(error) => return Prepared::invalid(&error),
        };
        let own_namespace_labels = snapshot.namespace_labels(ctx.namespace);
        let matches_own =
            |t: &AffinityTerm| t.matches(ctx.namespace, ctx.labels, || own_namespace_labels);
        let mut prepared = Prepared {
            matches_own_affinity: !affinity.is_empty() && affinity.iter().all(matches_own),
            needs_namespaces: !snapshot.loaded.namespaces
                && affinity.iter().chain(&anti_affinity).any(|t| {
                    t.selects_namespaces_by_label() && !t.namespace_selector.is_everything()
                }),
            affinity_pairs: affinity_pairs(&affinity, snapshot),
            ..Prepared::default()
        };
        for term in &anti_affinity {
            let mut per_node: Vec<Vec<PodId>> = vec![Vec::new(); snapshot.nodes.len()];
            for pod in candidates(snapshot, term) {
                if term.matches(pod.namespace(), pod.labels(), || {
                    snapshot.namespace_labels(pod.namespace())
                }) {
                    per_node[pod.node].push(pod.id);
                }
            }
            for (node, pods) in snapshot
                .nodes
                .iter()
                .zip(&per_node)
                .filter(|(_, pods)| !pods.is_empty())
            {
                if let Some((key, value)) = node.labels.get_key_value(&term.topology_key) {
                    prepared
                        .anti_affinity_pods
                        .entry((key, value))
                        .or_default()
                        .add(pods);
                }
            }
        }
        for (pod, terms) in snapshot.pods_with_anti_affinity() {
            for term in terms.iter().filter(|t| matches_own(t)) {
                let labels = snapshot.nodes[pod.node].labels;
                if let Some((key, value)) = labels.get_key_value(&term.topology_key) {
                    prepared
                        .existing_anti_affinity_pods
                        .entry((key, value))
                        .or_default()
                        .add(&[pod.id]);
                }
            }
        }
        prepared.affinity = affinity;
        prepared.anti_affinity = anti_affinity;
        prepared
    }

    fn invalid(error: &str) -> Prepared<'a> {
        Prepared {
            prefilter: Some(PreFilterRejection {
                plugin: Plugin::InterPodAffinity,
                message: format!("parsing pod: {error}"),
                explanation: format!("A pod affinity term has an invalid selector: {error}."),
                fix: "Fix the labelSelector of the pod's (anti-)affinity terms.".to_string(),
            }),
            ..Prepared::default()
        }
    }

    pub fn check(&self, snapshot: &Snapshot, node: &NodeEntry) -> Option<Rejection> {
        self.check_affinity(node)
            .or_else(|| self.check_anti_affinity(snapshot, node))
            .or_else(|| self.check_existing(snapshot, node))
    }

    fn check_affinity(&self, node: &NodeEntry) -> Option<Rejection> {
        let mut unsatisfied = None;
        for term in &self.affinity {
            let Some(value) = node.labels.get(&term.topology_key) else {
                return Some(self.affinity_rejection(node, term, None));
            };
            let key = (term.topology_key.as_str(), value.as_str());
            if unsatisfied.is_none() && !self.affinity_pairs.contains(&key) {
                unsatisfied = Some((term, value));
            }
        }
        let (term, value) = unsatisfied?;
        if self.affinity_pairs.is_empty() && self.matches_own_affinity {
            return None;
        }
        Some(self.affinity_rejection(node, term, Some(value)))
    }

    fn affinity_rejection(
        &self,
        node: &NodeEntry,
        term: &AffinityTerm,
        value: Option<&String>,
    ) -> Rejection {
        let key = &term.topology_key;
        let why = match value {
            None => format!("node {} has no {key} label", node.name),
            Some(value) => format!(
                "no such pod runs in {key}={value}, where node {} is",
                node.name
            ),
        };
        let domains = self.affinity_pairs.iter().filter(|(k, _)| k == key).count();
        Rejection::new(
            Plugin::InterPodAffinity,
            Code::UnschedulableAndUnresolvable,
            reasons::POD_AFFINITY,
            Detail::PodAffinityUnsatisfied {
                topology_key: key.clone(),
                node_value: value.cloned(),
                term: term.describe(),
            },
        )
        .explained(format!(
            "The pod must run in the same {key} as {}, but {why}.",
            term.describe()
        ))
        .with_evidence(match domains {
            0 => "no matching pod runs anywhere in the cluster".to_string(),
            n => format!("matching pods run in {n} other {key} domain(s)"),
        })
        .with_fix("Run the pods it must join first, or relax the required pod affinity.")
    }

    fn check_anti_affinity(&self, snapshot: &Snapshot, node: &NodeEntry) -> Option<Rejection> {
        self.anti_affinity.iter().find_map(|term| {
            let value = node.labels.get(&term.topology_key)?;
            let pods = self
                .anti_affinity_pods
                .get(&(term.topology_key.as_str(), value.as_str()))?;
            let (names, pod_count) = (named(snapshot, &pods.first), pods.count);
            let domain = format!("{}={value}", term.topology_key);
            Some(
                Rejection::new(
                    Plugin::InterPodAffinity,
                    Code::Unschedulable,
                    reasons::POD_ANTI_AFFINITY,
                    Detail::PodAntiAffinityConflict {
                        topology_key: term.topology_key.clone(),
                        domain: value.clone(),
                        pods: names.clone(),
                        pod_count,
                    },
                )
                .explained(format!(
                    "The pod must not share {} with {}, and {domain} (node {}) already runs {}.",
                    term.topology_key,
                    term.describe(),
                    node.name,
                    listed(&names, pod_count)
                ))
                .with_evidence(format!(
                    "conflicting pods in {domain}: {}",
                    listed(&names, pod_count)
                ))
                .with_fix(
                    "Add nodes in another topology domain, move the conflicting pods, or relax the \
                     required anti-affinity.",
                ),
            )
        })
    }

    fn check_existing(&self, snapshot: &Snapshot, node: &NodeEntry) -> Option<Rejection> {
        let ((key, value), pods) = self
            .existing_anti_affinity_pods
            .iter()
            .find(|((key, value), _)| node.labels.get(*key).is_some_and(|v| v == value))?;
        let (names, pod_count) = (named(snapshot, &pods.first), pods.count);
        Some(
            Rejection::new(
                Plugin::InterPodAffinity,
                Code::Unschedulable,
                reasons::EXISTING_ANTI_AFFINITY,
                Detail::ExistingPodsAntiAffinity {
                    topology_key: key.to_string(),
                    domain: value.to_string(),
                    pods: names.clone(),
                    pod_count,
                },
            )
            .explained(format!(
                "{} in {key}={value} (node {}) {} anti-affinity that excludes this pod.",
                listed(&names, pod_count),
                node.name,
                if pod_count == 1 { "has" } else { "have" }
            ))
            .with_evidence(format!(
                "pods whose anti-affinity selects this pod: {}",
                listed(&names, pod_count)
            ))
            .with_fix("Change the labels of this pod, or the anti-affinity of the running pods."),
        )
    }
}

/// The pods a term could select: its namespaces, or every pod when it selects by label.
fn candidates<'s, 'a>(
    snapshot: &'s Snapshot<'a>,
    term: &'s AffinityTerm,
) -> Box<dyn Iterator<Item = &'s PodEntry<'a>> + 's> {
    if term.selects_namespaces_by_label() {
        Box::new(snapshot.all_pods())
    } else {
        Box::new(
            term.namespaces
                .iter()
                .flat_map(|namespace| snapshot.pods_in_namespace(namespace)),
        )
    }
}

/// The pairs of the nodes running a pod that matches every affinity term; each node is done
/// once its first matching pod is found.
fn affinity_pairs<'a>(terms: &[AffinityTerm], snapshot: &Snapshot<'a>) -> HashSet<Pair<'a>> {
    let mut pairs = HashSet::new();
    let Some(first) = terms.first() else {
        return pairs;
    };
    let mut done = vec![false; snapshot.nodes.len()];
    for pod in candidates(snapshot, first) {
        let namespace_labels = || snapshot.namespace_labels(pod.namespace());
        if done[pod.node]
            || !terms
                .iter()
                .all(|t| t.matches(pod.namespace(), pod.labels(), namespace_labels))
        {
            continue;
        }
        done[pod.node] = true;
        let labels = snapshot.nodes[pod.node].labels;
        for term in terms {
            if let Some((key, value)) = labels.get_key_value(&term.topology_key) {
                pairs.insert((key.as_str(), value.as_str()));
            }
        }
    }
    pairs
}

/// `namespace/name` of the first pods.
fn named(snapshot: &Snapshot, pods: &[PodId]) -> Vec<String> {
    pods.iter()
        .take(NAMED_PODS)
        .map(|&id| snapshot.pods[id].key())
        .collect()
}

fn listed(names: &[String], total: usize) -> String {
    match total.saturating_sub(names.len()) {
        0 => names.join(", "),
        more => format!("{} and {more} more", names.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::testing::{node, pod_from, running};
    use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
    use serde_json::{Value, json};

    fn incoming(affinity: Value) -> Pod {
        pod_from(json!({
            "metadata": {"name": "new", "namespace": "default", "labels": {"app": "web"}},
            "spec": {"containers": [], "affinity": affinity},
        }))
    }

    fn term(selector: Value, key: &str) -> Value {
        json!({"labelSelector": {"matchLabels": selector}, "topologyKey": key})
    }

    fn nodes() -> Vec<Node> {
        vec![
            node("a1", json!({"zone": "a", "kubernetes.io/hostname": "a1"})),
            node("a2", json!({"zone": "a", "kubernetes.io/hostname": "a2"})),
            node("b1", json!({"zone": "b", "kubernetes.io/hostname": "b1"})),
            node("nozone", json!({"kubernetes.io/hostname": "nozone"})),
        ]
    }

    fn verdicts(pods: &[Pod], pod: &Pod, namespaces: &[Namespace]) -> Vec<Option<Rejection>> {
        let nodes = nodes();
        let snapshot = Snapshot::new(&nodes, pods).with_namespaces(namespaces);
        let ctx = PodContext::new(pod);
        let prepared = Prepared::new(&ctx, &snapshot);
        snapshot
            .nodes
            .iter()
            .map(|n| prepared.check(&snapshot, n))
            .collect()
    }

    fn reasons_of(verdicts: &[Option<Rejection>]) -> Vec<Option<&str>> {
        verdicts
            .iter()
            .map(|v| v.as_ref().map(|r| r.reason.as_str()))
            .collect()
    }

    #[test]
    fn affinity_requires_a_matching_pod_in_the_same_domain() {
        let pods = [running("cache", "a2", json!({"app": "cache"}), "0", "0")];
        let pod = incoming(
            json!({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term(json!({"app": "cache"}), "zone")]}}),
        );
        let got = verdicts(&pods, &pod, &[]);
        assert_eq!(
            reasons_of(&got),
            [
                None,
                None,
                Some(reasons::POD_AFFINITY),
                Some(reasons::POD_AFFINITY)
            ]
        );
        assert!(
            got[3]
                .as_ref()
                .unwrap()
                .explanation
                .contains("has no zone label")
        );
    }

    #[test]
    fn first_pod_of_a_self_affine_series_may_go_anywhere_with_the_key() {
        let pod = incoming(
            json!({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term(json!({"app": "web"}), "zone")]}}),
        );
        let got = verdicts(&[], &pod, &[]);
        assert_eq!(
            reasons_of(&got),
            [None, None, None, Some(reasons::POD_AFFINITY)]
        );
        let other = incoming(
            json!({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term(json!({"app": "db"}), "zone")]}}),
        );
        assert!(verdicts(&[], &other, &[]).iter().all(Option::is_some));
    }

    #[test]
    fn anti_affinity_names_the_conflicting_pods() {
        let pods = [running("web-1", "a1", json!({"app": "web"}), "0", "0")];
        let pod = incoming(
            json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term(json!({"app": "web"}), "zone")]}}),
        );
        let got = verdicts(&pods, &pod, &[]);
        assert_eq!(
            reasons_of(&got),
            [
                Some(reasons::POD_ANTI_AFFINITY),
                Some(reasons::POD_ANTI_AFFINITY),
                None,
                None
            ]
        );
        let Detail::PodAntiAffinityConflict { pods, .. } = &got[1].as_ref().unwrap().detail else {
            panic!()
        };
        assert_eq!(pods, &["default/web-1"]);
    }

    #[test]
    fn existing_pods_anti_affinity_against_the_incoming_pod() {
        let guard = pod_from(json!({
            "metadata": {"name": "loner", "namespace": "default", "labels": {"app": "loner"}},
            "spec": {"nodeName": "b1", "containers": [], "affinity": {"podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [term(json!({"app": "web"}), "kubernetes.io/hostname")]
            }}},
        }));
        let got = verdicts(&[guard], &incoming(Value::Null), &[]);
        assert_eq!(
            reasons_of(&got),
            [None, None, Some(reasons::EXISTING_ANTI_AFFINITY), None]
        );
        assert!(
            got[2]
                .as_ref()
                .unwrap()
                .explanation
                .contains("default/loner")
        );
    }

    #[test]
    fn namespace_selector_and_namespaces_scope_the_terms() {
        let mut other = running("db", "a1", json!({"app": "db"}), "0", "0");
        other.metadata.namespace = Some("data".into());
        let namespaces: Vec<Namespace> = vec![
            serde_json::from_value(
                json!({"metadata": {"name": "data", "labels": {"team": "data"}}}),
            )
            .unwrap(),
        ];
        let by_selector = incoming(
            json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
                "labelSelector": {"matchLabels": {"app": "db"}}, "namespaceSelector": {"matchLabels": {"team": "data"}}, "topologyKey": "zone"
            }]}}),
        );
        let got = verdicts(std::slice::from_ref(&other), &by_selector, &namespaces);
        assert_eq!(reasons_of(&got)[0], Some(reasons::POD_ANTI_AFFINITY));
        let same_namespace_only = incoming(
            json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term(json!({"app": "db"}), "zone")]}}),
        );
        assert!(
            verdicts(
                std::slice::from_ref(&other),
                &same_namespace_only,
                &namespaces
            )
            .iter()
            .all(Option::is_none)
        );
        let listed = incoming(
            json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
                "labelSelector": {"matchLabels": {"app": "db"}}, "namespaces": ["data"], "topologyKey": "zone"
            }]}}),
        );
        assert_eq!(
            reasons_of(&verdicts(&[other], &listed, &namespaces))[1],
            Some(reasons::POD_ANTI_AFFINITY)
        );
    }

    #[test]
    fn affinity_is_checked_before_anti_affinity() {
        let pods = [running("web-1", "b1", json!({"app": "web"}), "0", "0")];
        let pod = incoming(json!({
            "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term(json!({"app": "cache"}), "zone")]},
            "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term(json!({"app": "web"}), "zone")]},
        }));
        assert_eq!(
            reasons_of(&verdicts(&pods, &pod, &[]))[2],
            Some(reasons::POD_AFFINITY)
        );
    }
}
