//! The same answer as JSON and YAML, from a snapshot, and across all namespaces.

use serde_json::Value;

use crate::cluster::{deployment, first_line, node, scenario, service};

/// The verdict's chain as (link, status, step) triples.
fn chain(report: &Value) -> Vec<(&str, &str, &str)> {
    report["findings"][0]["details"]["chain"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| {
            Some((
                l["link"].as_str()?,
                l["status"].as_str()?,
                l["step"].as_str()?,
            ))
        })
        .collect()
}

#[tokio::test]
async fn json_carries_the_verdict_and_the_chain() {
    let s = scenario("json").await;
    s.web_on("json-1", 1, "[{containerPort: 8080}]").await;
    s.apply(&service("web", "{app: web}", "8080")).await;
    s.apply(&service("ghost", "{app: ghost}", "8080")).await;
    s.wait_ready_endpoints("web", 1).await;
    let (out, report) = s.check_json(&["web"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    let healthy = chain(&report);
    let links: Vec<&str> = healthy.iter().map(|(link, _, _)| *link).collect();
    assert_eq!(
        links,
        [
            "client",
            "dns",
            "servicePort",
            "proxy",
            "targetPort",
            "endpoints",
            "readyPod",
            "networkPolicy"
        ],
        "{report:#}"
    );
    assert!(
        healthy.iter().all(|(_, status, _)| *status == "ok"),
        "{report:#}"
    );
    assert!(
        healthy.contains(&("dns", "ok", &format!("DNS web.{}.svc", s.name()))),
        "{report:#}"
    );
    assert!(
        healthy.contains(&("readyPod", "ok", "1 ready")),
        "{report:#}"
    );
    let (out, report) = s.check_json(&["ghost"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert_eq!(report["plugin"], "svc-check");
    let verdict = &report["findings"][0];
    assert_eq!(verdict["code"], "service-unreachable");
    assert_eq!(verdict["details"]["reachable"], false);
    assert_eq!(verdict["details"]["brokenLink"], "endpoints");
    assert_eq!(verdict["details"]["culprit"], "selector-matches-no-pods");
    assert_eq!(report["findings"][1]["code"], "selector-matches-no-pods");
    let statuses: Vec<(&str, &str)> = chain(&report)
        .iter()
        .map(|(link, status, _)| (*link, *status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("client", "ok"),
            ("dns", "ok"),
            ("servicePort", "ok"),
            ("proxy", "ok"),
            ("targetPort", "ok"),
            ("endpoints", "broken"),
            ("readyPod", "notReached"),
            ("networkPolicy", "notReached")
        ],
        "{report:#}"
    );
    assert!(
        chain(&report).contains(&("endpoints", "broken", "0 endpoints")),
        "{report:#}"
    );
    let yaml = s.check(&["ghost", "-o", "yaml"]).await;
    assert!(
        yaml.stdout.contains("culprit: selector-matches-no-pods"),
        "{yaml}"
    );
}

#[tokio::test]
async fn a_snapshot_gives_the_same_answer() {
    let s = scenario("snapshot").await;
    node(s.cp, "snapshot-1", &[]).await;
    s.apply(&deployment(
        "ghost",
        1,
        "{app: ghosts}",
        "snapshot-1",
        "[{containerPort: 8080}]",
        true,
    ))
    .await;
    s.apply(&service("ghost", "{app: ghost}", "8080")).await;
    s.wait_ready("app=ghosts", 1).await;
    let dump =
        s.cp.kubectl(&[
            "get",
            "services,endpointslices,pods,networkpolicies,namespaces",
            "-n",
            s.name(),
            "-o",
            "json",
        ])
        .await;
    assert!(dump.success(), "{dump}");
    let file = s.cp.work_dir().join(format!("{}.json", s.name()));
    std::fs::write(&file, &dump.stdout).unwrap_or_else(|e| panic!("write snapshot: {e}"));
    let live = s.check(&["ghost"]).await;
    let saved = s
        .check(&["ghost", "--snapshot", &file.display().to_string()])
        .await;
    assert_eq!(saved.code, Some(1), "{saved}");
    assert_eq!(first_line(&saved), first_line(&live), "{saved}\n{live}");
    assert!(
        saved
            .stdout
            .contains("almost matches: it has app=ghosts where the selector wants app=ghost"),
        "{saved}"
    );
}

#[tokio::test]
async fn all_namespaces_lists_the_services_with_problems() {
    let s = scenario("all-ns").await;
    s.apply(&service("ghost", "{app: ghost}", "8080")).await;
    let out = s.check_raw(&["-A"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.stdout.contains(&format!(
            "✗ Service {}/ghost: traffic cannot reach a ready backend",
            s.name()
        )),
        "{out}"
    );
    assert!(
        !out.stdout.contains("kube-system/kube-dns"),
        "kube-dns is healthy: {out}"
    );
}

#[tokio::test]
async fn a_namespace_lists_only_its_services_with_problems() {
    let s = scenario("list-ns").await;
    s.web_on("list-ns-1", 1, "[{containerPort: 8080}]").await;
    s.apply(&deployment(
        "bare",
        1,
        "{app: bare}",
        "list-ns-1",
        "[{containerPort: 8080}]",
        false,
    ))
    .await;
    s.apply(&service("web", "{app: web}", "8080")).await;
    s.apply(&service("bare", "{app: bare}", "8080")).await;
    s.apply(&service("ghost", "{app: ghost}", "8080")).await;
    s.wait_ready_endpoints("web", 1).await;
    s.wait_ready_endpoints("bare", 1).await;
    let (out, report) = s.check_json(&[]).await;
    assert_eq!(out.code, Some(1), "{out}");
    let mut verdicts: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| {
            f["code"]
                .as_str()
                .is_some_and(|c| c.starts_with("service-"))
        })
        .filter_map(|f| Some((f["object"]["name"].as_str()?, f["code"].as_str()?)))
        .collect();
    verdicts.sort_unstable();
    assert_eq!(
        verdicts,
        vec![
            ("bare", "service-degraded"),
            ("ghost", "service-unreachable")
        ],
        "{out}"
    );
    let named: Vec<&str> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["object"]["name"].as_str())
        .collect();
    assert!(
        !named.contains(&"web"),
        "the healthy web is not listed: {out}"
    );
    let text = s.check(&[]).await;
    assert!(
        text.stdout.contains(&format!(
            "! Service {}/bare: traffic reaches 1 ready backend, with 1 warning: 1 backend pod has no readiness probe",
            s.name()
        )),
        "{text}"
    );
}
