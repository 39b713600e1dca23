//! The command line of `kubectl why-pending`.

use std::path::PathBuf;

use clap::Parser;
use kube_runbook::cli::KubectlFlags;

/// Why a pod is not running: the answer in plain words, the evidence, and the fix.
#[derive(Debug, Parser)]
#[command(version = kube_runbook::app::VERSION, about, long_about = None)]
pub struct Args {
    /// A pod name, or TYPE/NAME of its owner (deploy, rs, sts, ds, job); all unhealthy pods when omitted.
    pub target: Option<String>,

    /// Read the cluster from a snapshot (a `kubectl cluster-info dump` directory or a List file).
    #[arg(long, value_name = "PATH")]
    pub snapshot: Option<PathBuf>,

    #[command(flatten)]
    pub kube: KubectlFlags,
}
