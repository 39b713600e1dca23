//! Loading what the analysis needs in one concurrent round: pods and nodes cluster-wide (node
//! usage counts every pod on a node), the rest from the namespace in scope.

use k8s_openapi::api::core::v1::Pod;
use kube::{Api, api::ListParams};
use kube_runbook::{
    Error,
    app::Target,
    cli::{ApiContext, from_kube_error},
    state::{ClusterState, Kind},
};

/// Cluster-wide: every pod counts toward node usage, and CNI pods live in kube-system.
const CLUSTER_WIDE: [Kind; 7] = [
    Kind::Pod,
    Kind::Node,
    Kind::PersistentVolume,
    Kind::StorageClass,
    Kind::Namespace,
    Kind::Lease,
    Kind::PriorityClass,
];

/// From the namespace in scope (or all with -A).
const IN_SCOPE: [Kind; 12] = [
    Kind::Event,
    Kind::PersistentVolumeClaim,
    Kind::ConfigMap,
    Kind::Secret,
    Kind::ServiceAccount,
    Kind::ReplicaSet,
    Kind::Deployment,
    Kind::StatefulSet,
    Kind::DaemonSet,
    Kind::Job,
    Kind::ResourceQuota,
    Kind::LimitRange,
];

/// Loads the state, with the pods read for the fit engine; with namespace-only permissions, falls
/// back to the namespace's pods.
pub async fn gather(
    target: &Target,
    namespace: Option<&str>,
    verbose: bool,
) -> Result<ClusterState, Error> {
    let (mut state, in_scope) = tokio::try_join!(
        target.load(&CLUSTER_WIDE, None, verbose),
        target.load(&IN_SCOPE, namespace, verbose)
    )?;
    state.absorb(in_scope);
    if !state.has(Kind::Pod) && namespace.is_some() {
        let reason = state
            .unavailable_reason(Kind::Pod)
            .unwrap_or_default()
            .to_string();
        let local = target.load(&[Kind::Pod], namespace, verbose).await?;
        state.absorb(local);
        if state.has(Kind::Pod) {
            state.unavailable.push(kube_runbook::state::Unavailable {
                kind: Kind::Pod,
                reason: format!(
                    "pods in other namespaces ({reason}): node usage counts only this namespace's pods"
                ),
            });
        }
    }
    if !state.has(Kind::Pod) {
        pods_readable(target, namespace).await?;
    }
    state.index_pods();
    Ok(state)
}

/// With no pod readable there is nothing to explain: name the missing permission (the list's
/// own answer) rather than report the pod as not found.
async fn pods_readable(target: &Target, namespace: Option<&str>) -> Result<(), Error> {
    let Some(conn) = target.connection() else {
        return Ok(());
    };
    let api: Api<Pod> = match namespace {
        Some(ns) => Api::namespaced(conn.client.clone(), ns),
        None => Api::all(conn.client.clone()),
    };
    let context = ApiContext {
        server: conn.server.clone(),
        verb: "list",
        resource: "pods".to_string(),
        namespace: namespace.map(str::to_string),
        name: None,
    };
    match api.list(&ListParams::default().limit(1)).await {
        Ok(_) => Ok(()),
        Err(err) => Err(from_kube_error(err, &context)),
    }
}
