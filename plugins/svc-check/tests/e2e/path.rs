//! The path between client and pods: kube-proxy on the nodes, the cluster DNS, the client's DNS
//! settings.

use crate::cluster::{
    NO_PROXY_LABEL, deployment, exclusive_scenario, first_line, node, scenario, service,
    wait_ready_endpoints,
};

#[tokio::test]
async fn kube_proxy_missing_on_a_backend_node() {
    let s = scenario("no-proxy").await;
    node(s.cp, "no-proxy-1", &[(NO_PROXY_LABEL, "true")]).await;
    s.apply(&deployment(
        "web",
        1,
        "{app: web}",
        "no-proxy-1",
        "[{containerPort: 8080}]",
        true,
    ))
    .await;
    s.apply(&deployment(
        "client",
        1,
        "{app: client}",
        "no-proxy-1",
        "[]",
        false,
    ))
    .await;
    s.apply(&service("web", "{app: web}", "8080")).await;
    let clients = s.wait_ready("app=client", 1).await;
    s.wait_ready_endpoints("web", 1).await;
    let out = s.check(&["web"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        first_line(&out)
            .ends_with("kube-proxy is not running ready on 1 node hosting backends: no-proxy-1"),
        "{out}"
    );
    assert!(
        out.stdout.contains("node no-proxy-1: no kube-proxy pod"),
        "{out}"
    );
    let client = clients[0].metadata.name.clone().unwrap_or_default();
    let out = s.check(&["web", "--from", &client]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.stdout
            .contains("First broken link: service proxy (kube-proxy-not-ready)"),
        "{out}"
    );
}

#[tokio::test]
async fn a_client_with_dns_policy_default_cannot_resolve() {
    let s = scenario("dns-policy").await;
    node(s.cp, "dns-policy-1", &[]).await;
    s.apply(&deployment(
        "web",
        1,
        "{app: web}",
        "dns-policy-1",
        "[{containerPort: 8080}]",
        true,
    ))
    .await;
    s.apply(&service("web", "{app: web}", "8080")).await;
    s.apply("apiVersion: v1\nkind: Pod\nmetadata: {name: client}\nspec:\n  dnsPolicy: Default\n  nodeSelector: {svc-check-e2e/node: dns-policy-1}\n  containers: [{name: sh, image: registry.example/busybox:1.36}]\n").await;
    s.ns.wait_pod_condition("client", "Ready", "True").await;
    s.wait_ready_endpoints("web", 1).await;
    let out = s.check(&["web", "--from", "client"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        first_line(&out).contains(&format!(
            "the client {}/client uses dnsPolicy Default",
            s.name()
        )),
        "{out}"
    );
}

#[tokio::test]
async fn cluster_dns_without_ready_endpoints() {
    let s = exclusive_scenario("dns-down").await;
    node(s.cp, "dns-down-1", &[]).await;
    s.apply(&deployment(
        "web",
        1,
        "{app: web}",
        "dns-down-1",
        "[{containerPort: 8080}]",
        true,
    ))
    .await;
    s.apply(&service("web", "{app: web}", "8080")).await;
    s.wait_ready_endpoints("web", 1).await;
    let scaled =
        s.cp.kubectl(&[
            "scale",
            "deployment/coredns",
            "-n",
            "kube-system",
            "--replicas",
            "0",
        ])
        .await;
    assert!(scaled.success(), "{scaled}");
    wait_ready_endpoints(s.cp, "kube-system", "kube-dns", 0).await;
    let out = s.check(&["web"]).await;
    let restored =
        s.cp.kubectl(&[
            "scale",
            "deployment/coredns",
            "-n",
            "kube-system",
            "--replicas",
            "1",
        ])
        .await;
    assert!(restored.success(), "{restored}");
    wait_ready_endpoints(s.cp, "kube-system", "kube-dns", 1).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        first_line(&out).ends_with(&format!(
            "the cluster DNS (kube-system/kube-dns) has no ready endpoint, so web.{}.svc does not resolve",
            s.name()
        )),
        "{out}"
    );
}
