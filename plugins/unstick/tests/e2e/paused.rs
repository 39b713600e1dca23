//! Runs that pause at a test hook, so the test can change an object concurrently, then resume.

use std::{future::Future, time::Duration};

use kube_runbooks_harness::{ControlPlane, RunCommand, RunOutput, poll_until};

use crate::common::{backup_dir, bin};

/// Holds the first change after its object was read and backed up, before it is sent.
pub const PAUSE_DIR_ENV: &str = "KUBECTL_UNSTICK_TEST_PAUSE_DIR";
/// Holds the first offered step while its confirmation is pending.
pub const CONFIRM_PAUSE_DIR_ENV: &str = "KUBECTL_UNSTICK_TEST_CONFIRM_PAUSE_DIR";

/// Runs `kubectl unstick args...`; once the hook in `pause_env` holds it on a step whose
/// description contains `planned`, awaits `meanwhile`, then resumes the run.
pub async fn run_paused(
    cp: &ControlPlane,
    args: &[&str],
    pause_env: &str,
    planned: &str,
    meanwhile: impl Future<Output = ()>,
) -> RunOutput {
    let pause = backup_dir();
    let run = RunCommand::new(cp, bin(), args)
        .env(pause_env, pause.path().to_str().unwrap())
        .timeout(Duration::from_secs(300));
    let running = tokio::spawn(run.output());
    let paused = pause.path().join("paused");
    poll_until(
        Duration::from_secs(120),
        &format!("unstick held by {pause_env}"),
        || async { std::fs::read_to_string(&paused).map_err(|e| e.to_string()) },
    )
    .await;
    let held_at = std::fs::read_to_string(&paused).unwrap_or_default();
    assert!(held_at.contains(planned), "{held_at}");
    meanwhile.await;
    std::fs::write(pause.path().join("resume"), "").expect("resume");
    running.await.expect("unstick run")
}
