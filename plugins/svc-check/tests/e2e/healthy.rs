//! Healthy Services are reported healthy, with no false alarm.

use crate::cluster::{deployment, first_line, node, scenario, service};

#[tokio::test]
async fn a_healthy_service_reaches_its_ready_backends() {
    let s = scenario("healthy").await;
    node(s.cp, "healthy-1", &[]).await;
    s.apply(&deployment(
        "web",
        2,
        "{app: web}",
        "healthy-1",
        "[{name: http, containerPort: 8080}]",
        true,
    ))
    .await;
    s.apply(&service("web", "{app: web}", "http")).await;
    s.wait_ready("app=web", 2).await;
    s.wait_ready_endpoints("web", 2).await;
    let out = s.check(&["web"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert_eq!(
        first_line(&out),
        format!(
            "i Service {}/web: traffic reaches 2 ready backends",
            s.name()
        ),
        "{out}"
    );
    assert!(
        !out.stdout.contains(" ! ") && !out.stdout.contains('✗'),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("kube-proxy ✓ → targetPort \"http\" = 8080 ✓ → 2 endpoints ✓ → 2 ready ✓"),
        "{out}"
    );
    let all = s.check(&[]).await;
    assert_eq!(all.code, Some(0), "{all}");
    assert_eq!(
        first_line(&all),
        format!(
            "✓ all 1 Service in namespace {} reach a ready backend",
            s.name()
        )
    );
}

#[tokio::test]
async fn a_sidecar_port_is_resolved() {
    let s = scenario("sidecar").await;
    node(s.cp, "sidecar-1", &[]).await;
    s.apply(
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: meshed
  labels: {app: meshed}
spec:
  nodeSelector: {svc-check-e2e/node: sidecar-1}
  initContainers:
  - name: envoy
    image: registry.example/envoy:1.0
    restartPolicy: Always
    ports: [{name: proxy, containerPort: 15001}]
    readinessProbe: {tcpSocket: {port: 15001}}
  containers:
  - name: app
    image: registry.example/app:1.0
    readinessProbe: {tcpSocket: {port: 8080}}
"#,
    )
    .await;
    s.apply(&crate::cluster::service("meshed", "{app: meshed}", "proxy"))
        .await;
    s.wait_ready("app=meshed", 1).await;
    s.wait_ready_endpoints("meshed", 1).await;
    let out = s.check(&["meshed"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        first_line(&out).ends_with("traffic reaches 1 ready backend"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("targetPort \"proxy\" = 15001 (sidecar envoy) ✓"),
        "{out}"
    );
}
