//! A custom resource held by a finalizer whose controller is not installed: found through
//! discovery by its plural, diagnosed with its CRD, tried with a server-side dry run (nothing
//! changes), then unstuck by removing that one finalizer, with a backup written first.

use std::time::Duration;

use kube::{
    Api,
    api::{DeleteParams, DynamicObject},
};
use kube_runbooks_harness::{ControlPlane, poll_until};

use crate::common::{backup_dir, backups, finding, fix_everything, gizmo_type, report, unstick};

#[tokio::test]
async fn custom_resource_with_a_finalizer_and_no_controller() {
    let cp = ControlPlane::shared().await;
    let ns = cp.namespace("unstick-cr").await;
    let group = format!("{}.nocontroller.test", ns.name());
    let finalizer = format!("{group}/cleanup");
    let resource = gizmo_type(cp, &ns, &group).await;
    ns.apply_yaml(&format!(
        "apiVersion: {group}/v1\nkind: Gizmo\nmetadata: {{name: g1, finalizers: [{finalizer}]}}\n---\n\
         apiVersion: {group}/v1\nkind: Gizmo\nmetadata: {{name: g2, finalizers: [{finalizer}]}}\n"
    ))
    .await;
    let gizmos: Api<DynamicObject> = Api::namespaced_with(ns.client(), ns.name(), &resource);
    gizmos
        .delete("g1", &DeleteParams::default())
        .await
        .expect("delete g1");
    poll_until(Duration::from_secs(30), "g1 terminating", || async {
        match gizmos.get("g1").await {
            Ok(g) if g.metadata.deletion_timestamp.is_some() => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;

    let scan = unstick(cp, &["-n", ns.name()]).await;
    assert_eq!(scan.code, Some(1), "{scan}");
    assert!(
        scan.stdout.lines().any(|line| {
            line.split_whitespace().take(2).eq(["Gizmo", "g1"])
                && line.contains(&format!(
                    "finalizer {finalizer}: no controller for {group} appears to be running"
                ))
        }),
        "the scan's row for g1: {scan}"
    );
    eprintln!("--- scan:\n{}", scan.stdout);

    let everywhere = unstick(cp, &["-A", "-o", "json"]).await;
    assert_eq!(everywhere.code, Some(1), "{everywhere}");
    assert!(
        crate::common::codes(&report(&everywhere))
            .contains(&"Gizmo/g1 finalizer-no-controller".to_string()),
        "{everywhere}"
    );
    let filtered = unstick(cp, &["-n", ns.name(), "-l", "app=nothing-here"]).await;
    assert_eq!(filtered.code, Some(0), "{filtered}");
    assert!(
        filtered
            .stdout
            .contains(&format!("nothing is stuck in namespace {}", ns.name())),
        "{filtered}"
    );
    let missing_ns = unstick(cp, &["-n", &format!("{}x", ns.name())]).await;
    assert_eq!(missing_ns.code, Some(7), "{missing_ns}");
    // Other tests' namespaces may be suggested too: the right one must be among them.
    assert!(
        missing_ns.stderr.contains("did you mean")
            && missing_ns.stderr.contains(&format!("\"{}\"", ns.name())),
        "{missing_ns}"
    );

    let target = format!("gizmos.{group}/g1");
    let out = unstick(cp, &[&target, "-n", ns.name(), "-o", "json"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    let report = report(&out);
    let stuck = finding(&report, "finalizer-no-controller");
    assert!(
        stuck["title"].as_str().unwrap().contains(&format!(
            "finalizer {finalizer}: no controller for {group} appears to be running"
        )),
        "{stuck:#}"
    );
    let facts = stuck["evidence"].to_string();
    assert!(
        facts.contains(&format!("CRD gizmos.{group} defines the API group {group}")),
        "{facts}"
    );

    let backups_dry = backup_dir();
    let dry = unstick(
        cp,
        &[
            &target,
            "-n",
            ns.name(),
            "--fix",
            "--dry-run=server",
            "--backup-dir",
            backups_dry.path().to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(dry.code, Some(0), "{dry}");
    assert!(
        dry.stderr
            .contains("the API server accepts it (dry run: nothing changed)"),
        "{dry}"
    );
    let still = gizmos
        .get("g1")
        .await
        .expect("g1 is still there after a dry run");
    assert_eq!(still.metadata.finalizers, Some(vec![finalizer.clone()]));
    assert!(
        backups(backups_dry.path()).is_empty(),
        "a dry run writes no backup"
    );

    let saved = backup_dir();
    let fixed = fix_everything(cp, None, &target, &["-n", ns.name()], saved.path()).await;
    eprintln!("--- fix:\n{}", fixed.stderr);
    assert_eq!(fixed.code, Some(0), "{fixed}");
    assert!(
        fixed
            .stderr
            .contains(&format!("Gizmo {}/g1 is gone", ns.name())),
        "{fixed}"
    );
    assert!(
        gizmos.get_opt("g1").await.expect("read g1").is_none(),
        "g1 should be gone"
    );
    let untouched = gizmos.get("g2").await.expect("g2 untouched");
    assert_eq!(untouched.metadata.finalizers, Some(vec![finalizer.clone()]));
    assert!(untouched.metadata.deletion_timestamp.is_none());
    let files = backups(saved.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let backup = std::fs::read_to_string(&files[0]).expect("read backup");
    assert!(
        backup.contains(&finalizer) && backup.contains("\"g1\""),
        "{backup}"
    );
}
