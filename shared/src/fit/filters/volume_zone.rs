//! VolumeZone: a bound volume labelled with a zone or region can only be used from nodes in it
//! (`volumezone/volume_zone.go`). Values may list several zones joined by `__`.

use super::claims::PodClaim;
use super::rejection::{Code, Detail, Plugin, PreFilterRejection, Rejection};
use crate::fit::index::{NodeEntry, Snapshot};
use crate::fit::reasons;

const ZONE: &str = "topology.kubernetes.io/zone";
const REGION: &str = "topology.kubernetes.io/region";
const BETA_ZONE: &str = "failure-domain.beta.kubernetes.io/zone";
const BETA_REGION: &str = "failure-domain.beta.kubernetes.io/region";
const TOPOLOGY_LABELS: [&str; 4] = [ZONE, REGION, BETA_ZONE, BETA_REGION];

#[derive(Clone, Debug, Default)]
pub(crate) struct Prepared {
    pub prefilter: Option<PreFilterRejection>,
    topologies: Vec<VolumeTopology>,
}

#[derive(Clone, Debug)]
struct VolumeTopology {
    volume: String,
    label: &'static str,
    allowed: Vec<String>,
}

impl Prepared {
    pub fn new(claims: &[PodClaim], snapshot: &Snapshot) -> Prepared {
        let mut prepared = Prepared::default();
        for claim in claims.iter().filter(|c| c.claim.is_some()) {
            let name = claim.volume_name();
            if name.is_empty() {
                continue;
            }
            let Some(volume) = snapshot.volume(name) else {
                prepared
                    .prefilter
                    .get_or_insert_with(|| PreFilterRejection {
                        plugin: Plugin::VolumeZone,
                        message: format!("persistentvolume \"{name}\" not found"),
                        explanation: format!(
                            "Claim {} names PersistentVolume {name}, which does not exist.",
                            claim.name
                        ),
                        fix: "Restore the PersistentVolume, or recreate the claim (and its data)."
                            .to_string(),
                    });
                continue;
            };
            let labels = volume.metadata.labels.as_ref();
            for label in TOPOLOGY_LABELS {
                if let Some(value) = labels.and_then(|l| l.get(label)) {
                    prepared.topologies.push(VolumeTopology {
                        volume: name.to_string(),
                        label,
                        allowed: value.split("__").map(str::to_string).collect(),
                    });
                }
            }
        }
        prepared
    }

    pub fn check(&self, node: &NodeEntry) -> Option<Rejection> {
        if self.topologies.is_empty()
            || !TOPOLOGY_LABELS.iter().any(|l| node.labels.contains_key(*l))
        {
            return None;
        }
        let conflict = self.topologies.iter().find_map(|topology| {
            let value = node
                .labels
                .get(topology.label)
                .or_else(|| node.labels.get(ga_label(topology.label)));
            let fits = value.is_some_and(|v| topology.allowed.contains(v));
            (!fits).then_some((topology, value))
        })?;
        let (topology, value) = conflict;
        let node_has = value.map_or_else(
            || format!("no {} label", topology.label),
            |v| format!("{}={v}", topology.label),
        );
        Some(
            Rejection::new(
                Plugin::VolumeZone,
                Code::UnschedulableAndUnresolvable,
                reasons::VOLUME_ZONE_CONFLICT,
                Detail::VolumeZoneConflict {
                    volume: topology.volume.clone(),
                    label: topology.label.to_string(),
                    allowed: topology.allowed.clone(),
                    node_value: value.cloned(),
                },
            )
            .explained(format!(
                "PersistentVolume {} lives in {} {}, but node {} has {node_has}.",
                topology.volume,
                topology.label,
                topology.allowed.join(" or "),
                node.name
            ))
            .with_evidence(format!("volume {}: {}={}", topology.volume, topology.label, topology.allowed.join("__")))
            .with_fix("Run the pod on a node in the volume's zone (add capacity there), or move the data."),
        )
    }
}

fn ga_label(label: &str) -> &str {
    match label {
        BETA_ZONE => ZONE,
        BETA_REGION => REGION,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::filters::claims::pod_claims;
    use crate::fit::testing::{node, pod_with_spec};
    use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
    use serde_json::json;

    fn setup(
        pv_labels: serde_json::Value,
        pv_exists: bool,
    ) -> (
        Vec<k8s_openapi::api::core::v1::Node>,
        Vec<PersistentVolumeClaim>,
        Vec<PersistentVolume>,
    ) {
        let nodes = vec![
            node("a1", json!({ZONE: "a"})),
            node("b1", json!({BETA_ZONE: "b"})),
            node("plain", json!({})),
        ];
        let claims = vec![
            serde_json::from_value(json!({
                "metadata": {"name": "data", "namespace": "default"},
                "spec": {"volumeName": "pv-1"},
            }))
            .unwrap(),
        ];
        let volumes = if pv_exists {
            vec![
                serde_json::from_value(json!({"metadata": {"name": "pv-1", "labels": pv_labels}}))
                    .unwrap(),
            ]
        } else {
            vec![]
        };
        (nodes, claims, volumes)
    }

    fn pod() -> k8s_openapi::api::core::v1::Pod {
        pod_with_spec(
            json!({"containers": [], "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]}),
        )
    }

    #[test]
    fn zone_labels_must_match_and_unlabelled_nodes_pass() {
        let (nodes, claims, volumes) = setup(json!({BETA_ZONE: "a__c"}), true);
        let snapshot = Snapshot::new(&nodes, &[]).with_storage(&claims, &volumes, &[]);
        let prepared = Prepared::new(&pod_claims(&pod(), &snapshot), &snapshot);
        assert!(
            prepared.check(&snapshot.nodes[0]).is_none(),
            "beta volume label, GA node label"
        );
        let rejection = prepared.check(&snapshot.nodes[1]).unwrap();
        assert_eq!(rejection.reason, reasons::VOLUME_ZONE_CONFLICT);
        assert!(
            prepared.check(&snapshot.nodes[2]).is_none(),
            "nodes without zone labels pass"
        );
    }

    #[test]
    fn missing_volume_rejects_in_prefilter() {
        let (nodes, claims, volumes) = setup(json!({}), false);
        let snapshot = Snapshot::new(&nodes, &[]).with_storage(&claims, &volumes, &[]);
        let prepared = Prepared::new(&pod_claims(&pod(), &snapshot), &snapshot);
        assert_eq!(
            prepared.prefilter.unwrap().message,
            "persistentvolume \"pv-1\" not found"
        );
    }
}
