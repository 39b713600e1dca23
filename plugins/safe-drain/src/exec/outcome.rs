//! What one node's drain did, exactly: which pods were evicted, which remain and why, and the
//! state the node was left in; printed as text and carried in the JSON run document.

use std::fmt::Write;

use kube_runbook::{
    exit_code,
    report::{Styles, human_duration},
};
use serde::Serialize;

/// How the drain of one node ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Ended {
    /// Every planned pod is gone (or, in a dry run, every eviction was accepted).
    Drained,
    /// Stopped by a refusal or an error before every pod was gone.
    Incomplete,
    /// Stopped by --timeout.
    TimedOut,
    /// Stopped by Ctrl-C.
    Interrupted,
}

/// The state the node was left in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "state", content = "detail")]
pub enum NodeLeft {
    /// Cordoned by this run, drained, kept cordoned for maintenance.
    CordonedForMaintenance,
    /// It was cordoned before this run and stays so.
    StillCordoned,
    /// Uncordoned by --then uncordon.
    Uncordoned,
    /// The Node object was deleted by --then delete.
    Deleted,
    /// The drain did not finish: this run's cordon was undone.
    Restored,
    /// The drain did not finish: left cordoned (--keep-cordoned).
    KeptCordoned,
    /// The drain did not finish and undoing the cordon failed: still cordoned.
    RestoreFailed(String),
    /// The drain stopped before the node was cordoned.
    Untouched,
    /// Dry run: nothing was stored.
    Unchanged,
}

impl NodeLeft {
    pub fn describe(&self, node: &str) -> String {
        match self {
            NodeLeft::CordonedForMaintenance => format!(
                "node {node} stays cordoned for maintenance; when it is done: kubectl safe-drain uncordon {node}"
            ),
            NodeLeft::StillCordoned => {
                format!("node {node} stays cordoned, as it was before this run")
            }
            NodeLeft::Uncordoned => format!("node {node} is schedulable again (--then uncordon)"),
            NodeLeft::Deleted => format!("Node {node} was deleted (--then delete)"),
            NodeLeft::Restored => {
                format!("node {node} is schedulable again: this run's cordon was undone")
            }
            NodeLeft::KeptCordoned => format!(
                "node {node} is left cordoned (--keep-cordoned); kubectl safe-drain uncordon {node} undoes it"
            ),
            NodeLeft::RestoreFailed(why) => {
                format!("node {node} is STILL CORDONED: undoing the cordon failed: {why}")
            }
            NodeLeft::Untouched => format!("node {node} was not changed"),
            NodeLeft::Unchanged => format!("node {node} was not changed (dry run)"),
        }
    }
}

/// A pod the drain evicted.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EvictedPod {
    pub pod: String,
    /// Seconds from eviction to gone (0 when it was already gone).
    pub seconds: u64,
}

/// A pod still on the node, and why.
#[derive(Debug, Clone, Serialize)]
pub struct RemainingPod {
    pub pod: String,
    pub why: String,
}

/// What one node's drain did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeOutcome {
    pub node: String,
    pub ended: Ended,
    pub dry_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_because: Option<String>,
    pub seconds: u64,
    pub evicted: Vec<EvictedPod>,
    pub remaining: Vec<RemainingPod>,
    pub node_left: NodeLeft,
}

impl NodeOutcome {
    /// The exit code this outcome implies.
    pub fn exit_code(&self) -> u8 {
        match self.ended {
            Ended::Drained => exit_code::OK,
            Ended::Interrupted => exit_code::INTERRUPTED,
            Ended::Incomplete | Ended::TimedOut => exit_code::INCOMPLETE,
        }
    }

    /// The outcome for people.
    pub fn text(&self, styles: &Styles) -> String {
        let mut out = String::new();
        let took = human_duration(std::time::Duration::from_secs(self.seconds));
        let evicted = self.evicted.len();
        if self.ended == Ended::Drained {
            let verb = if self.dry_run {
                "would be drained (dry run: the API server accepted every change, nothing was stored)"
            } else {
                "drained"
            };
            let _ = writeln!(
                out,
                "{} node {} {verb} in {took}: {evicted} pods evicted",
                styles.ok.style("✓"),
                self.node
            );
        } else {
            let why = self.stopped_because.as_deref().unwrap_or("stopped");
            let _ = writeln!(
                out,
                "{} drain of node {} did not finish ({why}): {evicted} of {} pods evicted",
                styles.error.style("✗"),
                self.node,
                evicted + self.remaining.len()
            );
        }
        if !self.evicted.is_empty() {
            let _ = writeln!(out, "  evicted:");
            for pod in &self.evicted {
                let _ = writeln!(out, "    {} ({}s)", pod.pod, pod.seconds);
            }
        }
        if !self.remaining.is_empty() {
            let _ = writeln!(out, "  remaining on the node:");
            for pod in &self.remaining {
                let _ = writeln!(out, "    {}: {}", pod.pod, pod.why);
            }
        }
        let _ = writeln!(out, "  {}", self.node_left.describe(&self.node));
        if self.ended != Ended::Drained {
            let _ = writeln!(
                out,
                "  Run the same command again to continue where this run stopped."
            );
        }
        out
    }
}
