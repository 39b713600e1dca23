//! The object the user named: its type resolved against discovery, its namespace, the scope to
//! read around it, and the object itself (a missing one suggests near names).

use std::sync::Arc;

use kube::{Api, api::DynamicObject};
use kube_runbook::{
    Error,
    app::Target,
    cli::{ApiContext, Connection, from_kube_error},
    state::Kind,
};

use super::{Discovered, Scope};
use crate::{
    inventory::MetaObject,
    resources::ResourceType,
    target::{ObjectSpec, resolve_type},
};

/// The object the user named, resolved to its type and namespace.
#[derive(Debug, Clone)]
pub struct Wanted {
    resource: Arc<ResourceType>,
    namespace: Option<String>,
    name: String,
}

pub fn resolve_wanted(
    discovered: &Discovered,
    spec: &ObjectSpec,
    namespace: Option<&str>,
    live: bool,
) -> Result<Wanted, Error> {
    let resource = resolve_type(&discovered.types, &spec.type_name).map_err(|err| {
        if !live {
            Error::Usage(format!(
                "{err}\n  note: a snapshot holds only built-in kinds; custom resources need a live cluster"
            ))
        } else if discovered.failures.is_empty() {
            err
        } else {
            let failed: Vec<&str> = discovered.failures.iter().map(|f| f.group_version.as_str()).collect();
            Error::Usage(format!(
                "{err}\n  note: discovery failed for {}, which may serve it",
                failed.join(", ")
            ))
        }
    })?;
    let namespace = match (resource.namespaced, namespace) {
        (false, _) => None,
        (true, Some(ns)) => Some(ns.to_string()),
        (true, None) => {
            return Err(Error::Usage(format!(
                "{} \"{}\" is namespaced: name its namespace with -n instead of -A",
                resource.kind, spec.name
            )));
        }
    };
    Ok(Wanted {
        resource,
        namespace,
        name: spec.name.clone(),
    })
}

/// Where to look for what holds the object: its namespace; for a namespace, itself; for a
/// volume, its claim's namespace; for other cluster-scoped objects, everywhere.
pub async fn scope_of(source: &Target, wanted: &Wanted, verbose: bool) -> Result<Scope, Error> {
    if let Some(ns) = &wanted.namespace {
        return Ok(Scope {
            namespace: Some(ns.clone()),
            cluster_scoped: false,
        });
    }
    if wanted.resource.is_core("Namespace") {
        return Ok(Scope {
            namespace: Some(wanted.name.clone()),
            cluster_scoped: false,
        });
    }
    if wanted.resource.is_core("PersistentVolume") {
        let volumes = source
            .load(&[Kind::PersistentVolume], None, verbose)
            .await?;
        let claim_namespace = volumes
            .persistent_volumes
            .iter()
            .find(|v| v.metadata.name.as_deref() == Some(wanted.name.as_str()))
            .and_then(|v| v.spec.as_ref()?.claim_ref.as_ref()?.namespace.clone());
        if claim_namespace.is_some() {
            return Ok(Scope {
                namespace: claim_namespace,
                cluster_scoped: false,
            });
        }
    }
    Ok(Scope {
        namespace: None,
        cluster_scoped: true,
    })
}

/// The named object, from the listing or fetched; a missing one suggests near names.
pub async fn find_focus(
    live: Option<&Connection>,
    wanted: &Wanted,
    objects: &mut Vec<MetaObject>,
) -> Result<MetaObject, Error> {
    let is_wanted = |o: &&MetaObject| {
        o.resource.group == wanted.resource.group
            && o.resource.kind == wanted.resource.kind
            && o.namespace() == wanted.namespace.as_deref()
            && o.name() == wanted.name
    };
    if let Some(found) = objects.iter().find(is_wanted) {
        return Ok(found.clone());
    }
    let not_found = |names: Vec<String>| {
        Error::not_found(
            &wanted.resource.singular,
            &wanted.name,
            wanted.namespace.as_deref(),
            names.iter().map(String::as_str),
        )
    };
    let Some(conn) = live else {
        let names = objects
            .iter()
            .filter(|o| {
                o.resource.kind == wanted.resource.kind
                    && o.namespace() == wanted.namespace.as_deref()
            })
            .map(|o| o.name().to_string())
            .collect();
        return Err(not_found(names));
    };
    let api_resource = wanted.resource.api_resource();
    let api: Api<DynamicObject> = match &wanted.namespace {
        Some(ns) => Api::namespaced_with(conn.client.clone(), ns, &api_resource),
        None => Api::all_with(conn.client.clone(), &api_resource),
    };
    let ctx = |verb| ApiContext {
        server: conn.server.clone(),
        verb,
        resource: wanted.resource.qualified(),
        namespace: wanted.namespace.clone(),
        name: Some(wanted.name.clone()),
    };
    match api
        .get_metadata_opt(&wanted.name)
        .await
        .map_err(|e| from_kube_error(e, &ctx("get")))?
    {
        Some(found) => {
            let mut meta = found.metadata;
            meta.managed_fields = None;
            let object = MetaObject {
                resource: wanted.resource.clone(),
                meta,
            };
            objects.push(object.clone());
            Ok(object)
        }
        None => {
            let names = api
                .list_metadata(&Default::default())
                .await
                .map(|list| {
                    list.items
                        .into_iter()
                        .filter_map(|i| i.metadata.name)
                        .collect()
                })
                .unwrap_or_default();
            Err(not_found(names))
        }
    }
}
