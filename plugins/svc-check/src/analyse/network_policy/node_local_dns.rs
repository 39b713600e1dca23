//! NodeLocal DNSCache: a hostNetwork DaemonSet that answers pods' DNS queries on their own node,
//! at a link-local address, so their queries need not reach the CoreDNS pods at all. In iptables
//! mode it also binds the kube-dns ClusterIP without connection tracking, so queries sent there
//! are answered on the node too and never translated to a CoreDNS pod.

use std::net::IpAddr;

use k8s_openapi::api::apps::v1::DaemonSet;
use kube_runbook::report::{ObjectRef, Source};

use super::{Policy, policy::Peer};
use crate::{analyse::dns::DNS_NAMESPACE, index::Index};

const DAEMON_SET: &str = "node-local-dns";
/// The address its documentation uses, and nearly every install keeps.
const DEFAULT_ADDRESS: [u8; 4] = [169, 254, 20, 10];

/// A NodeLocal DNSCache and how it was recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeLocalDns {
    /// Every address the cache answers on; pods send their queries to one of them.
    pub addresses: Vec<IpAddr>,
    /// Its DaemonSet was found, so queries go to the cache and nowhere else.
    pub running: bool,
    pub seen: String,
    pub source: Source,
}

impl NodeLocalDns {
    /// The cache from its DaemonSet in kube-system, else from an egress ipBlock for its address.
    pub fn detect(index: &Index, policies: &[Policy]) -> Option<NodeLocalDns> {
        let from_daemon_set = index.daemon_sets().iter().find(|ds| {
            ds.metadata.namespace.as_deref() == Some(DNS_NAMESPACE)
                && ds.metadata.name.as_deref() == Some(DAEMON_SET)
        });
        if let Some(ds) = from_daemon_set {
            let mut addresses = local_ips(ds);
            if addresses.is_empty() {
                addresses.push(IpAddr::from(DEFAULT_ADDRESS));
            }
            return Some(NodeLocalDns {
                addresses,
                running: true,
                seen: format!("DaemonSet {DNS_NAMESPACE}/{DAEMON_SET}"),
                source: Source::Object {
                    object: ObjectRef::namespaced("DaemonSet", DNS_NAMESPACE, DAEMON_SET),
                },
            });
        }
        let address = IpAddr::from(DEFAULT_ADDRESS);
        let policy = policies.iter().find(|p| {
            p.egress
                .iter()
                .flatten()
                .flat_map(|rule| rule.peers.iter().flatten())
                .any(|peer| names_cache(peer, address))
        })?;
        Some(NodeLocalDns {
            addresses: vec![address],
            running: false,
            seen: format!("policy {} admits {address} in an ipBlock", policy.name),
            source: Source::Object {
                object: ObjectRef::namespaced("NetworkPolicy", policy.namespace, policy.name),
            },
        })
    }
}

/// An ipBlock narrower than the whole link-local range that holds the cache's address.
fn names_cache(peer: &Peer, address: IpAddr) -> bool {
    matches!(peer, Peer::Block { cidr: Ok(cidr), .. } if cidr.prefix_len() >= 16 && cidr.contains(&address))
}

/// The addresses of the cache's `-localip` argument (`169.254.20.10,10.96.0.10`).
fn local_ips(ds: &DaemonSet) -> Vec<IpAddr> {
    let Some(value) = local_ip_arg(ds) else {
        return Vec::new();
    };
    value
        .split(',')
        .filter_map(|ip| ip.trim().parse().ok())
        .collect()
}

fn local_ip_arg(ds: &DaemonSet) -> Option<&str> {
    let containers = &ds.spec.template.spec.as_ref()?.containers;
    let args: Vec<&str> = containers
        .iter()
        .flat_map(|c| c.args.iter().flatten().chain(c.command.iter().flatten()))
        .map(String::as_str)
        .collect();
    args.iter().enumerate().find_map(|(i, arg)| match *arg {
        "-localip" | "--localip" => args.get(i + 1).copied(),
        _ => arg
            .strip_prefix("-localip=")
            .or_else(|| arg.strip_prefix("--localip=")),
    })
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::networking::v1::NetworkPolicy;
    use serde_json::json;

    use super::*;
    use crate::{coverage::Coverage, testing::Fixture};

    fn detect(fixture: &Fixture, policies: &[NetworkPolicy]) -> Option<NodeLocalDns> {
        let state = fixture.state();
        let coverage = Coverage::everywhere(&state);
        let index = Index::new(&state, &coverage);
        let compiled: Vec<Policy> = policies.iter().map(Policy::compile).collect();
        NodeLocalDns::detect(&index, &compiled)
    }

    fn egress_to(cidr: &str) -> NetworkPolicy {
        serde_json::from_value(
            json!({"metadata": {"name": "dns", "namespace": "shop"}, "spec": {
                "podSelector": {}, "policyTypes": ["Egress"],
                "egress": [{"to": [{"ipBlock": {"cidr": cidr}}]}]
            }}),
        )
        .unwrap()
    }

    #[test]
    fn the_daemon_set_gives_the_cache_address() {
        let mut f = Fixture::healthy_web();
        assert_eq!(detect(&f, &[]), None);
        f.daemon_set(
            json!({"metadata": {"name": "node-local-dns", "namespace": "kube-system"},
            "spec": {"selector": {}, "template": {"spec": {"containers": [{"name": "node-cache",
                "args": ["-localip", "169.254.25.10,10.96.0.10", "-conf", "/etc/Corefile"]}]}}}}),
        );
        let cache = detect(&f, &[]).unwrap();
        let addresses: Vec<IpAddr> = ["169.254.25.10", "10.96.0.10"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        assert_eq!(cache.addresses, addresses, "every -localip address counts");
        assert!(cache.running);
        assert_eq!(cache.seen, "DaemonSet kube-system/node-local-dns");
    }

    #[test]
    fn an_ip_block_for_the_usual_address_means_a_cache() {
        let f = Fixture::healthy_web();
        let cache = detect(&f, &[egress_to("169.254.20.10/32")]).unwrap();
        assert_eq!(cache.addresses, vec![IpAddr::from(DEFAULT_ADDRESS)]);
        assert!(
            !cache.running,
            "a policy alone does not prove the cache runs"
        );
        assert_eq!(cache.seen, "policy dns admits 169.254.20.10 in an ipBlock");
        assert_eq!(
            detect(&f, &[egress_to("0.0.0.0/0")]),
            None,
            "admitting everything says nothing of a cache"
        );
    }
}
