//! A pod nominated to a node by preemption: lower-priority pods are being evicted for it.

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::report::{Finding, ObjectRef, Severity, Source};

/// An info finding when the scheduler has nominated a node for the pod.
pub fn analyse(pod: &Pod, object: &ObjectRef) -> Option<Finding> {
    let node = pod
        .status
        .as_ref()?
        .nominated_node_name
        .as_deref()
        .filter(|n| !n.is_empty())?;
    Some(
        Finding::new(
            Severity::Info,
            object.clone(),
            "preemption-in-progress",
            format!("preemption is making room on node {node}: lower-priority pods there are being evicted"),
        )
        .explain("The scheduler found no free node, so it chose victims of lower priority on this node and nominated it. The pod is bound once the victims have terminated (their grace period), unless a better node frees up first.")
        .evidence(format!("status.nominatedNodeName: {node}"), Source::Field { object: object.clone(), path: "status.nominatedNodeName".into() }),
    )
}
