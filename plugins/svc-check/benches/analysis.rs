//! `kubectl svc-check -A` on a generated cluster: how long loading the snapshot and analysing
//! every Service take. Sizes: SVC_CHECK_BENCH_PODS (50000), SVC_CHECK_BENCH_SERVICES (5000),
//! SVC_CHECK_BENCH_NODES (600), SVC_CHECK_BENCH_RUNS (5).
//!
//! ```sh
//! cargo bench -p kubectl-svc-check --bench analysis
//! ```

use std::time::Instant;

use kube_runbook::state::{Kind, load_snapshot};
use kube_runbooks_harness::{
    bench::{env_usize, median},
    generator::{ClusterSpec, generate_spec, write_snapshot},
};
use svc_check::{coverage::Coverage, examine::examine, index::Index, request::Request};

const KINDS: [Kind; 9] = [
    Kind::Service,
    Kind::EndpointSlice,
    Kind::Pod,
    Kind::NetworkPolicy,
    Kind::Namespace,
    Kind::Node,
    Kind::DaemonSet,
    Kind::Deployment,
    Kind::Event,
];

fn main() {
    let spec = ClusterSpec {
        nodes: env_usize("SVC_CHECK_BENCH_NODES", 600),
        pods: env_usize("SVC_CHECK_BENCH_PODS", 50_000),
        services: Some(env_usize("SVC_CHECK_BENCH_SERVICES", 5_000)),
        seed: 1,
    };
    let runs = env_usize("SVC_CHECK_BENCH_RUNS", 5).max(1);
    let started = Instant::now();
    let items = generate_spec(&spec);
    println!(
        "generated {} objects ({} nodes, {} pods, {} services) in {:.2?}",
        items.len(),
        spec.nodes,
        spec.pods,
        spec.services.unwrap_or(0),
        started.elapsed()
    );
    let dir = std::env::temp_dir().join(format!("svc-check-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let path = dir.join("cluster.json");
    write_snapshot(&path, &items)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    drop(items);

    let mut loads = Vec::new();
    let mut analyses = Vec::new();
    let mut findings = 0;
    let mut services = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let state = load_snapshot(&path, &KINDS, None).unwrap_or_else(|e| panic!("{e}"));
        loads.push(started.elapsed());
        let started = Instant::now();
        let coverage = Coverage::everywhere(&state);
        let index = Index::new(&state, &coverage);
        let request = Request::new(None, None, None, None).unwrap_or_else(|e| panic!("{e}"));
        let examination = examine(&index, &request);
        analyses.push(started.elapsed());
        findings = examination.findings.len();
        services = examination.services;
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "snapshot load (parse + typed objects): median {:.2?} of {runs}",
        median(&loads)
    );
    println!(
        "index + analysis of {services} services: median {:.2?} of {runs} ({findings} findings)",
        median(&analyses)
    );
}
