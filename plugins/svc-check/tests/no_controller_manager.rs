//! "External components" (seed 001): with kube-controller-manager down, nobody writes a Service's
//! EndpointSlices, so ready pods match its selector and none is listed; svc-check must blame the
//! endpointslice controller. Its own test binary, because the controller-manager stays dead for
//! the rest of the binary.

use std::{path::Path, time::Duration};

use kube_runbooks_harness::{ControlPlane, FakeNode, RunCommand, wait_for};
use serde_json::Value;

const SVC_CHECK: &str = env!("CARGO_BIN_EXE_kubectl-svc_check");

const WEB: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  nodeName: no-kcm-1
  containers:
  - name: app
    image: registry.example/web:1.0
    ports: [{containerPort: 8080}]
    readinessProbe: {tcpSocket: {port: 8080}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_pods_without_endpoint_slices_blame_the_controller() {
    let cp = ControlPlane::shared().await;
    let ns = cp.namespace("no-kcm").await;
    cp.add_node(FakeNode::new("no-kcm-1")).await;
    cp.kill_component("kube-controller-manager");
    ns.apply_yaml(WEB).await;
    ns.wait_pod_condition("web", "Ready", "True").await;
    let check = |args: Vec<&str>| RunCommand::new(cp, Path::new(SVC_CHECK), &args).output();
    wait_for(
        Duration::from_secs(120),
        "an endpointslices-missing culprit (after the pod has been ready for 30s)",
        || async {
            let out = check(vec!["web", "-n", ns.name(), "-o", "json"]).await;
            let report: Value = serde_json::from_str(&out.stdout).ok()?;
            (report["findings"][0]["details"]["culprit"] == "endpointslices-missing").then_some(())
        },
    )
    .await;
    let out = check(vec!["web", "-n", ns.name()]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert_eq!(
        out.stdout.lines().next().unwrap_or_default(),
        format!(
            "✗ Service {}/web: traffic cannot reach a ready backend: no EndpointSlice exists although 1 ready pod matches the selector",
            ns.name()
        ),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("First broken link: endpoints (endpointslices-missing)."),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("kubectl get lease kube-controller-manager -n kube-system"),
        "{out}"
    );
}
