//! LoadBalancer Services: an EXTERNAL-IP that stays pending (003 6.8.2, see [`pending`]), and two
//! Services sharing one balancer address and port (003 6.8.6: traffic is forwarded at random).

mod cause;
mod classes;
mod controllers;
mod pending;

use std::collections::{BTreeSet, HashMap};

use k8s_openapi::api::core::v1::Service;
use kube_runbook::{
    report::{Finding, ObjectRef, Remedy, Severity, Source},
    state::Kind,
};

pub use self::controllers::Controller;
use super::Context;
use crate::{
    chain::{Link, Observation},
    index::Index,
    model::{ServiceKind, Subject},
};

/// Alibaba Cloud's annotation reusing an existing SLB (003 6.8.6).
const ALIBABA_LB_ID: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-id";

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
            controllers: controllers::find(index),
            hosted_cloud: controllers::hosted_cloud(index),
            k3s: controllers::k3s(index),
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
        observations.push(pending::pending(cx));
    }
    observations.extend(conflicts(cx));
    observations
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
