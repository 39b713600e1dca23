//! NetworkPolicies compiled once: which pods each selects, and its ingress and egress rules with
//! their peers (pods, namespaces, ipBlocks) and ports.

use ipnet::IpNet;
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::labels::{Compiled, Labels};

pub struct Policy<'a> {
    pub name: &'a str,
    pub namespace: &'a str,
    selector: Compiled,
    /// The rules when the policy isolates for ingress (policyTypes contains Ingress).
    pub ingress: Option<Vec<Rule<'a>>>,
    /// The rules when the policy isolates for egress.
    pub egress: Option<Vec<Rule<'a>>>,
}

/// One rule: traffic from (or to) any of `peers` on any of `ports` is allowed.
pub struct Rule<'a> {
    /// None: every peer, everywhere.
    pub peers: Option<Vec<Peer>>,
    /// Empty: every port.
    pub ports: &'a [NetworkPolicyPort],
}

/// Where pods of a peer may live.
pub enum Namespaces {
    /// A peer with only a podSelector: the policy's own namespace.
    Own(String),
    Selected(Compiled),
}

pub enum Peer {
    Pods {
        namespaces: Namespaces,
        /// None: every pod of those namespaces.
        pods: Option<Compiled>,
    },
    Block {
        cidr: Result<IpNet, String>,
        except: Vec<IpNet>,
        text: String,
    },
}

impl<'a> Policy<'a> {
    pub fn compile(policy: &'a NetworkPolicy) -> Policy<'a> {
        let namespace = policy.metadata.namespace.as_deref().unwrap_or_default();
        let spec = policy.spec.as_ref();
        let types: Vec<&str> = match spec.and_then(|s| s.policy_types.as_ref()) {
            Some(types) => types.iter().map(String::as_str).collect(),
            None => {
                let mut defaulted = vec!["Ingress"];
                if spec
                    .and_then(|s| s.egress.as_ref())
                    .is_some_and(|e| !e.is_empty())
                {
                    defaulted.push("Egress");
                }
                defaulted
            }
        };
        let ingress = types.contains(&"Ingress").then(|| {
            spec.and_then(|s| s.ingress.as_ref())
                .into_iter()
                .flatten()
                .map(|r| Rule::compile(namespace, r.from.as_deref(), r.ports.as_deref()))
                .collect()
        });
        let egress = types.contains(&"Egress").then(|| {
            spec.and_then(|s| s.egress.as_ref())
                .into_iter()
                .flatten()
                .map(|r| Rule::compile(namespace, r.to.as_deref(), r.ports.as_deref()))
                .collect()
        });
        Policy {
            name: policy.metadata.name.as_deref().unwrap_or_default(),
            namespace,
            selector: spec
                .and_then(|s| s.pod_selector.as_ref())
                .map(Compiled::new)
                .unwrap_or_else(|| Compiled::new(&Default::default())),
            ingress,
            egress,
        }
    }

    /// Whether the policy applies to a pod with `labels` in its namespace.
    pub fn selects(&self, labels: &Labels) -> bool {
        self.selector.matches(labels)
    }
}

impl<'a> Rule<'a> {
    fn compile(
        namespace: &str,
        peers: Option<&[NetworkPolicyPeer]>,
        ports: Option<&'a [NetworkPolicyPort]>,
    ) -> Rule<'a> {
        Rule {
            peers: peers
                .filter(|p| !p.is_empty())
                .map(|peers| peers.iter().map(|p| Peer::compile(namespace, p)).collect()),
            ports: ports.unwrap_or_default(),
        }
    }
}

impl Peer {
    fn compile(namespace: &str, peer: &NetworkPolicyPeer) -> Peer {
        if let Some(block) = &peer.ip_block {
            return Peer::Block {
                cidr: block
                    .cidr
                    .parse::<IpNet>()
                    .map_err(|e| format!("{}: {e}", block.cidr)),
                except: block
                    .except
                    .iter()
                    .flatten()
                    .filter_map(|e| e.parse().ok())
                    .collect(),
                text: match &block.except {
                    Some(except) if !except.is_empty() => {
                        format!("ipBlock {} except {}", block.cidr, except.join(", "))
                    }
                    _ => format!("ipBlock {}", block.cidr),
                },
            };
        }
        Peer::Pods {
            namespaces: match &peer.namespace_selector {
                Some(selector) => Namespaces::Selected(Compiled::new(selector)),
                None => Namespaces::Own(namespace.to_string()),
            },
            pods: peer.pod_selector.as_ref().map(Compiled::new),
        }
    }

    /// `pods app=web in namespace shop`, `every pod in namespaces team=a`, `ipBlock 10.0.0.0/8`.
    pub fn describe(&self) -> String {
        match self {
            Peer::Block { text, .. } => text.clone(),
            Peer::Pods { namespaces, pods } => {
                let who = match pods {
                    Some(s) if !s.is_everything() => format!("pods {s}"),
                    _ => "every pod".to_string(),
                };
                let place = match namespaces {
                    Namespaces::Own(ns) => format!("namespace {ns}"),
                    Namespaces::Selected(s) if s.is_everything() => "every namespace".to_string(),
                    Namespaces::Selected(s) => format!("namespaces {s}"),
                };
                format!("{who} in {place}")
            }
        }
    }
}

/// `8080/TCP`, `8000-8100/TCP`, `http/TCP`, `any port/UDP`.
pub fn describe_port(port: &NetworkPolicyPort) -> String {
    let protocol = port.protocol.as_deref().unwrap_or("TCP");
    match (&port.port, port.end_port) {
        (None, _) => format!("any port/{protocol}"),
        (Some(IntOrString::Int(n)), Some(end)) => format!("{n}-{end}/{protocol}"),
        (Some(IntOrString::Int(n)), None) => format!("{n}/{protocol}"),
        (Some(IntOrString::String(name)), _) => format!("{name}/{protocol}"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn policy(spec: serde_json::Value) -> NetworkPolicy {
        serde_json::from_value(
            json!({"metadata": {"name": "p", "namespace": "shop"}, "spec": spec}),
        )
        .unwrap()
    }

    #[test]
    fn policy_types_default_from_the_rules() {
        let ingress_only = policy(json!({"podSelector": {}}));
        let compiled = Policy::compile(&ingress_only);
        assert!(
            compiled.ingress.as_ref().is_some_and(Vec::is_empty),
            "no rules: deny all ingress"
        );
        assert!(compiled.egress.is_none());
        let with_egress = policy(
            json!({"podSelector": {}, "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]}),
        );
        assert!(Policy::compile(&with_egress).egress.is_some());
        let explicit = policy(json!({"podSelector": {}, "policyTypes": ["Egress"]}));
        let compiled = Policy::compile(&explicit);
        assert!(compiled.ingress.is_none() && compiled.egress.is_some());
    }

    #[test]
    fn describes_peers_and_ports() {
        let p = policy(json!({"podSelector": {}, "ingress": [{"from": [
            {"podSelector": {"matchLabels": {"app": "fe"}}},
            {"namespaceSelector": {"matchLabels": {"team": "a"}}},
            {"namespaceSelector": {}, "podSelector": {"matchLabels": {"role": "mon"}}},
            {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}
        ], "ports": [{"port": 8000, "endPort": 8100}, {"port": "http"}, {"protocol": "UDP"}]}]}));
        let compiled = Policy::compile(&p);
        let rule = &compiled.ingress.as_ref().unwrap()[0];
        let peers: Vec<String> = rule
            .peers
            .as_ref()
            .unwrap()
            .iter()
            .map(Peer::describe)
            .collect();
        assert_eq!(
            peers,
            vec![
                "pods app=fe in namespace shop",
                "every pod in namespaces team=a",
                "pods role=mon in every namespace",
                "ipBlock 10.0.0.0/8 except 10.1.0.0/16"
            ]
        );
        let ports: Vec<String> = rule.ports.iter().map(describe_port).collect();
        assert_eq!(ports, vec!["8000-8100/TCP", "http/TCP", "any port/UDP"]);
    }
}
