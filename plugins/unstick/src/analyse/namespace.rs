//! Namespaces stuck in Terminating: the namespace controller's conditions turned into causes
//! (an unavailable API, content that remains and what holds it, pods gating the rest under
//! ordered namespace deletion), and `/finalize` as the very last step, listing what it strands.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Namespace;
use kube_runbook::{
    report::{ObjectRef, Remedy, Severity, Source},
    state::Origin,
};

use super::{
    Ctx, Diagnosis, apiservice,
    cause::Cause,
    namespace_conditions::{
        CONTENT_FAILURE, CONTENT_REMAINING, DISCOVERY_FAILURE, FINALIZERS_REMAINING,
        GROUP_VERSION_PARSING_FAILURE, failed_deletions, failing, failing_group_versions,
        remaining_finalizers, remaining_resources, webhook_named,
    },
    terminating::terminating_finding,
};
use crate::{
    fix::plan::{Action, NAMESPACE_FINALIZER, Rung, Step},
    inventory::MetaObject,
};

/// How many remaining objects are diagnosed one by one (and listed as stranded).
const OBJECTS_SHOWN: usize = 20;

/// Explains why namespace `subject` is still Terminating.
pub fn analyse(ctx: &Ctx, subject: &MetaObject, out: &mut Diagnosis) {
    if subject.deletion_timestamp().is_none() {
        return;
    }
    let Some(namespace) = ctx.inv.namespace(subject.name()) else {
        return;
    };
    let mut causes = Vec::new();
    let unavailable = unavailable_apis(ctx, subject, namespace, &mut causes);
    if let Some(condition) = failing(namespace, GROUP_VERSION_PARSING_FAILURE) {
        causes.push(condition_cause(
            ctx,
            subject,
            "namespace-group-version-parsing-failure",
            "an API group version cannot be parsed, so the namespace controller cannot list all content",
            GROUP_VERSION_PARSING_FAILURE,
            condition.message.as_deref().unwrap_or_default(),
        ));
    }
    if let Some(condition) = failing(namespace, CONTENT_FAILURE) {
        causes.push(content_deletion_failed(
            ctx,
            subject,
            condition.message.as_deref().unwrap_or_default(),
        ));
    }
    let remaining: Vec<&MetaObject> = ctx
        .inv
        .objects_in(subject.name())
        .filter(|o| !is_event(o))
        .collect();
    let nested: Vec<Diagnosis> = remaining
        .iter()
        .filter(|o| o.deletion_timestamp().is_some())
        .take(OBJECTS_SHOWN)
        .filter_map(|o| ctx.nested(o))
        .collect();
    let severity = if nested.iter().any(Diagnosis::is_stuck) {
        Severity::Error
    } else {
        ctx.severity(subject)
    };
    if let Some(cause) = content_cause(ctx, subject, namespace, &remaining, severity) {
        causes.push(cause);
    }
    for diagnosis in nested {
        out.absorb(diagnosis);
    }
    let holds_token = namespace
        .spec
        .iter()
        .flat_map(|s| s.finalizers.iter().flatten())
        .any(|f| f == NAMESPACE_FINALIZER);
    if !holds_token {
        causes.into_iter().for_each(|c| out.add(c));
        return;
    }
    if causes.is_empty() {
        causes.push(finalize_pending(ctx, subject));
    }
    let finalize = finalize_step(subject, &remaining, &unavailable);
    if let Some(first) = causes.first_mut() {
        first.steps.push(finalize);
    }
    causes.into_iter().for_each(|c| out.add(c));
}

/// One cause per group version whose discovery fails now (live) or failed at the controller's last
/// try; returns the failing group versions.
fn unavailable_apis(
    ctx: &Ctx,
    subject: &MetaObject,
    namespace: &Namespace,
    causes: &mut Vec<Cause>,
) -> Vec<String> {
    let live = matches!(ctx.inv.state.origin, Origin::Live { .. });
    let condition = failing(namespace, DISCOVERY_FAILURE);
    let from_condition = condition
        .and_then(|c| c.message.as_deref())
        .map(failing_group_versions)
        .unwrap_or_default();
    let mut failures: BTreeMap<String, String> = ctx
        .inv
        .discovery_failures
        .iter()
        .map(|f| (f.group_version.clone(), f.message.clone()))
        .collect();
    for (group_version, error) in &from_condition {
        if live && !failures.contains_key(group_version) {
            causes.push(Cause::new(
                terminating_finding(
                    subject,
                    ctx.now(),
                    Severity::Info,
                    "namespace-discovery-recovered",
                    &format!(
                        "discovery of {group_version} failed at the namespace controller's last try but works now; it retries within a minute"
                    ),
                )
                .evidence(
                    error.clone(),
                    condition_source(subject, DISCOVERY_FAILURE, "DiscoveryFailed"),
                ),
            ));
        } else {
            failures
                .entry(group_version.clone())
                .or_insert_with(|| error.clone());
        }
    }
    for (group_version, error) in &failures {
        let outage = apiservice::explain(ctx.inv, group_version, error);
        let mut finding = terminating_finding(
            subject,
            ctx.now(),
            Severity::Error,
            "namespace-blocked-by-unavailable-api",
            &format!("API {group_version} is unavailable, so the namespace controller cannot make sure the namespace is empty: {}", outage.summary),
        )
        .explain(
            "Before it finalizes a namespace, the namespace controller must list every namespaced resource \
             type of every API group. While one group fails discovery it cannot know whether objects of \
             that group remain, so it never finishes, even in an empty namespace. Repair or remove the API.",
        );
        if let Some(condition) = condition {
            finding = finding.evidence(
                condition.message.clone().unwrap_or_default(),
                condition_source(subject, DISCOVERY_FAILURE, "DiscoveryFailed"),
            );
        }
        for (fact, source) in outage.evidence {
            finding = finding.evidence(fact, source);
        }
        let mut cause = Cause::new(finding).steps(outage.steps);
        for advice in outage.advice {
            cause = cause.advice(advice);
        }
        causes.push(cause);
    }
    failures.into_keys().collect()
}

fn condition_cause(
    ctx: &Ctx,
    subject: &MetaObject,
    code: &str,
    cause: &str,
    condition_type: &str,
    message: &str,
) -> Cause {
    Cause::new(
        terminating_finding(subject, ctx.now(), ctx.severity(subject), code, cause)
            .explain("The namespace controller reports it in the namespace's conditions; the message names the API or object at fault.")
            .evidence(message.to_string(), condition_source(subject, condition_type, "")),
    )
}

/// The namespace controller's delete requests fail: quote the errors, and name the admission
/// webhook when one denies them or cannot be reached.
fn content_deletion_failed(ctx: &Ctx, subject: &MetaObject, message: &str) -> Cause {
    let (count, errors) = failed_deletions(message).unwrap_or((0, message));
    let cause_text = match count {
        0 => format!("deleting some of its content fails: {errors}"),
        1 => format!("deleting 1 resource type fails: {errors}"),
        n => format!("deleting {n} resource types fails: {errors}"),
    };
    let cause = condition_cause(
        ctx,
        subject,
        "namespace-content-deletion-failed",
        &cause_text,
        CONTENT_FAILURE,
        message,
    );
    match webhook_named(errors) {
        Some(webhook) => cause.advice(Remedy::command(
            format!(
                "Admission webhook {webhook} rejects the namespace controller's deletes: fix its service, or delete the webhook configuration that names it"
            ),
            "kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations",
        )),
        None => cause,
    }
}

/// What is left in the namespace, by type, with the finalizers holding it.
fn content_cause(
    ctx: &Ctx,
    subject: &MetaObject,
    namespace: &Namespace,
    remaining: &[&MetaObject],
    severity: Severity,
) -> Option<Cause> {
    let condition_remaining = failing(namespace, CONTENT_REMAINING);
    if remaining.is_empty() && condition_remaining.is_none() {
        return None;
    }
    let mut by_type: BTreeMap<String, (usize, Vec<String>)> = BTreeMap::new();
    for object in remaining {
        let entry = by_type.entry(object.resource.qualified()).or_default();
        entry.0 += 1;
        for finalizer in object.finalizers() {
            if !entry.1.contains(finalizer) {
                entry.1.push(finalizer.clone());
            }
        }
    }
    let listing: Vec<String> = if remaining.is_empty() {
        last_seen_content(namespace)
    } else {
        by_type
            .iter()
            .map(|(resource, (count, finalizers))| {
                if finalizers.is_empty() {
                    format!("{count} {resource}")
                } else {
                    format!("{count} {resource} (finalizers {})", finalizers.join(", "))
                }
            })
            .collect()
    };
    let pods: Vec<&&MetaObject> = remaining
        .iter()
        .filter(|o| o.resource.is_core("Pod"))
        .collect();
    let waiting = remaining
        .iter()
        .filter(|o| !o.resource.is_core("Pod") && o.deletion_timestamp().is_none())
        .count();
    let mut finding = if !pods.is_empty() && waiting > 0 {
        terminating_finding(
            subject,
            ctx.now(),
            severity,
            "namespace-pods-gate-deletion",
            &format!(
                "{} pod(s) must go first: the other {waiting} object(s) are not deleted until then (ordered namespace deletion)",
                pods.len()
            ),
        )
        .explain(
            "With ordered namespace deletion (on by default since Kubernetes 1.33), the namespace \
             controller deletes pods first and touches nothing else until every pod is gone, so that \
             no pod outlives the policies and volumes it uses. One stuck pod holds the whole namespace.",
        )
    } else {
        let summary = if remaining.is_empty() {
            format!(
                "content remains, as the namespace controller last saw it: {}",
                listing.join(", ")
            )
        } else {
            format!(
                "{} object(s) remain: {}",
                remaining.len(),
                listing.join(", ")
            )
        };
        terminating_finding(subject, ctx.now(), severity, "namespace-content-remaining", &summary)
            .explain(
                "The namespace controller deleted its content, but these objects are still there, held by \
                 their finalizers (or not yet deleted). Each is diagnosed below.",
            )
    };
    for line in &listing {
        finding = finding.evidence(line.clone(), Source::Computed);
    }
    for pod in pods.iter().take(OBJECTS_SHOWN) {
        finding = finding.evidence(
            format!(
                "pod {} is {}",
                pod.name(),
                if pod.deletion_timestamp().is_some() {
                    "terminating"
                } else {
                    "not deleted yet"
                }
            ),
            Source::Object {
                object: pod.reference(),
            },
        );
    }
    for (type_, condition) in [
        (CONTENT_REMAINING, condition_remaining),
        (
            FINALIZERS_REMAINING,
            failing(namespace, FINALIZERS_REMAINING),
        ),
    ] {
        if let Some(condition) = condition {
            finding = finding.evidence(
                condition.message.clone().unwrap_or_default(),
                condition_source(
                    subject,
                    type_,
                    condition.reason.as_deref().unwrap_or_default(),
                ),
            );
        }
    }
    Some(Cause::new(finding))
}

/// The content the controller's conditions name, for when it cannot be listed (a snapshot).
fn last_seen_content(namespace: &Namespace) -> Vec<String> {
    let message = |type_| failing(namespace, type_).and_then(|c| c.message.as_deref());
    let resources = message(CONTENT_REMAINING)
        .map(remaining_resources)
        .unwrap_or_default()
        .into_iter()
        .map(|(resource, count)| format!("{count} {}", resource.trim_end_matches('.')));
    let finalizers = message(FINALIZERS_REMAINING)
        .map(remaining_finalizers)
        .unwrap_or_default()
        .into_iter()
        .map(|(finalizer, count)| format!("finalizer {finalizer} on {count}"));
    resources.chain(finalizers).collect()
}

fn finalize_pending(ctx: &Ctx, subject: &MetaObject) -> Cause {
    Cause::new(
        terminating_finding(
            subject,
            ctx.now(),
            ctx.severity(subject),
            "namespace-finalize-pending",
            "nothing seems to remain, but the namespace controller has not finalized it",
        )
        .explain(
            "The namespace controller in kube-controller-manager removes the \"kubernetes\" finalizer once \
             the namespace is empty and every API can be listed. If it has not, it may not be running, \
             or content exists that this user cannot list.",
        ),
    )
}

/// The last resort: `/finalize`, confirmed by typing the namespace's name.
fn finalize_step(subject: &MetaObject, remaining: &[&MetaObject], unavailable: &[String]) -> Step {
    let mut strands: Vec<String> = remaining
        .iter()
        .take(OBJECTS_SHOWN)
        .map(|o| o.reference().to_string())
        .collect();
    if remaining.len() > OBJECTS_SHOWN {
        strands.push(format!(
            "and {} more object(s)",
            remaining.len() - OBJECTS_SHOWN
        ));
    }
    strands.extend(
        unavailable
            .iter()
            .map(|gv| format!("any object of {gv} (it cannot be listed while unavailable)")),
    );
    let danger = if strands.is_empty() {
        "content this user cannot list stays in etcd, invisible, and reappears if a namespace of the same name is created".to_string()
    } else {
        format!(
            "strands in etcd, invisible, with their finalizers never run (they reappear if a namespace of the same name is created): {}",
            strands.join("; ")
        )
    };
    Step::new(
        Rung::Finalize,
        Action::FinalizeNamespace {
            namespace: subject.clone(),
            strands,
        },
        "the API server deletes the namespace without waiting for its content",
        danger,
    )
    .confirm_by_typing(subject.name())
}

fn is_event(object: &MetaObject) -> bool {
    object.resource.kind == "Event"
}

fn condition_source(subject: &MetaObject, type_: &str, reason: &str) -> Source {
    Source::Condition {
        object: ObjectRef::cluster("Namespace", subject.name()),
        condition_type: type_.to_string(),
        status: "True".into(),
        reason: (!reason.is_empty()).then(|| reason.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::{
        api::core::v1::{ConfigMap, Namespace, Pod},
        kube_aggregator::pkg::apis::apiregistration::v1::APIService,
    };
    use serde_json::json;

    use super::*;
    use crate::{
        analyse::{
            diagnose,
            testing::{add, from, inventory, node},
        },
        inventory::GroupFailure,
    };

    const NOW: &str = "2026-01-01T00:10:00Z";

    fn terminating_namespace(conditions: serde_json::Value) -> Namespace {
        from(json!({
            "metadata": {"name": "shop", "uid": "u-ns", "resourceVersion": "100", "deletionTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Terminating", "conditions": conditions},
        }))
    }

    fn subject(inv: &crate::inventory::Inventory) -> MetaObject {
        inv.object("", "Namespace", None, "shop").cloned().unwrap()
    }

    #[test]
    fn empty_namespace_held_by_an_unavailable_api() {
        let mut inv = inventory(NOW);
        add(
            &mut inv,
            terminating_namespace(json!([{
                "type": "NamespaceDeletionDiscoveryFailure", "status": "True", "reason": "DiscoveryFailed",
                "message": "Discovery failed for some groups, 1 failing: unable to retrieve the complete list of server APIs: metrics.k8s.io/v1beta1: the server is currently unable to handle the request",
            }])),
        );
        inv.state.api_services.push(from::<APIService>(json!({
            "metadata": {"name": "v1beta1.metrics.k8s.io", "uid": "u-api"},
            "spec": {"group": "metrics.k8s.io", "version": "v1beta1", "groupPriorityMinimum": 100, "versionPriority": 100,
                     "service": {"namespace": "kube-system", "name": "metrics-server"}},
        })));
        let d = diagnose(&inv, &subject(&inv));
        assert_eq!(d.findings[0].code, "namespace-blocked-by-unavailable-api");
        assert!(d.findings[0].title.starts_with(
            "Terminating for 10m: API metrics.k8s.io/v1beta1 is unavailable, so the namespace controller cannot make sure the namespace is empty: APIService v1beta1.metrics.k8s.io: service kube-system/metrics-server could not be read"
        ), "{}", d.findings[0].title);
        let ladder = d.ladder();
        let keys: Vec<String> = ladder.iter().map(Step::key).collect();
        assert_eq!(
            keys,
            vec![
                "delete APIService v1beta1.metrics.k8s.io",
                "finalize Namespace shop"
            ]
        );
        assert_eq!(ladder[1].typed_confirmation.as_deref(), Some("shop"));
        assert!(
            ladder[1]
                .danger
                .contains("any object of metrics.k8s.io/v1beta1"),
            "{}",
            ladder[1].danger
        );
    }

    #[test]
    fn live_failures_count_even_before_the_condition_shows_them() {
        let mut inv = inventory(NOW);
        inv.state.origin = Origin::Live {
            context: None,
            server: "https://x".into(),
        };
        add(&mut inv, terminating_namespace(json!([])));
        inv.discovery_failures.push(GroupFailure {
            group_version: "a.example.com/v1".into(),
            message: "the server is currently unable to handle the request".into(),
        });
        let d = diagnose(&inv, &subject(&inv));
        assert_eq!(d.findings[0].code, "namespace-blocked-by-unavailable-api");
        assert!(
            d.findings[0]
                .title
                .contains("no APIService v1.a.example.com serves it")
        );
    }

    #[test]
    fn recovered_discovery_is_only_info_when_live() {
        let mut inv = inventory(NOW);
        inv.state.origin = Origin::Live {
            context: None,
            server: "https://x".into(),
        };
        add(
            &mut inv,
            terminating_namespace(json!([{
                "type": "NamespaceDeletionDiscoveryFailure", "status": "True",
                "message": "unable to retrieve the complete list of server APIs: gone.example.com/v1: stale GroupVersion discovery: gone.example.com/v1",
            }])),
        );
        let d = diagnose(&inv, &subject(&inv));
        let codes: Vec<&str> = d.findings.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(codes, vec!["namespace-discovery-recovered"]);
        assert_eq!(d.findings[0].severity, Severity::Info);
    }

    #[test]
    fn a_stuck_pod_gates_the_rest_of_the_namespace() {
        let mut inv = inventory(NOW);
        inv.state
            .nodes
            .push(node("n1", "Unknown", "2026-01-01T00:00:00Z"));
        add(
            &mut inv,
            terminating_namespace(json!([{
                "type": "NamespaceContentRemaining", "status": "True", "reason": "SomeResourcesRemain",
                "message": "Some resources are remaining: pods. has 1 resource instances",
            }])),
        );
        add(
            &mut inv,
            from::<Pod>(json!({
                "metadata": {"name": "web-0", "namespace": "shop", "uid": "u-web", "deletionTimestamp": "2026-01-01T00:00:30Z", "deletionGracePeriodSeconds": 30},
                "spec": {"nodeName": "n1", "containers": []}, "status": {"phase": "Running"},
            })),
        );
        add(
            &mut inv,
            from::<ConfigMap>(
                json!({"metadata": {"name": "settings", "namespace": "shop", "uid": "u-cm"}}),
            ),
        );
        let d = diagnose(&inv, &subject(&inv));
        let codes: Vec<&str> = d.findings.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(
            codes,
            vec!["pod-node-unreachable", "namespace-pods-gate-deletion"]
        );
        assert_eq!(
            d.findings[1].title,
            "Terminating for 10m: 1 pod(s) must go first: the other 1 object(s) are not deleted until then (ordered namespace deletion)"
        );
        let keys: Vec<String> = d.ladder().iter().map(Step::key).collect();
        assert_eq!(
            keys,
            vec![
                "taint Node n1",
                "delete Node n1",
                "force-delete Pod shop/web-0",
                "finalize Namespace shop",
            ]
        );
    }

    #[test]
    fn a_webhook_denying_the_deletes_is_named() {
        let mut inv = inventory(NOW);
        add(
            &mut inv,
            terminating_namespace(json!([{
                "type": "NamespaceDeletionContentFailure", "status": "True", "reason": "ContentDeletionFailed",
                "message": "Failed to delete all resource types, 1 remaining: admission webhook \"deny-delete.example.com\" denied the request: configmaps are locked",
            }])),
        );
        let d = diagnose(&inv, &subject(&inv));
        let finding = &d.findings[0];
        assert_eq!(finding.code, "namespace-content-deletion-failed");
        assert_eq!(finding.severity, Severity::Error);
        assert_eq!(
            finding.title,
            "Terminating for 10m: deleting 1 resource type fails: admission webhook \"deny-delete.example.com\" denied the request: configmaps are locked"
        );
        assert!(matches!(
            &finding.evidence[0].source,
            Source::Condition { condition_type, .. } if condition_type == "NamespaceDeletionContentFailure"
        ));
        assert_eq!(
            finding.remediation[0].description,
            "Admission webhook deny-delete.example.com rejects the namespace controller's deletes: fix its service, or delete the webhook configuration that names it"
        );
        let keys: Vec<String> = d.ladder().iter().map(Step::key).collect();
        assert_eq!(
            keys,
            vec!["finalize Namespace shop"],
            "nothing but the last resort can be done from here"
        );
    }

    #[test]
    fn an_unparsable_group_version_is_quoted() {
        let mut inv = inventory(NOW);
        add(
            &mut inv,
            terminating_namespace(json!([{
                "type": "NamespaceDeletionGroupVersionParsingFailure", "status": "True", "reason": "GroupVersionParsingFailed",
                "message": "unexpected GroupVersion string: example.com/v1/extra",
            }])),
        );
        let d = diagnose(&inv, &subject(&inv));
        let finding = &d.findings[0];
        assert_eq!(finding.code, "namespace-group-version-parsing-failure");
        assert_eq!(
            finding.title,
            "Terminating for 10m: an API group version cannot be parsed, so the namespace controller cannot list all content"
        );
        assert_eq!(
            finding.evidence[0].fact,
            "unexpected GroupVersion string: example.com/v1/extra"
        );
    }

    #[test]
    fn unlisted_content_is_read_from_the_conditions() {
        let mut inv = inventory(NOW);
        add(
            &mut inv,
            terminating_namespace(json!([
                {"type": "NamespaceContentRemaining", "status": "True", "reason": "SomeResourcesRemain",
                 "message": "Some resources are remaining: widgets.example.com has 2 resource instances"},
                {"type": "NamespaceFinalizersRemaining", "status": "True", "reason": "SomeFinalizerRemain",
                 "message": "Some finalizers are remaining: example.com/cleanup in 2 resource instances"},
            ])),
        );
        let d = diagnose(&inv, &subject(&inv));
        assert_eq!(
            d.findings[0].title,
            "Terminating for 10m: content remains, as the namespace controller last saw it: 2 widgets.example.com, finalizer example.com/cleanup on 2"
        );
    }

    #[test]
    fn objects_held_by_finalizers_are_listed_with_them() {
        let mut inv = inventory(NOW);
        add(
            &mut inv,
            terminating_namespace(json!([{
                "type": "NamespaceFinalizersRemaining", "status": "True", "reason": "SomeFinalizerRemain",
                "message": "Some finalizers are remaining: example.com/cleanup in 1 resource instances",
            }])),
        );
        add(
            &mut inv,
            from::<ConfigMap>(json!({"metadata": {
                "name": "held", "namespace": "shop", "uid": "u-held", "deletionTimestamp": "2026-01-01T00:00:05Z",
                "finalizers": ["example.com/cleanup"],
            }})),
        );
        let d = diagnose(&inv, &subject(&inv));
        let remaining = d
            .findings
            .iter()
            .find(|f| f.code == "namespace-content-remaining")
            .unwrap();
        assert_eq!(
            remaining.title,
            "Terminating for 10m: 1 object(s) remain: 1 configmaps (finalizers example.com/cleanup)"
        );
        assert!(
            d.findings
                .iter()
                .any(|f| f.code == "finalizer-no-controller")
        );
    }
}
