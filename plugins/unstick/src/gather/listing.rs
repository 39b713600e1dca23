//! The metadata of every object in scope, of every listable and deletable type (what the namespace
//! controller would have to delete), custom resources included.

use std::{collections::HashSet, sync::Arc, time::Instant};

use futures::{StreamExt, stream};
use kube::{
    Api,
    api::{DynamicObject, ListParams},
};
use kube_runbook::{
    Error,
    cli::{ApiContext, Connection, from_kube_error},
    report::NotChecked,
    state::list_all,
};

use crate::{inventory::MetaObject, resources::ResourceType};

const CONCURRENT_LISTS: usize = 8;

/// Where to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// Namespace of namespaced types; None lists every namespace.
    pub namespace: Option<String>,
    /// Whether cluster-scoped types are listed too.
    pub cluster_scoped: bool,
}

/// One type and what listing it gave.
type Listed = (Arc<ResourceType>, Result<Vec<MetaObject>, Error>);

/// Lists every object of `types` in `scope`. Types that cannot be listed are reported, not fatal.
pub async fn list_objects(
    conn: &Connection,
    types: &[Arc<ResourceType>],
    scope: &Scope,
    verbose: bool,
) -> (Vec<MetaObject>, Vec<NotChecked>) {
    let wanted: Vec<&Arc<ResourceType>> = types
        .iter()
        .filter(|t| t.supports("list") && t.supports("delete") && t.kind != "Event")
        .filter(|t| t.namespaced || scope.cluster_scoped)
        .collect();
    let results: Vec<Listed> = stream::iter(wanted)
        .map(|resource| async move {
            let started = Instant::now();
            let result = list_type(conn, resource, scope).await;
            if verbose {
                eprintln!(
                    "list {} ({} ms)",
                    resource.qualified(),
                    started.elapsed().as_millis()
                );
            }
            (resource.clone(), result)
        })
        .buffer_unordered(CONCURRENT_LISTS)
        .collect()
        .await;
    let mut seen = HashSet::new();
    let mut objects = Vec::new();
    let mut not_checked = Vec::new();
    for (resource, result) in results {
        match result {
            Ok(listed) => objects.extend(listed.into_iter().filter(|o| {
                seen.insert(o.uid().map(str::to_string).unwrap_or_default() + o.name())
            })),
            Err(Error::NotFound { .. }) => {}
            Err(err) => not_checked.push(NotChecked {
                resource: resource.qualified(),
                reason: err
                    .to_string()
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            }),
        }
    }
    objects.sort_by(|a, b| {
        (a.resource.qualified(), a.namespace(), a.name()).cmp(&(
            b.resource.qualified(),
            b.namespace(),
            b.name(),
        ))
    });
    (objects, not_checked)
}

async fn list_type(
    conn: &Connection,
    resource: &Arc<ResourceType>,
    scope: &Scope,
) -> Result<Vec<MetaObject>, Error> {
    let api_resource = resource.api_resource();
    let namespace = scope.namespace.as_deref().filter(|_| resource.namespaced);
    let api: Api<DynamicObject> = match namespace {
        Some(ns) => Api::namespaced_with(conn.client.clone(), ns, &api_resource),
        None => Api::all_with(conn.client.clone(), &api_resource),
    };
    let ctx = ApiContext {
        server: conn.server.clone(),
        verb: "list",
        resource: resource.qualified(),
        namespace: namespace.map(str::to_string),
        name: None,
    };
    let listed = list_all(&ListParams::default(), |params| {
        let api = api.clone();
        async move { api.list_metadata(&params).await }
    })
    .await
    .map_err(|e| from_kube_error(e, &ctx))?;
    Ok(listed
        .into_iter()
        .map(|item| {
            let mut meta = item.metadata;
            meta.managed_fields = None;
            MetaObject {
                resource: resource.clone(),
                meta,
            }
        })
        .collect())
}
