//! Whether NetworkPolicies let a connection through, rule by rule. Policies are additive allow
//! lists: a pod selected by any policy of a direction is isolated in that direction, and then a
//! connection passes only if some rule of some selecting policy admits both its peer and its port.

use std::net::IpAddr;

use k8s_openapi::api::networking::v1::NetworkPolicyPort;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::policy::{Namespaces, Peer, Policy, Rule, describe_port};
use crate::labels::Labels;

/// The label the API server puts on every namespace, known even when namespaces are unreadable.
const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// A pod at the other end of the connection.
pub struct Party<'a> {
    pub namespace: &'a str,
    pub labels: &'a Labels,
    /// None when namespaces could not be read.
    pub namespace_labels: Option<&'a Labels>,
    pub ip: Option<IpAddr>,
    /// How the party is called in explanations: "the client", "pod web-1".
    pub called: String,
    /// On the host network its traffic carries the node's IP (`ip`), not a pod's identity.
    pub host_network: bool,
}

/// The port a connection arrives at on the receiving pod (after the Service is translated).
#[derive(Debug, Clone)]
pub struct Destination {
    pub number: i32,
    /// The receiving container's name for that port, for named ports in policies.
    pub name: Option<String>,
    pub protocol: String,
    /// The Service port the client used, to spot policies written for it instead.
    pub service_port: Option<i32>,
}

impl Destination {
    pub fn describe(&self) -> String {
        format!("{}/{}", self.number, self.protocol)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    Yes,
    No(String),
    Unknown(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Ingress,
    Egress,
}

/// What the policies decide for one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<'p> {
    /// No policy of that direction selects the pod.
    NotIsolated,
    Allowed {
        policy: &'p str,
    },
    /// Without a known peer: only these sources (or destinations) may connect.
    Restricted {
        policies: Vec<&'p str>,
        peers: Vec<String>,
    },
    Dropped {
        policies: Vec<&'p str>,
        reasons: Vec<String>,
    },
    Unknown {
        policies: Vec<&'p str>,
        reason: String,
    },
}

/// Decides a connection to (ingress) or from (egress) the pod with `labels`, among `policies` of
/// its namespace. With no `party`, says who may connect at all.
pub fn decide<'p>(
    policies: &'p [Policy<'p>],
    direction: Direction,
    labels: &Labels,
    party: Option<&Party>,
    destination: &Destination,
) -> Decision<'p> {
    let selecting: Vec<(&Policy, &[Rule])> = policies
        .iter()
        .filter(|p| p.selects(labels))
        .filter_map(|p| {
            let rules = match direction {
                Direction::Ingress => p.ingress.as_deref(),
                Direction::Egress => p.egress.as_deref(),
            };
            rules.map(|rules| (p, rules))
        })
        .collect();
    if selecting.is_empty() {
        return Decision::NotIsolated;
    }
    let names: Vec<&str> = selecting.iter().map(|(p, _)| p.name).collect();
    let mut reasons = Vec::new();
    let mut unknown = None;
    let mut restricted = Vec::new();
    for (policy, rules) in &selecting {
        if rules.is_empty() {
            reasons.push(format!(
                "policy {} allows no {} at all",
                policy.name,
                if direction == Direction::Ingress {
                    "ingress"
                } else {
                    "egress"
                }
            ));
        }
        for (n, rule) in rules.iter().enumerate() {
            let label = format!("policy {} rule {}", policy.name, n + 1);
            if let Err(why) = ports_admit(rule.ports, destination) {
                reasons.push(format!("{label}: {why}"));
                continue;
            }
            let Some(peers) = &rule.peers else {
                return Decision::Allowed {
                    policy: policy.name,
                };
            };
            let Some(party) = party else {
                restricted.extend(
                    peers
                        .iter()
                        .map(|p| format!("{} ({})", p.describe(), policy.name)),
                );
                continue;
            };
            let outcomes: Vec<Match> = peers.iter().map(|p| peer_matches(p, party)).collect();
            if outcomes.contains(&Match::Yes) {
                return Decision::Allowed {
                    policy: policy.name,
                };
            }
            for (peer, outcome) in peers.iter().zip(outcomes) {
                match outcome {
                    Match::No(why) => {
                        reasons.push(format!("{label} admits {}: {why}", peer.describe()))
                    }
                    Match::Unknown(why) => {
                        unknown = Some(format!("{label} admits {}: {why}", peer.describe()))
                    }
                    Match::Yes => {}
                }
            }
        }
    }
    if !restricted.is_empty() {
        return Decision::Restricted {
            policies: names,
            peers: restricted,
        };
    }
    if let Some(reason) = unknown {
        return Decision::Unknown {
            policies: names,
            reason,
        };
    }
    Decision::Dropped {
        policies: names,
        reasons,
    }
}

/// Whether a rule's ports admit the destination; the reason when not.
fn ports_admit(ports: &[NetworkPolicyPort], destination: &Destination) -> Result<(), String> {
    if ports.is_empty() || ports.iter().any(|p| port_matches(p, destination)) {
        return Ok(());
    }
    let listed: Vec<String> = ports.iter().map(describe_port).collect();
    let mut why = format!(
        "allows ports {}, not {}",
        listed.join(", "),
        destination.describe()
    );
    let service_port_listed = destination
        .service_port
        .filter(|p| *p != destination.number)
        .is_some_and(|service_port| {
            ports.iter().any(|p| {
                p.port == Some(IntOrString::Int(service_port))
                    && p.protocol.as_deref().unwrap_or("TCP") == destination.protocol
            })
        });
    if service_port_listed {
        why.push_str(&format!(
            " (it lists the Service port; policies see the pod's port {} once the Service is translated)",
            destination.number
        ));
    }
    Err(why)
}

fn port_matches(port: &NetworkPolicyPort, destination: &Destination) -> bool {
    if port.protocol.as_deref().unwrap_or("TCP") != destination.protocol {
        return false;
    }
    match &port.port {
        None => true,
        Some(IntOrString::Int(n)) => match port.end_port {
            Some(end) => (*n..=end).contains(&destination.number),
            None => *n == destination.number,
        },
        Some(IntOrString::String(name)) => destination.name.as_deref() == Some(name.as_str()),
    }
}

fn peer_matches(peer: &Peer, party: &Party) -> Match {
    match peer {
        Peer::Block { cidr, except, .. } => {
            let cidr = match cidr {
                Ok(cidr) => cidr,
                Err(why) => return Match::No(format!("invalid CIDR {why}")),
            };
            let Some(ip) = party.ip else {
                return Match::Unknown(format!("{} has no IP", party.called));
            };
            if cidr.contains(&ip) && !except.iter().any(|e| e.contains(&ip)) {
                Match::Yes
            } else if party.host_network {
                Match::No(format!(
                    "{} is on the host network with node IP {ip}",
                    party.called
                ))
            } else {
                Match::No(format!(
                    "{} has IP {ip} (whether ipBlocks apply to pod IPs at all depends on the network plugin)",
                    party.called
                ))
            }
        }
        Peer::Pods { .. } if party.host_network => Match::No(format!(
            "{} is on the host network, so its traffic carries its node's IP, which pod and namespace selectors do not match",
            party.called
        )),
        Peer::Pods { namespaces, pods } => {
            let in_namespace = match namespaces {
                Namespaces::Own(ns) if ns == party.namespace => Match::Yes,
                Namespaces::Own(ns) => Match::No(format!(
                    "{} is in namespace {}, and without a namespaceSelector only pods of {ns} are admitted",
                    party.called, party.namespace
                )),
                Namespaces::Selected(selector) => namespace_matches(selector, party),
            };
            if in_namespace != Match::Yes {
                return in_namespace;
            }
            match pods {
                Some(selector) if !selector.matches(party.labels) => Match::No(format!(
                    "{} fails {}",
                    party.called,
                    selector.failed_by(party.labels).join(", ")
                )),
                _ => Match::Yes,
            }
        }
    }
}

fn namespace_matches(selector: &crate::labels::Compiled, party: &Party) -> Match {
    match party.namespace_labels {
        Some(labels) if selector.matches(labels) => Match::Yes,
        Some(labels) => Match::No(format!(
            "namespace {} fails {}",
            party.namespace,
            selector.failed_by(labels).join(", ")
        )),
        None => {
            let known: Labels = [(
                NAMESPACE_NAME_LABEL.to_string(),
                party.namespace.to_string(),
            )]
            .into();
            if selector.matches(&known) {
                Match::Yes
            } else {
                Match::Unknown(format!(
                    "the labels of namespace {} could not be read",
                    party.namespace
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::networking::v1::NetworkPolicy;
    use serde_json::json;

    use super::*;

    fn compile(specs: &[serde_json::Value]) -> Vec<NetworkPolicy> {
        specs
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                serde_json::from_value(json!({"metadata": {"name": format!("np{i}"), "namespace": "shop"}, "spec": spec}))
                    .unwrap()
            })
            .collect()
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn http() -> Destination {
        Destination {
            number: 8080,
            name: Some("http".into()),
            protocol: "TCP".into(),
            service_port: Some(80),
        }
    }

    fn client<'a>(namespace: &'a str, pod: &'a Labels, ns: Option<&'a Labels>) -> Party<'a> {
        Party {
            namespace,
            labels: pod,
            namespace_labels: ns,
            ip: Some("10.1.2.3".parse().unwrap()),
            called: "the client".into(),
            host_network: false,
        }
    }

    #[test]
    fn unselected_pods_are_not_isolated_and_empty_rules_deny_all() {
        let raw = compile(&[json!({"podSelector": {"matchLabels": {"app": "db"}}})]);
        let policies: Vec<Policy> = raw.iter().map(Policy::compile).collect();
        let web = labels(&[("app", "web")]);
        assert_eq!(
            decide(&policies, Direction::Ingress, &web, None, &http()),
            Decision::NotIsolated
        );
        let db = labels(&[("app", "db")]);
        assert!(matches!(
            decide(&policies, Direction::Ingress, &db, None, &http()),
            Decision::Dropped { ref policies, ref reasons } if policies == &vec!["np0"] && reasons[0].contains("allows no ingress")
        ));
    }

    #[test]
    fn policies_are_additive() {
        let raw = compile(&[
            json!({"podSelector": {}}),
            json!({"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "fe"}}}]}]}),
        ]);
        let policies: Vec<Policy> = raw.iter().map(Policy::compile).collect();
        let web = labels(&[("app", "web")]);
        let fe = labels(&[("role", "fe")]);
        assert_eq!(
            decide(
                &policies,
                Direction::Ingress,
                &web,
                Some(&client("shop", &fe, None)),
                &http()
            ),
            Decision::Allowed { policy: "np1" }
        );
        let other = labels(&[("role", "batch")]);
        let Decision::Dropped {
            policies: names,
            reasons,
        } = decide(
            &policies,
            Direction::Ingress,
            &web,
            Some(&client("shop", &other, None)),
            &http(),
        )
        else {
            panic!("expected a drop");
        };
        assert_eq!(names, vec!["np0", "np1"]);
        assert!(
            reasons
                .iter()
                .any(|r| r.contains("the client fails role=fe")),
            "{reasons:?}"
        );
        assert!(matches!(
            decide(&policies, Direction::Ingress, &web, None, &http()),
            Decision::Restricted { ref peers, .. } if peers == &vec!["pods role=fe in namespace shop (np1)".to_string()]
        ));
    }

    #[test]
    fn ports_named_ranges_and_the_service_port_mistake() {
        let raw = compile(&[
            json!({"podSelector": {}, "ingress": [{"ports": [{"port": 80}]}]}),
            json!({"podSelector": {}, "ingress": [{"ports": [{"port": 9000, "endPort": 9100}]}]}),
        ]);
        let policies: Vec<Policy> = raw.iter().map(Policy::compile).collect();
        let any = labels(&[]);
        let Decision::Dropped { reasons, .. } =
            decide(&policies, Direction::Ingress, &any, None, &http())
        else {
            panic!("expected a drop");
        };
        assert!(
            reasons[0].contains("it lists the Service port"),
            "{reasons:?}"
        );
        let in_range = Destination {
            number: 9050,
            name: None,
            protocol: "TCP".into(),
            service_port: None,
        };
        assert_eq!(
            decide(&policies, Direction::Ingress, &any, None, &in_range),
            Decision::Allowed { policy: "np1" }
        );
        let named =
            compile(&[json!({"podSelector": {}, "ingress": [{"ports": [{"port": "http"}]}]})]);
        let policies: Vec<Policy> = named.iter().map(Policy::compile).collect();
        assert_eq!(
            decide(&policies, Direction::Ingress, &any, None, &http()),
            Decision::Allowed { policy: "np0" }
        );
        let udp = Destination {
            protocol: "UDP".into(),
            ..http()
        };
        assert!(matches!(
            decide(&policies, Direction::Ingress, &any, None, &udp),
            Decision::Dropped { .. }
        ));
    }

    #[test]
    fn namespace_selectors_and_ip_blocks() {
        let raw = compile(&[json!({"podSelector": {}, "ingress": [{"from": [
            {"namespaceSelector": {"matchLabels": {"team": "a"}}, "podSelector": {"matchLabels": {"role": "fe"}}},
            {"ipBlock": {"cidr": "10.9.0.0/16"}}
        ]}]})]);
        let policies: Vec<Policy> = raw.iter().map(Policy::compile).collect();
        let any = labels(&[]);
        let fe = labels(&[("role", "fe")]);
        let team_a = labels(&[("team", "a")]);
        let team_b = labels(&[("team", "b")]);
        assert_eq!(
            decide(
                &policies,
                Direction::Ingress,
                &any,
                Some(&client("other", &fe, Some(&team_a))),
                &http()
            ),
            Decision::Allowed { policy: "np0" }
        );
        let Decision::Dropped { reasons, .. } = decide(
            &policies,
            Direction::Ingress,
            &any,
            Some(&client("other", &fe, Some(&team_b))),
            &http(),
        ) else {
            panic!("expected a drop");
        };
        assert!(
            reasons[0].contains("namespace other fails team=a"),
            "{reasons:?}"
        );
        assert!(reasons[1].contains("has IP 10.1.2.3"), "{reasons:?}");
        assert!(matches!(
            decide(
                &policies,
                Direction::Ingress,
                &any,
                Some(&client("other", &fe, None)),
                &http()
            ),
            Decision::Unknown { .. }
        ));
        let mut inside = client("other", &fe, Some(&team_b));
        inside.ip = Some("10.9.1.1".parse().unwrap());
        assert_eq!(
            decide(&policies, Direction::Ingress, &any, Some(&inside), &http()),
            Decision::Allowed { policy: "np0" }
        );
    }

    #[test]
    fn a_host_network_party_matches_only_ip_blocks_on_its_node_ip() {
        let raw = compile(&[json!({"podSelector": {}, "ingress": [{"from": [
            {"namespaceSelector": {}, "podSelector": {}},
            {"ipBlock": {"cidr": "192.168.0.0/24"}}
        ]}]})]);
        let policies: Vec<Policy> = raw.iter().map(Policy::compile).collect();
        let any = labels(&[]);
        let team = labels(&[("team", "a")]);
        let mut node = client("shop", &any, Some(&team));
        node.host_network = true;
        node.ip = Some("192.168.1.7".parse().unwrap());
        let Decision::Dropped { reasons, .. } =
            decide(&policies, Direction::Ingress, &any, Some(&node), &http())
        else {
            panic!("expected a drop");
        };
        assert_eq!(
            reasons,
            vec![
                "policy np0 rule 1 admits every pod in every namespace: the client is on the host network, so its traffic carries its node's IP, which pod and namespace selectors do not match",
                "policy np0 rule 1 admits ipBlock 192.168.0.0/24: the client is on the host network with node IP 192.168.1.7",
            ]
        );
        node.ip = Some("192.168.0.7".parse().unwrap());
        assert_eq!(
            decide(&policies, Direction::Ingress, &any, Some(&node), &http()),
            Decision::Allowed { policy: "np0" }
        );
    }
}
