//! Deletes: an ordinary delete guarded by the object's UID, and a pod force-delete (grace period
//! 0) guarded by UID and resourceVersion, so a pod recreated under the same name is never hit.

use http::Method;
use kube_runbook::{Error, cli::Connection};
use serde_json::{Value, json};

use super::request::{Change, Outcome, send};
use crate::inventory::MetaObject;

/// DeleteOptions for an ordinary delete of this very object.
pub fn delete_options(object: &MetaObject) -> Value {
    json!({
        "kind": "DeleteOptions",
        "apiVersion": "v1",
        "preconditions": {"uid": object.uid()},
    })
}

/// DeleteOptions for a force delete: grace period 0, this object at this version only.
pub fn force_delete_options(pod: &MetaObject) -> Value {
    json!({
        "kind": "DeleteOptions",
        "apiVersion": "v1",
        "gracePeriodSeconds": 0,
        "preconditions": {"uid": pod.uid(), "resourceVersion": pod.meta.resource_version},
    })
}

/// Sends a delete with `options`.
pub async fn delete(
    conn: &Connection,
    object: &MetaObject,
    options: Value,
    dry_run: bool,
) -> Result<Outcome, Error> {
    send(
        conn,
        Change {
            method: Method::DELETE,
            object,
            subresource: None,
            content_type: "application/json",
            body: options,
            verb: "delete",
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
    fn force_delete_is_grace_zero_with_both_preconditions() {
        let pod = MetaObject::of_kind(
            Kind::Pod,
            &serde_json::from_value(
                json!({"name": "web-0", "namespace": "shop", "uid": "u1", "resourceVersion": "9"}),
            )
            .unwrap(),
        );
        let options = force_delete_options(&pod);
        assert_eq!(options["gracePeriodSeconds"], 0);
        assert_eq!(
            options["preconditions"],
            json!({"uid": "u1", "resourceVersion": "9"})
        );
        assert_eq!(delete_options(&pod)["preconditions"], json!({"uid": "u1"}));
    }
}
