//! VolumeRestrictions: ReadWriteOncePod claims already in use, and inline disks (GCE PD, AWS
//! EBS, RBD, iSCSI) another pod on the node mounts read-write
//! (`volumerestrictions/volume_restrictions.go`).

use k8s_openapi::api::core::v1::{Pod, Volume};

use super::claims::PodClaim;
use super::rejection::{Code, Detail, Plugin, PreFilterRejection, Rejection};
use crate::fit::index::{NodeEntry, Snapshot};
use crate::fit::reasons;

#[derive(Clone, Debug, Default)]
pub(crate) struct Prepared {
    /// The first claim (not an ephemeral one) that does not exist.
    pub prefilter: Option<PreFilterRejection>,
    /// ReadWriteOncePod claims of the pod that other pods already use, with those pods.
    in_use: Vec<(String, Vec<String>)>,
    inline_disks: Vec<Volume>,
}

impl Prepared {
    pub fn new(pod: &Pod, claims: &[PodClaim], snapshot: &Snapshot) -> Prepared {
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
        let persistent: Vec<&PodClaim> = claims.iter().filter(|c| !c.ephemeral).collect();
        let prefilter = persistent
            .iter()
            .find(|c| c.claim.is_none())
            .map(|missing| PreFilterRejection {
                plugin: Plugin::VolumeRestrictions,
                message: reasons::claim_not_found(&missing.name),
                explanation: format!(
                    "The pod mounts PersistentVolumeClaim {namespace}/{}, which does not exist.",
                    missing.name
                ),
                fix: format!(
                    "Create the claim {namespace}/{} (or fix claimName in the pod's volumes).",
                    missing.name
                ),
            });
        let in_use = persistent
            .iter()
            .filter(|c| c.has_access_mode("ReadWriteOncePod"))
            .filter_map(|c| {
                let users: Vec<String> = snapshot
                    .claim_users(namespace, &c.name)
                    .filter(|user| user.name() != pod.metadata.name.as_deref().unwrap_or(""))
                    .map(|user| format!("{} on {}", user.key(), snapshot.nodes[user.node].name))
                    .collect();
                (!users.is_empty()).then(|| (c.name.clone(), users))
            })
            .collect();
        let volumes = pod
            .spec
            .as_ref()
            .and_then(|s| s.volumes.as_deref())
            .unwrap_or_default();
        let inline_disks = volumes
            .iter()
            .filter(|v| disk_identity(v).is_some())
            .cloned()
            .collect();
        Prepared {
            prefilter,
            in_use,
            inline_disks,
        }
    }

    pub fn check(&self, snapshot: &Snapshot, node: &NodeEntry) -> Option<Rejection> {
        if let Some(rejection) = self.disk_conflict(snapshot, node) {
            return Some(rejection);
        }
        let (claim, users) = self.in_use.first()?;
        Some(
            Rejection::new(
                Plugin::VolumeRestrictions,
                Code::Unschedulable,
                reasons::READ_WRITE_ONCE_POD_CONFLICT,
                Detail::ReadWriteOncePodInUse {
                    claim: claim.clone(),
                    used_by: users.clone(),
                },
            )
            .explained(format!(
                "Claim {claim} has access mode ReadWriteOncePod and is already used by {}; no node \
                 can take a second user.",
                users.join(", ")
            ))
            .with_evidence(format!("{claim} is used by {}", users.join(", ")))
            .with_fix("Stop the pod that uses the claim first, or give this pod its own claim."),
        )
    }

    fn disk_conflict(&self, snapshot: &Snapshot, node: &NodeEntry) -> Option<Rejection> {
        for wanted in &self.inline_disks {
            for &id in snapshot.pods_on_node(node.id) {
                let holder = &snapshot.pods[id];
                let volumes = holder
                    .pod
                    .spec
                    .as_ref()
                    .and_then(|s| s.volumes.as_deref())
                    .unwrap_or_default();
                if let Some(existing) = volumes.iter().find(|v| disks_conflict(wanted, v)) {
                    let disk = disk_identity(existing).unwrap_or_default();
                    return Some(
                        Rejection::new(
                            Plugin::VolumeRestrictions,
                            Code::Unschedulable,
                            reasons::DISK_CONFLICT,
                            Detail::DiskConflict { volume: disk.clone(), held_by: holder.key() },
                        )
                        .explained(format!(
                            "Pod {} on node {} already mounts disk {disk}, and both cannot mount it \
                             unless both are read-only.",
                            holder.key(),
                            node.name
                        ))
                        .with_evidence(format!("{} mounts {disk}", holder.key()))
                        .with_fix("Mount the disk read-only in both pods, or use separate disks."),
                    );
                }
            }
        }
        None
    }
}

/// A stable identity for an inline disk volume, `None` for other volume types.
fn disk_identity(volume: &Volume) -> Option<String> {
    if let Some(gce) = &volume.gce_persistent_disk {
        return Some(format!("gce-pd {}", gce.pd_name));
    }
    if let Some(ebs) = &volume.aws_elastic_block_store {
        return Some(format!("aws-ebs {}", ebs.volume_id));
    }
    if let Some(rbd) = &volume.rbd {
        return Some(format!(
            "rbd {}/{}",
            rbd.pool.as_deref().unwrap_or("rbd"),
            rbd.image
        ));
    }
    volume
        .iscsi
        .as_ref()
        .map(|iscsi| format!("iscsi {}", iscsi.iqn))
}

/// `isVolumeConflict`: the same disk, and not both mounts read-only (EBS always conflicts).
fn disks_conflict(wanted: &Volume, existing: &Volume) -> bool {
    if let (Some(a), Some(b)) = (&wanted.gce_persistent_disk, &existing.gce_persistent_disk) {
        return a.pd_name == b.pd_name
            && !(a.read_only.unwrap_or(false) && b.read_only.unwrap_or(false));
    }
    if let (Some(a), Some(b)) = (
        &wanted.aws_elastic_block_store,
        &existing.aws_elastic_block_store,
    ) {
        return a.volume_id == b.volume_id;
    }
    if let (Some(a), Some(b)) = (&wanted.iscsi, &existing.iscsi) {
        return a.iqn == b.iqn && !(a.read_only.unwrap_or(false) && b.read_only.unwrap_or(false));
    }
    if let (Some(a), Some(b)) = (&wanted.rbd, &existing.rbd) {
        let monitors_overlap = a.monitors.iter().any(|m| b.monitors.contains(m));
        let same_image = a.pool == b.pool && a.image == b.image;
        return monitors_overlap
            && same_image
            && !(a.read_only.unwrap_or(false) && b.read_only.unwrap_or(false));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::filters::claims::pod_claims;
    use crate::fit::testing::{node, pod_from, pod_with_spec};
    use k8s_openapi::api::core::v1::PersistentVolumeClaim;
    use serde_json::json;

    fn claim(name: &str, modes: &[&str]) -> PersistentVolumeClaim {
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"accessModes": modes},
        }))
        .unwrap()
    }

    fn user(name: &str, node: &str, volumes: serde_json::Value) -> Pod {
        pod_from(json!({
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"nodeName": node, "containers": [], "volumes": volumes},
        }))
    }

    #[test]
    fn missing_claim_rejects_in_prefilter_with_the_api_message() {
        let nodes = [node("n1", json!({}))];
        let snapshot = Snapshot::new(&nodes, &[]).with_storage(&[], &[], &[]);
        let pod = pod_with_spec(json!({"containers": [], "volumes": [
            {"name": "d", "persistentVolumeClaim": {"claimName": "data"}}
        ]}));
        let prepared = Prepared::new(&pod, &pod_claims(&pod, &snapshot), &snapshot);
        assert_eq!(
            prepared.prefilter.unwrap().message,
            "persistentvolumeclaim \"data\" not found"
        );
    }

    #[test]
    fn read_write_once_pod_claim_in_use_blocks_every_node() {
        let nodes = [node("n1", json!({})), node("n2", json!({}))];
        let volumes = json!([{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]);
        let pods = [user("holder", "n1", volumes.clone())];
        let claims = [claim("data", &["ReadWriteOncePod"])];
        let snapshot = Snapshot::new(&nodes, &pods).with_storage(&claims, &[], &[]);
        let pod = pod_with_spec(json!({"containers": [], "volumes": volumes}));
        let prepared = Prepared::new(&pod, &pod_claims(&pod, &snapshot), &snapshot);
        for node in &snapshot.nodes {
            let rejection = prepared.check(&snapshot, node).unwrap();
            assert_eq!(rejection.reason, reasons::READ_WRITE_ONCE_POD_CONFLICT);
            assert!(rejection.explanation.contains("default/holder on n1"));
        }
    }

    #[test]
    fn read_write_once_claims_are_not_restricted() {
        let nodes = [node("n1", json!({}))];
        let volumes = json!([{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]);
        let pods = [user("holder", "n1", volumes.clone())];
        let claims = [claim("data", &["ReadWriteOnce"])];
        let snapshot = Snapshot::new(&nodes, &pods).with_storage(&claims, &[], &[]);
        let pod = pod_with_spec(json!({"containers": [], "volumes": volumes}));
        let prepared = Prepared::new(&pod, &pod_claims(&pod, &snapshot), &snapshot);
        assert!(prepared.check(&snapshot, &snapshot.nodes[0]).is_none());
    }

    #[test]
    fn inline_disks_conflict_unless_both_read_only() {
        let nodes = [node("n1", json!({}))];
        let disk = |read_only: bool| json!([{"name": "d", "gcePersistentDisk": {"pdName": "pd-1", "readOnly": read_only}}]);
        let pods = [user("holder", "n1", disk(true))];
        let snapshot = Snapshot::new(&nodes, &pods);
        let writer = pod_with_spec(json!({"containers": [], "volumes": disk(false)}));
        let prepared = Prepared::new(&writer, &[], &snapshot);
        let rejection = prepared.check(&snapshot, &snapshot.nodes[0]).unwrap();
        assert_eq!(rejection.reason, reasons::DISK_CONFLICT);
        let reader = pod_with_spec(json!({"containers": [], "volumes": disk(true)}));
        assert!(
            Prepared::new(&reader, &[], &snapshot)
                .check(&snapshot, &snapshot.nodes[0])
                .is_none()
        );
    }
}
