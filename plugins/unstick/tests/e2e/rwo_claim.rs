//! A pod with a ReadWriteOnce claim Terminating on a node that stopped heartbeating, fixed by a
//! user who may delete pods but not touch nodes: only the force-delete is offered, and since a
//! replacement could mount the claim while the old pod still writes, `--yes` alone refuses it
//! (exit 10, the pod untouched); `--acknowledge solo` takes it. The pod goes; the claim stays
//! Bound with its spec and finalizer (kube-controller-manager only marks it Unused), and the pod's
//! neighbour on the same node is untouched.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, PersistentVolumeClaim, Pod};
use kube::{Api, api::DeleteParams};
use kube_runbooks_harness::{ControlPlane, FakeNode, poll_until};

use crate::{
    common::{backup_dir, backups, fix_everything, unstick_as},
    users::operator_kubeconfig,
    volumes::bound_claim,
};

#[tokio::test]
async fn force_deleting_a_pod_with_a_read_write_once_claim_needs_its_name() {
    let cp = ControlPlane::shared().await;
    let ns = cp.namespace("unstick-rwo").await;
    let node = format!("{}-node", ns.name());
    cp.add_node(FakeNode::new(&node).label("unstick-e2e", &node))
        .await;
    bound_claim(cp, &ns).await;
    let claims: Api<PersistentVolumeClaim> = ns.api();
    ns.apply_yaml(&format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: solo}}\n\
         spec: {{nodeName: {node}, terminationGracePeriodSeconds: 1, containers: [{{name: db, image: registry.example/db:1}}], \
         volumes: [{{name: data, persistentVolumeClaim: {{claimName: data}}}}]}}\n\
         ---\n\
         apiVersion: v1\nkind: Pod\nmetadata: {{name: neighbour}}\n\
         spec: {{nodeName: {node}, containers: [{{name: app, image: registry.example/app:1}}]}}\n"
    ))
    .await;
    ns.wait_pod_phase("solo", "Running").await;
    ns.wait_pod_phase("neighbour", "Running").await;
    cp.stop_heartbeat(&node).await;
    cp.wait_node_condition(&node, "Ready", "Unknown").await;
    let pods: Api<Pod> = ns.api();
    let solo_uid = pods.get("solo").await.expect("solo").metadata.uid;
    let neighbour_uid = pods.get("neighbour").await.expect("neighbour").metadata.uid;
    pods.delete("solo", &DeleteParams::default())
        .await
        .expect("delete pod");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let claim_before = claims.get("data").await.expect("claim data");

    let operator = operator_kubeconfig(cp, ns.name()).await;
    let refused = unstick_as(
        cp,
        &operator,
        &["pod/solo", "-n", ns.name(), "--fix", "--yes"],
    )
    .await;
    eprintln!("--- --yes without acknowledgement:\n{}", refused.stderr);
    assert_eq!(refused.code, Some(10), "{refused}");
    assert!(
        refused.stderr.contains(&format!(
            "danger: data loss: if solo still runs on {node}, a replacement mounts ReadWriteOnce claim data at the same time"
        )),
        "{refused}"
    );
    assert!(
        refused.stderr.contains(
            "skipped: this step needs \"solo\" typed to confirm; pass --acknowledge solo to take it without a terminal"
        ),
        "{refused}"
    );
    assert!(
        refused.stderr.contains(&format!(
            "nothing more to offer and Pod {}/solo is still there",
            ns.name()
        )),
        "{refused}"
    );
    let waiting = pods.get("solo").await.expect("solo untouched");
    assert_eq!(waiting.metadata.uid, solo_uid);

    let saved = backup_dir();
    let fixed = fix_everything(
        cp,
        Some(&operator),
        "pod/solo",
        &["-n", ns.name(), "--acknowledge", "solo"],
        saved.path(),
    )
    .await;
    eprintln!("--- acknowledged:\n{}", fixed.stderr);
    assert_eq!(fixed.code, Some(0), "{fixed}");
    assert!(
        fixed.stderr.contains(&format!(
            "done: Force-delete Pod {}/solo (grace period 0)",
            ns.name()
        )),
        "{fixed}"
    );
    assert!(
        pods.get_opt("solo").await.expect("read pod").is_none(),
        "the pod should be gone"
    );
    let files = backups(saved.path());
    assert_eq!(files.len(), 1, "only the pod was changed: {files:?}");

    // kube-controller-manager's own reaction to the pod going: the claim's Unused condition.
    let claim_after = poll_until(
        Duration::from_secs(60),
        "claim data marked Unused",
        || async {
            let claim = claims.get("data").await.map_err(|e| e.to_string())?;
            let unused = claim
                .status
                .iter()
                .flat_map(|s| s.conditions.iter().flatten())
                .find(|c| c.type_ == "Unused")
                .map(|c| (c.status.clone(), c.reason.clone()));
            match unused {
                Some((status, Some(reason))) if status == "True" && reason == "NoPodsUsingPVC" => {
                    Ok(claim)
                }
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await;
    assert_eq!(
        claim_after.spec, claim_before.spec,
        "the claim is untouched"
    );
    assert_eq!(
        claim_after.metadata.finalizers,
        claim_before.metadata.finalizers
    );
    assert_eq!(
        claim_after.metadata.annotations,
        claim_before.metadata.annotations
    );
    assert!(claim_after.metadata.deletion_timestamp.is_none());
    assert_eq!(
        claim_after.status.and_then(|s| s.phase).as_deref(),
        Some("Bound")
    );
    let neighbour = pods.get("neighbour").await.expect("the neighbour is kept");
    assert_eq!(neighbour.metadata.uid, neighbour_uid);
    assert!(neighbour.metadata.deletion_timestamp.is_none());
    let nodes: Api<Node> = Api::all(cp.client());
    let untouched = nodes.get(&node).await.expect("the node still exists");
    let taints = untouched.spec.and_then(|s| s.taints).unwrap_or_default();
    assert!(
        !taints
            .iter()
            .any(|t| t.key == "node.kubernetes.io/out-of-service"),
        "{taints:?}"
    );
}
