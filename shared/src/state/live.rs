//! Loading the kinds a plugin asks for from the API server: one paginated list per kind, all
//! issued concurrently (paged: [`super::pager`]); a kind the user may not list is recorded as unavailable, not fatal.

use std::{fmt::Debug, time::Instant};

use futures::future::join_all;
use k8s_openapi::jiff::Timestamp;
use k8s_openapi::{ClusterResourceScope, NamespaceResourceScope};
use kube::{Api, Client, Resource, ResourceExt, api::ListParams};
use serde::de::DeserializeOwned;

use super::{
    cluster_state::{ClusterState, Origin, Stored, Unavailable},
    kind::Kind,
    pager::list_all,
};
use crate::{
    Error,
    cli::{ApiContext, Connection, from_kube_error},
};

/// What to load.
#[derive(Debug, Clone, Default)]
pub struct LiveOptions {
    /// Namespace of namespaced kinds; None lists every namespace.
    pub namespace: Option<String>,
    /// Print each list's size and time to stderr.
    pub verbose: bool,
}

type StoreFn = Box<dyn FnOnce(&mut ClusterState) + Send>;

/// Lists `kinds` concurrently and returns them as one state.
pub async fn load_live(
    conn: &Connection,
    kinds: &[Kind],
    options: &LiveOptions,
) -> Result<ClusterState, Error> {
    let origin = Origin::Live {
        context: conn.context.clone(),
        server: conn.server.clone(),
    };
    let mut state = ClusterState::new(origin, Timestamp::now());
    let fetches = kinds.iter().map(|&kind| async move {
        let started = Instant::now();
        let result = fetch(conn.client.clone(), kind, options.namespace.as_deref()).await;
        if options.verbose {
            eprintln!(
                "list {} ({} ms)",
                kind.resource(),
                started.elapsed().as_millis()
            );
        }
        (kind, result)
    });
    for (kind, result) in join_all(fetches).await {
        match result {
            Ok(store) => {
                store(&mut state);
                state.loaded.insert(kind);
            }
            Err(err) => {
                let ctx = ApiContext {
                    server: conn.server.clone(),
                    verb: "list",
                    resource: qualified(kind),
                    namespace: if kind.namespaced() {
                        options.namespace.clone()
                    } else {
                        None
                    },
                    name: None,
                };
                match from_kube_error(err, &ctx) {
                    Error::Forbidden {
                        user,
                        verb,
                        resource,
                        namespace,
                    } => state.unavailable.push(Unavailable {
                        kind,
                        reason: format!(
                            "forbidden: {user} cannot {verb} {resource}{}",
                            namespace
                                .map(|ns| format!(" in namespace \"{ns}\""))
                                .unwrap_or_default()
                        ),
                    }),
                    Error::NotFound { .. } => state.unavailable.push(Unavailable {
                        kind,
                        reason: format!("the API server does not serve {}", qualified(kind)),
                    }),
                    fatal => return Err(fatal),
                }
            }
        }
    }
    Ok(state)
}

/// "pods", "deployments.apps": how RBAC rules and kubectl name a resource.
fn qualified(kind: Kind) -> String {
    match kind.group() {
        "" => kind.resource().to_string(),
        group => format!("{}.{group}", kind.resource()),
    }
}

async fn fetch(
    client: Client,
    kind: Kind,
    namespace: Option<&str>,
) -> Result<StoreFn, kube::Error> {
    use k8s_openapi::api::{
        apps::v1 as apps, batch::v1 as batch, coordination::v1 as coordination, core::v1 as core,
        discovery::v1 as discovery, networking::v1 as networking, policy::v1 as policy,
        scheduling::v1 as scheduling, storage::v1 as storage,
    };
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
    match kind {
        Kind::Pod => namespaced::<core::Pod>(client, namespace).await,
        Kind::Event => namespaced::<core::Event>(client, namespace).await,
        Kind::PersistentVolumeClaim => {
            namespaced::<core::PersistentVolumeClaim>(client, namespace).await
        }
        Kind::PodDisruptionBudget => {
            namespaced::<policy::PodDisruptionBudget>(client, namespace).await
        }
        Kind::ReplicaSet => namespaced::<apps::ReplicaSet>(client, namespace).await,
        Kind::Deployment => namespaced::<apps::Deployment>(client, namespace).await,
        Kind::StatefulSet => namespaced::<apps::StatefulSet>(client, namespace).await,
        Kind::DaemonSet => namespaced::<apps::DaemonSet>(client, namespace).await,
        Kind::Job => namespaced::<batch::Job>(client, namespace).await,
        Kind::ReplicationController => {
            namespaced::<core::ReplicationController>(client, namespace).await
        }
        Kind::Service => namespaced::<core::Service>(client, namespace).await,
        Kind::EndpointSlice => namespaced::<discovery::EndpointSlice>(client, namespace).await,
        Kind::NetworkPolicy => namespaced::<networking::NetworkPolicy>(client, namespace).await,
        Kind::Secret => secret_metadata(client, namespace).await,
        Kind::ConfigMap => namespaced::<core::ConfigMap>(client, namespace).await,
        Kind::ServiceAccount => namespaced::<core::ServiceAccount>(client, namespace).await,
        Kind::ResourceQuota => namespaced::<core::ResourceQuota>(client, namespace).await,
        Kind::LimitRange => namespaced::<core::LimitRange>(client, namespace).await,
        // Leases that matter (scheduler, controller-manager, node heartbeats) are read cluster-wide.
        Kind::Lease => store(list_pages(Api::<coordination::Lease>::all(client)).await?),
        Kind::Node => cluster::<core::Node>(client).await,
        Kind::Namespace => cluster::<core::Namespace>(client).await,
        Kind::PersistentVolume => cluster::<core::PersistentVolume>(client).await,
        Kind::StorageClass => cluster::<storage::StorageClass>(client).await,
        Kind::PriorityClass => cluster::<scheduling::PriorityClass>(client).await,
        Kind::ApiService => cluster::<APIService>(client).await,
        Kind::CustomResourceDefinition => cluster::<CustomResourceDefinition>(client).await,
    }
}

async fn namespaced<T>(client: Client, namespace: Option<&str>) -> Result<StoreFn, kube::Error>
where
    T: Stored
        + Resource<Scope = NamespaceResourceScope, DynamicType = ()>
        + Clone
        + DeserializeOwned
        + Debug
        + Send
        + 'static,
{
    let api = match namespace {
        Some(ns) => Api::<T>::namespaced(client, ns),
        None => Api::<T>::all(client),
    };
    store(list_pages(api).await?)
}

async fn cluster<T>(client: Client) -> Result<StoreFn, kube::Error>
where
    T: Stored
        + Resource<Scope = ClusterResourceScope, DynamicType = ()>
        + Clone
        + DeserializeOwned
        + Debug
        + Send
        + 'static,
{
    store(list_pages(Api::<T>::all(client)).await?)
}

fn store<T: Stored + Send + 'static>(items: Vec<T>) -> Result<StoreFn, kube::Error> {
    Ok(Box::new(move |state: &mut ClusterState| {
        T::slot(state).extend(items)
    }))
}

/// Every page of a list, with managed fields dropped to keep large lists small.
async fn list_pages<T>(api: Api<T>) -> Result<Vec<T>, kube::Error>
where
    T: Resource + Clone + DeserializeOwned + Debug,
{
    let items = list_all(&ListParams::default(), |params| {
        let api = api.clone();
        async move { api.list(&params).await }
    })
    .await?;
    Ok(items.into_iter().map(slim).collect())
}

/// Secrets are listed as metadata only: their data is never needed, nor fetched.
async fn secret_metadata(client: Client, namespace: Option<&str>) -> Result<StoreFn, kube::Error> {
    use k8s_openapi::api::core::v1::Secret;
    let api = match namespace {
        Some(ns) => Api::<Secret>::namespaced(client, ns),
        None => Api::<Secret>::all(client),
    };
    let metadata = list_all(&ListParams::default(), |params| {
        let api = api.clone();
        async move { api.list_metadata(&params).await }
    })
    .await?;
    store(
        metadata
            .into_iter()
            .map(|meta| Secret {
                metadata: meta.metadata,
                ..Secret::default()
            })
            .collect(),
    )
}

fn slim<T: Resource>(mut object: T) -> T {
    object.managed_fields_mut().clear();
    object
        .annotations_mut()
        .remove("kubectl.kubernetes.io/last-applied-configuration");
    object
}
