//! Service ports resolved on every backend: named ports by name and protocol, undeclared
//! numbers, headless Services whose targetPort differs.

use crate::cluster::{assert_culprit, deployment, first_line, node, scenario, service};

#[tokio::test]
async fn a_named_port_no_pod_declares() {
    let s = scenario("named-port").await;
    s.web_on("named-port-1", 2, "[{name: http, containerPort: 8080}]")
        .await;
    s.apply(&service("web", "{app: web}", "web-http")).await;
    s.wait_ready("app=web", 2).await;
    s.wait_endpoints("web", 2).await;
    let out = s.check(&["web"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        first_line(&out).ends_with("port 80/TCP: no backend pod declares a container port named \"web-http\", so the port has no endpoints"),
        "{out}"
    );
    assert_culprit(&out, "targetPort", "named-port-not-found");
    assert!(out.stdout.contains("declares http=8080/TCP"), "{out}");
}

#[tokio::test]
async fn a_named_port_with_another_protocol() {
    let s = scenario("proto").await;
    node(s.cp, "proto-1", &[]).await;
    s.apply(&deployment(
        "dns",
        1,
        "{app: dns}",
        "proto-1",
        "[{name: dns, containerPort: 53, protocol: UDP}]",
        true,
    ))
    .await;
    s.apply("apiVersion: v1\nkind: Service\nmetadata: {name: dns}\nspec:\n  selector: {app: dns}\n  ports: [{port: 53, targetPort: dns, protocol: TCP}]\n").await;
    s.wait_ready("app=dns", 1).await;
    s.wait_endpoints("dns", 1).await;
    let out = s.check(&["dns"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert_culprit(&out, "targetPort", "port-protocol-mismatch");
    assert!(
        out.stdout
            .contains("container app declares \"dns\" as 53/UDP, the Service port is TCP"),
        "{out}"
    );
}

#[tokio::test]
async fn an_undeclared_target_port_is_a_warning() {
    let s = scenario("undeclared").await;
    s.web_on("undeclared-1", 1, "[{containerPort: 8080}]").await;
    s.apply(&service("web", "{app: web}", "9090")).await;
    s.wait_ready("app=web", 1).await;
    s.wait_ready_endpoints("web", 1).await;
    let out = s.check(&["web"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        first_line(&out).ends_with(
            "port 80/TCP: targetPort 9090 is not among the ports the pods declare (8080/TCP)"
        ),
        "{out}"
    );
}

#[tokio::test]
async fn a_headless_service_explains_its_lack_of_balancing() {
    let s = scenario("headless").await;
    node(s.cp, "headless-1", &[]).await;
    s.apply(&deployment(
        "db",
        3,
        "{app: db}",
        "headless-1",
        "[{containerPort: 5432}]",
        true,
    ))
    .await;
    s.apply("apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec:\n  clusterIP: None\n  selector: {app: db}\n  ports: [{port: 5432}]\n").await;
    s.wait_ready("app=db", 3).await;
    s.wait_ready_endpoints("db", 3).await;
    let out = s.check(&["db"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert_eq!(
        first_line(&out),
        format!(
            "i Service {}/db: DNS answers 3 ready pod IPs (headless: no virtual IP, no load balancing)",
            s.name()
        ),
        "{out}"
    );
    assert!(
        out.stdout.contains(
            "headless: DNS answers the IPs of its 3 ready pods; no virtual IP, no load balancing"
        ),
        "{out}"
    );

    s.apply("apiVersion: v1\nkind: Service\nmetadata: {name: db-alt}\nspec:\n  clusterIP: None\n  selector: {app: db}\n  ports: [{port: 80, targetPort: 5432}]\n").await;
    s.wait_ready_endpoints("db-alt", 3).await;
    let out = s.check(&["db-alt"]).await;
    assert!(
        out.stdout.contains(
            "headless Service: clients connect to pod IPs on port 80, but targetPort is 5432"
        ),
        "{out}"
    );
}

#[tokio::test]
async fn pods_without_the_named_port_are_left_out() {
    let s = scenario("named-some").await;
    node(s.cp, "named-some-1", &[]).await;
    s.apply(&deployment(
        "web-v1",
        1,
        "{app: web, version: v1}",
        "named-some-1",
        "[{name: http, containerPort: 8080}]",
        true,
    ))
    .await;
    s.apply(&deployment(
        "web-v2",
        1,
        "{app: web, version: v2}",
        "named-some-1",
        "[{name: web, containerPort: 8080}]",
        true,
    ))
    .await;
    s.apply(&service("web", "{app: web}", "http")).await;
    s.wait_ready("app=web", 2).await;
    // The controller lists the pod without the port too, in a slice of its own with no ports.
    s.wait_ready_endpoints("web", 2).await;
    let (out, report) = s.check_json(&["web"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert_eq!(report["findings"][0]["code"], "service-degraded", "{out}");
    let text = s.check(&["web"]).await;
    assert!(
        first_line(&text).ends_with(
            "port 80/TCP: 1 of 2 pods declare no container port named \"http\" and are left out of its endpoints"
        ),
        "{text}"
    );
    assert!(text.stdout.contains("declares web=8080/TCP"), "{text}");
    assert!(text.stdout.contains("1 endpoint ✓ → 1 ready ✓"), "{text}");
}

#[tokio::test]
async fn a_numeric_port_declared_for_another_protocol() {
    let s = scenario("num-proto").await;
    node(s.cp, "num-proto-1", &[]).await;
    s.apply(&deployment(
        "dns",
        1,
        "{app: dns}",
        "num-proto-1",
        "[{containerPort: 5353, protocol: UDP}, {containerPort: 8080}]",
        true,
    ))
    .await;
    s.apply("apiVersion: v1\nkind: Service\nmetadata: {name: dns}\nspec:\n  selector: {app: dns}\n  ports: [{port: 53, targetPort: 5353, protocol: TCP}]\n").await;
    s.wait_ready("app=dns", 1).await;
    s.wait_ready_endpoints("dns", 1).await;
    let out = s.check(&["dns"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        first_line(&out).ends_with("port 53/TCP: container app declares 5353/UDP, not 5353/TCP"),
        "{out}"
    );
}
