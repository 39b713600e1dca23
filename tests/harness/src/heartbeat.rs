//! Simulated kubelet loss: kwok stops renewing a node's Lease and touching the node and its pods.
//!
//! kwok has no per-node off switch (it keeps renewing a Lease once it holds it, even after the
//! node loses the `kwok.x-k8s.io/node` annotation). So kwok runs as its own user, and a
//! ValidatingAdmissionPolicy denies that user's writes to the Lease, the Node and the Pods of
//! every node listed in the ConfigMap `kube-system/kube-runbooks-harness-stopped-kubelets`. The
//! Lease then keeps kwok as holder and its last `renewTime`, exactly as a lost kubelet leaves it,
//! and the real node-lifecycle controller marks the node `Ready=Unknown` and taints it
//! `node.kubernetes.io/unreachable` after `--node-monitor-grace-period`. Pods being deleted on
//! such a node stay Terminating, as they would without a kubelet.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Node};
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::json;

use crate::ControlPlane;
use crate::wait::{DEFAULT_TIMEOUT, poll_until};

/// The user kwok authenticates as (in group `system:masters`).
pub const KWOK_USER: &str = "kube-runbooks-kwok";

/// Annotation bumped on a node to make kwok look at it again after a resume.
const TOUCH_ANNOTATION: &str = "kube-runbooks-harness/resumed";

const NAME: &str = "kube-runbooks-harness-stopped-kubelets";

/// Installs the policy, its binding and the (empty) ConfigMap of stopped nodes.
pub async fn install_policy(client: &kube::Client) {
    let policy = format!(
        r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {{name: {NAME}}}
spec:
  failurePolicy: Fail
  paramKind: {{apiVersion: v1, kind: ConfigMap}}
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: ["v1"]
      operations: ["UPDATE", "DELETE"]
      resources: ["nodes", "nodes/status", "pods", "pods/status"]
    - apiGroups: ["coordination.k8s.io"]
      apiVersions: ["v1"]
      operations: ["UPDATE"]
      resources: ["leases"]
  matchConditions:
  - name: from-kwok
    expression: request.userInfo.username == "{KWOK_USER}"
  validations:
  - expression: >-
      request.resource.resource != 'pods' || !has(oldObject.spec.nodeName)
      || !has(params.data) || !(oldObject.spec.nodeName in params.data)
    message: the kubelet of this pod's node is stopped by the test harness
  - expression: >-
      request.resource.resource == 'pods' || !has(params.data)
      || !(oldObject.metadata.name in params.data)
    message: this node's kubelet is stopped by the test harness
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: {NAME}}}
spec:
  policyName: {NAME}
  validationActions: [Deny]
  paramRef: {{name: {NAME}, namespace: kube-system, parameterNotFoundAction: Allow}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: {NAME}, namespace: kube-system}}
"#
    );
    crate::apply::apply_yaml(client, "kube-system", &policy).await;
}

impl ControlPlane {
    /// Makes node `name` behave like one whose kubelet was lost: its Lease and status are no
    /// longer renewed and its pods no longer updated (see the module docs). The node-lifecycle
    /// controller turns it `Ready=Unknown` with the unreachable taints after 16s; wait for that
    /// with [`ControlPlane::wait_node_condition`]`(name, "Ready", "Unknown")`.
    ///
    /// The `NoSchedule` unreachable taint comes at once, the `NoExecute` one through the
    /// controller's per-zone eviction limiter: it is never added while *every* zone is fully
    /// disrupted (no Ready node at all) nor while three or more nodes of a zone of under 50 are
    /// not Ready (55% threshold). Keep another Ready node and stop few nodes per zone.
    pub async fn stop_heartbeat(&self, name: &str) {
        self.set_stopped(name, true).await;
    }

    /// Lets kwok renew node `name` again and waits until it is Ready; the node-lifecycle
    /// controller then removes the unreachable taints.
    pub async fn resume_heartbeat(&self, name: &str) -> Node {
        self.set_stopped(name, false).await;
        // kwok re-initializes a node only on a node event; its attempts while stopped were
        // denied. Touch the node until kwok has reported it Ready again.
        let nodes: Api<Node> = Api::all(self.client());
        let touches = AtomicU64::new(0);
        poll_until(
            DEFAULT_TIMEOUT,
            &format!("node {name} Ready after resume"),
            || async {
                let node = nodes.get(name).await.map_err(|e| e.to_string())?;
                let ready = node
                    .status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
                    .map(|c| c.status.clone());
                if ready.as_deref() == Some("True") {
                    return Ok(node);
                }
                let touch = touches.fetch_add(1, Ordering::Relaxed);
                let patch =
                    json!({"metadata": {"annotations": {TOUCH_ANNOTATION: touch.to_string()}}});
                nodes
                    .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                    .map_err(|e| e.to_string())?;
                tokio::time::sleep(Duration::from_secs(1)).await;
                Err(format!("Ready={ready:?}"))
            },
        )
        .await
    }

    async fn set_stopped(&self, name: &str, stopped: bool) {
        let maps: Api<ConfigMap> = Api::namespaced(self.client(), "kube-system");
        let value = stopped.then_some("stopped");
        let patch = json!({"data": {name: value}});
        maps.patch(NAME, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap_or_else(|e| panic!("cannot mark the kubelet of {name} stopped={stopped}: {e}"));
    }
}
