//! When an object's deletion was asked for and how overdue it is: `deletionTimestamp` is the
//! deadline (request time plus the grace period), so the request time is the deadline minus
//! `deletionGracePeriodSeconds`.

use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube_runbook::report::{Finding, Severity};
use serde_json::json;

use super::cause::{elapsed, for_how_long};
use crate::inventory::MetaObject;

/// The deletion of one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deletion {
    /// When the delete request arrived.
    pub requested_at: Timestamp,
    /// `metadata.deletionTimestamp`: when the object was expected to be gone.
    pub deadline: Timestamp,
    /// `metadata.deletionGracePeriodSeconds` (0 once the kubelet, or a force delete, is done).
    pub grace_seconds: i64,
}

impl Deletion {
    pub fn of(object: &MetaObject) -> Option<Deletion> {
        let deadline = object.deletion_timestamp()?;
        let grace_seconds = object.meta.deletion_grace_period_seconds.unwrap_or(0);
        let requested_at = deadline
            .checked_sub(SignedDuration::from_secs(grace_seconds.max(0)))
            .unwrap_or(deadline);
        Some(Deletion {
            requested_at,
            deadline,
            grace_seconds,
        })
    }

    /// Whether the grace period is still running at `now`.
    pub fn in_grace_period(&self, now: Timestamp) -> bool {
        now < self.deadline
    }
}

/// A finding about a terminating object: "Terminating for 5m: `cause`", with its timing as details.
pub fn terminating_finding(
    object: &MetaObject,
    now: Timestamp,
    severity: Severity,
    code: &str,
    cause: &str,
) -> Finding {
    let deletion = Deletion::of(object);
    let title = format!(
        "{}: {cause}",
        for_how_long("Terminating", deletion.map(|d| d.requested_at), now)
    );
    Finding::new(severity, object.reference(), code, title).details(timing_details(object, now))
}

/// `deletionTimestamp`, how long ago deletion was asked for, and the finalizers, as details.
pub fn timing_details(object: &MetaObject, now: Timestamp) -> serde_json::Value {
    let mut details = json!({"finalizers": object.finalizers()});
    if let Some(deletion) = Deletion::of(object) {
        details["deletionTimestamp"] = json!(deletion.deadline.to_string());
        details["gracePeriodSeconds"] = json!(deletion.grace_seconds);
        if let Some(duration) = elapsed(deletion.requested_at, now) {
            details["terminatingForSeconds"] = json!(duration.as_secs());
        }
    }
    details
}

#[cfg(test)]
mod tests {
    use kube_runbook::state::Kind;
    use serde_json::json;

    use super::*;

    #[test]
    fn request_time_is_the_deadline_minus_the_grace_period() {
        let meta = serde_json::from_value(json!({
            "name": "web-0", "namespace": "shop",
            "deletionTimestamp": "2026-01-01T00:00:30Z", "deletionGracePeriodSeconds": 30,
            "finalizers": ["example.com/hold"],
        }))
        .unwrap();
        let pod = MetaObject::of_kind(Kind::Pod, &meta);
        let deletion = Deletion::of(&pod).unwrap();
        assert_eq!(deletion.requested_at.to_string(), "2026-01-01T00:00:00Z");
        let now: Timestamp = "2026-01-01T00:05:00Z".parse().unwrap();
        assert!(!deletion.in_grace_period(now));
        assert!(deletion.in_grace_period("2026-01-01T00:00:10Z".parse().unwrap()));
        let finding = terminating_finding(&pod, now, Severity::Error, "x", "node gone");
        assert_eq!(finding.title, "Terminating for 5m: node gone");
        assert_eq!(finding.details["terminatingForSeconds"], 300);
        assert_eq!(finding.details["finalizers"], json!(["example.com/hold"]));
    }
}
