//! Healthy Services are reported healthy, with no false alarm.

use crate::cluster::{assert_no_alarm, first_line, node, scenario, service};

#[tokio::test]
async fn a_healthy_service_reaches_its_ready_backends() {
    let s = scenario("healthy").await;
    s.web_on("healthy-1", 2, "[{name: http, containerPort: 8080}]")
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

const EVERY_KIND: &str = r#"
apiVersion: v1
kind: Service
metadata: {name: numeric}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: multi-port}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
  - {name: metrics, port: 9090, targetPort: metrics}
  - {name: dns, port: 53, targetPort: dns, protocol: UDP}
---
apiVersion: v1
kind: Service
metadata: {name: headless}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{port: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: node-port}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: balancer}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: alias}
spec: {type: ExternalName, externalName: db.example.com}
"#;

#[tokio::test]
async fn every_kind_of_service_is_reported_healthy() {
    let s = scenario("all-healthy").await;
    s.web_on("all-healthy-1", 2, "[{name: http, containerPort: 8080}, {name: metrics, containerPort: 9090}, {name: dns, containerPort: 5353, protocol: UDP}]").await;
    s.apply(EVERY_KIND).await;
    s.patch_service_status(
        "balancer",
        serde_json::json!({"loadBalancer": {"ingress": [{"ip": "198.51.100.30"}]}}),
    )
    .await;
    s.wait_ready("app=web", 2).await;
    for service in ["numeric", "multi-port", "headless", "node-port", "balancer"] {
        s.wait_ready_endpoints(service, 2).await;
    }
    let answers = [
        ("numeric", "traffic reaches 2 ready backends"),
        ("multi-port", "traffic reaches 2 ready backends"),
        (
            "headless",
            "DNS answers 2 ready pod IPs (headless: no virtual IP, no load balancing)",
        ),
        ("node-port", "traffic reaches 2 ready backends"),
        ("balancer", "traffic reaches 2 ready backends"),
        (
            "alias",
            "an alias: DNS answers a CNAME to db.example.com; nothing to balance",
        ),
    ];
    for (service, answer) in answers {
        let (out, report) = s.check_json(&[service]).await;
        assert_eq!(out.code, Some(0), "{service}: {out}");
        assert_no_alarm(&report);
        let text = s.check(&[service]).await;
        assert_eq!(
            first_line(&text),
            format!("i Service {}/{service}: {answer}", s.name()),
            "{text}"
        );
    }
    let all = s.check(&[]).await;
    assert_eq!(all.code, Some(0), "{all}");
    assert_eq!(
        first_line(&all),
        format!(
            "✓ all 6 Services in namespace {} reach a ready backend",
            s.name()
        ),
        "{all}"
    );
}
