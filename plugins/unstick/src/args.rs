//! The command line of `kubectl unstick`.

use std::{path::PathBuf, time::Duration};

use clap::{Parser, ValueEnum};
use kube_runbook::cli::KubectlFlags;

/// Why objects are stuck in Terminating (or a StatefulSet pod on a lost node is never replaced),
/// and the least dangerous way to unstick them.
#[derive(Debug, Parser)]
#[command(version = kube_runbook::app::VERSION, about, long_about = None)]
pub struct Args {
    /// The object: TYPE/NAME or TYPE NAME (pod/web-0, ns/shop, pvc/data, widgets.example.com/w1).
    /// Without it, everything stuck in the namespace (every namespace and cluster-scoped objects with -A).
    #[arg(value_name = "TYPE/NAME", num_args = 0..=2)]
    pub object: Vec<String>,

    /// Offer the remediation ladder for the object, safest step first, each confirmed.
    #[arg(long)]
    pub fix: bool,

    /// `server`: send every change with dryRun=All, so the API server checks it and changes nothing.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = DryRun::None)]
    pub dry_run: DryRun,

    /// Take every offered step without asking (steps that need a typed name still need --acknowledge).
    #[arg(short = 'y', long)]
    pub yes: bool,

    /// Confirm a step that asks for an object's name to be typed (force-deleting a StatefulSet pod or a
    /// pod with a ReadWriteOnce volume, finalizing a namespace) without a terminal. Repeatable.
    #[arg(long, value_name = "NAME")]
    pub acknowledge: Vec<String>,

    /// Where to write the backup of each object before it is changed.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub backup_dir: PathBuf,

    /// How long to wait, after the last step, for the object to disappear (e.g. 90s, 2m).
    #[arg(long, value_name = "DURATION", default_value = "90s", value_parser = parse_wait)]
    pub wait: Duration,

    /// Read the cluster from a snapshot (a `kubectl cluster-info dump` directory or a List file):
    /// diagnosis only; with --fix, the plan is shown and nothing is changed.
    #[arg(long, value_name = "PATH")]
    pub snapshot: Option<PathBuf>,

    #[command(flatten)]
    pub kube: KubectlFlags,
}

/// kubectl's `--dry-run` modes that make sense here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DryRun {
    /// Change the cluster.
    None,
    /// Send every change with dryRun=All: the API server validates and authorizes it, stores nothing.
    Server,
}

fn parse_wait(text: &str) -> Result<Duration, String> {
    let parsed: kube::core::Duration = text
        .trim()
        .parse()
        .map_err(|_| format!("\"{text}\" is not a duration such as 30s, 2m or 1m30s"))?;
    if parsed.is_negative() {
        return Err(format!("\"{text}\" must not be negative"));
    }
    Ok(parsed.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_fix_flags() {
        let args = Args::try_parse_from([
            "kubectl-unstick",
            "pod/web-0",
            "-n",
            "shop",
            "--fix",
            "--dry-run=server",
            "--yes",
            "--acknowledge",
            "web-0",
            "--wait",
            "2m",
        ])
        .unwrap();
        assert_eq!(args.object, vec!["pod/web-0"]);
        assert!(args.fix && args.yes);
        assert_eq!(args.dry_run, DryRun::Server);
        assert_eq!(args.acknowledge, vec!["web-0"]);
        assert_eq!(args.wait, Duration::from_secs(120));
        assert_eq!(args.kube.namespace.as_deref(), Some("shop"));
    }

    #[test]
    fn accepts_type_and_name_as_two_words() {
        let args = Args::try_parse_from(["kubectl-unstick", "pvc", "data"]).unwrap();
        assert_eq!(args.object, vec!["pvc", "data"]);
    }

    #[test]
    fn rejects_client_dry_run_and_bad_waits() {
        assert!(Args::try_parse_from(["kubectl-unstick", "--dry-run=client"]).is_err());
        assert!(Args::try_parse_from(["kubectl-unstick", "--wait", "soon"]).is_err());
        assert!(Args::try_parse_from(["kubectl-unstick", "a", "b", "c"]).is_err());
    }
}
