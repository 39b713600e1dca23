//! Who owns each pod, whether that owner still exists, and how many of its replicas are ready
//! across the cluster: indexed once, so a plan over a large cluster never rescans every list.

use std::collections::{HashMap, HashSet};

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::{
    report::ObjectRef,
    state::{ClusterState, Kind, controller_of},
};

/// The workload kinds whose existence can be checked, with the state list that holds them.
const CHECKABLE: [(&str, Kind); 6] = [
    ("ReplicaSet", Kind::ReplicaSet),
    ("Deployment", Kind::Deployment),
    ("StatefulSet", Kind::StatefulSet),
    ("DaemonSet", Kind::DaemonSet),
    ("Job", Kind::Job),
    ("ReplicationController", Kind::ReplicationController),
];

/// Whether a pod's controller is there to recreate it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Controller {
    /// No controller owner reference at all.
    None,
    /// The controller named by the pod no longer exists.
    Missing(ObjectRef),
    /// The controller exists (or is of a kind that cannot be checked, such as a custom resource).
    Present(ObjectRef),
}

/// The workloads of a cluster, indexed.
pub struct Workloads {
    existing: HashSet<(String, String, String)>,
    loaded_kinds: HashSet<&'static str>,
    deployment_of_replica_set: HashMap<(String, String), String>,
    replicas: HashMap<ObjectRef, i32>,
    ready: HashMap<ObjectRef, usize>,
}

impl Workloads {
    /// Indexes the controllers, their desired replicas, and the ready pods of each workload.
    pub fn index(state: &ClusterState) -> Workloads {
        let mut workloads = Workloads {
            existing: HashSet::new(),
            loaded_kinds: CHECKABLE
                .iter()
                .filter(|(_, kind)| state.has(*kind))
                .map(|(name, _)| *name)
                .collect(),
            deployment_of_replica_set: HashMap::new(),
            replicas: HashMap::new(),
            ready: HashMap::new(),
        };
        for rs in &state.replica_sets {
            let (ns, name) = names(&rs.metadata);
            workloads.insert("ReplicaSet", ns, name, rs.spec.replicas);
            if let Some(owner) = controller_of(&rs.metadata).filter(|o| o.kind == "Deployment") {
                workloads
                    .deployment_of_replica_set
                    .insert((ns.to_string(), name.to_string()), owner.name.clone());
            }
        }
        for d in &state.deployments {
            let (ns, name) = names(&d.metadata);
            workloads.insert("Deployment", ns, name, d.spec.replicas);
        }
        for s in &state.stateful_sets {
            let (ns, name) = names(&s.metadata);
            workloads.insert("StatefulSet", ns, name, s.spec.replicas);
        }
        for d in &state.daemon_sets {
            let (ns, name) = names(&d.metadata);
            workloads.insert("DaemonSet", ns, name, None);
        }
        for j in &state.jobs {
            let (ns, name) = names(&j.metadata);
            workloads.insert("Job", ns, name, None);
        }
        for rc in &state.replication_controllers {
            let (ns, name) = names(&rc.metadata);
            workloads.insert(
                "ReplicationController",
                ns,
                name,
                rc.spec.as_ref().and_then(|s| s.replicas),
            );
        }
        for pod in state.pods.iter().filter(|p| is_ready(p)) {
            if let Some(workload) = workloads.workload_of(pod) {
                *workloads.ready.entry(workload).or_default() += 1;
            }
        }
        workloads
    }

    fn insert(&mut self, kind: &str, namespace: &str, name: &str, replicas: Option<i32>) {
        self.existing
            .insert((kind.to_string(), namespace.to_string(), name.to_string()));
        if let Some(replicas) = replicas {
            self.replicas
                .insert(ObjectRef::namespaced(kind, namespace, name), replicas);
        }
    }

    /// The pod's controller and whether it exists.
    pub fn controller(&self, pod: &Pod) -> Controller {
        let Some(owner) = controller_of(&pod.metadata) else {
            return Controller::None;
        };
        let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
        let object = ObjectRef::namespaced(&owner.kind, namespace, &owner.name);
        let known = (
            owner.kind.clone(),
            namespace.to_string(),
            owner.name.clone(),
        );
        if self.loaded_kinds.contains(owner.kind.as_str()) && !self.existing.contains(&known) {
            Controller::Missing(object)
        } else {
            Controller::Present(object)
        }
    }

    /// The workload a person thinks of: a ReplicaSet's Deployment, else the controller itself.
    pub fn workload_of(&self, pod: &Pod) -> Option<ObjectRef> {
        let owner = controller_of(&pod.metadata)?;
        let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
        if owner.kind == "ReplicaSet"
            && let Some(deployment) = self
                .deployment_of_replica_set
                .get(&(namespace.to_string(), owner.name.clone()))
        {
            return Some(ObjectRef::namespaced("Deployment", namespace, deployment));
        }
        Some(ObjectRef::namespaced(&owner.kind, namespace, &owner.name))
    }

    /// Ready pods of `workload` anywhere in the cluster.
    pub fn ready_replicas(&self, workload: &ObjectRef) -> usize {
        self.ready.get(workload).copied().unwrap_or(0)
    }

    /// `spec.replicas` of `workload`, when it has one.
    pub fn desired_replicas(&self, workload: &ObjectRef) -> Option<i32> {
        self.replicas.get(workload).copied()
    }
}

/// Running with condition Ready=True.
pub fn is_ready(pod: &Pod) -> bool {
    let Some(status) = &pod.status else {
        return false;
    };
    status.phase.as_deref() == Some("Running")
        && status
            .conditions
            .iter()
            .flatten()
            .any(|c| c.type_ == "Ready" && c.status == "True")
}

fn names(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> (&str, &str) {
    (
        meta.namespace.as_deref().unwrap_or_default(),
        meta.name.as_deref().unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::fixtures::{deployment, owned_pod, replica_set, state_with};

    #[test]
    fn resolves_deployments_and_missing_controllers() {
        let mut state = state_with(vec![
            owned_pod("web-1", "n1", "ReplicaSet", "web-abc", true),
            owned_pod("web-2", "n2", "ReplicaSet", "web-abc", true),
            owned_pod("orphan", "n1", "ReplicaSet", "gone", true),
        ]);
        state.insert_all([
            replica_set("web-abc", Some("web")),
            replica_set("unused", None),
        ]);
        state.insert_all([deployment("web", 2)]);
        let workloads = Workloads::index(&state);
        let web = ObjectRef::namespaced("Deployment", "shop", "web");
        assert_eq!(workloads.workload_of(&state.pods[0]), Some(web.clone()));
        assert_eq!(workloads.ready_replicas(&web), 2);
        assert_eq!(workloads.desired_replicas(&web), Some(2));
        assert_eq!(
            workloads.controller(&state.pods[2]),
            Controller::Missing(ObjectRef::namespaced("ReplicaSet", "shop", "gone"))
        );
    }

    #[test]
    fn unknown_kinds_are_assumed_present() {
        let state = state_with(vec![owned_pod("x", "n1", "CloneSet", "c", true)]);
        let workloads = Workloads::index(&state);
        assert!(matches!(
            workloads.controller(&state.pods[0]),
            Controller::Present(_)
        ));
    }
}
