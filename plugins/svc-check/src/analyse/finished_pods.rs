//! Finished pods (Succeeded or Failed) that the selector matches next to running ones: never
//! endpoints, but pods of another workload there mean the selector is broader than intended.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::report::{Finding, ObjectRef, Remedy, Severity, Source};

use super::Context;
use crate::{
    backends::Selection,
    chain::{Link, Observation, plural},
    pods,
};

/// How many finished pods are named.
const SHOWN: usize = 5;

pub fn check(cx: &Context) -> Option<Observation> {
    let Selection::Pods(selected) = &cx.backends.selection else {
        return None;
    };
    let (finished, live): (Vec<&Pod>, Vec<&Pod>) =
        selected.iter().copied().partition(|p| pods::is_terminal(p));
    if finished.is_empty() || !live.iter().any(|p| pods::phase(p) == "Running") {
        return None;
    }
    let foreign = foreign_owners(cx, &finished, &live);
    let finding = if foreign.is_empty() {
        same_workload(cx, title(&finished))
    } else {
        another_workload(cx, title(&finished), &foreign)
    };
    let finding = with_evidence(cx, finding, &finished).remedy(Remedy::command(
        "List the pods the selector matches, with their phase",
        format!(
            "kubectl get pods {} -l {} -o wide",
            cx.subject.ns_flag(),
            cx.subject.selector_text()
        ),
    ));
    Some(Observation::new(Link::Endpoints, finding))
}

/// The finished pods' owners that no live pod shares; no owner at all is an owner of its own.
fn foreign_owners(cx: &Context, finished: &[&Pod], live: &[&Pod]) -> BTreeSet<Option<ObjectRef>> {
    let state = cx.index.state;
    let live_workloads: BTreeSet<Option<ObjectRef>> =
        live.iter().map(|p| pods::workload(state, p)).collect();
    finished
        .iter()
        .map(|p| pods::workload(state, p))
        .filter(|w| !live_workloads.contains(w))
        .collect()
}

fn title(finished: &[&Pod]) -> String {
    let names: Vec<&str> = finished.iter().map(|p| pods::name(p)).collect();
    let more = if names.len() > SHOWN {
        format!(" and {} more", names.len() - SHOWN)
    } else {
        String::new()
    };
    format!(
        "the selector also matches {} finished pod{}: {}{more}",
        finished.len(),
        plural(finished.len()),
        names[..names.len().min(SHOWN)].join(", ")
    )
}

fn same_workload(cx: &Context, title: String) -> Finding {
    Finding::new(
        Severity::Info,
        cx.subject.object(),
        "selector-matches-finished-pods",
        title,
    )
    .explain(
        "Succeeded and Failed pods are never endpoints; these belong to the same workload as the running \
         pods (evicted or crashed replicas, for instance) and are only left to be cleaned up.",
    )
}

fn another_workload(cx: &Context, title: String, foreign: &BTreeSet<Option<ObjectRef>>) -> Finding {
    Finding::new(
        Severity::Warning,
        cx.subject.object(),
        "selector-matches-finished-pods",
        title,
    )
    .explain(format!(
        "Succeeded and Failed pods are never endpoints, but these belong to {} rather than to the running \
         pods' workload: the selector is broader than intended, and whenever pods of {} run again (the next \
         Job, say) they receive the Service's traffic.",
        join(foreign),
        if foreign.len() == 1 { "it" } else { "them" }
    ))
    .remedy(Remedy::step(format!(
        "Narrow the Service's selector {} with a label only the intended pods carry",
        cx.subject.selector_text()
    )))
}

fn with_evidence(cx: &Context, mut finding: Finding, finished: &[&Pod]) -> Finding {
    for pod in finished.iter().take(SHOWN) {
        let owner = pods::workload(cx.index.state, pod)
            .map(|w| format!(" ({w})"))
            .unwrap_or_default();
        finding = finding.evidence(
            format!("pod {} is {}{owner}", pods::name(pod), pods::phase(pod)),
            Source::Field {
                object: ObjectRef::namespaced("Pod", pods::namespace(pod), pods::name(pod)),
                path: "status.phase".into(),
            },
        );
    }
    finding
}

fn join(workloads: &BTreeSet<Option<ObjectRef>>) -> String {
    workloads
        .iter()
        .map(|w| match w {
            Some(workload) => workload.to_string(),
            None => "no owner (pods created directly)".to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use kube_runbook::report::Severity;
    use serde_json::json;

    use crate::testing::{Fixture, assert_verdict, facts, find, pod};

    fn owned_by_deployment(p: &mut serde_json::Value) {
        p["metadata"]["labels"]["pod-template-hash"] = json!("5d9c7");
        p["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "name": "web-5d9c7", "uid": "rs", "controller": true}]);
    }

    fn finished(p: &mut serde_json::Value, phase: &str) {
        p["status"]["phase"] = json!(phase);
        p["status"]["conditions"][0]["status"] = json!("False");
    }

    fn web_of_deployment() -> Fixture {
        let mut f = Fixture::healthy_web();
        f.edit_pod("web-1", owned_by_deployment)
            .edit_pod("web-2", owned_by_deployment);
        f
    }

    #[test]
    fn finished_pods_of_another_workload_widen_the_selector() {
        let mut f = web_of_deployment();
        f.pod(pod(
            "shop",
            "migrate-x7k2p",
            json!({"app": "web"}),
            "10.0.0.7",
            "n1",
        ))
        .edit_pod("migrate-x7k2p", |p| {
            finished(p, "Succeeded");
            p["metadata"]["ownerReferences"] = json!([{"apiVersion": "batch/v1", "kind": "Job",
                "name": "migrate", "uid": "job", "controller": true}]);
        });
        let findings = f.check_web(None);
        assert_verdict(&findings, "service-degraded");
        let wide = find(&findings, "selector-matches-finished-pods");
        assert_eq!(wide.severity, Severity::Warning);
        assert_eq!(
            wide.title,
            "the selector also matches 1 finished pod: migrate-x7k2p"
        );
        assert!(
            wide.explanation
                .contains("belong to Job shop/migrate rather than"),
            "{}",
            wide.explanation
        );
        assert!(
            facts(wide).contains("pod migrate-x7k2p is Succeeded (Job shop/migrate)"),
            "{}",
            facts(wide)
        );
    }

    #[test]
    fn finished_replicas_of_the_same_workload_are_only_noted() {
        let mut f = web_of_deployment();
        f.pod(pod(
            "shop",
            "web-5d9c7-evict",
            json!({"app": "web"}),
            "10.0.0.8",
            "n2",
        ))
        .edit_pod("web-5d9c7-evict", |p| {
            owned_by_deployment(p);
            finished(p, "Failed");
        });
        let findings = f.check_web(None);
        assert_verdict(&findings, "service-reachable");
        assert_eq!(
            find(&findings, "selector-matches-finished-pods").severity,
            Severity::Info
        );
    }

    #[test]
    fn an_ownerless_finished_pod_is_not_of_the_running_pods_workload() {
        let mut f = web_of_deployment();
        f.pod(pod(
            "shop",
            "debug-web",
            json!({"app": "web"}),
            "10.0.0.9",
            "n1",
        ))
        .edit_pod("debug-web", |p| finished(p, "Succeeded"));
        let findings = f.check_web(None);
        let wide = find(&findings, "selector-matches-finished-pods");
        assert_eq!(wide.severity, Severity::Warning);
        assert!(
            wide.explanation
                .contains("belong to no owner (pods created directly) rather than"),
            "{}",
            wide.explanation
        );
    }

    #[test]
    fn no_finding_without_finished_pods_or_without_running_ones() {
        let none_finished = web_of_deployment().check_web(None);
        assert!(
            none_finished
                .iter()
                .all(|f| f.code != "selector-matches-finished-pods")
        );
        let mut f = web_of_deployment();
        f.edit_pod("web-1", |p| finished(p, "Succeeded"))
            .edit_pod("web-2", |p| finished(p, "Failed"));
        let none_running = f.check_web(None);
        assert!(
            none_running
                .iter()
                .all(|f| f.code != "selector-matches-finished-pods"),
            "pods-not-running covers it"
        );
    }
}
