//! The pre-flight plan: for every pod on a node, what the drain will do and why, plus what would
//! block it, computed from a [`ClusterState`] alone (a snapshot and a live cluster agree).

mod availability;
mod capacity;
#[cfg(test)]
pub mod fixtures;
mod local_data;
mod node;
mod pdb;
mod pods;
mod workload;

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::{
    report::{Finding, ObjectRef, Severity},
    state::ClusterState,
};
use serde::Serialize;

pub use node::{ANNOTATION, CordonRecord, NodeCondition};
pub use pods::pods_left_alone;
pub use workload::Workloads;

use crate::args::FinalStep;

/// What the user acknowledged with flags.
#[derive(Debug, Clone, Copy, Default)]
pub struct Acknowledged {
    /// `--delete-emptydir-data`: emptyDir and hostPath data may be lost.
    pub local_data: bool,
    /// `--force`: pods nothing will recreate may go, and safe-to-evict=false is overridden.
    pub force: bool,
    /// `--evict-local-volume-pods`: pods bound to this node's volumes may go.
    pub local_volumes: bool,
    /// `--allow-pending`: evicted pods may find no node.
    pub pending: bool,
}

/// How the plan is made.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanOptions {
    pub acknowledged: Acknowledged,
    pub final_step: Option<FinalStep>,
}

/// What happens to one pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Evicted through the Eviction API.
    Evict,
    /// Left alone (DaemonSet, static or already terminating pods).
    Skip,
    /// Would stop the drain; `reasons` say why and which flag, if any, accepts it.
    Blocked,
}

/// One reason behind a pod's action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// A stable identifier (README: "Per-pod reasons").
    pub code: &'static str,
    pub message: String,
}

/// Where the simulation put a pod's replacement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Replacement {
    /// The node it would run on, or None when it would stay Pending.
    pub node: Option<String>,
    /// Why no node fits, as the scheduler would say it, when it stays Pending.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pending_reasons: Vec<String>,
}

/// The plan for one pod.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodPlan {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub phase: String,
    pub ready: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload: Option<ObjectRef>,
    pub action: Action,
    pub reasons: Vec<Reason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdb: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement: Option<Replacement>,
    /// StatefulSet ordinal, for ordered eviction.
    #[serde(skip)]
    pub ordinal: Option<u32>,
    /// Ready replicas of its workload across the cluster before the drain (--wait-healthy).
    #[serde(skip)]
    pub ready_before: usize,
}

impl PodPlan {
    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    pub(crate) fn block(&mut self, code: &'static str, message: impl Into<String>) {
        self.action = Action::Blocked;
        self.note(code, message);
    }

    pub(crate) fn note(&mut self, code: &'static str, message: impl Into<String>) {
        self.reasons.push(Reason {
            code,
            message: message.into(),
        });
    }

    /// Whether the drain will try to evict it (or would, once acknowledged).
    pub fn will_evict(&self) -> bool {
        self.action == Action::Evict
    }

    /// Whether a controller will create a replacement elsewhere.
    pub fn is_replaced(&self) -> bool {
        self.workload
            .as_ref()
            .is_some_and(|w| w.kind != "DaemonSet")
            && self.phase != "Succeeded"
            && self.phase != "Failed"
            && !self
                .reasons
                .iter()
                .any(|r| r.code == pods::CONTROLLER_MISSING)
    }
}

/// The plan for one node.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodePlan {
    pub node: String,
    pub condition: NodeCondition,
    /// Whether the node was already unschedulable before this run.
    pub cordoned: bool,
    /// The record of an earlier safe-drain cordon, if the annotation is there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cordon_record: Option<CordonRecord>,
    pub can_drain: bool,
    pub pods: Vec<PodPlan>,
    pub findings: Vec<Finding>,
}

impl NodePlan {
    /// Pods the drain will evict.
    pub fn evictions(&self) -> impl Iterator<Item = &PodPlan> {
        self.pods.iter().filter(|p| p.will_evict())
    }

    /// How many pods have `action`.
    pub fn count(&self, action: Action) -> usize {
        self.pods.iter().filter(|p| p.action == action).count()
    }

    /// Error findings: each one alone stops the drain.
    pub fn blockers(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
    }
}

/// Plans `nodes` in order, as the drain goes: with `--then uncordon` each node alone (it is back
/// before the next goes); otherwise all of them cordoned first, each drained after the ones
/// before it.
pub fn plan_nodes(state: &ClusterState, nodes: &[String], options: &PlanOptions) -> Vec<NodePlan> {
    let workloads = Workloads::index(state);
    let budgets = pdb::Budgets::index(state);
    let mut plans: Vec<NodePlan> = nodes
        .iter()
        .map(|node| {
            let pods: Vec<&Pod> = state
                .pods
                .iter()
                .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node))
                .collect();
            let mut plan = node::start(state, node);
            plan.pods = pods
                .iter()
                .map(|pod| pods::classify(pod, node, state, &workloads, options))
                .collect();
            pdb::assess(&mut plan, &pods, &budgets);
            availability::assess(&mut plan, &workloads);
            node::assess(&mut plan, state, options);
            pods::summarise(&mut plan, options);
            plan
        })
        .collect();
    capacity::simulate(state, &mut plans, options);
    for plan in &mut plans {
        plan.findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        let blocked = plan.blockers().next().is_some();
        plan.can_drain = !blocked;
    }
    plans
}
