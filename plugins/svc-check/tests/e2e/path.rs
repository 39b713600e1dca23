//! The path between client and pods: the client itself, kube-proxy on the nodes (or its
//! replacement), the cluster DNS, the client's DNS settings.

use std::time::Duration;

use k8s_openapi::api::{apps::v1::DaemonSet, core::v1::Pod};
use kube::{
    Api,
    api::{DeleteParams, ListParams, Patch, PatchParams},
};
use kube_runbooks_harness::poll_until;
use serde_json::json;

use crate::cluster::{
    NO_PROXY_LABEL, Scenario, WAIT, assert_culprit, deployment, exclusive_scenario, first_line,
    node, restore_kube_proxy, scenario, service, wait_ready_endpoints,
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
    let client = s.client_on("no-proxy-1").await;
    s.apply(&service("web", "{app: web}", "8080")).await;
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
    let out = s.check(&["web", "--from", &client]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        first_line(&out).contains(
            "warning: no kube-proxy pod runs on node no-proxy-1, where the client runs: rules written before it went away keep working"
        ),
        "{out}"
    );
    assert!(!out.stdout.contains("First broken link"), "{out}");
}

#[tokio::test]
async fn a_client_with_dns_policy_default_cannot_resolve() {
    let s = scenario("dns-policy").await;
    s.web_on("dns-policy-1", 1, "[{containerPort: 8080}]").await;
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
    assert_culprit(&out, "DNS name", "client-dns-policy");
}

#[tokio::test]
async fn cluster_dns_without_ready_endpoints() {
    let s = exclusive_scenario("dns-down").await;
    s.web_on("dns-down-1", 1, "[{containerPort: 8080}]").await;
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
    assert_culprit(&out, "DNS name", "cluster-dns-down");
}

#[tokio::test]
async fn a_client_that_is_not_running_is_the_first_broken_link() {
    let s = scenario("client-pending").await;
    s.apply(&service("web", "{app: web}", "8080")).await;
    s.apply("apiVersion: v1\nkind: Pod\nmetadata: {name: client}\nspec:\n  nodeSelector: {svc-check-e2e/node: no-such-node}\n  containers: [{name: sh, image: registry.example/busybox:1.36}]\n").await;
    let out = s.check(&["web", "--from", "client"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert_eq!(
        first_line(&out),
        format!(
            "✗ Service {ns}/web: traffic from {ns}/client cannot reach a ready backend: the client pod {ns}/client is Pending without an IP",
            ns = s.name()
        ),
        "{out}"
    );
    assert_culprit(&out, "client", "client-pod-not-running");
    assert!(
        out.stdout
            .contains(&format!("kubectl why-pending client -n {}", s.name())),
        "{out}"
    );
}

/// Marks every kube-proxy pod not ready, as when they all crash, and waits until the DaemonSet
/// counts none ready.
async fn fail_every_kube_proxy(s: &Scenario) {
    let pods: Api<Pod> = Api::namespaced(s.cp.client(), "kube-system");
    let proxies = pods
        .list(&ListParams::default().labels("k8s-app=kube-proxy"))
        .await
        .unwrap_or_else(|e| panic!("list kube-proxy pods: {e}"));
    let now = k8s_openapi::jiff::Timestamp::now().to_string();
    let not_ready = json!({"status": {"conditions": [
        {"type": "Ready", "status": "False", "reason": "ContainersNotReady", "lastTransitionTime": now},
        {"type": "ContainersReady", "status": "False", "reason": "ContainersNotReady", "lastTransitionTime": now}
    ]}});
    for pod in &proxies.items {
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        pods.patch_status(name, &PatchParams::default(), &Patch::Merge(&not_ready))
            .await
            .unwrap_or_else(|e| panic!("cannot patch status of {name}: {e}"));
    }
    let sets: Api<DaemonSet> = Api::namespaced(s.cp.client(), "kube-system");
    poll_until(WAIT, "kube-proxy with no ready pod", || async {
        let status = sets
            .get("kube-proxy")
            .await
            .map_err(|e| e.to_string())?
            .status
            .unwrap_or_default();
        if status.number_ready == 0 {
            Ok(status.desired_number_scheduled)
        } else {
            Err(format!("{status:?}"))
        }
    })
    .await;
}

/// Deletes kube-proxy (the DaemonSet and its pods) and installs a Cilium DaemonSet instead.
async fn replace_kube_proxy(s: &Scenario) {
    let sets: Api<DaemonSet> = Api::namespaced(s.cp.client(), "kube-system");
    sets.delete("kube-proxy", &DeleteParams::foreground())
        .await
        .unwrap_or_else(|e| panic!("delete kube-proxy: {e}"));
    let pods: Api<Pod> = Api::namespaced(s.cp.client(), "kube-system");
    poll_until(WAIT, "kube-proxy gone", || async {
        let left = pods
            .list(&ListParams::default().labels("k8s-app=kube-proxy"))
            .await
            .map_err(|e| e.to_string())?
            .items
            .len();
        let set = sets
            .get_opt("kube-proxy")
            .await
            .map_err(|e| e.to_string())?;
        if left == 0 && set.is_none() {
            Ok(())
        } else {
            Err(format!(
                "{left} kube-proxy pods, DaemonSet present: {}",
                set.is_some()
            ))
        }
    })
    .await;
    kube_runbooks_harness::apply_yaml(&s.cp.client(), "kube-system", CILIUM_YAML).await;
}

const CILIUM_YAML: &str = r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: cilium, labels: {k8s-app: cilium}}
spec:
  selector: {matchLabels: {k8s-app: cilium}}
  template:
    metadata: {labels: {k8s-app: cilium}}
    spec:
      nodeSelector: {svc-check-e2e/role: cilium}
      containers: [{name: cilium-agent, image: quay.io/cilium/cilium:v1.18.0}]
"#;

#[tokio::test]
async fn kube_proxy_down_everywhere_then_replaced() {
    let s = exclusive_scenario("proxy-down").await;
    s.web_on("proxy-down-1", 1, "[{containerPort: 8080}]").await;
    s.apply(&service("web", "{app: web}", "8080")).await;
    s.wait_ready_endpoints("web", 1).await;
    fail_every_kube_proxy(&s).await;
    let down = s.check(&["web"]).await;
    // Creation times have one-second resolution: a Service made in the same second cannot be ordered.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    s.apply(&service("web-new", "{app: web}", "8080")).await;
    s.wait_ready_endpoints("web-new", 1).await;
    let created_since = s.check(&["web-new"]).await;
    replace_kube_proxy(&s).await;
    let replaced = s.check(&["web"]).await;
    let sets: Api<DaemonSet> = Api::namespaced(s.cp.client(), "kube-system");
    sets.delete("cilium", &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("delete cilium: {e}"));
    restore_kube_proxy(s.cp).await;

    assert_eq!(down.code, Some(0), "{down}");
    assert!(
        first_line(&down).contains("warning: kube-proxy is down: 0 of ")
            && first_line(&down).ends_with(": Service changes since it stopped are not applied"),
        "{down}"
    );
    assert_eq!(created_since.code, Some(1), "{created_since}");
    assert!(
        first_line(&created_since)
            .contains("traffic cannot reach a ready backend: kube-proxy is down: 0 of ")
            && first_line(&created_since).ends_with(" after it stopped"),
        "{created_since}"
    );
    assert_culprit(&created_since, "service proxy", "kube-proxy-down");
    assert_eq!(replaced.code, Some(0), "{replaced}");
    assert!(
        first_line(&replaced).ends_with("traffic reaches 1 ready backend"),
        "{replaced}"
    );
    assert!(
        replaced
            .stdout
            .contains("Cilium (kube-proxy replacement) ✓"),
        "{replaced}"
    );
}
