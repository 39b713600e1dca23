//! The client's egress policies towards the cluster DNS. Queries go out on 53/UDP, and on 53/TCP
//! when an answer is too large for UDP; they reach the CoreDNS pods or, with NodeLocal DNSCache,
//! the cache on the client's node.

use std::net::IpAddr;

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

/// Why one protocol's queries are dropped: everywhere they could go, or at an address of a
/// running cache.
struct DroppedQueries<'p> {
    policies: Vec<&'p str>,
    reasons: Vec<String>,
    /// The addresses dropped, of the servers that have one.
    to: Vec<IpAddr>,
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
            destinations(cache, &drop),
            cx.subject.dns_name()
        )
    } else {
        format!(
            "{policy} admits DNS over 53/UDP but drops 53/TCP {}",
            destinations(cache, &drop)
        )
    };
    let explanation = match cache {
        Some(cache) if cache.running => format!("{explanation} {CACHE}"),
        _ => explanation.to_string(),
    };
    let finding = Finding::new(severity, cx.subject.object(), code, title).explain(explanation);
    let finding = remedy(with_evidence(finding, client, &drop, cache), cache);
    Some(Observation::new(Link::Dns, enforcement_note(cx, finding)))
}

/// The drop when the servers the client queries do not admit `protocol` on 53: every one of
/// the cache's addresses when it runs, else any of the CoreDNS pods or a cache a policy suggests.
fn dropped<'p>(
    cx: &Context,
    client: &ClientPod,
    policies: &'p [Policy<'p>],
    servers: &[&Pod],
    cache: Option<&NodeLocalDns>,
    protocol: &str,
) -> Option<DroppedQueries<'p>> {
    let mut drop = DroppedQueries {
        policies: Vec::new(),
        reasons: Vec::new(),
        to: Vec::new(),
    };
    let (mut admitted, mut refused) = (false, false);
    for (server, dest) in &targets(cx, servers, cache, protocol) {
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
                drop.to.extend(server.ip);
                refused = true;
            }
            _ => admitted = true,
        }
    }
    let every_one_needed = cache.is_some_and(|c| c.running);
    if !refused || (admitted && !every_one_needed) {
        return None;
    }
    drop.reasons.dedup();
    Some(drop)
}

/// Where the client's queries may go on 53/`protocol`.
fn targets<'a>(
    cx: &Context<'a, '_>,
    servers: &[&'a Pod],
    cache: Option<&NodeLocalDns>,
    protocol: &str,
) -> Vec<(Party<'a>, Destination)> {
    let on_port = || Destination {
        number: 53,
        name: None,
        protocol: protocol.to_string(),
        service_port: Some(53),
    };
    let cache_targets = cache
        .into_iter()
        .flat_map(|cache| &cache.addresses)
        .map(|address| {
            let node_cache = Party {
                namespace: DNS_NAMESPACE,
                labels: labels::or_empty(None),
                namespace_labels: cx.index.namespace_labels(DNS_NAMESPACE),
                ip: Some(*address),
                called: format!("the NodeLocal DNSCache at {address}"),
                host_network: true,
            };
            (node_cache, on_port())
        });
    if cache.is_some_and(|c| c.running) {
        return cache_targets.collect();
    }
    servers
        .iter()
        .map(|pod| {
            let server = party(cx.index, pod, format!("DNS pod {}", pods::name(pod)));
            (server, destination(pod, 53, protocol, Some(53)))
        })
        .chain(cache_targets)
        .collect()
}

fn destinations(cache: Option<&NodeLocalDns>, drop: &DroppedQueries) -> String {
    match cache {
        Some(cache) if cache.running => {
            format!("to the NodeLocal DNSCache at {}", joined(&drop.to))
        }
        Some(cache) => format!(
            "to the cluster DNS and to the NodeLocal DNSCache at {}",
            joined(&cache.addresses)
        ),
        None => "to the cluster DNS".to_string(),
    }
}

fn joined(addresses: &[IpAddr]) -> String {
    let addresses: Vec<String> = addresses.iter().map(IpAddr::to_string).collect();
    addresses.join(", ")
}

fn with_evidence(
    mut finding: Finding,
    client: &ClientPod,
    drop: &DroppedQueries,
    cache: Option<&NodeLocalDns>,
) -> Finding {
    if let Some(cache) = cache {
        let answered = if cache.running {
            "queries go to the cache on the client's node, not to the CoreDNS pods"
        } else {
            "queries may be answered on the client's node"
        };
        finding = finding.evidence(
            format!(
                "NodeLocal DNSCache at {} ({}): {answered}",
                joined(&cache.addresses),
                cache.seen
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

const CACHE: &str = "With NodeLocal DNSCache running, pods query the cache on their node: at its link-local \
     address, or in iptables mode at the kube-dns ClusterIP, which the cache binds untracked so the query is never \
     translated to a CoreDNS pod. Admitting the CoreDNS pods is then not enough; which address a pod uses depends on \
     the kubelet's --cluster-dns, so every address in the cache's -localip must be admitted.";

fn remedy(finding: Finding, cache: Option<&NodeLocalDns>) -> Finding {
    let ports = "  ports:\n  - port: 53\n    protocol: UDP\n  - port: 53\n    protocol: TCP";
    let mut yaml = format!(
        "egress:\n- to:\n  - namespaceSelector:\n      matchLabels:\n        kubernetes.io/metadata.name: {DNS_NAMESPACE}\n    podSelector:\n      matchLabels:\n        k8s-app: kube-dns\n{ports}"
    );
    if let Some(cache) = cache {
        yaml.push_str("\n- to:");
        for address in &cache.addresses {
            let bits = if address.is_ipv6() { 128 } else { 32 };
            yaml.push_str(&format!("\n  - ipBlock:\n      cidr: {address}/{bits}"));
        }
        yaml.push_str(&format!("\n{ports}"));
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

    /// The cache in iptables mode: on its link-local address and the kube-dns ClusterIP.
    fn with_iptables_node_local_dns(f: &mut Fixture) {
        f.daemon_set(
            json!({"metadata": {"name": "node-local-dns", "namespace": "kube-system"},
            "spec": {"selector": {}, "template": {"spec": {"containers": [{"name": "node-cache",
                "args": ["-localip", "169.254.20.10,10.96.0.10"]}]}}}}),
        );
    }

    fn ip_block(cidr: &str) -> Value {
        json!({"ipBlock": {"cidr": cidr}})
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
        let mut f = client_with(&[dns_on(&["UDP", "TCP"], ip_block("169.254.20.10/32"))]);
        let findings = f.check_web(Some("client"));
        assert_verdict(&findings, "service-reachable");
        with_node_local_dns(&mut f);
        let findings = f.check_web(Some("client"));
        assert_verdict(&findings, "service-reachable");
    }

    #[test]
    fn a_cache_known_from_a_policy_alone_is_one_destination_among_the_dns_pods() {
        let f = client_with(&[dns_on(&["UDP"], ip_block("169.254.20.10/32"))]);
        let findings = f.check_web(Some("client"));
        assert_eq!(
            find(&findings, "egress-policy-blocks-dns-tcp").title,
            "egress NetworkPolicy \"client-egress\" of the client shop/client admits DNS over 53/UDP but drops 53/TCP to the cluster DNS and to the NodeLocal DNSCache at 169.254.20.10"
        );
    }

    #[test]
    fn core_dns_admitted_but_not_the_running_cache_blocks_dns() {
        let mut f = client_with(&[dns_on(&["UDP", "TCP"], kube_dns())]);
        assert_verdict(&f.check_web(Some("client")), "service-reachable");
        with_node_local_dns(&mut f);
        let findings = f.check_web(Some("client"));
        let blocked = find(&findings, "egress-policy-blocks-dns");
        assert_eq!(blocked.severity, Severity::Error);
        assert_eq!(
            blocked.title,
            "egress NetworkPolicy \"client-egress\" of the client shop/client drops its DNS queries (53/UDP) to the NodeLocal DNSCache at 169.254.20.10, so web.shop.svc does not resolve"
        );
        assert!(
            facts(blocked)
                .contains("queries go to the cache on the client's node, not to the CoreDNS pods"),
            "{}",
            facts(blocked)
        );
    }

    #[test]
    fn every_address_of_the_running_cache_must_be_admitted() {
        let link_local = dns_on(&["UDP", "TCP"], ip_block("169.254.20.10/32"));
        let mut f = client_with(&[link_local]);
        with_iptables_node_local_dns(&mut f);
        let findings = f.check_web(Some("client"));
        let blocked = find(&findings, "egress-policy-blocks-dns");
        assert_eq!(
            blocked.title,
            "egress NetworkPolicy \"client-egress\" of the client shop/client drops its DNS queries (53/UDP) to the NodeLocal DNSCache at 10.96.0.10, so web.shop.svc does not resolve"
        );
        assert!(
            remedy_yaml(blocked).contains(
                "- to:\n  - ipBlock:\n      cidr: 169.254.20.10/32\n  - ipBlock:\n      cidr: 10.96.0.10/32\n  ports:"
            ),
            "{}",
            remedy_yaml(blocked)
        );

        let mut f = client_with(&[
            dns_on(&["UDP", "TCP"], ip_block("169.254.20.10/32")),
            dns_on(&["UDP", "TCP"], ip_block("10.96.0.10/32")),
        ]);
        with_iptables_node_local_dns(&mut f);
        assert_verdict(&f.check_web(Some("client")), "service-reachable");
    }

    #[test]
    fn a_running_cache_is_named_in_findings_and_remedy() {
        let mut f = client_with(&[]);
        with_node_local_dns(&mut f);
        let findings = f.check_web(Some("client"));
        let blocked = find(&findings, "egress-policy-blocks-dns");
        assert_eq!(
            blocked.title,
            "egress NetworkPolicy \"client-egress\" of the client shop/client drops its DNS queries (53/UDP) to the NodeLocal DNSCache at 169.254.20.10, so web.shop.svc does not resolve"
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
