//! Pods stuck in Terminating or Unknown (runbook 001 item 6): node gone, node not reporting, node
//! back but its kubelet not finishing (volume unmount failures), StatefulSet pods on a lost node
//! that are never replaced (003 6.6.2), and the force-delete danger for StatefulSets and RWO volumes.

mod force_delete;
mod kubelet;
mod lost_node;
#[cfg(test)]
mod tests;

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::{
    report::{Finding, Severity, Source},
    state::controller_of,
};

use self::{
    force_delete::force_delete_step,
    kubelet::kubelet_not_finishing,
    lost_node::{node_lost, node_missing, not_replaced, pod_gc_pending},
};
use super::{
    Ctx, Diagnosis,
    cause::Cause,
    node::{NodeHealth, node_health},
    terminating::{Deletion, terminating_finding},
};
use crate::inventory::{Inventory, MetaObject};

/// Explains why pod `subject` is stuck.
pub fn analyse(ctx: &Ctx, subject: &MetaObject, out: &mut Diagnosis) {
    let Some(pod) = subject
        .namespace()
        .and_then(|ns| ctx.inv.pod(ns, subject.name()))
    else {
        return;
    };
    let node_name = pod.spec.as_ref().and_then(|s| s.node_name.as_deref());
    let Some(deletion) = Deletion::of(subject) else {
        if let Some(name) = node_name
            && let NodeHealth::Lost(lost) = node_health(ctx.inv, name)
            && owning_stateful_set(pod).is_some()
        {
            out.add(
                pod_gc_pending(ctx, subject, &lost)
                    .unwrap_or_else(|| not_replaced(ctx, subject, pod, &lost)),
            );
        } else if phase(pod) == "Unknown" {
            out.add(phase_unknown(ctx, subject, pod, node_name));
        }
        return;
    };
    if deletion.grace_seconds == 0 {
        // The kubelet (or a force delete) is done: only finalizers can hold the pod now.
        return;
    }
    if deletion.in_grace_period(ctx.now()) {
        out.add(in_grace_period(ctx, subject, &deletion));
        return;
    }
    let Some(node_name) = node_name else {
        return;
    };
    match node_health(ctx.inv, node_name) {
        NodeHealth::Missing => out.add(node_missing(ctx, subject, pod, node_name)),
        NodeHealth::Lost(lost) => {
            out.add(pod_gc_pending(ctx, subject, &lost).unwrap_or_else(|| {
                if owning_stateful_set(pod).is_some() {
                    not_replaced(ctx, subject, pod, &lost)
                } else {
                    node_lost(ctx, subject, pod, &lost)
                }
            }))
        }
        NodeHealth::Ready => out.add(kubelet_not_finishing(ctx, subject, pod, node_name, None)),
        NodeHealth::NotReady(alive) => out.add(kubelet_not_finishing(
            ctx,
            subject,
            pod,
            node_name,
            Some(&alive),
        )),
        NodeHealth::Unchecked(reason) => out.add(node_unchecked(ctx, subject, pod, &reason)),
    }
}

/// A pod not being deleted that is stuck anyway: a StatefulSet pod on a lost node, or phase Unknown.
pub fn stuck_without_deletion(inventory: &Inventory, object: &MetaObject) -> bool {
    let Some(pod) = object
        .namespace()
        .and_then(|ns| inventory.pod(ns, object.name()))
    else {
        return false;
    };
    let on_lost_node = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .is_some_and(|node| matches!(node_health(inventory, node), NodeHealth::Lost(_)));
    (on_lost_node && owning_stateful_set(pod).is_some()) || phase(pod) == "Unknown"
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Unknown")
}

pub(super) fn owning_stateful_set(pod: &Pod) -> Option<&str> {
    controller_of(&pod.metadata)
        .filter(|o| o.kind == "StatefulSet")
        .map(|o| o.name.as_str())
}

fn in_grace_period(ctx: &Ctx, subject: &MetaObject, deletion: &Deletion) -> Cause {
    let left = deletion.deadline.duration_since(ctx.now()).as_secs().max(0);
    Cause::new(
        terminating_finding(
            subject,
            ctx.now(),
            Severity::Info,
            "pod-in-grace-period",
            &format!(
                "still within its {}s grace period ({left}s left)",
                deletion.grace_seconds
            ),
        )
        .explain("The kubelet is giving the containers time to stop. Check again after the grace period."),
    )
}

fn phase_unknown(ctx: &Ctx, subject: &MetaObject, pod: &Pod, node: Option<&str>) -> Cause {
    let node = node.unwrap_or("(none)");
    let finding = Finding::new(
        Severity::Error,
        subject.reference(),
        "pod-phase-unknown",
        format!("Unknown: the state of the pod could not be obtained from node {node}"),
    )
    .explain("Phase Unknown means the pod's node stopped reporting. It ends when the node returns or is removed.")
    .evidence(
        "status.phase = Unknown",
        Source::Field {
            object: subject.reference(),
            path: "status.phase".into(),
        },
    );
    Cause::new(finding).step(force_delete_step(ctx, subject, pod, node))
}

fn node_unchecked(ctx: &Ctx, subject: &MetaObject, pod: &Pod, reason: &str) -> Cause {
    let node = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .unwrap_or_default();
    let finding = terminating_finding(
        subject,
        ctx.now(),
        ctx.severity(subject),
        "pod-node-unchecked",
        &format!("its kubelet on node {node} has not finished, and the node could not be checked"),
    )
    .explain(format!(
        "Nodes could not be read ({reason}), so whether node {node} is up is unknown."
    ));
    Cause::new(finding).step(force_delete_step(ctx, subject, pod, node))
}
