//! The live benchmark, ignored by default because it loads a large generated cluster; run it
//! alone:
//!
//! ```sh
//! SVC_CHECK_PERF_PODS=50000 SVC_CHECK_PERF_SERVICES=5000 SVC_CHECK_PERF_NODES=600 \
//!   cargo test --release -p kubectl-svc-check --test e2e -- --ignored --nocapture performance
//! ```
//!
//! `kubectl svc-check -A` must finish within 1.5 times `kubectl get svc,endpointslices,pods -A
//! -o json`, both measured here against the same cluster (median of 3 alternating runs).

use std::cell::Cell;
use std::path::Path;
use std::time::{Duration, Instant};

use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::{Api, api::ListParams};
use kube_runbooks_harness::{
    ControlPlane, RunCommand,
    generator::{ClusterSpec, generate_spec},
    poll_until,
};

const RUNS: usize = 3;
const COMMAND_TIMEOUT: Duration = Duration::from_secs(900);
const SETTLE: Duration = Duration::from_secs(5);

fn size(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn timed(cp: &ControlPlane, program: &Path, args: &[&str]) -> Duration {
    let started = Instant::now();
    let out = RunCommand::new(cp, program, args)
        .timeout(COMMAND_TIMEOUT)
        .output()
        .await;
    let elapsed = started.elapsed();
    assert!(
        matches!(out.code, Some(0 | 1)),
        "{} {args:?} failed: {}",
        program.display(),
        out.stderr
    );
    elapsed
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Waits until the endpointslice controller has stopped writing: the slice count holds for 5s.
async fn slices_settled(cp: &ControlPlane) -> usize {
    let slices: Api<EndpointSlice> = Api::all(cp.client());
    let last = Cell::new(usize::MAX);
    poll_until(
        Duration::from_secs(1800),
        "EndpointSlices to settle",
        || async {
            tokio::time::sleep(SETTLE).await;
            let count = slices
                .list_metadata(&ListParams::default())
                .await
                .map_err(|e| e.to_string())?
                .items
                .len();
            let previous = last.replace(count);
            if count == previous && count > 0 {
                Ok(count)
            } else {
                Err(format!("{count} slices, {previous} before"))
            }
        },
    )
    .await
}

#[tokio::test]
#[ignore = "loads a large generated cluster; run alone with --ignored"]
async fn performance_all_namespaces_within_one_and_a_half_kubectl_gets() {
    let cp = ControlPlane::shared().await;
    let spec = ClusterSpec {
        nodes: size("SVC_CHECK_PERF_NODES", 600),
        pods: size("SVC_CHECK_PERF_PODS", 50_000),
        services: Some(size("SVC_CHECK_PERF_SERVICES", 5_000)),
        seed: 1,
    };
    let items = generate_spec(&spec);
    let report = cp.load_cluster(&items).await;
    println!("loaded {:?} in {:.1?}", report.created, report.elapsed);
    println!("{} EndpointSlices settled", slices_settled(cp).await);

    let kubectl = cp.binaries().bin("kubectl");
    let plugin = Path::new(env!("CARGO_BIN_EXE_kubectl-svc_check"));
    let (mut gets, mut checks) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        gets.push(
            timed(
                cp,
                &kubectl,
                &["get", "svc,endpointslices,pods", "-A", "-o", "json"],
            )
            .await,
        );
        checks.push(timed(cp, plugin, &["-A"]).await);
    }
    let (get, check) = (median(gets), median(checks));
    println!(
        "kubectl get svc,endpointslices,pods -A -o json: {get:.2?}; kubectl svc-check -A: {check:.2?} ({:.2}x)",
        check.as_secs_f64() / get.as_secs_f64()
    );
    assert!(
        check.as_secs_f64() <= 1.5 * get.as_secs_f64(),
        "svc-check -A took {check:.2?}, kubectl get {get:.2?}"
    );
}
