//! A pod whose kubelet is alive (the node Ready, or NotReady with a fresh lease or heartbeat) but
//! does not finish its deletion: the teardown failures its events report, and the NotReady reason.

use k8s_openapi::api::core::v1::{Event, Pod};
use kube_runbook::{
    report::{Finding, Remedy, Source},
    state::event_time,
};

use super::force_delete::force_delete_step;
use crate::{
    analyse::{
        Ctx,
        cause::{Cause, ago, first_line},
        node::AliveNode,
        terminating::terminating_finding,
    },
    inventory::MetaObject,
};

/// Event reasons and message fragments that say a kubelet cannot finish tearing a pod down.
const TEARDOWN_REASONS: &[&str] = &[
    "FailedKillPod",
    "FailedPreStopHook",
    "FailedUnMount",
    "FailedUnmount",
    "FailedDetachVolume",
    "VolumeFailedUnmount",
];
const TEARDOWN_WORDS: &[&str] = &[
    "unmount",
    "teardown",
    "tear down",
    "device or resource busy",
];

/// The kubelet is alive (the node Ready, or NotReady with a fresh lease or heartbeat) but has not
/// finished.
pub(super) fn kubelet_not_finishing(
    ctx: &Ctx,
    subject: &MetaObject,
    pod: &Pod,
    node: &str,
    not_ready: Option<&AliveNode>,
) -> Cause {
    let teardown = teardown_failures(ctx, subject, pod);
    let failure = teardown.first().and_then(|e| e.message.as_deref());
    let finding = terminating_finding(
        subject,
        ctx.now(),
        ctx.severity(subject),
        "pod-kubelet-not-finishing",
        &headline(node, failure, not_ready),
    )
    .explain(explanation(not_ready));
    Cause::new(with_evidence(ctx, finding, node, &teardown, not_ready))
        .advice(where_to_look(subject, node, not_ready))
        .step(force_delete_step(ctx, subject, pod, node))
}

/// The pod's events that report an unmount, kill or teardown failure.
fn teardown_failures<'a>(ctx: &Ctx<'a>, subject: &MetaObject, pod: &Pod) -> Vec<&'a Event> {
    ctx.inv
        .state
        .events_for(
            "Pod",
            subject.namespace(),
            subject.name(),
            pod.metadata.uid.as_deref(),
        )
        .into_iter()
        .filter(|e| {
            let reason = e.reason.as_deref().unwrap_or_default();
            let message = e.message.as_deref().unwrap_or_default().to_lowercase();
            TEARDOWN_REASONS.contains(&reason) || TEARDOWN_WORDS.iter().any(|w| message.contains(w))
        })
        .collect()
}

/// "node n1 is up but its kubelet cannot finish: <the first teardown failure>".
fn headline(node: &str, failure: Option<&str>, not_ready: Option<&AliveNode>) -> String {
    match (failure, not_ready) {
        (Some(message), None) => format!(
            "node {node} is up but its kubelet cannot finish: {}",
            first_line(message)
        ),
        (Some(message), Some(alive)) => format!(
            "node {node} is NotReady ({}) and its kubelet cannot finish: {}",
            alive.not_ready_because(),
            first_line(message)
        ),
        (None, Some(alive)) => format!(
            "node {node} is NotReady ({}) while its kubelet is alive: it cannot finish the deletion",
            alive.not_ready_because()
        ),
        (None, None) => format!("node {node} is up but its kubelet has not finished the deletion"),
    }
}

fn explanation(not_ready: Option<&AliveNode>) -> &'static str {
    match not_ready {
        None => {
            "The node reports Ready, so its kubelet is alive, yet it has not confirmed the containers \
             stopped. Usually a volume cannot be unmounted (still busy, a hung network filesystem, a CSI \
             driver down on the node) or the container runtime cannot kill a container."
        }
        Some(_) => {
            "The node reports NotReady, which only its kubelet writes, and the kubelet still renews its \
             lease (or, with no lease read, still posts node status): it is alive but cannot confirm the \
             containers stopped. Usually the container runtime, the network plugin (CNI) or the pod \
             lifecycle event generator (PLEG) is failing on the node. The machine is not shut down, so \
             the out-of-service taint and deleting the Node object do not apply: fix the node, and the \
             kubelet finishes the deletion."
        }
    }
}

/// The node's NotReady facts, each teardown failure, or that no event explains it.
fn with_evidence(
    ctx: &Ctx,
    mut finding: Finding,
    node: &str,
    teardown: &[&Event],
    not_ready: Option<&AliveNode>,
) -> Finding {
    for (fact, source) in not_ready.iter().flat_map(|alive| alive.evidence(ctx.now())) {
        finding = finding.evidence(format!("node {node}: {fact}"), source);
    }
    for event in teardown {
        finding = finding.evidence(
            event.message.as_deref().map(first_line).unwrap_or_default(),
            Source::event(event, event_time(event).map(|t| ago(t, ctx.now()))),
        );
    }
    if teardown.is_empty() && not_ready.is_none() {
        finding = finding.evidence(
            "no event explains it (events expire after an hour)",
            Source::Computed,
        );
    }
    finding
}

/// Where to look next: the pod's failing unmount or kill, or what keeps the node NotReady.
fn where_to_look(subject: &MetaObject, node: &str, not_ready: Option<&AliveNode>) -> Remedy {
    match not_ready {
        None => Remedy::command(
            format!(
                "Find what the kubelet on {node} is stuck on: the unmount or kill that fails, in its log"
            ),
            format!(
                "kubectl describe pod {} -n {}",
                subject.name(),
                subject.namespace().unwrap_or_default()
            ),
        ),
        Some(_) => Remedy::command(
            format!(
                "Bring node {node} back to Ready: fix the container runtime, network plugin or PLEG its Ready condition names (see its kubelet log)"
            ),
            format!("kubectl describe node {node}"),
        ),
    }
}
