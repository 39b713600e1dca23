//! Deletes, an ordinary one and a pod force-delete (grace period 0), both guarded by the object's
//! UID and resourceVersion: an object recreated under the same name, or changed since it was
//! diagnosed, is never deleted.

use http::Method;
use kube_runbook::{Error, cli::Connection};
use serde_json::{Value, json};

use super::request::{Change, Outcome, send};
use crate::inventory::MetaObject;

/// DeleteOptions for an ordinary delete: this object at this version only.
pub fn delete_options(object: &MetaObject) -> Value {
    json!({
        "kind": "DeleteOptions",
        "apiVersion": "v1",
        "preconditions": this_version(object),
    })
}

/// DeleteOptions for a force delete: grace period 0, this object at this version only.
pub fn force_delete_options(pod: &MetaObject) -> Value {
    json!({
        "kind": "DeleteOptions",
        "apiVersion": "v1",
        "gracePeriodSeconds": 0,
        "preconditions": this_version(pod),
    })
}

/// Preconditions that fail (409) unless the object is the one diagnosed, unchanged.
fn this_version(object: &MetaObject) -> Value {
    json!({"uid": object.uid(), "resourceVersion": object.meta.resource_version})
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
    fn deletes_are_guarded_by_uid_and_resource_version() {
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
        assert_eq!(
            delete_options(&pod)["preconditions"],
            json!({"uid": "u1", "resourceVersion": "9"})
        );
        assert!(delete_options(&pod).get("gracePeriodSeconds").is_none());
    }
}
