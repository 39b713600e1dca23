//! Why an aggregated API is unavailable: its APIService, the Service behind it, that Service's
//! endpoints, and the pods that should serve them. An unavailable API makes discovery fail, and
//! the namespace controller never finalizes a namespace while discovery fails.

use std::collections::BTreeMap;

use k8s_openapi::{
    api::core::v1::{Pod, Service},
    kube_aggregator::pkg::apis::apiregistration::v1::APIService,
};
use kube_runbook::{
    report::{ObjectRef, Remedy, Source},
    state::{ClusterState, Kind},
};

use super::{
    backend_pod,
    backend_workloads::{creators, selects},
};
use crate::{
    fix::plan::{Action, Rung, Step},
    inventory::{Inventory, MetaObject},
};

/// What is known about one unavailable group version.
#[derive(Debug, Clone)]
pub struct ApiOutage {
    /// "APIService v1beta1.metrics.k8s.io: service kube-system/metrics-server has no ready endpoints".
    pub summary: String,
    pub evidence: Vec<(String, Source)>,
    pub advice: Vec<Remedy>,
    pub steps: Vec<Step>,
}

/// Explains why `group_version` (e.g. `metrics.k8s.io/v1beta1`) fails discovery with `error`.
pub fn explain(inventory: &Inventory, group_version: &str, error: &str) -> ApiOutage {
    let (group, version) = group_version.split_once('/').unwrap_or((group_version, ""));
    let name = format!("{version}.{group}");
    let mut outage = ApiOutage {
        summary: String::new(),
        evidence: vec![(
            format!("discovery of {group_version} fails: {error}"),
            Source::Computed,
        )],
        advice: Vec::new(),
        steps: Vec::new(),
    };
    let Some(api) = inventory.api_service(&name) else {
        outage.summary = if inventory.state.has(Kind::ApiService) {
            format!("no APIService {name} serves it")
        } else {
            format!("APIServices could not be read to see why {group_version} fails")
        };
        return outage;
    };
    let api_ref = ObjectRef::cluster("APIService", &name);
    if let Some(available) = available_condition(api) {
        outage.evidence.push((
            format!(
                "Available={} ({}): {}",
                available.status,
                available.reason.as_deref().unwrap_or_default(),
                available.message.as_deref().unwrap_or_default()
            ),
            Source::Condition {
                object: api_ref.clone(),
                condition_type: "Available".into(),
                status: available.status.clone(),
                reason: available.reason.clone(),
            },
        ));
    }
    let Some(service) = api.spec.as_ref().and_then(|s| s.service.as_ref()) else {
        outage.summary =
            format!("APIService {name} is served by the API server itself and still fails");
        return outage;
    };
    let svc_ns = service.namespace.as_deref().unwrap_or("default");
    let svc_name = service.name.as_deref().unwrap_or_default();
    let (backend, why_down) = backend_summary(
        inventory.backends.get(svc_ns),
        svc_ns,
        svc_name,
        &mut outage,
    );
    outage.summary = format!("APIService {name}: {why_down}");
    let api_object = MetaObject::of_kind(Kind::ApiService, &api.metadata);
    let delete = match backend {
        Backend::Gone => Step::new(
            Rung::FixCause,
            Action::Delete(api_object),
            "a stale APIService (its backend is gone): without it discovery succeeds again and deletions can finish",
            format!(
                "the API {group_version} disappears for every client until the APIService is recreated (e.g. by reinstalling its add-on)"
            ),
        ),
        Backend::Down => Step::new(
            Rung::FixCause,
            Action::Delete(api_object),
            format!(
                "disables the API {group_version}: discovery succeeds again and deletions can finish"
            ),
            format!(
                "disables {group_version} while its backend {svc_ns}/{svc_name} is still installed: every client loses the API until the APIService is recreated"
            ),
        ),
    };
    outage.steps.push(delete);
    let bring_back = match backend {
        Backend::Gone => format!(
            "If {group_version} is still wanted, bring its backend back; the deletion then finishes by itself"
        ),
        Backend::Down => format!(
            "Bring the backend of {group_version} back (the safe fix): the deletion then finishes by itself"
        ),
    };
    outage.advice.insert(
        0,
        Remedy::command(
            bring_back,
            format!("kubectl get apiservice {name} -o yaml; kubectl -n {svc_ns} get service,endpointslices,pods"),
        ),
    );
    outage
}

/// Whether an APIService's backend is gone (the APIService is stale) or installed but down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Gone,
    /// Installed but not serving, or not readable: deleting the APIService disables a live API.
    Down,
}

fn available_condition(
    api: &APIService,
) -> Option<&k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIServiceCondition> {
    api.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Available")
}

/// The kinds that create backend pods: none of them may be unread before a backend is called gone.
const CREATOR_KINDS: [Kind; 3] = [Kind::Deployment, Kind::StatefulSet, Kind::DaemonSet];

/// Follows the Service to its endpoints and pods; returns what is left of it and the one-line reason.
fn backend_summary(
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
    let (backend, why) = if !state.has(Kind::Pod) {
        (
            Backend::Down,
            format!(
                "pods could not be read to see why (selector {})",
                selector_text(&selector)
            ),
        )
    } else {
        match selected_pods(state, namespace, &selector).as_slice() {
            [] => without_pods(state, namespace, &selector, outage),
            pods => (Backend::Down, pods_not_ready(pods, namespace, outage)),
        }
    };
    (
        backend,
        format!("service {namespace}/{name} has no ready endpoint: {why}"),
    )
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

#[cfg(test)]
mod tests {
    use k8s_openapi::{
        api::apps::v1::{DaemonSet, Deployment, StatefulSet},
        jiff::Timestamp,
    };
    use kube_runbook::{report::Risk, state::Origin};
    use serde_json::json;

    use super::*;
    use crate::analyse::testing::{from, inventory};

    fn api_service() -> APIService {
        from(json!({
            "metadata": {"name": "v1beta1.metrics.k8s.io", "uid": "u-api"},
            "spec": {"group": "metrics.k8s.io", "version": "v1beta1", "groupPriorityMinimum": 100, "versionPriority": 100,
                     "service": {"namespace": "kube-system", "name": "metrics-server", "port": 443}},
            "status": {"conditions": [{"type": "Available", "status": "False", "reason": "MissingEndpoints",
                        "message": "endpoints for service/metrics-server in \"kube-system\" have no addresses with port name \"https\""}]},
        }))
    }

    fn backend(services: Vec<Service>, deployments: Vec<Deployment>) -> ClusterState {
        let mut state =
            ClusterState::new(Origin::Snapshot { path: "x".into() }, Timestamp::UNIX_EPOCH);
        state.insert_all(services);
        state.insert_all(deployments);
        state.insert_all(Vec::<StatefulSet>::new());
        state.insert_all(Vec::<DaemonSet>::new());
        state.insert_all(Vec::<Pod>::new());
        state
    }

    #[test]
    fn backend_scaled_to_zero() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        inv.state.api_services.push(api_service());
        inv.backends.insert(
            "kube-system".into(),
            backend(
                vec![from(json!({"metadata": {"name": "metrics-server", "namespace": "kube-system"},
                                 "spec": {"selector": {"k8s-app": "metrics-server"}}}))],
                vec![from(json!({"metadata": {"name": "metrics-server", "namespace": "kube-system"},
                                 "spec": {"replicas": 0, "selector": {}, "template": {"metadata": {"labels": {"k8s-app": "metrics-server"}}}}}))],
            ),
        );
        let outage = explain(
            &inv,
            "metrics.k8s.io/v1beta1",
            "the server is currently unable to handle the request",
        );
        assert_eq!(
            outage.summary,
            "APIService v1beta1.metrics.k8s.io: service kube-system/metrics-server has no ready endpoint: no pod matches k8s-app=metrics-server (Deployment kube-system/metrics-server is scaled to 0)"
        );
        assert_eq!(
            outage.steps[0].key(),
            "delete APIService v1beta1.metrics.k8s.io"
        );
        assert!(outage.advice.iter().any(|a| a.command.as_deref()
            == Some("kubectl -n kube-system scale deployment metrics-server --replicas=1")));
    }

    #[test]
    fn missing_service() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        inv.state.api_services.push(api_service());
        inv.backends
            .insert("kube-system".into(), backend(Vec::new(), Vec::new()));
        let outage = explain(&inv, "metrics.k8s.io/v1beta1", "boom");
        assert_eq!(
            outage.summary,
            "APIService v1beta1.metrics.k8s.io: its service kube-system/metrics-server does not exist"
        );
    }

    #[test]
    fn a_missing_service_makes_the_apiservice_stale() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        inv.state.api_services.push(api_service());
        inv.backends
            .insert("kube-system".into(), backend(Vec::new(), Vec::new()));
        let outage = explain(&inv, "metrics.k8s.io/v1beta1", "boom");
        assert_eq!(outage.steps.len(), 1);
        assert!(
            outage.steps[0].why.starts_with("a stale APIService"),
            "{}",
            outage.steps[0].why
        );
    }

    #[test]
    fn an_installed_backend_that_is_down_is_brought_back_not_called_stale() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        inv.state.api_services.push(api_service());
        let mut state = backend(
            vec![from(
                json!({"metadata": {"name": "metrics-server", "namespace": "kube-system"},
                             "spec": {"selector": {"k8s-app": "metrics-server"}}}),
            )],
            Vec::new(),
        );
        state.insert_all([from::<Pod>(json!({
            "metadata": {"name": "metrics-server-abc", "namespace": "kube-system", "labels": {"k8s-app": "metrics-server"}},
            "spec": {"nodeName": "n1", "containers": []},
            "status": {"phase": "Running", "containerStatuses": [{"name": "m", "image": "m", "imageID": "", "ready": false,
                        "restartCount": 9, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]},
        }))]);
        inv.backends.insert("kube-system".into(), state);
        let outage = explain(&inv, "metrics.k8s.io/v1beta1", "boom");
        assert_eq!(
            outage.summary,
            "APIService v1beta1.metrics.k8s.io: service kube-system/metrics-server has no ready endpoint: pod metrics-server-abc: Running, not ready (container m: CrashLoopBackOff) on node n1"
        );
        assert_eq!(
            outage.advice[0].description,
            "Bring the backend of metrics.k8s.io/v1beta1 back (the safe fix): the deletion then finishes by itself"
        );
        let delete = &outage.steps[0];
        assert_eq!(delete.key(), "delete APIService v1beta1.metrics.k8s.io");
        assert!(
            !delete.description().contains("stale"),
            "{}",
            delete.description()
        );
        assert_eq!(
            delete.why,
            "disables the API metrics.k8s.io/v1beta1: discovery succeeds again and deletions can finish"
        );
        assert_eq!(
            delete.danger,
            "disables metrics.k8s.io/v1beta1 while its backend kube-system/metrics-server is still installed: every client loses the API until the APIService is recreated"
        );
        assert!(matches!(delete.remedy().risk, Risk::Dangerous { .. }));
    }

    fn metrics_service() -> Service {
        from(
            json!({"metadata": {"name": "metrics-server", "namespace": "kube-system"},
                    "spec": {"selector": {"k8s-app": "metrics-server"}}}),
        )
    }

    /// Explains the outage with `state` as the backend namespace, as read.
    fn outage_with(state: ClusterState) -> ApiOutage {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        inv.state.api_services.push(api_service());
        inv.backends.insert("kube-system".into(), state);
        explain(&inv, "metrics.k8s.io/v1beta1", "boom")
    }

    fn is_stale(outage: &ApiOutage) -> bool {
        outage.steps[0].why.starts_with("a stale APIService")
    }

    #[test]
    fn a_service_with_no_pod_and_no_workload_of_any_kind_is_stale() {
        let outage = outage_with(backend(vec![metrics_service()], Vec::new()));
        assert_eq!(
            outage.summary,
            "APIService v1beta1.metrics.k8s.io: service kube-system/metrics-server has no ready endpoint: no pod matches k8s-app=metrics-server (and no Deployment, StatefulSet or DaemonSet in kube-system creates such pods)"
        );
        assert!(is_stale(&outage), "{}", outage.steps[0].why);
    }

    #[test]
    fn unread_pods_are_not_taken_for_missing_ones() {
        let mut state =
            ClusterState::new(Origin::Snapshot { path: "x".into() }, Timestamp::UNIX_EPOCH);
        state.insert_all([metrics_service()]);
        let outage = outage_with(state);
        assert_eq!(
            outage.summary,
            "APIService v1beta1.metrics.k8s.io: service kube-system/metrics-server has no ready endpoint: pods could not be read to see why (selector k8s-app=metrics-server)"
        );
        assert!(!is_stale(&outage));
    }

    #[test]
    fn unread_workload_kinds_are_said_and_not_taken_for_missing_ones() {
        let mut state =
            ClusterState::new(Origin::Snapshot { path: "x".into() }, Timestamp::UNIX_EPOCH);
        state.insert_all([metrics_service()]);
        state.insert_all(Vec::<Pod>::new());
        state.insert_all(Vec::<Deployment>::new());
        let outage = outage_with(state);
        assert_eq!(
            outage.summary,
            "APIService v1beta1.metrics.k8s.io: service kube-system/metrics-server has no ready endpoint: no pod matches k8s-app=metrics-server (could not check what creates them: statefulsets, daemonsets could not be read)"
        );
        assert!(!is_stale(&outage));
    }

    #[test]
    fn a_statefulset_backend_scaled_to_zero_is_down_not_stale() {
        let mut state = backend(vec![metrics_service()], Vec::new());
        state.stateful_sets.push(from(json!({
            "metadata": {"name": "metrics-server", "namespace": "kube-system"},
            "spec": {"replicas": 0, "serviceName": "metrics-server", "selector": {},
                     "template": {"metadata": {"labels": {"k8s-app": "metrics-server"}}}},
        })));
        let outage = outage_with(state);
        assert!(
            outage
                .summary
                .ends_with("(StatefulSet kube-system/metrics-server is scaled to 0)"),
            "{}",
            outage.summary
        );
        assert!(!is_stale(&outage));
        assert!(outage.advice.iter().any(|a| a.command.as_deref()
            == Some("kubectl -n kube-system scale statefulset metrics-server --replicas=1")));
    }

    #[test]
    fn a_daemonset_backend_on_no_node_is_down_not_stale() {
        let mut state = backend(vec![metrics_service()], Vec::new());
        state.daemon_sets.push(from(json!({
            "metadata": {"name": "metrics-server", "namespace": "kube-system"},
            "spec": {"selector": {}, "template": {"metadata": {"labels": {"k8s-app": "metrics-server"}}}},
            "status": {"desiredNumberScheduled": 0, "currentNumberScheduled": 0, "numberMisscheduled": 0, "numberReady": 0},
        })));
        let outage = outage_with(state);
        assert!(
            outage.summary.ends_with(
                "(DaemonSet kube-system/metrics-server matches no node (its node selector, affinity or tolerations))"
            ),
            "{}",
            outage.summary
        );
        assert!(!is_stale(&outage));
    }

    #[test]
    fn a_local_apiservice_is_never_offered_for_deletion() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        inv.state.api_services.push(from(json!({
            "metadata": {"name": "v1.apps", "uid": "u-apps"},
            "spec": {"group": "apps", "version": "v1", "groupPriorityMinimum": 17800, "versionPriority": 15},
            "status": {"conditions": [{"type": "Available", "status": "False", "reason": "Local"}]},
        })));
        let outage = explain(&inv, "apps/v1", "boom");
        assert_eq!(
            outage.summary,
            "APIService v1.apps is served by the API server itself and still fails"
        );
        assert!(outage.steps.is_empty(), "{:?}", outage.steps);
    }

    #[test]
    fn no_apiservice_at_all() {
        let inv = inventory("2026-01-01T00:10:00Z");
        let outage = explain(&inv, "stale.example.com/v1", "boom");
        assert_eq!(
            outage.summary,
            "no APIService v1.stale.example.com serves it"
        );
        assert!(outage.steps.is_empty());
    }
}
