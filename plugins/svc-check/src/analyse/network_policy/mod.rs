//! NetworkPolicies on the path: ingress to every ready backend on its target port (from anyone,
//! or from the `--from` pod), the client's egress to the backends and to the cluster DNS. Names
//! the policies that drop the traffic and the rule conditions that fail.

mod blocked_ingress;
mod dns_egress;
mod evaluate;
mod host_network;
mod node_local_dns;
mod policy;

use std::collections::HashMap;

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::{
    report::{Finding, ObjectRef, Remedy, Severity, Source},
    state::Kind,
};

pub use evaluate::{Decision, Destination, Direction, Party, decide};
pub use policy::Policy;

use super::Context;
use crate::{
    chain::{Link, Observation, plural},
    index::Index,
    model::PortSpec,
    pods,
};

/// DaemonSets of network plugins that enforce NetworkPolicies.
const ENFORCERS: [&str; 12] = [
    "calico-node",
    "cilium",
    "anetd",
    "antrea-agent",
    "kube-router",
    "weave-net",
    "canal",
    "kube-ovn-cni",
    "ovnkube-node",
    "azure-npm",
    "kindnet",
    "netpol",
];

/// Every namespace's policies, compiled once.
pub struct Policies<'a> {
    by_namespace: HashMap<&'a str, Vec<Policy<'a>>>,
    /// Network plugins seen that enforce policies; empty means none was found.
    pub enforcers: Vec<&'a str>,
    pub daemon_sets_read: bool,
}

impl<'a> Policies<'a> {
    pub fn compile(index: &Index<'a>) -> Policies<'a> {
        let mut by_namespace: HashMap<&str, Vec<Policy>> = HashMap::new();
        for policy in &index.state.network_policies {
            let compiled = Policy::compile(policy);
            by_namespace
                .entry(compiled.namespace)
                .or_default()
                .push(compiled);
        }
        let enforcers = index
            .daemon_sets()
            .iter()
            .filter_map(|ds| ds.metadata.name.as_deref())
            .filter(|name| ENFORCERS.contains(name))
            .collect();
        Policies {
            by_namespace,
            enforcers,
            daemon_sets_read: index.coverage.lists_everywhere(Kind::DaemonSet),
        }
    }

    pub fn in_namespace(&self, namespace: &str) -> &[Policy<'a>] {
        self.by_namespace
            .get(namespace)
            .map_or(&[][..], Vec::as_slice)
    }
}

pub fn check(cx: &Context) -> Vec<Observation> {
    if !cx.subject.kind.has_endpoints() {
        return Vec::new();
    }
    let mut observations = ingress(cx);
    // Egress policies do not isolate a hostNetwork client either.
    if let Some(client) = cx.client
        && !pods::host_network(client.pod)
        && cx.index.lists(Kind::NetworkPolicy, client.namespace)
    {
        observations.extend(egress_to_backends(cx));
        observations.extend(dns_egress::check(cx));
    }
    observations
}

/// A pod as the far end of a connection; on the host network, its node's IP.
fn party<'a>(index: &Index<'a>, pod: &'a Pod, called: String) -> Party<'a> {
    let namespace = pods::namespace(pod);
    let host_network = pods::host_network(pod);
    let ip = if host_network {
        host_network::node_ip(pod)
    } else {
        pods::ip(pod)
    };
    Party {
        namespace,
        labels: pods::labels(pod),
        namespace_labels: index.namespace_labels(namespace),
        ip: ip.and_then(|ip| ip.parse().ok()),
        called,
        host_network,
    }
}

/// The port a connection lands on at `pod`: its number and the container's name for it.
fn destination(pod: &Pod, number: i32, protocol: &str, service_port: Option<i32>) -> Destination {
    let name = pods::serving_containers(pod)
        .flat_map(|s| s.container.ports.iter().flatten())
        .find(|p| p.container_port == number && p.protocol.as_deref().unwrap_or("TCP") == protocol)
        .and_then(|p| p.name.clone());
    Destination {
        number,
        name,
        protocol: protocol.to_string(),
        service_port,
    }
}

/// The ready backends of a port with their pods and the port number they receive on.
fn ready_backends<'a>(
    cx: &Context<'a, '_>,
    index: usize,
    spec: &PortSpec,
) -> Vec<(&'a Pod, Destination)> {
    cx.backends
        .per_port
        .get(index)
        .into_iter()
        .flatten()
        .filter(|e| e.ready)
        .filter_map(|e| {
            let pod = e.pod?;
            let number = e.port.unwrap_or(spec.port);
            Some((
                pod,
                destination(pod, number, &spec.protocol, Some(spec.port)),
            ))
        })
        .collect()
}

fn policy_source(namespace: &str, names: &[&str]) -> Source {
    Source::Object {
        object: ObjectRef::namespaced(
            "NetworkPolicy",
            namespace,
            names.first().copied().unwrap_or_default(),
        ),
    }
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn enforcement_note(cx: &Context, finding: Finding) -> Finding {
    let policies = &cx.infra.policies;
    if policies.daemon_sets_read && policies.enforcers.is_empty() {
        finding.evidence(
            "no NetworkPolicy enforcer (Calico, Cilium, Antrea, kube-router, Weave Net, ...) was found among the DaemonSets: if none runs, policies have no effect",
            Source::Computed,
        )
    } else {
        finding
    }
}

fn ingress(cx: &Context) -> Vec<Observation> {
    let namespace = cx.subject.namespace;
    if !cx.index.lists(Kind::NetworkPolicy, namespace) {
        return Vec::new();
    }
    let policies = cx.infra.policies.in_namespace(namespace);
    if policies.is_empty() {
        return Vec::new();
    }
    let client = cx
        .client
        .map(|c| party(cx.index, c.pod, "the client".into()));
    let mut observations: Vec<Observation> = host_network::unpoliced_backends(cx, policies)
        .into_iter()
        .collect();
    for (index, spec) in cx.subject.ports.iter().enumerate() {
        observations.extend(port_ingress(cx, policies, client.as_ref(), index, spec));
    }
    observations
}

/// One port's backends judged by their ingress policies: dropped, else restricted or unknown.
fn port_ingress(
    cx: &Context,
    policies: &[Policy],
    client: Option<&Party>,
    index: usize,
    spec: &PortSpec,
) -> Vec<Observation> {
    let (unpoliced, backends): (Vec<_>, Vec<_>) = ready_backends(cx, index, spec)
        .into_iter()
        .partition(|(pod, _)| pods::host_network(pod));
    let decisions: Vec<(&Pod, Destination, Decision)> = backends
        .into_iter()
        .map(|(pod, dest)| {
            let decision = decide(
                policies,
                Direction::Ingress,
                pods::labels(pod),
                client,
                &dest,
            );
            (pod, dest, decision)
        })
        .collect();
    let dropped: Vec<&(&Pod, Destination, Decision)> = decisions
        .iter()
        .filter(|(_, _, d)| matches!(d, Decision::Dropped { .. }))
        .collect();
    if let Some((
        pod,
        dest,
        Decision::Dropped {
            policies: names,
            reasons,
        },
    )) = dropped.first()
    {
        let drop = blocked_ingress::Dropped {
            pod,
            dest,
            names,
            reasons,
            dropped: dropped.len(),
            total: decisions.len() + unpoliced.len(),
        };
        return vec![blocked_ingress::observation(cx, spec, &drop)];
    }
    restricted(cx, spec, &decisions)
        .into_iter()
        .chain(unknown(cx, spec, &decisions))
        .collect()
}

fn restricted(
    cx: &Context,
    spec: &PortSpec,
    decisions: &[(&Pod, Destination, Decision)],
) -> Option<Observation> {
    let (dest, names, peers) = decisions.iter().find_map(|(_, dest, d)| match d {
        Decision::Restricted { policies, peers } => Some((dest, policies, peers)),
        _ => None,
    })?;
    let finding = Finding::new(
        Severity::Info,
        cx.subject.object(),
        "network-policy-restricts",
        format!("port {}: NetworkPolicy {} admits only some sources to {}", spec.label(), quoted(names), dest.describe()),
    )
    .explain("The backends are isolated by NetworkPolicies: only the sources below may connect; anything else is dropped (the client waits until it times out).")
    .evidence(format!("allowed: {}", peers.join("; ")), policy_source(cx.subject.namespace, names));
    Some(Observation::new(
        Link::NetworkPolicy,
        enforcement_note(cx, finding),
    ))
}

fn unknown(
    cx: &Context,
    spec: &PortSpec,
    decisions: &[(&Pod, Destination, Decision)],
) -> Option<Observation> {
    let (names, reason) = decisions.iter().find_map(|(_, _, d)| match d {
        Decision::Unknown { policies, reason } => Some((policies, reason)),
        _ => None,
    })?;
    let finding = Finding::new(
        Severity::Info,
        cx.subject.object(),
        "network-policy-unknown",
        format!(
            "port {}: whether NetworkPolicy {} admits the client is not known",
            spec.label(),
            quoted(names)
        ),
    )
    .explain(reason.clone());
    Some(Observation::new(Link::NetworkPolicy, finding))
}

/// The client's egress policies towards the backends (evaluated on pod IPs and target ports).
fn egress_to_backends(cx: &Context) -> Vec<Observation> {
    let Some(client) = cx.client else {
        return Vec::new();
    };
    let policies = cx.infra.policies.in_namespace(client.namespace);
    let mut observations = Vec::new();
    for (index, spec) in cx.subject.ports.iter().enumerate() {
        let backends = ready_backends(cx, index, spec);
        let decisions: Vec<(&Pod, Destination, Decision)> = backends
            .into_iter()
            .map(|(pod, dest)| {
                let backend = party(cx.index, pod, format!("backend pod {}", pods::name(pod)));
                let decision = decide(
                    policies,
                    Direction::Egress,
                    client.labels,
                    Some(&backend),
                    &dest,
                );
                (pod, dest, decision)
            })
            .collect();
        let dropped: Vec<_> = decisions
            .iter()
            .filter(|(_, _, d)| matches!(d, Decision::Dropped { .. }))
            .collect();
        let Some((
            _,
            dest,
            Decision::Dropped {
                policies: names,
                reasons,
            },
        )) = dropped.first()
        else {
            continue;
        };
        let all = dropped.len() == decisions.len();
        let mut finding = Finding::new(
            if all { Severity::Error } else { Severity::Warning },
            cx.subject.object(),
            "egress-policy-blocks",
            format!(
                "egress NetworkPolicy {} of the client {} drops its traffic to {} of {} backend{} on {}",
                quoted(names),
                client.label(),
                dropped.len(),
                decisions.len(),
                plural(decisions.len()),
                dest.describe()
            ),
        )
        .explain(
            "The client pod is selected by egress policies, which isolates its outgoing traffic: a connection leaves \
             only if a rule admits the destination pod and port. Policies see the backend pod's IP and target port, \
             after the Service's cluster IP is translated.",
        );
        for reason in reasons.iter().take(6) {
            finding = finding.evidence(reason.clone(), policy_source(client.namespace, names));
        }
        finding = finding.remedy(Remedy::step(format!(
            "Add an egress rule to the client's namespace {} admitting the backends (pods {}) on {}",
            client.namespace,
            cx.subject.selector_text(),
            dest.describe()
        )));
        observations.push(Observation::new(
            Link::Client,
            enforcement_note(cx, finding),
        ));
    }
    observations
}
