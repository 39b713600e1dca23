//! Raw requests on one object: read it whole (for the backup), and send a change whose answer is
//! sorted into done, changed-meanwhile (conflict or failed precondition), or already gone.

use http::{Method, Request, header::CONTENT_TYPE};
use kube_runbook::{
    Error,
    cli::{ApiContext, Connection, from_kube_error},
};
use serde_json::Value;

use crate::inventory::MetaObject;

/// The field manager recorded for every change.
const FIELD_MANAGER: &str = "kubectl-unstick";

/// How a change ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// The object changed since it was read; the API server's words.
    Changed(String),
    /// The object was found changed since diagnosis before anything was sent; why.
    Stale(String),
    /// The object no longer exists (or is another object of the same name).
    Gone,
}

/// `/api/v1/namespaces/shop/pods/web-0` (+ `/subresource`).
pub fn object_path(object: &MetaObject, subresource: Option<&str>) -> String {
    let base = format!(
        "{}/{}",
        object.resource.collection_path(object.namespace()),
        object.name()
    );
    match subresource {
        Some(sub) => format!("{base}/{sub}"),
        None => base,
    }
}

/// The object as the API server holds it now, or None when it is gone.
pub async fn read(conn: &Connection, object: &MetaObject) -> Result<Option<Value>, Error> {
    let request = Request::builder()
        .method(Method::GET)
        .uri(object_path(object, None))
        .body(Vec::new())
        .map_err(|e| Error::Output(e.to_string()))?;
    match conn.client.request::<Value>(request).await {
        Ok(value) => Ok(Some(value)),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(None),
        Err(err) => Err(from_kube_error(err, &context(conn, object, "get"))),
    }
}

/// A change to send.
pub struct Change<'a> {
    pub method: Method,
    pub object: &'a MetaObject,
    pub subresource: Option<&'a str>,
    pub content_type: &'a str,
    pub body: Value,
    /// The RBAC verb, to name it if the API server refuses.
    pub verb: &'static str,
    pub dry_run: bool,
}

/// Sends `change`; a failed precondition (409) becomes [`Outcome::Changed`], a missing object
/// [`Outcome::Gone`].
pub async fn send(conn: &Connection, change: Change<'_>) -> Result<Outcome, Error> {
    let mut query = Vec::new();
    if change.dry_run {
        query.push("dryRun=All".to_string());
    }
    if change.method != Method::DELETE {
        query.push(format!("fieldManager={FIELD_MANAGER}"));
    }
    let mut uri = object_path(change.object, change.subresource);
    if !query.is_empty() {
        uri = format!("{uri}?{}", query.join("&"));
    }
    let body = serde_json::to_vec(&change.body).map_err(|e| Error::Output(e.to_string()))?;
    let request = Request::builder()
        .method(change.method.clone())
        .uri(uri)
        .header(CONTENT_TYPE, change.content_type)
        .body(body)
        .map_err(|e| Error::Output(e.to_string()))?;
    match conn.client.request::<Value>(request).await {
        Ok(_) => Ok(Outcome::Done),
        Err(kube::Error::Api(status)) => match status.code {
            404 => Ok(Outcome::Gone),
            409 => Ok(Outcome::Changed(status.message.clone())),
            _ => Err(from_kube_error(
                kube::Error::Api(status),
                &context(conn, change.object, change.verb),
            )),
        },
        Err(err) => Err(from_kube_error(
            err,
            &context(conn, change.object, change.verb),
        )),
    }
}

fn context(conn: &Connection, object: &MetaObject, verb: &'static str) -> ApiContext {
    ApiContext {
        server: conn.server.clone(),
        verb,
        resource: object.resource.qualified(),
        namespace: object.namespace().map(str::to_string),
        name: Some(object.name().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use kube_runbook::state::Kind;
    use serde_json::json;

    use super::*;

    #[test]
    fn paths_of_objects_and_subresources() {
        let ns = MetaObject::of_kind(
            Kind::Namespace,
            &serde_json::from_value(json!({"name": "shop"})).unwrap(),
        );
        assert_eq!(
            object_path(&ns, Some("finalize")),
            "/api/v1/namespaces/shop/finalize"
        );
        let pod = MetaObject::of_kind(
            Kind::Pod,
            &serde_json::from_value(json!({"name": "web-0", "namespace": "shop"})).unwrap(),
        );
        assert_eq!(
            object_path(&pod, None),
            "/api/v1/namespaces/shop/pods/web-0"
        );
    }
}
