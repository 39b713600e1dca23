//! Volumes that keep an assigned pod in ContainerCreating: an unbound or missing claim, an attach
//! failure (Multi-Attach: the ReadWriteOnce volume is still attached for another pod), a mount
//! failure.

use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim, Pod};
use kube_runbook::{
    report::{Finding, ObjectRef, Remedy, Severity, Source},
    state::Kind,
};
use serde_json::json;

use super::context::PodContext;

pub fn analyse(ctx: &PodContext) -> Vec<Finding> {
    let mut findings = claim_findings(ctx);
    if let Some(event) = ctx.events_with(&["FailedAttachVolume"]).first() {
        findings.push(attach_failed(ctx, event));
    }
    let mount_failure = ctx
        .events_with(&["FailedMount", "FailedMapVolume"])
        .into_iter()
        .find(|e| !is_config_message(e));
    if let Some(event) = mount_failure {
        findings.push(mount_failed(ctx, event));
    }
    findings
}

/// Mount failures about ConfigMaps and Secrets are explained by the missing-config check.
pub fn is_config_message(event: &Event) -> bool {
    let message = event.message.as_deref().unwrap_or("");
    (message.contains("configmap \"") || message.contains("secret \""))
        && message.contains("not found")
        || message.contains("non-existent config key")
}

/// `(volume name, claim name)` of every PVC the pod mounts, generic ephemeral volumes included.
fn claims(pod: &Pod) -> Vec<(String, String)> {
    let pod_name = pod.metadata.name.as_deref().unwrap_or("");
    pod.spec
        .as_ref()
        .and_then(|s| s.volumes.as_deref())
        .unwrap_or(&[])
        .iter()
        .filter_map(|v| {
            if let Some(claim) = &v.persistent_volume_claim {
                Some((v.name.clone(), claim.claim_name.clone()))
            } else {
                v.ephemeral
                    .as_ref()
                    .map(|_| (v.name.clone(), format!("{pod_name}-{}", v.name)))
            }
        })
        .collect()
}

fn find_claim<'a>(ctx: &PodContext<'a>, name: &str) -> Option<&'a PersistentVolumeClaim> {
    ctx.state.persistent_volume_claims.iter().find(|c| {
        c.metadata.namespace.as_deref() == Some(ctx.namespace)
            && c.metadata.name.as_deref() == Some(name)
    })
}

fn claim_findings(ctx: &PodContext) -> Vec<Finding> {
    if !ctx.state.has(Kind::PersistentVolumeClaim) {
        return Vec::new();
    }
    claims(ctx.pod)
        .into_iter()
        .filter_map(|(volume, claim_name)| {
            let object = ObjectRef::namespaced("PersistentVolumeClaim", ctx.namespace, &claim_name);
            let Some(claim) = find_claim(ctx, &claim_name) else {
                return Some(
                    Finding::new(Severity::Error, ctx.object.clone(), "pvc-not-found", format!("PersistentVolumeClaim {claim_name} of volume {volume} does not exist"))
                        .explain("The kubelet cannot mount a volume whose claim does not exist; the pod waits in ContainerCreating until it is created.")
                        .evidence(format!("claim {claim_name} is not in namespace {}", ctx.namespace), Source::Object { object })
                        .remedy(Remedy::step(format!("Create PersistentVolumeClaim {claim_name}, or fix the claimName of volume {volume}")))
                        .details(json!({"volume": volume, "claim": claim_name})),
                );
            };
            let phase = claim.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("Pending");
            if phase == "Bound" {
                return None;
            }
            let class = claim.spec.as_ref().and_then(|s| s.storage_class_name.as_deref()).unwrap_or("<default>");
            let mut finding = Finding::new(Severity::Error, ctx.object.clone(), "pvc-not-bound", format!("PersistentVolumeClaim {claim_name} is {phase}, not Bound"))
                .explain("The pod is on a node but its claim has no volume yet, so nothing can be attached or mounted: provisioning failed or is slow, or no PersistentVolume matches.")
                .evidence(format!("claim {claim_name} phase {phase}, storageClass {class}"), Source::Object { object });
            let claim_events = ctx.state.events_for("PersistentVolumeClaim", Some(ctx.namespace), &claim_name, claim.metadata.uid.as_deref());
            if let Some(event) = claim_events.first() {
                let (fact, source) = ctx.event_evidence(event);
                finding = finding.evidence(fact, source);
            }
            Some(
                finding
                    .remedy(Remedy::command("See why the claim is not bound", format!("kubectl describe pvc {claim_name} -n {}", ctx.namespace)))
                    .details(json!({"volume": volume, "claim": claim_name, "phase": phase, "storageClass": class})),
            )
        })
        .collect()
}

fn attach_failed(ctx: &PodContext, event: &Event) -> Finding {
    let message = event.message.as_deref().unwrap_or("");
    let (fact, source) = ctx.event_evidence(event);
    if !message.contains("Multi-Attach error") {
        return Finding::new(Severity::Error, ctx.object.clone(), "volume-attach-failed", "a volume cannot be attached to the pod's node")
            .explain("The attach/detach controller (or the CSI driver's controller) fails to attach the volume to the node, so the kubelet cannot mount it.")
            .evidence(fact, source)
            .remedy(Remedy::step("Check the storage driver's controller logs and the VolumeAttachment objects (`kubectl get volumeattachment`)"))
            .details(json!({"message": message}));
    }
    multi_attach(ctx, message, fact, source)
}

fn multi_attach(ctx: &PodContext, message: &str, fact: String, source: Source) -> Finding {
    let volume = quoted_after(message, "for volume ").unwrap_or_default();
    let claim = claim_of_volume(ctx, &volume);
    let holders = holders(ctx, claim.as_deref());
    let mut named: Vec<String> = holders.iter().map(|(pod, _)| pod.clone()).collect();
    for listed in pods_in_message(message) {
        if !named.contains(&listed) {
            named.push(listed);
        }
    }
    let nodes: Vec<String> = holders
        .iter()
        .filter_map(|(_, node)| node.clone())
        .collect();
    let title = match named.first() {
        Some(first) => format!("volume {volume} is still attached for pod {first} (Multi-Attach)"),
        None => format!("volume {volume} is still attached to another node (Multi-Attach)"),
    };
    let mut finding = Finding::new(Severity::Error, ctx.object.clone(), "volume-multi-attach", title)
        .explain("The volume is ReadWriteOnce: only one node may attach it at a time, and it is still attached for a pod on another node. Typical after a rolling update of a Deployment with a RWO claim (the new pod starts before the old one stops), or when the old pod's node went down (the volume is force-detached only after about 6 minutes).")
        .evidence(fact, source);
    for (pod, node) in &holders {
        finding = finding.evidence(
            format!(
                "pod {pod} uses the same claim on node {}",
                node.as_deref().unwrap_or("?")
            ),
            Source::Object {
                object: ObjectRef::namespaced("Pod", ctx.namespace, pod),
            },
        );
    }
    if let Some(first) = named.first() {
        finding = finding.remedy(
            Remedy::command(
                "Stop the pod holding the volume so it detaches (or let the rollout finish it)",
                format!("kubectl delete pod {first} -n {}", ctx.namespace),
            )
            .dangerous(format!(
                "pod {first} stops serving; data it has not flushed may be lost"
            )),
        );
    }
    if ctx.workload().starts_with("deployment/") {
        finding = finding.remedy(Remedy::yaml(
            "Roll this Deployment with Recreate so the old pod releases the RWO volume before the new one starts",
            "spec:\n  strategy:\n    type: Recreate",
        ));
    }
    finding
        .remedy(Remedy::step(format!(
            "If the holding pod's node is down, hand the stuck pod to `kubectl unstick pod/NAME -n {}`",
            ctx.namespace
        )))
        .details(json!({"volume": volume, "claim": claim, "otherPods": named, "otherNodes": nodes}))
}

/// The claim of the pod bound to PV `volume`.
fn claim_of_volume(ctx: &PodContext, volume: &str) -> Option<String> {
    let from_pvc = claims(ctx.pod).into_iter().map(|(_, c)| c).find(|c| {
        find_claim(ctx, c).and_then(|pvc| pvc.spec.as_ref()?.volume_name.as_deref()) == Some(volume)
    });
    from_pvc.or_else(|| {
        let pv = ctx
            .state
            .persistent_volumes
            .iter()
            .find(|pv| pv.metadata.name.as_deref() == Some(volume))?;
        pv.spec.as_ref()?.claim_ref.as_ref()?.name.clone()
    })
}

/// Other live pods of the namespace on other nodes that mount `claim`: (name, node).
fn holders(ctx: &PodContext, claim: Option<&str>) -> Vec<(String, Option<String>)> {
    let Some(claim) = claim else {
        return Vec::new();
    };
    ctx.state
        .pods
        .iter()
        .filter(|p| {
            p.metadata.namespace.as_deref() == Some(ctx.namespace)
                && p.metadata.name.as_deref() != Some(ctx.name)
        })
        .filter(|p| {
            !matches!(
                p.status.as_ref().and_then(|s| s.phase.as_deref()),
                Some("Succeeded" | "Failed")
            )
        })
        .filter(|p| claims(p).iter().any(|(_, c)| c == claim))
        .filter_map(|p| {
            let node = p.spec.as_ref().and_then(|s| s.node_name.clone());
            (node.as_deref() != ctx.node_name())
                .then(|| (p.metadata.name.clone().unwrap_or_default(), node))
        })
        .collect()
}

/// `Volume is already used by pod(s) a, b` (names in the pod's namespace).
fn pods_in_message(message: &str) -> Vec<String> {
    let Some(start) = message.find("used by pod(s) ") else {
        return Vec::new();
    };
    let list = &message[start + "used by pod(s) ".len()..];
    let list = list.split(" and ").next().unwrap_or("");
    list.split(", ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn quoted_after(text: &str, marker: &str) -> Option<String> {
    let rest = text[text.find(marker)? + marker.len()..].strip_prefix('"')?;
    rest.split_once('"').map(|(inside, _)| inside.to_string())
}

fn mount_failed(ctx: &PodContext, event: &Event) -> Finding {
    let message = event.message.as_deref().unwrap_or("");
    let (fact, source) = ctx.event_evidence(event);
    let node = ctx.node_name().unwrap_or("the node");
    Finding::new(Severity::Error, ctx.object.clone(), "volume-mount-failed", format!("the kubelet on {node} cannot mount the pod's volumes"))
        .explain("Until every volume is mounted the kubelet does not start the containers. The message names the volume and the storage driver's error.")
        .evidence(fact, source)
        .remedy(Remedy::step(format!(
            "Check the storage: the claim and volume (`kubectl describe pvc`), the CSI node plugin pod on {node} and its logs, and network shares reachable from the node"
        )))
        .details(json!({"message": message, "node": ctx.node_name()}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_multi_attach_messages() {
        let message = "Multi-Attach error for volume \"pvc-1\" Volume is already used by pod(s) web-old, web-b and 1 pod(s) in different namespaces";
        assert_eq!(
            quoted_after(message, "for volume ").as_deref(),
            Some("pvc-1")
        );
        assert_eq!(
            pods_in_message(message),
            vec!["web-old".to_string(), "web-b".to_string()]
        );
        assert!(pods_in_message("Volume is already exclusively attached to one node").is_empty());
    }
}
