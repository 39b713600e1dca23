use serde_json::json;

use crate::kubelet::analyse;
use crate::kubelet::fixtures::{event, find, object, other_pod, pod, state, text};

fn creating_with(volumes: serde_json::Value) -> k8s_openapi::api::core::v1::Pod {
    pod(json!({
        "spec": {"volumes": volumes},
        "status": {"phase": "Pending", "containerStatuses": [{"name": "web", "image": "x", "imageID": "", "ready": false,
            "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}]}
    }))
}

#[test]
fn multi_attach_names_the_pod_and_node_holding_the_volume() {
    let mut state = state();
    state.persistent_volume_claims.push(object(json!({
        "metadata": {"name": "data", "namespace": "shop"},
        "spec": {"accessModes": ["ReadWriteOnce"], "volumeName": "pvc-123"},
        "status": {"phase": "Bound"}
    })));
    state.pods.push(other_pod("web-0", "node-b", json!({"spec": {"volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]}})));
    state.pods.push(other_pod("done", "node-c", json!({"spec": {"volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]}, "status": {"phase": "Succeeded"}})));
    state.events.push(event(
        "FailedAttachVolume",
        "Multi-Attach error for volume \"pvc-123\" Volume is already used by pod(s) web-0",
        None,
    ));
    let findings = analyse(
        &creating_with(json!([{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}])),
        &state,
    );
    let multi = find(&findings, "volume-multi-attach");
    assert_eq!(multi.details["claim"], "data");
    assert_eq!(multi.details["otherPods"], json!(["web-0"]));
    assert_eq!(multi.details["otherNodes"], json!(["node-b"]));
    assert!(multi.title.contains("web-0"));
    assert!(text(multi).contains("kubectl delete pod web-0 -n shop"));
}

#[test]
fn an_unbound_claim_of_an_assigned_pod() {
    let mut state = state();
    state.persistent_volume_claims.push(object(json!({
        "metadata": {"name": "data", "namespace": "shop", "uid": "c-1"},
        "spec": {"storageClassName": "fast"},
        "status": {"phase": "Pending"}
    })));
    state.events.push(object(json!({
        "metadata": {"name": "data.1", "namespace": "shop"},
        "involvedObject": {"kind": "PersistentVolumeClaim", "name": "data", "namespace": "shop", "uid": "c-1"},
        "reason": "ProvisioningFailed", "message": "storageclass.storage.k8s.io \"fast\" not found", "count": 3
    })));
    let findings = analyse(
        &creating_with(json!([{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}])),
        &state,
    );
    let unbound = find(&findings, "pvc-not-bound");
    assert!(
        text(unbound).contains("storageclass.storage.k8s.io \"fast\" not found"),
        "{}",
        text(unbound)
    );
}

#[test]
fn a_cni_failure_points_at_the_crashing_network_pod_on_the_node() {
    let mut state = state();
    state.events.push(event(
        "FailedCreatePodSandBox",
        "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox \"abc\": plugin type=\"calico\" failed (add): stat /var/lib/calico/nodename: no such file or directory",
        None,
    ));
    state.pods.push(other_pod("calico-node-x7", "node-a", json!({
        "metadata": {"namespace": "kube-system", "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "calico-node", "uid": "ds", "controller": true}]},
        "status": {"phase": "Running", "containerStatuses": [{"name": "calico-node", "image": "x", "imageID": "", "ready": false, "restartCount": 12,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}
    })));
    state.pods.push(other_pod("calico-node-elsewhere", "node-b", json!({
        "metadata": {"namespace": "kube-system", "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "calico-node", "uid": "ds", "controller": true}]}
    })));
    let findings = analyse(&creating_with(json!([])), &state);
    let network = find(&findings, "pod-network-setup-failed");
    assert_eq!(network.details["cniPods"].as_array().map(Vec::len), Some(1));
    assert_eq!(network.details["cniPods"][0]["name"], "calico-node-x7");
    let all = text(network);
    assert!(all.contains("calico-node CrashLoopBackOff"), "{all}");
    assert!(all.contains("the pod has no IP address"), "{all}");
    assert!(
        all.contains("kubectl delete pod calico-node-x7 -n kube-system"),
        "{all}"
    );
}

#[test]
fn cni_pods_are_not_guessed_when_other_namespaces_are_hidden() {
    let mut state = state();
    state.unavailable.push(kube_runbook::state::Unavailable {
        kind: kube_runbook::state::Kind::Pod,
        reason: "forbidden".into(),
    });
    state.events.push(event(
        "FailedCreatePodSandBox",
        "failed to setup network for sandbox: cni plugin not initialized",
        None,
    ));
    let findings = analyse(&creating_with(json!([])), &state);
    let all = text(find(&findings, "pod-network-setup-failed"));
    assert!(
        all.contains(
            "pods were not checked: pods of other namespaces could not be listed (forbidden)"
        ),
        "{all}"
    );
}

#[test]
fn a_mount_failure_is_cited() {
    let mut state = state();
    state.events.push(event(
        "FailedMount",
        "MountVolume.MountDevice failed for volume \"pvc-9\" : rpc error: code = Internal desc = mount failed: exit status 32",
        None,
    ));
    let findings = analyse(&creating_with(json!([])), &state);
    assert!(text(find(&findings, "volume-mount-failed")).contains("exit status 32"));
}
