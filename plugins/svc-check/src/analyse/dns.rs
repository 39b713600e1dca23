//! The DNS link: the cluster DNS Service (kube-dns, served by CoreDNS) must have ready endpoints,
//! and a `--from` client must use it (its dnsPolicy).

use k8s_openapi::api::core::v1::{Pod, Service};
use kube_runbook::{
    report::{Finding, ObjectRef, Remedy, Severity, Source},
    state::Kind,
};

use super::{Context, not_ready};
use crate::{
    chain::{Link, Observation},
    index::Index,
    labels::Labels,
    pods,
};

pub const DNS_NAMESPACE: &str = "kube-system";

/// The cluster DNS as found in kube-system.
pub struct ClusterDns<'a> {
    /// False when kube-system Services could not be read: nothing is claimed then.
    pub checked: bool,
    pub service: Option<&'a Service>,
    /// Ready endpoints of the DNS Service (any port).
    pub ready: usize,
    /// The pods behind it, ready or not.
    pub pods: Vec<&'a Pod>,
}

impl<'a> ClusterDns<'a> {
    pub fn detect(index: &Index<'a>) -> ClusterDns<'a> {
        let checked = index.lists(Kind::Service, DNS_NAMESPACE);
        let services = index.services_in(DNS_NAMESPACE);
        let is_dns_label = |s: &&Service| {
            s.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("k8s-app"))
                .is_some_and(|v| v == "kube-dns")
        };
        let service = services
            .iter()
            .copied()
            .find(|s| s.metadata.name.as_deref() == Some("kube-dns"))
            .or_else(|| services.iter().copied().find(is_dns_label))
            .or_else(|| {
                services.iter().copied().find(|s| {
                    s.metadata
                        .name
                        .as_deref()
                        .is_some_and(|n| n.contains("coredns"))
                })
            });
        let Some(service) = service else {
            return ClusterDns {
                checked,
                service: None,
                ready: 0,
                pods: Vec::new(),
            };
        };
        let name = service.metadata.name.as_deref().unwrap_or_default();
        let ready = index
            .slices_of(DNS_NAMESPACE, name)
            .iter()
            .flat_map(|s| s.endpoints.iter().flatten())
            .filter(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true))
            .count();
        let pods = service
            .spec
            .as_ref()
            .and_then(|s| s.selector.as_ref())
            .filter(|s| !s.is_empty())
            .map(|selector: &Labels| index.select(DNS_NAMESPACE, selector))
            .unwrap_or_default();
        ClusterDns {
            checked,
            service: Some(service),
            ready,
            pods,
        }
    }

    pub fn name(&self) -> Option<&'a str> {
        self.service.and_then(|s| s.metadata.name.as_deref())
    }

    pub fn cluster_ip(&self) -> Option<&'a str> {
        self.service
            .and_then(|s| s.spec.as_ref())
            .and_then(|s| s.cluster_ip.as_deref())
            .filter(|ip| !ip.is_empty() && *ip != "None")
    }

    /// The ready DNS server pods, for egress evaluation.
    pub fn ready_pods(&self) -> impl Iterator<Item = &'a Pod> + '_ {
        self.pods.iter().copied().filter(|p| pods::is_ready(p))
    }
}

pub fn check(cx: &Context) -> Vec<Observation> {
    let mut observations = Vec::new();
    let dns = &cx.infra.dns;
    if dns.checked {
        match dns.service {
            None => observations.push(not_found(cx)),
            Some(_) if dns.ready == 0 => observations.push(down(cx, dns)),
            Some(_) => {}
        }
    }
    observations.extend(client_policy(cx));
    observations
}

fn not_found(cx: &Context) -> Observation {
    let finding = Finding::new(
        Severity::Info,
        cx.subject.object(),
        "cluster-dns-not-found",
        format!("no cluster DNS Service found in {DNS_NAMESPACE}: whether {} resolves is not checked", cx.subject.dns_name()),
    )
    .explain(
        "Pods resolve Service names through the cluster DNS Service, kube-dns in kube-system (served by CoreDNS) in \
         almost every distribution. None was found under that name, the k8s-app=kube-dns label, or a coredns name.",
    )
    .remedy(Remedy::command(
        "Find the DNS Service the pods use (their /etc/resolv.conf nameserver)",
        format!("kubectl get svc -n {DNS_NAMESPACE} -o wide"),
    ));
    Observation::new(Link::Dns, finding)
}

fn down(cx: &Context, dns: &ClusterDns) -> Observation {
    let name = dns.name().unwrap_or("kube-dns");
    let object = ObjectRef::namespaced("Service", DNS_NAMESPACE, name);
    let mut finding = Finding::new(
        Severity::Error,
        cx.subject.object(),
        "cluster-dns-down",
        format!(
            "the cluster DNS ({DNS_NAMESPACE}/{name}) has no ready endpoint, so {} does not resolve",
            cx.subject.dns_name()
        ),
    )
    .explain(
        "Every lookup of a Service name goes to the cluster DNS Service. With no ready DNS server behind it, \
         lookups time out; clients that use the cluster IP directly still get through.",
    )
    .evidence(
        format!("{DNS_NAMESPACE}/{name} has no ready endpoint"),
        Source::Object { object },
    );
    match dns.pods.first() {
        Some(pod) => {
            let reason = not_ready::why(cx, pod);
            finding = finding.evidence(
                format!("DNS pod {}: {}", pods::name(pod), reason.text),
                reason.source,
            );
            if let Some(handoff) = reason.handoff {
                finding = finding.remedy(Remedy::command(
                    format!("Find out why DNS pod {} is not running", pods::name(pod)),
                    handoff,
                ));
            }
        }
        None => {
            finding = finding.evidence(
                format!("no pod matches the selector of {DNS_NAMESPACE}/{name}"),
                Source::Computed,
            );
        }
    }
    finding = finding.remedy(Remedy::command(
        "Check the DNS deployment",
        format!("kubectl get deploy,pods -n {DNS_NAMESPACE} -l k8s-app=kube-dns -o wide"),
    ));
    Observation::new(Link::Dns, finding)
}

/// A `--from` client that does not query the cluster DNS cannot resolve Service names.
fn client_policy(cx: &Context) -> Option<Observation> {
    let client = cx.client?;
    let spec = client.pod.spec.as_ref()?;
    let policy = spec.dns_policy.as_deref().unwrap_or("ClusterFirst");
    let host_network = pods::host_network(client.pod);
    let object = ObjectRef::namespaced("Pod", client.namespace, client.name);
    let source = Source::Field {
        object,
        path: "spec.dnsPolicy".into(),
    };
    let (severity, title, explanation) = match policy {
        "Default" => (
            Severity::Error,
            format!("the client {} uses dnsPolicy Default: it cannot resolve {}", client.label(), cx.subject.dns_name()),
            "dnsPolicy Default means the node's resolver, which knows nothing of Services.".to_string(),
        ),
        "ClusterFirst" if host_network => (
            Severity::Error,
            format!(
                "the client {} runs on the host network with dnsPolicy ClusterFirst, so it uses the node's resolver",
                client.label()
            ),
            "A hostNetwork pod with ClusterFirst falls back to the node's resolver; only ClusterFirstWithHostNet makes it query the cluster DNS.".to_string(),
        ),
        "None" => {
            let servers = spec
                .dns_config
                .as_ref()
                .and_then(|c| c.nameservers.clone())
                .unwrap_or_default();
            let cluster_ip = cx.infra.dns.cluster_ip()?;
            if servers.iter().any(|s| s == cluster_ip) {
                return None;
            }
            (
                Severity::Warning,
                format!(
                    "the client {} uses dnsPolicy None with nameservers {} and not the cluster DNS {cluster_ip}",
                    client.label(),
                    servers.join(", ")
                ),
                "With dnsPolicy None only the pod's dnsConfig is used; Service names resolve only if one of those servers forwards cluster.local to the cluster DNS.".to_string(),
            )
        }
        _ => return None,
    };
    let finding = Finding::new(severity, cx.subject.object(), "client-dns-policy", title)
        .explain(explanation)
        .evidence(
            format!("dnsPolicy: {policy}, hostNetwork: {host_network}"),
            source,
        )
        .remedy(Remedy::step(if host_network {
            "Set dnsPolicy: ClusterFirstWithHostNet on the client pod"
        } else {
            "Set dnsPolicy: ClusterFirst on the client pod, or use the Service's cluster IP"
        }));
    Some(Observation::new(Link::Dns, finding))
}
