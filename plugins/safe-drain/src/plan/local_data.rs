//! Data that lives on the node: emptyDir and hostPath volumes (lost when the pod moves), and
//! PersistentVolumes bound to this node (the pod can never run anywhere else).

use k8s_openapi::api::core::v1::{NodeSelectorRequirement, PersistentVolume, Pod};
use kube_runbook::state::ClusterState;

/// Cluster-autoscaler's annotation listing local volumes whose loss is acceptable.
pub const SAFE_TO_EVICT_LOCAL_VOLUMES: &str =
    "cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes";

/// A volume whose data stays behind on the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalData {
    pub volume: String,
    /// `emptyDir`, `emptyDir (memory)` or `hostPath <path>`.
    pub kind: String,
}

/// A claim bound to a PersistentVolume that only this node can reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalVolume {
    pub claim: String,
    pub volume: String,
    /// Why the volume is tied to the node: `local`, `hostPath` or its nodeAffinity.
    pub why: String,
}

/// The pod's emptyDir and hostPath volumes, except those the pod's owner declared safe to lose.
pub fn local_data(pod: &Pod) -> Vec<LocalData> {
    let declared_safe: Vec<&str> = pod
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(SAFE_TO_EVICT_LOCAL_VOLUMES))
        .map(|list| list.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let volumes = pod.spec.iter().flat_map(|s| s.volumes.iter().flatten());
    volumes
        .filter(|v| !declared_safe.contains(&v.name.as_str()))
        .filter_map(|v| {
            let kind = if let Some(empty_dir) = &v.empty_dir {
                if empty_dir.medium.as_deref() == Some("Memory") {
                    "emptyDir (memory)".to_string()
                } else {
                    "emptyDir".to_string()
                }
            } else {
                format!("hostPath {}", v.host_path.as_ref()?.path)
            };
            Some(LocalData {
                volume: v.name.clone(),
                kind,
            })
        })
        .collect()
}

/// The pod's claims bound to volumes that can only be used on `node`.
pub fn local_volumes(pod: &Pod, node: &str, state: &ClusterState) -> Vec<LocalVolume> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
    let claims = pod
        .spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .filter_map(|v| {
            v.persistent_volume_claim
                .as_ref()
                .map(|c| c.claim_name.as_str())
        });
    claims
        .filter_map(|claim| {
            let bound = state
                .persistent_volume_claims
                .iter()
                .find(|c| {
                    c.metadata.namespace.as_deref() == Some(namespace)
                        && c.metadata.name.as_deref() == Some(claim)
                })?
                .spec
                .as_ref()?
                .volume_name
                .as_deref()?;
            let volume = state
                .persistent_volumes
                .iter()
                .find(|v| v.metadata.name.as_deref() == Some(bound))?;
            let why = tied_to(volume, node, state)?;
            Some(LocalVolume {
                claim: claim.to_string(),
                volume: bound.to_string(),
                why,
            })
        })
        .collect()
}

/// Why `volume` can only be used on `node`, or None if another node can use it.
fn tied_to(volume: &PersistentVolume, node: &str, state: &ClusterState) -> Option<String> {
    let spec = volume.spec.as_ref()?;
    let terms = spec
        .node_affinity
        .as_ref()
        .and_then(|a| a.required.as_ref())
        .map(|r| r.node_selector_terms.as_slice())
        .unwrap_or_default();
    let usable_on = |name: &str, labels: &std::collections::BTreeMap<String, String>| {
        terms.is_empty()
            || terms.iter().any(|term| {
                term.match_expressions
                    .iter()
                    .flatten()
                    .all(|r| requirement_holds(r, labels.get(&r.key).map(String::as_str)))
                    && term
                        .match_fields
                        .iter()
                        .flatten()
                        .all(|r| r.key != "metadata.name" || requirement_holds(r, Some(name)))
            })
    };
    let mut others = state.nodes.iter().filter_map(|n| {
        let name = n.metadata.name.as_deref()?;
        (name != node).then_some((name, n.metadata.labels.clone().unwrap_or_default()))
    });
    let elsewhere = others.any(|(name, labels)| usable_on(name, &labels));
    if spec.local.is_some() {
        Some("a local volume".to_string())
    } else if spec.host_path.is_some() {
        Some("a hostPath volume".to_string())
    } else if !terms.is_empty() && !elsewhere {
        Some("its nodeAffinity matches no other node".to_string())
    } else {
        None
    }
}

fn requirement_holds(requirement: &NodeSelectorRequirement, value: Option<&str>) -> bool {
    let values = requirement.values.as_deref().unwrap_or_default();
    match requirement.operator.as_str() {
        "In" => value.is_some_and(|v| values.iter().any(|w| w == v)),
        "NotIn" => value.is_none_or(|v| values.iter().all(|w| w != v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let (Some(have), Some(bound)) = (
                value.and_then(|v| v.parse::<i64>().ok()),
                values.first().and_then(|v| v.parse::<i64>().ok()),
            ) else {
                return false;
            };
            if requirement.operator == "Gt" {
                have > bound
            } else {
                have < bound
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::plan::fixtures::{node, pod_from, state_with};

    #[test]
    fn empty_dir_and_host_path_unless_declared_safe() {
        let pod = pod_from(json!({
            "metadata": {"name": "p", "namespace": "shop",
                "annotations": {SAFE_TO_EVICT_LOCAL_VOLUMES: "cache"}},
            "spec": {"containers": [], "volumes": [
                {"name": "scratch", "emptyDir": {}},
                {"name": "cache", "emptyDir": {}},
                {"name": "logs", "hostPath": {"path": "/var/log"}},
                {"name": "config", "configMap": {"name": "c"}},
            ]},
        }));
        let found: Vec<String> = local_data(&pod)
            .into_iter()
            .map(|d| format!("{}={}", d.volume, d.kind))
            .collect();
        assert_eq!(found, ["scratch=emptyDir", "logs=hostPath /var/log"]);
    }

    #[test]
    fn volumes_pinned_to_the_node() {
        let pod = pod_from(json!({
            "metadata": {"name": "db-0", "namespace": "shop"},
            "spec": {"containers": [], "volumes": [
                {"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0"}},
                {"name": "shared", "persistentVolumeClaim": {"claimName": "shared"}},
            ]},
        }));
        let mut state = state_with(vec![pod.clone()]);
        state.insert_all([node("n1"), node("n2")]);
        state.insert_all([
            serde_json::from_value::<k8s_openapi::api::core::v1::PersistentVolumeClaim>(json!({
                "metadata": {"name": "data-db-0", "namespace": "shop"}, "spec": {"volumeName": "pv-local"}})).unwrap(),
            serde_json::from_value(json!({
                "metadata": {"name": "shared", "namespace": "shop"}, "spec": {"volumeName": "pv-net"}})).unwrap(),
        ]);
        let pinned = json!({"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": ["n1"]}]}]}});
        state.insert_all([
            serde_json::from_value::<PersistentVolume>(json!({
                "metadata": {"name": "pv-local"}, "spec": {"nodeAffinity": pinned}})).unwrap(),
            serde_json::from_value(json!({"metadata": {"name": "pv-net"}, "spec": {"nfs": {"server": "x", "path": "/"}}})).unwrap(),
        ]);
        let found = local_volumes(&pod, "n1", &state);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].claim, "data-db-0");
        assert_eq!(found[0].why, "its nodeAffinity matches no other node");
    }
}
