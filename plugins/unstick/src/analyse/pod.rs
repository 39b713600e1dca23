//! Pods stuck in Terminating or Unknown (runbook 001 item 6): node gone, node not reporting, node
//! back but its kubelet not finishing (volume unmount failures), StatefulSet pods on a lost node
//! that are never replaced (003 6.6.2), and the force-delete danger for StatefulSets and RWO volumes.

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::{
    report::{Finding, Remedy, Severity, Source},
    state::{controller_of, event_time},
};

use super::{
    Ctx, Diagnosis,
    cause::{Cause, ago, elapsed, first_line, for_how_long},
    node::{AliveNode, LostNode, NodeHealth, node_health, removal_event},
    terminating::{Deletion, terminating_finding, timing_details},
};
use crate::{
    fix::plan::{Action, Rung, Step},
    inventory::{Inventory, MetaObject},
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
/// How long pod GC may take to force-delete the pods of an out-of-service node (it runs every 20s).
const POD_GC_GRACE: std::time::Duration = std::time::Duration::from_secs(60);
/// How long pod GC may take to force-delete the pods of a deleted node: it first waits 40s for
/// the node to reappear, and looks every 20s.
const ORPHAN_GC_GRACE: std::time::Duration = std::time::Duration::from_secs(90);

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

fn owning_stateful_set(pod: &Pod) -> Option<&str> {
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

fn node_missing(ctx: &Ctx, subject: &MetaObject, pod: &Pod, node: &str) -> Cause {
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
fn pod_gc_pending(ctx: &Ctx, subject: &MetaObject, lost: &LostNode) -> Option<Cause> {
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

fn node_lost(ctx: &Ctx, subject: &MetaObject, pod: &Pod, lost: &LostNode) -> Cause {
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
fn not_replaced(ctx: &Ctx, subject: &MetaObject, pod: &Pod, lost: &LostNode) -> Cause {
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

/// The kubelet is alive (the node Ready, or NotReady with a fresh lease or heartbeat) but has not
/// finished.
fn kubelet_not_finishing(
    ctx: &Ctx,
    subject: &MetaObject,
    pod: &Pod,
    node: &str,
    not_ready: Option<&AliveNode>,
) -> Cause {
    let events = ctx.inv.state.events_for(
        "Pod",
        subject.namespace(),
        subject.name(),
        pod.metadata.uid.as_deref(),
    );
    let teardown: Vec<_> = events
        .into_iter()
        .filter(|e| {
            let reason = e.reason.as_deref().unwrap_or_default();
            let message = e.message.as_deref().unwrap_or_default().to_lowercase();
            TEARDOWN_REASONS.contains(&reason) || TEARDOWN_WORDS.iter().any(|w| message.contains(w))
        })
        .collect();
    let cause = match (
        teardown.first().and_then(|e| e.message.as_deref()),
        not_ready,
    ) {
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
    };
    let mut finding = terminating_finding(
        subject,
        ctx.now(),
        ctx.severity(subject),
        "pod-kubelet-not-finishing",
        &cause,
    )
    .explain(match not_ready {
        None => "The node reports Ready, so its kubelet is alive, yet it has not confirmed the containers stopped. \
         Usually a volume cannot be unmounted (still busy, a hung network filesystem, a CSI driver down on \
         the node) or the container runtime cannot kill a container.",
        Some(_) => "The node reports NotReady, which only its kubelet writes, and the kubelet still renews its lease \
         (or, with no lease read, still posts node status): it is alive but cannot \
         confirm the containers stopped. Usually the container runtime, the network plugin (CNI) or the pod \
         lifecycle event generator (PLEG) is failing on the node. The machine is not shut down, so the \
         out-of-service taint and deleting the Node object do not apply: fix the node, and the kubelet \
         finishes the deletion.",
    });
    for (fact, source) in not_ready.iter().flat_map(|alive| alive.evidence(ctx.now())) {
        finding = finding.evidence(format!("node {node}: {fact}"), source);
    }
    for event in &teardown {
        finding = finding.evidence(
            event.message.as_deref().map(first_line).unwrap_or_default(),
            Source::event(
                event,
                kube_runbook::state::event_time(event).map(|t| ago(t, ctx.now())),
            ),
        );
    }
    if teardown.is_empty() && not_ready.is_none() {
        finding = finding.evidence(
            "no event explains it (events expire after an hour)",
            Source::Computed,
        );
    }
    let look = match not_ready {
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
    };
    Cause::new(finding)
        .advice(look)
        .step(force_delete_step(ctx, subject, pod, node))
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

/// Force deletion: confirmed by typing the pod's name when it belongs to a StatefulSet or uses a
/// ReadWriteOnce volume, since a pod that still runs would then exist twice.
fn force_delete_step(ctx: &Ctx, subject: &MetaObject, pod: &Pod, node: &str) -> Step {
    let name = subject.name();
    let rwo = read_write_once_claims(ctx.inv, pod);
    let step = |danger: String| {
        Step::new(
            Rung::ForceDelete,
            Action::ForceDeletePod(subject.clone()),
            "the API server removes the pod without waiting for its kubelet",
            danger,
        )
    };
    if let Some(set) = owning_stateful_set(pod) {
        step(format!(
            "split-brain: if {name} still runs on {node}, StatefulSet {set} starts a second {name} elsewhere and both write the same data"
        ))
        .confirm_by_typing(name)
    } else if !rwo.is_empty() {
        step(format!(
            "data loss: if {name} still runs on {node}, a replacement mounts ReadWriteOnce claim {} at the same time",
            rwo.join(", ")
        ))
        .confirm_by_typing(name)
    } else {
        step(format!(
            "if {name} still runs on {node}, its containers keep running unseen until the kubelet returns"
        ))
    }
}

/// Claims of the pod that are (or may be, when unread) ReadWriteOnce or ReadWriteOncePod.
fn read_write_once_claims(inventory: &Inventory, pod: &Pod) -> Vec<String> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
    let pod_name = pod.metadata.name.as_deref().unwrap_or_default();
    let claims = pod
        .spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .filter_map(|v| {
            if let Some(claim) = &v.persistent_volume_claim {
                Some(claim.claim_name.clone())
            } else {
                v.ephemeral
                    .as_ref()
                    .map(|_| format!("{pod_name}-{}", v.name))
            }
        });
    claims
        .filter(|claim| match inventory.pvc(namespace, claim) {
            Some(pvc) => pvc
                .spec
                .iter()
                .flat_map(|s| s.access_modes.iter().flatten())
                .any(|m| m == "ReadWriteOnce" || m == "ReadWriteOncePod"),
            None => true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim, Pod};
    use serde_json::{Value, json};

    use super::*;
    use crate::{
        analyse::{
            diagnose,
            testing::{add, from, inventory, node},
        },
        fix::plan::Rung,
    };

    const NOW: &str = "2026-01-01T00:10:00Z";

    fn pod(name: &str, node: &str, extra: Value) -> Pod {
        let mut value = json!({
            "metadata": {
                "name": name, "namespace": "shop", "uid": format!("uid-{name}"), "resourceVersion": "7",
                "deletionTimestamp": "2026-01-01T00:00:30Z", "deletionGracePeriodSeconds": 30,
            },
            "spec": {"nodeName": node, "containers": [{"name": "app", "image": "app:1"}]},
            "status": {"phase": "Running"},
        });
        merge(&mut value, extra);
        from(value)
    }

    fn merge(base: &mut Value, extra: Value) {
        match (base, extra) {
            (Value::Object(base), Value::Object(extra)) => {
                for (k, v) in extra {
                    merge(base.entry(k).or_insert(Value::Null), v);
                }
            }
            (base, extra) => *base = extra,
        }
    }

    /// A kubelet Warning about pod shop/stuck.
    fn kubelet_event(reason: &str, count: i32, message: &str) -> Event {
        from(json!({
            "metadata": {"name": "e1", "namespace": "shop"},
            "involvedObject": {"kind": "Pod", "name": "stuck", "namespace": "shop", "uid": "uid-stuck"},
            "reason": reason, "type": "Warning", "count": count, "message": message,
            "lastTimestamp": "2026-01-01T00:09:00Z", "source": {"component": "kubelet"},
        }))
    }

    fn subject(inv: &crate::inventory::Inventory, name: &str) -> MetaObject {
        inv.object("", "Pod", Some("shop"), name).cloned().unwrap()
    }

    #[test]
    fn pod_on_a_node_that_stopped_heartbeating() {
        let mut inv = inventory(NOW);
        inv.state
            .nodes
            .push(node("n1", "Unknown", "2026-01-01T00:01:00Z"));
        add(
            &mut inv,
            pod(
                "web-7d9",
                "n1",
                json!({
                    "metadata": {"ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d", "uid": "rs", "controller": true}]},
                }),
            ),
        );
        let d = diagnose(&inv, &subject(&inv, "web-7d9"));
        assert_eq!(d.findings.len(), 1, "{:#?}", d.findings);
        let finding = &d.findings[0];
        assert_eq!(finding.code, "pod-node-unreachable");
        assert_eq!(
            finding.title,
            "Terminating for 10m: node n1 stopped reporting (Ready=Unknown): no kubelet can confirm the pod stopped"
        );
        assert_eq!(finding.severity, Severity::Error);
        let ladder = d.ladder();
        let keys: Vec<String> = ladder.iter().map(Step::key).collect();
        assert_eq!(
            keys,
            vec![
                "taint Node n1",
                "delete Node n1",
                "force-delete Pod shop/web-7d9"
            ]
        );
        assert_eq!(
            ladder[2].typed_confirmation, None,
            "a Deployment pod without volumes needs no typed name"
        );
    }

    #[test]
    fn statefulset_pod_on_a_lost_node_is_never_replaced() {
        let mut inv = inventory(NOW);
        inv.state
            .nodes
            .push(node("n1", "Unknown", "2026-01-01T00:07:00Z"));
        let mut not_deleted = pod(
            "db-0",
            "n1",
            json!({
                "metadata": {"ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "uid": "sts", "controller": true}]},
            }),
        );
        not_deleted.metadata.deletion_timestamp = None;
        not_deleted.metadata.deletion_grace_period_seconds = None;
        add(&mut inv, not_deleted);
        let object = subject(&inv, "db-0");
        assert!(stuck_without_deletion(&inv, &object));
        let d = diagnose(&inv, &object);
        let finding = &d.findings[0];
        assert_eq!(finding.code, "statefulset-pod-on-lost-node");
        assert_eq!(
            finding.title,
            "On a lost node for 3m: node n1 stopped reporting (Ready=Unknown); StatefulSet db will not replace db-0 until the node is handled"
        );
        let force = d
            .ladder()
            .into_iter()
            .find(|s| s.rung == Rung::ForceDelete)
            .unwrap();
        assert_eq!(force.typed_confirmation.as_deref(), Some("db-0"));
        assert!(force.danger.starts_with("split-brain"), "{}", force.danger);
    }

    #[test]
    fn rwo_volume_needs_a_typed_name_to_force_delete() {
        let mut inv = inventory(NOW);
        inv.state
            .nodes
            .push(node("n1", "Unknown", "2026-01-01T00:01:00Z"));
        inv.state
            .persistent_volume_claims
            .push(from::<PersistentVolumeClaim>(json!({
                "metadata": {"name": "data", "namespace": "shop"},
                "spec": {"accessModes": ["ReadWriteOnce"]},
            })));
        add(
            &mut inv,
            pod(
                "solo",
                "n1",
                json!({"spec": {"volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]}}),
            ),
        );
        let d = diagnose(&inv, &subject(&inv, "solo"));
        let force = d
            .ladder()
            .into_iter()
            .find(|s| s.rung == Rung::ForceDelete)
            .unwrap();
        assert_eq!(force.typed_confirmation.as_deref(), Some("solo"));
        assert!(
            force.danger.contains("ReadWriteOnce claim data"),
            "{}",
            force.danger
        );
    }

    #[test]
    fn a_freshly_out_of_service_node_is_left_to_pod_gc() {
        let mut inv = inventory(NOW);
        let mut down = node("n1", "Unknown", "2026-01-01T00:01:00Z");
        down.spec = Some(from(json!({"taints": [{
            "key": "node.kubernetes.io/out-of-service", "value": "nodeshutdown", "effect": "NoExecute",
            "timeAdded": "2026-01-01T00:09:40Z",
        }]})));
        inv.state.nodes.push(down);
        add(&mut inv, pod("web-1", "n1", json!({})));
        let d = diagnose(&inv, &subject(&inv, "web-1"));
        assert_eq!(d.findings[0].code, "pod-node-out-of-service");
        assert_eq!(d.findings[0].severity, Severity::Info);
        assert!(d.steps.is_empty());
        assert!(!d.is_stuck());
    }

    #[test]
    fn a_statefulset_pod_on_a_freshly_out_of_service_node_waits_for_eviction() {
        let mut inv = inventory(NOW);
        let mut down = node("n1", "Unknown", "2026-01-01T00:01:00Z");
        down.spec = Some(from(json!({"taints": [{
            "key": "node.kubernetes.io/out-of-service", "value": "nodeshutdown", "effect": "NoExecute",
            "timeAdded": "2026-01-01T00:09:50Z",
        }]})));
        inv.state.nodes.push(down);
        let mut member = pod(
            "db-0",
            "n1",
            json!({
                "metadata": {"ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "uid": "s", "controller": true}]},
            }),
        );
        member.metadata.deletion_timestamp = None;
        add(&mut inv, member);
        let d = diagnose(&inv, &subject(&inv, "db-0"));
        assert_eq!(d.findings[0].code, "pod-node-out-of-service");
        assert_eq!(d.findings[0].severity, Severity::Info);
        assert!(!d.is_stuck());
    }

    #[test]
    fn node_gone() {
        let mut inv = inventory(NOW);
        add(&mut inv, pod("orphan", "vanished", json!({})));
        let d = diagnose(&inv, &subject(&inv, "orphan"));
        assert_eq!(d.findings[0].code, "pod-node-missing");
        let keys: Vec<String> = d.ladder().iter().map(Step::key).collect();
        assert_eq!(keys, vec!["force-delete Pod shop/orphan"]);
    }

    #[test]
    fn a_node_deleted_moments_ago_is_left_to_pod_gc() {
        let mut inv = inventory(NOW);
        add(&mut inv, pod("orphan", "vanished", json!({})));
        inv.state.events.push(from(json!({
            "metadata": {"name": "vanished.1", "namespace": "default"},
            "involvedObject": {"kind": "Node", "name": "vanished", "uid": "uid-vanished"},
            "reason": "RemovingNode", "type": "Normal", "message": "Removing Node vanished from Controller",
            "lastTimestamp": "2026-01-01T00:09:30Z", "source": {"component": "node-controller"},
        })));
        let d = diagnose(&inv, &subject(&inv, "orphan"));
        let finding = &d.findings[0];
        assert_eq!(finding.code, "pod-node-missing");
        assert_eq!(finding.severity, Severity::Info);
        assert_eq!(
            finding.title,
            "Terminating for 10m: node vanished was deleted 30s ago; pod GC force-deletes the pod shortly"
        );
        assert!(d.steps.is_empty(), "pod GC acts: nothing to force");
        assert!(!d.is_stuck());

        let later = {
            let mut inv = inv.clone();
            inv.state.observed_at = "2026-01-01T00:12:00Z".parse().unwrap();
            inv
        };
        let d = diagnose(&later, &subject(&later, "orphan"));
        assert_eq!(d.findings[0].severity, Severity::Error);
        assert_eq!(
            d.findings[0].evidence[1].fact,
            "node vanished was deleted 2m30s ago"
        );
        let keys: Vec<String> = d.ladder().iter().map(Step::key).collect();
        assert_eq!(keys, vec!["force-delete Pod shop/orphan"]);
    }

    #[test]
    fn kubelet_alive_but_volume_will_not_unmount() {
        let mut inv = inventory(NOW);
        inv.state
            .nodes
            .push(node("n1", "True", "2026-01-01T00:00:00Z"));
        add(&mut inv, pod("stuck", "n1", json!({})));
        inv.state.events.push(kubelet_event(
            "FailedUnMount",
            12,
            "UnmountVolume.TearDown failed for volume \"data\" : device or resource busy",
        ));
        let d = diagnose(&inv, &subject(&inv, "stuck"));
        let finding = &d.findings[0];
        assert_eq!(finding.code, "pod-kubelet-not-finishing");
        assert!(finding.title.ends_with(
            "node n1 is up but its kubelet cannot finish: UnmountVolume.TearDown failed for volume \"data\" : device or resource busy"
        ), "{}", finding.title);
        assert!(matches!(
            finding.evidence[0].source,
            Source::Event {
                count: Some(12),
                ..
            }
        ));
    }

    #[test]
    fn not_ready_with_a_fresh_lease_is_a_kubelet_not_finishing_not_a_lost_node() {
        let mut inv = inventory(NOW);
        inv.state.nodes.push(from(json!({
            "metadata": {"name": "n1", "uid": "uid-n1", "resourceVersion": "10"},
            "status": {"conditions": [{
                "type": "Ready", "status": "False", "reason": "KubeletNotReady",
                "message": "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady",
                "lastTransitionTime": "2026-01-01T00:02:00Z", "lastHeartbeatTime": "2026-01-01T00:09:50Z",
            }]},
        })));
        inv.state.leases.push(from(json!({
            "metadata": {"name": "n1", "namespace": "kube-node-lease"},
            "spec": {"renewTime": "2026-01-01T00:09:55.000000Z", "leaseDurationSeconds": 40},
        })));
        add(&mut inv, pod("stuck", "n1", json!({})));
        let d = diagnose(&inv, &subject(&inv, "stuck"));
        assert_eq!(d.findings.len(), 1, "{:#?}", d.findings);
        let finding = &d.findings[0];
        assert_eq!(finding.code, "pod-kubelet-not-finishing");
        assert!(finding.title.ends_with(
            "node n1 is NotReady (KubeletNotReady: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady) while its kubelet is alive: it cannot finish the deletion"
        ), "{}", finding.title);
        assert_eq!(
            finding.evidence[0].fact,
            "node n1: Ready=False since 8m ago (KubeletNotReady): container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady"
        );
        assert_eq!(
            finding.evidence[1].fact,
            "node n1: its kubelet lease was last renewed 5s ago (lease duration 40s)"
        );
        let keys: Vec<String> = d.ladder().iter().map(Step::key).collect();
        assert_eq!(
            keys,
            vec!["force-delete Pod shop/stuck"],
            "neither the out-of-service taint nor deleting the Node fits a machine that runs"
        );
        inv.state.events.push(kubelet_event(
            "FailedKillPod",
            3,
            "error killing pod: rpc error: code = DeadlineExceeded",
        ));
        let with_event = diagnose(&inv, &subject(&inv, "stuck"));
        assert!(with_event.findings[0].title.ends_with(
            "node n1 is NotReady (KubeletNotReady: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady) and its kubelet cannot finish: error killing pod: rpc error: code = DeadlineExceeded"
        ), "{}", with_event.findings[0].title);
    }

    #[test]
    fn within_grace_period_is_info() {
        let mut inv = inventory("2026-01-01T00:00:10Z");
        inv.state
            .nodes
            .push(node("n1", "True", "2026-01-01T00:00:00Z"));
        add(&mut inv, pod("leaving", "n1", json!({})));
        let d = diagnose(&inv, &subject(&inv, "leaving"));
        assert_eq!(d.findings[0].code, "pod-in-grace-period");
        assert_eq!(d.findings[0].severity, Severity::Info);
        assert!(d.steps.is_empty());
    }

    #[test]
    fn finished_kubelet_leaves_only_the_finalizer() {
        let mut inv = inventory(NOW);
        add(
            &mut inv,
            pod(
                "held",
                "n1",
                json!({
                    "metadata": {"deletionGracePeriodSeconds": 0, "deletionTimestamp": "2026-01-01T00:00:00Z", "finalizers": ["example.com/hold"]},
                }),
            ),
        );
        let d = diagnose(&inv, &subject(&inv, "held"));
        let codes: Vec<&str> = d.findings.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(codes, vec!["finalizer-no-controller"]);
    }
}
