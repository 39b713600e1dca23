//! Someone else removes a finalizer while unstick waits to act: the guarded patch (a `test` of
//! the resourceVersion seen at diagnosis) fails instead of removing the wrong index, unstick
//! reads the object again, diagnoses anew, and only then removes what is really left.

use std::time::Duration;

use kube_runbooks_harness::{ControlPlane, RunCommand, poll_until};

use crate::common::{
    backup_dir, backups, bin, config_map, discovery_lock, set_finalizers, terminating_config_map,
};

const PAUSE_DIR_ENV: &str = "KUBECTL_UNSTICK_TEST_PAUSE_DIR";

#[tokio::test]
async fn a_finalizer_removed_concurrently_is_never_overwritten() {
    let cp = ControlPlane::shared().await;
    let _shared = discovery_lock().read().await;
    let ns = cp.namespace("unstick-race").await;
    let first = format!("{}.race.test/first", ns.name());
    let second = format!("{}.race.test/second", ns.name());
    terminating_config_map(&ns, "contested", &[&first, &second]).await;

    let pause = backup_dir();
    let saved = backup_dir();
    let args = [
        "cm/contested",
        "-n",
        ns.name(),
        "--fix",
        "--yes",
        "--backup-dir",
        saved.path().to_str().unwrap(),
    ];
    let run = RunCommand::new(cp, bin(), &args)
        .env(PAUSE_DIR_ENV, pause.path().to_str().unwrap())
        .timeout(Duration::from_secs(300));
    let running = tokio::spawn(run.output());
    let paused = pause.path().join("paused");
    poll_until(
        Duration::from_secs(120),
        "unstick paused before its first change",
        || async { std::fs::read_to_string(&paused).map_err(|e| e.to_string()) },
    )
    .await;
    let planned = std::fs::read_to_string(&paused).unwrap_or_default();
    assert!(
        planned.contains(&format!("Remove finalizer {first}")),
        "{planned}"
    );
    set_finalizers(&ns, "contested", &[&second]).await;
    std::fs::write(pause.path().join("resume"), "").expect("resume");

    let out = running.await.expect("unstick run");
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
