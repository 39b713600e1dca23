//! VolumeBinding: every claim must exist and be usable, immediate claims must already be bound,
//! bound volumes' node affinity must allow the node, and WaitForFirstConsumer claims need an
//! available volume or a provisioner that can serve the node
//! (`volumebinding/volume_binding.go`, `binder.go`, `pkg/volume/util/volume.go`).

use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::StorageClass;

use super::claims::PodClaim;
use super::node_affinity::CompiledTerms;
use super::rejection::{Code, Detail, Plugin, PreFilterRejection, Rejection, TermMismatch};
use super::volume_candidates::{Candidate, candidates, pv_affinity};
use crate::fit::index::{NodeEntry, Snapshot};
use crate::fit::labels::Labels;
use crate::fit::reasons;

const BIND_COMPLETED: &str = "pv.kubernetes.io/bind-completed";
const SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";
const NO_PROVISIONER: &str = "kubernetes.io/no-provisioner";

#[derive(Clone, Debug, Default)]
pub(crate) struct Prepared<'a> {
    pub prefilter: Vec<PreFilterRejection>,
    bound: Vec<BoundClaim>,
    delayed: Vec<DelayedClaim<'a>>,
}

#[derive(Clone, Debug)]
struct BoundClaim {
    claim: String,
    volume: String,
    state: BoundVolume,
}

/// The volume a bound claim names.
#[derive(Clone, Debug)]
enum BoundVolume {
    Missing,
    /// With its node affinity, if it has one.
    Found(Option<CompiledTerms>),
}

#[derive(Clone, Debug)]
struct DelayedClaim<'a> {
    claim: String,
    class_name: String,
    class: Option<&'a StorageClass>,
    selected_node: Option<String>,
    candidates: Vec<Candidate<'a>>,
}

impl<'a> Prepared<'a> {
    pub fn new(pod: &Pod, claims: &[PodClaim<'a>], snapshot: &Snapshot<'a>) -> Prepared<'a> {
        let mut prepared = Prepared::default();
        let mut unbound_immediate = Vec::new();
        for claim in claims {
            let Some(object) = claim.claim else {
                if claim.ephemeral {
                    prepared.prefilter.push(waiting_for_ephemeral(&claim.name));
                }
                continue;
            };
            if let Some(problem) = claim_problem(pod, claim, object) {
                prepared.prefilter.push(problem);
                continue;
            }
            let volume = claim.volume_name();
            let bind_completed = object
                .metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key(BIND_COMPLETED));
            if !volume.is_empty() && (bind_completed || claim.phase() == "Bound") {
                let state = snapshot.volume(volume).map_or(BoundVolume::Missing, |pv| {
                    BoundVolume::Found(pv_affinity(pv))
                });
                prepared.bound.push(BoundClaim {
                    claim: claim.name.clone(),
                    volume: volume.to_string(),
                    state,
                });
                continue;
            }
            let class = snapshot.storage_class(claim.storage_class());
            let waits = class.and_then(|c| c.volume_binding_mode.as_deref())
                == Some("WaitForFirstConsumer");
            if !waits || !volume.is_empty() {
                unbound_immediate.push(claim.name.clone());
                continue;
            }
            prepared.delayed.push(DelayedClaim {
                claim: claim.name.clone(),
                class_name: claim.storage_class().to_string(),
                class,
                selected_node: object
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(SELECTED_NODE))
                    .cloned(),
                candidates: candidates(object, claim.storage_class(), snapshot),
            });
        }
        if !unbound_immediate.is_empty() {
            prepared.prefilter.push(PreFilterRejection {
                plugin: Plugin::VolumeBinding,
                message: reasons::UNBOUND_IMMEDIATE_CLAIMS.to_string(),
                explanation: format!(
                    "Claim(s) {} use Immediate binding but are not bound to a volume yet; the \
                     scheduler waits for the PersistentVolume controller.",
                    unbound_immediate.join(", ")
                ),
                fix: "Check the claim's events (`kubectl describe pvc`): provisioning may be \
                      failing, the StorageClass may not exist, or no PersistentVolume matches."
                    .to_string(),
            });
        }
        prepared
    }

    pub fn check(&self, node: &NodeEntry) -> Vec<Rejection> {
        let mut rejections = Vec::new();
        let bound_problem = self.bound.iter().find_map(|b| match &b.state {
            BoundVolume::Missing => Some((b, None)),
            BoundVolume::Found(affinity) => affinity
                .as_ref()
                .and_then(|terms| terms.mismatches(node.labels, ""))
                .map(|failures| (b, Some(failures))),
        });
        if let Some((bound, Some(failures))) = &bound_problem {
            rejections.push(node_conflict(bound, failures.clone(), node));
        }
        if let Some((claim, why)) = self.unbindable(node) {
            rejections.push(
                Rejection::new(
                    Plugin::VolumeBinding,
                    Code::UnschedulableAndUnresolvable,
                    reasons::VOLUME_BIND_CONFLICT,
                    Detail::NoVolumeToBind {
                        claim: claim.claim.clone(),
                        storage_class: claim.class_name.clone(),
                        why: why.clone(),
                    },
                )
                .explained(format!(
                    "Claim {} (StorageClass {}, WaitForFirstConsumer) has no available \
                     PersistentVolume usable on node {}, and {why}.",
                    claim.claim, claim.class_name, node.name
                ))
                .with_evidence(why)
                .with_fix(
                    "Create a matching PersistentVolume for this node, or use a StorageClass whose \
                     provisioner can create volumes where the pod may run.",
                ),
            );
        }
        if let Some((bound, None)) = bound_problem {
            rejections.push(
                Rejection::new(
                    Plugin::VolumeBinding,
                    Code::UnschedulableAndUnresolvable,
                    reasons::VOLUME_PV_NOT_EXIST,
                    Detail::BoundVolumeMissing {
                        claim: bound.claim.clone(),
                        volume: bound.volume.clone(),
                    },
                )
                .explained(format!(
                    "Claim {} is bound to PersistentVolume {}, which does not exist.",
                    bound.claim, bound.volume
                ))
                .with_fix("Restore the PersistentVolume, or recreate the claim and its data."),
            );
        }
        rejections
    }

    /// The first WaitForFirstConsumer claim that can be neither bound nor provisioned on the
    /// node, with why.
    fn unbindable(&self, node: &NodeEntry) -> Option<(&DelayedClaim<'a>, String)> {
        if let Some(claim) = self
            .delayed
            .iter()
            .find(|c| c.selected_node.as_deref().is_some_and(|n| n != node.name))
        {
            let pinned = claim.selected_node.as_deref().unwrap_or_default();
            return Some((
                claim,
                format!(
                    "the claim is already being provisioned for node {pinned} ({SELECTED_NODE})"
                ),
            ));
        }
        let mut chosen: Vec<&str> = Vec::new();
        for claim in &self.delayed {
            if claim.selected_node.is_none() {
                let usable = claim.candidates.iter().find(|c| {
                    !chosen.contains(&c.pv.metadata.name.as_deref().unwrap_or(""))
                        && c.affinity
                            .as_ref()
                            .is_none_or(|t| t.mismatches(node.labels, "").is_none())
                });
                if let Some(found) = usable {
                    chosen.push(found.pv.metadata.name.as_deref().unwrap_or(""));
                    continue;
                }
                if claim.candidates.iter().any(|c| c.prebound) {
                    return Some((
                        claim,
                        "its pre-bound PersistentVolume's node affinity excludes the node".into(),
                    ));
                }
            }
            if let Some(why) = cannot_provision(claim, node.labels) {
                return Some((claim, why));
            }
        }
        None
    }
}

fn node_conflict(bound: &BoundClaim, failures: Vec<TermMismatch>, node: &NodeEntry) -> Rejection {
    let first = failures
        .first()
        .map(|f| format!("term {} needs {}", f.term, f.requirement))
        .unwrap_or_default();
    Rejection::new(
        Plugin::VolumeBinding,
        Code::UnschedulableAndUnresolvable,
        reasons::VOLUME_NODE_CONFLICT,
        Detail::VolumeNodeAffinityConflict {
            claim: bound.claim.clone(),
            volume: bound.volume.clone(),
            failed_terms: failures,
        },
    )
    .explained(format!(
        "Claim {} is bound to PersistentVolume {}, whose node affinity excludes node {} ({first}).",
        bound.claim, bound.volume, node.name
    ))
    .with_evidence(format!("{} node affinity: {first}", bound.volume))
    .with_fix(
        "The pod can only run where its volume is: make a node there schedulable (uncordon it, \
         free capacity, add a node in that zone), or move the data to a new volume.",
    )
}

fn waiting_for_ephemeral(name: &str) -> PreFilterRejection {
    PreFilterRejection {
        plugin: Plugin::VolumeBinding,
        message: format!(
            "waiting for ephemeral volume controller to create the persistentvolumeclaim \"{name}\""
        ),
        explanation: format!(
            "The generic ephemeral volume's claim {name} has not been created yet."
        ),
        fix: "Usually transient; if it persists, check the ephemeral volume controller in \
              kube-controller-manager and the claim template."
            .to_string(),
    }
}

/// Lost, deleting, or an ephemeral claim another pod owns (`podHasPVCs`).
fn claim_problem(
    pod: &Pod,
    claim: &PodClaim,
    object: &PersistentVolumeClaim,
) -> Option<PreFilterRejection> {
    let rejection = |message: String, explanation: String, fix: &str| PreFilterRejection {
        plugin: Plugin::VolumeBinding,
        message,
        explanation,
        fix: fix.to_string(),
    };
    let name = &claim.name;
    if claim.phase() == "Lost" {
        let volume = claim.volume_name();
        return Some(rejection(
            format!(
                "persistentvolumeclaim \"{name}\" bound to non-existent persistentvolume \"{volume}\""
            ),
            format!("Claim {name} is Lost: its PersistentVolume {volume} no longer exists."),
            "Restore the PersistentVolume or recreate the claim (and its data).",
        ));
    }
    if object.metadata.deletion_timestamp.is_some() {
        return Some(rejection(
            format!("persistentvolumeclaim \"{name}\" is being deleted"),
            format!("Claim {name} is being deleted."),
            "Wait for the deletion to finish and recreate the claim, or remove the pod's reference to it.",
        ));
    }
    let pod_uid = pod.metadata.uid.as_deref().filter(|uid| !uid.is_empty())?;
    let owned = object
        .metadata
        .owner_references
        .iter()
        .flatten()
        .any(|owner| owner.controller == Some(true) && owner.uid == pod_uid);
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let pod_name = pod.metadata.name.as_deref().unwrap_or("");
    (claim.ephemeral && !owned).then(|| {
        rejection(
            format!("PVC {namespace}/{name} was not created for pod {namespace}/{pod_name} (pod is not owner)"),
            format!("A claim named {name} exists but belongs to another pod, so this pod's ephemeral volume cannot use it."),
            "Delete the stale claim so the ephemeral volume controller can create the pod's own.",
        )
    })
}

/// Why the claim's class cannot provision a volume for the node (`checkVolumeProvisions`).
fn cannot_provision(claim: &DelayedClaim, node_labels: &Labels) -> Option<String> {
    let Some(class) = claim.class else {
        return Some(format!("StorageClass {} does not exist", claim.class_name));
    };
    if class.provisioner.is_empty() || class.provisioner == NO_PROVISIONER {
        return Some(format!(
            "StorageClass {} has provisioner {:?}, which never creates volumes",
            claim.class_name, class.provisioner
        ));
    }
    let terms = class.allowed_topologies.as_deref().unwrap_or_default();
    let allowed = terms.is_empty()
        || terms.iter().any(|term| {
            let expressions = term.match_label_expressions.as_deref().unwrap_or_default();
            !expressions.is_empty()
                && expressions.iter().all(|e| {
                    node_labels
                        .get(&e.key)
                        .is_some_and(|v| e.values.contains(v))
                })
        });
    (!allowed).then(|| {
        format!(
            "StorageClass {}'s allowedTopologies exclude the node",
            claim.class_name
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::filters::claims::pod_claims;
    use crate::fit::testing::{node, pod_with_spec};
    use k8s_openapi::api::core::v1::PersistentVolume;
    use serde_json::json;

    fn pvc(name: &str, extra: serde_json::Value) -> PersistentVolumeClaim {
        let mut value = json!({
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        });
        merge(&mut value, extra);
        serde_json::from_value(value).unwrap()
    }

    fn pv(name: &str, extra: serde_json::Value) -> PersistentVolume {
        let mut value = json!({
            "metadata": {"name": name},
            "spec": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "10Gi"}},
            "status": {"phase": "Available"},
        });
        merge(&mut value, extra);
        serde_json::from_value(value).unwrap()
    }

    fn class(name: &str, provisioner: &str, mode: &str) -> StorageClass {
        serde_json::from_value(json!({"metadata": {"name": name}, "provisioner": provisioner, "volumeBindingMode": mode}))
            .unwrap()
    }

    fn merge(base: &mut serde_json::Value, extra: serde_json::Value) {
        if let (Some(base), serde_json::Value::Object(extra)) = (base.as_object_mut(), extra) {
            for (key, value) in extra {
                match base.get_mut(&key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        merge(existing, value)
                    }
                    _ => {
                        base.insert(key, value);
                    }
                }
            }
        }
    }

    fn zone_affinity(zone: &str) -> serde_json::Value {
        json!({"spec": {"nodeAffinity": {"required": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In", "values": [zone]}]}
        ]}}}})
    }

    fn using(claim: &str) -> Pod {
        pod_with_spec(json!({"containers": [], "volumes": [
            {"name": "d", "persistentVolumeClaim": {"claimName": claim}}
        ]}))
    }

    struct World {
        nodes: Vec<k8s_openapi::api::core::v1::Node>,
        claims: Vec<PersistentVolumeClaim>,
        volumes: Vec<PersistentVolume>,
        classes: Vec<StorageClass>,
    }

    impl World {
        fn verdicts(&self, pod: &Pod) -> (Vec<String>, Vec<Vec<String>>) {
            let snapshot = Snapshot::new(&self.nodes, &[]).with_storage(
                &self.claims,
                &self.volumes,
                &self.classes,
            );
            let prepared = Prepared::new(pod, &pod_claims(pod, &snapshot), &snapshot);
            let prefilter = prepared
                .prefilter
                .iter()
                .map(|p| p.message.clone())
                .collect();
            let per_node = snapshot
                .nodes
                .iter()
                .map(|n| prepared.check(n).into_iter().map(|r| r.reason).collect())
                .collect();
            (prefilter, per_node)
        }
    }

    fn zones() -> Vec<k8s_openapi::api::core::v1::Node> {
        vec![
            node("a1", json!({"topology.kubernetes.io/zone": "a"})),
            node("b1", json!({"topology.kubernetes.io/zone": "b"})),
        ]
    }

    #[test]
    fn bound_volume_node_affinity_conflict() {
        let world = World {
            nodes: zones(),
            claims: vec![pvc(
                "data",
                json!({"spec": {"volumeName": "pv-a"}, "metadata": {"annotations": {BIND_COMPLETED: "yes"}}}),
            )],
            volumes: vec![pv("pv-a", zone_affinity("a"))],
            classes: vec![],
        };
        let (prefilter, per_node) = world.verdicts(&using("data"));
        assert!(prefilter.is_empty());
        assert!(per_node[0].is_empty());
        assert_eq!(per_node[1], [reasons::VOLUME_NODE_CONFLICT]);
    }

    #[test]
    fn bound_to_a_missing_volume() {
        let world = World {
            nodes: zones(),
            claims: vec![pvc(
                "data",
                json!({"spec": {"volumeName": "gone"}, "status": {"phase": "Bound"}}),
            )],
            volumes: vec![],
            classes: vec![],
        };
        let (_, per_node) = world.verdicts(&using("data"));
        assert_eq!(per_node[0], [reasons::VOLUME_PV_NOT_EXIST]);
    }

    #[test]
    fn unbound_immediate_claim_rejects_the_pod() {
        let world = World {
            nodes: zones(),
            claims: vec![pvc("data", json!({"spec": {"storageClassName": "fast"}}))],
            volumes: vec![],
            classes: vec![class("fast", "csi.example.com", "Immediate")],
        };
        let (prefilter, _) = world.verdicts(&using("data"));
        assert_eq!(prefilter, [reasons::UNBOUND_IMMEDIATE_CLAIMS]);
    }

    #[test]
    fn lost_and_deleting_claims() {
        let lost = World {
            nodes: zones(),
            claims: vec![pvc(
                "data",
                json!({"spec": {"volumeName": "pv-1"}, "status": {"phase": "Lost"}}),
            )],
            volumes: vec![],
            classes: vec![],
        };
        assert_eq!(
            lost.verdicts(&using("data")).0,
            ["persistentvolumeclaim \"data\" bound to non-existent persistentvolume \"pv-1\""]
        );
        let deleting = World {
            nodes: zones(),
            claims: vec![pvc(
                "data",
                json!({"metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"}}),
            )],
            volumes: vec![],
            classes: vec![],
        };
        assert_eq!(
            deleting.verdicts(&using("data")).0,
            ["persistentvolumeclaim \"data\" is being deleted"]
        );
    }

    #[test]
    fn wait_for_first_consumer_uses_a_local_volume_where_one_exists() {
        let world = World {
            nodes: zones(),
            claims: vec![pvc("data", json!({"spec": {"storageClassName": "local"}}))],
            volumes: vec![pv("pv-a", {
                let mut extra = zone_affinity("a");
                extra["spec"]["storageClassName"] = json!("local");
                extra
            })],
            classes: vec![class("local", NO_PROVISIONER, "WaitForFirstConsumer")],
        };
        let (prefilter, per_node) = world.verdicts(&using("data"));
        assert!(prefilter.is_empty());
        assert!(per_node[0].is_empty());
        assert_eq!(per_node[1], [reasons::VOLUME_BIND_CONFLICT]);
    }

    #[test]
    fn wait_for_first_consumer_provisions_within_allowed_topologies() {
        let mut restricted = class("zonal", "csi.example.com", "WaitForFirstConsumer");
        restricted.allowed_topologies = Some(vec![
            serde_json::from_value(json!({"matchLabelExpressions": [
                {"key": "topology.kubernetes.io/zone", "values": ["b"]}
            ]}))
            .unwrap(),
        ]);
        let world = World {
            nodes: zones(),
            claims: vec![pvc("data", json!({"spec": {"storageClassName": "zonal"}}))],
            volumes: vec![],
            classes: vec![restricted],
        };
        let (_, per_node) = world.verdicts(&using("data"));
        assert_eq!(per_node[0], [reasons::VOLUME_BIND_CONFLICT]);
        assert!(per_node[1].is_empty());
    }

    #[test]
    fn selected_node_pins_provisioning() {
        let world = World {
            nodes: zones(),
            claims: vec![pvc(
                "data",
                json!({"spec": {"storageClassName": "fast"}, "metadata": {"annotations": {SELECTED_NODE: "a1"}}}),
            )],
            volumes: vec![],
            classes: vec![class("fast", "csi.example.com", "WaitForFirstConsumer")],
        };
        let (_, per_node) = world.verdicts(&using("data"));
        assert!(per_node[0].is_empty());
        assert_eq!(per_node[1], [reasons::VOLUME_BIND_CONFLICT]);
    }

    #[test]
    fn missing_ephemeral_claim_is_waited_for() {
        let world = World {
            nodes: zones(),
            claims: vec![],
            volumes: vec![],
            classes: vec![],
        };
        let pod = pod_with_spec(json!({"containers": [], "volumes": [
            {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}}
        ]}));
        assert_eq!(
            world.verdicts(&pod).0,
            [
                "waiting for ephemeral volume controller to create the persistentvolumeclaim \"incoming-scratch\""
            ]
        );
    }
}
