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

/// A volume-deletion finalizer: the backend volume must be deleted first.
pub fn volume_deletion(
    ctx: &Ctx,
    subject: &MetaObject,
    finalizer: &str,
    index: usize,
    out: &mut Diagnosis,
) {
    let pv = ctx.inv.pv(subject.name());
    let driver = pv
        .and_then(|v| v.spec.as_ref()?.csi.as_ref())
        .map(|c| c.driver.clone());
    let handle = pv
        .and_then(|v| v.spec.as_ref()?.csi.as_ref())
        .map(|c| c.volume_handle.clone());
    let sighting = driver.as_deref().map(|d| {
        let mut words = vec![d.to_string()];
        words.extend(words_of(d));
        look_for_controller(ctx.inv, &words)
    });
    let who = match &driver {
        Some(driver) => format!("the CSI provisioner of {driver}"),
        None => "the persistent volume controller".to_string(),
    };
    let mut finding = terminating_finding(
        subject,
        ctx.now(),
        ctx.severity(subject),
        "pv-volume-not-deleted",
        &format!("{finalizer}: {who} has not deleted the backend volume"),
    )
    .explain(format!(
        "With reclaimPolicy Delete, {who} deletes the disk on the storage backend and only then removes \
         {finalizer}. Removing it by hand skips that: the disk stays, unreferenced."
    ))
    .evidence(
        format!(
            "reclaimPolicy {}{}",
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
        let subject = inv
            .object("", "PersistentVolume", None, "pv-1")
            .cloned()
            .unwrap();
        let d = diagnose(&inv, &subject);
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
    fn csi_provisioner_finalizer_warns_of_a_leaked_disk() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        add(
            &mut inv,
            volume(
                &["external-provisioner.volume.kubernetes.io/finalizer"],
                "Released",
            ),
        );
        let subject = inv
            .object("", "PersistentVolume", None, "pv-1")
            .cloned()
            .unwrap();
        let d = diagnose(&inv, &subject);
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
