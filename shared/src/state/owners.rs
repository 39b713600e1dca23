//! Who controls an object: its controller owner reference, and the chain up to the workload.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use super::cluster_state::ClusterState;
use crate::report::ObjectRef;

/// The owner reference marked `controller: true`, if any.
pub fn controller_of(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .as_ref()?
        .iter()
        .find(|o| o.controller == Some(true))
}

impl ClusterState {
    /// The workload ultimately controlling an object in `namespace`: a ReplicaSet's Deployment, a
    /// Job's CronJob stays the Job. None when there is no controller.
    pub fn top_controller(&self, namespace: &str, meta: &ObjectMeta) -> Option<ObjectRef> {
        let owner = controller_of(meta)?;
        if owner.kind == "ReplicaSet"
            && let Some(rs) = self.replica_sets.iter().find(|rs| {
                rs.metadata.namespace.as_deref() == Some(namespace)
                    && rs.metadata.name.as_deref() == Some(&owner.name)
            })
            && let Some(deployment) = controller_of(&rs.metadata).filter(|o| o.kind == "Deployment")
        {
            return Some(ObjectRef::namespaced(
                "Deployment",
                namespace,
                &deployment.name,
            ));
        }
        Some(ObjectRef::namespaced(&owner.kind, namespace, &owner.name))
    }
}
