//! How long the plan takes, end to end (process start to JSON printed), for a node with 110 pods
//! in a synthetic cluster of 1,000 nodes loaded into the real control plane. Ignored by default:
//! `cargo test -p kubectl-safe-drain --test plan_bench -- --ignored --nocapture`.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use futures::StreamExt;
use k8s_openapi::api::{apps::v1::ReplicaSet, core::v1::Pod};
use kube::api::PostParams;
use kube_runbooks_harness::{ControlPlane, FakeNode, TestNamespace, generator};
use serde_json::json;

const NODES: usize = 1_000;
const PODS: usize = 15_000;
const TARGET: usize = 110;
const RUNS: usize = 5;

#[tokio::test]
#[ignore = "loads a 1,000-node cluster; run with --ignored"]
async fn plans_a_110_pod_node_of_a_1000_node_cluster_in_under_2_seconds() {
    let cp = ControlPlane::shared().await;
    let items = generator::generate(NODES, PODS, 7);
    let loaded = cp.load_cluster(&items).await;
    eprintln!(
        "loaded {:?} in {:.1}s",
        loaded.created,
        loaded.elapsed.as_secs_f64()
    );

    let node = "bench-drain";
    cp.add_node(
        FakeNode::new(node)
            .cpu("64")
            .memory("256Gi")
            .pods("110")
            .label("bench", "drain"),
    )
    .await;
    let ns = cp.namespace("bench").await;
    fill(&ns, node, TARGET).await;

    let bin = Path::new(env!("CARGO_BIN_EXE_kubectl-safe_drain"));
    let mut times = Vec::new();
    let mut planned = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        let out = cp.run(bin, &[node, "--plan", "-o", "json"]).await;
        times.push(started.elapsed());
        let plan: serde_json::Value =
            serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out}"));
        planned = plan["nodes"][0]["pods"].as_array().map_or(0, Vec::len);
        assert!(planned >= TARGET, "{planned} pods planned: {}", out.stderr);
    }
    times.sort();
    let median = times[RUNS / 2];
    eprintln!(
        "plan of a {planned}-pod node in a {}-node cluster of {} pods: median {:.2}s, min {:.2}s, max {:.2}s",
        NODES + 1,
        PODS + planned,
        median.as_secs_f64(),
        times[0].as_secs_f64(),
        times[RUNS - 1].as_secs_f64()
    );
    assert!(median < Duration::from_secs(2), "median {median:?}");
}

/// `count` pods of a ReplicaSet, created bound to `node` (kwok runs them at once) rather than
/// left to the controllers, which a freshly loaded 1,000-node cluster keeps busy for minutes.
async fn fill(ns: &TestNamespace, node: &str, count: usize) {
    let template = json!({
        "metadata": {"labels": {"app": "filler"}},
        "spec": {"nodeSelector": {"bench": "drain"}, "containers": [{"name": "c", "image": "example/filler",
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]},
    });
    let rs: ReplicaSet = serde_json::from_value(json!({
        "metadata": {"name": "filler"},
        "spec": {"replicas": count, "selector": {"matchLabels": {"app": "filler"}}, "template": template},
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    let rs = ns
        .api::<ReplicaSet>()
        .create(&PostParams::default(), &rs)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let owner = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "filler", "uid": rs.metadata.uid, "controller": true}]);
    let api = ns.api::<Pod>();
    let creations = (0..count).map(|i| {
        let mut pod = template.clone();
        pod["metadata"]["name"] = json!(format!("filler-{i}"));
        pod["metadata"]["ownerReferences"] = owner.clone();
        pod["spec"]["nodeName"] = json!(node);
        let api = api.clone();
        async move {
            let pod: Pod = serde_json::from_value(pod).unwrap_or_else(|e| panic!("{e}"));
            api.create(&PostParams::default(), &pod).await.map(|_| ())
        }
    });
    let results: Vec<_> = futures::stream::iter(creations)
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(
        results.iter().all(Result::is_ok),
        "{:?}",
        results.iter().find(|r| r.is_err())
    );
}
