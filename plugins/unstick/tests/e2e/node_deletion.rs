//! A pod Terminating on a node that stopped heartbeating, fixed by a user who may delete nodes
//! but not patch them: the out-of-service taint is not offered, so `--yes` takes the next step,
//! deleting the Node object (backed up first). Unstick then waits instead of force-deleting: the
//! node-lifecycle controller's RemovingNode event dates the deletion, and pod GC in the real
//! kube-controller-manager force-deletes the orphaned pod after its 40-second quarantine. The
//! other node and its pod are untouched.

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::{Api, api::DeleteParams};
use kube_runbooks_harness::{ControlPlane, FakeNode};

use crate::{
    common::{backup_dir, backups, fix_everything},
    users::kubeconfig_with_rules,
};

#[tokio::test]
async fn deleting_a_lost_node_lets_pod_gc_remove_its_pod() {
    let cp = ControlPlane::shared().await;
    let ns = cp.namespace("unstick-node-delete").await;
    let lost = format!("{}-lost", ns.name());
    let healthy = format!("{}-healthy", ns.name());
    for node in [&lost, &healthy] {
        cp.add_node(FakeNode::new(node).label("unstick-e2e", node))
            .await;
    }
    for (pod, node) in [("lonely", &lost), ("neighbour", &healthy)] {
        ns.apply_yaml(&format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {pod}}}\n\
             spec: {{nodeName: {node}, terminationGracePeriodSeconds: 1, containers: [{{name: app, image: registry.example/app:1}}]}}\n"
        ))
        .await;
        ns.wait_pod_phase(pod, "Running").await;
    }
    let pods: Api<Pod> = ns.api();
    let neighbour_uid = pods.get("neighbour").await.expect("neighbour").metadata.uid;
    cp.stop_heartbeat(&lost).await;
    cp.wait_node_condition(&lost, "Ready", "Unknown").await;
    pods.delete("lonely", &DeleteParams::default())
        .await
        .expect("delete pod");
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;

    let decommissioner = decommissioner_kubeconfig(cp, ns.name()).await;
    let saved = backup_dir();
    let fixed = fix_everything(
        cp,
        Some(&decommissioner),
        "pod/lonely",
        &["-n", ns.name(), "--wait", "3m"],
        saved.path(),
    )
    .await;
    eprintln!("--- fix:\n{}", fixed.stderr);
    assert_eq!(fixed.code, Some(0), "{fixed}");
    assert!(
        fixed
            .stderr
            .contains(&format!("Not offered: Mark Node {lost} out of service"))
            && fixed.stderr.contains("you lack permission to patch nodes"),
        "{fixed}"
    );
    assert!(
        fixed.stderr.contains(&format!("done: Delete Node {lost}")),
        "{fixed}"
    );
    assert!(
        fixed.stderr.lines().any(|line| {
            line.trim_start().starts_with("now: Terminating for")
                && line.contains(&format!("node {lost} was deleted"))
                && line.ends_with("pod GC force-deletes the pod shortly")
        }),
        "after the deletion unstick leaves the pod to pod GC:\n{fixed}"
    );
    assert!(!fixed.stderr.contains("Force-delete"), "{fixed}");
    assert!(
        fixed
            .stderr
            .contains(&format!("Pod {}/lonely is gone", ns.name())),
        "{fixed}"
    );

    assert!(
        pods.get_opt("lonely").await.expect("read pod").is_none(),
        "pod GC removed the pod"
    );
    let nodes: Api<Node> = Api::all(cp.client());
    assert!(
        nodes.get_opt(&lost).await.expect("read node").is_none(),
        "the lost node is deleted"
    );
    let files = backups(saved.path());
    assert_eq!(files.len(), 1, "only the node was changed: {files:?}");
    assert!(
        fixed.stderr.contains(&format!(
            "backup of Node {lost} written to {}",
            files[0].display()
        )),
        "{fixed}"
    );
    let backup: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&files[0]).expect("read backup"))
            .expect("the backup is JSON");
    assert_eq!(backup["kind"], "Node");
    assert_eq!(backup["metadata"]["name"], lost.as_str());

    let other = nodes.get(&healthy).await.expect("the healthy node is kept");
    assert!(other.metadata.deletion_timestamp.is_none());
    let taints = other.spec.and_then(|s| s.taints).unwrap_or_default();
    assert!(
        !taints
            .iter()
            .any(|t| t.key == "node.kubernetes.io/out-of-service"),
        "{taints:?}"
    );
    let neighbour = pods.get("neighbour").await.expect("the neighbour is kept");
    assert_eq!(neighbour.metadata.uid, neighbour_uid);
    assert!(neighbour.metadata.deletion_timestamp.is_none());
}

/// A user who may read and delete nodes but not patch them, and read and delete pods in the
/// namespace (a node decommissioning role).
async fn decommissioner_kubeconfig(cp: &ControlPlane, namespace: &str) -> std::path::PathBuf {
    kubeconfig_with_rules(
        cp,
        namespace,
        &format!("decommissioner-{namespace}"),
        &[r#"{apiGroups: [""], resources: [pods], verbs: [get, list, watch, delete]}"#],
        &[
            r#"{apiGroups: [""], resources: [nodes], verbs: [get, list, delete]}"#,
            r#"{apiGroups: [""], resources: [events], verbs: [get, list]}"#,
            "{apiGroups: [coordination.k8s.io], resources: [leases], verbs: [get, list]}",
        ],
    )
    .await
}
