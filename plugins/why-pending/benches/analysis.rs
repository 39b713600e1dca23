//! Benchmark: explaining one pending pod on a generated cluster of 5,000 nodes and 150,000 pods,
//! from an already loaded state (the bar: under 50 ms). Run with `cargo bench -p kubectl-why-pending
//! --bench analysis`; sizes can be changed with BENCH_NODES and BENCH_PODS.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::{
    fit::{Snapshot, evaluate},
    state::{Kind, load_snapshot},
};
use kube_runbooks_harness::generator;

fn main() {
    let nodes = env_usize("BENCH_NODES", 5_000);
    let pods = env_usize("BENCH_PODS", 150_000);
    let started = Instant::now();
    let items = generator::generate(nodes, pods, 7);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("cannot create a temp dir: {e}"));
    let file = dir.path().join("cluster.json");
    generator::write_snapshot(&file, &items)
        .unwrap_or_else(|e| panic!("cannot write the snapshot: {e}"));
    drop(items);
    println!(
        "generated {nodes} nodes and {pods} pods in {:.1}s",
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let kinds = [
        Kind::Pod,
        Kind::Node,
        Kind::Namespace,
        Kind::PersistentVolumeClaim,
        Kind::PersistentVolume,
        Kind::StorageClass,
    ];
    let state = load_snapshot(&file, &kinds, None)
        .unwrap_or_else(|e| panic!("cannot load the snapshot: {e}"));
    println!(
        "loaded the snapshot in {:.1}s ({} pods, {} nodes)",
        started.elapsed().as_secs_f64(),
        state.pods.len(),
        state.nodes.len()
    );

    let pending: Vec<&Pod> = state
        .pods
        .iter()
        .filter(|p| p.spec.as_ref().is_some_and(|s| s.node_name.is_none()))
        .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Pending"))
        .take(20)
        .collect();
    assert!(
        !pending.is_empty(),
        "the generated cluster has no pending pod"
    );

    let index_times = measure(10, || {
        std::hint::black_box(Snapshot::from_state(&state));
    });
    let snapshot = Snapshot::from_state(&state);
    let mut i = 0;
    let evaluate_times = measure(20, || {
        let pod = pending[i % pending.len()];
        i += 1;
        std::hint::black_box(evaluate(pod, &snapshot));
    });
    let total = median(&index_times) + median(&evaluate_times);
    println!(
        "index build (once per run): median {:.1} ms",
        ms(median(&index_times))
    );
    println!(
        "evaluate one pending pod:   median {:.1} ms (min {:.1}, max {:.1})",
        ms(median(&evaluate_times)),
        ms(min(&evaluate_times)),
        ms(max(&evaluate_times))
    );
    println!(
        "analysis of one pending pod from a loaded state: {:.1} ms (bar: 50 ms)",
        ms(total)
    );
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn measure(runs: usize, mut work: impl FnMut()) -> Vec<Duration> {
    work();
    (0..runs)
        .map(|_| {
            let started = Instant::now();
            work();
            started.elapsed()
        })
        .collect()
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn min(times: &[Duration]) -> Duration {
    times.iter().copied().min().unwrap_or_default()
}

fn max(times: &[Duration]) -> Duration {
    times.iter().copied().max().unwrap_or_default()
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
