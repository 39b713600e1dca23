//! The service proxy: kube-proxy (its DaemonSet, and a ready pod on the nodes that matter), or a
//! replacement (Cilium, kube-router, ...) that programs Service virtual IPs instead.

mod check;
mod rules;

use std::collections::HashMap;

use k8s_openapi::api::{apps::v1::DaemonSet, core::v1::Pod};
use kube_runbook::state::Kind;

pub use check::check;

use crate::{index::Index, pods};

const SYSTEM: &str = "kube-system";

/// DaemonSets that proxy Services when kube-proxy is absent, by name.
const REPLACEMENTS: [(&str, &str); 7] = [
    ("cilium", "Cilium (kube-proxy replacement)"),
    ("anetd", "GKE Dataplane V2 (Cilium)"),
    ("kube-router", "kube-router"),
    ("antrea-agent", "Antrea proxy"),
    ("ovnkube-node", "OVN-Kubernetes"),
    ("kube-ovn-cni", "Kube-OVN"),
    ("calico-node", "Calico eBPF data plane"),
];

pub enum ServiceProxy<'a> {
    KubeProxy {
        daemon_set: Option<&'a DaemonSet>,
        /// kube-proxy pods by node (static or DaemonSet pods), when kube-system pods were readable.
        pods: Option<HashMap<&'a str, Vec<&'a Pod>>>,
    },
    Replacement {
        name: &'static str,
    },
    /// Not seen in kube-system, and no known replacement: it may run outside pods (k3s, managed).
    NotFound,
    /// DaemonSets and pods of kube-system could not be read.
    Unchecked,
}

impl<'a> ServiceProxy<'a> {
    pub fn detect(index: &Index<'a>) -> ServiceProxy<'a> {
        let pods_readable = index.lists(Kind::Pod, SYSTEM);
        let sets_readable = index.lists(Kind::DaemonSet, SYSTEM);
        if !pods_readable && !sets_readable {
            return ServiceProxy::Unchecked;
        }
        let daemon_set = index.daemon_sets().iter().find(|ds| {
            ds.metadata.namespace.as_deref() == Some(SYSTEM) && is_kube_proxy(&ds.metadata)
        });
        let proxy_pods: Vec<&Pod> = index
            .pods_in(SYSTEM)
            .iter()
            .copied()
            .filter(|p| is_kube_proxy(&p.metadata))
            .collect();
        if daemon_set.is_some() || !proxy_pods.is_empty() {
            let pods = pods_readable.then(|| {
                let mut by_node: HashMap<&str, Vec<&Pod>> = HashMap::new();
                for pod in proxy_pods {
                    if let Some(node) = pods::node(pod) {
                        by_node.entry(node).or_default().push(pod);
                    }
                }
                by_node
            });
            return ServiceProxy::KubeProxy { daemon_set, pods };
        }
        let replacement = REPLACEMENTS.iter().find(|(name, _)| {
            index
                .daemon_sets()
                .iter()
                .any(|ds| ds.metadata.name.as_deref() == Some(name))
        });
        match replacement {
            Some((_, name)) => ServiceProxy::Replacement { name },
            None => ServiceProxy::NotFound,
        }
    }

    /// The chain's step text.
    pub fn describe(&self) -> &'static str {
        match self {
            ServiceProxy::KubeProxy { .. } => "kube-proxy",
            ServiceProxy::Replacement { name } => name,
            ServiceProxy::NotFound => "service proxy (not found in kube-system)",
            ServiceProxy::Unchecked => "service proxy",
        }
    }
}

fn is_kube_proxy(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> bool {
    let labelled = meta.labels.as_ref().is_some_and(|l| {
        l.get("k8s-app").is_some_and(|v| v == "kube-proxy")
            || l.get("component").is_some_and(|v| v == "kube-proxy")
            || l.get("app.kubernetes.io/name")
                .is_some_and(|v| v == "kube-proxy")
    });
    labelled
        || meta
            .name
            .as_deref()
            .is_some_and(|n| n == "kube-proxy" || n.starts_with("kube-proxy-"))
}
