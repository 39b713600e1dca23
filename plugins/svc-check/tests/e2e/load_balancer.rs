//! LoadBalancer Services: EXTERNAL-IP pending (and why), two Services on one address and port,
//! externalTrafficPolicy Local.

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::DeleteParams;
use kube_runbooks_harness::poll_until;
use serde_json::json;

use crate::cluster::{
    WAIT, assert_culprit, deployment, exclusive_scenario, first_line, node, scenario,
};

fn load_balancer(name: &str, app: &str, extra: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}}}\nspec:\n  type: LoadBalancer\n  selector: {{app: {app}}}\n  ports: [{{port: 80, targetPort: 8080}}]\n{extra}"
    )
}

#[tokio::test]
async fn a_pending_address_with_no_controller_in_the_cluster() {
    let s = scenario("lb-pending").await;
    s.web_on("lb-pending-1", 1, "[{containerPort: 8080}]").await;
    s.apply(&load_balancer("web", "web", "")).await;
    s.wait_ready("app=web", 1).await;
    s.wait_ready_endpoints("web", 1).await;
    let out = s.check(&["web"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert_eq!(
        first_line(&out),
        format!(
            "✗ Service {}/web: traffic from outside the cluster cannot reach a ready backend: EXTERNAL-IP is pending: no load-balancer controller exists in the cluster",
            s.name()
        ),
        "{out}"
    );
    assert_culprit(&out, "Service port", "load-balancer-pending");
    assert!(
        out.stdout
            .contains("Clients inside the cluster still reach the Service through its cluster IP."),
        "{out}"
    );
    assert!(out.stdout.contains("EXTERNAL-IP <pending>"), "{out}");
}

#[tokio::test]
async fn a_controller_without_ready_pods_keeps_addresses_pending() {
    let s = exclusive_scenario("lb-stuck").await;
    s.web_on("lb-stuck-1", 1, "[{containerPort: 8080}]").await;
    s.apply(&load_balancer("web", "web", "")).await;
    s.apply(&deployment(
        "cloud-controller-manager",
        1,
        "{app: ccm}",
        "no-such-node",
        "[]",
        false,
    ))
    .await;
    s.wait_ready_endpoints("web", 1).await;
    let out = s.check(&["web"]).await;
    s.ns.api::<k8s_openapi::api::apps::v1::Deployment>()
        .delete("cloud-controller-manager", &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("cleanup: {e}"));
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        first_line(&out).ends_with(&format!(
            "EXTERNAL-IP is pending: the load-balancer controller has no ready pod (Deployment {}/cloud-controller-manager)",
            s.name()
        )),
        "{out}"
    );
    assert_culprit(&out, "Service port", "load-balancer-pending");
    assert!(out.stdout.contains("stuck in leader election"), "{out}");
}

#[tokio::test]
async fn metallb_is_blamed_only_for_the_services_it_serves() {
    let s = exclusive_scenario("lb-metallb").await;
    s.web_on("lb-metallb-1", 1, "[{containerPort: 8080}]").await;
    s.apply(&deployment(
        "metallb-controller",
        1,
        "{app: metallb}",
        "lb-metallb-1",
        "[]",
        false,
    ))
    .await;
    s.apply(&load_balancer("web", "web", "")).await;
    s.apply(&load_balancer(
        "internal",
        "web",
        "  loadBalancerClass: example.com/internal\n",
    ))
    .await;
    let deployments = s.ns.api::<Deployment>();
    poll_until(WAIT, "metallb-controller ready", || async {
        let status = deployments
            .get("metallb-controller")
            .await
            .map_err(|e| e.to_string())?
            .status;
        match status.as_ref().and_then(|s| s.ready_replicas) {
            Some(1) => Ok(()),
            _ => Err(format!("{status:?}")),
        }
    })
    .await;
    s.wait_ready_endpoints("web", 1).await;
    s.wait_ready_endpoints("internal", 1).await;
    let unclassed = s.check(&["web"]).await;
    let classed = s.check(&["internal"]).await;
    deployments
        .delete("metallb-controller", &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("cleanup: {e}"));
    assert_eq!(unclassed.code, Some(1), "{unclassed}");
    assert!(
        first_line(&unclassed).ends_with(
            "EXTERNAL-IP is pending: MetalLB has not assigned an address from any IPAddressPool"
        ),
        "{unclassed}"
    );
    assert_culprit(&unclassed, "Service port", "load-balancer-pending");
    assert!(
        unclassed
            .stdout
            .contains(&format!("kubectl get ipaddresspools -n {}", s.name())),
        "{unclassed}"
    );
    assert_eq!(classed.code, Some(1), "{classed}");
    assert!(
        first_line(&classed).ends_with(
            "EXTERNAL-IP is pending: no controller for loadBalancerClass example.com/internal appears to be installed"
        ),
        "{classed}"
    );
    assert!(
        classed.stdout.contains(&format!(
            "MetalLB (Deployment {}/metallb-controller) is ready, but serves only Services without a loadBalancerClass",
            s.name()
        )),
        "{classed}"
    );
    assert!(!classed.stdout.contains("ipaddresspools"), "{classed}");
}

#[tokio::test]
async fn two_services_on_one_address_and_port() {
    let s = scenario("lb-shared").await;
    s.web_on("lb-shared-1", 1, "[{containerPort: 8080}]").await;
    s.apply(&deployment(
        "api",
        1,
        "{app: api}",
        "lb-shared-1",
        "[{containerPort: 8080}]",
        true,
    ))
    .await;
    s.apply(&load_balancer("web", "web", "")).await;
    s.apply(&load_balancer("api", "api", "")).await;
    let address = json!({"loadBalancer": {"ingress": [{"ip": "198.51.100.20"}]}});
    s.patch_service_status("web", address.clone()).await;
    s.patch_service_status("api", address).await;
    s.wait_ready_endpoints("web", 1).await;
    s.wait_ready_endpoints("api", 1).await;
    let out = s.check(&["web"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        first_line(&out).ends_with(&format!(
            "shares address 198.51.100.20 and port 80/TCP with Service {}/api",
            s.name()
        )),
        "{out}"
    );
    assert_culprit(&out, "Service port", "load-balancer-port-conflict");
    assert!(out.stdout.contains("EXTERNAL-IP 198.51.100.20"), "{out}");
}

#[tokio::test]
async fn external_traffic_policy_local_only_uses_nodes_with_backends() {
    let s = scenario("etp-local").await;
    s.web_on("etp-local-1", 1, "[{containerPort: 8080}]").await;
    s.apply("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: NodePort\n  externalTrafficPolicy: Local\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 8080}]\n").await;
    s.wait_ready("app=web", 1).await;
    s.wait_ready_endpoints("web", 1).await;
    let out = s.check(&["web"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        first_line(&out).contains("with 1 warning: externalTrafficPolicy Local: only 1 of "),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("clients sending to the node port of any other node get no answer"),
        "{out}"
    );
}

#[tokio::test]
async fn a_pending_address_quotes_the_controller_events_and_the_class() {
    let s = scenario("lb-events").await;
    s.web_on("lb-events-1", 1, "[{containerPort: 8080}]").await;
    s.apply(&load_balancer("web", "web", "")).await;
    s.apply(&load_balancer(
        "internal",
        "web",
        "  loadBalancerClass: example.com/internal\n",
    ))
    .await;
    s.service_event(
        "web",
        "SyncLoadBalancerFailed",
        "Error syncing load balancer: failed to ensure load balancer: quota exceeded for resource addresses",
    )
    .await;
    s.wait_ready_endpoints("web", 1).await;
    s.wait_ready_endpoints("internal", 1).await;
    let out = s.check(&["web"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        first_line(&out).ends_with(
            "traffic from outside the cluster cannot reach a ready backend: EXTERNAL-IP is pending: the controller reports SyncLoadBalancerFailed"
        ),
        "{out}"
    );
    assert_culprit(&out, "Service port", "load-balancer-pending");
    assert!(
        out.stdout
            .contains("failed to ensure load balancer: quota exceeded for resource addresses"),
        "{out}"
    );
    let out = s.check(&["internal"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        first_line(&out).ends_with(
            "EXTERNAL-IP is pending: no controller for loadBalancerClass example.com/internal appears to be installed"
        ),
        "{out}"
    );
}

#[tokio::test]
async fn external_traffic_local_with_backends_only_on_excluded_nodes() {
    let s = scenario("etp-excluded").await;
    node(
        s.cp,
        "etp-excluded-1",
        &[(
            "node.kubernetes.io/exclude-from-external-load-balancers",
            "true",
        )],
    )
    .await;
    s.apply(&deployment(
        "web",
        1,
        "{app: web}",
        "etp-excluded-1",
        "[{containerPort: 8080}]",
        true,
    ))
    .await;
    s.apply(&load_balancer(
        "web",
        "web",
        "  externalTrafficPolicy: Local\n",
    ))
    .await;
    s.patch_service_status(
        "web",
        json!({"loadBalancer": {"ingress": [{"ip": "198.51.100.40"}]}}),
    )
    .await;
    s.wait_ready_endpoints("web", 1).await;
    let out = s.check(&["web"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert_eq!(
        first_line(&out),
        format!(
            "✗ Service {}/web: traffic from outside the cluster cannot reach a ready backend: externalTrafficPolicy Local: no node the load balancer uses runs a ready backend",
            s.name()
        ),
        "{out}"
    );
    assert_culprit(&out, "Service port", "external-traffic-local-no-endpoints");
    assert!(
        out.stdout
            .contains("Clients inside the cluster still reach the Service through its cluster IP."),
        "{out}"
    );
}
