//! What a Service actually routes to: the endpoints its EndpointSlices publish for each port, and
//! the pods its selector picks.

use std::collections::HashSet;

use k8s_openapi::api::{core::v1::Pod, discovery::v1::EndpointSlice};
use kube_runbook::state::Kind;

use crate::{index::Index, model::Subject};

/// One published endpoint of one Service port.
#[derive(Debug, Clone)]
pub struct Endpoint<'a> {
    pub address: &'a str,
    /// The pod named by `targetRef`, when it exists in the state.
    pub pod: Option<&'a Pod>,
    pub target: Option<&'a str>,
    pub node: Option<&'a str>,
    pub ready: bool,
    pub serving: bool,
    pub terminating: bool,
    /// The port number on the endpoint (the resolved targetPort).
    pub port: Option<i32>,
}

impl Endpoint<'_> {
    /// The pod name, else the address: how the endpoint is shown.
    pub fn label(&self) -> &str {
        self.target.unwrap_or(self.address)
    }
}

/// The pods a Service selects.
pub enum Selection<'a> {
    /// No selector: something other than Kubernetes writes the endpoints.
    Manual,
    /// Pods could not be listed in the namespace.
    Unknown,
    Pods(Vec<&'a Pod>),
}

pub struct Backends<'a> {
    pub slices: Vec<&'a EndpointSlice>,
    pub selection: Selection<'a>,
    /// Endpoints per Service port, in the Service's port order; one list for a portless Service.
    pub per_port: Vec<Vec<Endpoint<'a>>>,
}

impl<'a> Backends<'a> {
    pub fn build(index: &Index<'a>, subject: &Subject<'a>) -> Backends<'a> {
        let slices = index.slices_of(subject.namespace, subject.name).to_vec();
        let selection = match subject.selector {
            None => Selection::Manual,
            Some(_) if !index.lists(Kind::Pod, subject.namespace) => Selection::Unknown,
            Some(selector) => Selection::Pods(index.select(subject.namespace, selector)),
        };
        let per_port = if subject.ports.is_empty() {
            vec![endpoints(index, subject, &slices, None)]
        } else {
            subject
                .ports
                .iter()
                .map(|port| endpoints(index, subject, &slices, Some((&port.name, &port.protocol))))
                .collect()
        };
        Backends {
            slices,
            selection,
            per_port,
        }
    }

    /// The selected pods (empty for a manual or unknown selection).
    pub fn selected(&self) -> &[&'a Pod] {
        match &self.selection {
            Selection::Pods(pods) => pods,
            Selection::Manual | Selection::Unknown => &[],
        }
    }

    pub fn ready(&self, port: usize) -> impl Iterator<Item = &Endpoint<'a>> {
        self.per_port
            .get(port)
            .into_iter()
            .flatten()
            .filter(|e| e.ready)
    }

    pub fn ready_count(&self, port: usize) -> usize {
        self.ready(port).count()
    }

    /// Ready endpoints of the port with the fewest: what every client can count on.
    pub fn fewest_ready(&self) -> usize {
        (0..self.per_port.len())
            .map(|port| self.ready_count(port))
            .min()
            .unwrap_or(0)
    }

    /// Every endpoint of any port, once per pod or address.
    pub fn distinct(&self) -> Vec<&Endpoint<'a>> {
        let mut seen = HashSet::new();
        self.per_port
            .iter()
            .flatten()
            .filter(|e| seen.insert(e.label()))
            .collect()
    }
}

/// The endpoints of the slices' port matching `port` (name and protocol), or of every slice.
fn endpoints<'a>(
    index: &Index<'a>,
    subject: &Subject<'a>,
    slices: &[&'a EndpointSlice],
    port: Option<(&str, &str)>,
) -> Vec<Endpoint<'a>> {
    let mut seen = HashSet::new();
    let mut found = Vec::new();
    for slice in slices {
        let number = match port {
            None => None,
            Some((name, protocol)) => {
                let matching = slice.ports.iter().flatten().find(|p| {
                    p.name.as_deref().unwrap_or_default() == name
                        && p.protocol.as_deref().unwrap_or("TCP") == protocol
                });
                match matching {
                    Some(p) => p.port,
                    None => continue,
                }
            }
        };
        for endpoint in slice.endpoints.iter().flatten() {
            let Some(address) = endpoint.addresses.first() else {
                continue;
            };
            let target = endpoint
                .target_ref
                .as_ref()
                .filter(|r| r.kind.as_deref().is_none_or(|k| k == "Pod"))
                .and_then(|r| r.name.as_deref());
            if !seen.insert(target.unwrap_or(address)) {
                continue;
            }
            let conditions = endpoint.conditions.as_ref();
            let ready = conditions.and_then(|c| c.ready).unwrap_or(true);
            found.push(Endpoint {
                address,
                pod: target.and_then(|name| index.pod(subject.namespace, name)),
                target,
                node: endpoint.node_name.as_deref(),
                ready,
                serving: conditions.and_then(|c| c.serving).unwrap_or(ready),
                terminating: conditions.and_then(|c| c.terminating).unwrap_or(false),
                port: number,
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::Service;
    use serde_json::json;

    use super::*;
    use crate::testing::Fixture;

    #[test]
    fn endpoints_follow_slice_port_names_and_conditions() {
        let mut fixture = Fixture::new();
        fixture.service(json!({
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": {"app": "web"}, "ports": [
                {"name": "http", "port": 80, "targetPort": 8080},
                {"name": "metrics", "port": 9090}
            ]}
        }));
        fixture.slice(json!({
            "metadata": {"name": "web-1", "namespace": "shop", "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            "endpoints": [
                {"addresses": ["10.0.0.1"], "targetRef": {"kind": "Pod", "name": "a"}, "nodeName": "n1"},
                {"addresses": ["10.0.0.2"], "targetRef": {"kind": "Pod", "name": "b"},
                 "conditions": {"ready": false, "serving": true, "terminating": true}}
            ]
        }));
        let state = fixture.state();
        let coverage = crate::coverage::Coverage::everywhere(&state);
        let index = Index::new(&state, &coverage);
        let service: &Service = &state.services[0];
        let subject = Subject::new(service);
        let backends = Backends::build(&index, &subject);
        assert_eq!(backends.per_port[0].len(), 2);
        assert_eq!(backends.ready_count(0), 1);
        assert!(backends.per_port[0][1].serving && backends.per_port[0][1].terminating);
        assert_eq!(backends.per_port[0][0].port, Some(8080));
        assert!(
            backends.per_port[1].is_empty(),
            "no slice carries the metrics port"
        );
        assert_eq!(backends.fewest_ready(), 0);
        assert!(matches!(backends.selection, Selection::Pods(ref p) if p.is_empty()));
    }
}
