//! StatefulSet rollouts stuck on a broken pod (003 6.6.1): with the default OrderedReady policy a
//! rolling update replaces one pod at a time and waits for it to be Running and Ready; a pod that
//! crashes holds the rollout, and one left at an older revision is not replaced until it is deleted.

use k8s_openapi::api::{apps::v1::StatefulSet, core::v1::Pod};
use kube_runbook::{
    report::{Finding, Remedy, Severity, Source},
    state::Kind,
};

use super::{
    Ctx, Diagnosis,
    cause::{Cause, for_how_long},
};
use crate::{
    fix::plan::{Action, Rung, Step},
    inventory::{Inventory, MetaObject},
};

/// Container waiting reasons that do not resolve by waiting.
const BROKEN_REASONS: &[&str] = &[
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
];
const REVISION_LABEL: &str = "controller-revision-hash";

/// Explains a StatefulSet whose rollout waits on a broken pod.
pub fn analyse(ctx: &Ctx, subject: &MetaObject, out: &mut Diagnosis) {
    let Some(set) = subject
        .namespace()
        .and_then(|ns| ctx.inv.stateful_set(ns, subject.name()))
    else {
        return;
    };
    let Some((update_revision, pod, reason)) = blocking_pod(ctx.inv, set) else {
        return;
    };
    let pod_name = pod.metadata.name.as_deref().unwrap_or_default();
    let pod_revision = pod
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(REVISION_LABEL))
        .map(String::as_str)
        .unwrap_or("unknown");
    let not_ready_since = pod
        .status
        .iter()
        .flat_map(|s| s.conditions.iter().flatten())
        .find(|c| c.type_ == "Ready")
        .and_then(|c| c.last_transition_time.as_ref())
        .map(|t| t.0);
    let at_update = pod_revision == update_revision;
    let title = format!(
        "{}: pod {pod_name} is {reason}, and the rollout waits for it",
        for_how_long(
            &format!("Rollout to {update_revision} stuck"),
            not_ready_since,
            ctx.now()
        )
    );
    let explanation = if at_update {
        format!(
            "A StatefulSet updates one pod at a time and waits until it is Running and Ready. {pod_name} \
             already runs the new revision {update_revision} and does not become Ready, so the new \
             template itself is broken: fix it (or roll back); then delete {pod_name} so it is recreated."
        )
    } else {
        format!(
            "A StatefulSet updates one pod at a time and waits until it is Running and Ready. {pod_name} \
             is at revision {pod_revision}, not the update revision {update_revision}, and the controller \
             does not replace a pod that is not Ready: it waits forever. Deleting {pod_name} lets it be \
             recreated at {update_revision}."
        )
    };
    let pod_object = MetaObject::of_kind(Kind::Pod, &pod.metadata);
    let finding = Finding::new(
        Severity::Error,
        subject.reference(),
        "statefulset-rollout-blocked",
        title,
    )
    .explain(explanation)
    .evidence(
        format!("updateRevision {update_revision}; pod {pod_name} is at {pod_revision}"),
        Source::Field {
            object: subject.reference(),
            path: "status.updateRevision".into(),
        },
    )
    .evidence(
        format!("pod {pod_name}: {reason}"),
        Source::Object {
            object: pod_object.reference(),
        },
    );
    let mut cause = Cause::new(finding);
    if at_update {
        cause = cause.advice(Remedy::command(
            "Fix the template (image, command, config) or roll back to the previous revision",
            format!(
                "kubectl rollout undo statefulset {} -n {}",
                subject.name(),
                subject.namespace().unwrap_or_default()
            ),
        ));
    }
    out.add(cause.step(Step::new(
        Rung::FixCause,
        Action::Delete(pod_object),
        format!("the StatefulSet recreates it at revision {update_revision}"),
        format!(
            "{pod_name} restarts; if revision {update_revision} is itself broken it fails again"
        ),
    )));
}

/// Whether the StatefulSet's rollout waits on a broken pod.
pub fn rollout_blocked(inventory: &Inventory, object: &MetaObject) -> bool {
    object
        .namespace()
        .and_then(|ns| inventory.stateful_set(ns, object.name()))
        .and_then(|set| blocking_pod(inventory, set))
        .is_some()
}

/// The update revision and the broken pod the rollout waits on, with why it is broken.
fn blocking_pod<'a>(
    inventory: &'a Inventory,
    set: &StatefulSet,
) -> Option<(String, &'a Pod, String)> {
    let status = set.status.as_ref()?;
    let update = status.update_revision.clone()?;
    let current = status.current_revision.as_deref().unwrap_or_default();
    let policy = set
        .spec
        .pod_management_policy
        .as_deref()
        .unwrap_or("OrderedReady");
    if update == current || policy != "OrderedReady" {
        return None;
    }
    let namespace = set.metadata.namespace.as_deref()?;
    let uid = set.metadata.uid.as_deref()?;
    let mut pods: Vec<&Pod> = inventory
        .pods_in(namespace)
        .filter(|p| {
            p.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|o| o.uid == uid && o.controller == Some(true))
        })
        .collect();
    pods.sort_by_key(|p| std::cmp::Reverse(ordinal(p)));
    pods.into_iter()
        .find_map(|p| broken_reason(p).map(|reason| (update.clone(), p, reason)))
}

fn ordinal(pod: &Pod) -> u32 {
    pod.metadata
        .name
        .as_deref()
        .and_then(|n| n.rsplit('-').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn broken_reason(pod: &Pod) -> Option<String> {
    let status = pod.status.as_ref()?;
    status
        .container_statuses
        .iter()
        .flatten()
        .find_map(|c| {
            let waiting = c.state.as_ref()?.waiting.as_ref()?.reason.clone()?;
            BROKEN_REASONS.contains(&waiting.as_str()).then(|| {
                let last = c
                    .last_state
                    .as_ref()
                    .and_then(|s| s.terminated.as_ref())
                    .map(|t| format!(", last exit code {}", t.exit_code))
                    .unwrap_or_default();
                format!("{waiting} ({} restarts{last})", c.restart_count)
            })
        })
        .or_else(|| (status.phase.as_deref() == Some("Failed")).then(|| "Failed".to_string()))
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::{apps::v1::StatefulSet, core::v1::Pod};
    use serde_json::json;

    use super::*;
    use crate::analyse::{
        diagnose,
        testing::{add, from, inventory},
    };

    fn set() -> StatefulSet {
        from(json!({
            "metadata": {"name": "db", "namespace": "shop", "uid": "u-db"},
            "spec": {"replicas": 3, "selector": {}, "serviceName": "db", "template": {}},
            "status": {"replicas": 3, "currentRevision": "db-old", "updateRevision": "db-new"},
        }))
    }

    fn member(ordinal: u32, revision: &str, waiting: Option<&str>) -> Pod {
        let state = match waiting {
            Some(reason) => json!({"waiting": {"reason": reason}}),
            None => json!({"running": {}}),
        };
        from(json!({
            "metadata": {"name": format!("db-{ordinal}"), "namespace": "shop", "uid": format!("u-{ordinal}"),
                         "labels": {"controller-revision-hash": revision},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "uid": "u-db", "controller": true}]},
            "spec": {"containers": [{"name": "db", "image": "db"}]},
            "status": {"phase": "Running",
                       "conditions": [{"type": "Ready", "status": if waiting.is_some() { "False" } else { "True" }, "lastTransitionTime": "2026-01-01T00:00:00Z"}],
                       "containerStatuses": [{"name": "db", "image": "db", "imageID": "", "ready": waiting.is_none(), "restartCount": 7,
                                              "state": state, "lastState": {"terminated": {"exitCode": 1}}}]},
        }))
    }

    #[test]
    fn crashing_pod_at_the_old_revision_blocks_the_rollout() {
        let mut inv = inventory("2026-01-01T00:12:00Z");
        add(&mut inv, set());
        add(&mut inv, member(0, "db-old", None));
        add(&mut inv, member(1, "db-old", Some("CrashLoopBackOff")));
        add(&mut inv, member(2, "db-new", None));
        let subject = inv
            .object("apps", "StatefulSet", Some("shop"), "db")
            .cloned()
            .unwrap();
        assert!(rollout_blocked(&inv, &subject));
        let d = diagnose(&inv, &subject);
        let finding = &d.findings[0];
        assert_eq!(finding.code, "statefulset-rollout-blocked");
        assert_eq!(
            finding.title,
            "Rollout to db-new stuck for 12m: pod db-1 is CrashLoopBackOff (7 restarts, last exit code 1), and the rollout waits for it"
        );
        assert!(finding.explanation.contains("is at revision db-old"));
        assert_eq!(d.ladder()[0].key(), "delete Pod shop/db-1");
    }

    #[test]
    fn healthy_rollout_is_not_stuck() {
        let mut inv = inventory("2026-01-01T00:12:00Z");
        add(&mut inv, set());
        add(&mut inv, member(0, "db-old", None));
        let subject = inv
            .object("apps", "StatefulSet", Some("shop"), "db")
            .cloned()
            .unwrap();
        assert!(!rollout_blocked(&inv, &subject));
        assert!(diagnose(&inv, &subject).findings.is_empty());
    }
}
