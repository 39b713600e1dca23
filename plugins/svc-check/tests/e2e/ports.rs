//! Service ports resolved on every backend: named ports by name and protocol, undeclared
//! numbers, headless Services whose targetPort differs.

use crate::cluster::{deployment, first_line, node, scenario, service};

#[tokio::test]
async fn a_named_port_no_pod_declares() {
    let s = scenario("named-port").await;
    node(s.cp, "named-port-1", &[]).await;
    s.apply(&deployment(
        "web",
        2,
        "{app: web}",
        "named-port-1",
        "[{name: http, containerPort: 8080}]",
        true,
    ))
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
    assert!(
        out.stdout
            .contains("First broken link: targetPort (named-port-not-found)"),
        "{out}"
    );
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
    assert!(
        out.stdout
            .contains("First broken link: targetPort (port-protocol-mismatch)"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("container app declares \"dns\" as 53/UDP, the Service port is TCP"),
        "{out}"
    );
}

#[tokio::test]
async fn an_undeclared_target_port_is_a_warning() {
    let s = scenario("undeclared").await;
    node(s.cp, "undeclared-1", &[]).await;
    s.apply(&deployment(
        "web",
        1,
        "{app: web}",
        "undeclared-1",
        "[{containerPort: 8080}]",
        true,
    ))
    .await;
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
