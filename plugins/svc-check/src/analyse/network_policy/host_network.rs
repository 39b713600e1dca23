//! Pods on the host network share their node's network namespace: NetworkPolicies do not isolate
//! them, and their traffic carries the node's IP, which only ipBlock peers can match.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::report::{Finding, ObjectRef, Severity, Source};

use super::{Policy, quoted};
use crate::{
    analyse::Context,
    chain::{Link, Observation, plural},
    client::ClientPod,
    pods,
};

/// The address a hostNetwork pod's traffic comes from: its node's IP.
pub fn node_ip(pod: &Pod) -> Option<&str> {
    pods::host_ip(pod).or_else(|| pods::ip(pod))
}

/// Evidence that a hostNetwork client was evaluated by its node IP alone.
pub fn client_evidence(client: &ClientPod) -> Option<(String, Source)> {
    if !pods::host_network(client.pod) {
        return None;
    }
    let fact = format!(
        "the client {} runs on the host network, so its traffic comes from its node's IP {} (some network plugins use a tunnel address instead): only ipBlock peers can admit it",
        client.label(),
        node_ip(client.pod).unwrap_or("(unknown)")
    );
    let source = Source::Field {
        object: ObjectRef::namespaced("Pod", client.namespace, client.name),
        path: "spec.hostNetwork".into(),
    };
    Some((fact, source))
}

/// Ready backends on the host network that ingress policies select but cannot isolate.
pub fn unpoliced_backends(cx: &Context, policies: &[Policy]) -> Option<Observation> {
    let mut selecting = BTreeSet::new();
    let mut backends = BTreeSet::new();
    for pod in cx
        .backends
        .per_port
        .iter()
        .flatten()
        .filter(|e| e.ready)
        .filter_map(|e| e.pod)
        .filter(|p| pods::host_network(p))
    {
        let names: Vec<&str> = policies
            .iter()
            .filter(|p| p.ingress.is_some() && p.selects(pods::labels(pod)))
            .map(|p| p.name)
            .collect();
        if !names.is_empty() {
            backends.insert(pods::name(pod));
            selecting.extend(names);
        }
    }
    if backends.is_empty() {
        return None;
    }
    let names: Vec<&str> = selecting.into_iter().collect();
    let backends: Vec<&str> = backends.into_iter().collect();
    let finding = Finding::new(
        Severity::Info,
        cx.subject.object(),
        "network-policy-host-network",
        format!(
            "NetworkPolicy {} does not apply to {} backend{} on the host network: {}",
            quoted(&names),
            backends.len(),
            plural(backends.len()),
            backends.join(", ")
        ),
    )
    .explain(
        "A hostNetwork pod shares its node's network namespace, so NetworkPolicies do not isolate it: Kubernetes \
         leaves policy for such pods undefined, and most network plugins let every connection to the node \
         through. Protect these pods with the node's firewall instead.",
    )
    .evidence(
        format!("hostNetwork: true on {}", backends.join(", ")),
        Source::Computed,
    );
    Some(Observation::new(Link::NetworkPolicy, finding))
}

#[cfg(test)]
mod tests {
    use kube_runbook::report::Severity;
    use serde_json::json;

    use crate::testing::{Fixture, assert_verdict, codes, facts, find, pod, remedy_yaml};

    fn on_host_network(p: &mut serde_json::Value) {
        p["spec"]["hostNetwork"] = json!(true);
        p["status"]["hostIP"] = json!("192.168.0.1");
    }

    fn allow_from(from: serde_json::Value) -> serde_json::Value {
        json!({"metadata": {"name": "allow-client", "namespace": "shop"}, "spec": {
            "podSelector": {"matchLabels": {"app": "web"}},
            "ingress": [{"from": [from]}]
        }})
    }

    fn with_host_client(policy: serde_json::Value) -> Fixture {
        let mut f = Fixture::healthy_web();
        f.pod(pod(
            "shop",
            "agent",
            json!({"app": "client"}),
            "192.168.0.1",
            "n1",
        ))
        .edit_pod("agent", |p| {
            on_host_network(p);
            p["spec"]["dnsPolicy"] = json!("ClusterFirstWithHostNet");
        })
        .policy(policy);
        f
    }

    #[test]
    fn a_host_network_client_is_not_matched_by_pod_selectors() {
        let f = with_host_client(allow_from(
            json!({"podSelector": {"matchLabels": {"app": "client"}}}),
        ));
        let findings = f.check_web(Some("agent"));
        assert_verdict(&findings, "service-degraded");
        assert!(
            !codes(&findings).contains(&"network-policy-blocks"),
            "{:?}",
            codes(&findings)
        );
        let blocked = find(&findings, "network-policy-host-client");
        assert_eq!(blocked.severity, Severity::Warning);
        assert_eq!(
            blocked.title,
            "NetworkPolicy \"allow-client\" may drop traffic from the hostNetwork client shop/agent to port 8080/TCP of its pods: the outcome depends on the network plugin"
        );
        assert!(
            blocked
                .explanation
                .contains("Cilium admits traffic from the local host by default"),
            "{}",
            blocked.explanation
        );
        assert!(
            blocked.remediation[0]
                .description
                .contains("the node's tunnel address may be needed"),
            "{}",
            blocked.remediation[0].description
        );
        let evidence = facts(blocked);
        assert!(
            evidence.contains("the client shop/agent runs on the host network, so its traffic comes from its node's IP 192.168.0.1"),
            "{evidence}"
        );
        assert!(
            evidence.contains(
                "the client is on the host network, so its traffic carries its node's IP"
            ),
            "{evidence}"
        );
        assert!(
            remedy_yaml(blocked).contains("- ipBlock:\n        cidr: 192.168.0.1/32"),
            "{}",
            remedy_yaml(blocked)
        );
    }

    #[test]
    fn a_host_network_client_is_admitted_by_an_ip_block_for_its_node() {
        let f = with_host_client(allow_from(json!({"ipBlock": {"cidr": "192.168.0.0/24"}})));
        let findings = f.check_web(Some("agent"));
        assert_verdict(&findings, "service-reachable");
    }

    #[test]
    fn policies_do_not_apply_to_host_network_backends() {
        let mut f = Fixture::healthy_web();
        f.edit_pod("web-2", on_host_network).policy(
            json!({"metadata": {"name": "deny-all", "namespace": "shop"}, "spec": {"podSelector": {}}}),
        );
        let findings = f.check_web(None);
        let not_applied = find(&findings, "network-policy-host-network");
        assert_eq!(not_applied.severity, Severity::Info);
        assert_eq!(
            not_applied.title,
            "NetworkPolicy \"deny-all\" does not apply to 1 backend on the host network: web-2"
        );
        let some = find(&findings, "network-policy-blocks-some");
        assert_eq!(
            (&some.details["droppedBackends"], &some.details["backends"]),
            (&json!(1), &json!(2)),
            "web-2 is reached whatever the policy says"
        );
    }
}
