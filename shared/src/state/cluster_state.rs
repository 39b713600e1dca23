//! The cluster as plain Rust values: what a plugin analyses, whether it came from the API or a snapshot.

use std::collections::BTreeSet;

use k8s_openapi::api::{
    apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet},
    batch::v1::Job,
    coordination::v1::Lease,
    core::v1::{
        ConfigMap, Event, LimitRange, Namespace, Node, PersistentVolume, PersistentVolumeClaim,
        Pod, ReplicationController, ResourceQuota, Secret, Service, ServiceAccount,
    },
    discovery::v1::EndpointSlice,
    networking::v1::NetworkPolicy,
    policy::v1::PodDisruptionBudget,
    scheduling::v1::PriorityClass,
    storage::v1::StorageClass,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::jiff::Timestamp;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
use serde::Serialize;

use super::kind::Kind;
use crate::fit::PodRecords;

/// Where a state was read from: shown to the user and recorded in reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Origin {
    /// The live API server of a kubeconfig context.
    Live {
        context: Option<String>,
        server: String,
    },
    /// A saved dump or List file.
    Snapshot { path: String },
}

/// A kind that was asked for but could not be read, and why; analysis says what it could not check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unavailable {
    pub kind: Kind,
    pub reason: String,
}

macro_rules! cluster_state {
    ($($field:ident: $ty:ty => $kind:ident,)*) => {
        /// Every object a plugin asked for, one list per kind, plus what could not be read.
        #[derive(Debug, Clone)]
        pub struct ClusterState {
            $(pub $field: Vec<$ty>,)*
            /// Kinds that were loaded (an empty list of a loaded kind means there are none).
            pub loaded: BTreeSet<Kind>,
            /// Kinds asked for that could not be read.
            pub unavailable: Vec<Unavailable>,
            pub origin: Origin,
            /// When the state was observed; ages and staleness are measured from here.
            pub observed_at: Timestamp,
            /// The pods as the fit engine reads them, when loading read them.
            pub(crate) pod_records: Option<PodRecords>,
        }

        impl ClusterState {
            /// An empty state from `origin`, observed at `observed_at`.
            pub fn new(origin: Origin, observed_at: Timestamp) -> Self {
                ClusterState {
                    $($field: Vec::new(),)*
                    loaded: BTreeSet::new(),
                    unavailable: Vec::new(),
                    origin,
                    observed_at,
                    pod_records: None,
                }
            }

            /// Adds everything `other` loaded (a second load of other kinds or scopes).
            pub fn absorb(&mut self, other: ClusterState) {
                $(self.$field.extend(other.$field);)*
                self.loaded.extend(other.loaded);
                self.unavailable.retain(|u| !self.loaded.contains(&u.kind));
                self.unavailable.extend(other.unavailable.into_iter().filter(|u| !self.loaded.contains(&u.kind)));
            }
        }

        $(impl Stored for $ty {
            const KIND: Kind = Kind::$kind;
            fn slot(state: &mut ClusterState) -> &mut Vec<Self> {
                &mut state.$field
            }
        })*

        /// Deserializes one object of `kind` from JSON and stores it.
        pub(crate) fn store_json(
            state: &mut ClusterState,
            kind: Kind,
            value: serde_json::Value,
        ) -> Result<(), serde_json::Error> {
            match kind {
                $(Kind::$kind => state.$field.push(serde_json::from_value(value)?),)*
            }
            Ok(())
        }
    };
}

/// A Kubernetes type that has a list in [`ClusterState`].
pub trait Stored: Sized {
    const KIND: Kind;
    fn slot(state: &mut ClusterState) -> &mut Vec<Self>;
}

cluster_state! {
    pods: Pod => Pod,
    nodes: Node => Node,
    events: Event => Event,
    namespaces: Namespace => Namespace,
    persistent_volume_claims: PersistentVolumeClaim => PersistentVolumeClaim,
    persistent_volumes: PersistentVolume => PersistentVolume,
    storage_classes: StorageClass => StorageClass,
    pod_disruption_budgets: PodDisruptionBudget => PodDisruptionBudget,
    replica_sets: ReplicaSet => ReplicaSet,
    deployments: Deployment => Deployment,
    stateful_sets: StatefulSet => StatefulSet,
    daemon_sets: DaemonSet => DaemonSet,
    jobs: Job => Job,
    replication_controllers: ReplicationController => ReplicationController,
    services: Service => Service,
    endpoint_slices: EndpointSlice => EndpointSlice,
    network_policies: NetworkPolicy => NetworkPolicy,
    secrets: Secret => Secret,
    config_maps: ConfigMap => ConfigMap,
    service_accounts: ServiceAccount => ServiceAccount,
    resource_quotas: ResourceQuota => ResourceQuota,
    limit_ranges: LimitRange => LimitRange,
    priority_classes: PriorityClass => PriorityClass,
    leases: Lease => Lease,
    api_services: APIService => ApiService,
    custom_resource_definitions: CustomResourceDefinition => CustomResourceDefinition,
}

impl ClusterState {
    /// Whether `kind` was read, so that an empty list means "none exist" rather than "not checked".
    pub fn has(&self, kind: Kind) -> bool {
        self.loaded.contains(&kind)
    }

    /// The reason `kind` could not be read, if it was asked for and refused.
    pub fn unavailable_reason(&self, kind: Kind) -> Option<&str> {
        self.unavailable
            .iter()
            .find(|u| u.kind == kind)
            .map(|u| u.reason.as_str())
    }

    /// Stores a list of objects and marks its kind loaded.
    pub fn insert_all<T: Stored>(&mut self, items: impl IntoIterator<Item = T>) {
        T::slot(self).extend(items);
        self.loaded.insert(T::KIND);
    }
}
