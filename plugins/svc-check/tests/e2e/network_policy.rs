//! NetworkPolicies evaluated rule by rule for the Service's target port: from anyone, and from
//! a given pod (its labels, namespace, egress policies and DNS).

use crate::cluster::{deployment, first_line, node, scenario, service};

const WEB_POD_PORTS: &str = "[{name: http, containerPort: 8080}]";

#[tokio::test]
async fn a_deny_all_policy_is_named() {
    let s = scenario("deny-all").await;
    node(s.cp, "deny-all-1", &[]).await;
    s.apply(&deployment(
        "web",
        2,
        "{app: web}",
        "deny-all-1",
        WEB_POD_PORTS,
        true,
    ))
    .await;
    s.apply(&service("web", "{app: web}", "http")).await;
    s.apply("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: default-deny}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n").await;
    s.wait_ready_endpoints("web", 2).await;
    let out = s.check(&["web"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        first_line(&out).ends_with("NetworkPolicy \"default-deny\" drops traffic from any source to port 8080/TCP of its pods"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("policy default-deny allows no ingress at all"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("First broken link: NetworkPolicy (network-policy-blocks)"),
        "{out}"
    );
}

#[tokio::test]
async fn from_a_pod_its_namespace_and_labels_decide() {
    let s = scenario("np-from").await;
    let front = s.cp.namespace("np-front").await;
    node(s.cp, "np-from-1", &[]).await;
    s.apply(&deployment(
        "web",
        1,
        "{app: web}",
        "np-from-1",
        WEB_POD_PORTS,
        true,
    ))
    .await;
    s.apply(&service("web", "{app: web}", "http")).await;
    front
        .apply_yaml(&deployment("ui", 1, "{app: ui}", "np-from-1", "[]", false))
        .await;
    front
        .apply_yaml(&deployment(
            "batch",
            1,
            "{app: batch}",
            "np-from-1",
            "[]",
            false,
        ))
        .await;
    s.cp.kubectl(&["label", "namespace", front.name(), "team=front"])
        .await;
    s.apply(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-ui}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {team: front}}
      podSelector: {matchLabels: {app: ui}}
    ports: [{port: http}]
"#,
    )
    .await;
    let ui = front.wait_pods_ready("app=ui", 1).await;
    let batch = front.wait_pods_ready("app=batch", 1).await;
    s.wait_ready_endpoints("web", 1).await;
    let name = |pods: &[k8s_openapi::api::core::v1::Pod]| {
        format!(
            "{}/{}",
            front.name(),
            pods[0].metadata.name.clone().unwrap_or_default()
        )
    };

    let allowed = s.check(&["web", "--from", &name(&ui)]).await;
    assert_eq!(allowed.code, Some(0), "{allowed}");
    assert!(
        first_line(&allowed).ends_with(&format!(
            "traffic from {} reaches 1 ready backend",
            name(&ui)
        )),
        "{allowed}"
    );

    let dropped = s.check(&["web", "--from", &name(&batch)]).await;
    assert_eq!(dropped.code, Some(1), "{dropped}");
    assert!(
        first_line(&dropped).ends_with(&format!(
            "NetworkPolicy \"allow-ui\" drops traffic from {} to port 8080/TCP of its pods",
            name(&batch)
        )),
        "{dropped}"
    );
    assert!(dropped.stdout.contains("policy allow-ui rule 1 admits pods app=ui in namespaces team=front: the client fails app=ui"), "{dropped}");

    let anyone = s.check(&["web"]).await;
    assert_eq!(anyone.code, Some(0), "{anyone}");
    assert!(
        anyone
            .stdout
            .contains("admits only some sources to 8080/TCP"),
        "{anyone}"
    );
}

#[tokio::test]
async fn an_egress_policy_that_forgets_dns() {
    let s = scenario("np-egress").await;
    node(s.cp, "np-egress-1", &[]).await;
    s.apply(&deployment(
        "web",
        1,
        "{app: web}",
        "np-egress-1",
        WEB_POD_PORTS,
        true,
    ))
    .await;
    s.apply(&deployment(
        "client",
        1,
        "{app: client}",
        "np-egress-1",
        "[]",
        false,
    ))
    .await;
    s.apply(&service("web", "{app: web}", "http")).await;
    s.apply(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: client-egress}
spec:
  podSelector: {matchLabels: {app: client}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 8080}]
"#,
    )
    .await;
    let clients = s.wait_ready("app=client", 1).await;
    s.wait_ready_endpoints("web", 1).await;
    let client = clients[0].metadata.name.clone().unwrap_or_default();
    let out = s.check(&["web", "--from", &client]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        first_line(&out).contains("drops its DNS queries (53/UDP)"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("First broken link: DNS name (egress-policy-blocks-dns)"),
        "{out}"
    );
}
