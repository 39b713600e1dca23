//! A test hook for races: with `KUBECTL_UNSTICK_TEST_PAUSE_DIR=DIR`, the first change of the run
//! waits after the object was read and backed up, and before it is sent: it creates `DIR/paused`
//! and waits until `DIR/resume` exists. End-to-end tests change the object meanwhile, to prove a
//! concurrent change is never overwritten. Unset, it does nothing.

use std::{
    path::PathBuf,
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

use kube_runbook::Error;

pub const PAUSE_DIR_ENV: &str = "KUBECTL_UNSTICK_TEST_PAUSE_DIR";
const MAX_PAUSE: Duration = Duration::from_secs(120);

static PAUSED_ONCE: AtomicBool = AtomicBool::new(false);

/// Pauses before the first change when the hook is set.
pub async fn pause_before_change(what: &str) -> Result<(), Error> {
    let Some(dir) = std::env::var_os(PAUSE_DIR_ENV).map(PathBuf::from) else {
        return Ok(());
    };
    if PAUSED_ONCE.swap(true, Ordering::SeqCst) {
        return Ok(());
    }
    let io =
        |e: std::io::Error| Error::Output(format!("test pause hook in {}: {e}", dir.display()));
    std::fs::write(dir.join("paused"), what).map_err(io)?;
    let started = Instant::now();
    while !dir.join("resume").exists() {
        if started.elapsed() > MAX_PAUSE {
            return Err(Error::Incomplete(format!(
                "test pause hook: {} never appeared",
                dir.join("resume").display()
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}
