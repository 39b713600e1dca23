//! The default filter plugins, each in its own file, and [`Filters`], which prepares them for
//! one pod (their PreFilter step) and runs all of them on a node without stopping at the first.

pub(crate) mod claims;
mod inter_pod_affinity;
mod node_affinity;
mod node_name;
pub(crate) mod node_ports;
mod node_unschedulable;
mod rejection;
mod resources_fit;
mod scheduling_gates;
mod taints;
mod topology_spread;
mod volume_binding;
mod volume_candidates;
mod volume_restrictions;
mod volume_zone;

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Pod, Toleration};

pub use rejection::{Code, Detail, Plugin, PreFilterRejection, Rejection, TaintRef, TermMismatch};
pub use scheduling_gates::scheduling_gates;

use super::index::{NodeEntry, Snapshot};
use super::labels::{Labels, labels_or_empty};
use super::requests::pod_requests;
use super::resources::Resources;
use node_ports::HostPort;

/// The incoming pod's fields most filters read.
pub(crate) struct PodContext<'p> {
    pub pod: &'p Pod,
    pub namespace: &'p str,
    pub labels: &'p Labels,
    pub tolerations: &'p [Toleration],
    pub requests: Resources,
}

impl<'p> PodContext<'p> {
    pub fn new(pod: &'p Pod) -> PodContext<'p> {
        PodContext {
            pod,
            namespace: pod.metadata.namespace.as_deref().unwrap_or("default"),
            labels: labels_or_empty(pod.metadata.labels.as_ref()),
            tolerations: pod
                .spec
                .as_ref()
                .and_then(|s| s.tolerations.as_deref())
                .unwrap_or_default(),
            requests: pod_requests(pod),
        }
    }
}

/// Every default filter, prepared for one pod against one snapshot.
pub(crate) struct Filters<'p, 'a> {
    pub ctx: PodContext<'p>,
    node_affinity: node_affinity::Prepared,
    resources_fit: resources_fit::Prepared,
    host_ports: Vec<HostPort<'p>>,
    volume_restrictions: volume_restrictions::Prepared,
    volume_binding: volume_binding::Prepared<'a>,
    volume_zone: volume_zone::Prepared,
    topology_spread: topology_spread::Prepared<'a>,
    inter_pod_affinity: inter_pod_affinity::Prepared<'a>,
    /// Checks that could not be made, and why.
    pub unchecked: Vec<String>,
}

impl<'p, 'a> Filters<'p, 'a> {
    pub fn prepare(pod: &'p Pod, snapshot: &Snapshot<'a>) -> Filters<'p, 'a> {
        let ctx = PodContext::new(pod);
        let node_affinity = node_affinity::Prepared::new(pod);
        let claims = claims::pod_claims(pod, snapshot);
        let mut unchecked = Vec::new();
        let storage_known = snapshot.loaded.storage || claims.is_empty();
        if !storage_known {
            unchecked.push(
                "VolumeRestrictions, VolumeBinding, VolumeZone: PersistentVolumeClaims, \
                 PersistentVolumes and StorageClasses were not loaded"
                    .to_string(),
            );
        }
        let storage_claims = if storage_known {
            claims.as_slice()
        } else {
            &[]
        };
        let volume_restrictions = volume_restrictions::Prepared::new(pod, storage_claims, snapshot);
        let volume_binding = volume_binding::Prepared::new(pod, storage_claims, snapshot);
        let volume_zone = volume_zone::Prepared::new(storage_claims, snapshot);
        let topology_spread = topology_spread::Prepared::new(&ctx, snapshot, &node_affinity);
        let inter_pod_affinity = inter_pod_affinity::Prepared::new(&ctx, snapshot);
        if inter_pod_affinity.needs_namespaces {
            unchecked.push(
                "InterPodAffinity: namespaceSelector terms could not be matched because Namespaces \
                 were not loaded"
                    .to_string(),
            );
        }
        Filters {
            host_ports: node_ports::host_ports(pod).collect(),
            resources_fit: resources_fit::Prepared::new(&ctx.requests),
            ctx,
            node_affinity,
            volume_restrictions,
            volume_binding,
            volume_zone,
            topology_spread,
            inter_pod_affinity,
            unchecked,
        }
    }

    /// The PreFilter rejections, in the order the scheduler runs its PreFilter plugins.
    pub fn prefilter(&self) -> Vec<PreFilterRejection> {
        let mut rejections: Vec<PreFilterRejection> = [
            self.node_affinity.prefilter.clone(),
            self.volume_restrictions.prefilter.clone(),
        ]
        .into_iter()
        .flatten()
        .chain(self.volume_binding.prefilter.iter().cloned())
        .chain(
            [
                self.volume_zone.prefilter.clone(),
                self.topology_spread.prefilter.clone(),
                self.inter_pod_affinity.prefilter.clone(),
            ]
            .into_iter()
            .flatten(),
        )
        .collect();
        rejections.dedup_by(|a, b| a.message == b.message);
        rejections
    }

    /// The node names NodeAffinity's PreFilter narrows the search to, if it does.
    pub fn narrowed_to(&self) -> Option<&BTreeSet<String>> {
        self.node_affinity.narrowed_to.as_ref()
    }

    /// Every filter's rejections of `node`, in the default filter order.
    pub fn check(&self, snapshot: &Snapshot, node: &NodeEntry) -> Vec<Rejection> {
        let ctx = &self.ctx;
        let mut rejections: Vec<Rejection> = [
            node_unschedulable::check(ctx, node),
            node_name::check(ctx, node),
            taints::check(ctx, node),
            self.node_affinity.check(node),
            node_ports::check(&self.host_ports, snapshot, node),
        ]
        .into_iter()
        .flatten()
        .collect();
        rejections.extend(self.resources_fit.check(node));
        rejections.extend(self.volume_restrictions.check(snapshot, node));
        rejections.extend(self.volume_binding.check(node));
        rejections.extend(self.volume_zone.check(node));
        rejections.extend(self.topology_spread.check(node));
        rejections.extend(self.inter_pod_affinity.check(snapshot, node));
        rejections
    }
}
