//! Facts about a pod that several checks need: readiness, phase, address, and the containers
//! that can serve a port (app containers and sidecars).

use k8s_openapi::api::core::v1::{Container, Pod, PodCondition};
use kube_runbook::{
    report::ObjectRef,
    state::{ClusterState, controller_of},
};

use crate::labels::Labels;

pub fn name(pod: &Pod) -> &str {
    pod.metadata.name.as_deref().unwrap_or_default()
}

pub fn namespace(pod: &Pod) -> &str {
    pod.metadata.namespace.as_deref().unwrap_or_default()
}

pub fn labels(pod: &Pod) -> &Labels {
    crate::labels::or_empty(pod.metadata.labels.as_ref())
}

pub fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending")
}

pub fn node(pod: &Pod) -> Option<&str> {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .filter(|n| !n.is_empty())
}

/// The pod's first IP, as the endpointslice controller would publish it.
pub fn ip(pod: &Pod) -> Option<&str> {
    let status = pod.status.as_ref()?;
    status
        .pod_ips
        .iter()
        .flatten()
        .map(|p| p.ip.as_str())
        .chain(status.pod_ip.as_deref())
        .find(|ip| !ip.is_empty())
}

/// The node's IP as the pod sees it: the source of a hostNetwork pod's traffic.
pub fn host_ip(pod: &Pod) -> Option<&str> {
    let status = pod.status.as_ref()?;
    status
        .host_ips
        .iter()
        .flatten()
        .map(|h| h.ip.as_str())
        .chain(status.host_ip.as_deref())
        .find(|ip| !ip.is_empty())
}

pub fn condition<'a>(pod: &'a Pod, condition_type: &str) -> Option<&'a PodCondition> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == condition_type)
}

/// The pod's Ready condition is True: what the endpointslice controller calls "serving".
pub fn is_ready(pod: &Pod) -> bool {
    condition(pod, "Ready").is_some_and(|c| c.status == "True")
}

/// Succeeded or Failed: never an endpoint again.
pub fn is_terminal(pod: &Pod) -> bool {
    matches!(phase(pod), "Succeeded" | "Failed")
}

pub fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

/// Whether the endpointslice controller lists the pod at all: not finished and has an IP.
pub fn is_endpoint_candidate(pod: &Pod) -> bool {
    !is_terminal(pod) && ip(pod).is_some()
}

pub fn host_network(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.host_network)
        .unwrap_or(false)
}

/// A container that can serve traffic for the pod: an app container, or a sidecar (an init
/// container with `restartPolicy: Always`), which the endpointslice controller also searches.
pub struct Serving<'a> {
    pub container: &'a Container,
    pub sidecar: bool,
}

pub fn serving_containers(pod: &Pod) -> impl Iterator<Item = Serving<'_>> {
    let spec = pod.spec.as_ref();
    let app = spec
        .map(|s| s.containers.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|container| Serving {
            container,
            sidecar: false,
        });
    let sidecars = spec
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or_default()
        .iter()
        .filter(|c| is_sidecar(c))
        .map(|container| Serving {
            container,
            sidecar: true,
        });
    app.chain(sidecars)
}

/// Init containers that run to completion: their ports never serve a Service.
pub fn plain_init_containers(pod: &Pod) -> impl Iterator<Item = &Container> {
    pod.spec
        .as_ref()
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or_default()
        .iter()
        .filter(|c| !is_sidecar(c))
}

pub fn is_sidecar(container: &Container) -> bool {
    container.restart_policy.as_deref() == Some("Always")
}

/// The workload a pod belongs to: its Deployment when the ReplicaSet is one of a Deployment's
/// (the ReplicaSet is named after the Deployment plus the pod-template-hash), else its top
/// controller as far as the state knows.
pub fn workload(state: &ClusterState, pod: &Pod) -> Option<ObjectRef> {
    let namespace = namespace(pod);
    let owner = controller_of(&pod.metadata)?;
    if owner.kind == "ReplicaSet"
        && let Some(hash) = labels(pod).get("pod-template-hash")
        && let Some(deployment) = owner.name.strip_suffix(&format!("-{hash}"))
    {
        return Some(ObjectRef::namespaced("Deployment", namespace, deployment));
    }
    state.top_controller(namespace, &pod.metadata)
}

/// `kubectl why-pending POD -n NS`: the hand-off for a pod that is not running.
pub fn why_pending_command(pod: &Pod) -> String {
    format!("kubectl why-pending {} -n {}", name(pod), namespace(pod))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod(value: serde_json::Value) -> Pod {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn sidecars_serve_and_plain_init_containers_do_not() {
        let p = pod(json!({
            "metadata": {"name": "p", "namespace": "ns"},
            "spec": {
                "containers": [{"name": "app"}],
                "initContainers": [
                    {"name": "setup"},
                    {"name": "proxy", "restartPolicy": "Always"}
                ]
            }
        }));
        let serving: Vec<_> = serving_containers(&p)
            .map(|s| (s.container.name.as_str(), s.sidecar))
            .collect();
        assert_eq!(serving, vec![("app", false), ("proxy", true)]);
        let plain: Vec<_> = plain_init_containers(&p).map(|c| c.name.as_str()).collect();
        assert_eq!(plain, vec!["setup"]);
    }

    #[test]
    fn deployment_pods_belong_to_their_deployment() {
        let state = ClusterState::new(
            kube_runbook::state::Origin::Snapshot { path: "t".into() },
            k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
        );
        let p = pod(json!({"metadata": {
            "name": "web-5d9c7-x", "namespace": "shop", "labels": {"pod-template-hash": "5d9c7"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d9c7", "uid": "u", "controller": true}]
        }}));
        assert_eq!(
            workload(&state, &p),
            Some(ObjectRef::namespaced("Deployment", "shop", "web"))
        );
        let job = pod(json!({"metadata": {
            "name": "j-x", "namespace": "shop",
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "j", "uid": "u", "controller": true}]
        }}));
        assert_eq!(
            workload(&state, &job),
            Some(ObjectRef::namespaced("Job", "shop", "j"))
        );
    }

    #[test]
    fn candidates_need_an_ip_and_a_live_phase() {
        let running = pod(json!({"status": {"phase": "Running", "podIP": "10.0.0.1"}}));
        let no_ip = pod(json!({"status": {"phase": "Running"}}));
        let done = pod(json!({"status": {"phase": "Succeeded", "podIP": "10.0.0.2"}}));
        assert!(is_endpoint_candidate(&running));
        assert!(!is_endpoint_candidate(&no_ip));
        assert!(!is_endpoint_candidate(&done));
        assert_eq!(ip(&running), Some("10.0.0.1"));
    }
}
