//! The exact reason strings kube-scheduler v1.37 writes into FailedScheduling messages, from
//! `pkg/scheduler/framework/plugins/*` and `pkg/scheduler/schedule_one.go`.

pub const NODE_UNSCHEDULABLE: &str = "node(s) were unschedulable";
pub const NODE_NAME: &str = "node(s) didn't match the requested node name";
/// Since kubernetes#134740 (v1.35, backported to v1.34) the taint is no longer named.
pub const UNTOLERATED_TAINT: &str = "node(s) had untolerated taint(s)";
pub const NODE_AFFINITY: &str = "node(s) didn't match Pod's node affinity/selector";
pub const NODE_AFFINITY_CONFLICT: &str = "pod affinity terms conflict";
pub const NODE_PORTS: &str = "node(s) didn't have free ports for the requested pod ports";
pub const TOO_MANY_PODS: &str = "Too many pods";
/// Followed by the resource name: `Insufficient cpu`, `Insufficient nvidia.com/gpu`.
pub const INSUFFICIENT_PREFIX: &str = "Insufficient ";
pub const DISK_CONFLICT: &str = "node(s) had no available disk";
/// v1.37 wording (seen from the real scheduler); older releases said "node has pod using
/// PersistentVolumeClaim with the same name and ReadWriteOncePod access mode".
pub const READ_WRITE_ONCE_POD_CONFLICT: &str = "node(s) unavailable due to PersistentVolumeClaim with ReadWriteOncePod access mode already in-use by another pod";
pub const UNBOUND_IMMEDIATE_CLAIMS: &str = "pod has unbound immediate PersistentVolumeClaims";
/// v1.37 wording (seen from the real scheduler); older releases said "node(s) had volume node
/// affinity conflict".
pub const VOLUME_NODE_CONFLICT: &str = "node(s) didn't match PersistentVolume's node affinity";
pub const VOLUME_BIND_CONFLICT: &str = "node(s) didn't find available persistent volumes to bind";
pub const VOLUME_NOT_ENOUGH_SPACE: &str = "node(s) did not have enough free storage";
pub const VOLUME_PV_NOT_EXIST: &str =
    "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";
pub const VOLUME_ZONE_CONFLICT: &str = "node(s) had no available volume zone";
pub const SPREAD_CONSTRAINTS: &str = "node(s) didn't match pod topology spread constraints";
pub const SPREAD_MISSING_LABEL: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";
pub const POD_AFFINITY: &str = "node(s) didn't match pod affinity rules";
pub const POD_ANTI_AFFINITY: &str = "node(s) didn't match pod anti-affinity rules";
pub const EXISTING_ANTI_AFFINITY: &str = "node(s) didn't satisfy existing pods anti-affinity rules";
/// Reported for nodes a PreFilter plugin's node list left out (NodeAffinity with
/// `matchFields: metadata.name`, as DaemonSet pods use).
pub const PREFILTER_NARROWED: &str = "node(s) didn't satisfy plugin(s) [NodeAffinity]";
/// The `PodScheduled` message the API server sets for a pod with scheduling gates.
pub const SCHEDULING_GATED: &str = "Scheduling is blocked due to non-empty scheduling gates";

/// `Insufficient <resource>`.
pub fn insufficient(resource: &str) -> String {
    format!("{INSUFFICIENT_PREFIX}{resource}")
}

/// `persistentvolumeclaim "<name>" not found`, the API's NotFound text.
pub fn claim_not_found(name: &str) -> String {
    format!("persistentvolumeclaim \"{name}\" not found")
}
