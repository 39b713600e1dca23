//! The generator's snapshot file reads back through the plugins' own snapshot loader with every
//! generated object of every kind, and nothing reported unavailable.

use std::collections::BTreeMap;
use std::path::PathBuf;

use kube::Resource;
use kube_runbook::state::{ClusterState, Kind, load_snapshot};
use kube_runbooks_harness::generator::{generate, write_snapshot};
use serde_json::Value;

const NODES: usize = 20;
const PODS: usize = 300;

#[test]
fn generated_snapshot_loads_back_with_every_object() {
    let items = generate(NODES, PODS, 11);
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("generated-snapshot-{}.json", std::process::id()));
    write_snapshot(&path, &items).unwrap_or_else(|e| panic!("cannot write {path:?}: {e}"));

    let generated = generated_names(&items);
    let kinds: Vec<Kind> = generated.keys().copied().collect();
    let state =
        load_snapshot(&path, &kinds, None).unwrap_or_else(|e| panic!("cannot load {path:?}: {e}"));
    let _ = std::fs::remove_file(&path);

    assert!(
        state.unavailable.is_empty(),
        "reported unavailable: {:?}",
        state.unavailable
    );
    assert_eq!(generated[&Kind::Node].len(), NODES);
    assert_eq!(generated[&Kind::Pod].len(), PODS);
    for (kind, names) in &generated {
        assert!(state.has(*kind), "{kind:?} not marked loaded");
        let loaded = loaded_names(&state, *kind);
        assert_eq!(loaded.len(), names.len(), "number of {kind:?} objects");
        assert_eq!(&loaded, names, "{kind:?} objects");
    }
}

/// `namespace/name` of the generated objects, by kind; panics on a kind the loader does not know.
fn generated_names(items: &[Value]) -> BTreeMap<Kind, Vec<String>> {
    let mut names: BTreeMap<Kind, Vec<String>> = BTreeMap::new();
    for item in items {
        let kind_name = item["kind"].as_str().unwrap_or_default();
        let kind = Kind::from_kind_name(kind_name)
            .unwrap_or_else(|| panic!("the generator emits {kind_name:?}, unknown to the loader"));
        let namespace = item["metadata"]["namespace"].as_str().unwrap_or_default();
        let name = item["metadata"]["name"].as_str().unwrap_or_default();
        names
            .entry(kind)
            .or_default()
            .push(format!("{namespace}/{name}"));
    }
    names.values_mut().for_each(|v| v.sort());
    names
}

/// Sorted, duplicates kept: an object loaded twice must show.
fn loaded_names(state: &ClusterState, kind: Kind) -> Vec<String> {
    match kind {
        Kind::Namespace => names_of(&state.namespaces),
        Kind::Node => names_of(&state.nodes),
        Kind::Deployment => names_of(&state.deployments),
        Kind::ReplicaSet => names_of(&state.replica_sets),
        Kind::StatefulSet => names_of(&state.stateful_sets),
        Kind::DaemonSet => names_of(&state.daemon_sets),
        Kind::Job => names_of(&state.jobs),
        Kind::Service => names_of(&state.services),
        Kind::EndpointSlice => names_of(&state.endpoint_slices),
        Kind::PodDisruptionBudget => names_of(&state.pod_disruption_budgets),
        Kind::Pod => names_of(&state.pods),
        other => panic!("the generator now emits {other:?}; compare it here too"),
    }
}

fn names_of<K: Resource>(objects: &[K]) -> Vec<String> {
    let mut names: Vec<String> = objects
        .iter()
        .map(|o| {
            let meta = o.meta();
            format!(
                "{}/{}",
                meta.namespace.as_deref().unwrap_or_default(),
                meta.name.as_deref().unwrap_or_default()
            )
        })
        .collect();
    names.sort();
    names
}
