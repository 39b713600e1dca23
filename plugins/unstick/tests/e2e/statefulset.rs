//! A StatefulSet pod on a node that stopped heartbeating (003 6.6.2) is never replaced. A user
//! who may delete pods but not touch nodes is offered only the force-delete, which needs the pod's
//! name typed: `--yes` alone refuses it; `--acknowledge db-0` takes it, and the StatefulSet
//! recreates the pod. The node is left as it was.

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use kube_runbooks_harness::{ControlPlane, FakeNode, poll_until};

use crate::{
    common::{backup_dir, backups, finding, fix_everything, report, unstick, unstick_as},
    users::operator_kubeconfig,
};

#[tokio::test]
async fn statefulset_pod_on_a_lost_node_is_replaced_after_an_acknowledged_force_delete() {
    let cp = ControlPlane::shared().await;
    let ns = cp.namespace("unstick-sts").await;
    let node = format!("{}-node", ns.name());
    cp.add_node(FakeNode::new(&node).label("unstick-e2e", &node))
        .await;
    ns.apply_yaml(&format!(
        r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: db}}
spec:
  serviceName: db
  replicas: 1
  selector: {{matchLabels: {{app: db}}}}
  template:
    metadata: {{labels: {{app: db}}}}
    spec:
      nodeSelector: {{unstick-e2e: {node}}}
      terminationGracePeriodSeconds: 1
      containers: [{{name: db, image: registry.example/db:1}}]
"#
    ))
    .await;
    ns.wait_pod_phase("db-0", "Running").await;
    let pods: Api<Pod> = ns.api();
    let old_uid = pods.get("db-0").await.expect("db-0").metadata.uid;
    cp.stop_heartbeat(&node).await;
    cp.wait_node_condition(&node, "Ready", "Unknown").await;

    let scan = unstick(cp, &["-n", ns.name()]).await;
    eprintln!("--- scan:\n{}", scan.stdout);
    assert_eq!(scan.code, Some(1), "{scan}");
    assert!(
        scan.stdout
            .contains("StatefulSet db will not replace db-0 until the node is handled"),
        "{scan}"
    );
    let out = unstick(cp, &["pod/db-0", "-n", ns.name(), "-o", "json"]).await;
    let report = report(&out);
    let lost = finding(&report, "statefulset-pod-on-lost-node");
    let steps = lost["details"]["steps"].to_string();
    assert!(steps.contains("\"requiresTypedName\":\"db-0\""), "{steps}");
    assert!(steps.contains("split-brain"), "{steps}");

    let operator = operator_kubeconfig(cp, ns.name()).await;
    let refused = unstick_as(
        cp,
        &operator,
        &["pod/db-0", "-n", ns.name(), "--fix", "--yes"],
    )
    .await;
    eprintln!("--- --yes without acknowledgement:\n{}", refused.stderr);
    assert_eq!(refused.code, Some(10), "{refused}");
    assert!(
        refused
            .stderr
            .contains("you lack permission to patch nodes"),
        "{refused}"
    );
    assert!(
        refused.stderr.contains("pass --acknowledge db-0"),
        "{refused}"
    );
    assert_eq!(
        pods.get("db-0").await.expect("db-0 untouched").metadata.uid,
        old_uid
    );

    let saved = backup_dir();
    let fixed = fix_everything(
        cp,
        Some(&operator),
        "pod/db-0",
        &["-n", ns.name(), "--acknowledge", "db-0"],
        saved.path(),
    )
    .await;
    eprintln!("--- acknowledged:\n{}", fixed.stderr);
    assert_eq!(fixed.code, Some(0), "{fixed}");
    poll_until(std::time::Duration::from_secs(60), "a new db-0", || async {
        match pods.get_opt("db-0").await {
            Ok(Some(pod)) if pod.metadata.uid != old_uid => Ok(()),
            other => Err(format!("{:?}", other.map(|p| p.map(|p| p.metadata.uid)))),
        }
    })
    .await;
    let nodes: Api<Node> = Api::all(cp.client());
    let untouched = nodes.get(&node).await.expect("the node still exists");
    let taints = untouched.spec.and_then(|s| s.taints).unwrap_or_default();
    assert!(
        !taints
            .iter()
            .any(|t| t.key == "node.kubernetes.io/out-of-service"),
        "{taints:?}"
    );
    let files = backups(saved.path());
    assert_eq!(files.len(), 1, "only the pod was changed: {files:?}");
}
