//! Backends that are not ready, and why (probes, waiting containers, a lost node, readiness
//! gates); pods without readiness probes; publishNotReadyAddresses; endpoints that only terminate.

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::{
    Api,
    api::{DeleteParams, Patch, PatchParams},
};
use kube_runbooks_harness::RunOutput;
use serde_json::{Value, json};

use crate::cluster::{assert_culprit, deployment, first_line, node, scenario, service};

/// The verdict ends with `title`, the culprit is no-ready-backends on the ready-pod link.
fn assert_no_ready_backends(out: &RunOutput, title: &str) {
    assert_eq!(out.code, Some(1), "{out}");
    assert!(first_line(out).ends_with(title), "{out}");
    assert_culprit(out, "ready pod", "no-ready-backends");
}

#[tokio::test]
async fn failing_readiness_probes_are_quoted() {
    let s = scenario("probe-fails").await;
    s.web_on("probe-fails-1", 2, "[{containerPort: 8080}]")
        .await;
    s.apply(&service("web", "{app: web}", "8080")).await;
    let pods = s.wait_ready("app=web", 2).await;
    s.wait_ready_endpoints("web", 2).await;
    let running = json!({"running": {"startedAt": "2026-01-01T00:00:00Z"}});
    for pod in &pods {
        s.make_unready(pod, running.clone()).await;
        s.pod_event(
            pod,
            "Unhealthy",
            "Readiness probe failed: HTTP probe failed with statuscode: 503",
        )
        .await;
    }
    s.wait_ready_endpoints("web", 0).await;
    s.wait_endpoints("web", 2).await;
    let out = s.check(&["web"]).await;
    assert_no_ready_backends(
        &out,
        "traffic cannot reach a ready backend: none of its 2 backend pods is ready",
    );
    let quoted = out
        .stdout
        .lines()
        .find(|l| l.contains("the readiness probe fails: Readiness probe failed: HTTP probe failed with statuscode: 503 (event Unhealthy on pod/web-"));
    assert!(
        quoted.is_some_and(|l| l.contains(" ×7")),
        "the event, the pod it is about and its count: {out}"
    );
}

#[tokio::test]
async fn waiting_containers_are_handed_to_why_pending() {
    let s = scenario("crashloop").await;
    s.web_on("crashloop-1", 1, "[{containerPort: 8080}]").await;
    s.apply(&service("web", "{app: web}", "8080")).await;
    let pods = s.wait_ready("app=web", 1).await;
    s.wait_ready_endpoints("web", 1).await;
    s.make_unready(&pods[0], json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 2m40s restarting failed container"}})).await;
    s.wait_ready_endpoints("web", 0).await;
    let name = pods[0].metadata.name.clone().unwrap_or_default();
    let out = s.check(&["web"]).await;
    assert_no_ready_backends(&out, "its only backend pod is not ready");
    assert!(
        out.stdout
            .contains("container app is waiting: CrashLoopBackOff: back-off 2m40s"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains(&format!("kubectl why-pending {name} -n {}", s.name())),
        "{out}"
    );
}

#[tokio::test]
async fn a_backend_on_a_node_that_stopped_reporting_names_the_node() {
    let s = scenario("node-lost").await;
    s.web_on("node-lost-1", 1, "[{containerPort: 8080}]").await;
    s.apply(&service("web", "{app: web}", "8080")).await;
    let pods = s.wait_ready("app=web", 1).await;
    s.wait_ready_endpoints("web", 1).await;
    s.cp.stop_heartbeat("node-lost-1").await;
    s.cp.wait_node_condition("node-lost-1", "Ready", "Unknown")
        .await;
    let name = pods[0].metadata.name.clone().unwrap_or_default();
    s.ns.wait_pod_condition(&name, "Ready", "False").await;
    s.wait_ready_endpoints("web", 0).await;
    let out = s.check(&["web"]).await;
    // Its kube-proxy pod stays not ready: without the node the DaemonSet is whole again.
    Api::<Node>::all(s.cp.client())
        .delete("node-lost-1", &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("delete node: {e}"));
    assert_no_ready_backends(&out, "its only backend pod is not ready");
    assert!(
        out.stdout.contains(&format!(
            "pod {name}: runs on node node-lost-1, whose Ready condition is Unknown (NodeStatusUnknown: Kubelet stopped posting node status.): its kubelet stopped reporting, so the node lifecycle controller marked the pod not ready"
        )),
        "{out}"
    );
    assert!(
        out.stdout.contains("kubectl describe node node-lost-1"),
        "{out}"
    );
}

/// A pod `name` on node `node` with readiness gate `gate`.
fn gated_pod(name: &str, node: &str, gate: &str) -> String {
    format!(
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{app: web}}
spec:
  nodeSelector: {{svc-check-e2e/node: {node}}}
  readinessGates: [{{conditionType: "{gate}"}}]
  containers:
  - {{name: app, image: registry.example/web:1.0, ports: [{{containerPort: 8080}}], readinessProbe: {{tcpSocket: {{port: 8080}}}}}}
"#
    )
}

/// The pod's conditions as the kubelet sets them when readiness gate `gate` is not True: the
/// containers ready, the pod not; `gate_condition` is what the gate's controller set, if anything.
fn gate_not_ready(gate: &str, gate_condition: Option<Value>) -> Value {
    let now = k8s_openapi::jiff::Timestamp::now().to_string();
    let message = match &gate_condition {
        None => format!("corresponding condition of pod readiness gate \"{gate}\" does not exist."),
        Some(_) => {
            format!("the status of pod readiness gate \"{gate}\" is not \"True\", but False")
        }
    };
    let mut conditions = vec![
        json!({"type": "Initialized", "status": "True", "lastTransitionTime": now}),
        json!({"type": "ContainersReady", "status": "True", "lastTransitionTime": now}),
        json!({"type": "Ready", "status": "False", "reason": "ReadinessGatesNotReady", "message": message, "lastTransitionTime": now}),
    ];
    conditions.extend(gate_condition);
    json!({"conditions": conditions})
}

#[tokio::test]
async fn readiness_gates_not_set_name_the_gate_and_its_owner() {
    let s = scenario("gates").await;
    node(s.cp, "gates-1", &[]).await;
    let aws = "target-health.elbv2.k8s.aws/k8s-web-5f2a";
    s.apply(&gated_pod(
        "unregistered",
        "gates-1",
        "example.com/lb-registered",
    ))
    .await;
    s.apply(&gated_pod("unhealthy-target", "gates-1", aws))
        .await;
    s.apply(&service("web", "{app: web}", "8080")).await;
    s.wait_ready("app=web", 2).await;
    s.wait_ready_endpoints("web", 2).await;
    s.patch_pod_status(
        "unregistered",
        gate_not_ready("example.com/lb-registered", None),
    )
    .await;
    let now = k8s_openapi::jiff::Timestamp::now().to_string();
    s.patch_pod_status(
        "unhealthy-target",
        gate_not_ready(
            aws,
            Some(
                json!({"type": aws, "status": "False", "reason": "Target.FailedHealthChecks",
                "message": "Health checks failed", "lastTransitionTime": now}),
            ),
        ),
    )
    .await;
    s.wait_ready_endpoints("web", 0).await;
    let out = s.check(&["web"]).await;
    assert_no_ready_backends(&out, "none of its 2 backend pods is ready");
    assert!(
        out.stdout.contains(
            "pod unregistered: readiness gate example.com/lb-registered has no condition on the pod yet: the containers are ready, but the pod is ready only once its owner, typically a load-balancer controller, sets condition example.com/lb-registered to True"
        ),
        "{out}"
    );
    assert!(
        out.stdout.contains(&format!(
            "pod unhealthy-target: readiness gate {aws} is False (Target.FailedHealthChecks: Health checks failed): the containers are ready, but the pod is ready only once the AWS Load Balancer Controller sets condition {aws} to True"
        )),
        "{out}"
    );
    assert!(
        out.stdout.contains(
            "Check that the AWS Load Balancer Controller runs and has registered the pod"
        ),
        "{out}"
    );
}

#[tokio::test]
async fn pods_without_readiness_probe_are_a_warning() {
    let s = scenario("no-probe").await;
    node(s.cp, "no-probe-1", &[]).await;
    s.apply(&deployment(
        "web",
        2,
        "{app: web}",
        "no-probe-1",
        "[{containerPort: 8080}]",
        false,
    ))
    .await;
    s.apply(&service("web", "{app: web}", "8080")).await;
    s.wait_ready("app=web", 2).await;
    s.wait_ready_endpoints("web", 2).await;
    let out = s.check(&["web"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert_eq!(
        first_line(&out),
        format!(
            "! Service {}/web: traffic reaches 2 ready backends, with 1 warning: 2 backend pods have no readiness probe (container app of Deployment web)",
            s.name()
        ),
        "{out}"
    );
    assert!(
        out.stdout.contains("before the application listens"),
        "{out}"
    );
}

#[tokio::test]
async fn publish_not_ready_addresses_routes_to_unready_pods() {
    let s = scenario("publish").await;
    node(s.cp, "publish-1", &[]).await;
    s.apply(&deployment(
        "db",
        2,
        "{app: db}",
        "publish-1",
        "[{containerPort: 8080}]",
        true,
    ))
    .await;
    s.apply("apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec:\n  clusterIP: None\n  publishNotReadyAddresses: true\n  selector: {app: db}\n  ports: [{port: 8080}]\n").await;
    let pods = s.wait_ready("app=db", 2).await;
    s.make_unready(
        &pods[0],
        json!({"running": {"startedAt": "2026-01-01T00:00:00Z"}}),
    )
    .await;
    s.ns.wait_pod_condition(
        pods[0].metadata.name.as_deref().unwrap_or_default(),
        "Ready",
        "False",
    )
    .await;
    s.wait_ready_endpoints("db", 2).await;
    let out = s.check(&["db"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        first_line(&out)
            .contains("publishNotReadyAddresses sends traffic to 1 pod that is not ready"),
        "{out}"
    );
}

#[tokio::test]
async fn only_terminating_pods_still_serving() {
    let s = scenario("terminating").await;
    node(s.cp, "terminating-1", &[]).await;
    s.apply(
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: old
  labels: {app: web}
  finalizers: [svc-check-e2e/hold]
spec:
  nodeSelector: {svc-check-e2e/node: terminating-1}
  containers:
  - {name: app, image: registry.example/web:1.0, ports: [{containerPort: 8080}], readinessProbe: {tcpSocket: {port: 8080}}}
"#,
    )
    .await;
    s.apply(&service("web", "{app: web}", "8080")).await;
    s.wait_ready("app=web", 1).await;
    s.wait_ready_endpoints("web", 1).await;
    let pods = s.ns.api::<Pod>();
    pods.delete("old", &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("delete: {e}"));
    s.wait_ready_endpoints("web", 0).await;
    s.wait_endpoints("web", 1).await;
    let out = s.check(&["web"]).await;
    pods.patch(
        "old",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap_or_else(|e| panic!("release finalizer: {e}"));
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        first_line(&out).ends_with("only 1 terminating pod still serves"),
        "{out}"
    );
}

#[tokio::test]
async fn some_backends_not_ready_is_a_warning() {
    let s = scenario("some-unready").await;
    s.web_on("some-unready-1", 2, "[{containerPort: 8080}]")
        .await;
    s.apply(&service("web", "{app: web}", "8080")).await;
    let pods = s.wait_ready("app=web", 2).await;
    s.wait_ready_endpoints("web", 2).await;
    s.make_unready(
        &pods[0],
        json!({"running": {"startedAt": "2026-01-01T00:00:00Z"}}),
    )
    .await;
    s.pod_event(
        &pods[0],
        "Unhealthy",
        "Readiness probe failed: dial tcp 10.244.0.9:8080: connect: connection refused",
    )
    .await;
    s.wait_ready_endpoints("web", 1).await;
    let out = s.check(&["web"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert_eq!(
        first_line(&out),
        format!(
            "! Service {}/web: traffic reaches 1 ready backend, with 1 warning: 1 of 2 backend pods is not ready",
            s.name()
        ),
        "{out}"
    );
    assert!(
        out.stdout.contains(&format!(
            "pod {}: the readiness probe fails: Readiness probe failed: dial tcp",
            pods[0].metadata.name.as_deref().unwrap_or_default()
        )),
        "{out}"
    );
}
