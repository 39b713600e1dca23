//! JSON patches guarded by the resourceVersion seen at diagnosis: a `test` of
//! `/metadata/resourceVersion` first, so a concurrent change makes the patch fail instead of being
//! overwritten. Finalizers are removed one at a time, by index, after a `test` of that index's value.

use http::Method;
use k8s_openapi::jiff::Timestamp;
use kube_runbook::{Error, cli::Connection};
use serde_json::{Value, json};

use super::{
    plan::{OUT_OF_SERVICE_TAINT, OUT_OF_SERVICE_VALUE},
    request::{Change, Outcome, read, send},
};
use crate::inventory::MetaObject;

const JSON_PATCH: &str = "application/json-patch+json";

/// The operations that remove `finalizer` at `index`, guarded by the object's resourceVersion.
pub fn remove_finalizer_ops(object: &MetaObject, finalizer: &str, index: usize) -> Value {
    let path = format!("/metadata/finalizers/{index}");
    with_guard(
        object,
        vec![
            json!({"op": "test", "path": path, "value": finalizer}),
            json!({"op": "remove", "path": path}),
        ],
    )
}

/// The operations that add the out-of-service taint to `node` (whose current JSON is `current`).
pub fn taint_ops(node: &MetaObject, current: &Value, now: Timestamp) -> Value {
    let taint = json!({
        "key": OUT_OF_SERVICE_TAINT,
        "value": OUT_OF_SERVICE_VALUE,
        "effect": "NoExecute",
        "timeAdded": now.to_string(),
    });
    let add = match current.pointer("/spec/taints") {
        Some(Value::Array(_)) => json!({"op": "add", "path": "/spec/taints/-", "value": taint}),
        _ if current.pointer("/spec").is_some_and(Value::is_object) => {
            json!({"op": "add", "path": "/spec/taints", "value": [taint]})
        }
        _ => json!({"op": "add", "path": "/spec", "value": {"taints": [taint]}}),
    };
    with_guard(node, vec![add])
}

/// The operations that set `spec.replicas` to 0.
pub fn scale_to_zero_ops(workload: &MetaObject) -> Value {
    with_guard(
        workload,
        vec![json!({"op": "add", "path": "/spec/replicas", "value": 0})],
    )
}

fn with_guard(object: &MetaObject, ops: Vec<Value>) -> Value {
    let mut all = vec![json!({
        "op": "test",
        "path": "/metadata/resourceVersion",
        "value": object.meta.resource_version.clone().unwrap_or_default(),
    })];
    all.extend(ops);
    Value::Array(all)
}

/// Sends a guarded JSON patch. The API server answers a failed `test` with a bare 422
/// ("an error in our request"), so a 422 is told apart from an invalid patch by reading the
/// object again: a new resourceVersion means it changed meanwhile.
pub async fn apply(
    conn: &Connection,
    object: &MetaObject,
    ops: Value,
    dry_run: bool,
) -> Result<Outcome, Error> {
    let sent = send(
        conn,
        Change {
            method: Method::PATCH,
            object,
            subresource: None,
            content_type: JSON_PATCH,
            body: ops,
            verb: "patch",
            dry_run,
        },
    )
    .await;
    let Err(Error::Api { code: 422, message }) = sent else {
        return sent;
    };
    let Some(current) = read(conn, object).await? else {
        return Ok(Outcome::Gone);
    };
    let seen = object.meta.resource_version.as_deref().unwrap_or_default();
    match current
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
    {
        Some(now) if now != seen => Ok(Outcome::Changed(format!(
            "resourceVersion is now {now}, not {seen} as diagnosed"
        ))),
        _ => Err(Error::Api { code: 422, message }),
    }
}

#[cfg(test)]
mod tests {
    use kube_runbook::state::Kind;

    use super::*;

    fn object(kind: Kind, extra: Value) -> MetaObject {
        let mut meta = json!({"name": "x", "resourceVersion": "41"});
        if let (Some(meta), Some(extra)) = (meta.as_object_mut(), extra.as_object()) {
            meta.extend(extra.clone());
        }
        MetaObject::of_kind(kind, &serde_json::from_value(meta).unwrap())
    }

    #[test]
    fn finalizer_removal_tests_version_and_value_before_removing_the_index() {
        let widget = object(
            Kind::ConfigMap,
            json!({"namespace": "shop", "finalizers": ["a", "b"]}),
        );
        assert_eq!(
            remove_finalizer_ops(&widget, "b", 1),
            json!([
                {"op": "test", "path": "/metadata/resourceVersion", "value": "41"},
                {"op": "test", "path": "/metadata/finalizers/1", "value": "b"},
                {"op": "remove", "path": "/metadata/finalizers/1"},
            ])
        );
    }

    #[test]
    fn taint_is_appended_or_creates_the_list() {
        let node = object(Kind::Node, json!({}));
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let with_taints = taint_ops(
            &node,
            &json!({"spec": {"taints": [{"key": "a", "effect": "NoSchedule"}]}}),
            now,
        );
        assert_eq!(with_taints[1]["path"], "/spec/taints/-");
        assert_eq!(with_taints[1]["value"]["key"], OUT_OF_SERVICE_TAINT);
        assert_eq!(with_taints[1]["value"]["timeAdded"], "2026-01-01T00:00:00Z");
        let bare = taint_ops(&node, &json!({"spec": {}}), now);
        assert_eq!(bare[1]["path"], "/spec/taints");
        let no_spec = taint_ops(&node, &json!({}), now);
        assert_eq!(no_spec[1]["path"], "/spec");
    }

    #[test]
    fn scale_sets_replicas() {
        let sts = object(Kind::StatefulSet, json!({"namespace": "shop"}));
        assert_eq!(
            scale_to_zero_ops(&sts)[1],
            json!({"op": "add", "path": "/spec/replicas", "value": 0})
        );
    }
}
