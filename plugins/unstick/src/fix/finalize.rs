//! The namespace `/finalize` call: the namespace as read, minus the `kubernetes` token in
//! `spec.finalizers`, carrying the resourceVersion seen at diagnosis (a conflict if it changed).

use http::Method;
use kube_runbook::{Error, cli::Connection};
use serde_json::{Value, json};

use super::{
    plan::NAMESPACE_FINALIZER,
    request::{Change, Outcome, send},
};
use crate::inventory::MetaObject;

/// The body of the `/finalize` call built from the namespace's current JSON.
pub fn finalize_body(namespace: &MetaObject, current: &Value) -> Value {
    let mut body = current.clone();
    let remaining: Vec<Value> = current
        .pointer("/spec/finalizers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|f| f.as_str() != Some(NAMESPACE_FINALIZER))
        .cloned()
        .collect();
    body["spec"] = json!({"finalizers": remaining});
    body["metadata"]["resourceVersion"] = json!(namespace.meta.resource_version);
    body
}

/// PUTs `/api/v1/namespaces/NAME/finalize`.
pub async fn finalize(
    conn: &Connection,
    namespace: &MetaObject,
    current: &Value,
    dry_run: bool,
) -> Result<Outcome, Error> {
    send(
        conn,
        Change {
            method: Method::PUT,
            object: namespace,
            subresource: Some("finalize"),
            content_type: "application/json",
            body: finalize_body(namespace, current),
            verb: "update",
            dry_run,
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use kube_runbook::state::Kind;

    use super::*;

    #[test]
    fn removes_only_the_kubernetes_token_and_pins_the_version() {
        let ns = MetaObject::of_kind(
            Kind::Namespace,
            &serde_json::from_value(json!({"name": "shop", "resourceVersion": "77"})).unwrap(),
        );
        let current = json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "shop", "resourceVersion": "78"},
            "spec": {"finalizers": ["kubernetes", "example.com/other"]},
        });
        let body = finalize_body(&ns, &current);
        assert_eq!(body["spec"]["finalizers"], json!(["example.com/other"]));
        assert_eq!(body["metadata"]["resourceVersion"], "77");
    }
}
