//! Backends that are not ready, and why (pod by pod, from [`not_ready`]); ready pods with no
//! readiness probe (003 6.4.2).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::report::{Finding, ObjectRef, Remedy, Severity, Source};
use serde_json::json;

use super::{
    Context,
    not_ready::{self, Reason},
    ports,
};
use crate::{
    backends::Selection,
    chain::{Link, Observation, plural},
    pods,
};

/// How many pods (or groups of pods with the same reason) to show.
const SHOWN: usize = 5;

pub fn check(cx: &Context) -> Vec<Observation> {
    let mut observations = Vec::new();
    let backends = backend_pods(cx);
    let none_running = matches!(cx.backends.selection, Selection::Pods(_))
        && !backends.iter().any(|p| pods::phase(p) == "Running");
    if none_running {
        return observations;
    }
    let not_ready: Vec<&Pod> = backends
        .iter()
        .copied()
        .filter(|p| !pods::is_ready(p) && !pods::is_terminating(p))
        .collect();
    if !not_ready.is_empty() {
        observations.push(not_ready_backends(cx, &not_ready, backends.len()));
    }
    observations.extend(missing_probes(cx, &backends));
    observations
}

/// The pods behind the Service: selected and not finished, or the targets of manual endpoints.
fn backend_pods<'a>(cx: &Context<'a, '_>) -> Vec<&'a Pod> {
    match &cx.backends.selection {
        Selection::Pods(_) => ports::candidates(cx),
        Selection::Manual | Selection::Unknown => cx
            .backends
            .distinct()
            .iter()
            .filter_map(|e| e.pod)
            .collect(),
    }
}

fn not_ready_backends(cx: &Context, not_ready: &[&Pod], total: usize) -> Observation {
    let subject = cx.subject;
    let ready = cx.backends.fewest_ready();
    let (severity, code, title) = if subject.publishes_not_ready() {
        (
            Severity::Warning,
            "publish-not-ready-addresses",
            format!(
                "publishNotReadyAddresses sends traffic to {} pod{} that {} not ready",
                not_ready.len(),
                plural(not_ready.len()),
                if not_ready.len() == 1 { "is" } else { "are" }
            ),
        )
    } else if ready == 0 {
        (
            Severity::Error,
            "no-ready-backends",
            if total == 1 {
                "its only backend pod is not ready".to_string()
            } else {
                format!("none of its {total} backend pods is ready")
            },
        )
    } else {
        (
            Severity::Warning,
            "backends-not-ready",
            format!(
                "{} of {total} backend pods {} not ready",
                not_ready.len(),
                if not_ready.len() == 1 { "is" } else { "are" }
            ),
        )
    };
    let explanation = match code {
        "publish-not-ready-addresses" => {
            "The Service sets publishNotReadyAddresses: every endpoint is published as ready whatever the pods' \
             readiness, which is meant for peer discovery through a headless Service (StatefulSets). Clients are \
             sent to pods that are not ready."
        }
        "no-ready-backends" => {
            "Only ready pods receive traffic. With none ready the Service has no endpoint to send to: requests hang \
             until they time out, or are refused at once by kube-proxy in iptables or nftables mode."
        }
        _ => "Pods that are not ready get no traffic; the others carry it all.",
    };
    let reasons: Vec<(&Pod, Reason)> = not_ready
        .iter()
        .map(|p| (*p, not_ready::why(cx, p)))
        .collect();
    let mut groups: BTreeMap<&str, Vec<&Pod>> = BTreeMap::new();
    for (pod, reason) in &reasons {
        groups.entry(reason.text.as_str()).or_default().push(pod);
    }
    let mut finding = Finding::new(severity, subject.object(), code, title).explain(explanation);
    for (pod, reason) in reasons
        .iter()
        .filter(|(pod, reason)| {
            groups.get(reason.text.as_str()).and_then(|g| g.first()) == Some(pod)
        })
        .take(SHOWN)
    {
        let more = groups.get(reason.text.as_str()).map_or(0, |g| g.len() - 1);
        let more = if more > 0 {
            format!(" (and {more} more pod{})", plural(more))
        } else {
            String::new()
        };
        finding = finding.evidence(
            format!("pod {}{more}: {}", pods::name(pod), reason.text),
            reason.source.clone(),
        );
    }
    if let Some((pod, reason)) = reasons.iter().find(|(_, r)| r.handoff.is_some()) {
        finding = finding.remedy(Remedy::command(
            format!("Find out why pod {} is not running", pods::name(pod)),
            reason.handoff.clone().unwrap_or_default(),
        ));
    }
    let mut remedies: Vec<&Remedy> = Vec::new();
    for remedy in reasons.iter().filter_map(|(_, r)| r.remedy.as_ref()) {
        if !remedies.contains(&remedy) {
            remedies.push(remedy);
        }
    }
    for remedy in remedies {
        finding = finding.remedy(remedy.clone());
    }
    if let Some((pod, _)) = reasons.first() {
        finding = finding.remedy(Remedy::command(
            "Read the pod's conditions, probe settings and recent events",
            format!(
                "kubectl describe pod {} -n {}",
                pods::name(pod),
                pods::namespace(pod)
            ),
        ));
    }
    let details: Vec<_> = reasons
        .iter()
        .map(|(pod, reason)| json!({"pod": pods::name(pod), "reason": reason.text, "handoff": reason.handoff}))
        .collect();
    let link = if code == "publish-not-ready-addresses" {
        Link::Endpoints
    } else {
        Link::ReadyPod
    };
    Observation::new(
        link,
        finding.details(json!({"notReady": details, "backends": total})),
    )
}

/// Ready pods whose serving container has no readiness probe: traffic reaches them as soon as
/// they start, before the application listens (003 6.4.2, "connection refused").
fn missing_probes(cx: &Context, backends: &[&Pod]) -> Option<Observation> {
    let mut without: Vec<(&Pod, String)> = Vec::new();
    for pod in backends.iter().copied().filter(|p| pods::is_ready(p)) {
        let serving: Vec<&str> = cx
            .subject
            .ports
            .iter()
            .filter_map(|port| match ports::resolve(pod, port) {
                ports::Resolution::Declared { container, .. } => Some(container),
                _ => None,
            })
            .collect();
        let containers: Vec<_> = pods::serving_containers(pod)
            .filter(|s| serving.is_empty() || serving.contains(&s.container.name.as_str()))
            .collect();
        let has_probe = if serving.is_empty() {
            containers
                .iter()
                .any(|s| s.container.readiness_probe.is_some())
        } else {
            containers
                .iter()
                .all(|s| s.container.readiness_probe.is_some())
        };
        if !has_probe
            && let Some(first) = containers
                .iter()
                .find(|s| s.container.readiness_probe.is_none())
        {
            without.push((pod, first.container.name.clone()));
        }
    }
    let (pod, container) = without.first()?;
    let port = cx
        .subject
        .ports
        .first()
        .and_then(|p| ports::resolve(pod, p).number());
    let owner = pods::workload(cx.index.state, pod);
    let whose = owner.as_ref().map_or_else(
        || format!("pod {}", pods::name(pod)),
        |o| format!("{} {}", o.kind, o.name),
    );
    let finding = Finding::new(
        Severity::Warning,
        cx.subject.object(),
        "no-readiness-probe",
        format!(
            "{} backend pod{} {} no readiness probe (container {container} of {whose})",
            without.len(),
            plural(without.len()),
            if without.len() == 1 { "has" } else { "have" }
        ),
    )
    .explain(
        "Without a readiness probe a pod counts as ready as soon as its containers start, before the application \
         listens: after every start or restart the Service sends it connections that are refused. A probe also takes \
         a hung pod out of rotation.",
    )
    .evidence(
        format!("container {container} of pod {} has no readinessProbe", pods::name(pod)),
        Source::Field {
            object: ObjectRef::namespaced("Pod", pods::namespace(pod), pods::name(pod)),
            path: "spec.containers[*].readinessProbe".into(),
        },
    )
    .remedy(Remedy::yaml(
        format!("Add a readiness probe to container {container} in the pod template of {whose}"),
        format!(
            "readinessProbe:\n  tcpSocket:\n    port: {}\n  periodSeconds: 5\n  failureThreshold: 3",
            port.map_or_else(|| "<port>".to_string(), |p| p.to_string())
        ),
    ))
    .details(json!({"pods": without.iter().map(|(p, c)| json!({"pod": pods::name(p), "container": c})).collect::<Vec<_>>()}));
    Some(Observation::new(Link::ReadyPod, finding))
}
