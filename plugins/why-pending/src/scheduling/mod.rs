//! Why the scheduler has not placed a pod: gates, no scheduler, or every node rejected, node by
//! node, compared with what the scheduler itself said.

mod gates;
mod preemption;
mod scheduler_liveness;
mod scheduler_said;
mod unschedulable;

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::{
    fit::Snapshot,
    report::{Finding, ObjectRef},
    state::ClusterState,
};

/// The fit index of the cluster, built once for all the pods explained in a run.
pub struct Cluster<'a> {
    snapshot: Snapshot<'a>,
}

impl<'a> Cluster<'a> {
    pub fn new(state: &'a ClusterState) -> Self {
        Cluster {
            snapshot: Snapshot::from_state(state),
        }
    }
}

/// Findings for a pod that has no node yet.
pub fn analyse(
    pod: &Pod,
    object: &ObjectRef,
    state: &ClusterState,
    cluster: &Cluster,
) -> Vec<Finding> {
    if let Some(gated) = gates::analyse(pod, object) {
        return vec![gated];
    }
    let mut findings: Vec<Finding> = scheduler_liveness::analyse(pod, object, state)
        .into_iter()
        .collect();
    let said = scheduler_said::latest(pod, object, state);
    findings.extend(unschedulable::analyse(
        pod,
        object,
        state,
        &cluster.snapshot,
        said,
    ));
    findings.extend(preemption::analyse(pod, object));
    findings
}
