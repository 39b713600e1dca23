//! What happens to each pod, as kubectl drain's filters decide it (DaemonSet, mirror, local
//! storage, unreplicated) and beyond them: the controller must still exist, hostPath counts as
//! local data, volumes pinned to the node, and cluster-autoscaler's safe-to-evict annotations.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::{
    report::{Finding, ObjectRef, Remedy, Severity, Source, human_duration},
    state::ClusterState,
};

use super::{
    Action, NodePlan, PlanOptions, PodPlan,
    local_data::{local_data, local_volumes},
    workload::{Controller, Workloads, is_ready},
};

/// The kubelet's annotation on mirror pods of static pods.
pub const MIRROR_ANNOTATION: &str = "kubernetes.io/config.mirror";
/// Cluster-autoscaler's per-pod verdict: "true" evicts even with local data, "false" never.
pub const SAFE_TO_EVICT: &str = "cluster-autoscaler.kubernetes.io/safe-to-evict";

pub const DAEMONSET_POD: &str = "daemonset-pod";
pub const STATIC_POD: &str = "static-pod";
pub const TERMINATING: &str = "terminating";
pub const FINISHED: &str = "finished";
pub const RECREATED: &str = "recreated";
pub const UNMANAGED: &str = "unmanaged";
pub const CONTROLLER_MISSING: &str = "controller-missing";
pub const LOCAL_DATA: &str = "local-data";
pub const LOCAL_VOLUME: &str = "local-volume";
pub const SAFE_TO_EVICT_FALSE: &str = "safe-to-evict-false";
pub const SAFE_TO_EVICT_TRUE: &str = "safe-to-evict-true";

/// Classifies one pod of `node`.
pub fn classify(
    pod: &Pod,
    node: &str,
    state: &ClusterState,
    workloads: &Workloads,
    options: &PlanOptions,
) -> PodPlan {
    let meta = &pod.metadata;
    let phase = pod
        .status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_else(|| "Unknown".to_string());
    let mut plan = PodPlan {
        namespace: meta.namespace.clone().unwrap_or_default(),
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone().unwrap_or_default(),
        ready: is_ready(pod),
        workload: workloads.workload_of(pod),
        action: Action::Evict,
        reasons: Vec::new(),
        pdb: None,
        replacement: None,
        ordinal: None,
        ready_before: 0,
        phase,
    };
    plan.ready_before = plan
        .workload
        .as_ref()
        .map_or(0, |w| workloads.ready_replicas(w));
    let annotations = meta.annotations.as_ref();
    let controller = workloads.controller(pod);
    let daemon_set = matches!(&controller, Controller::Present(o) | Controller::Missing(o) if o.kind == "DaemonSet");
    if annotations.is_some_and(|a| a.contains_key(MIRROR_ANNOTATION)) {
        plan.action = Action::Skip;
        plan.note(
            STATIC_POD,
            "static pod: the kubelet runs it from a file on the node; it cannot be evicted",
        );
        return plan;
    }
    if let Some(deleted) = &meta.deletion_timestamp {
        plan.action = Action::Skip;
        let since = elapsed(state, deleted);
        plan.note(
            TERMINATING,
            format!("already terminating for {}", human_duration(since)),
        );
        return plan;
    }
    let finished = plan.phase == "Succeeded" || plan.phase == "Failed";
    if daemon_set && !finished && matches!(controller, Controller::Present(_)) {
        plan.action = Action::Skip;
        plan.note(
            DAEMONSET_POD,
            "DaemonSet pod: it stays, the DaemonSet runs one on every node",
        );
        return plan;
    }
    if finished {
        plan.note(
            FINISHED,
            format!("{}: deleting it loses nothing but its logs", plan.phase),
        );
        return plan;
    }
    let safe_to_evict = annotations
        .and_then(|a| a.get(SAFE_TO_EVICT))
        .map(String::as_str);
    let declared_safe = safe_to_evict == Some("true");
    let ack = options.acknowledged;
    match &controller {
        Controller::None => acknowledge(
            &mut plan,
            UNMANAGED,
            "no controller: once evicted it is gone for good (--force)".to_string(),
            ack.force || declared_safe,
        ),
        Controller::Missing(owner) => acknowledge(
            &mut plan,
            CONTROLLER_MISSING,
            format!(
                "its controller {owner} no longer exists: once evicted it is gone for good (--force)"
            ),
            ack.force || declared_safe,
        ),
        Controller::Present(owner) => {
            plan.note(RECREATED, format!("{owner} recreates it elsewhere"))
        }
    }
    if let Controller::Present(owner) = &controller
        && owner.kind == "StatefulSet"
    {
        plan.ordinal = ordinal(&plan.name);
    }
    if safe_to_evict == Some("false") {
        acknowledge(
            &mut plan,
            SAFE_TO_EVICT_FALSE,
            format!("annotated {SAFE_TO_EVICT}=false: its owner asked never to evict it (--force)"),
            ack.force,
        );
    }
    for data in local_data(pod) {
        acknowledge(
            &mut plan,
            LOCAL_DATA,
            format!(
                "{} volume \"{}\": its data is lost (--delete-emptydir-data)",
                data.kind, data.volume
            ),
            ack.local_data || declared_safe,
        );
    }
    for volume in local_volumes(pod, node, state) {
        acknowledge(
            &mut plan,
            LOCAL_VOLUME,
            format!(
                "claim {} is bound to {} ({}): the pod can only run on this node (--evict-local-volume-pods)",
                volume.claim, volume.volume, volume.why
            ),
            ack.local_volumes,
        );
    }
    if declared_safe
        && plan
            .reasons
            .iter()
            .any(|r| r.code == LOCAL_DATA || r.code == UNMANAGED)
    {
        plan.note(
            SAFE_TO_EVICT_TRUE,
            format!("annotated {SAFE_TO_EVICT}=true: its owner accepts the loss"),
        );
    }
    plan
}

/// Pods a drain never evicts: DaemonSet and static pods, and pods already terminating or done.
pub fn pods_left_alone(pod: &Pod) -> bool {
    let meta = &pod.metadata;
    let daemon_set =
        kube_runbook::state::controller_of(meta).is_some_and(|o| o.kind == "DaemonSet");
    let mirror = meta
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(MIRROR_ANNOTATION));
    let finished = matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    );
    daemon_set || mirror || finished || meta.deletion_timestamp.is_some()
}

/// Records `message`; blocks the pod unless the user (or the pod's owner) accepted it.
fn acknowledge(plan: &mut PodPlan, code: &'static str, message: String, accepted: bool) {
    if accepted {
        plan.note(code, message);
    } else {
        plan.block(code, message);
    }
}

/// `web-3` -> 3.
fn ordinal(name: &str) -> Option<u32> {
    name.rsplit_once('-')?.1.parse().ok()
}

/// How long ago `time` was, as of the state's observation.
pub fn elapsed(
    state: &ClusterState,
    time: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
) -> Duration {
    state
        .observed_at
        .duration_since(time.0)
        .try_into()
        .unwrap_or_default()
}

/// One finding per kind of per-pod problem, naming every pod it concerns.
pub fn summarise(plan: &mut NodePlan, options: &PlanOptions) {
    let ack = options.acknowledged;
    let node = ObjectRef::cluster("Node", &plan.node);
    let groups: [(&str, bool, &str, &str, Remedy); 5] = [
        (
            UNMANAGED,
            ack.force,
            "with no controller: gone for good once evicted",
            "Nothing recreates a pod without a controller (a bare pod). kubectl drain refuses it without --force.",
            Remedy::command(
                "Evict them anyway, accepting they are gone",
                format!("kubectl safe-drain {} --force", plan.node),
            )
            .dangerous("the pods are deleted and nothing recreates them"),
        ),
        (
            CONTROLLER_MISSING,
            ack.force,
            "whose controller no longer exists: gone for good once evicted",
            "Their owner reference names a ReplicaSet, StatefulSet, Job or other controller that was deleted (orphaned pods). kubectl drain does not check this and would evict them.",
            Remedy::command(
                "Evict them anyway, accepting they are gone",
                format!("kubectl safe-drain {} --force", plan.node),
            )
            .dangerous("the pods are deleted and nothing recreates them"),
        ),
        (
            SAFE_TO_EVICT_FALSE,
            ack.force,
            "marked cluster-autoscaler.kubernetes.io/safe-to-evict=false",
            "Their owners asked that they never be evicted (the cluster autoscaler never removes such a node).",
            Remedy::command(
                "Evict them anyway",
                format!("kubectl safe-drain {} --force", plan.node),
            )
            .dangerous("overrides the owner's explicit request"),
        ),
        (
            LOCAL_DATA,
            ack.local_data,
            "with emptyDir or hostPath data that would be lost",
            "emptyDir data is deleted with the pod; hostPath data stays behind on this node where the replacement cannot see it. kubectl drain only checks emptyDir.",
            Remedy::command(
                "Evict them anyway, losing that data",
                format!("kubectl safe-drain {} --delete-emptydir-data", plan.node),
            )
            .dangerous("the volumes' data is lost"),
        ),
        (
            LOCAL_VOLUME,
            ack.local_volumes,
            "bound to volumes on this node: they cannot run anywhere else",
            "A local (or node-pinned) PersistentVolume can only be mounted on its node: the replacement pod stays Pending until this node is back, and forever if the node is deleted.",
            Remedy::command(
                "Evict them anyway; they stay Pending until the node returns",
                format!("kubectl safe-drain {} --evict-local-volume-pods", plan.node),
            )
            .dangerous(
                "the pods are down until the node returns; deleting the node loses their data",
            ),
        ),
    ];
    for (code, acknowledged, title, explanation, remedy) in groups {
        let affected: Vec<(&PodPlan, &str)> = plan
            .pods
            .iter()
            .filter(|p| p.action != Action::Skip)
            .flat_map(|p| {
                p.reasons
                    .iter()
                    .filter(|r| r.code == code)
                    .map(move |r| (p, r.message.as_str()))
            })
            .collect();
        if affected.is_empty() {
            continue;
        }
        let severity = if acknowledged {
            Severity::Warning
        } else {
            Severity::Error
        };
        let mut finding = Finding::new(
            severity,
            node.clone(),
            code,
            format!("{} {title}", count_pods(&affected)),
        )
        .explain(explanation);
        for (pod, message) in &affected {
            finding = finding.evidence(
                format!("{}: {message}", pod.key()),
                Source::Object {
                    object: ObjectRef::namespaced("Pod", &pod.namespace, &pod.name),
                },
            );
        }
        if !acknowledged {
            finding = finding.remedy(remedy);
        }
        plan.findings.push(finding);
    }
    terminating(plan, &node);
}

fn count_pods(affected: &[(&PodPlan, &str)]) -> String {
    let mut keys: Vec<String> = affected.iter().map(|(p, _)| p.key()).collect();
    keys.dedup();
    plural(keys.len(), "pod", "pods")
}

/// Pods already terminating are not evicted again; long-terminating ones are stuck.
fn terminating(plan: &mut NodePlan, node: &ObjectRef) {
    let pods: Vec<&PodPlan> = plan
        .pods
        .iter()
        .filter(|p| p.reasons.iter().any(|r| r.code == TERMINATING))
        .collect();
    if pods.is_empty() {
        return;
    }
    let mut finding = Finding::new(
        Severity::Info,
        node.clone(),
        TERMINATING,
        format!("{} already terminating: not evicted again", plural(pods.len(), "pod is", "pods are")),
    )
    .explain("They were deleted before this drain. If one stays Terminating for long, its node's kubelet or a finalizer holds it: `kubectl unstick` explains which.");
    for pod in &pods {
        let message = pod
            .reasons
            .iter()
            .find(|r| r.code == TERMINATING)
            .map(|r| r.message.as_str())
            .unwrap_or_default();
        finding = finding
            .evidence(
                format!("{}: {message}", pod.key()),
                Source::Field {
                    object: ObjectRef::namespaced("Pod", &pod.namespace, &pod.name),
                    path: "metadata.deletionTimestamp".into(),
                },
            )
            .remedy(Remedy::command(
                format!("See why {} is still terminating", pod.key()),
                format!("kubectl unstick pod/{} -n {}", pod.name, pod.namespace),
            ));
    }
    plan.findings.push(finding);
}

pub fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::plan::{Acknowledged, fixtures::*};

    fn classify_one(
        pod: Pod,
        extra: impl FnOnce(&mut ClusterState),
        options: PlanOptions,
    ) -> PodPlan {
        let mut state = state_with(vec![pod]);
        extra(&mut state);
        let workloads = Workloads::index(&state);
        classify(&state.pods[0], "n1", &state, &workloads, &options)
    }

    fn codes(plan: &PodPlan) -> Vec<&str> {
        plan.reasons.iter().map(|r| r.code).collect()
    }

    #[test]
    fn skips_daemonset_static_and_terminating_pods() {
        let ds = classify_one(
            owned_pod("agent", "n1", "DaemonSet", "agent", true),
            |s| s.insert_all([daemon_set("agent")]),
            PlanOptions::default(),
        );
        assert_eq!((ds.action, codes(&ds)), (Action::Skip, vec![DAEMONSET_POD]));
        let mut mirror = bare_pod("etcd-n1", "n1");
        mirror.metadata.annotations =
            Some([(MIRROR_ANNOTATION.to_string(), "x".to_string())].into());
        assert_eq!(
            classify_one(mirror, |_| {}, PlanOptions::default()).action,
            Action::Skip
        );
        let mut leaving = owned_pod("web-1", "n1", "ReplicaSet", "web", true);
        leaving.metadata.deletion_timestamp = Some(time("2026-01-01T00:00:00Z"));
        let plan = classify_one(
            leaving,
            |s| s.observed_at = "2026-01-01T00:03:00Z".parse().unwrap(),
            PlanOptions::default(),
        );
        assert_eq!(plan.action, Action::Skip);
        assert_eq!(plan.reasons[0].message, "already terminating for 3m");
    }

    #[test]
    fn orphaned_daemonset_pods_and_bare_pods_need_force() {
        let orphan = classify_one(
            owned_pod("agent", "n1", "DaemonSet", "gone", true),
            |s| s.insert_all([daemon_set("other")]),
            PlanOptions::default(),
        );
        assert_eq!(
            (orphan.action, codes(&orphan)),
            (Action::Blocked, vec![CONTROLLER_MISSING])
        );
        let bare = classify_one(bare_pod("debug", "n1"), |_| {}, PlanOptions::default());
        assert_eq!(
            (bare.action, codes(&bare)),
            (Action::Blocked, vec![UNMANAGED])
        );
        let forced = PlanOptions {
            acknowledged: Acknowledged {
                force: true,
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(
            classify_one(bare_pod("debug", "n1"), |_| {}, forced).action,
            Action::Evict
        );
    }

    #[test]
    fn local_data_is_acknowledged_by_flag_or_safe_to_evict_true() {
        let with_data = |annotation: Option<&str>| {
            let mut pod = owned_pod("cache-1", "n1", "ReplicaSet", "cache", true);
            if let Some(spec) = pod.spec.as_mut() {
                spec.volumes = Some(vec![
                    serde_json::from_value(json!({"name": "tmp", "emptyDir": {}})).unwrap(),
                ]);
            }
            if let Some(value) = annotation {
                pod.metadata.annotations =
                    Some([(SAFE_TO_EVICT.to_string(), value.to_string())].into());
            }
            pod
        };
        let rs = |s: &mut ClusterState| s.insert_all([replica_set("cache", None)]);
        assert_eq!(
            classify_one(with_data(None), rs, PlanOptions::default()).action,
            Action::Blocked
        );
        assert_eq!(
            classify_one(with_data(Some("true")), rs, PlanOptions::default()).action,
            Action::Evict
        );
        let refused = classify_one(with_data(Some("false")), rs, PlanOptions::default());
        assert_eq!(
            codes(&refused),
            vec![RECREATED, SAFE_TO_EVICT_FALSE, LOCAL_DATA]
        );
        let acked = PlanOptions {
            acknowledged: Acknowledged {
                local_data: true,
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(
            classify_one(with_data(None), rs, acked).action,
            Action::Evict
        );
    }

    #[test]
    fn finished_pods_are_deleted_whatever_they_hold() {
        let mut done = bare_pod("job-x", "n1");
        done.status.as_mut().unwrap().phase = Some("Succeeded".into());
        let plan = classify_one(done, |_| {}, PlanOptions::default());
        assert_eq!((plan.action, codes(&plan)), (Action::Evict, vec![FINISHED]));
    }

    #[test]
    fn statefulset_ordinals() {
        assert_eq!(ordinal("db-12"), Some(12));
        assert_eq!(ordinal("db"), None);
    }
}
