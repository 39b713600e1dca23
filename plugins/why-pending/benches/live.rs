//! Benchmark: the whole `kubectl why-pending POD` command against the local control plane holding
//! a generated cluster of 1,000 nodes and 20,000 pods, against `kubectl get pods,nodes -A -o json`
//! in the same run: wall time and peak memory (the bar: no slower, less memory). Needs GNU time
//! (`/usr/bin/time`). Run with `cargo bench -p kubectl-why-pending --bench live`; sizes can be
//! changed with BENCH_NODES and BENCH_PODS.

use std::{path::Path, process::Command, time::Instant};

use k8s_openapi::api::core::v1::Pod;
use kube::{Api, api::ListParams};
use kube_runbooks_harness::{ControlPlane, bench::env_usize, generator};

const WHY_PENDING: &str = env!("CARGO_BIN_EXE_kubectl-why_pending");
const RUNS: usize = 5;

#[tokio::main]
async fn main() {
    let nodes = env_usize("BENCH_NODES", 1_000);
    let pods = env_usize("BENCH_PODS", 20_000);
    let cp = ControlPlane::shared().await;
    let started = Instant::now();
    let report = cp.load_cluster(&generator::generate(nodes, pods, 11)).await;
    println!(
        "loaded {nodes} nodes and {pods} pods in {:.0}s: {:?}",
        started.elapsed().as_secs_f64(),
        report.created
    );

    let pending = pending_pod(cp).await;
    let (namespace, name) = (
        pending.metadata.namespace.unwrap_or_default(),
        pending.metadata.name.unwrap_or_default(),
    );
    println!("explaining pending pod {namespace}/{name}");

    let kubeconfig = cp.admin_kubeconfig();
    let kubectl = cp.bin_dir().join("kubectl");
    let baseline = measure(
        kubeconfig,
        &kubectl,
        &["get", "pods,nodes", "-A", "-o", "json"],
    );
    let plugin = measure(
        kubeconfig,
        Path::new(WHY_PENDING),
        &[&name, "-n", &namespace, "-o", "json"],
    );
    println!(
        "kubectl get pods,nodes -A -o json: median {:.2}s, peak {} MiB",
        baseline.0,
        baseline.1 / 1024
    );
    println!(
        "kubectl why-pending POD -o json:   median {:.2}s, peak {} MiB",
        plugin.0,
        plugin.1 / 1024
    );
    println!(
        "time ratio (why-pending / kubectl get): {:.2}",
        plugin.0 / baseline.0
    );
    println!(
        "memory ratio (why-pending / kubectl get): {:.2}",
        plugin.1 as f64 / baseline.1 as f64
    );
}

/// A pod the scheduler could not place (the generator makes some too large for any node).
async fn pending_pod(cp: &ControlPlane) -> Pod {
    let pods: Api<Pod> = Api::all(cp.client());
    let params = ListParams::default().fields("spec.nodeName=,status.phase=Pending");
    kube_runbooks_harness::wait_for(
        kube_runbooks_harness::DEFAULT_TIMEOUT,
        "a pending pod",
        || async { pods.list(&params).await.ok()?.items.into_iter().next() },
    )
    .await
}

/// Median wall seconds and the largest peak RSS (KiB) over RUNS runs, after one warm-up run.
fn measure(kubeconfig: &Path, program: &Path, args: &[&str]) -> (f64, u64) {
    let mut seconds = Vec::new();
    let mut peak = 0;
    for run in 0..=RUNS {
        let out = Command::new("/usr/bin/time")
            .args(["-f", "%e %M"])
            .arg(program)
            .args(args)
            .env("KUBECONFIG", kubeconfig)
            .stdout(std::process::Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run /usr/bin/time (apt-get install time): {e}"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr.lines().last().unwrap_or_default();
        let mut fields = last.split_whitespace();
        let wall: f64 = fields
            .next()
            .and_then(|f| f.parse().ok())
            .unwrap_or_else(|| panic!("no timing from: {stderr}"));
        let rss: u64 = fields
            .next()
            .and_then(|f| f.parse().ok())
            .unwrap_or_else(|| panic!("no RSS from: {stderr}"));
        if run > 0 {
            seconds.push(wall);
            peak = peak.max(rss);
        }
    }
    seconds.sort_by(f64::total_cmp);
    (seconds[seconds.len() / 2], peak)
}
