//! Whether an asked namespace exists when Namespaces cannot be listed: the user may still get that
//! one namespace by name. Near names then come from every namespace the loaded objects and a
//! metadata-only list of all Services name.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Namespace, Service};
use kube::{Api, api::ListParams};
use kube_runbook::{
    Error,
    cli::{ApiContext, Connection, from_kube_error},
    state::{ClusterState, list_all},
};

pub enum Existence {
    Exists,
    Missing,
    /// Getting it is forbidden as well.
    Unknown,
}

pub async fn existence(conn: &Connection, namespace: &str) -> Result<Existence, Error> {
    let api: Api<Namespace> = Api::all(conn.client.clone());
    match api.get_metadata(namespace).await {
        Ok(_) => Ok(Existence::Exists),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(Existence::Missing),
        Err(kube::Error::Api(status)) if status.code == 403 => Ok(Existence::Unknown),
        Err(err) => Err(from_kube_error(
            err,
            &ApiContext {
                server: conn.server.clone(),
                verb: "get",
                resource: "namespaces".into(),
                namespace: None,
                name: Some(namespace.to_string()),
            },
        )),
    }
}

/// The not-found error for `namespace`, suggesting the namespaces seen that are close to it.
pub async fn not_found(conn: &Connection, state: &ClusterState, namespace: &str) -> Error {
    let mut seen = seen_in(state);
    seen.extend(service_namespaces(conn).await);
    Error::not_found(
        "namespace",
        namespace,
        None,
        seen.iter().map(String::as_str),
    )
}

fn seen_in(state: &ClusterState) -> BTreeSet<String> {
    let metadata = state
        .services
        .iter()
        .map(|o| &o.metadata)
        .chain(state.pods.iter().map(|o| &o.metadata))
        .chain(state.endpoint_slices.iter().map(|o| &o.metadata))
        .chain(state.network_policies.iter().map(|o| &o.metadata))
        .chain(state.daemon_sets.iter().map(|o| &o.metadata))
        .chain(state.deployments.iter().map(|o| &o.metadata))
        .chain(state.events.iter().map(|o| &o.metadata));
    metadata.filter_map(|m| m.namespace.clone()).collect()
}

/// The namespaces of every Service, when they may be listed (nothing otherwise).
async fn service_namespaces(conn: &Connection) -> BTreeSet<String> {
    let api: Api<Service> = Api::all(conn.client.clone());
    let listed = list_all(&ListParams::default(), |params| {
        let api = api.clone();
        async move { api.list_metadata(&params).await }
    })
    .await;
    listed
        .unwrap_or_default()
        .into_iter()
        .filter_map(|s| s.metadata.namespace)
        .collect()
}
