//! "External components" (seed 001): when no scheduler runs, pods stay Pending without any
//! FailedScheduling event; why-pending must say the scheduler is down, from its stale lease.
//! Its own test binary, because the scheduler stays dead for the rest of the binary.

use std::{path::Path, time::Duration};

use kube_runbooks_harness::{ControlPlane, RunCommand};
use serde_json::Value;

const WHY_PENDING: &str = env!("CARGO_BIN_EXE_kubectl-why_pending");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_scheduler_lease_means_no_scheduler_is_running() {
    let cp = ControlPlane::shared().await;
    let ns = cp.namespace("no-scheduler").await;
    cp.kill_component("kube-scheduler");
    ns.apply_yaml("apiVersion: v1\nkind: Pod\nmetadata: {name: waiting}\nspec: {containers: [{name: c, image: x}]}\n").await;
    let out = kube_runbooks_harness::wait_for(
        Duration::from_secs(90),
        "a no-active-scheduler finding",
        || async {
            let out = RunCommand::new(
                cp,
                Path::new(WHY_PENDING),
                &["waiting", "-n", ns.name(), "-o", "json"],
            )
            .output()
            .await;
            let report: Value = serde_json::from_str(&out.stdout).ok()?;
            let found = report["findings"]
                .as_array()?
                .iter()
                .any(|f| f["code"] == "no-active-scheduler");
            found.then_some(out)
        },
    )
    .await;
    assert_eq!(out.code, Some(1), "{out}");
    let text = RunCommand::new(cp, Path::new(WHY_PENDING), &["waiting", "-n", ns.name()])
        .output()
        .await;
    assert!(text.stdout.starts_with("✗ Pod"), "{text}");
    assert!(
        text.stdout
            .lines()
            .next()
            .unwrap_or_default()
            .contains("no scheduler is running"),
        "{text}"
    );
}
