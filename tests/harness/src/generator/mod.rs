//! Large synthetic clusters for benchmarks: realistic Nodes, workloads, Pods, Services,
//! EndpointSlices and PDBs, deterministic for a seed.
//!
//! - [`generate`] returns the objects, in dependency order;
//! - [`write_snapshot`] writes them as one `kind: List` JSON file;
//! - [`load_into`] creates them in a live control plane (nodes carry the kwok annotation, bound
//!   pods carry `spec.nodeName`, so kwok runs them; see [`load`] for how controllers adopt them).
//!
//! Invariants (unit-tested): no node gets more non-terminal pods, CPU, memory or GPUs than its
//! allocatable; the same seed gives byte-identical output.

mod load;
mod meta;
mod nodes;
mod placement;
mod pods;
mod rng;
mod services;
mod workloads;

use std::path::Path;

use serde_json::{Value, json};

pub use load::{LoadReport, load_into};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterSpec {
    pub nodes: usize,
    pub pods: usize,
    /// Services; `None` means one per Deployment or StatefulSet.
    pub services: Option<usize>,
    pub seed: u64,
}

/// `generate_spec` with one Service per Deployment or StatefulSet.
pub fn generate(nodes: usize, pods: usize, seed: u64) -> Vec<Value> {
    generate_spec(&ClusterSpec {
        nodes,
        pods,
        services: None,
        seed,
    })
}

/// Generates the cluster: Namespaces, Nodes, Deployments, ReplicaSets, StatefulSets,
/// DaemonSets, Jobs, Services, EndpointSlices, PodDisruptionBudgets, then Pods.
pub fn generate_spec(spec: &ClusterSpec) -> Vec<Value> {
    let mut rng = rng::Rng::new(spec.seed);
    let mut node_states = nodes::plan(spec.nodes, &mut rng);
    let node_objects: Vec<Value> = node_states
        .iter()
        .map(|n| n.to_object(&mut rng, -86_400 * 30))
        .collect();
    let workloads = workloads::generate(&mut node_states, spec.pods, &mut rng);
    let service_count = spec.services.unwrap_or(workloads.backends.len());
    let services = services::services(
        &workloads.backends,
        service_count,
        &workloads.namespaces,
        &mut rng,
    );
    let pdbs = services::pdbs(&workloads.backends, &mut rng);

    let mut items: Vec<Value> = workloads
        .namespaces
        .iter()
        .map(|ns| {
            json!({"apiVersion": "v1", "kind": "Namespace",
                   "metadata": {"name": ns, "uid": rng.uid(), "creationTimestamp": meta::timestamp(-86_400 * 30),
                                "labels": {"kubernetes.io/metadata.name": ns}},
                   "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
        })
        .collect();
    items.extend(node_objects);
    let order = [
        "Deployment",
        "ReplicaSet",
        "StatefulSet",
        "DaemonSet",
        "Job",
    ];
    for kind in order {
        items.extend(
            workloads
                .controllers
                .iter()
                .filter(|c| c["kind"] == kind)
                .cloned(),
        );
    }
    items.extend(services);
    items.extend(pdbs);
    items.extend(workloads.pods);
    items
}

/// Wraps objects in a `{"apiVersion":"v1","kind":"List","items":[...]}`.
pub fn to_list(items: Vec<Value>) -> Value {
    json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items})
}

/// Writes objects as one `kind: List` JSON document.
pub fn write_snapshot(path: &Path, items: &[Value]) -> std::io::Result<()> {
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    serde_json::to_writer(file, &to_list(items.to_vec())).map_err(std::io::Error::other)
}

#[cfg(test)]
mod tests;
