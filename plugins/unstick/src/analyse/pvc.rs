//! Claims stuck on `kubernetes.io/pvc-protection`: which scheduled pods, finished ones included,
//! still use the claim, and how to release it (003 6.8.3: scale a StatefulSet to 0 first; a
//! retained volume's data stays on the backend and is cleaned up by hand).

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::{
    report::{Finding, ObjectRef, Remedy, Severity, Source},
    state::{Kind, controller_of},
};

use super::{
    Ctx, Diagnosis,
    cause::Cause,
    finalizers::{known, removal_step},
    terminating::terminating_finding,
};
use crate::{
    fix::plan::{Action, Rung, Step},
    inventory::MetaObject,
};

const FINALIZER: &str = "kubernetes.io/pvc-protection";

/// Claim-specific facts besides finalizers: data a retained volume keeps after deletion.
pub fn analyse(ctx: &Ctx, subject: &MetaObject, out: &mut Diagnosis) {
    if subject.deletion_timestamp().is_none() {
        return;
    }
    let Some(namespace) = subject.namespace() else {
        return;
    };
    let Some(pv) = ctx
        .inv
        .pvc(namespace, subject.name())
        .and_then(|c| c.spec.as_ref()?.volume_name.as_deref())
        .and_then(|name| ctx.inv.pv(name))
    else {
        return;
    };
    let policy = pv
        .spec
        .as_ref()
        .and_then(|s| s.persistent_volume_reclaim_policy.as_deref())
        .unwrap_or("Delete");
    if policy != "Retain" {
        return;
    }
    let pv_name = pv.metadata.name.as_deref().unwrap_or_default();
    let finding = Finding::new(
        Severity::Warning,
        subject.reference(),
        "pvc-data-retained",
        format!("after the claim goes, volume {pv_name} keeps its data (reclaimPolicy Retain)"),
    )
    .explain(format!(
        "Deleting the claim only releases PersistentVolume {pv_name}: its data stays on the storage backend \
         (for a NAS, the claim's directory on the share). Clean it up there, then delete the PV."
    ))
    .evidence(
        format!("persistentVolumeReclaimPolicy = {policy}"),
        Source::Field {
            object: ObjectRef::cluster("PersistentVolume", pv_name),
            path: "spec.persistentVolumeReclaimPolicy".into(),
        },
    )
    .remedy(Remedy::command(
        "Once the claim is gone, remove the data on the backend (for a NAS: mount the share, delete the claim's directory), then the PV",
        format!("kubectl delete pv {pv_name}"),
    ));
    out.add(Cause::new(finding));
}

/// `kubernetes.io/pvc-protection` at `index`: the pods still using the claim.
pub fn protection(ctx: &Ctx, subject: &MetaObject, index: usize, out: &mut Diagnosis) {
    let namespace = subject.namespace().unwrap_or_default();
    let claim = subject.name();
    let danger = known(FINALIZER).map(|k| k.danger).unwrap_or_default();
    let removal = removal_step(
        subject,
        FINALIZER,
        index,
        "the claim is deleted even though a pod references it",
        danger,
    );
    if !ctx.inv.state.has(Kind::Pod) {
        let finding = terminating_finding(
            subject,
            ctx.now(),
            ctx.severity(subject),
            "pvc-in-use",
            "kubernetes.io/pvc-protection: pods could not be read to see which use the claim",
        );
        out.add(Cause::new(finding).step(removal));
        return;
    }
    let users: Vec<&Pod> = ctx
        .inv
        .pods_in(namespace)
        .filter(|pod| uses_claim(pod, subject) && is_scheduled(pod))
        .collect();
    if users.is_empty() {
        let finding = terminating_finding(
            subject,
            ctx.now(),
            ctx.severity(subject),
            "pvc-protection-pending",
            "no scheduled pod uses the claim any more; the pvc-protection controller has not removed its finalizer yet",
        )
        .explain(
            "The pvc-protection controller in kube-controller-manager removes kubernetes.io/pvc-protection \
             once no scheduled pod uses the claim. It usually takes seconds; if it does not, \
             kube-controller-manager may not be running.",
        );
        out.add(Cause::new(finding).step(removal));
        return;
    }
    let names: Vec<String> = users.iter().map(|p| describe_user(p)).collect();
    let mut finding = terminating_finding(
        subject,
        ctx.now(),
        Severity::Error,
        "pvc-in-use",
        &format!("still used by {}", names.join(", ")),
    )
    .explain(
        "kubernetes.io/pvc-protection keeps a claim while any scheduled pod lists it as a volume, whatever \
         the pod's phase: a Completed or Failed pod that was never deleted holds the claim as firmly as a \
         running one. Delete the pods (or scale their workload to 0), and the finalizer goes by itself.",
    );
    let mut steps = Vec::new();
    for pod in &users {
        let pod_object = MetaObject::of_kind(Kind::Pod, &pod.metadata);
        finding = finding.evidence(
            format!("{} mounts the claim", describe_user(pod)),
            Source::Field {
                object: pod_object.reference(),
                path: "spec.volumes".into(),
            },
        );
        if pod_object.deletion_timestamp().is_some() {
            if let Some(nested) = ctx.nested(&pod_object) {
                out.absorb(nested);
            }
        } else {
            steps.push(release_step(ctx, pod, &pod_object, claim));
        }
    }
    steps.push(removal);
    out.add(Cause::new(finding).steps(steps));
}

/// What frees the claim from one pod: scale its StatefulSet or Deployment to 0 (deleting the pod
/// would only bring it back), else delete the pod.
fn release_step(ctx: &Ctx, pod: &Pod, pod_object: &MetaObject, claim: &str) -> Step {
    let namespace = pod_object.namespace().unwrap_or_default();
    let workload = ctx.inv.state.top_controller(namespace, &pod.metadata);
    let scalable = workload.as_ref().and_then(|w| {
        let kind = match w.kind.as_str() {
            "StatefulSet" => Kind::StatefulSet,
            "Deployment" => Kind::Deployment,
            _ => return None,
        };
        let meta = match kind {
            Kind::StatefulSet => ctx
                .inv
                .stateful_set(namespace, &w.name)
                .map(|s| s.metadata.clone()),
            _ => ctx
                .inv
                .state
                .deployments
                .iter()
                .find(|d| {
                    d.metadata.namespace.as_deref() == Some(namespace)
                        && d.metadata.name.as_deref() == Some(w.name.as_str())
                })
                .map(|d| d.metadata.clone()),
        }?;
        Some(MetaObject::of_kind(kind, &meta))
    });
    match scalable {
        Some(workload) => {
            let name = workload.reference();
            Step::new(
                Rung::FixCause,
                Action::ScaleToZero(workload),
                format!(
                    "deleting pod {} alone would only bring it back; with no replicas nothing uses claim {claim}",
                    pod_object.name()
                ),
                format!("every replica of {name} stops until it is scaled up again"),
            )
        }
        None => {
            let danger = if matches!(phase(pod), "Succeeded" | "Failed") {
                format!(
                    "the finished pod's logs and exit status go with it{}",
                    workload
                        .map(|w| format!(" ({} {} keeps its own status)", w.kind, w.name))
                        .unwrap_or_default()
                )
            } else {
                "the pod stops; whatever runs in it is interrupted".to_string()
            };
            Step::new(
                Rung::FixCause,
                Action::Delete(pod_object.clone()),
                format!("the pod still holding claim {claim}"),
                danger,
            )
        }
    }
}

/// Whether `pod` holds `claim` as the pvc-protection controller sees it: a persistentVolumeClaim
/// volume always; a generic ephemeral volume only if the claim is the pod's own and the pod is
/// not shut down.
fn uses_claim(pod: &Pod, claim: &MetaObject) -> bool {
    let pod_name = pod.metadata.name.as_deref().unwrap_or_default();
    let owned_by_pod = controller_of(&claim.meta).is_some_and(|owner| {
        owner.kind == "Pod" && Some(owner.uid.as_str()) == pod.metadata.uid.as_deref()
    });
    pod.spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .any(|v| {
            v.persistent_volume_claim
                .as_ref()
                .is_some_and(|c| c.claim_name == claim.name())
                || (v.ephemeral.is_some()
                    && format!("{pod_name}-{}", v.name) == claim.name()
                    && owned_by_pod
                    && !is_shut_down(pod))
        })
}

/// The kubelet is done with the pod, or it was force-deleted: deleted with grace period 0.
fn is_shut_down(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
        && pod.metadata.deletion_grace_period_seconds == Some(0)
}

fn is_scheduled(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .is_some_and(|n| !n.is_empty())
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Unknown")
}

/// "pod job-x-abc (Succeeded, Job job-x)".
fn describe_user(pod: &Pod) -> String {
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    let mut facts = vec![phase(pod).to_string()];
    if pod.metadata.deletion_timestamp.is_some() {
        facts.push("terminating".into());
    }
    if let Some(owner) = controller_of(&pod.metadata) {
        facts.push(format!("{} {}", owner.kind, owner.name));
    }
    format!("pod {name} ({})", facts.join(", "))
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::{
        apps::v1::StatefulSet,
        core::v1::{PersistentVolume, PersistentVolumeClaim, Pod},
    };
    use serde_json::json;

    use super::*;
    use crate::analyse::{
        diagnose,
        testing::{add, from, inventory},
    };

    const NOW: &str = "2026-01-01T00:10:00Z";

    fn claim(finalizers: &[&str]) -> PersistentVolumeClaim {
        from(json!({
            "metadata": {"name": "data", "namespace": "shop", "uid": "u-data", "resourceVersion": "9",
                         "deletionTimestamp": "2026-01-01T00:00:00Z", "finalizers": finalizers},
            "spec": {"accessModes": ["ReadWriteOnce"], "volumeName": "pv-data"},
        }))
    }

    fn user(name: &str, phase: &str, owner: Option<(&str, &str)>) -> Pod {
        let owners: Vec<_> = owner
            .map(|(kind, name)| json!({"apiVersion": "v1", "kind": kind, "name": name, "uid": "o", "controller": true}))
            .into_iter()
            .collect();
        from(json!({
            "metadata": {"name": name, "namespace": "shop", "uid": format!("u-{name}"), "ownerReferences": owners},
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "x"}],
                     "volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "data"}}]},
            "status": {"phase": phase},
        }))
    }

    fn subject(inv: &crate::inventory::Inventory) -> MetaObject {
        inv.object("", "PersistentVolumeClaim", Some("shop"), "data")
            .cloned()
            .unwrap()
    }

    #[test]
    fn completed_job_pod_still_holds_the_claim() {
        let mut inv = inventory(NOW);
        add(&mut inv, claim(&["kubernetes.io/pvc-protection"]));
        add(
            &mut inv,
            user("backup-28xk", "Succeeded", Some(("Job", "backup"))),
        );
        let mut unscheduled = user("pending", "Pending", None);
        if let Some(spec) = unscheduled.spec.as_mut() {
            spec.node_name = None;
        }
        add(&mut inv, unscheduled);
        let d = diagnose(&inv, &subject(&inv));
        let finding = &d.findings[0];
        assert_eq!(finding.code, "pvc-in-use");
        assert_eq!(
            finding.title,
            "Terminating for 10m: still used by pod backup-28xk (Succeeded, Job backup)"
        );
        let ladder = d.ladder();
        let keys: Vec<String> = ladder.iter().map(Step::key).collect();
        assert_eq!(
            keys,
            vec![
                "delete Pod shop/backup-28xk",
                "unfinalize PersistentVolumeClaim shop/data kubernetes.io/pvc-protection"
            ]
        );
        assert!(
            ladder[0].danger.contains("logs and exit status"),
            "{}",
            ladder[0].danger
        );
    }

    #[test]
    fn an_ephemeral_claim_is_held_only_by_its_own_pod_until_the_pod_is_shut_down() {
        let ephemeral_user = |name: &str, uid: &str, extra: serde_json::Value| {
            let mut value = json!({
                "metadata": {"name": name, "namespace": "shop", "uid": uid},
                "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "x"}],
                         "volumes": [{"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}}]},
                "status": {"phase": "Succeeded"},
            });
            if let (Some(meta), Some(extra)) =
                (value["metadata"].as_object_mut(), extra.as_object())
            {
                meta.extend(extra.clone());
            }
            from::<Pod>(value)
        };
        let claim_of = |pod_uid: &str| {
            from::<PersistentVolumeClaim>(json!({
                "metadata": {"name": "job-1-scratch", "namespace": "shop", "uid": "u-claim", "resourceVersion": "9",
                             "deletionTimestamp": "2026-01-01T00:00:00Z", "finalizers": ["kubernetes.io/pvc-protection"],
                             "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": "job-1", "uid": pod_uid, "controller": true}]},
                "spec": {"accessModes": ["ReadWriteOnce"]},
            }))
        };
        let code = |pod: Pod, owner_uid: &str| {
            let mut inv = inventory(NOW);
            add(&mut inv, claim_of(owner_uid));
            add(&mut inv, pod);
            let subject = inv
                .object("", "PersistentVolumeClaim", Some("shop"), "job-1-scratch")
                .cloned()
                .unwrap();
            diagnose(&inv, &subject).findings[0].code.clone()
        };
        assert_eq!(
            code(ephemeral_user("job-1", "u-job-1", json!({})), "u-job-1"),
            "pvc-in-use",
            "a completed pod is not shut down for the controller: only a deletion with grace period 0 is"
        );
        let finished =
            json!({"deletionTimestamp": "2026-01-01T00:00:00Z", "deletionGracePeriodSeconds": 0});
        assert_eq!(
            code(ephemeral_user("job-1", "u-job-1", finished), "u-job-1"),
            "pvc-protection-pending"
        );
        assert_eq!(
            code(
                ephemeral_user("job-1", "u-job-1", json!({})),
                "u-earlier-job-1"
            ),
            "pvc-protection-pending",
            "a namesake pod does not hold another pod's ephemeral claim"
        );
    }

    #[test]
    fn statefulset_users_are_scaled_to_zero() {
        let mut inv = inventory(NOW);
        add(&mut inv, claim(&["kubernetes.io/pvc-protection"]));
        add(
            &mut inv,
            user("db-0", "Running", Some(("StatefulSet", "db"))),
        );
        inv.state.stateful_sets.push(from::<StatefulSet>(json!({
            "metadata": {"name": "db", "namespace": "shop", "uid": "sts", "resourceVersion": "3"},
            "spec": {"replicas": 1, "selector": {}, "serviceName": "db", "template": {}},
        })));
        let d = diagnose(&inv, &subject(&inv));
        assert_eq!(d.ladder()[0].key(), "scale StatefulSet shop/db");
    }

    #[test]
    fn no_user_left_means_the_controller_is_late() {
        let mut inv = inventory(NOW);
        add(&mut inv, claim(&["kubernetes.io/pvc-protection"]));
        let d = diagnose(&inv, &subject(&inv));
        assert_eq!(d.findings[0].code, "pvc-protection-pending");
    }

    #[test]
    fn retained_volume_data_is_flagged() {
        let mut inv = inventory(NOW);
        add(&mut inv, claim(&[]));
        inv.state.persistent_volumes.push(from::<PersistentVolume>(json!({
            "metadata": {"name": "pv-data"},
            "spec": {"persistentVolumeReclaimPolicy": "Retain", "nfs": {"server": "nas", "path": "/exports/data"}},
        })));
        let d = diagnose(&inv, &subject(&inv));
        let codes: Vec<&str> = d.findings.iter().map(|f| f.code.as_str()).collect();
        assert!(codes.contains(&"pvc-data-retained"), "{codes:?}");
    }
}
