//! What the drain shows while it runs: one line per event, and on a terminal a bar counting
//! evicted / waiting / blocked pods. The same tally records each pod's end for the summary.

use std::{
    collections::BTreeMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Where one pod is in the drain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PodState {
    /// Not evicted yet.
    Queued,
    /// Eviction sent (or about to be).
    Evicting,
    /// Accepted; waiting for the pod to be gone.
    Waiting,
    /// Refused for now (a budget, rate limiting); retried.
    Blocked(String),
    /// Gone from the node, after this long.
    Evicted(Duration),
    /// Accepted under --dry-run=server.
    WouldEvict,
    /// Refused for good.
    Failed(String),
}

/// The live tally and its display.
pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    pods: Mutex<BTreeMap<String, PodState>>,
}

impl Progress {
    /// A tally of `pods` (all queued); a bar is drawn when `interactive`.
    pub fn new(pods: impl IntoIterator<Item = String>, interactive: bool) -> Progress {
        let pods: BTreeMap<String, PodState> =
            pods.into_iter().map(|p| (p, PodState::Queued)).collect();
        let bar = interactive.then(|| {
            let bar = ProgressBar::with_draw_target(
                Some(pods.len() as u64),
                ProgressDrawTarget::stderr(),
            );
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} [{bar:30}] {pos}/{len} evicted · {msg} · {elapsed}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        let progress = Progress {
            bar,
            started: Instant::now(),
            pods: Mutex::new(pods),
        };
        progress.redraw();
        progress
    }

    /// Prints one event line (above the bar when there is one).
    pub fn line(&self, text: impl AsRef<str>) {
        match &self.bar {
            Some(bar) => bar.println(text.as_ref()),
            None => eprintln!("{}", text.as_ref()),
        }
    }

    /// Moves `pod` to `state`.
    pub fn set(&self, pod: &str, state: PodState) {
        if let Ok(mut pods) = self.pods.lock() {
            pods.insert(pod.to_string(), state);
        }
        self.redraw();
    }

    /// Time since the drain started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Every pod and where it ended.
    pub fn snapshot(&self) -> BTreeMap<String, PodState> {
        self.pods.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn redraw(&self) {
        let Some(bar) = &self.bar else { return };
        let Ok(pods) = self.pods.lock() else { return };
        let count = |f: fn(&PodState) -> bool| pods.values().filter(|s| f(s)).count();
        let done = count(|s| matches!(s, PodState::Evicted(_) | PodState::WouldEvict));
        let waiting = count(|s| matches!(s, PodState::Evicting | PodState::Waiting));
        let blocked = count(|s| matches!(s, PodState::Blocked(_) | PodState::Failed(_)));
        bar.set_position(done as u64);
        bar.set_message(format!("waiting {waiting} · blocked {blocked}"));
    }
}
