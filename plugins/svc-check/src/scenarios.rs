//! One broken cluster per check, examined end to end on fixtures: the verdict and the culprit.

use kube_runbook::report::Severity;
use serde_json::json;

use crate::testing::{Fixture, codes, facts, find, make_unready, pod, remove, service};

fn verdict(findings: &[kube_runbook::report::Finding]) -> &kube_runbook::report::Finding {
    findings.first().unwrap_or_else(|| panic!("no findings"))
}

#[test]
fn a_healthy_service_is_reported_healthy() {
    let findings = Fixture::healthy_web().check_web(None);
    let first = verdict(&findings);
    assert_eq!(first.code, "service-reachable", "{:?}", codes(&findings));
    assert_eq!(first.title, "traffic reaches 2 ready backends");
    assert!(
        findings.iter().all(|f| f.severity == Severity::Info),
        "{:?}",
        codes(&findings)
    );
    assert!(
        first.explanation.contains("kube-proxy ✓"),
        "{}",
        first.explanation
    );
    assert!(
        Fixture::healthy_web()
            .run(None, Some("shop"), None)
            .is_empty(),
        "list mode only reports problems"
    );
}

#[test]
fn selector_near_miss_names_the_differing_label() {
    let mut f = Fixture::healthy_web();
    f.edit_service("web", |s| {
        s["spec"]["selector"] = json!({"app": "web", "tier": "frontend"})
    });
    f.edit_pod("web-1", |p| {
        p["metadata"]["labels"] = json!({"app": "web", "tier": "Frontend"})
    });
    f.edit_pod("web-2", |p| p["metadata"]["labels"] = json!({"app": "web"}));
    f.edit_slice("web-abc", |s| s["endpoints"] = json!([]));
    let findings = f.check_web(None);
    let first = verdict(&findings);
    assert_eq!(first.code, "service-unreachable");
    assert_eq!(first.details["culprit"], "selector-matches-no-pods");
    let culprit = find(&findings, "selector-matches-no-pods");
    let evidence = facts(culprit);
    assert!(evidence.contains("pod web-1 almost matches: it has tier=Frontend where the selector wants tier=frontend (differs only in case)"), "{evidence}");
    assert!(
        evidence.contains("pod web-2 almost matches: it has no label tier"),
        "{evidence}"
    );
    assert!(
        culprit
            .explanation
            .contains("hang until the client times out")
    );
    let commands: Vec<&str> = culprit
        .remediation
        .iter()
        .filter_map(|r| r.command.as_deref())
        .collect();
    assert!(
        commands
            .iter()
            .any(|c| c.contains(r#"{"spec":{"selector":{"tier":"Frontend"}}}"#)),
        "{commands:?}"
    );
}

#[test]
fn a_single_key_selector_finds_pods_with_a_close_value() {
    let mut f = Fixture::healthy_web();
    for name in ["web-1", "web-2"] {
        f.edit_pod(name, |p| p["metadata"]["labels"] = json!({"app": "web-v2"}));
    }
    f.pod(pod(
        "shop",
        "db-1",
        json!({"app": "postgres"}),
        "10.0.0.7",
        "n1",
    ));
    f.edit_slice("web-abc", |s| s["endpoints"] = json!([]));
    let findings = f.check_web(None);
    let evidence = facts(find(&findings, "selector-matches-no-pods"));
    assert!(
        evidence.contains(
            "pod web-1 almost matches: it has app=web-v2 where the selector wants app=web"
        ),
        "{evidence}"
    );
    assert!(!evidence.contains("db-1"), "{evidence}");
}

#[test]
fn pods_matching_in_another_namespace_are_pointed_out() {
    let mut f = Fixture::healthy_web();
    f.edit_pod("web-1", |p| p["metadata"]["namespace"] = json!("shop-v2"));
    f.edit_pod("web-2", |p| p["metadata"]["namespace"] = json!("shop-v2"));
    f.edit_slice("web-abc", |s| s["endpoints"] = json!([]));
    let findings = f.check_web(None);
    let culprit = find(&findings, "selector-matches-no-pods");
    assert!(
        culprit.title.contains("namespace shop has no pods at all"),
        "{}",
        culprit.title
    );
    assert!(
        culprit.explanation.contains("run in namespace shop-v2"),
        "{}",
        culprit.explanation
    );
}

#[test]
fn only_finished_pods_are_the_wrong_phase() {
    let mut f = Fixture::healthy_web();
    for name in ["web-1", "web-2"] {
        f.edit_pod(name, |p| p["status"]["phase"] = json!("Succeeded"));
    }
    f.edit_slice("web-abc", |s| s["endpoints"] = json!([]));
    let findings = f.check_web(None);
    assert_eq!(verdict(&findings).details["culprit"], "pods-not-running");
    assert!(
        find(&findings, "pods-not-running")
            .explanation
            .contains("Job")
    );
}

#[test]
fn a_missing_named_port_leaves_pods_out() {
    let mut f = Fixture::healthy_web();
    f.edit_service("web", |s| {
        s["spec"]["ports"] = json!([{"port": 80, "targetPort": "web"}])
    });
    f.edit_slice("web-abc", |s| s["ports"] = json!([]));
    let findings = f.check_web(None);
    assert_eq!(
        verdict(&findings).details["culprit"],
        "named-port-not-found"
    );
    assert_eq!(verdict(&findings).details["brokenLink"], "targetPort");
    let culprit = find(&findings, "named-port-not-found");
    assert!(
        facts(culprit).contains("declares http=8080/TCP"),
        "{}",
        facts(culprit)
    );
}

#[test]
fn a_named_port_with_the_wrong_protocol_is_a_protocol_mismatch() {
    let mut f = Fixture::healthy_web();
    f.edit_service("web", |s| {
        s["spec"]["ports"] = json!([{"port": 80, "targetPort": "http", "protocol": "UDP"}])
    });
    f.edit_slice("web-abc", |s| s["ports"] = json!([]));
    let findings = f.check_web(None);
    assert_eq!(
        verdict(&findings).details["culprit"],
        "port-protocol-mismatch"
    );
}

#[test]
fn an_undeclared_numeric_port_is_a_warning_not_an_error() {
    let mut f = Fixture::healthy_web();
    f.edit_service("web", |s| {
        s["spec"]["ports"] = json!([{"port": 80, "targetPort": 9090}])
    });
    f.edit_slice("web-abc", |s| s["ports"][0]["port"] = json!(9090));
    let findings = f.check_web(None);
    assert_eq!(verdict(&findings).code, "service-degraded");
    assert_eq!(
        find(&findings, "target-port-not-declared").severity,
        Severity::Warning
    );
}

#[test]
fn sidecar_ports_resolve() {
    let mut f = Fixture::healthy_web();
    f.edit_service("web", |s| {
        s["spec"]["ports"] = json!([{"port": 80, "targetPort": "proxy"}])
    });
    for name in ["web-1", "web-2"] {
        f.edit_pod(name, |p| {
            p["spec"]["initContainers"] = json!([{"name": "envoy", "restartPolicy": "Always",
                "ports": [{"name": "proxy", "containerPort": 15001}],
                "readinessProbe": {"tcpSocket": {"port": 15001}}}]);
        });
    }
    f.edit_slice("web-abc", |s| s["ports"][0]["port"] = json!(15001));
    let findings = f.check_web(None);
    assert_eq!(
        verdict(&findings).code,
        "service-reachable",
        "{:?}",
        codes(&findings)
    );
    assert!(
        verdict(&findings)
            .explanation
            .contains("targetPort \"proxy\" = 15001 (sidecar envoy)")
    );
}

#[test]
fn not_ready_backends_say_why() {
    let mut f = Fixture::healthy_web();
    f.edit_pod("web-1", make_unready).edit_pod("web-2", |p| {
        make_unready(p);
        p["status"]["containerStatuses"][0]["state"] =
            json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}});
    });
    f.edit_slice("web-abc", |s| {
        for e in s["endpoints"].as_array_mut().into_iter().flatten() {
            e["conditions"] = json!({"ready": false, "serving": false, "terminating": false});
        }
    });
    f.event(json!({
        "metadata": {"name": "e1", "namespace": "shop"},
        "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "shop", "uid": "uid-web-1"},
        "reason": "Unhealthy", "type": "Warning", "count": 12,
        "message": "Readiness probe failed: HTTP probe failed with statuscode: 503",
        "lastTimestamp": "2026-01-01T00:59:30Z"
    }));
    let findings = f.check_web(None);
    assert_eq!(verdict(&findings).details["culprit"], "no-ready-backends");
    let culprit = find(&findings, "no-ready-backends");
    let evidence = facts(culprit);
    assert!(evidence.contains("pod web-1: the readiness probe fails: Readiness probe failed: HTTP probe failed with statuscode: 503"), "{evidence}");
    assert!(
        evidence.contains("pod web-2: container app is waiting: CrashLoopBackOff"),
        "{evidence}"
    );
    assert!(
        culprit
            .remediation
            .iter()
            .any(|r| r.command.as_deref() == Some("kubectl why-pending web-2 -n shop"))
    );
}

#[test]
fn some_backends_not_ready_is_a_warning() {
    let mut f = Fixture::healthy_web();
    f.edit_pod("web-2", make_unready);
    f.edit_slice("web-abc", |s| {
        s["endpoints"][1]["conditions"] =
            json!({"ready": false, "serving": false, "terminating": false})
    });
    let findings = f.check_web(None);
    assert_eq!(verdict(&findings).code, "service-degraded");
    assert_eq!(
        find(&findings, "backends-not-ready").severity,
        Severity::Warning
    );
}

#[test]
fn pods_without_readiness_probe_are_flagged() {
    let mut f = Fixture::healthy_web();
    for name in ["web-1", "web-2"] {
        f.edit_pod(name, |p| {
            remove(&mut p["spec"]["containers"][0], "readinessProbe")
        });
    }
    let findings = f.check_web(None);
    assert_eq!(verdict(&findings).code, "service-degraded");
    let warning = find(&findings, "no-readiness-probe");
    assert!(
        warning
            .title
            .starts_with("2 backend pods have no readiness probe"),
        "{}",
        warning.title
    );
    assert!(
        warning.remediation[0]
            .yaml
            .as_deref()
            .unwrap_or_default()
            .contains("port: 8080")
    );
}

#[test]
fn publish_not_ready_addresses_sends_traffic_to_unready_pods() {
    let mut f = Fixture::healthy_web();
    f.edit_service("web", |s| {
        s["spec"]["publishNotReadyAddresses"] = json!(true)
    });
    f.edit_pod("web-2", make_unready);
    let findings = f.check_web(None);
    assert_eq!(verdict(&findings).code, "service-degraded");
    assert!(
        find(&findings, "publish-not-ready-addresses")
            .title
            .contains("1 pod that is not ready")
    );
}

#[test]
fn only_terminating_endpoints_are_a_warning() {
    let mut f = Fixture::healthy_web();
    for name in ["web-1", "web-2"] {
        f.edit_pod(name, |p| {
            p["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:59:00Z")
        });
    }
    f.edit_slice("web-abc", |s| {
        for e in s["endpoints"].as_array_mut().into_iter().flatten() {
            e["conditions"] = json!({"ready": false, "serving": true, "terminating": true});
        }
    });
    let findings = f.check_web(None);
    assert!(
        find(&findings, "only-terminating-endpoints")
            .title
            .contains("only 2 terminating pods still serve")
    );
}

#[test]
fn ready_pods_missing_from_the_slices_blame_the_controller() {
    let mut f = Fixture::healthy_web();
    f.edit_slice("web-abc", |s| s["metadata"]["labels"] = json!({}));
    let findings = f.check_web(None);
    assert_eq!(
        verdict(&findings).details["culprit"],
        "endpointslices-missing"
    );
    assert_eq!(
        find(&findings, "endpointslices-missing").title,
        "no EndpointSlice exists although 2 ready pods match the selector"
    );
    f.remove_pod("web-2");
    let findings = f.check_web(None);
    assert_eq!(
        find(&findings, "endpointslices-missing").title,
        "no EndpointSlice exists although 1 ready pod matches the selector"
    );
}

#[test]
fn manual_endpoints_missing_or_misnamed() {
    let mut f = Fixture::healthy_web();
    f.edit_service("web", |s| remove(&mut s["spec"], "selector"));
    f.edit_slice("web-abc", |s| s["metadata"]["labels"] = json!({}));
    let findings = f.check_web(None);
    assert_eq!(
        verdict(&findings).details["culprit"],
        "no-selector-no-endpoints"
    );

    let mut f = Fixture::healthy_web();
    f.edit_service("web", |s| {
        remove(&mut s["spec"], "selector");
        s["spec"]["ports"] = json!([{"name": "http", "port": 80}]);
    });
    let findings = f.check_web(None);
    assert_eq!(
        verdict(&findings).details["culprit"],
        "manual-endpoints-port-mismatch"
    );
    let mut f = Fixture::healthy_web();
    f.edit_service("web", |s| remove(&mut s["spec"], "selector"));
    assert_eq!(verdict(&f.check_web(None)).code, "service-reachable");
}

#[test]
fn headless_and_external_name_services() {
    let mut f = Fixture::healthy_web();
    f.edit_service("web", |s| s["spec"]["clusterIP"] = json!("None"));
    let findings = f.check_web(None);
    let first = verdict(&findings);
    assert!(
        first
            .title
            .starts_with("DNS answers 2 ready pod IPs (headless"),
        "{}",
        first.title
    );
    assert_eq!(
        find(&findings, "headless-target-port-ignored").severity,
        Severity::Warning
    );
    assert!(
        find(&findings, "headless-service")
            .explanation
            .contains("no virtual IP")
    );

    let mut f = Fixture::healthy_web();
    f.service(service(
        "shop",
        "db",
        json!({"type": "ExternalName", "externalName": "db.example.com"}),
    ));
    let findings = f.run(Some("db"), Some("shop"), None);
    assert_eq!(
        verdict(&findings).title,
        "an alias: DNS answers a CNAME to db.example.com; nothing to balance"
    );
    f.edit_service("db", |s| s["spec"]["externalName"] = json!("10.1.2.3"));
    let findings = f.run(Some("db"), Some("shop"), None);
    assert_eq!(verdict(&findings).details["culprit"], "external-name-is-ip");
}

#[test]
fn a_pending_load_balancer_without_any_controller() {
    let mut f = Fixture::healthy_web();
    f.edit_service("web", |s| {
        s["spec"]["type"] = json!("LoadBalancer");
        s["spec"]["ports"][0]["nodePort"] = json!(30080);
    });
    let findings = f.check_web(None);
    let first = verdict(&findings);
    assert!(
        first
            .title
            .starts_with("traffic from outside the cluster cannot reach a ready backend"),
        "{}",
        first.title
    );
    let culprit = find(&findings, "load-balancer-pending");
    assert_eq!(
        culprit.title,
        "EXTERNAL-IP is pending: no load-balancer controller exists in the cluster"
    );
    assert!(
        first
            .explanation
            .contains("Clients inside the cluster still reach")
    );

    f.deployment(json!({
        "metadata": {"name": "cloud-controller-manager", "namespace": "kube-system"},
        "status": {"replicas": 3, "readyReplicas": 0}
    }));
    let findings = f.check_web(None);
    assert!(
        find(&findings, "load-balancer-pending")
            .title
            .contains("has no ready pod")
    );
}

#[test]
fn a_load_balancer_class_no_controller_serves() {
    let mut f = Fixture::healthy_web();
    f.edit_service("web", |s| {
        s["spec"]["type"] = json!("LoadBalancer");
        s["spec"]["loadBalancerClass"] = json!("example.com/internal");
    });
    let findings = f.check_web(None);
    let pending = find(&findings, "load-balancer-pending");
    assert_eq!(
        pending.title,
        "EXTERNAL-IP is pending: no controller for loadBalancerClass example.com/internal appears to be installed"
    );
    assert!(
        pending
            .explanation
            .contains("the default controller ignores the Service")
    );
}

#[test]
fn two_load_balancers_on_one_address_and_port() {
    let mut f = Fixture::healthy_web();
    let lb = |s: &mut serde_json::Value| {
        s["spec"]["type"] = json!("LoadBalancer");
        s["status"] = json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}});
    };
    f.edit_service("web", lb);
    f.service(service(
        "shop",
        "api",
        json!({"selector": {"app": "api"}, "ports": [{"port": 80}]}),
    ));
    f.edit_service("api", lb);
    let findings = f.check_web(None);
    let conflict = find(&findings, "load-balancer-port-conflict");
    assert_eq!(
        conflict.title,
        "shares address 203.0.113.7 and port 80/TCP with Service shop/api"
    );
}

fn local_load_balancer(f: &mut Fixture) {
    f.edit_service("web", |s| {
        s["spec"]["type"] = json!("LoadBalancer");
        s["spec"]["externalTrafficPolicy"] = json!("Local");
        s["status"] = json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.8"}]}});
    });
}

#[test]
fn external_traffic_local_only_uses_nodes_with_ready_backends() {
    let mut f = Fixture::healthy_web();
    local_load_balancer(&mut f);
    f.node("n3", json!({}));
    let findings = f.check_web(None);
    let info = find(&findings, "external-traffic-local");
    assert_eq!(info.severity, Severity::Info);
    assert!(info.title.contains("only 2 of 3 nodes"), "{}", info.title);

    let mut f = Fixture::healthy_web();
    local_load_balancer(&mut f);
    f.node(
        "cp",
        json!({"node.kubernetes.io/exclude-from-external-load-balancers": ""}),
    );
    f.pod(pod(
        "kube-system",
        "kube-proxy-c",
        json!({"k8s-app": "kube-proxy"}),
        "192.168.0.3",
        "cp",
    ));
    f.edit_slice("web-abc", |s| {
        s["endpoints"][0]["nodeName"] = json!("cp");
        s["endpoints"][1]["nodeName"] = json!("cp");
    });
    let findings = f.check_web(None);
    assert_eq!(
        verdict(&findings).details["culprit"],
        "external-traffic-local-no-endpoints"
    );
}

#[test]
fn internal_traffic_local_drops_clients_on_other_nodes() {
    let mut f = Fixture::healthy_web();
    f.edit_service("web", |s| {
        s["spec"]["internalTrafficPolicy"] = json!("Local")
    });
    f.edit_slice("web-abc", |s| {
        s["endpoints"] = json!([s["endpoints"][0].clone()])
    });
    f.pod(pod(
        "shop",
        "client",
        json!({"app": "client"}),
        "10.0.0.9",
        "n2",
    ));
    let findings = f.check_web(Some("client"));
    assert_eq!(
        verdict(&findings).details["culprit"],
        "internal-traffic-local"
    );
    assert_eq!(
        find(&f.check_web(None), "internal-traffic-local").severity,
        Severity::Warning
    );
}

#[test]
fn session_affinity_is_explained() {
    let mut f = Fixture::healthy_web();
    f.edit_service("web", |s| s["spec"]["sessionAffinity"] = json!("ClientIP"));
    let findings = f.check_web(None);
    assert_eq!(
        find(&findings, "session-affinity").title,
        "sessionAffinity ClientIP pins each client IP to one pod for 10800s"
    );
}

/// Marks a kube-proxy pod not ready since half an hour before the fixture is observed.
fn stop_proxy(f: &mut Fixture, name: &str) {
    f.edit_pod(name, |p| {
        make_unready(p);
        p["status"]["conditions"][0]["lastTransitionTime"] = json!("2026-01-01T00:30:00Z");
    });
}

#[test]
fn kube_proxy_missing_on_a_backend_node() {
    let mut f = Fixture::healthy_web();
    stop_proxy(&mut f, "kube-proxy-b");
    let findings = f.check_web(None);
    let warning = find(&findings, "kube-proxy-not-ready");
    assert_eq!(warning.severity, Severity::Warning);
    assert!(
        warning.title.ends_with("hosting backends: n2"),
        "{}",
        warning.title
    );
    assert!(facts(warning).contains("node n2: pod kube-proxy-b is not ready (since 30m ago)"));
    f.pod(pod(
        "shop",
        "client",
        json!({"app": "client"}),
        "10.0.0.9",
        "n2",
    ));
    let unchanged = f.check_web(Some("client"));
    assert_eq!(verdict(&unchanged).code, "service-degraded");
    let stale = find(&unchanged, "kube-proxy-not-ready");
    assert_eq!(stale.severity, Severity::Warning);
    assert!(
        stale
            .title
            .ends_with("where the client runs: changes since it stopped are not applied there"),
        "{}",
        stale.title
    );
    f.edit_slice(
        "web-abc",
        |s| {
            s["metadata"]["annotations"] =
                json!({"endpoints.kubernetes.io/last-change-trigger-time": "2026-01-01T00:40:00Z"})
        },
    );
    let changed = f.check_web(Some("client"));
    assert_eq!(verdict(&changed).details["culprit"], "kube-proxy-not-ready");
    assert!(
        facts(find(&changed, "kube-proxy-not-ready")).contains(
            "its endpoints changed 20m ago, after kube-proxy on the client's node stopped being ready 30m ago"
        ),
        "{}",
        facts(find(&changed, "kube-proxy-not-ready"))
    );
    f.remove_pod("kube-proxy-b");
    let gone = f.check_web(Some("client"));
    assert_eq!(
        verdict(&gone).code,
        "service-degraded",
        "a pod that went away leaves its rules, and when it went is unknown, even with a recent change"
    );
    let absent = find(&gone, "kube-proxy-not-ready");
    assert_eq!(absent.severity, Severity::Warning);
    assert_eq!(
        absent.title,
        "no kube-proxy pod runs on node n2, where the client runs: rules written before it went away keep working; changes since are not applied there"
    );
    assert!(
        facts(absent).contains("node n2: no kube-proxy pod runs there"),
        "{}",
        facts(absent)
    );
}

#[test]
fn a_replacement_proxy_is_recognised() {
    let mut f = Fixture::healthy_web();
    f.remove_daemon_set("kube-proxy")
        .remove_pod("kube-proxy-a")
        .remove_pod("kube-proxy-b");
    f.daemon_set(json!({"metadata": {"name": "cilium", "namespace": "kube-system"},
        "status": {"desiredNumberScheduled": 2, "numberReady": 2, "currentNumberScheduled": 2, "numberMisscheduled": 0}}));
    let findings = f.check_web(None);
    let first = verdict(&findings);
    assert_eq!(first.code, "service-reachable");
    assert!(
        first
            .explanation
            .contains("Cilium (kube-proxy replacement) ✓"),
        "{}",
        first.explanation
    );
}

#[test]
fn the_whole_kube_proxy_daemon_set_down() {
    let mut f = Fixture::healthy_web();
    f.remove_daemon_set("kube-proxy");
    f.daemon_set(json!({"metadata": {"name": "kube-proxy", "namespace": "kube-system"},
        "status": {"desiredNumberScheduled": 2, "numberReady": 0, "currentNumberScheduled": 2, "numberMisscheduled": 0}}));
    stop_proxy(&mut f, "kube-proxy-a");
    stop_proxy(&mut f, "kube-proxy-b");
    let unchanged = f.check_web(None);
    assert_eq!(verdict(&unchanged).code, "service-degraded");
    assert_eq!(
        find(&unchanged, "kube-proxy-down").title,
        "kube-proxy is down: 0 of 2 pods ready: Service changes since it stopped are not applied"
    );
    f.edit_service("web", |s| {
        s["metadata"]["creationTimestamp"] = json!("2026-01-01T00:45:00Z")
    });
    let created_since = f.check_web(None);
    assert_eq!(
        verdict(&created_since).details["culprit"],
        "kube-proxy-down"
    );
    assert_eq!(
        find(&created_since, "kube-proxy-down").title,
        "kube-proxy is down: 0 of 2 pods ready, and the Service was created after it stopped"
    );
}

#[test]
fn cluster_dns_without_ready_endpoint() {
    let mut f = Fixture::healthy_web();
    f.edit_pod("coredns-1", make_unready);
    f.edit_slice("kube-dns-1", |s| {
        s["endpoints"][0]["conditions"] = json!({"ready": false})
    });
    let findings = f.check_web(None);
    assert_eq!(verdict(&findings).details["culprit"], "cluster-dns-down");
    assert_eq!(verdict(&findings).details["brokenLink"], "dns");
}

#[test]
fn client_dns_policy_default_cannot_resolve() {
    let mut f = Fixture::healthy_web();
    f.client();
    f.edit_pod("client", |p| p["spec"]["dnsPolicy"] = json!("Default"));
    let findings = f.check_web(Some("client"));
    assert_eq!(verdict(&findings).details["culprit"], "client-dns-policy");
}

#[test]
fn a_deny_all_policy_drops_traffic_and_is_named() {
    let mut f = Fixture::healthy_web();
    f.policy(
        json!({"metadata": {"name": "deny-all", "namespace": "shop"}, "spec": {"podSelector": {}}}),
    );
    let findings = f.check_web(None);
    assert_eq!(
        verdict(&findings).details["culprit"],
        "network-policy-blocks"
    );
    let culprit = find(&findings, "network-policy-blocks");
    assert_eq!(
        culprit.title,
        "NetworkPolicy \"deny-all\" drops traffic from any source to port 8080/TCP of its pods"
    );
    assert!(
        facts(culprit).contains("no NetworkPolicy enforcer"),
        "{}",
        facts(culprit)
    );
}

#[test]
fn a_policy_isolating_some_backends_is_a_warning() {
    let mut f = Fixture::healthy_web();
    f.edit_pod("web-2", |p| {
        p["metadata"]["labels"]["version"] = json!("v2")
    });
    f.policy(json!({"metadata": {"name": "lock-v2", "namespace": "shop"},
                    "spec": {"podSelector": {"matchLabels": {"version": "v2"}}}}));
    let findings = f.check_web(None);
    assert_eq!(verdict(&findings).code, "service-degraded");
    assert_eq!(
        find(&findings, "network-policy-blocks-some").title,
        "NetworkPolicy \"lock-v2\" drops traffic from any source to 1 of 2 backends on 8080/TCP"
    );
}

#[test]
fn from_a_pod_policies_are_evaluated_for_its_labels_and_namespace() {
    let mut f = Fixture::healthy_web();
    f.namespace("front", json!({"team": "front"}));
    f.pod(pod("front", "ui", json!({"app": "ui"}), "10.0.1.1", "n1"));
    f.pod(pod(
        "front",
        "batch",
        json!({"app": "batch"}),
        "10.0.1.2",
        "n1",
    ));
    f.policy(json!({"metadata": {"name": "allow-ui", "namespace": "shop"}, "spec": {
        "podSelector": {"matchLabels": {"app": "web"}},
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "front"}}, "podSelector": {"matchLabels": {"app": "ui"}}}],
                     "ports": [{"port": "http"}]}]
    }}));
    let allowed = f.check_web(Some("front/ui"));
    assert_eq!(
        verdict(&allowed).code,
        "service-reachable",
        "{:?}",
        codes(&allowed)
    );
    assert_eq!(
        verdict(&allowed).title,
        "traffic from front/ui reaches 2 ready backends"
    );
    let dropped = f.check_web(Some("front/batch"));
    assert_eq!(
        verdict(&dropped).details["culprit"],
        "network-policy-blocks"
    );
    assert!(facts(find(&dropped, "network-policy-blocks")).contains("the client fails app=ui"));
    let anyone = f.check_web(None);
    assert!(
        find(&anyone, "network-policy-restricts")
            .title
            .contains("admits only some sources")
    );
}

#[test]
fn client_egress_policies_can_block_dns_or_the_backends() {
    let to_web = json!({"to": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": 8080}]});
    let dns = json!({"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]});
    let findings = Fixture::client_with_egress(json!([to_web])).check_web(Some("client"));
    assert_eq!(
        verdict(&findings).details["culprit"],
        "egress-policy-blocks-dns"
    );
    assert_eq!(verdict(&findings).details["brokenLink"], "dns");
    let findings = Fixture::client_with_egress(json!([dns])).check_web(Some("client"));
    assert_eq!(
        verdict(&findings).details["culprit"],
        "egress-policy-blocks"
    );
    assert_eq!(verdict(&findings).details["brokenLink"], "client");
    let findings = Fixture::client_with_egress(json!([to_web, dns])).check_web(Some("client"));
    assert_eq!(
        verdict(&findings).code,
        "service-reachable",
        "{:?}",
        codes(&findings)
    );
}

#[test]
fn a_client_that_is_not_running() {
    let mut f = Fixture::healthy_web();
    f.client();
    f.edit_pod("client", |p| {
        p["status"]["phase"] = json!("Pending");
        remove(&mut p["status"], "podIP");
        p["status"]["podIPs"] = json!([]);
    });
    let findings = f.check_web(Some("client"));
    assert_eq!(
        verdict(&findings).details["culprit"],
        "client-pod-not-running"
    );
}

#[test]
fn list_mode_reports_only_services_with_problems() {
    let mut f = Fixture::healthy_web();
    f.service(service(
        "shop",
        "orphan",
        json!({"selector": {"app": "nothing"}, "ports": [{"port": 80}]}),
    ));
    f.pod(pod(
        "shop",
        "other",
        json!({"app": "something"}),
        "10.0.0.5",
        "n1",
    ));
    let findings = f.run(None, Some("shop"), None);
    assert_eq!(
        codes(&findings),
        vec!["service-unreachable", "selector-matches-no-pods"]
    );
    assert_eq!(findings[0].object.name, "orphan");
    let everywhere = f.run(None, None, None);
    assert_eq!(
        codes(&everywhere),
        vec!["service-unreachable", "selector-matches-no-pods"]
    );
}
