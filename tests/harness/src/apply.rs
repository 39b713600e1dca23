//! Applies multi-document YAML of any kind, like `kubectl apply --server-side`.

use std::collections::HashMap;
use std::time::Duration;

use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use kube::discovery::{self, ApiCapabilities, ApiResource, Scope};
use serde_json::Value;

use crate::ControlPlane;
use crate::wait::poll_until;

const FIELD_MANAGER: &str = "kube-runbooks-harness";

/// Applies every document of `yaml` (server-side apply; `create` for objects with only
/// `generateName`). Namespaced objects without a namespace go to `namespace`. `kind: List`
/// documents are expanded. Kinds are resolved through discovery, waiting up to 30s for kinds
/// that appear later (a CRD applied in the same YAML). Returns the objects as stored.
pub async fn apply_yaml(client: &kube::Client, namespace: &str, yaml: &str) -> Vec<DynamicObject> {
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(yaml).unwrap_or_else(|e| panic!("invalid YAML: {e}\n{yaml}"));
    let mut objects = Vec::new();
    for doc in docs {
        expand(doc, &mut objects);
    }
    let mut kinds: HashMap<GroupVersionKind, (ApiResource, ApiCapabilities)> = HashMap::new();
    let mut applied = Vec::new();
    for object in objects {
        let gvk = gvk_of(&object);
        if !kinds.contains_key(&gvk) {
            let resolved = resolve(client, &gvk).await;
            kinds.insert(gvk.clone(), resolved);
        }
        let (resource, caps) = &kinds[&gvk];
        applied.push(apply_one(client, namespace, resource, caps, object).await);
    }
    applied
}

impl ControlPlane {
    /// Applies multi-document YAML as admin (see [`apply_yaml`]); namespaced objects without a
    /// namespace go to `namespace`.
    pub async fn apply_yaml(&self, namespace: &str, yaml: &str) -> Vec<DynamicObject> {
        apply_yaml(&self.client(), namespace, yaml).await
    }
}

fn expand(doc: Value, out: &mut Vec<Value>) {
    match doc {
        Value::Null => {}
        Value::Object(ref map)
            if map
                .get("kind")
                .and_then(Value::as_str)
                .is_some_and(|k| k.ends_with("List"))
                && map.get("items").is_some_and(Value::is_array) =>
        {
            if let Some(Value::Array(items)) = map.get("items") {
                for item in items {
                    expand(item.clone(), out);
                }
            }
        }
        other => out.push(other),
    }
}

fn gvk_of(object: &Value) -> GroupVersionKind {
    let api_version = object["apiVersion"]
        .as_str()
        .unwrap_or_else(|| panic!("object without apiVersion: {object}"));
    let kind = object["kind"]
        .as_str()
        .unwrap_or_else(|| panic!("object without kind: {object}"));
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    GroupVersionKind::gvk(group, version, kind)
}

async fn resolve(client: &kube::Client, gvk: &GroupVersionKind) -> (ApiResource, ApiCapabilities) {
    let what = format!("API kind {}/{} {}", gvk.group, gvk.version, gvk.kind);
    poll_until(Duration::from_secs(30), &what, || async {
        discovery::pinned_kind(client, gvk)
            .await
            .map_err(|e| e.to_string())
    })
    .await
}

async fn apply_one(
    client: &kube::Client,
    namespace: &str,
    resource: &ApiResource,
    caps: &ApiCapabilities,
    object: Value,
) -> DynamicObject {
    let mut object: DynamicObject = serde_json::from_value(object.clone())
        .unwrap_or_else(|e| panic!("not a Kubernetes object ({e}): {object}"));
    let api: Api<DynamicObject> = match caps.scope {
        Scope::Namespaced => {
            let ns = object
                .metadata
                .namespace
                .get_or_insert_with(|| namespace.to_string())
                .clone();
            Api::namespaced_with(client.clone(), &ns, resource)
        }
        Scope::Cluster => Api::all_with(client.clone(), resource),
    };
    let label = format!(
        "{} {}",
        resource.kind,
        object
            .metadata
            .name
            .as_deref()
            .or(object.metadata.generate_name.as_deref())
            .unwrap_or("?")
    );
    let result = match object.metadata.name.clone() {
        Some(name) => {
            let params = PatchParams::apply(FIELD_MANAGER).force();
            api.patch(&name, &params, &Patch::Apply(&object)).await
        }
        None => api.create(&PostParams::default(), &object).await,
    };
    result.unwrap_or_else(|e| panic!("cannot apply {label}: {e}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn lists_and_empty_documents_are_expanded() {
        let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(
            "---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n---\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n",
        )
        .expect("valid YAML");
        let mut out = Vec::new();
        for doc in docs {
            super::expand(doc, &mut out);
        }
        assert_eq!(out.len(), 2);
        assert_eq!(out[0]["metadata"], json!({"name": "a"}));
        let gvk = super::gvk_of(&out[1]);
        assert_eq!(
            (gvk.group.as_str(), gvk.version.as_str(), gvk.kind.as_str()),
            ("apps", "v1", "Deployment")
        );
    }
}
