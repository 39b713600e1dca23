//! Why an aggregated API is unavailable: its APIService, the Service behind it, that Service's
//! endpoints, and the pods that should serve them. An unavailable API makes discovery fail, and
//! the namespace controller never finalizes a namespace while discovery fails.

use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
use kube_runbook::{
    report::{ObjectRef, Remedy, Source},
    state::Kind,
};

use super::api_backend::backend_summary;
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
    outage.evidence.extend(available_fact(api, &name));
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
    outage.steps.push(backend.delete_step(
        api_object,
        group_version,
        &format!("{svc_ns}/{svc_name}"),
    ));
    outage.advice.insert(
        0,
        Remedy::command(
            backend.bring_back(group_version),
            format!("kubectl get apiservice {name} -o yaml; kubectl -n {svc_ns} get service,endpointslices,pods"),
        ),
    );
    outage
}

/// Whether an APIService's backend is gone (the APIService is stale) or installed but down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Backend {
    Gone,
    /// Installed but not serving, or not readable: deleting the APIService disables a live API.
    Down,
}

impl Backend {
    /// Deleting the APIService: removing a stale one, or disabling the API of a backend that is
    /// down (`service` is "namespace/name").
    fn delete_step(self, api_service: MetaObject, group_version: &str, service: &str) -> Step {
        let (why, danger) = match self {
            Backend::Gone => (
                "a stale APIService (its backend is gone): without it discovery succeeds again and deletions can finish".to_string(),
                format!(
                    "the API {group_version} disappears for every client until the APIService is recreated (e.g. by reinstalling its add-on)"
                ),
            ),
            Backend::Down => (
                format!(
                    "disables the API {group_version}: discovery succeeds again and deletions can finish"
                ),
                format!(
                    "disables {group_version} while its backend {service} is still installed: every client loses the API until the APIService is recreated"
                ),
            ),
        };
        Step::new(Rung::FixCause, Action::Delete(api_service), why, danger)
    }

    /// The advice to bring the backend back: the safe fix, or the alternative to deleting.
    fn bring_back(self, group_version: &str) -> String {
        match self {
            Backend::Gone => format!(
                "If {group_version} is still wanted, bring its backend back; the deletion then finishes by itself"
            ),
            Backend::Down => format!(
                "Bring the backend of {group_version} back (the safe fix): the deletion then finishes by itself"
            ),
        }
    }
}

/// "Available=False (MissingEndpoints): ...", sourced to the APIService's condition.
fn available_fact(api: &APIService, name: &str) -> Option<(String, Source)> {
    let available = api
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Available")?;
    Some((
        format!(
            "Available={} ({}): {}",
            available.status,
            available.reason.as_deref().unwrap_or_default(),
            available.message.as_deref().unwrap_or_default()
        ),
        Source::Condition {
            object: ObjectRef::cluster("APIService", name),
            condition_type: "Available".into(),
            status: available.status.clone(),
            reason: available.reason.clone(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use k8s_openapi::{
        api::{
            apps::v1::{DaemonSet, Deployment, StatefulSet},
            core::v1::{Pod, Service},
        },
        jiff::Timestamp,
    };
    use kube_runbook::{
        report::Risk,
        state::{ClusterState, Origin},
    };
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
