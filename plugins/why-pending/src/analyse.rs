//! Explaining each selected pod: the scheduler's side when it has no node yet, the kubelet's side
//! once it has one, and the workload's own failures when it was named.

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::{
    report::{Finding, ObjectRef},
    state::ClusterState,
};

use crate::{kubelet, owner, scheduling, select::Selection};

/// Every finding for the selection.
pub fn explain(state: &ClusterState, selection: &Selection) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(owner) = &selection.owner {
        findings.extend(owner::analyse(owner, selection.pods.len(), state));
    }
    let index = selection
        .pods
        .iter()
        .any(|p| is_unscheduled(p))
        .then(|| scheduling::Cluster::new(state));
    for pod in &selection.pods {
        let object = ObjectRef::namespaced(
            "Pod",
            pod.metadata.namespace.as_deref().unwrap_or_default(),
            pod.metadata.name.as_deref().unwrap_or_default(),
        );
        match &index {
            Some(cluster) if is_unscheduled(pod) => {
                findings.extend(scheduling::analyse(pod, &object, state, cluster))
            }
            _ => findings.extend(kubelet::analyse(pod, state)),
        }
    }
    findings
}

/// Waiting for the scheduler: no node assigned, not finished, not being deleted.
pub fn is_unscheduled(pod: &Pod) -> bool {
    let assigned = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .is_some_and(|n| !n.is_empty());
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    !assigned
        && matches!(phase, None | Some("Pending"))
        && pod.metadata.deletion_timestamp.is_none()
}
