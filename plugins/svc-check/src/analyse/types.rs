//! What the Service type and traffic settings mean for a request: headless (no virtual IP, no
//! balancing, 003 6.4.3), ExternalName (a CNAME), NodePort, traffic policies Local (nodes without a
//! ready endpoint drop traffic), and session affinity.

use std::collections::BTreeSet;
use std::net::IpAddr;

use kube_runbook::report::{Finding, Remedy, Severity, Source};
use serde_json::json;

use super::Context;
use crate::{
    chain::{Link, Observation, plural},
    model::ServiceKind,
};

/// Nodes labelled so are left out of cloud load balancers.
const EXCLUDE_FROM_LB: &str = "node.kubernetes.io/exclude-from-external-load-balancers";

pub fn check(cx: &Context) -> Vec<Observation> {
    let mut observations = Vec::new();
    match cx.subject.kind {
        ServiceKind::Headless => observations.push(headless(cx)),
        ServiceKind::ExternalName => observations.push(external_name(cx)),
        ServiceKind::NodePort => observations.push(node_port(cx)),
        ServiceKind::ClusterIp | ServiceKind::LoadBalancer => {}
    }
    observations.extend(session_affinity(cx));
    observations.extend(external_local(cx));
    observations.extend(internal_local(cx));
    observations
}

fn spec_field(cx: &Context, path: &str) -> Source {
    Source::Field {
        object: cx.subject.object(),
        path: path.into(),
    }
}

fn headless(cx: &Context) -> Observation {
    let ready = cx.backends.fewest_ready();
    let finding = Finding::new(
        Severity::Info,
        cx.subject.object(),
        "headless-service",
        format!(
            "headless: DNS answers the IPs of its {ready} ready pod{}; no virtual IP, no load balancing",
            plural(ready)
        ),
    )
    .explain(format!(
        "clusterIP: None means no virtual IP and nothing in between: {} resolves to every ready pod's IP and the \
         client picks one. Many clients take the first answer (ping shows only one address while nslookup lists them \
         all), so the load does not spread evenly and a client keeps its pod until it resolves again.",
        cx.subject.dns_name()
    ))
    .evidence("clusterIP: None", spec_field(cx, "spec.clusterIP"))
    .remedy(
        Remedy::step(
            "For load balancing, recreate the Service without clusterIP: None (the field cannot be changed in place); \
             keep the headless one if a StatefulSet needs per-pod DNS names",
        )
        .dangerous("deleting the Service interrupts clients until it is recreated"),
    );
    Observation::new(Link::Dns, finding)
}

fn external_name(cx: &Context) -> Observation {
    let target = cx
        .subject
        .spec()
        .and_then(|s| s.external_name.as_deref())
        .unwrap_or_default();
    let ns = cx.subject.namespace;
    if target.trim_end_matches('.').parse::<IpAddr>().is_ok() {
        let finding = Finding::new(
            Severity::Error,
            cx.subject.object(),
            "external-name-is-ip",
            format!("externalName is the IP address {target}, which DNS cannot alias"),
        )
        .explain(format!(
            "An ExternalName Service is a CNAME: {} answers \"see {target}\", and resolvers look {target} up as a host \
             name, which does not exist. No proxying happens, so the address is never used as an address.",
            cx.subject.dns_name()
        ))
        .evidence(format!("externalName: {target}"), spec_field(cx, "spec.externalName"))
        .remedy(Remedy::yaml(
            "Use a Service without selector and an EndpointSlice holding the IP instead",
            format!(
                "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: {name}-1\n  namespace: {ns}\n  labels:\n    kubernetes.io/service-name: {name}\naddressType: IPv4\nports:\n- port: <port>\nendpoints:\n- addresses: [\"{target}\"]",
                name = cx.subject.name
            ),
        ));
        return Observation::new(Link::Dns, finding);
    }
    let finding = Finding::new(
        Severity::Info,
        cx.subject.object(),
        "external-name",
        format!("an alias: DNS answers a CNAME to {target}; nothing to balance"),
    )
    .explain(format!(
        "{} resolves to {target} and clients connect there directly: no endpoints, no proxy, and the Service's ports \
         are not used. Whether {target} resolves and answers is outside the cluster. HTTP and TLS clients still send \
         the Service's name as Host and SNI, which the target may reject.",
        cx.subject.dns_name()
    ))
    .evidence(format!("externalName: {target}"), spec_field(cx, "spec.externalName"))
    .remedy(Remedy::command(
        format!("Check that {target} resolves from inside the cluster"),
        format!("kubectl run dns-check -n {ns} --rm -it --restart=Never --image=busybox:1.36 -- nslookup {target}"),
    ))
    .details(json!({"externalName": target}));
    Observation::new(Link::Dns, finding)
}

fn node_port(cx: &Context) -> Observation {
    let ports: Vec<String> = cx
        .subject
        .ports
        .iter()
        .filter_map(|p| p.node_port.map(|n| format!("{n} ({})", p.label())))
        .collect();
    let nodes = cx.index.node_count();
    let local = external_policy_local(cx);
    let finding = Finding::new(
        Severity::Info,
        cx.subject.object(),
        "node-port",
        format!(
            "reachable from outside on {} at node port {}",
            if local { "the nodes running a ready backend" } else { "every node's IP" },
            ports.join(", ")
        ),
    )
    .explain(format!(
        "Each node forwards its node port to the Service ({nodes} node{} known). Firewalls and security groups must \
         let the node port range in.",
        plural(nodes)
    ))
    .evidence(format!("node ports: {}", ports.join(", ")), spec_field(cx, "spec.ports[*].nodePort"));
    Observation::new(Link::ServicePort, finding)
}

fn session_affinity(cx: &Context) -> Option<Observation> {
    let spec = cx.subject.spec()?;
    if spec.session_affinity.as_deref() != Some("ClientIP")
        || cx.subject.kind == ServiceKind::ExternalName
    {
        return None;
    }
    let timeout = spec
        .session_affinity_config
        .as_ref()
        .and_then(|c| c.client_ip.as_ref())
        .and_then(|c| c.timeout_seconds)
        .unwrap_or(10800);
    let explanation = if cx.subject.kind == ServiceKind::Headless {
        "A headless Service has no proxy, so session affinity does nothing: clients pick pod IPs from DNS themselves."
            .to_string()
    } else {
        format!(
            "Every request from one client IP goes to the same pod for {timeout}s after its last request. Clients \
             behind one NAT, proxy or ingress controller share an IP and all land on one pod; new pods from a \
             scale-up get no existing clients."
        )
    };
    let finding = Finding::new(
        Severity::Info,
        cx.subject.object(),
        "session-affinity",
        format!("sessionAffinity ClientIP pins each client IP to one pod for {timeout}s"),
    )
    .explain(explanation)
    .evidence(
        "sessionAffinity: ClientIP",
        spec_field(cx, "spec.sessionAffinity"),
    );
    Some(Observation::new(Link::ServicePort, finding))
}

fn external_policy_local(cx: &Context) -> bool {
    cx.subject
        .spec()
        .and_then(|s| s.external_traffic_policy.as_deref())
        == Some("Local")
}

/// Nodes running at least one ready endpoint (of the port with the fewest).
fn nodes_with_ready<'a>(cx: &Context<'a, '_>) -> BTreeSet<&'a str> {
    cx.backends
        .per_port
        .iter()
        .flatten()
        .filter(|e| e.ready)
        .filter_map(|e| e.node)
        .collect()
}

fn external_local(cx: &Context) -> Option<Observation> {
    if !matches!(
        cx.subject.kind,
        ServiceKind::NodePort | ServiceKind::LoadBalancer
    ) || !external_policy_local(cx)
    {
        return None;
    }
    if cx.backends.fewest_ready() == 0 {
        return None;
    }
    let with = nodes_with_ready(cx);
    let total = cx.index.node_count();
    let eligible: Vec<&str> = with
        .iter()
        .copied()
        .filter(|n| {
            cx.index.node(n).is_none_or(|node| {
                !node
                    .metadata
                    .labels
                    .as_ref()
                    .is_some_and(|l| l.contains_key(EXCLUDE_FROM_LB))
            })
        })
        .collect();
    let health_port = cx
        .subject
        .spec()
        .and_then(|s| s.health_check_node_port)
        .map(|p| format!(" (health check node port {p})"))
        .unwrap_or_default();
    let with_list: Vec<&str> = with.iter().copied().collect();
    if cx.subject.kind == ServiceKind::LoadBalancer && eligible.is_empty() {
        let finding = Finding::new(
            Severity::Error,
            cx.subject.object(),
            "external-traffic-local-no-endpoints",
            "externalTrafficPolicy Local: no node the load balancer uses runs a ready backend",
        )
        .explain(format!(
            "With Local, a node only accepts external traffic for pods on itself and fails the load balancer's health \
             check{health_port} otherwise. The ready backends run only on nodes labelled {EXCLUDE_FROM_LB}, which the \
             load balancer leaves out, so no node passes and external traffic is dropped."
        ))
        .evidence(format!("ready backends on: {}", with_list.join(", ")), Source::Computed)
        .remedy(Remedy::step(
            "Run backends on nodes the load balancer uses, or set externalTrafficPolicy: Cluster (loses the client source IP)",
        ));
        return Some(Observation::external(Link::ServicePort, finding));
    }
    let without = total.saturating_sub(with.len());
    let severity = if cx.subject.kind == ServiceKind::NodePort && without > 0 {
        Severity::Warning
    } else {
        Severity::Info
    };
    let consequence = if cx.subject.kind == ServiceKind::NodePort {
        "clients sending to the node port of any other node get no answer"
    } else {
        "the load balancer's health check fails on the other nodes, so it only sends to these"
    };
    let finding = Finding::new(
        severity,
        cx.subject.object(),
        "external-traffic-local",
        format!(
            "externalTrafficPolicy Local: only {} of {total} node{} run a ready backend and take external traffic",
            with.len(),
            plural(total)
        ),
    )
    .explain(format!(
        "With Local, each node delivers external traffic only to pods on itself (keeping the client source IP) and \
         drops it when it has none{health_port}: {consequence}."
    ))
    .evidence(format!("ready backends on: {}", with_list.join(", ")), Source::Computed)
    .details(json!({"nodesWithReadyBackends": with_list, "nodes": total}));
    Some(Observation::external(Link::ServicePort, finding))
}

fn internal_local(cx: &Context) -> Option<Observation> {
    let local = cx
        .subject
        .spec()
        .and_then(|s| s.internal_traffic_policy.as_deref())
        == Some("Local");
    if !local || !cx.subject.kind.is_proxied() || cx.backends.fewest_ready() == 0 {
        return None;
    }
    let with = nodes_with_ready(cx);
    let with_list: Vec<&str> = with.iter().copied().collect();
    let (severity, title) = match cx.client.and_then(|c| c.node) {
        Some(node) if !with.contains(node) => (
            Severity::Error,
            format!(
                "internalTrafficPolicy Local: the client's node {node} runs no ready backend, so its traffic is dropped"
            ),
        ),
        Some(_) => return None,
        None => (
            Severity::Warning,
            format!(
                "internalTrafficPolicy Local: only clients on {} node{} with a ready backend reach it",
                with.len(),
                plural(with.len())
            ),
        ),
    };
    let finding = Finding::new(severity, cx.subject.object(), "internal-traffic-local", title)
        .explain(
            "With internalTrafficPolicy Local, traffic to the cluster IP only goes to backends on the client's own \
             node and is dropped when there is none there. Meant for node-local agents run by a DaemonSet.",
        )
        .evidence(format!("ready backends on: {}", with_list.join(", ")), Source::Computed)
        .remedy(Remedy::step(
            "Run a backend on every client node (a DaemonSet), or set internalTrafficPolicy: Cluster",
        ));
    Some(Observation::new(Link::ServicePort, finding))
}
