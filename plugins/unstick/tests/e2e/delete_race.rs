//! A delete is guarded like a patch: a Terminating volume's fix deletes its claim, and someone
//! else changes that claim meanwhile. Between the read and the send, the delete's resourceVersion
//! precondition fails, unstick reads the claim again, diagnoses anew and only then deletes it.
//! While the step awaits confirmation, nothing is deleted and the run ends with exit code 10.

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use kube::{
    Api,
    api::{DeleteParams, Patch, PatchParams},
};
use kube_runbooks_harness::{ControlPlane, RunOutput, TestNamespace};
use serde_json::json;

use crate::{
    common::{backup_dir, backups},
    paused::{CONFIRM_PAUSE_DIR_ENV, PAUSE_DIR_ENV, run_paused},
    volumes::bound_claim,
};

const LABEL: &str = "changed-by";

/// Deletes the volume of a bound claim `data`, then runs `kubectl unstick pv/... --fix --yes`;
/// while the hook in `pause_env` holds the deletion of the claim, someone else labels the claim.
async fn claim_changed_during_fix(
    cp: &ControlPlane,
    ns: &TestNamespace,
    pause_env: &str,
    saved: &std::path::Path,
) -> (String, RunOutput) {
    let pv = bound_claim(cp, ns).await;
    let volumes: Api<PersistentVolume> = Api::all(cp.client());
    volumes
        .delete(&pv, &DeleteParams::default())
        .await
        .expect("delete pv");
    let claims: Api<PersistentVolumeClaim> = ns.api();
    let relabel = async {
        claims
            .patch(
                "data",
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"labels": {LABEL: "someone-else"}}})),
            )
            .await
            .expect("label claim");
    };
    let volume = format!("pv/{pv}");
    let args = [
        volume.as_str(),
        "--fix",
        "--yes",
        "--backup-dir",
        saved.to_str().unwrap(),
    ];
    let planned = format!("Delete PersistentVolumeClaim {}/data", ns.name());
    let out = run_paused(cp, &args, pause_env, &planned, relabel).await;
    (pv, out)
}

#[tokio::test]
async fn a_claim_changed_before_its_delete_is_read_again_first() {
    let cp = ControlPlane::shared().await;
    let ns = cp.namespace("unstick-delete-race").await;
    let saved = backup_dir();
    let (pv, out) = claim_changed_during_fix(cp, &ns, PAUSE_DIR_ENV, saved.path()).await;
    eprintln!("--- fix with a concurrent change:\n{}", out.stderr);
    assert_eq!(out.code, Some(0), "{out}");
    assert!(out.stderr.contains("changed since it was read"), "{out}");
    let volumes: Api<PersistentVolume> = Api::all(cp.client());
    assert!(volumes.get_opt(&pv).await.expect("read pv").is_none());
    let texts: Vec<String> = backups(saved.path())
        .iter()
        .map(|f| std::fs::read_to_string(f).expect("backup"))
        .collect();
    assert_eq!(texts.len(), 2, "one backup per attempt: {texts:?}");
    assert!(
        texts.iter().any(|t| !t.contains(LABEL)) && texts.iter().any(|t| t.contains(LABEL)),
        "the claim as diagnosed, then as re-read: {texts:?}"
    );
}

#[tokio::test]
async fn a_claim_changed_while_its_delete_awaits_confirmation_is_not_deleted() {
    let cp = ControlPlane::shared().await;
    let ns = cp.namespace("unstick-delete-confirm-race").await;
    let saved = backup_dir();
    let (_, out) = claim_changed_during_fix(cp, &ns, CONFIRM_PAUSE_DIR_ENV, saved.path()).await;
    eprintln!("--- fix with a change while confirming:\n{}", out.stderr);
    assert_eq!(out.code, Some(10), "{out}");
    assert!(
        out.stderr.contains(&format!(
            "PersistentVolumeClaim {}/data changed while this step awaited confirmation",
            ns.name()
        )),
        "{out}"
    );
    assert!(!out.stderr.contains("done:"), "{out}");
    let claims: Api<PersistentVolumeClaim> = ns.api();
    let claim = claims.get("data").await.expect("the claim is still there");
    assert!(claim.metadata.deletion_timestamp.is_none(), "{claim:?}");
    assert!(backups(saved.path()).is_empty());
}
