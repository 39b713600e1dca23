//! When the drain must stop issuing evictions: Ctrl-C, the --timeout deadline, or a refusal
//! that cannot be retried. Every wait of the drain races against it.

use std::{
    future::Future,
    time::{Duration, Instant},
};

use kube_runbook::interrupt::Interrupt;
use tokio::sync::watch;

/// Why the drain stopped before finishing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    Interrupted,
    TimedOut(Duration),
    Failed(String),
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::Interrupted => write!(f, "interrupted (Ctrl-C)"),
            StopReason::TimedOut(after) => write!(
                f,
                "timed out after {} (--timeout)",
                kube_runbook::report::human_duration(*after)
            ),
            StopReason::Failed(why) => write!(f, "{why}"),
        }
    }
}

/// The stop signal shared by every task of one drain.
#[derive(Clone)]
pub struct Stop {
    interrupt: Interrupt,
    deadline: Option<(Instant, Duration)>,
    failure: watch::Sender<Option<String>>,
}

impl Stop {
    /// Stops on `interrupt`, after `timeout` from now, or on [`Stop::fail`].
    pub fn new(interrupt: Interrupt, timeout: Option<Duration>) -> Stop {
        Stop {
            interrupt,
            deadline: timeout.map(|t| (Instant::now() + t, t)),
            failure: watch::channel(None).0,
        }
    }

    /// Stops every task: an eviction failed for good.
    pub fn fail(&self, why: String) {
        self.failure.send_if_modified(|current| {
            if current.is_none() {
                *current = Some(why);
                true
            } else {
                false
            }
        });
    }

    /// The reason to stop, if there is one now.
    pub fn check(&self) -> Option<StopReason> {
        if self.interrupt.is_set() {
            return Some(StopReason::Interrupted);
        }
        if let Some(why) = self.failure.borrow().clone() {
            return Some(StopReason::Failed(why));
        }
        match self.deadline {
            Some((at, after)) if Instant::now() >= at => Some(StopReason::TimedOut(after)),
            _ => None,
        }
    }

    /// Resolves with the reason once the drain must stop.
    pub async fn stopped(&self) -> StopReason {
        let mut failure = self.failure.subscribe();
        let deadline = async {
            match self.deadline {
                Some((at, after)) => {
                    tokio::time::sleep_until(at.into()).await;
                    StopReason::TimedOut(after)
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = self.interrupt.triggered() => StopReason::Interrupted,
            reason = deadline => reason,
            Ok(why) = failure.wait_for(Option::is_some) => StopReason::Failed(why.clone().unwrap_or_default()),
        }
    }

    /// Runs `work` unless the drain stops first.
    pub async fn race<T>(&self, work: impl Future<Output = T>) -> Result<T, StopReason> {
        if let Some(reason) = self.check() {
            return Err(reason);
        }
        tokio::select! {
            value = work => Ok(value),
            reason = self.stopped() => Err(reason),
        }
    }

    /// Sleeps `duration` unless the drain stops first.
    pub async fn pause(&self, duration: Duration) -> Result<(), StopReason> {
        self.race(tokio::time::sleep(duration)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stops_on_interrupt_failure_or_deadline() {
        let (sender, interrupt) = Interrupt::manual();
        let stop = Stop::new(interrupt.clone(), None);
        assert_eq!(stop.check(), None);
        stop.fail("boom".into());
        stop.fail("second".into());
        assert_eq!(stop.check(), Some(StopReason::Failed("boom".into())));
        assert_eq!(
            stop.pause(Duration::from_secs(5)).await,
            Err(StopReason::Failed("boom".into()))
        );

        let stop = Stop::new(interrupt, Some(Duration::from_millis(20)));
        assert_eq!(
            stop.pause(Duration::from_secs(5)).await,
            Err(StopReason::TimedOut(Duration::from_millis(20)))
        );
        sender.send(true).unwrap();
        assert_eq!(stop.check(), Some(StopReason::Interrupted));
    }
}
