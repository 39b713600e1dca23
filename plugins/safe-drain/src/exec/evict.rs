//! One eviction: the `policy/v1` Eviction with a UID precondition (so a pod recreated with the
//! same name is never evicted by mistake), and its answer read the way the API server means it.

use std::time::Duration;

use kube::{Client, core::Status};
use serde_json::json;

/// What the API server said to an eviction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The pod is being deleted.
    Accepted,
    /// The pod is already gone, or the name now belongs to a new pod (UID precondition failed).
    Gone(&'static str),
    /// A PodDisruptionBudget refused (429 with a `DisruptionBudget` cause, or 403 for a
    /// negative budget): retry after a back-off.
    RefusedByBudget {
        /// The budget, when the cause names it.
        budget: Option<String>,
        /// The cause as the API server worded it.
        cause: String,
    },
    /// The API server is shedding load (429 from priority and fairness, 503/504): not a budget.
    Throttled {
        retry_after: Option<Duration>,
        message: String,
    },
    /// The pod is selected by more than one budget: the Eviction API answers 500 for ever.
    MultipleBudgets(String),
    /// Any other refusal; not retried.
    Failed { code: u16, message: String },
}

/// The options of one eviction.
#[derive(Debug, Clone, Copy)]
pub struct EvictOptions {
    pub grace_period: Option<u32>,
    pub dry_run: bool,
}

/// POSTs the eviction of pod `namespace/name` with `uid` as precondition.
pub async fn evict(
    client: &Client,
    namespace: &str,
    name: &str,
    uid: &str,
    options: EvictOptions,
) -> Result<Answer, kube::Error> {
    let mut delete_options = json!({"preconditions": {"uid": uid}});
    if let Some(seconds) = options.grace_period {
        delete_options["gracePeriodSeconds"] = json!(seconds);
    }
    if options.dry_run {
        delete_options["dryRun"] = json!(["All"]);
    }
    let body = json!({
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": name, "namespace": namespace},
        "deleteOptions": delete_options,
    });
    let query = if options.dry_run { "?dryRun=All" } else { "" };
    let request = http::Request::post(format!(
        "/api/v1/namespaces/{namespace}/pods/{name}/eviction{query}"
    ))
    .header(http::header::CONTENT_TYPE, "application/json")
    .body(body.to_string().into_bytes())
    .map_err(|e| kube::Error::BuildRequest(kube::core::request::Error::BuildRequest(e)))?;
    match client.request_text(request).await {
        Ok(_) => Ok(Answer::Accepted),
        Err(kube::Error::Api(status)) => Ok(read_refusal(&status)),
        Err(other) => Err(other),
    }
}

/// Reads an error answer of the Eviction API (`pkg/registry/core/pod/storage/eviction.go`).
pub fn read_refusal(status: &Status) -> Answer {
    let budget_cause = status
        .details
        .as_ref()
        .into_iter()
        .flat_map(|d| d.causes.iter())
        .find(|c| c.reason == "DisruptionBudget")
        .map(|c| c.message.clone());
    let retry_after = status
        .details
        .as_ref()
        .map(|d| d.retry_after_seconds)
        .filter(|s| *s > 0)
        .map(|s| Duration::from_secs(u64::from(s)));
    match (status.code, budget_cause) {
        (404, _) => Answer::Gone("already gone"),
        (409, _) if status.message.contains("UID in the precondition") => {
            Answer::Gone("replaced by a new pod with the same name")
        }
        (429 | 403, Some(cause)) => Answer::RefusedByBudget {
            budget: budget_name(&cause),
            cause,
        },
        (429 | 503 | 504, None) => Answer::Throttled {
            retry_after,
            message: status.message.clone(),
        },
        (500, _) if status.message.contains("more than one PodDisruptionBudget") => {
            Answer::MultipleBudgets(status.message.clone())
        }
        (code, _) => Answer::Failed {
            code,
            message: status.message.clone(),
        },
    }
}

/// `The disruption budget web needs 2 healthy pods...` -> `web`.
fn budget_name(cause: &str) -> Option<String> {
    let rest = cause.strip_prefix("The disruption budget ")?;
    rest.split_whitespace().next().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(value: serde_json::Value) -> Status {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn tells_a_budget_refusal_from_rate_limiting() {
        let budget = status(json!({
            "code": 429, "reason": "TooManyRequests",
            "message": "Cannot evict pod as it would violate the pod's disruption budget.",
            "details": {"causes": [{"reason": "DisruptionBudget", "message": "The disruption budget web needs 2 healthy pods and has 2 currently"}]},
        }));
        assert_eq!(
            read_refusal(&budget),
            Answer::RefusedByBudget {
                budget: Some("web".into()),
                cause: "The disruption budget web needs 2 healthy pods and has 2 currently".into()
            }
        );
        let apf =
            status(json!({"code": 429, "message": "Too many requests, please try again later."}));
        assert!(matches!(
            read_refusal(&apf),
            Answer::Throttled {
                retry_after: None,
                ..
            }
        ));
        let stale = status(json!({
            "code": 429, "message": "Cannot evict pod as it would violate the pod's disruption budget.",
            "details": {"retryAfterSeconds": 10, "causes": [{"reason": "DisruptionBudget", "message": "The disruption budget web is still being processed by the server."}]},
        }));
        assert!(
            matches!(read_refusal(&stale), Answer::RefusedByBudget { budget: Some(b), .. } if b == "web")
        );
    }

    #[test]
    fn gone_pods_and_replaced_names_end_the_eviction() {
        assert_eq!(
            read_refusal(&status(
                json!({"code": 404, "message": "pods \"x\" not found"})
            )),
            Answer::Gone("already gone")
        );
        let conflict = status(
            json!({"code": 409, "message": "Operation cannot be fulfilled on Pod \"db-0\": the UID in the precondition (a) does not match the UID in record (b). The object might have been deleted and then recreated"}),
        );
        assert_eq!(
            read_refusal(&conflict),
            Answer::Gone("replaced by a new pod with the same name")
        );
    }

    #[test]
    fn two_budgets_and_other_errors_are_final() {
        let multi = status(
            json!({"code": 500, "message": "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."}),
        );
        assert!(matches!(read_refusal(&multi), Answer::MultipleBudgets(_)));
        let forbidden = status(
            json!({"code": 403, "message": "pods \"x\" is forbidden: User \"v\" cannot create resource \"pods/eviction\""}),
        );
        assert!(matches!(
            read_refusal(&forbidden),
            Answer::Failed { code: 403, .. }
        ));
    }
}
