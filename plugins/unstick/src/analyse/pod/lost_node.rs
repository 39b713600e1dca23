//! A pod whose node is gone or lost: pod GC about to act (node deleted or declared out of
//! service moments ago), no kubelet left to confirm the pod stopped, and a StatefulSet that will
//! not replace the pod until the node is handled (003 6.6.2).

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::{
    report::{Finding, Remedy, Severity, Source},
    state::event_time,
};

use super::{force_delete::force_delete_step, owning_stateful_set};
use crate::{
    analyse::{
        Ctx,
        cause::{Cause, ago, elapsed, for_how_long},
        node::{LostNode, removal_event},
        terminating::{Deletion, terminating_finding, timing_details},
    },
    inventory::MetaObject,
};

/// How long pod GC may take to force-delete the pods of an out-of-service node (it runs every 20s).
const POD_GC_GRACE: std::time::Duration = std::time::Duration::from_secs(60);

/// How long pod GC may take to force-delete the pods of a deleted node: it first waits 40s for
/// the node to reappear, and looks every 20s.
const ORPHAN_GC_GRACE: std::time::Duration = std::time::Duration::from_secs(90);

pub(super) fn node_missing(ctx: &Ctx, subject: &MetaObject, pod: &Pod, node: &str) -> Cause {
    let removal = removal_event(ctx.inv, node).map(|event| {
        let at = event_time(event);
        let fact = format!(
            "node {node} was deleted {}",
            at.map(|t| ago(t, ctx.now())).unwrap_or_default()
        );
        let pending = at.is_none_or(|t| elapsed(t, ctx.now()).is_none_or(|d| d < ORPHAN_GC_GRACE));
        (
            pending,
            fact,
            Source::event(event, at.map(|t| ago(t, ctx.now()))),
        )
    });
    let node_field = (
        format!("spec.nodeName = {node}, and no Node {node} exists"),
        Source::Field {
            object: subject.reference(),
            path: "spec.nodeName".into(),
        },
    );
    if let Some((true, fact, source)) = removal {
        return Cause::new(
            terminating_finding(
                subject,
                ctx.now(),
                Severity::Info,
                "pod-node-missing",
                &format!("{fact}; pod GC force-deletes the pod shortly"),
            )
            .explain(
                "Pod garbage collection in kube-controller-manager force-deletes the pods of a deleted node \
                 once the node has stayed gone for 40 seconds; it checks every 20 seconds.",
            )
            .evidence(node_field.0, node_field.1)
            .evidence(fact, source),
        );
    }
    let mut finding = terminating_finding(
        subject,
        ctx.now(),
        ctx.severity(subject),
        "pod-node-missing",
        &format!("its node {node} no longer exists, and pod GC has not removed it"),
    )
    .explain(format!(
        "No kubelet will ever confirm this pod stopped: node {node} was deleted. Pod garbage collection in \
         kube-controller-manager force-deletes pods of deleted nodes after about 40 seconds; if it has not, \
         kube-controller-manager may not be running."
    ))
    .evidence(node_field.0, node_field.1);
    if let Some((_, fact, source)) = removal {
        finding = finding.evidence(fact, source);
    }
    Cause::new(finding).step(force_delete_step(ctx, subject, pod, node))
}

/// The node was declared out of service moments ago: pod GC (every 20s) is about to act.
pub(super) fn pod_gc_pending(ctx: &Ctx, subject: &MetaObject, lost: &LostNode) -> Option<Cause> {
    let since = lost.out_of_service_since?;
    if elapsed(since, ctx.now()).is_none_or(|d| d >= POD_GC_GRACE) {
        return None;
    }
    let state = match Deletion::of(subject) {
        Some(deletion) => for_how_long("Terminating", Some(deletion.requested_at), ctx.now()),
        None => for_how_long("On a lost node", lost.since(), ctx.now()),
    };
    Some(Cause::new(
        Finding::new(
            Severity::Info,
            subject.reference(),
            "pod-node-out-of-service",
            format!(
                "{state}: node {} was marked out of service {}; the pod is evicted and pod GC force-deletes it shortly",
                lost.name(),
                ago(since, ctx.now())
            ),
        )
        .explain("The taint manager evicts pods that do not tolerate the taint, and pod garbage collection force-deletes terminating pods on out-of-service nodes every 20 seconds.")
        .details(timing_details(subject, ctx.now())),
    ))
}

pub(super) fn node_lost(ctx: &Ctx, subject: &MetaObject, pod: &Pod, lost: &LostNode) -> Cause {
    let (code, cause) = if lost.out_of_service {
        (
            "pod-node-out-of-service",
            format!(
                "{} and is marked out of service, yet pod GC has not force-deleted the pod",
                lost.summary()
            ),
        )
    } else {
        (
            "pod-node-unreachable",
            format!("{}: no kubelet can confirm the pod stopped", lost.summary()),
        )
    };
    let mut finding = terminating_finding(subject, ctx.now(), Severity::Error, code, &cause)
        .explain(
            "A pod is removed only when its kubelet confirms the containers stopped. This node's kubelet \
             is not reporting, so the deletion waits for it forever. The node may be down, or cut off \
             while its containers still run. If the machine is really off, declare it: the \
             out-of-service taint lets pod GC force-delete its pods, and deleting the Node object \
             does the same. Bringing the node back also finishes the deletion.",
        );
    for (fact, source) in lost.evidence(ctx.now()) {
        finding = finding.evidence(format!("node {}: {fact}", lost.name()), source);
    }
    Cause::new(finding)
        .advice(Remedy::step(format!(
            "If node {} can come back, bring its kubelet back: it finishes the deletion itself",
            lost.name()
        )))
        .steps(lost.steps(&format!("finishes the deletion of pod {}", subject.name())))
        .step(force_delete_step(ctx, subject, pod, lost.name()))
}

/// 003 6.6.2: a StatefulSet never replaces a pod its lost node still holds.
pub(super) fn not_replaced(ctx: &Ctx, subject: &MetaObject, pod: &Pod, lost: &LostNode) -> Cause {
    let set = owning_stateful_set(pod).unwrap_or_default();
    let name = subject.name();
    let state = match Deletion::of(subject) {
        Some(deletion) => for_how_long("Terminating", Some(deletion.requested_at), ctx.now()),
        None => for_how_long("On a lost node", lost.since(), ctx.now()),
    };
    let title = format!(
        "{state}: {}; StatefulSet {set} will not replace {name} until the node is handled",
        lost.summary()
    );
    let mut finding = Finding::new(
        Severity::Error,
        subject.reference(),
        "statefulset-pod-on-lost-node",
        title,
    )
    .explain(format!(
        "A StatefulSet guarantees at most one pod per identity, so it does not create a new {name} while \
         the old one may still run on node {}. Until the node is handled the pod stays Unknown or \
         Terminating and requests to it fail. Deleting the Node object or the out-of-service taint \
         declares it dead; force-deleting the pod does too, but if the node is only cut off, two pods \
         named {name} then run at once (split-brain).",
        lost.name()
    ))
    .details(timing_details(subject, ctx.now()))
    .evidence(
        format!("controlled by StatefulSet {set}"),
        Source::Field {
            object: subject.reference(),
            path: "metadata.ownerReferences".into(),
        },
    );
    for (fact, source) in lost.evidence(ctx.now()) {
        finding = finding.evidence(format!("node {}: {fact}", lost.name()), source);
    }
    Cause::new(finding)
        .advice(Remedy::step(format!(
            "If node {} can come back, bring its kubelet back: the pod resumes or is replaced normally",
            lost.name()
        )))
        .steps(lost.steps(&format!("StatefulSet {set} can then recreate {name}")))
        .step(force_delete_step(ctx, subject, pod, lost.name()))
}
