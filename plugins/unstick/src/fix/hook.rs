//! Test hooks for races. With `KUBECTL_UNSTICK_TEST_CONFIRM_PAUSE_DIR=DIR`, the first offered step
//! waits as if its confirmation were pending; with `KUBECTL_UNSTICK_TEST_PAUSE_DIR=DIR`, the first
//! change of the run waits after the object was read and backed up, and before it is sent. Each
//! creates `DIR/paused` (holding the step) and waits until `DIR/resume` exists. End-to-end tests
//! change the object meanwhile, to prove a concurrent change is never overwritten. Unset, they do
//! nothing.

use std::{
    path::PathBuf,
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

use kube_runbook::Error;

const MAX_PAUSE: Duration = Duration::from_secs(120);

static PAUSED_AWAITING_CONFIRMATION: AtomicBool = AtomicBool::new(false);
static PAUSED_BEFORE_CHANGE: AtomicBool = AtomicBool::new(false);

/// Where a run can be held.
#[derive(Debug, Clone, Copy)]
pub enum Pause {
    /// A step was offered and its confirmation is pending.
    AwaitingConfirmation,
    /// A confirmed step's object was read and backed up; the change is not sent yet.
    BeforeChange,
}

impl Pause {
    fn env(self) -> &'static str {
        match self {
            Pause::AwaitingConfirmation => "KUBECTL_UNSTICK_TEST_CONFIRM_PAUSE_DIR",
            Pause::BeforeChange => "KUBECTL_UNSTICK_TEST_PAUSE_DIR",
        }
    }

    fn paused(self) -> &'static AtomicBool {
        match self {
            Pause::AwaitingConfirmation => &PAUSED_AWAITING_CONFIRMATION,
            Pause::BeforeChange => &PAUSED_BEFORE_CHANGE,
        }
    }
}

/// Holds the run at `point` the first time it is reached when its hook is set; true if it did.
pub async fn pause(point: Pause, what: &str) -> Result<bool, Error> {
    let Some(dir) = std::env::var_os(point.env()).map(PathBuf::from) else {
        return Ok(false);
    };
    if point.paused().swap(true, Ordering::SeqCst) {
        return Ok(false);
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
    Ok(true)
}
