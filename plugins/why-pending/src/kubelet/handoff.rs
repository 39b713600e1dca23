//! Pods that are going away or whose kubelet is silent: Terminating, phase Unknown, a missing or
//! NotReady node. `kubectl unstick` owns the fix; this names it with the node evidence.

use kube_runbook::report::{Finding, ObjectRef, Remedy, Severity, Source};
use serde_json::json;

use super::context::PodContext;
use super::node_health::{NodeState, heartbeat_evidence, is_ready, node_state};

/// A pod with a deletionTimestamp: being deleted, or stuck being deleted.
pub fn terminating(ctx: &PodContext) -> Option<Finding> {
    let deadline = ctx.pod.metadata.deletion_timestamp.as_ref()?.0;
    let overdue = ctx.state.observed_at > deadline;
    let (severity, title) = if overdue {
        (
            Severity::Error,
            format!(
                "the pod is stuck Terminating, {} past its grace period",
                ctx.age(deadline)
            ),
        )
    } else {
        (
            Severity::Info,
            "the pod is being deleted (its grace period has not ended)".to_string(),
        )
    };
    let mut finding = Finding::new(severity, ctx.object.clone(), "pod-terminating", title)
        .explain(
            "The pod was deleted; the kubelet must stop its containers and confirm, and every finalizer must be removed, before it disappears. A pod on an unreachable node, or with a finalizer nobody removes, stays Terminating.",
        )
        .evidence(format!("deletionTimestamp {deadline}"), ctx.field("metadata.deletionTimestamp"));
    let finalizers = ctx.pod.metadata.finalizers.as_deref().unwrap_or(&[]);
    if !finalizers.is_empty() {
        finding = finding.evidence(
            format!("finalizers: {}", finalizers.join(", ")),
            ctx.field("metadata.finalizers"),
        );
    }
    if let Some(disruption) = ctx
        .status()
        .and_then(|s| s.conditions.as_deref())
        .and_then(|c| {
            c.iter()
                .find(|c| c.type_ == "DisruptionTarget" && c.status == "True")
        })
    {
        let reason = disruption.reason.clone();
        finding = finding.evidence(
            format!("DisruptionTarget: {}", reason.as_deref().unwrap_or("")),
            Source::Condition {
                object: ctx.object.clone(),
                condition_type: "DisruptionTarget".into(),
                status: "True".into(),
                reason,
            },
        );
    }
    finding = with_node_evidence(ctx, finding);
    Some(finding.remedy(unstick(ctx)).details(json!({"deletionTimestamp": deadline.to_string(), "finalizers": finalizers, "node": ctx.node_name()})))
}

/// The pod's node is missing or not Ready, or the pod's phase is Unknown.
pub fn node_down(ctx: &PodContext) -> Option<Finding> {
    let node_name = ctx.node_name()?;
    let unknown_phase = ctx.phase() == "Unknown";
    let (code, title, explanation) = match node_state(ctx) {
        NodeState::Missing => (
            "node-missing",
            format!("the pod's node {node_name} no longer exists"),
            "The Node object is gone (deleted, or its VM removed), so no kubelet will ever run or stop this pod. Pod garbage collection normally deletes such pods; one that remains needs a hand.",
        ),
        NodeState::Present(node) if !is_ready(node) => (
            "node-not-ready",
            format!("the pod's node {node_name} is not Ready: its kubelet is not reporting"),
            "The pod's status is whatever the kubelet last reported. After the node-monitor grace period the node is tainted unreachable and its pods are evicted after their toleration (300s by default); StatefulSet pods are not replaced until the node is confirmed gone.",
        ),
        _ if unknown_phase => (
            "pod-status-unknown",
            "the pod's status is Unknown: its node's kubelet stopped reporting".to_string(),
            "Phase Unknown means the node controller lost contact with the kubelet; the containers may or may not still run.",
        ),
        _ => return None,
    };
    let finding = Finding::new(Severity::Error, ctx.object.clone(), code, title)
        .explain(explanation)
        .evidence(
            format!("scheduled to node {node_name}"),
            ctx.field("spec.nodeName"),
        );
    let finding = if unknown_phase {
        finding.evidence("phase Unknown", ctx.field("status.phase"))
    } else {
        finding
    };
    Some(
        with_node_evidence(ctx, finding)
            .remedy(Remedy::step(format!(
                "Bring the kubelet on {node_name} back (`systemctl status kubelet`, `journalctl -u kubelet` on the node); once it reports, it reconciles this pod"
            )))
            .remedy(unstick(ctx))
            .details(json!({"node": node_name})),
    )
}

fn with_node_evidence(ctx: &PodContext, mut finding: Finding) -> Finding {
    let Some(node_name) = ctx.node_name() else {
        return finding;
    };
    match node_state(ctx) {
        NodeState::Present(node) => {
            for (fact, source) in heartbeat_evidence(ctx, node) {
                finding = finding.evidence(fact, source);
            }
            finding
        }
        NodeState::Missing => finding.evidence(
            format!("node {node_name} does not exist"),
            Source::Object {
                object: ObjectRef::cluster("Node", node_name),
            },
        ),
        NodeState::Unknown => finding.evidence(
            format!(
                "node {node_name} was not checked: {}",
                ctx.not_checked(kube_runbook::state::Kind::Node)
            ),
            Source::Computed,
        ),
    }
}

fn unstick(ctx: &PodContext) -> Remedy {
    Remedy::command(
        "Hand over to kubectl unstick: it finds what holds the pod (finalizers, an unreachable node) and offers the least dangerous fix, with its danger spelled out",
        format!("kubectl unstick pod/{} -n {}", ctx.name, ctx.namespace),
    )
}
