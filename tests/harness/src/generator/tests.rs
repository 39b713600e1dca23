//! Invariants of the generator.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{ClusterSpec, generate, generate_spec};

fn quantity(q: &str) -> f64 {
    let units = [("Gi", 1_073_741_824.0), ("Mi", 1_048_576.0), ("m", 0.001)];
    for (suffix, factor) in units {
        if let Some(n) = q.strip_suffix(suffix) {
            return n.parse::<f64>().expect("number") * factor;
        }
    }
    q.parse().expect("number")
}

fn of_kind<'a>(items: &'a [Value], kind: &str) -> Vec<&'a Value> {
    items.iter().filter(|i| i["kind"] == kind).collect()
}

#[test]
fn same_seed_same_cluster_and_different_seed_differs() {
    let a = serde_json::to_string(&generate(30, 600, 42)).expect("json");
    let b = serde_json::to_string(&generate(30, 600, 42)).expect("json");
    let c = serde_json::to_string(&generate(30, 600, 43)).expect("json");
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn no_node_exceeds_allocatable() {
    // Over-subscribed on purpose: many pods must stay Pending.
    let items = generate(20, 2_600, 7);
    let nodes: BTreeMap<&str, &Value> = of_kind(&items, "Node")
        .into_iter()
        .map(|n| (n["metadata"]["name"].as_str().expect("name"), n))
        .collect();
    let mut used: BTreeMap<&str, [f64; 4]> = BTreeMap::new();
    for pod in of_kind(&items, "Pod") {
        let Some(node) = pod["spec"]["nodeName"].as_str() else {
            continue;
        };
        assert!(nodes.contains_key(node), "pod on unknown node {node}");
        if pod["status"]["phase"] == "Succeeded" {
            continue;
        }
        let u = used.entry(node).or_default();
        u[0] += 1.0;
        for c in pod["spec"]["containers"].as_array().expect("containers") {
            let r = &c["resources"]["requests"];
            u[1] += r["cpu"].as_str().map_or(0.0, quantity);
            u[2] += r["memory"].as_str().map_or(0.0, quantity);
            u[3] += r["nvidia.com/gpu"].as_str().map_or(0.0, quantity);
        }
    }
    for (name, u) in used {
        let a = &nodes[name]["status"]["allocatable"];
        let limits = [
            quantity(a["pods"].as_str().expect("pods")),
            quantity(a["cpu"].as_str().expect("cpu")),
            quantity(a["memory"].as_str().expect("memory")),
            a["nvidia.com/gpu"].as_str().map_or(0.0, quantity),
        ];
        for (k, (used, limit)) in u.iter().zip(limits).enumerate() {
            assert!(
                *used <= limit + 1e-6,
                "node {name} resource {k}: {used} > {limit}"
            );
        }
    }
}

#[test]
fn counts_owners_and_phases_are_consistent() {
    let items = generate_spec(&ClusterSpec {
        nodes: 50,
        pods: 3_000,
        services: Some(300),
        seed: 1,
    });
    let pods = of_kind(&items, "Pod");
    assert_eq!(pods.len(), 3_000 - count_missing_sts_pods(&items));
    let uids: BTreeSet<&str> = items
        .iter()
        .filter_map(|i| i["metadata"]["uid"].as_str())
        .collect();
    for pod in &pods {
        let owner = &pod["metadata"]["ownerReferences"][0];
        assert!(
            uids.contains(owner["uid"].as_str().expect("owner uid")),
            "dangling owner of {pod}"
        );
        let annotations = &pod["metadata"]["annotations"];
        assert!(annotations.is_null());
    }
    let phases: BTreeSet<&str> = pods
        .iter()
        .filter_map(|p| p["status"]["phase"].as_str())
        .collect();
    assert_eq!(phases, BTreeSet::from(["Pending", "Running", "Succeeded"]));
    for pending in pods.iter().filter(|p| p["status"]["phase"] == "Pending") {
        assert!(pending["spec"]["nodeName"].is_null());
        let message = pending["status"]["conditions"][0]["message"]
            .as_str()
            .expect("message");
        assert!(message.starts_with("0/50 nodes are available"), "{message}");
    }
    assert_eq!(of_kind(&items, "Service").len(), 300);
    for kind in [
        "Namespace",
        "Deployment",
        "ReplicaSet",
        "StatefulSet",
        "DaemonSet",
        "Job",
        "EndpointSlice",
        "PodDisruptionBudget",
    ] {
        assert!(!of_kind(&items, kind).is_empty(), "no {kind}");
    }
    for node in of_kind(&items, "Node") {
        assert_eq!(
            node["metadata"]["annotations"]["kwok.x-k8s.io/node"],
            "fake"
        );
        assert_eq!(node["status"]["allocatable"]["pods"], "110");
    }
    let names: BTreeSet<(String, String, String)> = items
        .iter()
        .map(|i| {
            (
                i["kind"].to_string(),
                i["metadata"]["namespace"].to_string(),
                i["metadata"]["name"].to_string(),
            )
        })
        .collect();
    assert_eq!(names.len(), items.len(), "duplicate object names");
}

/// StatefulSets stop at their first Pending ordinal (OrderedReady), so they own fewer pods.
fn count_missing_sts_pods(items: &[Value]) -> usize {
    of_kind(items, "StatefulSet")
        .iter()
        .map(|s| {
            (s["spec"]["replicas"].as_u64().unwrap_or(0)
                - s["status"]["replicas"].as_u64().unwrap_or(0)) as usize
        })
        .sum()
}
