//! API discovery that survives broken groups: each group version is asked on its own, and one that
//! fails (an APIService whose backend is down) is recorded instead of failing the whole run.

use std::sync::Arc;

use futures::future::join_all;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResourceList;
use kube_runbook::{
    Error,
    cli::{ApiContext, Connection, from_kube_error},
};

use crate::{inventory::GroupFailure, resources::ResourceType};

/// The served types (core group first, then groups in the server's preference order) and the
/// group versions whose discovery failed.
#[derive(Debug, Clone, Default)]
pub struct Discovered {
    pub types: Vec<Arc<ResourceType>>,
    pub failures: Vec<GroupFailure>,
}

/// Discovers every served resource type of the preferred version of every group.
pub async fn discover(conn: &Connection) -> Result<Discovered, Error> {
    let ctx = |resource: &str| ApiContext {
        server: conn.server.clone(),
        verb: "get",
        resource: resource.to_string(),
        namespace: None,
        name: None,
    };
    let core = conn
        .client
        .list_core_api_resources("v1")
        .await
        .map_err(|e| from_kube_error(e, &ctx("/api/v1")))?;
    let groups = conn
        .client
        .list_api_groups()
        .await
        .map_err(|e| from_kube_error(e, &ctx("/apis")))?;
    let mut discovered = Discovered {
        types: types_of("", "v1", &core),
        failures: Vec::new(),
    };
    let group_versions: Vec<(String, String)> = groups
        .groups
        .iter()
        .filter_map(|g| {
            let version = g
                .preferred_version
                .as_ref()
                .or_else(|| g.versions.first())?;
            Some((g.name.clone(), version.version.clone()))
        })
        .collect();
    let answers = join_all(group_versions.iter().map(|(group, version)| {
        let client = conn.client.clone();
        async move {
            client
                .list_api_group_resources(&format!("{group}/{version}"))
                .await
        }
    }))
    .await;
    for ((group, version), answer) in group_versions.iter().zip(answers) {
        match answer {
            Ok(list) => discovered.types.extend(types_of(group, version, &list)),
            Err(err) => discovered.failures.push(GroupFailure {
                group_version: format!("{group}/{version}"),
                message: failure_message(&err),
            }),
        }
    }
    Ok(discovered)
}

/// The top-level resources of one group version (subresources such as `pods/status` skipped).
fn types_of(group: &str, version: &str, list: &APIResourceList) -> Vec<Arc<ResourceType>> {
    list.resources
        .iter()
        .filter(|r| !r.name.contains('/'))
        .map(|r| {
            Arc::new(ResourceType {
                group: group.to_string(),
                version: version.to_string(),
                kind: r.kind.clone(),
                plural: r.name.clone(),
                singular: if r.singular_name.is_empty() {
                    r.kind.to_lowercase()
                } else {
                    r.singular_name.clone()
                },
                short_names: r.short_names.clone().unwrap_or_default(),
                namespaced: r.namespaced,
                verbs: r.verbs.clone(),
            })
        })
        .collect()
}

fn failure_message(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) if !status.message.is_empty() => {
            format!("{} ({})", status.message, status.code)
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn skips_subresources_and_keeps_names() {
        let list: APIResourceList = serde_json::from_value(json!({
            "groupVersion": "example.com/v1",
            "resources": [
                {"name": "widgets", "singularName": "widget", "namespaced": true, "kind": "Widget",
                 "verbs": ["get", "list", "delete"], "shortNames": ["wd"]},
                {"name": "widgets/status", "singularName": "", "namespaced": true, "kind": "Widget", "verbs": ["get"]},
                {"name": "gadgets", "singularName": "", "namespaced": false, "kind": "Gadget", "verbs": ["list"]},
            ],
        }))
        .unwrap();
        let types = types_of("example.com", "v1", &list);
        assert_eq!(types.len(), 2);
        assert_eq!(types[0].short_names, vec!["wd"]);
        assert_eq!(types[1].singular, "gadget");
        assert!(!types[1].namespaced);
    }
}
