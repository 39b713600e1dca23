//! Smoke tests of the harness against the real control plane. Each test creates its own nodes
//! with a distinctive label (and, where other tests' pods must stay away, a taint), because nodes
//! are shared by every test of this binary.

use std::time::Duration;

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::Api;
use kube::api::{DeleteParams, ListParams, PostParams};
use kube_runbooks_harness::{ControlPlane, FakeNode, poll_until, wait};

fn deployment(name: &str, replicas: u32, node_label: &str, cpu: &str) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      nodeSelector: {{smoke: {node_label}}}
      containers:
      - name: main
        image: registry.example/{name}:1.0
        resources:
          requests: {{cpu: {cpu}, memory: 64Mi}}
"#
    )
}

#[tokio::test]
async fn deployment_pods_are_scheduled_and_become_ready() {
    let cp = ControlPlane::shared().await;
    for i in 1..=2 {
        cp.add_node(
            FakeNode::new(&format!("smoke-deploy-{i}"))
                .label("smoke", "deploy")
                .zone("zone-a"),
        )
        .await;
    }
    let ns = cp.namespace("deploy").await;
    ns.apply_yaml(&deployment("web", 3, "deploy", "100m")).await;
    let pods = ns.wait_pods_ready("app=web", 3).await;
    for pod in &pods {
        let node = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default();
        assert!(node.starts_with("smoke-deploy-"), "pod placed on {node}");
        let scheduled = pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| {
                c.iter()
                    .any(|c| c.type_ == "PodScheduled" && c.status == "True")
            });
        assert!(scheduled, "{pod:?}");
    }
    let out = cp
        .kubectl(&["get", "pods", "-n", ns.name(), "-o", "wide"])
        .await;
    assert!(out.success(), "{out}");
    assert_eq!(out.stdout.matches("Running").count(), 3, "{out}");
}

#[tokio::test]
async fn a_jobs_pod_completes_and_is_no_longer_ready_as_under_a_kubelet() {
    let cp = ControlPlane::shared().await;
    cp.add_node(FakeNode::new("smoke-job-1").label("smoke", "job"))
        .await;
    let ns = cp.namespace("job").await;
    ns.apply_yaml(
        r#"
apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  template:
    metadata:
      labels: {app: once}
    spec:
      restartPolicy: Never
      nodeSelector: {smoke: job}
      containers:
      - {name: main, image: registry.example/once:1.0}
"#,
    )
    .await;
    let pods: Api<Pod> = Api::namespaced(cp.client(), ns.name());
    let conditions = poll_until(Duration::from_secs(60), "a Succeeded job pod", || async {
        let list = pods
            .list(&ListParams::default().labels("app=once"))
            .await
            .map_err(|e| e.to_string())?;
        let status = list
            .items
            .into_iter()
            .filter_map(|p| p.status)
            .find(|s| s.phase.as_deref() == Some("Succeeded"))
            .ok_or("no Succeeded pod yet")?;
        Ok::<_, String>(status.conditions.unwrap_or_default())
    })
    .await;
    for type_ in ["Ready", "ContainersReady"] {
        let condition = conditions.iter().find(|c| c.type_ == type_);
        assert!(
            condition.is_some_and(|c| c.status == "False" && c.reason.as_deref() == Some("PodCompleted")),
            "{type_}: {conditions:?}"
        );
    }
}

#[tokio::test]
async fn oversized_pod_stays_pending_with_the_schedulers_event() {
    let cp = ControlPlane::shared().await;
    cp.add_node(
        FakeNode::new("smoke-small-1")
            .cpu("2")
            .label("smoke", "small"),
    )
    .await;
    let ns = cp.namespace("pending").await;
    ns.apply_yaml(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: huge}
spec:
  containers:
  - name: main
    image: registry.example/huge:1.0
    resources: {requests: {cpu: "1000"}}
"#,
    )
    .await;
    let event = ns.wait_event("huge", "FailedScheduling").await;
    let message = event.message.unwrap_or_default();
    assert!(message.starts_with("0/"), "{message}");
    assert!(message.contains("Insufficient cpu"), "{message}");
    let pod = ns.wait_pod_condition("huge", "PodScheduled", "False").await;
    let status = pod.status.unwrap_or_default();
    assert_eq!(status.phase.as_deref(), Some("Pending"));
    let condition = status
        .conditions
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.type_ == "PodScheduled")
        .expect("PodScheduled condition");
    assert_eq!(
        condition.reason.as_deref(),
        Some("Unschedulable"),
        "{condition:?}"
    );
}

#[tokio::test]
async fn pdb_status_comes_from_the_disruption_controller() {
    let cp = ControlPlane::shared().await;
    cp.add_node(FakeNode::new("smoke-pdb-1").label("smoke", "pdb"))
        .await;
    let ns = cp.namespace("pdb").await;
    ns.apply_yaml(&deployment("api", 2, "pdb", "50m")).await;
    ns.apply_yaml(
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: api}\nspec:\n  minAvailable: 1\n  selector: {matchLabels: {app: api}}\n",
    )
    .await;
    ns.wait_pods_ready("app=api", 2).await;
    let pdbs: Api<PodDisruptionBudget> = ns.api();
    let status = poll_until(wait::DEFAULT_TIMEOUT, "PDB api status", || async {
        let pdb = pdbs.get("api").await.map_err(|e| e.to_string())?;
        let status = pdb.status.clone().unwrap_or_default();
        let settled = status.observed_generation == pdb.metadata.generation
            && status.expected_pods == Some(2)
            && status.current_healthy == Some(2);
        if settled {
            Ok(status)
        } else {
            Err(format!("{status:?}"))
        }
    })
    .await;
    assert_eq!(status.desired_healthy, Some(1));
    assert_eq!(status.disruptions_allowed, Some(1));
    assert_eq!(status.observed_generation, Some(1));
}

#[tokio::test]
async fn deleted_namespace_is_cleaned_up_by_the_namespace_controller() {
    let cp = ControlPlane::shared().await;
    cp.add_node(FakeNode::new("smoke-ns-1").label("smoke", "ns"))
        .await;
    let ns = cp.namespace("doomed").await;
    ns.apply_yaml(&deployment("doomed", 2, "ns", "50m")).await;
    ns.wait_pods_ready("app=doomed", 2).await;
    ns.delete(None).await;
    let namespaces: Api<Namespace> = Api::all(cp.client());
    wait::deleted(&namespaces, ns.name(), Duration::from_secs(120)).await;
}

#[tokio::test]
async fn node_without_heartbeat_turns_unknown_and_unreachable() {
    let cp = ControlPlane::shared().await;
    let name = "smoke-lost-1";
    // The node-lifecycle controller adds NoExecute taints only while some node is still Ready
    // (otherwise it assumes the control plane is cut off): keep a healthy peer.
    let peer = FakeNode::new("smoke-lost-peer")
        .label("smoke", "lost")
        .taint("smoke", "lost", "NoSchedule");
    cp.add_node(peer).await;
    cp.add_node(
        FakeNode::new(name)
            .label("smoke", "lost")
            .taint("smoke", "lost", "NoSchedule"),
    )
    .await;
    cp.stop_heartbeat(name).await;
    cp.wait_node_condition(name, "Ready", "Unknown").await;
    let client = cp.client();
    for effect in ["NoSchedule", "NoExecute"] {
        let key = "node.kubernetes.io/unreachable";
        wait::node_taint(&client, name, key, effect, wait::DEFAULT_TIMEOUT).await;
    }
    cp.resume_heartbeat(name).await;
    let nodes: Api<Node> = Api::all(client);
    poll_until(
        wait::DEFAULT_TIMEOUT,
        "unreachable taints removed",
        || async {
            let node = nodes.get(name).await.map_err(|e| e.to_string())?;
            let taints = node.spec.and_then(|s| s.taints).unwrap_or_default();
            let gone = taints
                .iter()
                .all(|t| t.key != "node.kubernetes.io/unreachable");
            if gone {
                Ok(())
            } else {
                Err(format!("{taints:?}"))
            }
        },
    )
    .await;
}

#[tokio::test]
async fn readonly_kubeconfig_can_list_but_not_delete_pods() {
    let cp = ControlPlane::shared().await;
    let ns = cp.namespace("readonly").await;
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "target"},
        "spec": {"nodeSelector": {"smoke": "nowhere"}, "containers": [{"name": "c", "image": "x"}]},
    }))
    .expect("valid pod");
    ns.api::<Pod>()
        .create(&PostParams::default(), &pod)
        .await
        .expect("create pod");

    let viewer = cp.readonly_client().await;
    let pods: Api<Pod> = Api::namespaced(viewer, ns.name());
    let list = pods
        .list(&ListParams::default())
        .await
        .expect("viewer can list pods");
    assert_eq!(list.items.len(), 1);
    let err = pods
        .delete("target", &DeleteParams::default())
        .await
        .expect_err("viewer must not delete pods");
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 403),
        "{err:?}"
    );

    let kubectl = cp.bin_dir().join("kubectl");
    let readonly = cp.readonly_kubeconfig();
    let out = cp
        .run_with_kubeconfig(&kubectl, &["get", "pods", "-n", ns.name()], readonly)
        .await;
    assert!(out.success() && out.stdout.contains("target"), "{out}");
    let out = cp
        .run_with_kubeconfig(
            &kubectl,
            &["delete", "pod", "target", "-n", ns.name()],
            readonly,
        )
        .await;
    assert!(!out.success() && out.stderr.contains("Forbidden"), "{out}");
}

#[tokio::test]
async fn minted_kubeconfig_authenticates_user_and_groups() {
    let cp = ControlPlane::shared().await;
    let client = cp.client_for("alice", &["team-a", "oncall"]).await;
    let reviews: Api<SelfSubjectReview> = Api::all(client);
    let review = reviews
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await
        .expect("every authenticated user may create a SelfSubjectReview");
    let user = review.status.and_then(|s| s.user_info).expect("user info");
    assert_eq!(user.username.as_deref(), Some("alice"));
    let groups = user.groups.unwrap_or_default();
    for group in ["team-a", "oncall", "system:authenticated"] {
        assert!(groups.iter().any(|g| g == group), "groups {groups:?}");
    }
}
