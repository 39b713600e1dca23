//! Someone else removes a finalizer while unstick waits to act. Between the read and the send: the
//! guarded patch (a `test` of the resourceVersion seen at diagnosis) fails instead of removing the
//! wrong index, unstick reads the object again, diagnoses anew, and only then removes what is
//! really left. While the step awaits confirmation: the resourceVersion re-check notices, nothing
//! is written, the object as it is now is printed, and the run ends with exit code 10.

use kube_runbooks_harness::{ControlPlane, RunOutput, TestNamespace};

use crate::{
    common::{
        backup_dir, backups, config_map, discovery_lock, set_finalizers, terminating_config_map,
    },
    paused::{CONFIRM_PAUSE_DIR_ENV, PAUSE_DIR_ENV, run_paused},
};

/// Finalizers `first` and `second` of ConfigMap `contested` in `ns`.
fn finalizers(ns: &TestNamespace) -> (String, String) {
    let first = format!("{}.race.test/first", ns.name());
    let second = format!("{}.race.test/second", ns.name());
    (first, second)
}

/// Runs `kubectl unstick cm/contested --fix --yes` on a ConfigMap Terminating with both
/// finalizers; while the hook in `pause_env` holds the run on the removal of `first`, someone
/// else removes `first`; then the run resumes.
async fn contested_run(
    cp: &ControlPlane,
    ns: &TestNamespace,
    pause_env: &str,
    saved: &std::path::Path,
) -> RunOutput {
    let (first, second) = finalizers(ns);
    terminating_config_map(ns, "contested", &[&first, &second]).await;
    let args = [
        "cm/contested",
        "-n",
        ns.name(),
        "--fix",
        "--yes",
        "--backup-dir",
        saved.to_str().unwrap(),
    ];
    run_paused(
        cp,
        &args,
        pause_env,
        &format!("Remove finalizer {first}"),
        set_finalizers(ns, "contested", &[&second]),
    )
    .await
}

#[tokio::test]
async fn a_finalizer_removed_concurrently_is_never_overwritten() {
    let cp = ControlPlane::shared().await;
    let _shared = discovery_lock().read().await;
    let ns = cp.namespace("unstick-race").await;
    let (first, second) = finalizers(&ns);
    let saved = backup_dir();
    let out = contested_run(cp, &ns, PAUSE_DIR_ENV, saved.path()).await;
    eprintln!("--- fix with a concurrent change:\n{}", out.stderr);
    assert_eq!(out.code, Some(0), "{out}");
    assert!(out.stderr.contains("changed since it was read"), "{out}");
    assert!(
        out.stderr
            .contains(&format!("Remove finalizer {second} from ConfigMap")),
        "{out}"
    );
    assert!(
        config_map(&ns, "contested").await.is_none(),
        "the configmap should be gone"
    );
    let files = backups(saved.path());
    assert_eq!(files.len(), 2, "one backup per attempt: {files:?}");
    let texts: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).expect("backup"))
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains(&first) && t.contains(&second)),
        "the object as diagnosed: {texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| !t.contains(&first) && t.contains(&second)),
        "the object as re-read: {texts:?}"
    );
}

#[tokio::test]
async fn a_change_while_confirmation_is_pending_writes_nothing_and_stops() {
    let cp = ControlPlane::shared().await;
    let _shared = discovery_lock().read().await;
    let ns = cp.namespace("unstick-confirm-race").await;
    let (_, second) = finalizers(&ns);
    let saved = backup_dir();
    let out = contested_run(cp, &ns, CONFIRM_PAUSE_DIR_ENV, saved.path()).await;
    eprintln!("--- fix with a change while confirming:\n{}", out.stderr);
    assert_eq!(out.code, Some(10), "{out}");
    assert!(
        out.stderr.contains(&format!(
            "ConfigMap {}/contested changed while this step awaited confirmation (resourceVersion is now",
            ns.name()
        )),
        "{out}"
    );
    assert!(out.stderr.contains("nothing was changed"), "{out}");
    assert!(
        out.stderr.contains(&format!(
            "ConfigMap {}/contested as it is now: resourceVersion",
            ns.name()
        )) && out.stderr.contains(&format!("finalizers [{second}]")),
        "{out}"
    );
    assert!(!out.stderr.contains("done:"), "{out}");
    let left = config_map(&ns, "contested")
        .await
        .expect("the configmap is left as the other party left it");
    assert_eq!(left.metadata.finalizers, Some(vec![second.clone()]));
    assert!(
        backups(saved.path()).is_empty(),
        "nothing was about to be written, so nothing was backed up"
    );
}
