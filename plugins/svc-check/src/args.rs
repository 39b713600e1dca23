//! The command line of `kubectl svc-check`.

use std::path::PathBuf;

use clap::Parser;
use kube_runbook::cli::KubectlFlags;

/// Can traffic reach a ready backend of a Service? If not, the first broken link of the chain
/// client -> DNS name -> Service port -> targetPort -> endpoint -> ready pod, and the fix.
#[derive(Debug, Parser)]
#[command(version = kube_runbook::app::VERSION, about, long_about = None)]
pub struct Args {
    /// The Service (NAME or svc/NAME); every Service with a problem when omitted.
    pub service: Option<String>,

    /// Check the path from this pod (POD, or NAMESPACE/POD): its DNS settings, its egress
    /// NetworkPolicies, and the backends' ingress policies for its namespace and labels.
    #[arg(long, value_name = "POD")]
    pub from: Option<String>,

    /// Read the cluster from a snapshot (a `kubectl cluster-info dump` directory or a List file).
    #[arg(long, value_name = "PATH")]
    pub snapshot: Option<PathBuf>,

    #[command(flatten)]
    pub kube: KubectlFlags,
}
