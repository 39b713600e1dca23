//! The namespace controller's deletion conditions and the details in their messages. Conditions
//! are matched on type and status; messages only supply the lists they carry:
//! `... server APIs: metrics.k8s.io/v1beta1: the server is currently unable to handle the request`,
//! `Some resources are remaining: pods. has 1 resource instances, ...`,
//! `Some finalizers are remaining: example.com/hold in 2 resource instances, ...`,
//! `Failed to delete all resource types, 1 remaining: admission webhook "x" denied the request: ...`.

use k8s_openapi::api::core::v1::{Namespace, NamespaceCondition};

pub const DISCOVERY_FAILURE: &str = "NamespaceDeletionDiscoveryFailure";
pub const GROUP_VERSION_PARSING_FAILURE: &str = "NamespaceDeletionGroupVersionParsingFailure";
pub const CONTENT_FAILURE: &str = "NamespaceDeletionContentFailure";
pub const CONTENT_REMAINING: &str = "NamespaceContentRemaining";
pub const FINALIZERS_REMAINING: &str = "NamespaceFinalizersRemaining";

/// The condition `type_` when it is True (the failing variant), else None.
pub fn failing<'a>(namespace: &'a Namespace, type_: &str) -> Option<&'a NamespaceCondition> {
    namespace
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_ && c.status == "True")
}

/// `(group/version, error)` pairs of a discovery failure message.
pub fn failing_group_versions(message: &str) -> Vec<(String, String)> {
    let list = message
        .split_once("server APIs: ")
        .map(|(_, rest)| rest)
        .unwrap_or(message);
    let mut failures: Vec<(String, String)> = Vec::new();
    for piece in list.split(", ") {
        match piece.split_once(": ") {
            Some((gv, error)) if is_group_version(gv) => {
                failures.push((gv.to_string(), error.to_string()))
            }
            _ => {
                if let Some((_, error)) = failures.last_mut() {
                    error.push_str(", ");
                    error.push_str(piece);
                }
            }
        }
    }
    failures
}

fn is_group_version(text: &str) -> bool {
    text.split_once('/').is_some_and(|(group, version)| {
        !group.is_empty()
            && !version.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '/'))
    })
}

/// `(resource.group, count)` of a NamespaceContentRemaining message.
pub fn remaining_resources(message: &str) -> Vec<(String, u64)> {
    items(message)
        .filter_map(|item| {
            let (resource, count) = item.split_once(" has ")?;
            let count = count.split_whitespace().next()?.parse().ok()?;
            Some((resource.to_string(), count))
        })
        .collect()
}

/// `(finalizer, count)` of a NamespaceFinalizersRemaining message.
pub fn remaining_finalizers(message: &str) -> Vec<(String, u64)> {
    items(message)
        .filter_map(|item| {
            let (finalizer, count) = item.rsplit_once(" in ")?;
            let count = count.split_whitespace().next()?.parse().ok()?;
            Some((finalizer.to_string(), count))
        })
        .collect()
}

/// How many resource types failed and their errors, of a NamespaceDeletionContentFailure message.
pub fn failed_deletions(message: &str) -> Option<(u64, &str)> {
    let (head, errors) = message.split_once(" remaining: ")?;
    let count = head.rsplit(", ").next()?.parse().ok()?;
    Some((count, errors))
}

/// The admission webhook an API error names (`admission webhook "NAME" denied the request`,
/// `failed calling webhook "NAME"`).
pub fn webhook_named(error: &str) -> Option<&str> {
    let (_, rest) = error.split_once("webhook \"")?;
    rest.split_once('"').map(|(name, _)| name)
}

fn items(message: &str) -> impl Iterator<Item = &str> {
    message
        .split_once(": ")
        .map(|(_, list)| list)
        .unwrap_or_default()
        .split(", ")
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_discovery_failures() {
        let message = "Discovery failed for some groups, 2 failing: unable to retrieve the complete list of server APIs: \
                       custom.metrics.k8s.io/v1beta1: stale GroupVersion discovery: custom.metrics.k8s.io/v1beta1, \
                       metrics.k8s.io/v1beta1: the server is currently unable to handle the request";
        assert_eq!(
            failing_group_versions(message),
            vec![
                (
                    "custom.metrics.k8s.io/v1beta1".to_string(),
                    "stale GroupVersion discovery: custom.metrics.k8s.io/v1beta1".to_string()
                ),
                (
                    "metrics.k8s.io/v1beta1".to_string(),
                    "the server is currently unable to handle the request".to_string()
                ),
            ]
        );
    }

    #[test]
    fn errors_with_commas_stay_whole() {
        let message = "unable to retrieve the complete list of server APIs: a.example.com/v1: boom, really, a.b/c";
        let failures = failing_group_versions(message);
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].1, "boom, really, a.b/c");
    }

    #[test]
    fn parses_remaining_content_and_finalizers() {
        assert_eq!(
            remaining_resources(
                "Some resources are remaining: pods. has 1 resource instances, widgets.example.com has 2 resource instances"
            ),
            vec![
                ("pods.".to_string(), 1),
                ("widgets.example.com".to_string(), 2)
            ]
        );
        assert_eq!(
            remaining_finalizers(
                "Some finalizers are remaining: example.com/hold in 2 resource instances, kubernetes.io/pvc-protection in 1 resource instances"
            ),
            vec![
                ("example.com/hold".to_string(), 2),
                ("kubernetes.io/pvc-protection".to_string(), 1)
            ]
        );
        assert!(remaining_resources("All content successfully removed").is_empty());
    }

    #[test]
    fn parses_content_deletion_failures_and_the_webhook_they_name() {
        let message = "Failed to delete all resource types, 1 remaining: admission webhook \"deny-delete.example.com\" denied the request: widgets are locked";
        let (count, errors) = failed_deletions(message).unwrap();
        assert_eq!(count, 1);
        assert_eq!(
            errors,
            "admission webhook \"deny-delete.example.com\" denied the request: widgets are locked"
        );
        assert_eq!(webhook_named(errors), Some("deny-delete.example.com"));
        assert_eq!(
            webhook_named(
                "Internal error occurred: failed calling webhook \"v.example.com\": connection refused"
            ),
            Some("v.example.com")
        );
        assert_eq!(
            failed_deletions("All content successfully deleted, may be waiting on finalization"),
            None
        );
    }
}
