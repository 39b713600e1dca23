//! Force-deleting a pod (grace period 0), the last step for a pod no kubelet will finish: its
//! danger, and a typed name for StatefulSet pods and pods with ReadWriteOnce claims.

use k8s_openapi::api::core::v1::Pod;

use super::owning_stateful_set;
use crate::{
    analyse::Ctx,
    fix::plan::{Action, Rung, Step},
    inventory::{Inventory, MetaObject},
};

/// Force deletion: confirmed by typing the pod's name when it belongs to a StatefulSet or uses a
/// ReadWriteOnce volume, since a pod that still runs would then exist twice.
pub(super) fn force_delete_step(ctx: &Ctx, subject: &MetaObject, pod: &Pod, node: &str) -> Step {
    let name = subject.name();
    let rwo = read_write_once_claims(ctx.inv, pod);
    let step = |danger: String| {
        Step::new(
            Rung::ForceDelete,
            Action::ForceDeletePod(subject.clone()),
            "the API server removes the pod without waiting for its kubelet",
            danger,
        )
    };
    if let Some(set) = owning_stateful_set(pod) {
        step(format!(
            "split-brain: if {name} still runs on {node}, StatefulSet {set} starts a second {name} elsewhere and both write the same data"
        ))
        .confirm_by_typing(name)
    } else if !rwo.is_empty() {
        step(format!(
            "data loss: if {name} still runs on {node}, a replacement mounts ReadWriteOnce claim {} at the same time",
            rwo.join(", ")
        ))
        .confirm_by_typing(name)
    } else {
        step(format!(
            "if {name} still runs on {node}, its containers keep running unseen until the kubelet returns"
        ))
    }
}

/// Claims of the pod that are (or may be, when unread) ReadWriteOnce or ReadWriteOncePod.
fn read_write_once_claims(inventory: &Inventory, pod: &Pod) -> Vec<String> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
    let pod_name = pod.metadata.name.as_deref().unwrap_or_default();
    let claims = pod
        .spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .filter_map(|v| {
            if let Some(claim) = &v.persistent_volume_claim {
                Some(claim.claim_name.clone())
            } else {
                v.ephemeral
                    .as_ref()
                    .map(|_| format!("{pod_name}-{}", v.name))
            }
        });
    claims
        .filter(|claim| match inventory.pvc(namespace, claim) {
            Some(pvc) => pvc
                .spec
                .iter()
                .flat_map(|s| s.access_modes.iter().flatten())
                .any(|m| m == "ReadWriteOnce" || m == "ReadWriteOncePod"),
            None => true,
        })
        .collect()
}
