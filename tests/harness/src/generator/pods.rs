//! Pod objects with kubelet-like status (Running, Pending with the scheduler's reason, or
//! Succeeded), built from a workload's pod template.

use serde_json::{Map, Value, json};

use super::meta::timestamp;
use super::rng::Rng;

/// The phase a generated pod is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Running,
    Pending,
    Succeeded,
}

/// Everything that distinguishes one pod of a workload.
pub struct PodPlan<'a> {
    pub namespace: &'a str,
    pub name: String,
    pub uid: String,
    pub template: &'a Value,
    pub owner: Option<Value>,
    /// `(node name, node IP, zone, pod IP)` for bound pods.
    pub placement: Option<(&'a str, &'a str, &'a str, String)>,
    pub phase: Phase,
    pub created: i64,
    /// The scheduler's message for Pending pods.
    pub pending_message: Option<String>,
    /// Extra labels (pod-template-hash, statefulset pod name, ...).
    pub extra_labels: Vec<(String, String)>,
    /// `(hostname, subdomain)` for StatefulSet pods.
    pub hostname: Option<(String, String)>,
    pub finalizers: Vec<&'static str>,
}

/// Builds the Pod object.
pub fn pod_object(plan: PodPlan<'_>, rng: &mut Rng) -> Value {
    let mut labels = plan.template["metadata"]["labels"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for (k, v) in &plan.extra_labels {
        labels.insert(k.clone(), json!(v));
    }
    let mut spec = plan.template["spec"].clone();
    let defaults = json!({
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "serviceAccountName": "default",
        "serviceAccount": "default",
        "schedulerName": "default-scheduler",
        "securityContext": {},
        "enableServiceLinks": true,
        "priority": 0,
        "preemptionPolicy": "PreemptLowerPriority",
    });
    for (k, v) in defaults.as_object().into_iter().flatten() {
        spec.as_object_mut()
            .map(|s| s.entry(k.clone()).or_insert(v.clone()));
    }
    let mut tolerations = spec["tolerations"].as_array().cloned().unwrap_or_default();
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ] {
        if !tolerations
            .iter()
            .any(|t| t["key"] == key || t["operator"] == "Exists" && t.get("key").is_none())
        {
            tolerations.push(json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}));
        }
    }
    spec["tolerations"] = json!(tolerations);
    if let Some((node, _, _, _)) = &plan.placement {
        spec["nodeName"] = json!(node);
    }
    if let Some((hostname, subdomain)) = &plan.hostname {
        spec["hostname"] = json!(hostname);
        spec["subdomain"] = json!(subdomain);
    }
    let status = status(&plan, &spec, rng);
    let mut metadata = json!({
        "name": plan.name,
        "namespace": plan.namespace,
        "uid": plan.uid,
        "creationTimestamp": timestamp(plan.created),
        "labels": labels,
    });
    if let Some(owner) = plan.owner {
        metadata["ownerReferences"] = json!([owner]);
    }
    if !plan.finalizers.is_empty() {
        metadata["finalizers"] = json!(plan.finalizers);
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec, "status": status})
}

fn status(plan: &PodPlan<'_>, spec: &Value, rng: &mut Rng) -> Value {
    let created = plan.created;
    let containers = spec["containers"].as_array().cloned().unwrap_or_default();
    let qos = qos_class(&containers);
    let condition = |type_: &str, status: &str, at: i64| json!({"type": type_, "status": status, "lastProbeTime": null, "lastTransitionTime": timestamp(at)});
    if plan.phase == Phase::Pending {
        let mut scheduled = condition("PodScheduled", "False", created);
        scheduled["reason"] = json!("Unschedulable");
        scheduled["message"] = json!(plan.pending_message.clone().unwrap_or_default());
        return json!({"phase": "Pending", "conditions": [scheduled], "qosClass": qos});
    }
    let Some((_, node_ip, _, pod_ip)) = &plan.placement else {
        return json!({"phase": "Pending", "qosClass": qos});
    };
    let started = created + 2 + rng.below(20) as i64;
    let succeeded = plan.phase == Phase::Succeeded;
    let finished = started + 30 + rng.below(600) as i64;
    let statuses: Vec<Value> = containers
        .iter()
        .map(|c| {
            let image = c["image"].as_str().unwrap_or_default();
            let mut s = json!({
                "name": c["name"],
                "image": image,
                "imageID": format!("{}@sha256:{:016x}{:016x}", image.split(':').next().unwrap_or(image), rng.next_u64(), rng.next_u64()),
                "containerID": format!("containerd://{:016x}{:016x}", rng.next_u64(), rng.next_u64()),
                "ready": !succeeded,
                "started": !succeeded,
                "restartCount": 0,
            });
            if succeeded {
                s["state"] = json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": timestamp(started), "finishedAt": timestamp(finished)}});
            } else {
                s["state"] = json!({"running": {"startedAt": timestamp(started)}});
                if rng.chance(0.03) {
                    let reason = if rng.chance(0.5) { "OOMKilled" } else { "Error" };
                    let code = if reason == "OOMKilled" { 137 } else { 1 };
                    s["restartCount"] = json!(rng.range(1, 6));
                    s["lastState"] = json!({"terminated": {"exitCode": code, "reason": reason, "startedAt": timestamp(started - 120), "finishedAt": timestamp(started - 5)}});
                }
            }
            s
        })
        .collect();
    let ready = if succeeded { "False" } else { "True" };
    let mut conditions = vec![
        condition("PodReadyToStartContainers", ready, started),
        condition("Initialized", "True", created + 1),
        condition(
            "Ready",
            ready,
            if succeeded { finished } else { started + 1 },
        ),
        condition(
            "ContainersReady",
            ready,
            if succeeded { finished } else { started + 1 },
        ),
        condition("PodScheduled", "True", created),
    ];
    if succeeded {
        for c in conditions
            .iter_mut()
            .filter(|c| c["type"] == "Ready" || c["type"] == "ContainersReady")
        {
            c["reason"] = json!("PodCompleted");
        }
    }
    json!({
        "phase": if succeeded { "Succeeded" } else { "Running" },
        "conditions": conditions,
        "hostIP": node_ip,
        "hostIPs": [{"ip": node_ip}],
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": timestamp(created + 1),
        "containerStatuses": statuses,
        "qosClass": qos,
    })
}

/// Guaranteed if every container's limits equal its requests for cpu and memory; BestEffort if
/// nothing is requested or limited; Burstable otherwise.
pub fn qos_class(containers: &[Value]) -> &'static str {
    let resources = |c: &Value, kind: &str| {
        c["resources"][kind]
            .as_object()
            .cloned()
            .unwrap_or_else(Map::new)
    };
    let any = containers
        .iter()
        .any(|c| !resources(c, "requests").is_empty() || !resources(c, "limits").is_empty());
    if !any {
        return "BestEffort";
    }
    let guaranteed = containers.iter().all(|c| {
        let (req, lim) = (resources(c, "requests"), resources(c, "limits"));
        ["cpu", "memory"]
            .iter()
            .all(|r| lim.get(*r).is_some() && req.get(*r).is_none_or(|v| Some(v) == lim.get(*r)))
    });
    if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}
