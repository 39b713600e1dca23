//! Benchmark: `kubectl svc-check -A` against `kubectl get svc,endpointslices,pods -A -o json`, both
//! run alternately against the local control plane holding a generated cluster of 5,000 Services
//! and 50,000 pods, whose EndpointSlices the real endpointslice controller writes. The bar:
//! svc-check within 1.5 times kubectl. Prints both medians, the ratio, both peak RSS and the load
//! average. Needs GNU time (`/usr/bin/time`, Debian's `time` package).
//!
//! ```sh
//! cargo bench -p kubectl-svc-check --bench live
//! ```
//!
//! Sizes: BENCH_SERVICES (5000), BENCH_PODS (50000), BENCH_NODES (600), BENCH_RUNS (5).

use std::{cell::Cell, path::Path, time::Duration, time::Instant};

use k8s_openapi::api::{
    core::v1::{Pod, Service},
    discovery::v1::EndpointSlice,
};
use kube::{Api, api::ListParams};
use kube_runbooks_harness::{
    ControlPlane,
    bench::{Sample, env_usize, load_average, median},
    generator::{ClusterSpec, generate_spec},
    poll_until,
};
use serde_json::Value;

const SVC_CHECK: &str = env!("CARGO_BIN_EXE_kubectl-svc_check");
const BASELINE: [&str; 5] = ["get", "svc,endpointslices,pods", "-A", "-o", "json"];
/// Time between two looks at the EndpointSlices while the controller writes them.
const SETTLE_POLL: Duration = Duration::from_secs(10);
/// How many looks in a row must see the same slices.
const SETTLED_LOOKS: usize = 3;

#[tokio::main]
async fn main() {
    let spec = ClusterSpec {
        nodes: env_usize("BENCH_NODES", 600),
        pods: env_usize("BENCH_PODS", 50_000),
        services: Some(env_usize("BENCH_SERVICES", 5_000)),
        seed: 1,
    };
    let runs = env_usize("BENCH_RUNS", 5).max(1);
    let cp = ControlPlane::shared().await;
    let items = generate_spec(&spec);
    let report = cp.load_cluster(&items).await;
    println!(
        "loaded in {:.0}s: {:?}",
        report.elapsed.as_secs_f64(),
        report.created
    );
    let started = Instant::now();
    let (slices, endpoints) = slices_settled(cp, &items).await;
    println!(
        "endpointslice controller settled {:.0}s later: {slices} EndpointSlices, {endpoints} endpoints",
        started.elapsed().as_secs_f64()
    );
    println!(
        "cluster: {} Services, {} Pods (every namespace)",
        count::<Service>(cp).await,
        count::<Pod>(cp).await
    );
    drop(items);

    let kubectl = cp.bin_dir().join("kubectl");
    let plugin = Path::new(SVC_CHECK);
    println!("load average before: {}", load_average());
    cp.measure(&kubectl, &BASELINE, &[0]);
    cp.measure(plugin, &["-A"], &[0, 1]);
    let (mut gets, mut checks) = (Vec::new(), Vec::new());
    for run in 1..=runs {
        let get = cp.measure(&kubectl, &BASELINE, &[0]);
        let check = cp.measure(plugin, &["-A"], &[0, 1]);
        println!(
            "run {run}: kubectl get {:.2}s ({} MiB), svc-check {:.2}s ({} MiB), load {}",
            get.wall.as_secs_f64(),
            get.peak_rss_kib / 1024,
            check.wall.as_secs_f64(),
            check.peak_rss_kib / 1024,
            load_average()
        );
        gets.push(get);
        checks.push(check);
    }
    let (get, check) = (summary(&gets), summary(&checks));
    println!(
        "kubectl get svc,endpointslices,pods -A -o json: median {:.2}s, peak {} MiB",
        get.wall.as_secs_f64(),
        get.peak_rss_kib / 1024
    );
    println!(
        "kubectl svc-check -A:                           median {:.2}s, peak {} MiB",
        check.wall.as_secs_f64(),
        check.peak_rss_kib / 1024
    );
    println!(
        "time ratio (svc-check / kubectl get): {:.2} (bar: 1.5); load average after: {}",
        check.wall.as_secs_f64() / get.wall.as_secs_f64(),
        load_average()
    );
}

/// The median wall time and the largest peak RSS of the runs.
fn summary(samples: &[Sample]) -> Sample {
    let walls: Vec<Duration> = samples.iter().map(|s| s.wall).collect();
    Sample {
        wall: median(&walls),
        peak_rss_kib: samples.iter().map(|s| s.peak_rss_kib).max().unwrap_or(0),
    }
}

/// Waits until the endpointslice controller is done: the slices hold at least the endpoints
/// the generator expects (one per bound pod of a Service) and did not change for a while.
async fn slices_settled(cp: &ControlPlane, items: &[Value]) -> (usize, usize) {
    let expected: usize = items
        .iter()
        .filter(|i| i["kind"] == "EndpointSlice")
        .filter_map(|i| i["endpoints"].as_array().map(Vec::len))
        .sum();
    let api: Api<EndpointSlice> = Api::all(cp.client());
    let unchanged = Cell::new(0);
    let last = Cell::new((0, 0));
    poll_until(
        Duration::from_secs(3600),
        &format!("EndpointSlices with {expected} endpoints, unchanged for {SETTLED_LOOKS} looks"),
        || async {
            tokio::time::sleep(SETTLE_POLL).await;
            let list = api
                .list(&ListParams::default())
                .await
                .map_err(|e| e.to_string())?;
            let endpoints: usize = list
                .items
                .iter()
                .map(|s| s.endpoints.as_ref().map_or(0, Vec::len))
                .sum();
            let seen = (list.items.len(), endpoints);
            let same = seen == last.replace(seen);
            unchanged.set(if same { unchanged.get() + 1 } else { 0 });
            if endpoints >= expected && unchanged.get() >= SETTLED_LOOKS {
                Ok(seen)
            } else {
                Err(format!(
                    "{} slices, {endpoints} endpoints, unchanged {} times",
                    seen.0,
                    unchanged.get()
                ))
            }
        },
    )
    .await
}

async fn count<K>(cp: &ControlPlane) -> usize
where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    Api::<K>::all(cp.client())
        .list_metadata(&ListParams::default())
        .await
        .unwrap_or_else(|e| panic!("cannot list: {e}"))
        .items
        .len()
}
