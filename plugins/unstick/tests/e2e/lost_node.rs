//! A pod Terminating on a node that stopped heartbeating (001 item 6): the diagnosis reads the
//! node's Ready condition and lease; the fix takes the safest step, the out-of-service taint, and
//! pod GC then removes the pod. The node itself is not deleted. A typo suggests the real name.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::{Api, api::DeleteParams};
use kube_runbooks_harness::{ControlPlane, FakeNode};

use crate::common::{backup_dir, backups, finding, fix_everything, report, unstick};

#[tokio::test]
async fn pod_on_a_node_that_stopped_heartbeating() {
    let cp = ControlPlane::shared().await;
    let ns = cp.namespace("unstick-node").await;
    let node = format!("{}-node", ns.name());
    cp.add_node(FakeNode::new(&node).label("unstick-e2e", &node))
        .await;
    ns.apply_yaml(&format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: lonely}}\n\
         spec: {{nodeName: {node}, terminationGracePeriodSeconds: 1, containers: [{{name: app, image: registry.example/app:1}}]}}\n"
    ))
    .await;
    ns.wait_pod_phase("lonely", "Running").await;
    cp.stop_heartbeat(&node).await;
    cp.wait_node_condition(&node, "Ready", "Unknown").await;
    let pods: Api<Pod> = ns.api();
    pods.delete("lonely", &DeleteParams::default())
        .await
        .expect("delete pod");
    tokio::time::sleep(Duration::from_secs(2)).await;

    let typo = unstick(cp, &["pod/lonley", "-n", ns.name()]).await;
    assert_eq!(typo.code, Some(7), "{typo}");
    assert!(typo.stderr.contains("did you mean \"lonely\""), "{typo}");

    let text = unstick(cp, &["pod/lonely", "-n", ns.name()]).await;
    eprintln!("--- diagnosis:\n{}", text.stdout);
    assert_eq!(text.code, Some(1), "{text}");
    let out = unstick(cp, &["pod/lonely", "-n", ns.name(), "-o", "json"]).await;
    let report = report(&out);
    let unreachable = finding(&report, "pod-node-unreachable");
    assert!(
        unreachable["title"].as_str().unwrap_or_default().ends_with(&format!(
            "node {node} stopped reporting (Ready=Unknown): no kubelet can confirm the pod stopped"
        )),
        "{unreachable:#}"
    );
    let evidence = unreachable["evidence"].to_string();
    assert!(
        evidence.contains("its kubelet lease was last renewed"),
        "{evidence}"
    );

    let saved = backup_dir();
    let fixed = fix_everything(cp, None, "pod/lonely", &["-n", ns.name()], saved.path()).await;
    eprintln!("--- fix:\n{}", fixed.stderr);
    assert_eq!(fixed.code, Some(0), "{fixed}");
    assert!(
        fixed
            .stderr
            .contains(&format!("Mark Node {node} out of service")),
        "{fixed}"
    );
    assert!(
        pods.get_opt("lonely").await.expect("read pod").is_none(),
        "the pod should be gone"
    );
    let nodes: Api<Node> = Api::all(cp.client());
    let tainted = nodes.get(&node).await.expect("the node is not deleted");
    let taints = tainted.spec.and_then(|s| s.taints).unwrap_or_default();
    assert!(
        taints
            .iter()
            .any(|t| t.key == "node.kubernetes.io/out-of-service"),
        "{taints:?}"
    );
    let files = backups(saved.path());
    assert_eq!(files.len(), 1, "only the node was changed: {files:?}");
}
