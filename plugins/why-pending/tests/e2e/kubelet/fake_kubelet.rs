//! A stand-in for the kubelet: a node kwok does not manage, kept Ready by renewing its Lease,
//! with pods bound to it by `spec.nodeName` whose statuses and events the test writes.
//!
//! kwok cannot run containers, and its pod-ready stage turns every Pending pod on the nodes it
//! manages Running and Ready, so kubelet failures cannot be staged there. A node without the
//! `kwok.x-k8s.io/node` annotation is left alone; the NoSchedule taint keeps other tests' pods
//! off it.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use kube_runbooks_harness::{ControlPlane, TestNamespace};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

const LEASE_NAMESPACE: &str = "kube-node-lease";
const RENEW_EVERY: Duration = Duration::from_secs(2);
pub const TAINT: &str = "kube-runbooks.io/fake-kubelet";

/// A Ready node whose Lease is renewed while this value lives.
pub struct FakeKubelet {
    pub node: String,
    heartbeat: JoinHandle<()>,
}

impl Drop for FakeKubelet {
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}

fn now() -> Value {
    serde_json::to_value(Time(Timestamp::now())).unwrap_or(Value::Null)
}

fn now_micro() -> Value {
    serde_json::to_value(MicroTime(Timestamp::now())).unwrap_or(Value::Null)
}

impl FakeKubelet {
    /// Creates node `name` (tainted, Ready) and starts renewing its Lease.
    pub async fn start(cp: &ControlPlane, name: &str) -> FakeKubelet {
        let client = cp.client();
        let nodes: Api<Node> = Api::all(client.clone());
        let node: Node = serde_json::from_value(json!({
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}},
            "spec": {"taints": [{"key": TAINT, "effect": "NoSchedule"}]}
        }))
        .unwrap_or_else(|e| panic!("invalid node {name}: {e}"));
        nodes
            .create(&PostParams::default(), &node)
            .await
            .unwrap_or_else(|e| panic!("cannot create node {name}: {e}"));
        let resources =
            json!({"cpu": "4", "memory": "16Gi", "pods": "110", "ephemeral-storage": "100Gi"});
        let status = json!({"status": {
            "capacity": resources,
            "allocatable": resources,
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
                "lastHeartbeatTime": now(), "lastTransitionTime": now()}],
            "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux", "kubeletVersion": "v1.35.0", "bootID": "", "containerRuntimeVersion": "containerd://2.0.0",
                "kernelVersion": "", "kubeProxyVersion": "", "machineID": "", "osImage": "", "systemUUID": ""}
        }});
        nodes
            .patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
            .await
            .unwrap_or_else(|e| panic!("cannot mark node {name} Ready: {e}"));
        let leases: Api<Lease> = Api::namespaced(client, LEASE_NAMESPACE);
        let lease: Lease = serde_json::from_value(json!({
            "metadata": {"name": name},
            "spec": {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": now_micro()}
        }))
        .unwrap_or_else(|e| panic!("invalid lease {name}: {e}"));
        leases
            .create(&PostParams::default(), &lease)
            .await
            .unwrap_or_else(|e| panic!("cannot create lease {name}: {e}"));
        let lease_name = name.to_string();
        let heartbeat = tokio::spawn(async move {
            loop {
                tokio::time::sleep(RENEW_EVERY).await;
                let renew = json!({"spec": {"renewTime": now_micro()}});
                let _ = leases
                    .patch(&lease_name, &PatchParams::default(), &Patch::Merge(&renew))
                    .await;
            }
        });
        FakeKubelet {
            node: name.to_string(),
            heartbeat,
        }
    }

    /// Creates pod `spec` (JSON, without nodeName) bound to this node.
    pub async fn pod(&self, ns: &TestNamespace, mut pod: Value) -> Pod {
        pod["spec"]["nodeName"] = json!(self.node);
        pod["spec"]["tolerations"] = json!([{"key": TAINT, "operator": "Exists"}]);
        let pod: Pod = serde_json::from_value(pod).unwrap_or_else(|e| panic!("invalid pod: {e}"));
        ns.api::<Pod>()
            .create(&PostParams::default(), &pod)
            .await
            .unwrap_or_else(|e| panic!("cannot create pod: {e}"))
    }

    /// Writes `status` (merged into the pod's status) as the kubelet would.
    pub async fn set_status(&self, ns: &TestNamespace, pod: &str, status: Value) -> Pod {
        ns.api::<Pod>()
            .patch_status(
                pod,
                &PatchParams::default(),
                &Patch::Merge(&json!({"status": status})),
            )
            .await
            .unwrap_or_else(|e| panic!("cannot write the status of pod {pod}: {e}"))
    }

    /// Records a kubelet event about `pod`; `container` sets `involvedObject.fieldPath`.
    pub async fn event(
        &self,
        ns: &TestNamespace,
        pod: &Pod,
        reason: &str,
        message: &str,
        container: Option<&str>,
    ) {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let event: Event = serde_json::from_value(json!({
            "metadata": {"generateName": format!("{name}.")},
            "involvedObject": {
                "apiVersion": "v1", "kind": "Pod", "name": name, "namespace": ns.name(), "uid": pod.metadata.uid,
                "fieldPath": container.map(|c| format!("spec.containers{{{c}}}")),
            },
            "reason": reason,
            "message": message,
            "type": if reason.starts_with("Pull") || reason == "Scheduled" { "Normal" } else { "Warning" },
            "count": 3,
            "firstTimestamp": now(),
            "lastTimestamp": now(),
            "source": {"component": "kubelet", "host": self.node},
        }))
        .unwrap_or_else(|e| panic!("invalid event: {e}"));
        ns.api::<Event>()
            .create(&PostParams::default(), &event)
            .await
            .unwrap_or_else(|e| panic!("cannot record event {reason}: {e}"));
    }
}
