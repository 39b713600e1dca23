//! LoadBalancer Services: an EXTERNAL-IP that stays pending (003 6.8.2: its events, and whether any
//! load-balancer controller exists to assign one), and two Services sharing one balancer address
//! and port (003 6.8.6: traffic is forwarded at random).

use std::collections::{BTreeSet, HashMap};

use k8s_openapi::api::core::v1::Service;
use kube_runbook::{
    report::{Finding, ObjectRef, Remedy, Severity, Source},
    state::Kind,
};
use serde_json::json;

use super::Context;
use crate::{
    chain::{Link, Observation},
    index::Index,
    model::{ServiceKind, Subject},
};

/// Alibaba Cloud's annotation reusing an existing SLB (003 6.8.6).
const ALIBABA_LB_ID: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-id";

/// Workloads that assign LoadBalancer addresses, recognised by name (namespace for MetalLB).
const CONTROLLERS: [(&str, &str); 8] = [
    ("cloud-controller-manager", "cloud-controller-manager"),
    ("metallb", "MetalLB"),
    ("kube-vip", "kube-vip"),
    ("cilium-operator", "Cilium LB IPAM"),
    ("openelb", "OpenELB"),
    ("purelb", "PureLB"),
    ("loxilb", "LoxiLB"),
    (
        "aws-load-balancer-controller",
        "AWS Load Balancer Controller",
    ),
];

/// Node providerID schemes of clouds whose controller may run outside the cluster (managed).
const HOSTED_CLOUDS: [&str; 12] = [
    "aws",
    "gce",
    "azure",
    "openstack",
    "alicloud",
    "digitalocean",
    "hcloud",
    "linode",
    "vsphere",
    "oci",
    "ibm",
    "scaleway",
];

/// A workload that can assign LoadBalancer addresses.
#[derive(Debug, Clone)]
pub struct Controller {
    pub product: &'static str,
    pub object: ObjectRef,
    pub ready: bool,
}

pub struct LoadBalancers<'a> {
    /// Whether Deployments and DaemonSets of every namespace were read.
    pub checked: bool,
    pub controllers: Vec<Controller>,
    /// The cloud of the nodes' providerID, when it is one with a hosted controller.
    pub hosted_cloud: Option<String>,
    /// k3s nodes run the built-in ServiceLB.
    pub k3s: bool,
    /// LoadBalancer Services by address key (ip, hostname, LB id).
    by_address: HashMap<String, Vec<&'a Service>>,
    pub all_services_read: bool,
}

impl<'a> LoadBalancers<'a> {
    pub fn detect(index: &Index<'a>) -> LoadBalancers<'a> {
        let mut controllers = Vec::new();
        let workloads = index
            .deployments()
            .iter()
            .map(|d| {
                let ready = d
                    .status
                    .as_ref()
                    .and_then(|s| s.ready_replicas)
                    .unwrap_or(0)
                    > 0;
                ("Deployment", &d.metadata, ready)
            })
            .chain(index.daemon_sets().iter().map(|d| {
                let ready = d.status.as_ref().is_some_and(|s| s.number_ready > 0);
                ("DaemonSet", &d.metadata, ready)
            }));
        for (kind, meta, ready) in workloads {
            let name = meta.name.as_deref().unwrap_or_default();
            let namespace = meta.namespace.as_deref().unwrap_or_default();
            let product = if namespace == "metallb-system" {
                Some("MetalLB")
            } else if name.starts_with("ccm-") || name.ends_with("-ccm") {
                Some("cloud-controller-manager")
            } else {
                CONTROLLERS
                    .iter()
                    .find(|(needle, _)| name.contains(needle))
                    .map(|(_, product)| *product)
            };
            if let Some(product) = product {
                controllers.push(Controller {
                    product,
                    object: ObjectRef::namespaced(kind, namespace, name),
                    ready,
                });
            }
        }
        let hosted_cloud = index.nodes().find_map(|node| {
            let id = node.spec.as_ref()?.provider_id.as_deref()?;
            let scheme = id.split("://").next()?;
            HOSTED_CLOUDS.contains(&scheme).then(|| scheme.to_string())
        });
        let k3s = index.nodes().any(|node| {
            node.status
                .as_ref()
                .and_then(|s| s.node_info.as_ref())
                .is_some_and(|i| i.kubelet_version.contains("k3s"))
        });
        let mut by_address: HashMap<String, Vec<&Service>> = HashMap::new();
        for service in index
            .all_services()
            .filter(|s| ServiceKind::of(s) == ServiceKind::LoadBalancer)
        {
            for key in address_keys(service) {
                by_address.entry(key).or_default().push(service);
            }
        }
        LoadBalancers {
            checked: index.coverage.lists_everywhere(Kind::Deployment)
                && index.coverage.lists_everywhere(Kind::DaemonSet),
            controllers,
            hosted_cloud,
            k3s,
            by_address,
            all_services_read: index.coverage.lists_everywhere(Kind::Service),
        }
    }
}

/// The addresses a LoadBalancer Service has or asks for: `ip:1.2.3.4`, `host:x.elb`, `lb-id:...`.
fn address_keys(service: &Service) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let ingress = service
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|l| l.ingress.as_ref());
    for entry in ingress.into_iter().flatten() {
        if let Some(ip) = entry.ip.as_deref().filter(|ip| !ip.is_empty()) {
            keys.insert(format!("address {ip}"));
        }
        if let Some(host) = entry.hostname.as_deref().filter(|h| !h.is_empty()) {
            keys.insert(format!("address {host}"));
        }
    }
    if let Some(ip) = service
        .spec
        .as_ref()
        .and_then(|s| s.load_balancer_ip.as_deref())
        .filter(|ip| !ip.is_empty())
    {
        keys.insert(format!("address {ip}"));
    }
    if let Some(id) = service
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(ALIBABA_LB_ID))
    {
        keys.insert(format!("load balancer {id}"));
    }
    keys
}

/// Front-end ports: (port, protocol).
fn front_ports(service: &Service) -> BTreeSet<(i32, String)> {
    service
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_ref())
        .into_iter()
        .flatten()
        .map(|p| (p.port, p.protocol.clone().unwrap_or_else(|| "TCP".into())))
        .collect()
}

/// The assigned external addresses, empty while pending.
pub fn external_addresses<'s>(subject: &Subject<'s>) -> Vec<&'s str> {
    subject
        .service
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|l| l.ingress.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|i| i.ip.as_deref().or(i.hostname.as_deref()))
        .filter(|a| !a.is_empty())
        .collect()
}

pub fn check(cx: &Context) -> Vec<Observation> {
    if cx.subject.kind != ServiceKind::LoadBalancer {
        return Vec::new();
    }
    let mut observations = Vec::new();
    if external_addresses(cx.subject).is_empty() {
        observations.push(pending(cx));
    }
    observations.extend(conflicts(cx));
    observations
}

fn pending(cx: &Context) -> Observation {
    let subject = cx.subject;
    let lbs = &cx.infra.load_balancers;
    let class = subject
        .spec()
        .and_then(|s| s.load_balancer_class.as_deref());
    let events = cx.index.events_for(
        "Service",
        subject.namespace,
        subject.name,
        subject.service.metadata.uid.as_deref(),
    );
    let ready: Vec<&Controller> = lbs.controllers.iter().filter(|c| c.ready).collect();
    let cause = if !lbs.controllers.is_empty() && ready.is_empty() {
        let names: Vec<String> = lbs
            .controllers
            .iter()
            .map(|c| c.object.to_string())
            .collect();
        format!(
            "the load-balancer controller has no ready pod ({})",
            names.join(", ")
        )
    } else if let Some(event) = events.first() {
        format!(
            "the controller reports {}",
            event.reason.as_deref().unwrap_or("an error")
        )
    } else if let Some(class) = class {
        format!("no controller has acted on loadBalancerClass {class}")
    } else if lbs.controllers.is_empty() && lbs.hosted_cloud.is_none() && !lbs.k3s && lbs.checked {
        "no load-balancer controller exists in the cluster".to_string()
    } else {
        "no controller has assigned an address".to_string()
    };
    let mut explanation = String::from(
        "A LoadBalancer Service gets its EXTERNAL-IP from a controller: the cloud provider's \
         cloud-controller-manager, or on bare metal MetalLB, kube-vip, Cilium LB IPAM, k3s ServiceLB. Until one \
         assigns it, only clients inside the cluster (cluster IP) and node ports work.",
    );
    if let Some(class) = class {
        explanation.push_str(&format!(
            " spec.loadBalancerClass is {class}: the default controller ignores the Service, only a controller for that class acts."
        ));
    }
    if !lbs.controllers.is_empty() && ready.is_empty() {
        explanation.push_str(
            " The controller found has no ready pod; a cloud-controller-manager stuck in leader election keeps every \
             LoadBalancer pending until its pod is restarted (003 6.8.2).",
        );
    } else if lbs.controllers.is_empty() && lbs.hosted_cloud.is_none() && !lbs.k3s && lbs.checked {
        explanation.push_str(
            " None runs here and the nodes are not on a cloud with a hosted controller, so the address will stay pending.",
        );
    }
    let mut finding = Finding::new(
        Severity::Error,
        subject.object(),
        "load-balancer-pending",
        format!("EXTERNAL-IP is pending: {cause}"),
    )
    .explain(explanation)
    .evidence(
        "status.loadBalancer.ingress is empty",
        Source::Field {
            object: subject.object(),
            path: "status.loadBalancer".into(),
        },
    );
    for event in events.iter().take(3) {
        finding = finding.evidence(
            event.message.clone().unwrap_or_default(),
            cx.event_source(event),
        );
    }
    for controller in &lbs.controllers {
        finding = finding.evidence(
            format!(
                "{} ({}) {}",
                controller.product,
                controller.object,
                if controller.ready {
                    "is ready"
                } else {
                    "has no ready pod"
                }
            ),
            Source::Object {
                object: controller.object.clone(),
            },
        );
    }
    if let Some(cloud) = &lbs.hosted_cloud {
        finding = finding.evidence(
            format!("nodes run on {cloud}, whose controller may run outside the cluster"),
            Source::Computed,
        );
    }
    if lbs.controllers.is_empty() && lbs.checked {
        finding = finding.evidence(
            "no cloud-controller-manager, MetalLB, kube-vip, Cilium, OpenELB, PureLB or LoxiLB workload in any namespace",
            Source::Computed,
        );
    }
    match lbs.controllers.iter().find(|c| !c.ready) {
        Some(stuck) if ready.is_empty() => {
            let namespace = stuck.object.namespace.as_deref().unwrap_or_default();
            finding = finding.remedy(Remedy::command(
                format!("Look at {} and its pods' logs", stuck.object),
                format!(
                    "kubectl describe {} {} -n {namespace}",
                    stuck.object.kind.to_lowercase(),
                    stuck.object.name
                ),
            ));
        }
        _ if lbs.controllers.is_empty() && lbs.hosted_cloud.is_none() => {
            finding = finding.remedy(Remedy::step(
                "Install a load-balancer implementation for this environment (MetalLB, kube-vip, Cilium LB IPAM) with an address pool",
            ));
        }
        _ => {
            finding = finding.remedy(Remedy::command(
                "Read the Service's events and the controller's logs",
                format!(
                    "kubectl describe service {} {}",
                    subject.name,
                    subject.ns_flag()
                ),
            ));
        }
    }
    finding = finding
        .remedy(Remedy::command(
            "Meanwhile reach it through a node port",
            format!("kubectl get service {} {} -o jsonpath='{{.spec.ports[*].nodePort}}'", subject.name, subject.ns_flag()),
        ))
        .details(json!({
            "loadBalancerClass": class,
            "controllers": lbs.controllers.iter().map(|c| json!({"product": c.product, "object": c.object, "ready": c.ready})).collect::<Vec<_>>(),
            "hostedCloud": lbs.hosted_cloud,
        }));
    Observation::external(Link::ServicePort, finding)
}

fn conflicts(cx: &Context) -> Vec<Observation> {
    let subject = cx.subject;
    let own_ports = front_ports(subject.service);
    let mut observations = Vec::new();
    for key in address_keys(subject.service) {
        let others: Vec<&Service> = cx
            .infra
            .load_balancers
            .by_address
            .get(&key)
            .into_iter()
            .flatten()
            .copied()
            .filter(|s| !std::ptr::eq(*s, subject.service))
            .collect();
        if others.is_empty() {
            continue;
        }
        let mut clashing = Vec::new();
        for other in &others {
            let shared: Vec<String> = front_ports(other)
                .intersection(&own_ports)
                .map(|(port, protocol)| format!("{port}/{protocol}"))
                .collect();
            if !shared.is_empty() {
                clashing.push((
                    ObjectRef::namespaced(
                        "Service",
                        other.metadata.namespace.as_deref().unwrap_or_default(),
                        other.metadata.name.as_deref().unwrap_or_default(),
                    ),
                    shared,
                ));
            }
        }
        let names: Vec<String> = others
            .iter()
            .map(|o| {
                format!(
                    "{}/{}",
                    o.metadata.namespace.as_deref().unwrap_or_default(),
                    o.metadata.name.as_deref().unwrap_or_default()
                )
            })
            .collect();
        let finding = if let Some((other, ports)) = clashing.first() {
            let mut finding = Finding::new(
                Severity::Error,
                subject.object(),
                "load-balancer-port-conflict",
                format!("shares {key} and port {} with {other}", ports.join(", ")),
            )
            .explain(
                "Two Services on one load balancer must not use the same front-end port: the balancer then forwards \
                 that port's connections to either Service's backends at random (003 6.8.6).",
            );
            for (other, ports) in &clashing {
                finding = finding.evidence(
                    format!("{other} also listens on {} at {key}", ports.join(", ")),
                    Source::Object {
                        object: other.clone(),
                    },
                );
            }
            finding.remedy(Remedy::step(
                "Give one of the Services another port, or its own load balancer / address",
            ))
        } else {
            Finding::new(
                Severity::Info,
                subject.object(),
                "load-balancer-shared-address",
                format!("shares {key} with {} on other ports", names.join(", ")),
            )
            .explain("Several Services may share one balancer when their front-end ports differ.")
        };
        observations.push(Observation::external(Link::ServicePort, finding));
    }
    observations
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn address_keys_cover_status_spec_and_annotation() {
        let service: Service = serde_json::from_value(json!({
            "metadata": {"name": "a", "namespace": "x", "annotations": {ALIBABA_LB_ID: "lb-123"}},
            "spec": {"type": "LoadBalancer", "loadBalancerIP": "1.2.3.4"},
            "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}, {"hostname": "a.elb.example"}]}}
        }))
        .unwrap();
        let keys: Vec<String> = address_keys(&service).into_iter().collect();
        assert_eq!(
            keys,
            vec![
                "address 1.2.3.4",
                "address a.elb.example",
                "load balancer lb-123"
            ]
        );
    }
}
