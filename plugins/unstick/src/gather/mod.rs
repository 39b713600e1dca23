//! Building the [`Inventory`]: discovery, the typed kinds of the scope, the metadata of every
//! object in it, and what analysis needs beyond it (workloads where controllers run, the
//! namespaces behind unavailable APIServices). Resolves the object the user named.

mod discovery;
mod extras;
mod focus;
mod listing;
mod typed;

use std::sync::Arc;

use k8s_openapi::api::core::v1::Namespace;
use kube_runbook::{
    Error,
    app::Target,
    cli::KubectlFlags,
    report::NotChecked,
    state::{ClusterState, Kind},
};

pub use discovery::Discovered;
pub use listing::Scope;

use crate::{
    inventory::{Inventory, MetaObject},
    resources::ResourceType,
    target::ObjectSpec,
};
use extras::{
    CLUSTER_EVENTS_NAMESPACE, backend_namespaces, needs_controller_search, needs_node_events,
};
use focus::{find_focus, resolve_wanted, scope_of};

/// Typed kinds analysis reads in the scope (cluster-scoped ones are read whole).
const SCOPE_KINDS: &[Kind] = &[
    Kind::Pod,
    Kind::Event,
    Kind::PersistentVolumeClaim,
    Kind::PersistentVolume,
    Kind::Node,
    Kind::Lease,
    Kind::Namespace,
    Kind::StatefulSet,
    Kind::ReplicaSet,
    Kind::Deployment,
    Kind::Job,
    Kind::ApiService,
    Kind::CustomResourceDefinition,
];
/// More kinds from a snapshot, which has no listing of every type to stand in for them.
const SNAPSHOT_EXTRA_KINDS: &[Kind] = &[
    Kind::DaemonSet,
    Kind::Service,
    Kind::ConfigMap,
    Kind::Secret,
    Kind::ServiceAccount,
];
/// Where controllers run, read in every namespace.
const WORKLOAD_KINDS: &[Kind] = &[Kind::Deployment, Kind::StatefulSet, Kind::DaemonSet];
/// What backs an APIService, read in its Service's namespace.
const BACKEND_KINDS: &[Kind] = &[
    Kind::Service,
    Kind::EndpointSlice,
    Kind::Pod,
    Kind::Deployment,
    Kind::StatefulSet,
    Kind::DaemonSet,
];

/// What to analyse.
#[derive(Debug, Clone)]
pub enum Focus {
    /// Everything stuck in the scope.
    Scan { namespace: Option<String> },
    /// One object.
    Object(Box<MetaObject>),
}

/// The inventory and what to analyse in it.
#[derive(Debug, Clone)]
pub struct Gathered {
    pub inventory: Inventory,
    pub focus: Focus,
}

/// Reads what analysis needs for `spec` (or for a scan of the scope when None).
pub async fn gather(
    source: &Target,
    flags: &KubectlFlags,
    spec: Option<&ObjectSpec>,
) -> Result<Gathered, Error> {
    let verbose = flags.verbose > 0;
    let live = source.connection();
    let discovered = match live {
        Some(conn) => discovery::discover(conn).await?,
        None => Discovered {
            types: ResourceType::builtins().into_iter().map(Arc::new).collect(),
            failures: Vec::new(),
        },
    };
    let namespace = source.namespace(flags);
    let wanted = match spec {
        Some(spec) => Some(resolve_wanted(
            &discovered,
            spec,
            namespace.as_deref(),
            source.connection().is_some(),
        )?),
        None => None,
    };
    let scope = match &wanted {
        None => Scope {
            namespace: namespace.clone(),
            cluster_scoped: flags.all_namespaces,
        },
        Some(wanted) => scope_of(source, wanted, verbose).await?,
    };
    let mut kinds = SCOPE_KINDS.to_vec();
    if source.connection().is_none() {
        kinds.extend(SNAPSHOT_EXTRA_KINDS);
    }
    let state = source
        .load(&kinds, scope.namespace.as_deref(), verbose)
        .await?;
    if let Some(ns) = scope.namespace.as_deref() {
        ensure_namespace_exists(&state, ns)?;
    }
    let (mut objects, mut not_checked) = match live {
        Some(conn) => listing::list_objects(conn, &discovered.types, &scope, verbose).await,
        None => (in_scope(typed::typed_objects(&state), &scope), Vec::new()),
    };
    if let Some(ns) = scope.namespace.as_deref() {
        add_missing(&mut objects, state_namespace(&state, ns));
    }
    let focus = match wanted {
        None => Focus::Scan { namespace },
        Some(wanted) => Focus::Object(Box::new(find_focus(live, &wanted, &mut objects).await?)),
    };
    not_checked.extend(discovered.failures.iter().map(|f| NotChecked {
        resource: f.group_version.clone(),
        reason: format!("discovery failed: {}", f.message),
    }));
    let mut inventory = Inventory {
        workloads: ClusterState::new(state.origin.clone(), state.observed_at),
        state,
        objects,
        discovery_failures: discovered.failures,
        backends: Default::default(),
        not_checked,
    };
    if needs_controller_search(&inventory.objects) {
        inventory.workloads = source.load(WORKLOAD_KINDS, None, verbose).await?;
        note_unavailable(
            &mut inventory.not_checked,
            &inventory.workloads,
            "in every namespace",
        );
    }
    if needs_node_events(&inventory, &scope) {
        let cluster_events = source
            .load(&[Kind::Event], Some(CLUSTER_EVENTS_NAMESPACE), verbose)
            .await?;
        note_unavailable(
            &mut inventory.not_checked,
            &cluster_events,
            &format!("in namespace {CLUSTER_EVENTS_NAMESPACE}"),
        );
        inventory.state.events.extend(cluster_events.events);
    }
    for backend_namespace in backend_namespaces(&inventory, &scope) {
        let backend = source
            .load(BACKEND_KINDS, Some(&backend_namespace), verbose)
            .await?;
        note_unavailable(
            &mut inventory.not_checked,
            &backend,
            &format!("in namespace {backend_namespace}"),
        );
        inventory.backends.insert(backend_namespace, backend);
    }
    Ok(Gathered { inventory, focus })
}

fn in_scope(objects: Vec<MetaObject>, scope: &Scope) -> Vec<MetaObject> {
    objects
        .into_iter()
        .filter(|o| match o.namespace() {
            Some(ns) => scope.namespace.as_deref().is_none_or(|want| want == ns),
            None => scope.cluster_scoped,
        })
        .collect()
}

/// A namespace that does not exist is an error naming the near ones (when namespaces are readable).
fn ensure_namespace_exists(state: &ClusterState, name: &str) -> Result<(), Error> {
    if !state.has(Kind::Namespace) || state_namespace(state, name).is_some() {
        return Ok(());
    }
    let names = state
        .namespaces
        .iter()
        .filter_map(|n| n.metadata.name.as_deref());
    Err(Error::not_found("namespace", name, None, names))
}

fn state_namespace(state: &ClusterState, name: &str) -> Option<MetaObject> {
    state
        .namespaces
        .iter()
        .find(|n: &&Namespace| n.metadata.name.as_deref() == Some(name))
        .map(|n| MetaObject::of_kind(Kind::Namespace, &n.metadata))
}

fn add_missing(objects: &mut Vec<MetaObject>, object: Option<MetaObject>) {
    if let Some(object) = object
        && !objects.iter().any(|o| o.same_object(&object))
    {
        objects.push(object);
    }
}

fn note_unavailable(not_checked: &mut Vec<NotChecked>, state: &ClusterState, where_: &str) {
    not_checked.extend(state.unavailable.iter().map(|u| NotChecked {
        resource: format!("{} {where_}", u.kind.resource()),
        reason: u.reason.clone(),
    }));
}
