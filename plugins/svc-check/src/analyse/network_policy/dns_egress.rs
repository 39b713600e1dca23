//! The client's egress policies towards the cluster DNS. Queries go out on 53/UDP, and on 53/TCP
//! when an answer is too large for UDP; they reach the CoreDNS pods or, with NodeLocal DNSCache,
//! the cache on the client's node.

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::report::{Finding, Remedy, Severity};

use super::{
    Decision, Destination, Direction, Party, Policy, decide, destination, enforcement_note,
    node_local_dns::NodeLocalDns, party, policy_source, quoted,
};
use crate::{
    analyse::{Context, dns::DNS_NAMESPACE},
    chain::{Link, Observation},
    client::ClientPod,
    labels, pods,
};

/// Why one protocol's queries are dropped everywhere they could go.
struct DroppedQueries<'p> {
    policies: Vec<&'p str>,
    reasons: Vec<String>,
}

pub fn check(cx: &Context) -> Option<Observation> {
    let client = cx.client?;
    let policies = cx.infra.policies.in_namespace(client.namespace);
    let servers: Vec<&Pod> = cx.infra.dns.ready_pods().collect();
    let cache = NodeLocalDns::detect(cx.index, policies);
    if servers.is_empty() && cache.is_none() {
        return None;
    }
    let cache = cache.as_ref();
    let route = |protocol| dropped(cx, client, policies, &servers, cache, protocol);
    let (severity, code, explanation, drop) = match (route("UDP"), route("TCP")) {
        (Some(udp), _) => (Severity::Error, "egress-policy-blocks-dns", BLOCKED, udp),
        (None, Some(tcp)) => (
            Severity::Warning,
            "egress-policy-blocks-dns-tcp",
            UDP_ONLY,
            tcp,
        ),
        (None, None) => return None,
    };
    let policy = format!(
        "egress NetworkPolicy {} of the client {}",
        quoted(&drop.policies),
        client.label()
    );
    let title = if severity == Severity::Error {
        format!(
            "{policy} drops its DNS queries (53/UDP) {}, so {} does not resolve",
            destinations(cache),
            cx.subject.dns_name()
        )
    } else {
        format!(
            "{policy} admits DNS over 53/UDP but drops 53/TCP {}",
            destinations(cache)
        )
    };
    let finding = Finding::new(severity, cx.subject.object(), code, title).explain(explanation);
    let finding = remedy(with_evidence(finding, client, &drop, cache), cache);
    Some(Observation::new(Link::Dns, enforcement_note(cx, finding)))
}

/// The drop when no DNS server (the CoreDNS pods, the node's cache) admits `protocol` on 53.
fn dropped<'p>(
    cx: &Context,
    client: &ClientPod,
    policies: &'p [Policy<'p>],
    servers: &[&Pod],
    cache: Option<&NodeLocalDns>,
    protocol: &str,
) -> Option<DroppedQueries<'p>> {
    let mut targets: Vec<(Party, Destination)> = servers
        .iter()
        .map(|pod| {
            let server = party(cx.index, pod, format!("DNS pod {}", pods::name(pod)));
            (server, destination(pod, 53, protocol, Some(53)))
        })
        .collect();
    if let Some(cache) = cache {
        let node_cache = Party {
            namespace: DNS_NAMESPACE,
            labels: labels::or_empty(None),
            namespace_labels: cx.index.namespace_labels(DNS_NAMESPACE),
            ip: Some(cache.address),
            called: "the NodeLocal DNSCache".into(),
            host_network: true,
        };
        let port = Destination {
            number: 53,
            name: None,
            protocol: protocol.to_string(),
            service_port: Some(53),
        };
        targets.push((node_cache, port));
    }
    let mut drop = DroppedQueries {
        policies: Vec::new(),
        reasons: Vec::new(),
    };
    for (server, dest) in &targets {
        match decide(
            policies,
            Direction::Egress,
            client.labels,
            Some(server),
            dest,
        ) {
            Decision::Dropped {
                policies: names,
                reasons,
            } => {
                drop.policies = names;
                drop.reasons.extend(reasons);
            }
            _ => return None,
        }
    }
    drop.reasons.dedup();
    Some(drop)
}

fn destinations(cache: Option<&NodeLocalDns>) -> String {
    match cache {
        Some(cache) => format!(
            "to the cluster DNS and to the NodeLocal DNSCache at {}",
            cache.address
        ),
        None => "to the cluster DNS".to_string(),
    }
}

fn with_evidence(
    mut finding: Finding,
    client: &ClientPod,
    drop: &DroppedQueries,
    cache: Option<&NodeLocalDns>,
) -> Finding {
    if let Some(cache) = cache {
        finding = finding.evidence(
            format!(
                "NodeLocal DNSCache at {} ({}): queries may be answered on the client's node",
                cache.address, cache.seen
            ),
            cache.source.clone(),
        );
    }
    for reason in drop.reasons.iter().take(6) {
        finding = finding.evidence(
            reason.clone(),
            policy_source(client.namespace, &drop.policies),
        );
    }
    finding
}

const BLOCKED: &str = "An egress-isolated pod may only send what its rules admit. A policy that admits the backends \
     but not the cluster DNS breaks every lookup by name; the cluster IP still works.";

const UDP_ONLY: &str = "Lookups work until an answer is too large for UDP (a headless Service with many pods, long \
     TXT or DNSSEC records): the server then truncates it and the resolver retries over TCP, which is dropped, so \
     the lookup fails. Some clients always use TCP. A policy must admit both 53/UDP and 53/TCP to the cluster DNS.";

fn remedy(finding: Finding, cache: Option<&NodeLocalDns>) -> Finding {
    let ports = "  ports:\n  - port: 53\n    protocol: UDP\n  - port: 53\n    protocol: TCP";
    let mut yaml = format!(
        "egress:\n- to:\n  - namespaceSelector:\n      matchLabels:\n        kubernetes.io/metadata.name: {DNS_NAMESPACE}\n    podSelector:\n      matchLabels:\n        k8s-app: kube-dns\n{ports}"
    );
    if let Some(cache) = cache {
        let bits = if cache.address.is_ipv6() { 128 } else { 32 };
        yaml.push_str(&format!(
            "\n- to:\n  - ipBlock:\n      cidr: {}/{bits}\n{ports}",
            cache.address
        ));
    }
    finding.remedy(Remedy::yaml(
        "Admit DNS over UDP and TCP in the client's egress policy",
        yaml,
    ))
}

#[cfg(test)]
mod tests {
    use kube_runbook::report::Severity;
    use serde_json::{Value, json};

    use crate::testing::{Fixture, assert_verdict, facts, find, remedy_yaml};

    const TO_WEB: &str =
        r#"{"to": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": 8080}]}"#;

    /// `shop/client` whose egress policy admits the backends plus `dns` (egress rules).
    fn client_with(dns: &[Value]) -> Fixture {
        let mut egress: Vec<Value> = vec![serde_json::from_str(TO_WEB).unwrap()];
        egress.extend(dns.iter().cloned());
        Fixture::client_with_egress(json!(egress))
    }

    fn dns_on(protocols: &[&str], to: Value) -> Value {
        let ports: Vec<Value> = protocols
            .iter()
            .map(|p| json!({"port": 53, "protocol": p}))
            .collect();
        json!({"to": [to], "ports": ports})
    }

    fn kube_dns() -> Value {
        json!({"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}})
    }

    fn with_node_local_dns(f: &mut Fixture) {
        f.daemon_set(json!({"metadata": {"name": "node-local-dns", "namespace": "kube-system"}}));
    }

    #[test]
    fn dns_over_udp_alone_is_a_warning() {
        let findings = client_with(&[dns_on(&["UDP"], kube_dns())]).check_web(Some("client"));
        assert_verdict(&findings, "service-degraded");
        let tcp = find(&findings, "egress-policy-blocks-dns-tcp");
        assert_eq!(tcp.severity, Severity::Warning);
        assert_eq!(
            tcp.title,
            "egress NetworkPolicy \"client-egress\" of the client shop/client admits DNS over 53/UDP but drops 53/TCP to the cluster DNS"
        );
        assert!(
            facts(tcp).contains("allows ports 8080/TCP, not 53/TCP"),
            "{}",
            facts(tcp)
        );
        let both = client_with(&[dns_on(&["UDP", "TCP"], kube_dns())]).check_web(Some("client"));
        assert_verdict(&both, "service-reachable");
    }

    #[test]
    fn udp_dropped_is_an_error_whatever_tcp_does() {
        let findings = client_with(&[dns_on(&["TCP"], kube_dns())]).check_web(Some("client"));
        assert_eq!(findings[0].details["culprit"], "egress-policy-blocks-dns");
        assert_eq!(
            find(&findings, "egress-policy-blocks-dns").title,
            "egress NetworkPolicy \"client-egress\" of the client shop/client drops its DNS queries (53/UDP) to the cluster DNS, so web.shop.svc does not resolve"
        );
    }

    #[test]
    fn a_node_local_cache_admitted_by_ip_block_resolves() {
        let cache = json!({"ipBlock": {"cidr": "169.254.20.10/32"}});
        let mut f = client_with(&[dns_on(&["UDP", "TCP"], cache)]);
        let findings = f.check_web(Some("client"));
        assert_verdict(&findings, "service-reachable");
        with_node_local_dns(&mut f);
        let findings = f.check_web(Some("client"));
        assert_verdict(&findings, "service-reachable");
    }

    #[test]
    fn with_a_node_local_cache_both_destinations_are_named() {
        let mut f = client_with(&[]);
        with_node_local_dns(&mut f);
        let findings = f.check_web(Some("client"));
        let blocked = find(&findings, "egress-policy-blocks-dns");
        assert_eq!(
            blocked.title,
            "egress NetworkPolicy \"client-egress\" of the client shop/client drops its DNS queries (53/UDP) to the cluster DNS and to the NodeLocal DNSCache at 169.254.20.10, so web.shop.svc does not resolve"
        );
        assert!(
            facts(blocked).contains(
                "NodeLocal DNSCache at 169.254.20.10 (DaemonSet kube-system/node-local-dns)"
            ),
            "{}",
            facts(blocked)
        );
        assert!(
            remedy_yaml(blocked).contains("ipBlock:\n      cidr: 169.254.20.10/32"),
            "{}",
            remedy_yaml(blocked)
        );
    }
}
