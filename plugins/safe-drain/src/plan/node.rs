//! The node itself: whether its kubelet is there to finish evictions, and whether it is already
//! cordoned (by someone else, or by an earlier safe-drain run that this one continues).

use k8s_openapi::api::core::v1::Node;
use kube_runbook::{
    report::{Finding, ObjectRef, Remedy, Severity, Source, human_duration},
    state::ClusterState,
};
use serde::{Deserialize, Serialize};

use super::{NodePlan, PlanOptions, pods::elapsed};

/// The annotation safe-drain writes on a node it cordons, holding a [`CordonRecord`].
pub const ANNOTATION: &str = "kube-runbooks.io/safe-drain";

pub const NODE_NOT_READY: &str = "node-not-ready";
pub const NODE_ALREADY_CORDONED: &str = "node-already-cordoned";
pub const NODE_CORDONED_BY_SAFE_DRAIN: &str = "node-cordoned-by-safe-drain";
pub const NODE_EMPTY: &str = "node-empty";

/// What safe-drain records on a node it cordoned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CordonRecord {
    /// Always `safe-drain`.
    pub cordoned_by: String,
    /// When, RFC 3339.
    pub at: String,
}

impl CordonRecord {
    pub fn now() -> CordonRecord {
        CordonRecord {
            cordoned_by: "safe-drain".to_string(),
            at: k8s_openapi::jiff::Timestamp::now().to_string(),
        }
    }

    /// The annotation's value.
    pub fn to_annotation(&self) -> String {
        serde_json::json!({"cordonedBy": self.cordoned_by, "at": self.at}).to_string()
    }

    /// The record on `node`, if it carries a valid one.
    pub fn of(node: &Node) -> Option<CordonRecord> {
        let text = node.metadata.annotations.as_ref()?.get(ANNOTATION)?;
        serde_json::from_str(text).ok()
    }
}

/// The node's Ready condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum NodeCondition {
    Ready,
    NotReady,
    Unknown,
}

/// The node's Ready condition as its status reports it.
pub fn condition(node: &Node) -> NodeCondition {
    let ready = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"));
    match ready.map(|c| c.status.as_str()) {
        Some("True") => NodeCondition::Ready,
        Some("False") => NodeCondition::NotReady,
        _ => NodeCondition::Unknown,
    }
}

/// An empty plan for `node`, with its condition and cordon state.
pub fn start(state: &ClusterState, name: &str) -> NodePlan {
    let node = state
        .nodes
        .iter()
        .find(|n| n.metadata.name.as_deref() == Some(name));
    let cordoned = node
        .and_then(|n| n.spec.as_ref())
        .and_then(|s| s.unschedulable)
        .unwrap_or(false);
    NodePlan {
        node: name.to_string(),
        condition: node.map_or(NodeCondition::Unknown, condition),
        cordoned,
        cordon_record: node.and_then(CordonRecord::of).filter(|_| cordoned),
        can_drain: false,
        pods: Vec::new(),
        findings: Vec::new(),
    }
}

/// Findings about the node: not ready, already cordoned, nothing to evict.
pub fn assess(plan: &mut NodePlan, state: &ClusterState, options: &PlanOptions) {
    let object = ObjectRef::cluster("Node", &plan.node);
    let node = state
        .nodes
        .iter()
        .find(|n| n.metadata.name.as_deref() == Some(plan.node.as_str()));
    if plan.condition != NodeCondition::Ready {
        plan.findings.push(not_ready(plan, node, state, &object));
    }
    if let Some(record) = &plan.cordon_record {
        plan.findings.push(
            Finding::new(Severity::Info, object.clone(), NODE_CORDONED_BY_SAFE_DRAIN, "already cordoned by safe-drain: this run continues the drain")
                .explain("The node carries safe-drain's record of the cordon (an earlier run kept it, or this run cordoned every selected node first). `kubectl safe-drain uncordon` undoes it.")
                .evidence(format!("{ANNOTATION}: cordoned at {}", record.at), Source::Field { object: object.clone(), path: format!("metadata.annotations[{ANNOTATION}]") }),
        );
    } else if plan.cordoned {
        let afterwards = match options.final_step {
            Some(crate::args::FinalStep::Uncordon) => {
                "It is uncordoned at the end only because --then uncordon asks for it."
            }
            Some(crate::args::FinalStep::Delete) => {
                "The Node is deleted at the end (--then delete)."
            }
            None => {
                "It stays cordoned afterwards, and also if the drain fails: safe-drain only undoes its own cordon."
            }
        };
        plan.findings.push(
            Finding::new(
                Severity::Info,
                object.clone(),
                NODE_ALREADY_CORDONED,
                "already cordoned, not by safe-drain",
            )
            .explain(format!(
                "Someone cordoned the node before this run. {afterwards}"
            ))
            .evidence(
                "spec.unschedulable is true",
                Source::Field {
                    object: object.clone(),
                    path: "spec.unschedulable".into(),
                },
            ),
        );
    }
    if plan.evictions().next().is_none() && plan.count(super::Action::Blocked) == 0 {
        plan.findings.push(Finding::new(
            Severity::Info,
            object,
            NODE_EMPTY,
            "nothing to evict: draining only cordons the node",
        ));
    }
}

fn not_ready(
    plan: &NodePlan,
    node: Option<&Node>,
    state: &ClusterState,
    object: &ObjectRef,
) -> Finding {
    let ready = node
        .and_then(|n| n.status.as_ref())
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"));
    let status = ready.map_or("missing".to_string(), |c| c.status.clone());
    let since = ready
        .and_then(|c| c.last_transition_time.as_ref())
        .map(|t| format!(" for {}", human_duration(elapsed(state, t))))
        .unwrap_or_default();
    let state_word = if plan.condition == NodeCondition::NotReady {
        "NotReady"
    } else {
        "Unknown"
    };
    let mut finding = Finding::new(
        Severity::Error,
        object.clone(),
        NODE_NOT_READY,
        format!("is {state_word}{since}: evictions would never complete"),
    )
    .explain(
        "An eviction only marks a pod for deletion; the node's kubelet must stop it and confirm. With the kubelet not reporting, \
evicted pods stay Terminating for ever: ReplicaSets start replacements elsewhere, but a StatefulSet never replaces a pod \
it cannot see stopped (runbook 003 6.6.2), and the drain could not finish. Nobody knows whether the containers still run.",
    )
    .evidence(
        format!("Ready={status}{since}"),
        Source::Condition {
            object: object.clone(),
            condition_type: "Ready".into(),
            status,
            reason: ready.and_then(|c| c.reason.clone()),
        },
    )
    .remedy(Remedy::step("Bring the node back (restart its kubelet or the machine): the kubelet reconnects, confirms the pods' state, and the drain can run"))
    .remedy(
        Remedy::command("If the machine is gone for good, delete the Node: its pods are removed and their controllers recreate them elsewhere", format!("kubectl delete node {}", plan.node))
            .dangerous("if the machine still runs, its containers keep running unseen: a StatefulSet pod may then run twice (split brain)"),
    );
    if let Some(pod) = plan.pods.iter().find(|p| p.action != super::Action::Skip) {
        finding = finding.remedy(
            Remedy::command(
                "Force-delete a pod only once you know the machine is off",
                format!(
                    "kubectl delete pod {} -n {} --grace-period=0 --force",
                    pod.name, pod.namespace
                ),
            )
            .dangerous(
                "for StatefulSet pods, two pods with one identity: split brain or data loss",
            ),
        );
    }
    finding.remedy(Remedy::step(
        "A pod still Terminating after that is held by a finalizer: `kubectl unstick` names it",
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::plan::fixtures::{node, state_with};

    #[test]
    fn reads_condition_and_cordon_record() {
        let mut cordoned = node("n1");
        cordoned.spec = Some(serde_json::from_value(json!({"unschedulable": true})).unwrap());
        cordoned.metadata.annotations = Some(
            [(
                ANNOTATION.to_string(),
                r#"{"cordonedBy":"safe-drain","at":"2026-01-01T00:00:00Z"}"#.to_string(),
            )]
            .into(),
        );
        let mut lost = node("n2");
        lost.status = Some(serde_json::from_value(json!({"conditions": [{"type": "Ready", "status": "Unknown", "lastTransitionTime": "2025-12-31T23:50:00Z"}]})).unwrap());
        let mut state = state_with(vec![]);
        state.insert_all([cordoned, lost]);
        let plan = start(&state, "n1");
        assert!(plan.cordoned);
        assert_eq!(
            plan.cordon_record.map(|r| r.at).as_deref(),
            Some("2026-01-01T00:00:00Z")
        );
        let mut plan = start(&state, "n2");
        assert_eq!(plan.condition, NodeCondition::Unknown);
        assess(&mut plan, &state, &PlanOptions::default());
        assert_eq!(plan.findings[0].code, NODE_NOT_READY);
        assert_eq!(
            plan.findings[0].title,
            "is Unknown for 10m: evictions would never complete"
        );
    }
}
