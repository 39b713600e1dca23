//! The PersistentVolumeClaims a pod uses, resolved once for the three volume filters.

use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};

use crate::fit::index::Snapshot;

/// The claim names of the pod's volumes in order, with whether each is a generic ephemeral
/// volume's claim (`<pod>-<volume>`, `ephemeral.VolumeClaimName`).
pub(crate) fn claim_names(pod: &Pod) -> Vec<(String, bool)> {
    let pod_name = pod.metadata.name.as_deref().unwrap_or("");
    let volumes = pod
        .spec
        .as_ref()
        .and_then(|s| s.volumes.as_deref())
        .unwrap_or_default();
    volumes
        .iter()
        .filter_map(
            |volume| match (&volume.persistent_volume_claim, &volume.ephemeral) {
                (Some(source), _) => Some((source.claim_name.clone(), false)),
                (None, Some(_)) => Some((format!("{pod_name}-{}", volume.name), true)),
                _ => None,
            },
        )
        .collect()
}

/// One claim a pod's volume refers to, and the claim object if it exists.
#[derive(Clone, Debug)]
pub(crate) struct PodClaim<'a> {
    pub name: String,
    pub ephemeral: bool,
    pub claim: Option<&'a PersistentVolumeClaim>,
}

impl PodClaim<'_> {
    /// `spec.storageClassName`, or the legacy `volume.beta.kubernetes.io/storage-class`
    /// annotation (`GetPersistentVolumeClaimClass`).
    pub fn storage_class(&self) -> &str {
        let Some(claim) = self.claim else {
            return "";
        };
        let annotation = claim
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("volume.beta.kubernetes.io/storage-class"));
        annotation
            .map(String::as_str)
            .or_else(|| {
                claim
                    .spec
                    .as_ref()
                    .and_then(|s| s.storage_class_name.as_deref())
            })
            .unwrap_or("")
    }

    /// `spec.volumeName`, empty when the claim names no volume.
    pub fn volume_name(&self) -> &str {
        self.claim
            .and_then(|c| c.spec.as_ref())
            .and_then(|s| s.volume_name.as_deref())
            .unwrap_or("")
    }

    /// Whether the claim's access modes include `mode`.
    pub fn has_access_mode(&self, mode: &str) -> bool {
        let modes = self
            .claim
            .and_then(|c| c.spec.as_ref())
            .and_then(|s| s.access_modes.as_deref());
        modes.unwrap_or_default().iter().any(|m| m == mode)
    }

    pub fn phase(&self) -> &str {
        self.claim
            .and_then(|c| c.status.as_ref())
            .and_then(|s| s.phase.as_deref())
            .unwrap_or("")
    }
}

/// Resolves the pod's claims against the snapshot, in volume order.
pub(crate) fn pod_claims<'a>(pod: &Pod, snapshot: &Snapshot<'a>) -> Vec<PodClaim<'a>> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    claim_names(pod)
        .into_iter()
        .map(|(name, ephemeral)| {
            let claim = snapshot.claim(namespace, &name);
            PodClaim {
                name,
                ephemeral,
                claim,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::testing::pod_with_spec;
    use serde_json::json;

    #[test]
    fn lists_claims_and_generic_ephemeral_volumes_in_order() {
        let pod = pod_with_spec(json!({"containers": [], "volumes": [
            {"name": "cache", "emptyDir": {}},
            {"name": "data", "persistentVolumeClaim": {"claimName": "data-0"}},
            {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}},
        ]}));
        assert_eq!(
            claim_names(&pod),
            [
                ("data-0".to_string(), false),
                ("incoming-scratch".to_string(), true)
            ]
        );
    }
}
