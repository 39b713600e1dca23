//! What stands behind an APIService's Service: its ready endpoints, the pods it selects and why
//! they are not ready, or the workloads that should create them. Decides whether the backend is
//! gone (the APIService is stale) or installed but down.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, Service};
use kube_runbook::{
    report::{ObjectRef, Remedy, Source},
    state::{ClusterState, Kind},
};

use super::{
    apiservice::{ApiOutage, Backend},
    backend_pod,
    backend_workloads::{creators, selects},
};

/// The kinds that create backend pods: none of them may be unread before a backend is called gone.
const CREATOR_KINDS: [Kind; 3] = [Kind::Deployment, Kind::StatefulSet, Kind::DaemonSet];

/// Follows the Service to its endpoints and pods; returns what is left of it and the one-line reason.
pub(super) fn backend_summary(
    backend: Option<&ClusterState>,
    namespace: &str,
    name: &str,
    outage: &mut ApiOutage,
) -> (Backend, String) {
    let Some(state) = backend.filter(|s| s.has(Kind::Service)) else {
        return (
            Backend::Down,
            format!("service {namespace}/{name} could not be read"),
        );
    };
    let Some(service) = find_service(state, namespace, name) else {
        outage.evidence.push((
            format!("service {namespace}/{name} does not exist"),
            Source::Object {
                object: ObjectRef::namespaced("Service", namespace, name),
            },
        ));
        return (
            Backend::Gone,
            format!("its service {namespace}/{name} does not exist"),
        );
    };
    let ready = ready_endpoints(state, namespace, name);
    outage.evidence.push((
        format!("service {namespace}/{name} has {ready} ready endpoint(s)"),
        Source::Object {
            object: ObjectRef::namespaced("EndpointSlice", namespace, name),
        },
    ));
    if ready > 0 {
        return (
            Backend::Down,
            format!(
                "service {namespace}/{name} has {ready} ready endpoint(s), yet the API server cannot use them (TLS, port or network)"
            ),
        );
    }
    let selector = service
        .spec
        .as_ref()
        .and_then(|s| s.selector.clone())
        .unwrap_or_default();
    if selector.is_empty() {
        return (
            Backend::Down,
            format!("service {namespace}/{name} has no selector and no ready endpoint"),
        );
    }
    let (backend, why) = why_no_endpoint(state, namespace, &selector, outage);
    (
        backend,
        format!("service {namespace}/{name} has no ready endpoint: {why}"),
    )
}

/// Why a Service with `selector` has no ready endpoint: its pods are not ready, or there are none.
fn why_no_endpoint(
    state: &ClusterState,
    namespace: &str,
    selector: &BTreeMap<String, String>,
    outage: &mut ApiOutage,
) -> (Backend, String) {
    if !state.has(Kind::Pod) {
        let selector = selector_text(selector);
        return (
            Backend::Down,
            format!("pods could not be read to see why (selector {selector})"),
        );
    }
    match selected_pods(state, namespace, selector).as_slice() {
        [] => without_pods(state, namespace, selector, outage),
        pods => (Backend::Down, pods_not_ready(pods, namespace, outage)),
    }
}

fn find_service<'a>(state: &'a ClusterState, namespace: &str, name: &str) -> Option<&'a Service> {
    state.services.iter().find(|s| {
        s.metadata.namespace.as_deref() == Some(namespace)
            && s.metadata.name.as_deref() == Some(name)
    })
}

fn selected_pods<'a>(
    state: &'a ClusterState,
    namespace: &str,
    selector: &BTreeMap<String, String>,
) -> Vec<&'a Pod> {
    state
        .pods
        .iter()
        .filter(|p| {
            p.metadata.namespace.as_deref() == Some(namespace)
                && selects(selector, p.metadata.labels.as_ref())
        })
        .collect()
}

/// "k8s-app=metrics-server".
fn selector_text(selector: &BTreeMap<String, String>) -> String {
    selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// No pod matches: the workloads that should create them (gone only when none exists and every
/// kind of them was read).
fn without_pods(
    state: &ClusterState,
    namespace: &str,
    selector: &BTreeMap<String, String>,
    outage: &mut ApiOutage,
) -> (Backend, String) {
    let creators = creators(state, namespace, selector);
    for creator in &creators {
        outage.evidence.push((
            creator.fact.clone(),
            Source::Object {
                object: creator.object.clone(),
            },
        ));
    }
    if let Some(scaled) = creators.iter().find(|c| c.scaled_to_zero) {
        let (kind, name) = (&scaled.object.kind, &scaled.object.name);
        outage.advice.push(Remedy::command(
            format!("{kind} {name} is scaled to 0: scale it back up"),
            format!(
                "kubectl -n {namespace} scale {} {name} --replicas=1",
                kind.to_lowercase()
            ),
        ));
    }
    let unread: Vec<&str> = CREATOR_KINDS
        .into_iter()
        .filter(|kind| !state.has(*kind))
        .map(Kind::resource)
        .collect();
    let (backend, why) = if !creators.is_empty() {
        let facts: Vec<&str> = creators.iter().map(|c| c.fact.as_str()).collect();
        (Backend::Down, facts.join("; "))
    } else if !unread.is_empty() {
        (
            Backend::Down,
            format!(
                "could not check what creates them: {} could not be read",
                unread.join(", ")
            ),
        )
    } else {
        (
            Backend::Gone,
            format!("and no Deployment, StatefulSet or DaemonSet in {namespace} creates such pods"),
        )
    };
    let selector = selector_text(selector);
    (backend, format!("no pod matches {selector} ({why})"))
}

/// Each selected pod and why it is not ready, as evidence; the reasons in one line.
fn pods_not_ready(pods: &[&Pod], namespace: &str, outage: &mut ApiOutage) -> String {
    let described: Vec<String> = pods.iter().map(|p| backend_pod::describe(p)).collect();
    for (pod, text) in pods.iter().zip(&described) {
        outage.evidence.push((
            text.clone(),
            Source::Object {
                object: ObjectRef::namespaced(
                    "Pod",
                    namespace,
                    pod.metadata.name.as_deref().unwrap_or_default(),
                ),
            },
        ));
    }
    described.join("; ")
}

fn ready_endpoints(state: &ClusterState, namespace: &str, service: &str) -> usize {
    state
        .endpoint_slices
        .iter()
        .filter(|s| {
            s.metadata.namespace.as_deref() == Some(namespace)
                && s.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("kubernetes.io/service-name"))
                    .is_some_and(|n| n == service)
        })
        .flat_map(|s| s.endpoints.iter().flatten())
        .filter(|e| e.conditions.as_ref().and_then(|c| c.ready) != Some(false))
        .count()
}
