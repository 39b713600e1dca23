//! The network plugin's own pods on a node: the pods of well-known CNI DaemonSets, in whatever
//! namespace they run (kube-system, calico-system, kube-flannel, ...), and their health.

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::state::{ClusterState, Kind, controller_of};

/// DaemonSet names of common CNI plugins (the node agents, not their operators).
const CNI_DAEMONSETS: [&str; 16] = [
    "calico-node",
    "cilium",
    "kube-flannel-ds",
    "kube-flannel",
    "flannel",
    "weave-net",
    "canal",
    "kindnet",
    "aws-node",
    "antrea-agent",
    "kube-router",
    "ovnkube-node",
    "kube-ovn-cni",
    "kube-multus-ds",
    "azure-cns",
    "anetd",
];

/// One CNI pod on the node and what is wrong with it, if anything.
pub struct CniPod<'a> {
    pub pod: &'a Pod,
    pub daemon_set: String,
    pub problem: Option<String>,
}

/// Whether the state can answer: every namespace's pods must have been listed.
pub fn checkable(state: &ClusterState) -> Result<(), String> {
    if !state.has(Kind::Pod) {
        return Err("pods were not loaded".into());
    }
    match state.unavailable_reason(Kind::Pod) {
        Some(reason) => Err(format!(
            "pods of other namespaces could not be listed ({reason})"
        )),
        None => Ok(()),
    }
}

/// The CNI DaemonSet pods scheduled to `node`.
pub fn pods_on_node<'a>(state: &'a ClusterState, node: &str) -> Vec<CniPod<'a>> {
    state
        .pods
        .iter()
        .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node))
        .filter_map(|pod| {
            let owner = controller_of(&pod.metadata).filter(|o| o.kind == "DaemonSet")?;
            CNI_DAEMONSETS
                .contains(&owner.name.as_str())
                .then(|| CniPod {
                    pod,
                    daemon_set: owner.name.clone(),
                    problem: problem(pod),
                })
        })
        .collect()
}

/// Not Running, a container waiting or not ready, or restarts: in words.
fn problem(pod: &Pod) -> Option<String> {
    let status = pod.status.as_ref()?;
    let phase = status.phase.as_deref().unwrap_or("Unknown");
    if phase != "Running" {
        return Some(format!("phase {phase}"));
    }
    let statuses = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten());
    let mut issues = Vec::new();
    for container in statuses {
        let waiting = container
            .state
            .as_ref()
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.as_deref());
        if let Some(reason) = waiting {
            issues.push(format!("{} {reason}", container.name));
        } else if !container.ready
            && container
                .state
                .as_ref()
                .is_some_and(|s| s.running.is_some())
        {
            issues.push(format!("{} not ready", container.name));
        }
        if container.restart_count > 0 {
            issues.push(format!(
                "{} restarted {} times",
                container.name, container.restart_count
            ));
        }
    }
    (!issues.is_empty()).then(|| issues.join(", "))
}
