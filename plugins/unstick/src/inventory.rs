//! Everything analysis reads: the typed objects of the shared [`ClusterState`], the metadata of
//! every object in scope (any type, custom resources included), and what could not be read.

use std::{collections::BTreeMap, sync::Arc};

use k8s_openapi::{
    api::{
        apps::v1::StatefulSet,
        coordination::v1::Lease,
        core::v1::{Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod},
    },
    apimachinery::pkg::apis::meta::v1::ObjectMeta,
    jiff::Timestamp,
    kube_aggregator::pkg::apis::apiregistration::v1::APIService,
};
use kube_runbook::{
    report::{NotChecked, ObjectRef},
    state::{ClusterState, Kind},
};

use crate::resources::ResourceType;

/// One object of any type: its resource type and its metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct MetaObject {
    pub resource: Arc<ResourceType>,
    pub meta: ObjectMeta,
}

impl MetaObject {
    /// A typed object of a built-in kind.
    pub fn of_kind(kind: Kind, meta: &ObjectMeta) -> MetaObject {
        MetaObject {
            resource: Arc::new(ResourceType::builtin(kind)),
            meta: meta.clone(),
        }
    }

    pub fn name(&self) -> &str {
        self.meta.name.as_deref().unwrap_or_default()
    }

    pub fn namespace(&self) -> Option<&str> {
        self.meta.namespace.as_deref()
    }

    pub fn uid(&self) -> Option<&str> {
        self.meta.uid.as_deref()
    }

    pub fn finalizers(&self) -> &[String] {
        self.meta.finalizers.as_deref().unwrap_or_default()
    }

    /// When deletion was requested to complete (`metadata.deletionTimestamp`).
    pub fn deletion_timestamp(&self) -> Option<Timestamp> {
        self.meta.deletion_timestamp.as_ref().map(|t| t.0)
    }

    /// The object as findings name it.
    pub fn reference(&self) -> ObjectRef {
        match self.namespace() {
            Some(ns) => ObjectRef::namespaced(&self.resource.kind, ns, self.name()),
            None => ObjectRef::cluster(&self.resource.kind, self.name()),
        }
    }

    /// `pod/web-0 -n shop`-style words for kubectl commands: `TYPE NAME [-n NS]`.
    pub fn kubectl_args(&self) -> String {
        let type_name = if self.resource.group.is_empty() {
            self.resource.singular.clone()
        } else {
            self.resource.qualified()
        };
        match self.namespace() {
            Some(ns) => format!("{type_name} {} -n {ns}", self.name()),
            None => format!("{type_name} {}", self.name()),
        }
    }

    /// Whether this and `other` are the same object (same type, place and name).
    pub fn same_object(&self, other: &MetaObject) -> bool {
        self.resource.group == other.resource.group
            && self.resource.kind == other.resource.kind
            && self.namespace() == other.namespace()
            && self.name() == other.name()
    }
}

/// An API group version whose discovery failed, and the API server's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupFailure {
    pub group_version: String,
    pub message: String,
}

/// What analysis knows about the cluster.
#[derive(Debug, Clone)]
pub struct Inventory {
    /// Typed objects of the namespace in scope (every namespace with -A) and cluster-scoped kinds.
    pub state: ClusterState,
    /// Metadata of every object in scope, of every served type.
    pub objects: Vec<MetaObject>,
    pub discovery_failures: Vec<GroupFailure>,
    /// Deployments, StatefulSets and DaemonSets of every namespace: where controllers run.
    pub workloads: ClusterState,
    /// Services, EndpointSlices, Pods and Events of the namespaces that back APIServices.
    pub backends: BTreeMap<String, ClusterState>,
    /// Resources that could not be listed, beyond the typed kinds the state records.
    pub not_checked: Vec<NotChecked>,
}

impl Inventory {
    pub fn observed_at(&self) -> Timestamp {
        self.state.observed_at
    }

    pub fn pod(&self, namespace: &str, name: &str) -> Option<&Pod> {
        self.state.pods.iter().find(|p| {
            p.metadata.namespace.as_deref() == Some(namespace)
                && p.metadata.name.as_deref() == Some(name)
        })
    }

    pub fn pods_in<'a>(&'a self, namespace: &str) -> impl Iterator<Item = &'a Pod> + use<'a> {
        let namespace = namespace.to_string();
        self.state
            .pods
            .iter()
            .filter(move |p| p.metadata.namespace.as_deref() == Some(namespace.as_str()))
    }

    pub fn node(&self, name: &str) -> Option<&Node> {
        self.state
            .nodes
            .iter()
            .find(|n| n.metadata.name.as_deref() == Some(name))
    }

    /// The node's heartbeat lease in `kube-node-lease`.
    pub fn node_lease(&self, name: &str) -> Option<&Lease> {
        self.state.leases.iter().find(|l| {
            l.metadata.namespace.as_deref() == Some("kube-node-lease")
                && l.metadata.name.as_deref() == Some(name)
        })
    }

    pub fn pvc(&self, namespace: &str, name: &str) -> Option<&PersistentVolumeClaim> {
        self.state.persistent_volume_claims.iter().find(|c| {
            c.metadata.namespace.as_deref() == Some(namespace)
                && c.metadata.name.as_deref() == Some(name)
        })
    }

    pub fn pv(&self, name: &str) -> Option<&PersistentVolume> {
        self.state
            .persistent_volumes
            .iter()
            .find(|v| v.metadata.name.as_deref() == Some(name))
    }

    pub fn namespace(&self, name: &str) -> Option<&Namespace> {
        self.state
            .namespaces
            .iter()
            .find(|n| n.metadata.name.as_deref() == Some(name))
    }

    pub fn stateful_set(&self, namespace: &str, name: &str) -> Option<&StatefulSet> {
        self.state.stateful_sets.iter().find(|s| {
            s.metadata.namespace.as_deref() == Some(namespace)
                && s.metadata.name.as_deref() == Some(name)
        })
    }

    pub fn api_service(&self, name: &str) -> Option<&APIService> {
        self.state
            .api_services
            .iter()
            .find(|a| a.metadata.name.as_deref() == Some(name))
    }

    /// The listed object of `kind` (in `group`) named `name` in `namespace`.
    #[cfg(test)]
    pub fn object(
        &self,
        group: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<&MetaObject> {
        self.objects
            .iter()
            .find(|o| o.resource.is(group, kind) && o.namespace() == namespace && o.name() == name)
    }

    /// Every listed object in `namespace`.
    pub fn objects_in<'a>(
        &'a self,
        namespace: &str,
    ) -> impl Iterator<Item = &'a MetaObject> + use<'a> {
        let namespace = namespace.to_string();
        self.objects
            .iter()
            .filter(move |o| o.namespace() == Some(namespace.as_str()))
    }

    /// Listed objects with an owner reference to `uid`.
    pub fn dependents_of<'a>(
        &'a self,
        uid: &str,
    ) -> impl Iterator<Item = &'a MetaObject> + use<'a> {
        let uid = uid.to_string();
        self.objects.iter().filter(move |o| {
            o.meta
                .owner_references
                .iter()
                .flatten()
                .any(|r| r.uid == uid)
        })
    }
}
