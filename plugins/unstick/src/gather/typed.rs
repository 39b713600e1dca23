//! The typed objects of a state as an object listing: what a snapshot offers in place of the live
//! listing of every type.

use k8s_openapi::{Metadata, apimachinery::pkg::apis::meta::v1::ObjectMeta};
use kube_runbook::state::{ClusterState, Kind};

use crate::inventory::MetaObject;

/// Every typed object of `state` whose kind can be deleted by users (events excluded).
pub fn typed_objects(state: &ClusterState) -> Vec<MetaObject> {
    let mut out = Vec::new();
    push(&mut out, Kind::Pod, &state.pods);
    push(&mut out, Kind::Namespace, &state.namespaces);
    push(
        &mut out,
        Kind::PersistentVolumeClaim,
        &state.persistent_volume_claims,
    );
    push(&mut out, Kind::PersistentVolume, &state.persistent_volumes);
    push(&mut out, Kind::Node, &state.nodes);
    push(&mut out, Kind::StatefulSet, &state.stateful_sets);
    push(&mut out, Kind::ReplicaSet, &state.replica_sets);
    push(&mut out, Kind::Deployment, &state.deployments);
    push(&mut out, Kind::DaemonSet, &state.daemon_sets);
    push(&mut out, Kind::Job, &state.jobs);
    push(&mut out, Kind::Service, &state.services);
    push(&mut out, Kind::ConfigMap, &state.config_maps);
    push(&mut out, Kind::Secret, &state.secrets);
    push(&mut out, Kind::ServiceAccount, &state.service_accounts);
    push(&mut out, Kind::ApiService, &state.api_services);
    push(
        &mut out,
        Kind::CustomResourceDefinition,
        &state.custom_resource_definitions,
    );
    out
}

fn push<T: Metadata<Ty = ObjectMeta>>(out: &mut Vec<MetaObject>, kind: Kind, items: &[T]) {
    out.extend(
        items
            .iter()
            .map(|item| MetaObject::of_kind(kind, item.metadata())),
    );
}
