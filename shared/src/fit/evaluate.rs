//! Evaluates one pod against every node with every default filter, keeping all reasons, and
//! derives the scheduler's own view, a ranking and a fragmentation summary from that.

use k8s_openapi::api::core::v1::Pod;
use rustc_hash::FxHashMap;
use serde::Serialize;

use super::filters::{Filters, PreFilterRejection, Rejection, scheduling_gates};
use super::fragmentation::{Fragmentation, fragmentation};
use super::index::Snapshot;
use super::ranking::{RankedNode, rank};
use super::requests::{RequestBreakdown, pod_request_breakdown};
use super::scheduler_view::{NodeOutcome, SchedulerView};

/// Everything the engine found out about one pod.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodFit {
    /// `namespace/name`.
    pub pod: String,
    /// The pod's request and how it was computed.
    pub requests: RequestBreakdown,
    /// `spec.schedulingGates`; while any remain the scheduler does not try the pod.
    pub scheduling_gates: Vec<String>,
    /// Rejections of the whole pod, before any node is considered.
    pub prefilter: Vec<PreFilterRejection>,
    /// One verdict per node, in node order, with every failing filter.
    pub nodes: Vec<NodeVerdict>,
    /// What kube-scheduler v1.37 would report.
    pub scheduler_view: SchedulerView,
    /// Nodes from closest to fitting to farthest.
    pub ranking: Vec<RankedNode>,
    /// Resources free in total on otherwise usable nodes but not on any single one.
    pub fragmentation: Vec<Fragmentation>,
    /// Checks the engine could not make, and why.
    pub unchecked: Vec<String>,
}

/// Every filter that rejects one node.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeVerdict {
    pub node: String,
    pub fits: bool,
    /// All failing filters, in the default filter order.
    pub reasons: Vec<Rejection>,
}

impl PodFit {
    /// Whether the pod could be placed now: not gated, no PreFilter rejection, a node fits.
    pub fn fits_somewhere(&self) -> bool {
        self.scheduling_gates.is_empty()
            && self.prefilter.is_empty()
            && self.nodes.iter().any(|n| n.fits)
    }

    /// The verdict for `node`.
    pub fn verdict(&self, node: &str) -> Option<&NodeVerdict> {
        self.nodes.iter().find(|v| v.node == node)
    }

    /// Every verdict in ranking order, closest to fitting first.
    pub fn verdicts_by_rank(&self) -> impl Iterator<Item = &NodeVerdict> {
        let mut by_node: FxHashMap<&str, &NodeVerdict> = FxHashMap::default();
        for verdict in &self.nodes {
            by_node.entry(&verdict.node).or_insert(verdict);
        }
        self.ranking
            .iter()
            .filter_map(move |ranked| by_node.get(ranked.node.as_str()).copied())
    }
}

/// Evaluates `pod` as if the scheduler were placing it now. The pod should not itself be bound
/// in `snapshot` (remove it first for "would it fit elsewhere" questions).
pub fn evaluate(pod: &Pod, snapshot: &Snapshot) -> PodFit {
    let filters = Filters::prepare(pod, snapshot);
    let prefilter = filters.prefilter();
    let gates = scheduling_gates(pod);
    let nodes: Vec<NodeVerdict> = snapshot
        .nodes
        .iter()
        .filter(|node| !node.excluded)
        .map(|node| {
            let reasons = filters.check(snapshot, node);
            NodeVerdict {
                node: node.name.to_string(),
                fits: reasons.is_empty(),
                reasons,
            }
        })
        .collect();
    let narrowed = filters.narrowed_to();
    let outcomes = nodes.iter().map(|verdict| NodeOutcome {
        node: &verdict.node,
        rejections: &verdict.reasons,
        in_prefilter_result: narrowed.is_none_or(|names| names.contains(&verdict.node)),
    });
    let mut scheduler_view = SchedulerView::build(&gates, &prefilter, outcomes);
    let spec = pod.spec.as_ref();
    scheduler_view.scheduler_name = spec
        .and_then(|s| s.scheduler_name.clone())
        .unwrap_or_else(|| "default-scheduler".to_string());
    let priority = spec.and_then(|s| s.priority).unwrap_or(0);
    scheduler_view.nominated_pods = snapshot
        .nominated_pods()
        .filter(|(nominee, _)| {
            nominee.metadata.uid != pod.metadata.uid || pod.metadata.uid.is_none()
        })
        .filter(|(nominee, _)| {
            nominee.spec.as_ref().and_then(|s| s.priority).unwrap_or(0) >= priority
        })
        .map(|(nominee, node)| {
            let namespace = nominee.metadata.namespace.as_deref().unwrap_or("default");
            let name = nominee.metadata.name.as_deref().unwrap_or("");
            format!("{namespace}/{name} on {}", node.name)
        })
        .collect();
    let mut unchecked = filters.unchecked.clone();
    unchecked.extend(unsimulated(pod));
    PodFit {
        pod: format!(
            "{}/{}",
            pod.metadata.namespace.as_deref().unwrap_or("default"),
            pod.metadata.name.as_deref().unwrap_or("")
        ),
        requests: pod_request_breakdown(pod),
        scheduling_gates: gates,
        prefilter,
        ranking: rank(&nodes),
        fragmentation: fragmentation(&filters.ctx.requests, snapshot, &nodes),
        nodes,
        scheduler_view,
        unchecked,
    }
}

/// Plugins of the default profile the engine does not simulate but that apply to this pod.
fn unsimulated(pod: &Pod) -> Vec<String> {
    let spec = pod.spec.as_ref();
    let volumes = spec.and_then(|s| s.volumes.as_deref()).unwrap_or_default();
    let mut notes = Vec::new();
    if volumes
        .iter()
        .any(|v| v.persistent_volume_claim.is_some() || v.ephemeral.is_some() || v.csi.is_some())
    {
        notes.push(
            "NodeVolumeLimits: per-node CSI attach limits (CSINode) are not checked".to_string(),
        );
    }
    if spec
        .and_then(|s| s.resource_claims.as_ref())
        .is_some_and(|claims| !claims.is_empty())
    {
        notes.push("DynamicResources: ResourceClaims (DRA) are not checked".to_string());
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::filters::Plugin;
    use crate::fit::reasons;
    use crate::fit::testing::{container, node, node_from, pod_from, pod_with_spec, running};
    use serde_json::json;

    #[test]
    fn keeps_every_reason_but_the_view_keeps_the_first_plugin() {
        let nodes = [
            node_from(json!({
                "metadata": {"name": "tainted", "labels": {"disk": "ssd"}},
                "spec": {"taints": [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]},
                "status": {"allocatable": {"cpu": "1", "memory": "8Gi", "pods": "110"}},
            })),
            node("hdd", json!({"disk": "hdd"})),
            node("ssd", json!({"disk": "ssd"})),
        ];
        let pods = [running("hog", "ssd", json!({}), "3500m", "1Gi")];
        let snapshot = Snapshot::new(&nodes, &pods);
        let pod = pod_with_spec(
            json!({"containers": [container("2", "1Gi")], "nodeSelector": {"disk": "ssd"}}),
        );
        let fit = evaluate(&pod, &snapshot);
        let plugins = |node: &str| -> Vec<Plugin> {
            fit.verdict(node)
                .unwrap()
                .reasons
                .iter()
                .map(|r| r.plugin)
                .collect()
        };
        assert_eq!(
            plugins("tainted"),
            [Plugin::TaintToleration, Plugin::NodeResourcesFit]
        );
        assert_eq!(plugins("hdd"), [Plugin::NodeAffinity]);
        assert_eq!(plugins("ssd"), [Plugin::NodeResourcesFit]);
        assert!(!fit.fits_somewhere());
        assert_eq!(
            fit.scheduler_view.message().unwrap(),
            "0/3 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector, \
             1 node(s) had untolerated taint(s)."
        );
        assert_eq!(fit.ranking[0].node, "ssd");
        let by_rank: Vec<&str> = fit.verdicts_by_rank().map(|v| v.node.as_str()).collect();
        let ranking: Vec<&str> = fit.ranking.iter().map(|r| r.node.as_str()).collect();
        assert_eq!(by_rank, ranking);
    }

    #[test]
    fn daemonset_style_pinning_reports_other_nodes_as_prefilter_narrowed() {
        let nodes = [
            node("n1", json!({})),
            node("n2", json!({})),
            node("n3", json!({})),
        ];
        let pods = [pod_from(json!({
            "metadata": {"name": "exporter-old", "namespace": "default"},
            "spec": {"nodeName": "n2", "containers": [{"name": "c", "ports": [{"containerPort": 9100, "hostPort": 9100}]}]},
        }))];
        let snapshot = Snapshot::new(&nodes, &pods);
        let pod = pod_with_spec(json!({
            "containers": [{"name": "c", "ports": [{"containerPort": 9100, "hostPort": 9100}]}],
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n2"]}]}
            ]}}},
        }));
        let fit = evaluate(&pod, &snapshot);
        assert_eq!(
            fit.scheduler_view.message().unwrap(),
            "0/3 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, \
             2 node(s) didn't satisfy plugin(s) [NodeAffinity]."
        );
        assert_eq!(
            fit.verdict("n1").unwrap().reasons[0].reason,
            reasons::NODE_AFFINITY
        );
    }

    #[test]
    fn a_missing_claim_rejects_the_pod_before_any_node() {
        let nodes = [node("n1", json!({})), node("n2", json!({}))];
        let snapshot = Snapshot::new(&nodes, &[]).with_storage(&[], &[], &[]);
        let pod = pod_with_spec(json!({"containers": [], "volumes": [
            {"name": "d", "persistentVolumeClaim": {"claimName": "data"}}
        ]}));
        let fit = evaluate(&pod, &snapshot);
        assert_eq!(fit.prefilter[0].plugin, Plugin::VolumeRestrictions);
        assert!(fit.scheduler_view.histogram.is_empty());
        assert_eq!(
            fit.scheduler_view.message().unwrap(),
            "0/2 nodes are available: persistentvolumeclaim \"data\" not found."
        );
        assert!(!fit.fits_somewhere());
    }

    #[test]
    fn gated_pod_lists_its_gates() {
        let nodes = [node("n1", json!({}))];
        let snapshot = Snapshot::new(&nodes, &[]);
        let pod = pod_with_spec(json!({"containers": [], "schedulingGates": [{"name": "wait"}]}));
        let fit = evaluate(&pod, &snapshot);
        assert_eq!(fit.scheduling_gates, ["wait"]);
        assert!(!fit.fits_somewhere());
        assert!(fit.nodes[0].fits, "the filters themselves pass");
        assert_eq!(
            fit.scheduler_view.message().unwrap(),
            reasons::SCHEDULING_GATED
        );
    }

    #[test]
    fn unloaded_storage_is_reported_as_unchecked() {
        let nodes = [node("n1", json!({}))];
        let snapshot = Snapshot::new(&nodes, &[]);
        let pod = pod_with_spec(
            json!({"containers": [], "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "x"}}]}),
        );
        let fit = evaluate(&pod, &snapshot);
        assert!(fit.prefilter.is_empty());
        assert!(
            fit.unchecked
                .iter()
                .any(|note| note.contains("were not loaded"))
        );
        assert!(
            fit.unchecked
                .iter()
                .any(|note| note.starts_with("NodeVolumeLimits"))
        );
    }

    #[test]
    fn nominated_pods_of_equal_or_higher_priority_are_listed() {
        let nodes = [node("n1", json!({}))];
        let pods = [pod_from(json!({
            "metadata": {"name": "preemptor", "namespace": "default", "uid": "p"},
            "spec": {"containers": [], "priority": 100},
            "status": {"phase": "Pending", "nominatedNodeName": "n1"},
        }))];
        let snapshot = Snapshot::new(&nodes, &pods);
        let low = pod_with_spec(json!({"containers": [], "priority": 10}));
        assert_eq!(
            evaluate(&low, &snapshot).scheduler_view.nominated_pods,
            ["default/preemptor on n1"]
        );
        let high = pod_with_spec(json!({"containers": [], "priority": 1000}));
        assert!(
            evaluate(&high, &snapshot)
                .scheduler_view
                .nominated_pods
                .is_empty()
        );
    }
}
