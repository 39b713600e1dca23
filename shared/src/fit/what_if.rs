//! "What if" questions for `kubectl safe-drain`: evaluate pods as if some pods were gone and
//! some nodes cordoned or removed, and place a sequence of pods greedily, each placed pod
//! consuming capacity, ports and topology counts.
//!
//! The node chosen for a pod is the feasible node with the most CPU and memory left after
//! placing it (the default LeastAllocated score), then by name: an approximation of
//! kube-scheduler's scoring, which also weighs spreading, affinity and image locality.

use k8s_openapi::api::core::v1::Pod;
use serde::Serialize;

use super::evaluate::{PodFit, evaluate};
use super::index::{NodeEntry, Snapshot};
use super::resources::{CPU, MEMORY, Resources};

/// Changes to apply to a snapshot before evaluating.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WhatIf {
    /// `(namespace, name)` of pods to remove, e.g. the pods a drain evicts.
    pub remove_pods: Vec<(String, String)>,
    /// Nodes to mark unschedulable.
    pub cordon_nodes: Vec<String>,
    /// Nodes to take out of the cluster together with their pods.
    pub exclude_nodes: Vec<String>,
}

impl WhatIf {
    /// A copy of `snapshot` with the changes applied. Unknown pods and nodes are ignored.
    pub fn apply<'a>(&self, snapshot: &Snapshot<'a>) -> Snapshot<'a> {
        let mut changed = snapshot.clone();
        for (namespace, name) in &self.remove_pods {
            changed.remove_pod(namespace, name);
        }
        for node in &self.cordon_nodes {
            changed.cordon_node(node);
        }
        for node in &self.exclude_nodes {
            changed.exclude_node(node);
        }
        changed
    }
}

/// Where a pod ended up in a greedy placement.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "camelCase")]
pub enum Placement {
    Placed {
        pod: String,
        node: String,
    },
    /// No node fits; the evaluation says why, node by node.
    Pending {
        pod: String,
        fit: Box<PodFit>,
    },
}

impl Placement {
    pub fn is_placed(&self) -> bool {
        matches!(self, Placement::Placed { .. })
    }
}

/// The pod a controller would create to replace `pod`: same spec and metadata, but unbound,
/// without status and not terminating.
pub fn replacement_pod(pod: &Pod) -> Pod {
    let mut replacement = pod.clone();
    replacement.metadata.deletion_timestamp = None;
    replacement.status = None;
    if let Some(spec) = replacement.spec.as_mut() {
        spec.node_name = None;
    }
    replacement
}

/// Applies `what_if` to a copy of `snapshot`, then places `pods` in order.
pub fn simulate<'a>(snapshot: &Snapshot<'a>, what_if: &WhatIf, pods: &'a [Pod]) -> Vec<Placement> {
    let mut changed = what_if.apply(snapshot);
    place_all(&mut changed, pods)
}

/// Places `pods` one after another on `snapshot`; each placed pod stays on its node for the
/// pods after it.
pub fn place_all<'a>(snapshot: &mut Snapshot<'a>, pods: &'a [Pod]) -> Vec<Placement> {
    pods.iter()
        .map(|pod| {
            let fit = evaluate(pod, snapshot);
            let key = fit.pod.clone();
            let best = fit
                .fits_somewhere()
                .then(|| best_node(snapshot, &fit, &fit_requests(&fit)))
                .flatten();
            match best {
                Some(node) => {
                    snapshot.place_pod(pod, &node);
                    Placement::Placed { pod: key, node }
                }
                None => Placement::Pending {
                    pod: key,
                    fit: Box::new(fit),
                },
            }
        })
        .collect()
}

fn fit_requests(fit: &PodFit) -> Resources {
    fit.requests.total.clone()
}

fn best_node(snapshot: &Snapshot, fit: &PodFit, requests: &Resources) -> Option<String> {
    let feasible = |node: &&NodeEntry| fit.verdict(node.name).is_some_and(|v| v.fits);
    snapshot
        .nodes
        .iter()
        .filter(|node| !node.excluded)
        .filter(feasible)
        .map(|node| (least_allocated(node, requests), node.name))
        .max_by(|a, b| {
            a.0.partial_cmp(&b.0)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(b.1.cmp(a.1))
        })
        .map(|(_, name)| name.to_string())
}

/// The mean free fraction of CPU and memory after adding `requests`.
fn least_allocated(node: &NodeEntry, requests: &Resources) -> f64 {
    let free_fraction = |name: &str| {
        let allocatable = node.allocatable.get(name);
        if allocatable <= 0 {
            return 0.0;
        }
        let used = node.requested.get(name) + requests.get(name);
        (allocatable - used).max(0) as f64 / allocatable as f64
    };
    (free_fraction(CPU) + free_fraction(MEMORY)) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::testing::{container, node, pod, running};
    use serde_json::json;

    #[test]
    fn drained_pods_fill_the_remaining_nodes_until_they_run_out() {
        let nodes = [
            node("drain-me", json!({})),
            node("a", json!({})),
            node("b", json!({})),
        ];
        let existing = [
            running("web-1", "drain-me", json!({}), "2", "1Gi"),
            running("web-2", "drain-me", json!({}), "2", "1Gi"),
            running("filler-a", "a", json!({}), "2", "1Gi"),
            running("filler-b", "b", json!({}), "3", "1Gi"),
        ];
        let snapshot = Snapshot::new(&nodes, &existing);
        let what_if = WhatIf {
            remove_pods: vec![
                ("default".into(), "web-1".into()),
                ("default".into(), "web-2".into()),
            ],
            cordon_nodes: vec!["drain-me".into()],
            ..WhatIf::default()
        };
        let replacements = [replacement_pod(&existing[0]), replacement_pod(&existing[1])];
        let placements = simulate(&snapshot, &what_if, &replacements);
        assert_eq!(
            placements[0],
            Placement::Placed {
                pod: "default/web-1".into(),
                node: "a".into()
            }
        );
        let Placement::Pending { fit, .. } = &placements[1] else {
            panic!("{placements:?}")
        };
        let reasons: Vec<&str> = fit
            .nodes
            .iter()
            .map(|n| n.reasons[0].reason.as_str())
            .collect();
        assert_eq!(
            reasons,
            [
                "node(s) were unschedulable",
                "Insufficient cpu",
                "Insufficient cpu"
            ]
        );
    }

    #[test]
    fn excluding_a_node_removes_its_pods_and_its_capacity() {
        let nodes = [node("gone", json!({})), node("left", json!({}))];
        let existing = [running("db", "gone", json!({}), "1", "1Gi")];
        let snapshot = Snapshot::new(&nodes, &existing);
        let what_if = WhatIf {
            exclude_nodes: vec!["gone".into()],
            ..WhatIf::default()
        };
        let changed = what_if.apply(&snapshot);
        assert_eq!(changed.node_count(), 1);
        let fit = evaluate(
            &pod("new", json!({"containers": [container("4", "1Gi")]})),
            &changed,
        );
        assert_eq!(fit.nodes.len(), 1);
        assert!(fit.fits_somewhere());
        assert_eq!(
            snapshot.node_count(),
            2,
            "the original snapshot is unchanged"
        );
    }

    #[test]
    fn replacement_pods_are_unbound() {
        let original = running("web-1", "n1", json!({}), "1", "1Gi");
        let replacement = replacement_pod(&original);
        assert_eq!(replacement.spec.unwrap().node_name, None);
        assert!(replacement.status.is_none());
    }
}
