//! The kinds of object a plugin can ask to load, and where each lives in the API.

use serde::Serialize;

/// One kind of object the loaders know how to fetch, from the API or from a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Kind {
    Pod,
    Node,
    Event,
    Namespace,
    PersistentVolumeClaim,
    PersistentVolume,
    StorageClass,
    PodDisruptionBudget,
    ReplicaSet,
    Deployment,
    StatefulSet,
    DaemonSet,
    Job,
    ReplicationController,
    Service,
    EndpointSlice,
    NetworkPolicy,
    /// Metadata only: secret data is never read.
    Secret,
    /// Metadata and keys only matter; values are kept as the API returns them.
    ConfigMap,
    ServiceAccount,
    ResourceQuota,
    LimitRange,
    PriorityClass,
    Lease,
    ApiService,
    CustomResourceDefinition,
}

impl Kind {
    /// The plural resource name, as RBAC and kubectl spell it.
    pub fn resource(self) -> &'static str {
        match self {
            Kind::Pod => "pods",
            Kind::Node => "nodes",
            Kind::Event => "events",
            Kind::Namespace => "namespaces",
            Kind::PersistentVolumeClaim => "persistentvolumeclaims",
            Kind::PersistentVolume => "persistentvolumes",
            Kind::StorageClass => "storageclasses",
            Kind::PodDisruptionBudget => "poddisruptionbudgets",
            Kind::ReplicaSet => "replicasets",
            Kind::Deployment => "deployments",
            Kind::StatefulSet => "statefulsets",
            Kind::DaemonSet => "daemonsets",
            Kind::Job => "jobs",
            Kind::ReplicationController => "replicationcontrollers",
            Kind::Service => "services",
            Kind::EndpointSlice => "endpointslices",
            Kind::NetworkPolicy => "networkpolicies",
            Kind::Secret => "secrets",
            Kind::ConfigMap => "configmaps",
            Kind::ServiceAccount => "serviceaccounts",
            Kind::ResourceQuota => "resourcequotas",
            Kind::LimitRange => "limitranges",
            Kind::PriorityClass => "priorityclasses",
            Kind::Lease => "leases",
            Kind::ApiService => "apiservices",
            Kind::CustomResourceDefinition => "customresourcedefinitions",
        }
    }

    /// The API group, empty for the core group.
    pub fn group(self) -> &'static str {
        match self {
            Kind::StorageClass => "storage.k8s.io",
            Kind::PodDisruptionBudget => "policy",
            Kind::ReplicaSet | Kind::Deployment | Kind::StatefulSet | Kind::DaemonSet => "apps",
            Kind::Job => "batch",
            Kind::EndpointSlice => "discovery.k8s.io",
            Kind::NetworkPolicy => "networking.k8s.io",
            Kind::PriorityClass => "scheduling.k8s.io",
            Kind::Lease => "coordination.k8s.io",
            Kind::ApiService => "apiregistration.k8s.io",
            Kind::CustomResourceDefinition => "apiextensions.k8s.io",
            _ => "",
        }
    }

    /// Whether objects of this kind live in a namespace.
    pub fn namespaced(self) -> bool {
        !matches!(
            self,
            Kind::Node
                | Kind::Namespace
                | Kind::PersistentVolume
                | Kind::StorageClass
                | Kind::PriorityClass
                | Kind::ApiService
                | Kind::CustomResourceDefinition
        )
    }

    /// The kind as written in an object's `kind` field.
    pub fn kind_name(self) -> &'static str {
        match self {
            Kind::Pod => "Pod",
            Kind::Node => "Node",
            Kind::Event => "Event",
            Kind::Namespace => "Namespace",
            Kind::PersistentVolumeClaim => "PersistentVolumeClaim",
            Kind::PersistentVolume => "PersistentVolume",
            Kind::StorageClass => "StorageClass",
            Kind::PodDisruptionBudget => "PodDisruptionBudget",
            Kind::ReplicaSet => "ReplicaSet",
            Kind::Deployment => "Deployment",
            Kind::StatefulSet => "StatefulSet",
            Kind::DaemonSet => "DaemonSet",
            Kind::Job => "Job",
            Kind::ReplicationController => "ReplicationController",
            Kind::Service => "Service",
            Kind::EndpointSlice => "EndpointSlice",
            Kind::NetworkPolicy => "NetworkPolicy",
            Kind::Secret => "Secret",
            Kind::ConfigMap => "ConfigMap",
            Kind::ServiceAccount => "ServiceAccount",
            Kind::ResourceQuota => "ResourceQuota",
            Kind::LimitRange => "LimitRange",
            Kind::PriorityClass => "PriorityClass",
            Kind::Lease => "Lease",
            Kind::ApiService => "APIService",
            Kind::CustomResourceDefinition => "CustomResourceDefinition",
        }
    }

    /// Every kind, in a stable order.
    pub const ALL: [Kind; 26] = [
        Kind::Pod,
        Kind::Node,
        Kind::Event,
        Kind::Namespace,
        Kind::PersistentVolumeClaim,
        Kind::PersistentVolume,
        Kind::StorageClass,
        Kind::PodDisruptionBudget,
        Kind::ReplicaSet,
        Kind::Deployment,
        Kind::StatefulSet,
        Kind::DaemonSet,
        Kind::Job,
        Kind::ReplicationController,
        Kind::Service,
        Kind::EndpointSlice,
        Kind::NetworkPolicy,
        Kind::Secret,
        Kind::ConfigMap,
        Kind::ServiceAccount,
        Kind::ResourceQuota,
        Kind::LimitRange,
        Kind::PriorityClass,
        Kind::Lease,
        Kind::ApiService,
        Kind::CustomResourceDefinition,
    ];

    /// The kind whose `kind` field reads `name` (as in a List item), if the loaders know it.
    pub fn from_kind_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.kind_name() == name)
    }
}
