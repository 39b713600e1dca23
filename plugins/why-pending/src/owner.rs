//! Why a workload has fewer pods than it wants: the controller's FailedCreate events (quota,
//! LimitRange, admission, service account) and its status conditions.

use k8s_openapi::{api::core::v1::Event, apimachinery::pkg::apis::meta::v1::ObjectMeta};
use kube_runbook::{
    report::{Finding, ObjectRef, Remedy, Severity, Source},
    state::{ClusterState, controller_of},
};

/// Findings about `owner` itself when it has no pods (or its controller reports create failures).
pub fn analyse(owner: &ObjectRef, pod_count: usize, state: &ClusterState) -> Vec<Finding> {
    let namespace = owner.namespace.as_deref().unwrap_or_default();
    let creators = creating_objects(owner, state);
    let mut findings: Vec<Finding> = creators
        .iter()
        .filter_map(|creator| {
            let events = state.events_for(&creator.kind, Some(namespace), &creator.name, None);
            let failed = events
                .into_iter()
                .find(|e| e.reason.as_deref() == Some("FailedCreate"))?;
            Some(failed_create(owner, failed))
        })
        .collect();
    if findings.is_empty() && pod_count == 0 {
        findings.push(no_pods(owner, state));
    }
    findings
}

/// The objects whose controller creates the pods: a Deployment's ReplicaSets, else the owner.
fn creating_objects(owner: &ObjectRef, state: &ClusterState) -> Vec<ObjectRef> {
    if owner.kind != "Deployment" {
        return vec![owner.clone()];
    }
    let owned_by_deployment = |meta: &ObjectMeta| {
        meta.namespace == owner.namespace
            && controller_of(meta).is_some_and(|o| o.kind == "Deployment" && o.name == owner.name)
    };
    state
        .replica_sets
        .iter()
        .filter(|rs| owned_by_deployment(&rs.metadata))
        .filter_map(|rs| {
            Some(ObjectRef::namespaced(
                "ReplicaSet",
                owner.namespace.as_deref()?,
                rs.metadata.name.as_deref()?,
            ))
        })
        .collect()
}

fn failed_create(owner: &ObjectRef, event: &Event) -> Finding {
    let message = event.message.clone().unwrap_or_default();
    let namespace = owner.namespace.as_deref().unwrap_or_default();
    let (cause, explanation, remedy) = classify(&message, namespace);
    Finding::new(
        Severity::Error,
        owner.clone(),
        "pods-not-created",
        format!("its pods cannot be created: {cause}"),
    )
    .explain(explanation)
    .evidence(message, Source::event(event, None))
    .remedy(remedy)
}

/// The cause named by a FailedCreate message, with its explanation and fix.
fn classify(message: &str, namespace: &str) -> (&'static str, String, Remedy) {
    if message.contains("exceeded quota") {
        (
            "a ResourceQuota is exhausted",
            "The namespace's ResourceQuota would be exceeded by one more pod, so the API server refuses to create it. The controller retries, but nothing changes until usage drops or the quota grows.".into(),
            Remedy::command("Compare the quota's used and hard limits, then free usage or raise the quota", format!("kubectl describe resourcequota -n {namespace}")),
        )
    } else if message.contains("must specify") && message.contains("quota") {
        (
            "a ResourceQuota requires requests or limits the pod template does not set",
            "A ResourceQuota on cpu or memory makes requests/limits mandatory for every container; the pod template leaves some unset.".into(),
            Remedy::step("Set resources.requests and resources.limits on every container of the pod template, or add a LimitRange with defaults"),
        )
    } else if message.contains("LimitRange")
        || message.contains("maximum") && message.contains("per Container")
        || message.contains("minimum") && message.contains("per Container")
    {
        (
            "a LimitRange rejects the pod's resources",
            "A LimitRange in the namespace sets a minimum or maximum per container or pod, and the template's requests or limits fall outside it.".into(),
            Remedy::command("Read the LimitRange and fit the template's resources inside it", format!("kubectl describe limitrange -n {namespace}")),
        )
    } else if message.contains("admission webhook") && message.contains("denied") {
        (
            "an admission webhook denies the pod",
            "A validating or mutating admission webhook refused the pod; its message says which policy.".into(),
            Remedy::command("Find the webhook and its policy", "kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations"),
        )
    } else if message.contains("violates PodSecurity") {
        (
            "Pod Security admission forbids the pod",
            "The namespace enforces a Pod Security Standard level that the pod template violates (the message lists the fields).".into(),
            Remedy::step("Change the pod template to meet the namespace's pod-security.kubernetes.io/enforce level, or change the level if that is intended"),
        )
    } else if message.contains("serviceaccount") && message.contains("not found") {
        (
            "the pod's ServiceAccount does not exist",
            "The pod template names a ServiceAccount that does not exist in the namespace, so the ServiceAccount admission plugin refuses the pod.".into(),
            Remedy::command("Create the ServiceAccount (or fix serviceAccountName)", format!("kubectl create serviceaccount NAME -n {namespace}")),
        )
    } else {
        (
            "the API server refuses to create them",
            "The controller tries to create pods and the API server answers with an error; its message is the evidence below.".into(),
            Remedy::step("Fix what the FailedCreate message names; the controller retries on its own"),
        )
    }
}

fn no_pods(owner: &ObjectRef, state: &ClusterState) -> Finding {
    let namespace = owner.namespace.as_deref().unwrap_or_default();
    let name = &owner.name;
    let scaled_to_zero = desired_replicas(owner, state) == Some(0);
    if scaled_to_zero {
        return Finding::new(
            Severity::Info,
            owner.clone(),
            "scaled-to-zero",
            "it is scaled to 0 replicas, so it has no pods",
        )
        .remedy(Remedy::command(
            "Scale it up if pods are wanted",
            format!(
                "kubectl scale {}/{name} -n {namespace} --replicas=1",
                owner.kind.to_lowercase()
            ),
        ));
    }
    let daemon_set_targets_no_node = owner.kind == "DaemonSet"
        && state
            .daemon_sets
            .iter()
            .find(|d| {
                d.metadata.namespace.as_deref() == Some(namespace)
                    && d.metadata.name.as_deref() == Some(name)
            })
            .and_then(|d| d.status.as_ref())
            .is_some_and(|s| s.desired_number_scheduled == 0);
    if daemon_set_targets_no_node {
        return Finding::new(Severity::Warning, owner.clone(), "daemonset-no-eligible-nodes", "no node is eligible for its pods")
            .explain("The DaemonSet controller wants 0 pods: its nodeSelector, node affinity or the nodes' taints exclude every node.")
            .remedy(Remedy::command("Compare the DaemonSet's nodeSelector and tolerations with the nodes' labels and taints", "kubectl get nodes --show-labels"));
    }
    Finding::new(Severity::Warning, owner.clone(), "no-pods", "it has no pods, and its controller reports no error")
        .explain("No FailedCreate event was found (events expire after an hour). Check that the controller-manager is running and that the workload is not paused or suspended.")
        .remedy(Remedy::command("Look at the workload's status and events", format!("kubectl describe {}/{name} -n {namespace}", owner.kind.to_lowercase())))
}

/// `spec.replicas` of a scalable workload.
fn desired_replicas(owner: &ObjectRef, state: &ClusterState) -> Option<i32> {
    let is_owner = |meta: &ObjectMeta| {
        meta.namespace == owner.namespace && meta.name.as_deref() == Some(owner.name.as_str())
    };
    match owner.kind.as_str() {
        "Deployment" => {
            state
                .deployments
                .iter()
                .find(|d| is_owner(&d.metadata))?
                .spec
                .replicas
        }
        "StatefulSet" => {
            state
                .stateful_sets
                .iter()
                .find(|d| is_owner(&d.metadata))?
                .spec
                .replicas
        }
        "ReplicaSet" => {
            state
                .replica_sets
                .iter()
                .find(|d| is_owner(&d.metadata))?
                .spec
                .replicas
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_quota_limitrange_and_webhooks() {
        assert_eq!(classify("pods \"web-1\" is forbidden: exceeded quota: q, requested: cpu=2, used: cpu=9, limited: cpu=10", "ns").0, "a ResourceQuota is exhausted");
        assert_eq!(
            classify(
                "pods \"web-1\" is forbidden: maximum cpu usage per Container is 1, but limit is 2",
                "ns"
            )
            .0,
            "a LimitRange rejects the pod's resources"
        );
        assert_eq!(
            classify(
                "admission webhook \"policy.example.com\" denied the request: no",
                "ns"
            )
            .0,
            "an admission webhook denies the pod"
        );
        assert_eq!(classify("pods \"x\" is forbidden: error looking up service account ns/robot: serviceaccount \"robot\" not found", "ns").0, "the pod's ServiceAccount does not exist");
        assert_eq!(
            classify("something else", "ns").0,
            "the API server refuses to create them"
        );
    }
}
