//! `gen-cluster`: generate a large synthetic cluster as a snapshot file and/or load it into a
//! live cluster.
//!
//! ```text
//! gen-cluster --nodes 500 --pods 10000 [--services 400] [--seed 1] --out cluster.json
//! gen-cluster --nodes 50 --pods 1000 --load --kubeconfig /tmp/.../admin.kubeconfig
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use kube_runbooks_harness::generator::{ClusterSpec, generate_spec, load_into, write_snapshot};

#[derive(Parser)]
#[command(about = "Generate a synthetic Kubernetes cluster (snapshot file and/or live load)")]
struct Args {
    /// Number of nodes.
    #[arg(long)]
    nodes: usize,
    /// Number of pods (some stay Pending when they fit nowhere).
    #[arg(long)]
    pods: usize,
    /// Number of Services (default: one per Deployment or StatefulSet).
    #[arg(long)]
    services: Option<usize>,
    /// Random seed; the same seed gives the same cluster.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write a `kind: List` JSON snapshot here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Create the objects in the cluster of `--kubeconfig`.
    #[arg(long, requires = "kubeconfig")]
    load: bool,
    /// Kubeconfig of the cluster to load into.
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// Concurrent create requests while loading.
    #[arg(long, default_value_t = 32)]
    parallelism: usize,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if args.out.is_none() && !args.load {
        eprintln!("gen-cluster: nothing to do; pass --out FILE and/or --load --kubeconfig PATH");
        return ExitCode::from(2);
    }
    let spec = ClusterSpec {
        nodes: args.nodes,
        pods: args.pods,
        services: args.services,
        seed: args.seed,
    };
    let items = generate_spec(&spec);
    eprintln!("gen-cluster: generated {} objects", items.len());
    if let Some(out) = &args.out {
        if let Err(e) = write_snapshot(out, &items) {
            eprintln!("gen-cluster: cannot write {}: {e}", out.display());
            return ExitCode::FAILURE;
        }
        eprintln!("gen-cluster: wrote {}", out.display());
    }
    if let (true, Some(path)) = (args.load, &args.kubeconfig) {
        let client = match client_for(path).await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("gen-cluster: {e}");
                return ExitCode::FAILURE;
            }
        };
        match load_into(&client, &items, args.parallelism).await {
            Ok(report) => eprintln!(
                "gen-cluster: loaded {:?} in {:.1}s (left to controllers: {:?})",
                report.created,
                report.elapsed.as_secs_f64(),
                report.skipped
            ),
            Err(e) => {
                eprintln!("gen-cluster: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

async fn client_for(path: &std::path::Path) -> Result<kube::Client, String> {
    let kubeconfig = kube::config::Kubeconfig::read_from(path)
        .map_err(|e| format!("cannot read kubeconfig {}: {e}", path.display()))?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .map_err(|e| format!("cannot load kubeconfig {}: {e}", path.display()))?;
    kube::Client::try_from(config).map_err(|e| format!("cannot build a client: {e}"))
}
