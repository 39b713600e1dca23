//! The command line of `kubectl safe-drain`.

use std::{path::PathBuf, time::Duration};

use clap::{Parser, Subcommand, ValueEnum};
use kube_runbook::cli::KubectlFlags;

/// Drain a node safely: a pre-flight plan of what will happen to every pod and what would block,
/// then cordon, evict (PodDisruptionBudget-aware), wait, and finish.
///
/// Without --then the node stays cordoned for maintenance; end it with
/// `kubectl safe-drain uncordon NODE`.
#[derive(Debug, Parser)]
#[command(
    version = kube_runbook::app::VERSION,
    about,
    long_about,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// The nodes to drain, one at a time (or select them with -l).
    #[arg(value_name = "NODE")]
    pub nodes: Vec<String>,

    /// Only show the pre-flight plan; exit 0 if the drain can succeed, 1 if it cannot.
    #[arg(long)]
    pub plan: bool,

    /// What to do once the node is drained: uncordon it, or delete the Node object.
    #[arg(long, value_enum, value_name = "STEP")]
    pub then: Option<FinalStep>,

    /// `server` sends every change with dryRun=All: the API server checks it, nothing is stored.
    #[arg(long, value_enum, value_name = "MODE", default_value_t)]
    pub dry_run: DryRun,

    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    pub yes: bool,

    /// Give up on a node after this long (e.g. 90s, 10m; 0 waits forever); it is then restored.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_timeout)]
    pub timeout: Timeout,

    /// Evict pods whose emptyDir or hostPath data will be lost.
    #[arg(long)]
    pub delete_emptydir_data: bool,

    /// Evict pods that no controller will recreate (no controller, or it no longer exists),
    /// and pods annotated cluster-autoscaler.kubernetes.io/safe-to-evict=false.
    #[arg(long)]
    pub force: bool,

    /// Evict pods bound to volumes that live on this node: they cannot run anywhere else.
    #[arg(long)]
    pub evict_local_volume_pods: bool,

    /// Drain even if some evicted pods would find no node to run on (they stay Pending).
    #[arg(long)]
    pub allow_pending: bool,

    /// After each eviction, wait until the pod's workload is Ready again before evicting the
    /// next pod of the same workload.
    #[arg(long)]
    pub wait_healthy: bool,

    /// At most this many pods being evicted (and not yet gone) at once.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,

    /// Seconds each pod gets to stop (default: the pod's own terminationGracePeriodSeconds).
    #[arg(long, value_name = "SECONDS")]
    pub grace_period: Option<u32>,

    /// On failure, timeout or Ctrl-C, leave the node cordoned instead of restoring it.
    #[arg(long)]
    pub keep_cordoned: bool,

    /// Accepted for kubectl compatibility: DaemonSet pods are always left in place.
    #[arg(long, hide = true)]
    pub ignore_daemonsets: bool,

    /// Plan from a snapshot (a `kubectl cluster-info dump` directory or a List file); implies --plan.
    #[arg(long, value_name = "PATH")]
    pub snapshot: Option<PathBuf>,

    #[command(flatten)]
    pub kube: KubectlFlags,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// End maintenance: make the node schedulable again, saying whether safe-drain cordoned it.
    Uncordon {
        /// The node to uncordon.
        node: String,
        /// Do not ask for confirmation when the cordon was not made by safe-drain.
        #[arg(short = 'y', long)]
        yes: bool,
        /// `server` sends the change with dryRun=All.
        #[arg(long, value_enum, value_name = "MODE", default_value_t)]
        dry_run: DryRun,
    },
}

/// The step after the node is drained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FinalStep {
    /// Make the node schedulable again (maintenance done).
    Uncordon,
    /// Delete the Node object (the machine is being removed).
    Delete,
}

/// Whether changes are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum DryRun {
    /// Changes are made.
    #[default]
    None,
    /// Changes are sent with dryRun=All.
    Server,
}

/// How long the whole drain may take; None waits forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeout(pub Option<Duration>);

/// `--timeout`: a Go-style duration or seconds; 0 means no limit.
fn parse_timeout(text: &str) -> Result<Timeout, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Timeout((seconds > 0).then(|| Duration::from_secs(seconds))));
    }
    let parsed: kube::core::Duration = text
        .parse()
        .map_err(|_| format!("\"{text}\" is not a duration such as 90s, 10m or 0"))?;
    if parsed.is_negative() {
        return Err(format!("\"{text}\" is negative"));
    }
    let duration: Duration = parsed.into();
    Ok(Timeout((!duration.is_zero()).then_some(duration)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_drain() {
        let args = Args::parse_from([
            "x",
            "node-a",
            "node-b",
            "--then",
            "delete",
            "--dry-run=server",
            "--timeout",
            "90s",
            "-y",
        ]);
        assert_eq!(args.nodes, ["node-a", "node-b"]);
        assert_eq!(args.then, Some(FinalStep::Delete));
        assert_eq!(args.dry_run, DryRun::Server);
        assert_eq!(args.timeout, Timeout(Some(Duration::from_secs(90))));
        assert!(args.yes && args.command.is_none());
    }

    #[test]
    fn the_default_timeout_is_finite() {
        let args = Args::parse_from(["x", "node-a"]);
        assert_eq!(args.timeout, Timeout(Some(Duration::from_secs(300))));
        assert_eq!(args.dry_run, DryRun::None);
        assert_eq!(
            Args::parse_from(["x", "n", "--timeout", "0"]).timeout,
            Timeout(None)
        );
        assert!(Args::try_parse_from(["x", "n", "--timeout", "soon"]).is_err());
    }

    #[test]
    fn parses_uncordon() {
        let args = Args::parse_from(["x", "uncordon", "node-a"]);
        assert!(matches!(args.command, Some(Command::Uncordon { node, .. }) if node == "node-a"));
    }
}
