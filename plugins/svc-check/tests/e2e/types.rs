//! Service types and traffic settings: ExternalName, NodePort, internalTrafficPolicy Local,
//! session affinity.

use crate::cluster::{assert_culprit, deployment, first_line, node, scenario};

#[tokio::test]
async fn external_name_shows_its_target_and_rejects_an_ip() {
    let s = scenario("external-name").await;
    s.apply("apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec: {type: ExternalName, externalName: db.example.com}\n").await;
    let out = s.check(&["db"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert_eq!(
        first_line(&out),
        format!(
            "i Service {}/db: an alias: DNS answers a CNAME to db.example.com; nothing to balance",
            s.name()
        ),
        "{out}"
    );
    s.apply("apiVersion: v1\nkind: Service\nmetadata: {name: legacy}\nspec: {type: ExternalName, externalName: 10.20.30.40}\n").await;
    let out = s.check(&["legacy"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        first_line(&out)
            .ends_with("externalName is the IP address 10.20.30.40, which DNS cannot alias"),
        "{out}"
    );
    assert_culprit(&out, "DNS name", "external-name-is-ip");
}

#[tokio::test]
async fn node_port_and_session_affinity_are_explained() {
    let s = scenario("node-port").await;
    s.web_on("node-port-1", 1, "[{containerPort: 8080}]").await;
    s.apply("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: NodePort\n  sessionAffinity: ClientIP\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 8080, nodePort: 31080}]\n").await;
    s.wait_ready("app=web", 1).await;
    s.wait_ready_endpoints("web", 1).await;
    let out = s.check(&["web"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        first_line(&out).ends_with("traffic reaches 1 ready backend"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("reachable from outside on every node's IP at node port 31080 (80/TCP)"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("sessionAffinity ClientIP pins each client IP to one pod for 10800s"),
        "{out}"
    );
}

#[tokio::test]
async fn internal_traffic_policy_local_drops_clients_elsewhere() {
    let s = scenario("itp-local").await;
    node(s.cp, "itp-local-1", &[]).await;
    node(s.cp, "itp-local-2", &[]).await;
    s.apply(&deployment(
        "agent",
        1,
        "{app: agent}",
        "itp-local-1",
        "[{containerPort: 8080}]",
        true,
    ))
    .await;
    let client = s.client_on("itp-local-2").await;
    s.apply("apiVersion: v1\nkind: Service\nmetadata: {name: agent}\nspec:\n  internalTrafficPolicy: Local\n  selector: {app: agent}\n  ports: [{port: 80, targetPort: 8080}]\n").await;
    s.wait_ready("app=agent", 1).await;
    s.wait_ready_endpoints("agent", 1).await;
    let out = s.check(&["agent", "--from", &client]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        first_line(&out).ends_with("internalTrafficPolicy Local: the client's node itp-local-2 runs no ready backend, so its traffic is dropped"),
        "{out}"
    );
    assert_culprit(&out, "Service port", "internal-traffic-local");
}
