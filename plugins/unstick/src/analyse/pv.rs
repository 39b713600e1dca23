//! PersistentVolumes stuck on their finalizers: `kubernetes.io/pv-protection` (still Bound to a
//! claim), and the volume-deletion finalizers of the PV controller and CSI provisioners, whose
//! removal leaks the backend disk.

use k8s_openapi::api::core::v1::PersistentVolume;
use kube_runbook::{
    report::{ObjectRef, Source},
    state::Kind,
};

use super::{
    Ctx, Diagnosis,
    cause::Cause,
    controllers::{Sighting, look_for_controller, words_of},
    finalizers::{known, removal_step},
    terminating::terminating_finding,
};
use crate::{
    fix::plan::{Action, Rung, Step},
    inventory::MetaObject,
};

const PROTECTION: &str = "kubernetes.io/pv-protection";
/// The PV controller's finalizer on volumes it provisioned through an in-tree plugin.
const IN_TREE_DELETION: &str = "kubernetes.io/pv-controller";
/// The in-tree plugin (or CSI driver) that provisioned a volume.
const PROVISIONED_BY: &str = "pv.kubernetes.io/provisioned-by";
/// The CSI driver an in-tree volume is migrated to.
const MIGRATED_TO: &str = "pv.kubernetes.io/migrated-to";

/// `kubernetes.io/pv-protection` at `index`: the claim the volume is still bound to.
pub fn protection(ctx: &Ctx, subject: &MetaObject, index: usize, out: &mut Diagnosis) {
    let danger = known(PROTECTION).map(|k| k.danger).unwrap_or_default();
    let removal = removal_step(
        subject,
        PROTECTION,
        index,
        "the PV object is deleted while still bound",
        danger,
    );
    let Some(pv) = ctx.inv.pv(subject.name()) else {
        out.add(Cause::new(terminating_finding(
            subject,
            ctx.now(),
            ctx.severity(subject),
            "pv-bound",
            "kubernetes.io/pv-protection waits until the volume is no longer Bound (the volume could not be read)",
        )).step(removal));
        return;
    };
    let phase = pv
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Unknown");
    let claim = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref());
    let claim_ns = claim
        .and_then(|c| c.namespace.as_deref())
        .unwrap_or_default();
    let claim_name = claim.and_then(|c| c.name.as_deref()).unwrap_or_default();
    let claim_object = ctx
        .inv
        .pvc(claim_ns, claim_name)
        .map(|c| MetaObject::of_kind(Kind::PersistentVolumeClaim, &c.metadata));
    let phase_fact = (
        format!("status.phase = {phase}, claimRef = {claim_ns}/{claim_name}"),
        Source::Field {
            object: subject.reference(),
            path: "status.phase".into(),
        },
    );
    match (phase, claim_object) {
        ("Bound", Some(claim)) => {
            let finding = terminating_finding(
                subject,
                ctx.now(),
                kube_runbook::report::Severity::Error,
                "pv-bound",
                &format!("still bound to claim {claim_ns}/{claim_name}"),
            )
            .explain("kubernetes.io/pv-protection keeps a volume while it is Bound to a claim: the claim must go first.")
            .evidence(phase_fact.0, phase_fact.1);
            let mut cause = Cause::new(finding);
            if claim.deletion_timestamp().is_some() {
                if let Some(nested) = ctx.nested(&claim) {
                    out.absorb(nested);
                }
            } else {
                cause = cause.step(Step::new(
                    Rung::FixCause,
                    Action::Delete(claim),
                    format!(
                        "volume {} is released once its claim is gone",
                        subject.name()
                    ),
                    format!(
                        "the claim's data goes with the volume per its reclaim policy ({})",
                        reclaim_policy(pv)
                    ),
                ));
            }
            out.add(cause.step(removal));
        }
        _ => {
            let finding = terminating_finding(
                subject,
                ctx.now(),
                ctx.severity(subject),
                "pv-protection-pending",
                &format!("volume is {phase}, yet kubernetes.io/pv-protection has not been removed"),
            )
            .explain(
                "The pv-protection controller in kube-controller-manager removes the finalizer once the \
                 volume is not Bound. If it has not, the PV controller may not have released it yet, or \
                 kube-controller-manager may not be running.",
            )
            .evidence(phase_fact.0, phase_fact.1);
            out.add(Cause::new(finding).step(removal));
        }
    }
}

/// A volume-deletion finalizer: the backend volume must be deleted first, by the PV controller
/// through an in-tree plugin (`kubernetes.io/pv-controller`) or by a CSI external-provisioner.
pub fn volume_deletion(
    ctx: &Ctx,
    subject: &MetaObject,
    finalizer: &str,
    index: usize,
    out: &mut Diagnosis,
) {
    let pv = ctx.inv.pv(subject.name());
    let annotation = |key: &str| {
        pv.and_then(|v| v.metadata.annotations.as_ref()?.get(key))
            .cloned()
    };
    let in_tree = finalizer == IN_TREE_DELETION;
    let driver = pv
        .and_then(|v| v.spec.as_ref()?.csi.as_ref())
        .map(|c| c.driver.clone())
        .or_else(|| annotation(MIGRATED_TO));
    let handle = pv
        .and_then(|v| v.spec.as_ref()?.csi.as_ref())
        .map(|c| c.volume_handle.clone());
    let sighting = driver.as_deref().filter(|_| !in_tree).map(|d| {
        let mut words = vec![d.to_string()];
        words.extend(words_of(d));
        look_for_controller(ctx.inv, &words)
    });
    let who = match (in_tree, &driver) {
        (true, _) => match annotation(PROVISIONED_BY) {
            Some(plugin) => format!(
                "the persistent volume controller (kube-controller-manager, in-tree plugin {plugin})"
            ),
            None => "the persistent volume controller (kube-controller-manager)".to_string(),
        },
        (false, Some(driver)) => format!("the CSI provisioner of {driver}"),
        (false, None) => "the CSI provisioner".to_string(),
    };
    let status = pv.and_then(|v| v.status.as_ref());
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("Unknown");
    let claim = pv
        .and_then(|v| v.spec.as_ref()?.claim_ref.as_ref())
        .map(|c| {
            format!(
                "{}/{}",
                c.namespace.as_deref().unwrap_or_default(),
                c.name.as_deref().unwrap_or_default()
            )
        })
        .unwrap_or_default();
    let (cause_text, severity) = match (phase, status.and_then(|s| s.message.as_deref())) {
        ("Bound", _) => (
            format!(
                "{finalizer}: {who} deletes the backend volume only once claim {claim} is gone, and the volume is still Bound"
            ),
            ctx.severity(subject),
        ),
        ("Failed", Some(message)) => (
            format!("{finalizer}: {who} failed to delete the backend volume: {message}"),
            kube_runbook::report::Severity::Error,
        ),
        _ => (
            format!("{finalizer}: {who} has not deleted the backend volume"),
            ctx.severity(subject),
        ),
    };
    let mut finding = terminating_finding(
        subject,
        ctx.now(),
        severity,
        "pv-volume-not-deleted",
        &cause_text,
    )
    .explain(format!(
        "With reclaimPolicy Delete, once the volume is Released (its claim deleted), {who} deletes the disk \
         on the storage backend and only then removes {finalizer}. Removing it by hand skips that: the \
         disk stays, unreferenced."
    ))
    .evidence(
        format!(
            "reclaimPolicy {}{}, status.phase {phase}",
            pv.map(reclaim_policy).unwrap_or("unknown"),
            handle.as_deref().map(|h| format!(", backend volume {h}")).unwrap_or_default()
        ),
        Source::Field {
            object: ObjectRef::cluster("PersistentVolume", subject.name()),
            path: "spec".into(),
        },
    );
    if let Some(sighting) = &sighting {
        finding = finding.evidence(sighting.describe(), Source::Computed);
    }
    let danger = format!(
        "the backend volume{} is never deleted: the disk leaks and keeps costing",
        handle.map(|h| format!(" {h}")).unwrap_or_default()
    );
    let cause = Cause::new(finding).step(removal_step(
        subject,
        finalizer,
        index,
        "the PV object goes without the backend volume being deleted",
        &danger,
    ));
    let cause = match sighting {
        Some(Sighting::None { .. }) | Some(Sighting::Stopped(_)) => cause.advice(kube_runbook::report::Remedy::step(
            "Bring the CSI driver's controller back: it deletes the disk and removes the finalizer",
        )),
        _ => cause,
    };
    out.add(cause);
}

fn reclaim_policy(pv: &PersistentVolume) -> &str {
    pv.spec
        .as_ref()
        .and_then(|s| s.persistent_volume_reclaim_policy.as_deref())
        .unwrap_or("Delete")
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
    use serde_json::json;

    use super::*;
    use crate::analyse::{
        diagnose,
        testing::{add, from, inventory},
    };

    fn volume(finalizers: &[&str], phase: &str) -> PersistentVolume {
        from(json!({
            "metadata": {"name": "pv-1", "uid": "u-pv", "resourceVersion": "5",
                         "deletionTimestamp": "2026-01-01T00:00:00Z", "finalizers": finalizers},
            "spec": {"persistentVolumeReclaimPolicy": "Delete",
                     "claimRef": {"namespace": "shop", "name": "data"},
                     "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-0abc"}},
            "status": {"phase": phase},
        }))
    }

    fn pv_1(inv: &crate::inventory::Inventory) -> MetaObject {
        inv.object("", "PersistentVolume", None, "pv-1")
            .cloned()
            .unwrap()
    }

    #[test]
    fn bound_volume_waits_for_its_claim() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        add(&mut inv, volume(&["kubernetes.io/pv-protection"], "Bound"));
        add(
            &mut inv,
            from::<PersistentVolumeClaim>(
                json!({"metadata": {"name": "data", "namespace": "shop", "uid": "u-c"}}),
            ),
        );
        let d = diagnose(&inv, &pv_1(&inv));
        assert_eq!(d.findings[0].code, "pv-bound");
        let keys: Vec<String> = d.ladder().iter().map(Step::key).collect();
        assert_eq!(
            keys,
            vec![
                "delete PersistentVolumeClaim shop/data",
                "unfinalize PersistentVolume pv-1 kubernetes.io/pv-protection",
            ]
        );
    }

    #[test]
    fn the_pv_controller_finalizer_quotes_the_failed_deletion() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        add(
            &mut inv,
            from::<PersistentVolume>(json!({
                "metadata": {"name": "pv-1", "uid": "u-pv", "resourceVersion": "5",
                             "deletionTimestamp": "2026-01-01T00:00:00Z", "finalizers": ["kubernetes.io/pv-controller"],
                             "annotations": {"pv.kubernetes.io/provisioned-by": "kubernetes.io/gce-pd"}},
                "spec": {"persistentVolumeReclaimPolicy": "Delete", "claimRef": {"namespace": "shop", "name": "data"},
                         "gcePersistentDisk": {"pdName": "disk-1"}},
                "status": {"phase": "Failed", "message": "error getting deleter volume plugin for volume \"pv-1\": no deletable volume plugin matched"},
            })),
        );
        let d = diagnose(&inv, &pv_1(&inv));
        let finding = &d.findings[0];
        assert_eq!(finding.code, "pv-volume-not-deleted");
        assert_eq!(
            finding.title,
            "Terminating for 10m: kubernetes.io/pv-controller: the persistent volume controller (kube-controller-manager, in-tree plugin kubernetes.io/gce-pd) failed to delete the backend volume: error getting deleter volume plugin for volume \"pv-1\": no deletable volume plugin matched"
        );
        let facts: Vec<&str> = finding.evidence.iter().map(|e| e.fact.as_str()).collect();
        assert_eq!(
            facts,
            vec!["reclaimPolicy Delete, status.phase Failed"],
            "no controller search: it is in-tree"
        );
        let keys: Vec<String> = d.ladder().iter().map(Step::key).collect();
        assert_eq!(
            keys,
            vec!["unfinalize PersistentVolume pv-1 kubernetes.io/pv-controller"]
        );
        assert!(
            d.steps[0].danger.contains("the disk leaks"),
            "{}",
            d.steps[0].danger
        );
    }

    #[test]
    fn a_bound_volume_is_deleted_from_the_backend_only_after_its_claim() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        add(&mut inv, volume(&["kubernetes.io/pv-controller"], "Bound"));
        let d = diagnose(&inv, &pv_1(&inv));
        assert_eq!(
            d.findings[0].title,
            "Terminating for 10m: kubernetes.io/pv-controller: the persistent volume controller (kube-controller-manager) deletes the backend volume only once claim shop/data is gone, and the volume is still Bound"
        );
    }

    #[test]
    fn csi_provisioner_finalizer_warns_of_a_leaked_disk() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        add(
            &mut inv,
            volume(
                &["external-provisioner.volume.kubernetes.io/finalizer"],
                "Released",
            ),
        );
        let d = diagnose(&inv, &pv_1(&inv));
        let finding = &d.findings[0];
        assert_eq!(finding.code, "pv-volume-not-deleted");
        assert!(
            finding.title.contains(
                "the CSI provisioner of ebs.csi.aws.com has not deleted the backend volume"
            )
        );
        assert!(d.steps[0].danger.contains("vol-0abc is never deleted"));
        let facts: Vec<&str> = finding.evidence.iter().map(|e| e.fact.as_str()).collect();
        assert!(
            facts
                .iter()
                .any(|f| f.starts_with("no controller appears to be running")),
            "{facts:?}"
        );
    }
}
