//! What to load, and resolving the user's target: the namespace, the Service and the `--from` pod
//! must exist (unknown names get near-name suggestions), Services must be readable.
//!
//! Live, the lists are issued concurrently: the asked namespace (or all), the cluster-wide small
//! kinds, kube-system's proxy and DNS, Warning events only; LoadBalancer Services add a second
//! round (Deployments everywhere, and every Service for shared addresses).

use std::collections::BTreeSet;

use futures::future::join_all;
use k8s_openapi::api::core::v1::{Event, Service};
use kube::{Api, api::ListParams};
use kube_runbook::{
    Error,
    app::Target,
    cli::{ApiContext, Connection, from_kube_error},
    state::{ClusterState, Kind, Unavailable, list_all},
};

use crate::{
    coverage::Coverage,
    model::{ServiceKind, Subject},
    namespaces::{self, Existence},
    pods,
    request::Request,
};

/// The kinds read where the Services are.
const SCOPED: [Kind; 4] = [
    Kind::Service,
    Kind::EndpointSlice,
    Kind::Pod,
    Kind::NetworkPolicy,
];
/// Cluster-wide kinds (DaemonSets of every namespace: proxies, network plugins, LB speakers).
const CLUSTER: [Kind; 3] = [Kind::Namespace, Kind::Node, Kind::DaemonSet];
/// Everything, for a snapshot.
const ALL: [Kind; 9] = [
    Kind::Service,
    Kind::EndpointSlice,
    Kind::Pod,
    Kind::NetworkPolicy,
    Kind::Namespace,
    Kind::Node,
    Kind::DaemonSet,
    Kind::Deployment,
    Kind::Event,
];
const SYSTEM: &str = "kube-system";

pub struct Gathered {
    pub state: ClusterState,
    pub coverage: Coverage,
    /// Namespaces could not be listed nor the asked one got: it may not exist.
    pub namespace_unverified: bool,
}

pub async fn gather(target: &Target, request: &Request, verbose: bool) -> Result<Gathered, Error> {
    let gathered = match target {
        Target::Snapshot(path) => {
            let state = target.load(&ALL, None, verbose).await?;
            if !state.has(Kind::Service) {
                return Err(Error::BadSnapshot {
                    path: path.clone(),
                    reason: "it holds no Services (save them with kubectl get svc,endpointslices,pods,... -o yaml)".into(),
                });
            }
            let coverage = Coverage::everywhere(&state);
            Gathered {
                state,
                coverage,
                namespace_unverified: false,
            }
        }
        Target::Live(conn) => live(target, conn, request, verbose).await?,
    };
    resolve(&gathered, request)?;
    Ok(gathered)
}

async fn live(
    target: &Target,
    conn: &Connection,
    request: &Request,
    verbose: bool,
) -> Result<Gathered, Error> {
    let scope = request.namespace.as_deref();
    let mut plan: Vec<(Option<&str>, Vec<Kind>)> =
        vec![(scope, SCOPED.to_vec()), (None, CLUSTER.to_vec())];
    if let Some(ns) = scope {
        if ns != SYSTEM {
            plan.push((Some(SYSTEM), SCOPED.to_vec()));
        }
        if let Some(from) = &request.from
            && from.namespace != ns
            && from.namespace != SYSTEM
        {
            plan.push((
                Some(from.namespace.as_str()),
                vec![Kind::Pod, Kind::NetworkPolicy],
            ));
        }
    }
    let loads = join_all(
        plan.iter()
            .map(|(ns, kinds)| target.load(kinds, *ns, verbose)),
    );
    let (results, events) = tokio::join!(loads, warning_events(conn, scope));
    let mut gathered = Gathered {
        state: ClusterState::new(
            kube_runbook::state::Origin::Live {
                context: conn.context.clone(),
                server: conn.server.clone(),
            },
            k8s_openapi::jiff::Timestamp::now(),
        ),
        coverage: Coverage::default(),
        namespace_unverified: false,
    };
    for ((ns, _), result) in plan.iter().zip(results) {
        absorb(&mut gathered, *ns, result?, &BTreeSet::new());
    }
    match events? {
        Ok(list) => {
            gathered.state.insert_all(list);
            gathered
                .coverage
                .record(scope, &BTreeSet::from([Kind::Event]));
        }
        Err(unavailable) => gathered.state.unavailable.push(unavailable),
    }
    if !gathered.coverage.lists(Kind::Namespace, "") {
        verify_namespaces(conn, request, &mut gathered).await?;
    }
    if !gathered
        .coverage
        .lists(Kind::Service, scope.unwrap_or_default())
    {
        return Err(services_error(conn, scope).await);
    }
    if let Some(from) = &request.from
        && !gathered.coverage.lists(Kind::Pod, &from.namespace)
    {
        return Err(pod_error(conn, &from.namespace, &from.name).await);
    }
    second_round(target, &mut gathered, scope, verbose).await?;
    Ok(gathered)
}

/// Namespaces unlistable: each asked namespace is got by name; a missing one is not found, the
/// asked one that cannot be got either is noted for the empty answer.
async fn verify_namespaces(
    conn: &Connection,
    request: &Request,
    gathered: &mut Gathered,
) -> Result<(), Error> {
    let asked: BTreeSet<&str> = request
        .namespace
        .iter()
        .map(String::as_str)
        .chain(request.from.iter().map(|f| f.namespace.as_str()))
        .collect();
    for namespace in asked {
        match namespaces::existence(conn, namespace).await? {
            Existence::Missing => {
                return Err(namespaces::not_found(conn, &gathered.state, namespace).await);
            }
            Existence::Unknown => {
                gathered.namespace_unverified |= request.namespace.as_deref() == Some(namespace);
            }
            Existence::Exists => {}
        }
    }
    Ok(())
}

/// LoadBalancer Services need every Service (shared addresses) and every Deployment (controllers).
async fn second_round(
    target: &Target,
    gathered: &mut Gathered,
    scope: Option<&str>,
    verbose: bool,
) -> Result<(), Error> {
    let in_scope =
        |s: &&Service| scope.is_none_or(|ns| s.metadata.namespace.as_deref() == Some(ns));
    let balancers: Vec<&Service> = gathered
        .state
        .services
        .iter()
        .filter(in_scope)
        .filter(|s| ServiceKind::of(s) == ServiceKind::LoadBalancer)
        .collect();
    if balancers.is_empty() {
        return Ok(());
    }
    let pending = balancers
        .iter()
        .any(|s| crate::analyse::load_balancer::external_addresses(&Subject::new(s)).is_empty());
    let mut kinds = Vec::new();
    if pending {
        kinds.push(Kind::Deployment);
    }
    if scope.is_some() {
        kinds.push(Kind::Service);
    }
    if kinds.is_empty() {
        return Ok(());
    }
    let state = target.load(&kinds, None, verbose).await?;
    let already: BTreeSet<String> = gathered
        .state
        .services
        .iter()
        .filter_map(|s| s.metadata.namespace.clone())
        .collect();
    absorb(gathered, None, state, &already);
    Ok(())
}

/// Merges one load into the gathered state, skipping Services of namespaces already held.
fn absorb(
    gathered: &mut Gathered,
    namespace: Option<&str>,
    mut from: ClusterState,
    skip_services_in: &BTreeSet<String>,
) {
    let into = &mut gathered.state;
    from.services.retain(|s| {
        !s.metadata
            .namespace
            .as_ref()
            .is_some_and(|ns| skip_services_in.contains(ns))
    });
    into.services.append(&mut from.services);
    into.endpoint_slices.append(&mut from.endpoint_slices);
    into.pods.append(&mut from.pods);
    into.network_policies.append(&mut from.network_policies);
    into.namespaces.append(&mut from.namespaces);
    into.nodes.append(&mut from.nodes);
    into.daemon_sets.append(&mut from.daemon_sets);
    into.deployments.append(&mut from.deployments);
    into.events.append(&mut from.events);
    into.loaded.extend(from.loaded.iter().copied());
    into.unavailable.append(&mut from.unavailable);
    gathered.coverage.record(namespace, &from.loaded);
}

/// Warning events only (Unhealthy probes, SyncLoadBalancerFailed, FailedScheduling): every
/// other event is noise here, and a cluster's events can outnumber its pods.
async fn warning_events(
    conn: &Connection,
    namespace: Option<&str>,
) -> Result<Result<Vec<Event>, Unavailable>, Error> {
    let api: Api<Event> = match namespace {
        Some(ns) => Api::namespaced(conn.client.clone(), ns),
        None => Api::all(conn.client.clone()),
    };
    let warnings = ListParams::default().fields("type=Warning");
    let listed = list_all(&warnings, |params| {
        let api = api.clone();
        async move { api.list(&params).await }
    })
    .await;
    match listed {
        Ok(events) => Ok(Ok(events)),
        Err(err) => {
            let ctx = ApiContext {
                server: conn.server.clone(),
                verb: "list",
                resource: "events".into(),
                namespace: namespace.map(str::to_string),
                name: None,
            };
            match from_kube_error(err, &ctx) {
                forbidden @ Error::Forbidden { .. } => Ok(Err(Unavailable {
                    kind: Kind::Event,
                    reason: forbidden
                        .to_string()
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                })),
                other => Err(other),
            }
        }
    }
}

/// The precise error when Services could not be listed (the loader only records "unavailable").
async fn services_error(conn: &Connection, namespace: Option<&str>) -> Error {
    let api: Api<Service> = match namespace {
        Some(ns) => Api::namespaced(conn.client.clone(), ns),
        None => Api::all(conn.client.clone()),
    };
    let ctx = ApiContext {
        server: conn.server.clone(),
        verb: "list",
        resource: "services".into(),
        namespace: namespace.map(str::to_string),
        name: None,
    };
    match api.list(&ListParams::default().limit(1)).await {
        Err(err) => from_kube_error(err, &ctx),
        Ok(_) => Error::Api {
            code: 0,
            message: "Services could not be listed; try again".into(),
        },
    }
}

/// The precise error for a `--from` pod in a namespace whose pods could not be listed.
async fn pod_error(conn: &Connection, namespace: &str, name: &str) -> Error {
    let api: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(conn.client.clone(), namespace);
    let ctx = ApiContext {
        server: conn.server.clone(),
        verb: "get",
        resource: "pods".into(),
        namespace: Some(namespace.to_string()),
        name: Some(name.to_string()),
    };
    match api.get(name).await {
        Err(err) => from_kube_error(err, &ctx),
        Ok(_) => Error::Forbidden {
            user: "the current user".into(),
            verb: "list".into(),
            resource: "pods".into(),
            namespace: Some(namespace.to_string()),
        },
    }
}

/// The namespace, the Service and the `--from` pod must exist.
fn resolve(gathered: &Gathered, request: &Request) -> Result<(), Error> {
    let state = &gathered.state;
    let namespaces_known =
        gathered.coverage.lists(Kind::Namespace, "") && !state.namespaces.is_empty();
    let namespace_names = || {
        state
            .namespaces
            .iter()
            .filter_map(|n| n.metadata.name.as_deref())
    };
    let check_namespace = |ns: &str| {
        if namespaces_known && !namespace_names().any(|n| n == ns) {
            return Err(Error::not_found("namespace", ns, None, namespace_names()));
        }
        Ok(())
    };
    if let Some(ns) = &request.namespace {
        check_namespace(ns)?;
        if let Some(name) = &request.service {
            let in_namespace = state
                .services
                .iter()
                .filter(|s| s.metadata.namespace.as_deref() == Some(ns))
                .filter_map(|s| s.metadata.name.as_deref());
            if !in_namespace.clone().any(|n| n == name) {
                return Err(Error::not_found("service", name, Some(ns), in_namespace));
            }
        }
    }
    if let Some(from) = &request.from {
        check_namespace(&from.namespace)?;
        let pods_read = gathered.coverage.lists(Kind::Pod, &from.namespace);
        let in_namespace = state
            .pods
            .iter()
            .filter(|p| pods::namespace(p) == from.namespace)
            .map(pods::name);
        if pods_read && !in_namespace.clone().any(|n| n == from.name) {
            return Err(Error::not_found(
                "pod",
                &from.name,
                Some(&from.namespace),
                in_namespace,
            ));
        }
    }
    Ok(())
}
