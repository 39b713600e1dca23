//! The EndpointSlices themselves: missing although ready pods match (the endpointslice
//! controller is not doing its job), only terminating endpoints left, and for a Service without
//! selector the manually written endpoints (present, non-empty, port names matching).

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::report::{Finding, ObjectRef, Remedy, Severity, Source};
use serde_json::json;

use super::{Context, ports};
use crate::{
    backends::{Endpoint, Selection},
    chain::{Link, Observation, plural},
    model::PortSpec,
    pods,
};

/// How long a pod must have been ready before its absence from the slices is not just lag.
const CONTROLLER_GRACE_SECONDS: i64 = 30;

pub fn check(cx: &Context) -> Vec<Observation> {
    match &cx.backends.selection {
        Selection::Manual => manual(cx),
        Selection::Pods(_) | Selection::Unknown => {
            let mut observations: Vec<Observation> = missing_slices(cx).into_iter().collect();
            observations.extend(only_terminating(cx));
            observations
        }
    }
}

/// The ports with no ready endpoint: their endpoints and spec (None for a portless Service).
fn ports_without_ready<'a, 'i>(
    cx: &Context<'a, 'i>,
) -> Vec<(&'i [Endpoint<'a>], Option<&'i PortSpec>)> {
    cx.backends
        .per_port
        .iter()
        .enumerate()
        .filter(|(_, endpoints)| !endpoints.iter().any(|e| e.ready))
        .map(|(i, endpoints)| (endpoints.as_slice(), cx.subject.ports.get(i)))
        .collect()
}

fn missing_slices(cx: &Context) -> Option<Observation> {
    let observed = cx.index.state.observed_at;
    let settled = |pod: &Pod| {
        pods::condition(pod, "Ready")
            .and_then(|c| c.last_transition_time.as_ref())
            .is_none_or(|t| observed.duration_since(t.0).as_secs() >= CONTROLLER_GRACE_SECONDS)
    };
    let (_, port) = ports_without_ready(cx).into_iter().next()?;
    let ready_pods: Vec<&Pod> = ports::candidates(cx)
        .into_iter()
        .filter(|p| {
            pods::is_ready(p)
                && !pods::is_terminating(p)
                && pods::ip(p).is_some()
                && settled(p)
                && port.is_none_or(|port| ports::resolve(p, port).number().is_some())
        })
        .collect();
    let pod = ready_pods.first()?;
    let slices = cx.backends.slices.len();
    let port_text = port
        .map(|p| format!(" for port {}", p.label()))
        .unwrap_or_default();
    let matching = match ready_pods.len() {
        1 => "1 ready pod matches".to_string(),
        n => format!("{n} ready pods match"),
    };
    let title = if slices == 0 {
        format!("no EndpointSlice exists although {matching} the selector")
    } else {
        format!("its EndpointSlices list no ready endpoint{port_text} although {matching}")
    };
    let finding = Finding::new(Severity::Error, cx.subject.object(), "endpointslices-missing", title)
        .explain(
            "The endpointslice controller in kube-controller-manager writes a Service's EndpointSlices from the pods \
             its selector matches. Ready pods have matched for a while and are not listed, so the controller is not \
             running, not leading, or failing to write: kube-proxy and DNS only see the slices.",
        )
        .evidence(
            format!("pod {} is ready with IP {}", pods::name(pod), pods::ip(pod).unwrap_or_default()),
            Source::Condition {
                object: ObjectRef::namespaced("Pod", pods::namespace(pod), pods::name(pod)),
                condition_type: "Ready".into(),
                status: "True".into(),
                reason: None,
            },
        )
        .evidence(
            format!("{slices} EndpointSlice{} labelled kubernetes.io/service-name={}", plural(slices), cx.subject.name),
            Source::Computed,
        )
        .remedy(Remedy::command(
            "Check that kube-controller-manager runs and holds its leader lease",
            "kubectl get lease kube-controller-manager -n kube-system -o wide",
        ))
        .remedy(Remedy::command(
            "Look for endpointslice errors in its log",
            "kubectl logs -n kube-system -l component=kube-controller-manager --tail=200",
        ))
        .details(json!({"readyPods": ready_pods.iter().map(|p| pods::name(p)).collect::<Vec<_>>()}));
    Some(Observation::new(Link::Endpoints, finding))
}

fn only_terminating(cx: &Context) -> Option<Observation> {
    let (endpoints, port) = ports_without_ready(cx)
        .into_iter()
        .find(|(endpoints, _)| endpoints.iter().any(|e| e.serving && e.terminating))?;
    let serving: Vec<&str> = endpoints
        .iter()
        .filter(|e| e.serving && e.terminating)
        .map(|e| e.label())
        .collect();
    let port_text = port
        .map(|p| format!("port {}: ", p.label()))
        .unwrap_or_default();
    let finding = Finding::new(
        Severity::Warning,
        cx.subject.object(),
        "only-terminating-endpoints",
        format!(
            "{port_text}only {} terminating pod{} still serve{}",
            serving.len(),
            plural(serving.len()),
            if serving.len() == 1 { "s" } else { "" }
        ),
    )
    .explain(
        "No endpoint is ready; the remaining ones belong to pods being deleted that still pass their readiness \
         probe (serving: true, terminating: true). kube-proxy falls back to them while no ready endpoint exists, \
         so traffic flows until they exit, then stops.",
    )
    .evidence(format!("serving and terminating: {}", serving.join(", ")), Source::Computed)
    .remedy(Remedy::step(
        "Make sure replacement pods are coming up (a rollout or scale-up), or traffic stops when these pods exit",
    ));
    Some(Observation::new(Link::Endpoints, finding))
}

/// A port left with no endpoint that serves while no other check found why (pods could not be
/// read, or the slices lag): the Service is still unreachable on it, and says so.
pub fn unexplained(cx: &Context, observations: &[Observation]) -> Option<Observation> {
    let explained = observations.iter().any(|o| {
        o.finding.severity == Severity::Error
            && matches!(o.link, Link::TargetPort | Link::Endpoints | Link::ReadyPod)
    });
    if explained {
        return None;
    }
    let (_, port) = ports_without_ready(cx)
        .into_iter()
        .find(|(endpoints, _)| !endpoints.iter().any(|e| e.serving))?;
    let port = port.map_or_else(
        || "the Service".to_string(),
        |p| format!("port {}", p.label()),
    );
    let why = if matches!(cx.backends.selection, Selection::Unknown) {
        format!(
            "Its pods could not be read (namespace {}), so why is not known.",
            cx.subject.namespace
        )
    } else {
        "None of the checks found why; the EndpointSlices may lag behind the pods.".to_string()
    };
    let finding = Finding::new(
        Severity::Error,
        cx.subject.object(),
        "no-ready-endpoints",
        format!("{port} has no ready endpoint"),
    )
    .explain(format!(
        "The EndpointSlices list no endpoint that is ready or serving, so requests hang until they time out \
         (or are refused at once by kube-proxy in iptables or nftables mode). {why}"
    ))
    .evidence(
        format!(
            "{} EndpointSlice{}, {} endpoint{}",
            cx.backends.slices.len(),
            plural(cx.backends.slices.len()),
            cx.backends.distinct().len(),
            plural(cx.backends.distinct().len())
        ),
        Source::Computed,
    )
    .remedy(Remedy::command(
        "Compare the EndpointSlices with the pods",
        format!(
            "kubectl get endpointslices -l kubernetes.io/service-name={} {} -o wide",
            cx.subject.name,
            cx.subject.ns_flag()
        ),
    ));
    Some(Observation::new(Link::Endpoints, finding))
}

fn manual(cx: &Context) -> Vec<Observation> {
    let subject = cx.subject;
    let slices = &cx.backends.slices;
    let source = Source::Field {
        object: subject.object(),
        path: "spec.selector".into(),
    };
    let fix_yaml = format!(
        "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: {name}-manual\n  namespace: {ns}\n  labels:\n    kubernetes.io/service-name: {name}\naddressType: IPv4\nports:\n- name: \"{port_name}\"\n  port: <backend port>\n  protocol: {protocol}\nendpoints:\n- addresses: [\"<backend IP>\"]",
        name = subject.name,
        ns = subject.namespace,
        port_name = subject
            .ports
            .first()
            .map(|p| p.name.as_str())
            .unwrap_or_default(),
        protocol = subject.ports.first().map_or("TCP", |p| p.protocol.as_str()),
    );
    let addresses: usize = slices
        .iter()
        .map(|s| s.endpoints.as_ref().map_or(0, Vec::len))
        .sum();
    if addresses == 0 {
        let title = if slices.is_empty() {
            "it has no selector and no EndpointSlice: nothing to send traffic to".to_string()
        } else {
            format!(
                "it has no selector and its {} EndpointSlice{} list no address",
                slices.len(),
                plural(slices.len())
            )
        };
        let finding = Finding::new(Severity::Error, subject.object(), "no-selector-no-endpoints", title)
            .explain(
                "Without a selector Kubernetes does not manage the Service's endpoints: someone must write \
                 EndpointSlices labelled kubernetes.io/service-name (or a v1 Endpoints object, which is mirrored). \
                 With none, requests hang until they time out or are refused.",
            )
            .evidence("spec.selector is empty", source)
            .remedy(Remedy::step("Add a selector matching the backend pods, if they run in the cluster"))
            .remedy(Remedy::yaml("Or write the endpoints for the external backend", fix_yaml));
        return vec![Observation::new(Link::Endpoints, finding)];
    }
    let mut observations = Vec::new();
    for (index, port) in subject.ports.iter().enumerate() {
        let Some(endpoints) = cx.backends.per_port.get(index) else {
            continue;
        };
        if endpoints.is_empty() {
            let names: Vec<String> = slices
                .iter()
                .flat_map(|s| s.ports.iter().flatten())
                .map(|p| {
                    format!(
                        "\"{}\" {}/{}",
                        p.name.as_deref().unwrap_or_default(),
                        p.port.map_or_else(|| "*".to_string(), |n| n.to_string()),
                        p.protocol.as_deref().unwrap_or("TCP")
                    )
                })
                .collect();
            let finding = Finding::new(
                Severity::Error,
                subject.object(),
                "manual-endpoints-port-mismatch",
                format!(
                    "port {}: no EndpointSlice port is named \"{}\" with protocol {}",
                    port.label(),
                    port.name,
                    port.protocol
                ),
            )
            .explain(
                "For a Service without selector, the proxy pairs each Service port with the EndpointSlice port of the \
                 same name and protocol. The slices name their ports differently, so this port has no endpoints.",
            )
            .evidence(
                format!("EndpointSlice ports: {}", if names.is_empty() { "none".to_string() } else { names.join(", ") }),
                Source::Computed,
            )
            .remedy(Remedy::step(format!(
                "Name the EndpointSlice port \"{}\" (protocol {}), exactly as the Service port",
                port.name, port.protocol
            )));
            observations.push(Observation::new(Link::Endpoints, finding));
        } else if !endpoints.iter().any(|e| e.ready) && endpoints.iter().all(|e| e.pod.is_none()) {
            let finding = Finding::new(
                Severity::Error,
                subject.object(),
                "no-ready-backends",
                format!(
                    "port {}: every manually written endpoint is marked not ready",
                    port.label()
                ),
            )
            .explain("Endpoints with conditions.ready false receive no traffic.")
            .evidence(
                format!(
                    "endpoints: {}",
                    endpoints
                        .iter()
                        .map(|e| e.address)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Source::Computed,
            )
            .remedy(Remedy::step(
                "Whoever writes these EndpointSlices must mark the backends ready once they serve",
            ));
            observations.push(Observation::new(Link::ReadyPod, finding));
        }
    }
    observations
}
