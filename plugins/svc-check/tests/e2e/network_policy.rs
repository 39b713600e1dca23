//! NetworkPolicies evaluated rule by rule for the Service's target port: from anyone, and from
//! a given pod (its labels, namespace, egress policies and DNS).

use crate::cluster::{Scenario, assert_culprit, deployment, first_line, node, scenario, service};

const WEB_POD_PORTS: &str = "[{name: http, containerPort: 8080}]";

#[tokio::test]
async fn a_deny_all_policy_is_named() {
    let s = scenario("deny-all").await;
    s.web_on("deny-all-1", 2, WEB_POD_PORTS).await;
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
    assert_culprit(&out, "NetworkPolicy", "network-policy-blocks");
}

#[tokio::test]
async fn from_a_pod_its_namespace_and_labels_decide() {
    let s = scenario("np-from").await;
    let front = s.cp.namespace("np-front").await;
    s.web_on("np-from-1", 1, WEB_POD_PORTS).await;
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
    assert_culprit(&dropped, "NetworkPolicy", "network-policy-blocks");
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

/// Web behind Service `web` (port 80 -> "http" = 8080) and a client pod whose egress policy
/// `client-egress` has `rules` (YAML): the scenario and `--from` for the client.
async fn egress_scenario(prefix: &str, rules: &str) -> (Scenario, String) {
    let s = scenario(prefix).await;
    s.web_on(&format!("{prefix}-1"), 1, WEB_POD_PORTS).await;
    let client = s.client_on(&format!("{prefix}-1")).await;
    s.apply(&service("web", "{app: web}", "http")).await;
    s.apply(&format!(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: client-egress}}\nspec:\n  podSelector: {{matchLabels: {{app: client}}}}\n  policyTypes: [Egress]\n  egress:\n{rules}"
    ))
    .await;
    s.wait_ready_endpoints("web", 1).await;
    let from = format!("{}/{client}", s.name());
    (s, from)
}

#[tokio::test]
async fn an_egress_policy_that_forgets_dns() {
    let (s, client) = egress_scenario(
        "np-egress",
        "  - to: [{podSelector: {matchLabels: {app: web}}}]\n    ports: [{port: 8080}]\n",
    )
    .await;
    let out = s.check(&["web", "--from", &client]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        first_line(&out).contains("drops its DNS queries (53/UDP)"),
        "{out}"
    );
    assert_culprit(&out, "DNS name", "egress-policy-blocks-dns");
}

#[tokio::test]
async fn an_egress_policy_with_dns_over_udp_only() {
    let (s, client) = egress_scenario(
        "np-egress-udp",
        r#"  - to: [{namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]
    ports: [{port: 53, protocol: UDP}]
  - to: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 8080}]
"#,
    )
    .await;
    let out = s.check(&["web", "--from", &client]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        first_line(&out).ends_with(&format!(
            "egress NetworkPolicy \"client-egress\" of the client {client} admits DNS over 53/UDP but drops 53/TCP to the cluster DNS"
        )),
        "{out}"
    );
}

#[tokio::test]
async fn an_egress_policy_that_forgets_the_backends() {
    let (s, client) = egress_scenario(
        "np-egress-web",
        r#"  - to: [{namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]
    ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
  - to: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 80}]
"#,
    )
    .await;
    let out = s.check(&["web", "--from", &client]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        first_line(&out).ends_with(&format!(
            "egress NetworkPolicy \"client-egress\" of the client {client} drops its traffic to 1 of 1 backend on 8080/TCP"
        )),
        "{out}"
    );
    assert_culprit(&out, "client", "egress-policy-blocks");
    assert!(
        out.stdout
            .contains("it lists the Service port; policies see the pod's port 8080"),
        "{out}"
    );
}

#[tokio::test]
async fn a_policy_isolating_some_backends_is_a_warning() {
    let s = scenario("np-some").await;
    node(s.cp, "np-some-1", &[]).await;
    s.apply(&deployment(
        "web-v1",
        1,
        "{app: web, version: v1}",
        "np-some-1",
        WEB_POD_PORTS,
        true,
    ))
    .await;
    s.apply(&deployment(
        "web-v2",
        1,
        "{app: web, version: v2}",
        "np-some-1",
        WEB_POD_PORTS,
        true,
    ))
    .await;
    s.apply(&service("web", "{app: web}", "http")).await;
    s.apply("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: lock-v2}\nspec: {podSelector: {matchLabels: {version: v2}}, policyTypes: [Ingress]}\n").await;
    s.wait_ready_endpoints("web", 2).await;
    let out = s.check(&["web"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        first_line(&out).ends_with(
            "NetworkPolicy \"lock-v2\" drops traffic from any source to 1 of 2 backends on 8080/TCP"
        ),
        "{out}"
    );
}

#[tokio::test]
async fn a_host_network_client_is_admitted_only_by_its_node_ip() {
    let s = scenario("np-host").await;
    s.web_on("np-host-1", 1, WEB_POD_PORTS).await;
    s.apply(&service("web", "{app: web}", "http")).await;
    s.apply("apiVersion: v1\nkind: Pod\nmetadata: {name: agent, labels: {app: agent}}\nspec:\n  hostNetwork: true\n  dnsPolicy: ClusterFirstWithHostNet\n  nodeSelector: {svc-check-e2e/node: np-host-1}\n  containers: [{name: sh, image: registry.example/busybox:1.36}]\n").await;
    s.apply("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: allow-agent}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  ingress: [{from: [{podSelector: {matchLabels: {app: agent}}}]}]\n").await;
    let agent = s.wait_ready("app=agent", 1).await;
    let node_ip = agent[0]
        .status
        .as_ref()
        .and_then(|st| st.host_ip.clone())
        .unwrap_or_default();
    assert!(!node_ip.is_empty(), "{agent:?}");
    s.wait_ready_endpoints("web", 1).await;

    let dropped = s.check(&["web", "--from", "agent"]).await;
    assert_eq!(dropped.code, Some(0), "{dropped}");
    assert!(
        first_line(&dropped).ends_with(&format!(
            "NetworkPolicy \"allow-agent\" may drop traffic from the hostNetwork client {}/agent to port 8080/TCP of its pods: the outcome depends on the network plugin",
            s.name()
        )),
        "{dropped}"
    );
    assert!(!dropped.stdout.contains("First broken link"), "{dropped}");
    assert!(
        dropped.stdout.contains(&format!(
            "runs on the host network, so its traffic comes from its node's IP {node_ip}"
        )),
        "{dropped}"
    );
    assert!(
        dropped.stdout.contains(&format!("cidr: {node_ip}/32")),
        "{dropped}"
    );

    s.apply(&format!("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: allow-node}}\nspec:\n  podSelector: {{matchLabels: {{app: web}}}}\n  ingress: [{{from: [{{ipBlock: {{cidr: {node_ip}/32}}}}]}}]\n")).await;
    let admitted = s.check(&["web", "--from", "agent"]).await;
    assert_eq!(admitted.code, Some(0), "{admitted}");
    assert!(
        first_line(&admitted).ends_with(&format!(
            "traffic from {}/agent reaches 1 ready backend",
            s.name()
        )),
        "{admitted}"
    );
}
