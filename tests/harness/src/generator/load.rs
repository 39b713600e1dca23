//! Creates a generated cluster in a live control plane, fast and without fighting controllers.
//!
//! Objects are created in waves with bounded parallelism: Namespaces, Nodes, then Pods as
//! orphans, then their ReplicaSets / StatefulSets / DaemonSets / Jobs, then Deployments, then
//! Services and PDBs. Controllers *adopt* the pods (and Deployments the ReplicaSets) because
//! selectors and templates match, so they create nothing of their own: generated StatefulSets
//! and DaemonSets use `OnDelete` updates so their controllers never replace pods. Bound pods
//! keep `spec.nodeName` and kwok runs them; Pending pods stay Pending for the real scheduler.
//! Job pods get the `batch.kubernetes.io/job-tracking` finalizer so the Job controller counts
//! them when kwok completes them. EndpointSlices are not created: the endpointslice controller
//! writes its own. Server-set fields (uid, timestamps, status except Nodes') are dropped.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::{StreamExt as _, stream};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, Service};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, ApiResource, DynamicObject, PostParams};
use serde_json::{Value, json};

use crate::ControlPlane;

/// What [`load_into`] created.
#[derive(Debug, Default, Clone)]
pub struct LoadReport {
    /// Objects created (or already present) per kind.
    pub created: BTreeMap<String, usize>,
    /// Objects left to their controllers (EndpointSlices) per kind.
    pub skipped: BTreeMap<String, usize>,
    pub elapsed: Duration,
}

const WAVES: [&[&str]; 6] = [
    &["Namespace"],
    &["Node"],
    &["Pod"],
    &["ReplicaSet", "StatefulSet", "DaemonSet", "Job"],
    &["Deployment"],
    &["Service", "PodDisruptionBudget"],
];

/// Creates `items` (from [`super::generate`]) with at most `parallelism` requests in flight.
pub async fn load_into(
    client: &kube::Client,
    items: &[Value],
    parallelism: usize,
) -> Result<LoadReport, String> {
    let began = Instant::now();
    let mut report = LoadReport::default();
    for item in items {
        let kind = item["kind"].as_str().unwrap_or_default();
        if !WAVES.iter().any(|w| w.contains(&kind)) {
            *report.skipped.entry(kind.to_string()).or_default() += 1;
        }
    }
    for wave in WAVES {
        let objects: Vec<Value> = items
            .iter()
            .filter(|i| i["kind"].as_str().is_some_and(|k| wave.contains(&k)))
            .filter(|i| !(i["kind"] == "Namespace" && is_builtin_namespace(&i["metadata"]["name"])))
            .map(sanitize)
            .collect();
        let results: Vec<Result<String, String>> = stream::iter(objects)
            .map(|object| create(client, object))
            .buffer_unordered(parallelism.max(1))
            .collect()
            .await;
        for result in results {
            *report.created.entry(result?).or_default() += 1;
        }
    }
    report.elapsed = began.elapsed();
    Ok(report)
}

impl ControlPlane {
    /// Creates a generated cluster in this control plane (see [`load_into`]); panics on error.
    pub async fn load_cluster(&self, items: &[Value]) -> LoadReport {
        load_into(&self.client(), items, 32)
            .await
            .unwrap_or_else(|e| panic!("loading the generated cluster failed: {e}"))
    }
}

fn is_builtin_namespace(name: &Value) -> bool {
    ["default", "kube-system", "kube-public", "kube-node-lease"]
        .iter()
        .any(|n| name == n)
}

/// Drops server-set fields and owner references (controllers adopt), keeps Node status.
fn sanitize(item: &Value) -> Value {
    let mut object = item.clone();
    let kind = object["kind"].as_str().unwrap_or_default().to_string();
    if let Some(meta) = object["metadata"].as_object_mut() {
        for field in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "generation",
            "ownerReferences",
        ] {
            meta.remove(field);
        }
    }
    if let (false, Some(map)) = (kind == "Node", object.as_object_mut()) {
        map.remove("status");
    }
    if kind == "Pod" && !object["metadata"]["labels"]["batch.kubernetes.io/job-name"].is_null() {
        object["metadata"]["finalizers"] = json!(["batch.kubernetes.io/job-tracking"]);
    }
    object
}

fn resource(kind: &str) -> Option<(ApiResource, bool)> {
    Some(match kind {
        "Namespace" => (ApiResource::erase::<Namespace>(&()), false),
        "Node" => (ApiResource::erase::<Node>(&()), false),
        "Pod" => (ApiResource::erase::<Pod>(&()), true),
        "Service" => (ApiResource::erase::<Service>(&()), true),
        "ReplicaSet" => (ApiResource::erase::<ReplicaSet>(&()), true),
        "Deployment" => (ApiResource::erase::<Deployment>(&()), true),
        "StatefulSet" => (ApiResource::erase::<StatefulSet>(&()), true),
        "DaemonSet" => (ApiResource::erase::<DaemonSet>(&()), true),
        "Job" => (ApiResource::erase::<Job>(&()), true),
        "PodDisruptionBudget" => (ApiResource::erase::<PodDisruptionBudget>(&()), true),
        _ => return None,
    })
}

/// Creates one object, retrying transient failures; an existing object counts as created.
async fn create(client: &kube::Client, object: Value) -> Result<String, String> {
    let kind = object["kind"].as_str().unwrap_or_default().to_string();
    let (ar, namespaced) = resource(&kind).ok_or_else(|| format!("unsupported kind {kind}"))?;
    let object: DynamicObject =
        serde_json::from_value(object).map_err(|e| format!("invalid {kind}: {e}"))?;
    let name = object.metadata.name.clone().unwrap_or_default();
    let api: Api<DynamicObject> = match (&object.metadata.namespace, namespaced) {
        (Some(ns), true) => Api::namespaced_with(client.clone(), ns, &ar),
        _ => Api::all_with(client.clone(), &ar),
    };
    let mut delay = Duration::from_millis(200);
    for attempt in 1.. {
        match api.create(&PostParams::default(), &object).await {
            Ok(_) => return Ok(kind),
            Err(kube::Error::Api(s)) if s.code == 409 && s.reason == "AlreadyExists" => {
                return Ok(kind);
            }
            Err(e) if attempt < 6 && transient(&e) => {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => return Err(format!("cannot create {kind} {name}: {e}")),
        }
    }
    unreachable!("the retry loop returns")
}

fn transient(error: &kube::Error) -> bool {
    match error {
        kube::Error::Api(s) => matches!(s.code, 429 | 500 | 502 | 503 | 504),
        // The namespace may still be initializing its default ServiceAccount, etc.
        kube::Error::Service(_) | kube::Error::HyperError(_) => true,
        _ => false,
    }
}
