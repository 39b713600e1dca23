//! The service proxy: kube-proxy (its DaemonSet, and a ready pod on the nodes that matter), or a
//! replacement (Cilium, kube-router, ...) that programs Service virtual IPs instead.

use std::collections::{BTreeSet, HashMap};

use k8s_openapi::api::{apps::v1::DaemonSet, core::v1::Pod};
use kube_runbook::{
    report::{Finding, ObjectRef, Remedy, Severity, Source},
    state::Kind,
};

use super::Context;
use crate::{
    chain::{Link, Observation, plural},
    index::Index,
    pods,
};

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

pub fn check(cx: &Context) -> Vec<Observation> {
    if !cx.subject.kind.is_proxied() {
        return Vec::new();
    }
    let ServiceProxy::KubeProxy { daemon_set, pods } = &cx.infra.proxy else {
        return Vec::new();
    };
    if let Some(ds) = daemon_set
        && let Some(status) = &ds.status
        && status.desired_number_scheduled > 0
        && status.number_ready == 0
    {
        return vec![down(cx, ds)];
    }
    let Some(by_node) = pods else {
        return Vec::new();
    };
    let backend_nodes: BTreeSet<&str> = cx
        .backends
        .per_port
        .iter()
        .flatten()
        .filter(|e| e.ready)
        .filter_map(|e| e.node)
        .collect();
    let client_node = cx.client.and_then(|c| c.node);
    let broken: Vec<&str> = backend_nodes
        .iter()
        .copied()
        .chain(client_node)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|node| {
            !by_node
                .get(node)
                .is_some_and(|pods| pods.iter().any(|p| pods::is_ready(p)))
        })
        .collect();
    if broken.is_empty() {
        return Vec::new();
    }
    let client_hit = client_node.is_some_and(|n| broken.contains(&n));
    let severity = if client_hit {
        Severity::Error
    } else {
        Severity::Warning
    };
    let title = if client_hit {
        format!(
            "kube-proxy is not running ready on node {}, where the client runs",
            client_node.unwrap_or_default()
        )
    } else {
        format!(
            "kube-proxy is not running ready on {} node{} hosting backends: {}",
            broken.len(),
            plural(broken.len()),
            broken.join(", ")
        )
    };
    let mut finding = Finding::new(severity, cx.subject.object(), "kube-proxy-not-ready", title)
        .explain(
            "kube-proxy programs each node so that connections to a Service's virtual IP and node ports reach an \
             endpoint. On a node where it is not running, rules go stale or are missing: clients there get refused \
             or hang (003 6.4.2), and node-port traffic arriving there is not forwarded.",
        );
    for node in &broken {
        let state = match by_node.get(node) {
            Some(pods) => pods
                .iter()
                .map(|p| {
                    format!(
                        "pod {} is {}",
                        pods::name(p),
                        if pods::phase(p) == "Running" {
                            "not ready"
                        } else {
                            pods::phase(p)
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
            None => "no kube-proxy pod".to_string(),
        };
        finding = finding.evidence(
            format!("node {node}: {state}"),
            Source::Object {
                object: ObjectRef::cluster("Node", node),
            },
        );
    }
    finding = finding.remedy(Remedy::command(
        "Check the kube-proxy pods and their logs",
        format!("kubectl get pods -n {SYSTEM} -l k8s-app=kube-proxy -o wide"),
    ));
    vec![Observation::new(Link::Proxy, finding)]
}

fn down(cx: &Context, ds: &DaemonSet) -> Observation {
    let desired = ds.status.as_ref().map_or(0, |s| s.desired_number_scheduled);
    let finding = Finding::new(
        Severity::Error,
        cx.subject.object(),
        "kube-proxy-down",
        format!("kube-proxy is down: 0 of {desired} pods ready"),
    )
    .explain(
        "kube-proxy translates the Service's virtual IP and node ports on every node. With none running, \
         Service rules are not updated on any node: new endpoints are never used and connections fail \
         (003 6.4.2).",
    )
    .evidence(
        format!("DaemonSet kube-proxy: {desired} desired, 0 ready"),
        Source::Object { object: ObjectRef::namespaced("DaemonSet", SYSTEM, ds.metadata.name.as_deref().unwrap_or("kube-proxy")) },
    )
    .remedy(Remedy::command(
        "Find out why the kube-proxy pods are not ready",
        format!("kubectl describe daemonset kube-proxy -n {SYSTEM}"),
    ));
    Observation::new(Link::Proxy, finding)
}
