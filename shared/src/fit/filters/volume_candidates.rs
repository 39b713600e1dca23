//! The PersistentVolumes that could satisfy a WaitForFirstConsumer claim, as `FindMatchingVolume`
//! in `pkg/volume/util/volume.go` selects them: pre-bound to the claim, or Available, of the
//! claim's class, large enough, with matching access modes, volume mode and selector. Node
//! affinity is left to the per-node check.

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};

use super::node_affinity::CompiledTerms;
use crate::fit::index::Snapshot;
use crate::fit::labels::{Labels, Selector, labels_or_empty};
use crate::fit::quantity::Quantity;

/// A volume that could be bound to the claim on nodes its affinity allows.
#[derive(Clone, Debug)]
pub(crate) struct Candidate<'a> {
    pub pv: &'a PersistentVolume,
    /// `spec.claimRef` already names the claim.
    pub prebound: bool,
    pub affinity: Option<CompiledTerms>,
}

/// The required node affinity of a volume, compiled.
pub(crate) fn pv_affinity(pv: &PersistentVolume) -> Option<CompiledTerms> {
    let required = pv
        .spec
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required
        .as_ref()?;
    Some(CompiledTerms::compile(required))
}

/// PersistentVolumes of the claim's class that could satisfy it on some node
/// (`FindMatchingVolume` without the node check), smallest first.
pub(crate) fn candidates<'a>(
    claim: &PersistentVolumeClaim,
    class: &str,
    snapshot: &Snapshot<'a>,
) -> Vec<Candidate<'a>> {
    let spec = claim.spec.as_ref();
    let wanted = spec
        .and_then(|s| s.resources.as_ref())
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"))
        .and_then(|q| Quantity::parse(&q.0).ok())
        .unwrap_or_default();
    let selector = spec
        .and_then(|s| s.selector.as_ref())
        .map(|s| Selector::from_label_selector(Some(s)).unwrap_or_else(|_| Selector::nothing()));
    let modes = spec
        .and_then(|s| s.access_modes.clone())
        .unwrap_or_default();
    let mode = |m: Option<&str>| m.unwrap_or("Filesystem").to_string();
    let claim_mode = mode(spec.and_then(|s| s.volume_mode.as_deref()));
    let mut found: Vec<(Quantity, Candidate<'a>)> = Vec::new();
    for pv in snapshot.volumes() {
        let pv_spec = pv.spec.as_ref();
        let prebound = pv_spec.and_then(|s| s.claim_ref.as_ref()).map(|r| {
            r.name.as_deref() == claim.metadata.name.as_deref()
                && r.namespace.as_deref() == claim.metadata.namespace.as_deref()
                && r.uid
                    .as_deref()
                    .is_none_or(|uid| uid.is_empty() || Some(uid) == claim.metadata.uid.as_deref())
        });
        let capacity = pv_spec
            .and_then(|s| s.capacity.as_ref())
            .and_then(|c| c.get("storage"))
            .and_then(|q| Quantity::parse(&q.0).ok())
            .unwrap_or_default();
        let pv_modes = pv_spec
            .and_then(|s| s.access_modes.as_deref())
            .unwrap_or_default();
        let usable = prebound != Some(false)
            && capacity >= wanted
            && mode(pv_spec.and_then(|s| s.volume_mode.as_deref())) == claim_mode
            && pv.metadata.deletion_timestamp.is_none()
            && (prebound == Some(true)
                || (pv.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Available")
                    && selector.as_ref().is_none_or(|s| s.matches(labels_of(pv)))
                    && pv_class(pv) == class
                    && modes.iter().all(|m| pv_modes.contains(m))));
        if usable {
            let candidate = Candidate {
                pv,
                prebound: prebound == Some(true),
                affinity: pv_affinity(pv),
            };
            found.push((capacity, candidate));
        }
    }
    found.sort_by_key(|(capacity, candidate)| (!candidate.prebound, *capacity));
    found.into_iter().map(|(_, candidate)| candidate).collect()
}

fn labels_of(pv: &PersistentVolume) -> &Labels {
    labels_or_empty(pv.metadata.labels.as_ref())
}

fn pv_class(pv: &PersistentVolume) -> &str {
    let annotation = pv
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("volume.beta.kubernetes.io/storage-class"));
    annotation
        .map(String::as_str)
        .or_else(|| {
            pv.spec
                .as_ref()
                .and_then(|s| s.storage_class_name.as_deref())
        })
        .unwrap_or("")
}
