//! A read-only user (ClusterRole view): the diagnosis works, with what it could not read listed;
//! `--fix` names the permission it lacks, exits FORBIDDEN, and changes nothing.

use kube_runbooks_harness::ControlPlane;

use crate::common::{config_map, finding, report, terminating_config_map, unstick_as};

#[tokio::test]
async fn read_only_user_can_diagnose_but_not_fix() {
    let cp = ControlPlane::shared().await;
    let ns = cp.namespace("unstick-ro").await;
    let keep = format!("{}.ro.test/keep", ns.name());
    terminating_config_map(&ns, "held", &[&keep]).await;
    let viewer = cp.readonly_kubeconfig();

    let out = unstick_as(cp, viewer, &["cm/held", "-n", ns.name(), "-o", "json"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    let report = report(&out);
    finding(&report, "finalizer-no-controller");
    let not_checked = report["notChecked"].to_string();
    assert!(not_checked.contains("nodes"), "{not_checked}");

    let fix = unstick_as(cp, viewer, &["cm/held", "-n", ns.name(), "--fix", "--yes"]).await;
    eprintln!("--- read-only --fix:\n{}", fix.stderr);
    assert_eq!(fix.code, Some(6), "{fix}");
    assert!(
        fix.stderr
            .contains("you lack permission to patch configmaps"),
        "{fix}"
    );
    assert!(
        fix.stderr.contains("cannot patch configmaps in namespace"),
        "{fix}"
    );
    let held = config_map(&ns, "held").await.expect("still there");
    assert_eq!(held.metadata.finalizers, Some(vec![keep]));
}
