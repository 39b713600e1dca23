//! Ingress policies that drop the traffic to backends of one port: which, to how many, and the
//! policy that would admit it. For a hostNetwork client the outcome is the network plugin's.

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::report::{Finding, Remedy, Severity};
use serde_json::json;

use super::{Destination, enforcement_note, host_network, policy_source, quoted};
use crate::{
    analyse::Context,
    chain::{Link, Observation},
    client::ClientPod,
    labels::Labels,
    model::PortSpec,
    pods,
};

/// Backends of one port whose ingress policies drop the traffic: the first one, and how many.
pub struct Dropped<'d> {
    pub pod: &'d Pod,
    pub dest: &'d Destination,
    pub names: &'d [&'d str],
    pub reasons: &'d [String],
    pub dropped: usize,
    pub total: usize,
}

impl Dropped<'_> {
    fn all(&self) -> bool {
        self.dropped == self.total
    }
}

const HOST_CLIENT: &str = "Kubernetes leaves NetworkPolicy for traffic from hostNetwork pods to the network plugin. \
     Some match it by the node's IP, overlays (Calico IPIP or VXLAN, flannel) send it from a tunnel or bridge \
     address, and Cilium admits traffic from the local host by default. Judged by the node's IP, no rule admits \
     it; whether the connection is really dropped depends on the network plugin.";

pub fn observation(cx: &Context, spec: &PortSpec, drop: &Dropped) -> Observation {
    let host_client = cx.client.filter(|c| pods::host_network(c.pod));
    let (severity, code) = match (host_client, drop.all()) {
        (Some(_), _) => (Severity::Warning, "network-policy-host-client"),
        (None, true) => (Severity::Error, "network-policy-blocks"),
        (None, false) => (Severity::Warning, "network-policy-blocks-some"),
    };
    let explanation = match host_client {
        Some(_) => format!("{} {HOST_CLIENT}", isolation(spec, drop)),
        None => format!(
            "{} None does, so the packets are dropped and the client waits until it times out.",
            isolation(spec, drop)
        ),
    };
    let mut finding =
        Finding::new(severity, cx.subject.object(), code, title(cx, drop)).explain(explanation);
    if let Some((fact, source)) = cx.client.and_then(host_network::client_evidence) {
        finding = finding.evidence(fact, source);
    }
    for reason in drop.reasons.iter().take(6) {
        finding = finding.evidence(
            reason.clone(),
            policy_source(cx.subject.namespace, drop.names),
        );
    }
    finding = finding.remedy(allow(cx, drop.dest)).details(json!({
        "policies": drop.names,
        "port": drop.dest.describe(),
        "droppedBackends": drop.dropped,
        "backends": drop.total,
    }));
    Observation::new(Link::NetworkPolicy, enforcement_note(cx, finding))
}

fn title(cx: &Context, drop: &Dropped) -> String {
    let (policy_word, verb) = if drop.names.len() == 1 {
        ("NetworkPolicy", "drops")
    } else {
        ("NetworkPolicies", "drop")
    };
    let to = if drop.all() {
        format!("port {} of its pods", drop.dest.describe())
    } else {
        format!(
            "{} of {} backends on {}",
            drop.dropped,
            drop.total,
            drop.dest.describe()
        )
    };
    let names = quoted(drop.names);
    match cx.client {
        Some(client) if pods::host_network(client.pod) => format!(
            "{policy_word} {names} may drop traffic from the hostNetwork client {} to {to}: the outcome depends on the network plugin",
            client.label()
        ),
        Some(client) => format!(
            "{policy_word} {names} {verb} traffic from {} to {to}",
            client.label()
        ),
        None => format!("{policy_word} {names} {verb} traffic from any source to {to}"),
    }
}

/// Why policies decide at all: they isolate the pod they select.
fn isolation(spec: &PortSpec, drop: &Dropped) -> String {
    format!(
        "Pod {} is selected by {} for ingress, which isolates it: policies are additive allow lists, and a \
         connection passes only if some rule of one of them admits its source and port ({} after the Service \
         port {} is translated).",
        pods::name(drop.pod),
        quoted(drop.names),
        drop.dest.describe(),
        spec.port
    )
}

/// One more policy admitting the client (anyone, without `--from`) to the backends' port.
fn allow(cx: &Context, dest: &Destination) -> Remedy {
    let namespace = cx.subject.namespace;
    let selector = match cx.subject.selector {
        Some(labels) => format!("\n    matchLabels:\n{}", yaml_labels(labels, 6)),
        None => " {}".to_string(),
    };
    let title = match cx.client {
        Some(client) if pods::host_network(client.pod) => {
            "Allow the client's node with one more policy (on an overlay such as Calico IPIP or VXLAN or flannel, the node's tunnel address may be needed instead of its IP)"
        }
        _ => {
            "Allow the traffic with one more policy (policies add up; nothing needs to be removed)"
        }
    };
    Remedy::yaml(
        title,
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: allow-{name}-{port}\n  namespace: {namespace}\nspec:\n  podSelector:{selector}\n  policyTypes: [Ingress]\n  ingress:\n  - from:\n{peer}\n    ports:\n    - port: {port}\n      protocol: {protocol}",
            name = cx.subject.name,
            port = dest.number,
            protocol = dest.protocol,
            peer = peer_yaml(cx.client, namespace),
        ),
    )
}

fn peer_yaml(client: Option<&ClientPod>, namespace: &str) -> String {
    match client {
        Some(client) if pods::host_network(client.pod) => {
            let ip = host_network::node_ip(client.pod).unwrap_or("NODE_IP");
            let bits = if ip.contains(':') { 128 } else { 32 };
            format!("    - ipBlock:\n        cidr: {ip}/{bits}")
        }
        Some(client) if client.namespace == namespace => {
            format!(
                "    - podSelector:\n        matchLabels:\n{}",
                yaml_labels(client.labels, 10)
            )
        }
        Some(client) => format!(
            "    - namespaceSelector:\n        matchLabels:\n          kubernetes.io/metadata.name: {}\n      podSelector:\n        matchLabels:\n{}",
            client.namespace,
            yaml_labels(client.labels, 10)
        ),
        None => "    - podSelector: {}".to_string(),
    }
}

fn yaml_labels(labels: &Labels, indent: usize) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{}{k}: \"{v}\"", " ".repeat(indent)))
        .collect::<Vec<_>>()
        .join("\n")
}
