//! The links of one Service's chain as the user reads them: `DNS web.shop.svc`, `port 80/TCP on
//! 10.96.0.12`, `kube-proxy`, `targetPort "http" = 8080`, `3 endpoints`, `3 ready`.

use kube_runbook::state::Kind;

use crate::{
    analyse::{Context, load_balancer, ports, proxy::ServiceProxy},
    backends::Selection,
    chain::{Link, Step, plural},
    model::ServiceKind,
};

pub fn of(cx: &Context) -> Vec<Step> {
    let kind = cx.subject.kind;
    let links = [
        Link::Dns,
        Link::ServicePort,
        Link::Proxy,
        Link::TargetPort,
        Link::Endpoints,
        Link::ReadyPod,
        Link::NetworkPolicy,
    ];
    links
        .into_iter()
        .filter(|link| applies(kind, *link))
        .map(|link| {
            if checked(cx, link) {
                Step::new(link, text(cx, link))
            } else {
                Step::unchecked(link, text(cx, link))
            }
        })
        .collect()
}

/// Whether what the link depends on was read and found (else it shows as `?`).
fn checked(cx: &Context, link: Link) -> bool {
    let namespace = cx.subject.namespace;
    match link {
        Link::Dns => {
            cx.subject.kind == ServiceKind::ExternalName
                || (cx.infra.dns.checked && cx.infra.dns.service.is_some())
        }
        Link::Proxy => matches!(
            cx.infra.proxy,
            ServiceProxy::KubeProxy { .. } | ServiceProxy::Replacement { .. }
        ),
        Link::TargetPort | Link::ReadyPod => !matches!(cx.backends.selection, Selection::Unknown),
        Link::NetworkPolicy => cx.index.lists(Kind::NetworkPolicy, namespace),
        Link::Client | Link::ServicePort | Link::Endpoints => true,
    }
}

/// Whether a link exists for this kind of Service (ExternalName stops at DNS, headless has no proxy).
fn applies(kind: ServiceKind, link: Link) -> bool {
    match link {
        Link::Client | Link::Dns => true,
        Link::ServicePort => kind != ServiceKind::ExternalName,
        Link::Proxy => kind.is_proxied(),
        Link::TargetPort | Link::Endpoints | Link::ReadyPod | Link::NetworkPolicy => {
            kind.has_endpoints()
        }
    }
}

fn text(cx: &Context, link: Link) -> String {
    let subject = cx.subject;
    match link {
        Link::Client => "client".into(),
        Link::Dns => match subject.kind {
            ServiceKind::ExternalName => format!(
                "DNS {} = CNAME {}",
                subject.dns_name(),
                subject
                    .spec()
                    .and_then(|s| s.external_name.as_deref())
                    .unwrap_or_default()
            ),
            ServiceKind::Headless => format!("DNS {} = pod IPs", subject.dns_name()),
            _ => format!("DNS {}", subject.dns_name()),
        },
        Link::ServicePort => service_port(cx),
        Link::Proxy => cx.infra.proxy.describe().to_string(),
        Link::TargetPort => match cx.backends.selection {
            Selection::Manual => "ports of the EndpointSlices".into(),
            Selection::Pods(_) | Selection::Unknown => {
                let parts: Vec<String> = subject
                    .ports
                    .iter()
                    .map(|p| ports::describe(cx, p))
                    .collect();
                if parts.is_empty() {
                    "no ports (any port on the pod IPs)".into()
                } else {
                    parts.join(", ")
                }
            }
        },
        Link::Endpoints => {
            let count = cx.backends.distinct().len();
            format!("{count} endpoint{}", plural(count))
        }
        Link::ReadyPod => format!("{} ready", cx.backends.fewest_ready()),
        Link::NetworkPolicy => {
            if !cx.index.lists(Kind::NetworkPolicy, subject.namespace) {
                "NetworkPolicies".into()
            } else {
                let count = cx.infra.policies.in_namespace(subject.namespace).len();
                match count {
                    0 => "no NetworkPolicy".into(),
                    n => format!("{n} NetworkPolic{}", if n == 1 { "y" } else { "ies" }),
                }
            }
        }
    }
}

fn service_port(cx: &Context) -> String {
    let subject = cx.subject;
    let ports: Vec<String> = subject.ports.iter().map(|p| p.label()).collect();
    let ports = if ports.is_empty() {
        "no ports".to_string()
    } else {
        format!("port {}", ports.join(", "))
    };
    let mut text = match subject.cluster_ip() {
        Some(ip) => format!("{ports} on {ip}"),
        None if subject.kind == ServiceKind::Headless => format!("{ports} (no virtual IP)"),
        None => ports,
    };
    let node_ports: Vec<String> = subject
        .ports
        .iter()
        .filter_map(|p| p.node_port.map(|n| n.to_string()))
        .collect();
    if matches!(
        subject.kind,
        ServiceKind::NodePort | ServiceKind::LoadBalancer
    ) && !node_ports.is_empty()
    {
        text.push_str(&format!(", node port {}", node_ports.join(", ")));
    }
    if subject.kind == ServiceKind::LoadBalancer {
        let addresses = load_balancer::external_addresses(subject);
        if addresses.is_empty() {
            text.push_str(", EXTERNAL-IP <pending>");
        } else {
            text.push_str(&format!(", EXTERNAL-IP {}", addresses.join(", ")));
        }
    }
    text
}
