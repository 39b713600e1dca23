//! The selector: no pod matches (the pods that almost match, the label that differs), no pod at
//! all (requests hang), only pods that are not running (pending, or a Job's finished pods), a
//! Job's finished pods next to running ones.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::ListParams;
use kube_runbooks_harness::poll_until;

use crate::cluster::{Scenario, assert_culprit, deployment, first_line, node, scenario, service};

#[tokio::test]
async fn near_misses_name_the_label_that_differs() {
    let s = scenario("near-miss").await;
    node(s.cp, "near-miss-1", &[]).await;
    s.apply(&deployment(
        "web",
        2,
        "{app: web, tier: Frontend}",
        "near-miss-1",
        "[{containerPort: 8080}]",
        true,
    ))
    .await;
    s.apply(&service("web", "{app: web, tier: frontend}", "8080"))
        .await;
    s.wait_ready("app=web", 2).await;
    let out = s.check(&["web"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert_eq!(
        first_line(&out),
        format!(
            "✗ Service {}/web: traffic cannot reach a ready backend: the selector app=web,tier=frontend matches no pod",
            s.name()
        ),
        "{out}"
    );
    assert_culprit(&out, "endpoints", "selector-matches-no-pods");
    assert!(out.stdout.contains("(and 1 more pod of Deployment web) almost matches: it has tier=Frontend where the selector wants tier=frontend (differs only in case)"), "{out}");
    assert!(
        out.stdout
            .contains(r#"--type merge -p '{"spec":{"selector":{"tier":"Frontend"}}}'"#),
        "{out}"
    );
}

#[tokio::test]
async fn a_service_without_pods_says_requests_hang() {
    let s = scenario("no-pods").await;
    s.apply(&service("ghost", "{app: ghost}", "8080")).await;
    let out = s.check(&["ghost"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        first_line(&out).ends_with(&format!(
            "the selector app=ghost matches no pod: namespace {} has no pods at all",
            s.name()
        )),
        "{out}"
    );
    assert_culprit(&out, "endpoints", "selector-matches-no-pods");
    assert!(
        out.stdout.contains("they hang until the client times out"),
        "{out}"
    );
}

#[tokio::test]
async fn pods_that_never_run_are_handed_to_why_pending() {
    let s = scenario("pending").await;
    s.apply(&deployment(
        "web",
        1,
        "{app: web}",
        "no-such-node",
        "[{containerPort: 8080}]",
        true,
    ))
    .await;
    s.apply(&service("web", "{app: web}", "8080")).await;
    let pods = poll_until(Duration::from_secs(60), "a pending pod", || async {
        let list =
            s.ns.api::<Pod>()
                .list(&Default::default())
                .await
                .map_err(|e| e.to_string())?;
        if list.items.is_empty() {
            Err("none yet".to_string())
        } else {
            Ok(list.items)
        }
    })
    .await;
    let pod = pods[0].metadata.name.clone().unwrap_or_default();
    let out = s.check(&["web"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        first_line(&out).ends_with("the selector matches 1 pod, none of them running (1 Pending)"),
        "{out}"
    );
    assert_culprit(&out, "ready pod", "pods-not-running");
    assert!(
        out.stdout
            .contains(&format!("kubectl why-pending {pod} -n {}", s.name())),
        "{out}"
    );
}

#[tokio::test]
async fn a_missing_label_is_named_and_the_fix_drops_it() {
    let s = scenario("missing-key").await;
    node(s.cp, "missing-key-1", &[]).await;
    s.apply(&deployment(
        "api",
        1,
        "{app: api}",
        "missing-key-1",
        "[{containerPort: 8080}]",
        true,
    ))
    .await;
    s.apply(&service("api", "{app: api, env: prod}", "8080"))
        .await;
    s.wait_ready("app=api", 1).await;
    let out = s.check(&["api"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        first_line(&out).ends_with("the selector app=api,env=prod matches no pod"),
        "{out}"
    );
    assert_culprit(&out, "endpoints", "selector-matches-no-pods");
    assert!(
        out.stdout.contains(
            "(Deployment api) almost matches: it has no label env (the selector wants env=prod)"
        ),
        "{out}"
    );
    assert!(
        out.stdout
            .contains(r#"--type merge -p '{"spec":{"selector":{"env":null}}}'"#),
        "{out}"
    );
}

#[tokio::test]
async fn the_pods_of_a_finished_job_are_the_wrong_phase() {
    let s = scenario("job-pods").await;
    node(s.cp, "job-pods-1", &[]).await;
    s.apply(
        r#"
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  template:
    metadata:
      labels: {app: migrate}
    spec:
      restartPolicy: Never
      nodeSelector: {svc-check-e2e/node: job-pods-1}
      containers:
      - {name: migrate, image: registry.example/migrate:1.0, ports: [{containerPort: 8080}]}
"#,
    )
    .await;
    s.apply(&service("migrate", "{app: migrate}", "8080")).await;
    let pod = wait_succeeded(&s, "app=migrate").await;
    s.wait_endpoints("migrate", 0).await;
    let out = s.check(&["migrate"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        first_line(&out)
            .ends_with("the selector matches 1 pod, none of them running (1 Succeeded)"),
        "{out}"
    );
    assert_culprit(&out, "ready pod", "pods-not-running");
    assert!(
        out.stdout.contains(&format!(
            "pod {} is Succeeded",
            pod.metadata.name.unwrap_or_default()
        )),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("the selector probably picks the pods of a Job"),
        "{out}"
    );
}

#[tokio::test]
async fn finished_job_pods_next_to_running_ones_widen_the_selector() {
    let s = scenario("job-mixed").await;
    s.web_on("job-mixed-1", 1, "[{containerPort: 8080}]").await;
    s.apply(&service("web", "{app: web}", "8080")).await;
    s.apply(
        r#"
apiVersion: batch/v1
kind: Job
metadata: {name: backfill}
spec:
  template:
    metadata:
      labels: {app: web}
    spec:
      restartPolicy: Never
      nodeSelector: {svc-check-e2e/node: job-mixed-1}
      containers:
      - {name: backfill, image: registry.example/backfill:1.0}
"#,
    )
    .await;
    let job_pod = wait_succeeded(&s, "job-name=backfill").await;
    let job_pod = job_pod.metadata.name.unwrap_or_default();
    s.wait_endpoints("web", 1).await;
    s.wait_ready_endpoints("web", 1).await;
    let out = s.check(&["web"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        first_line(&out).ends_with(&format!(
            "with 1 warning: the selector also matches 1 finished pod: {job_pod}"
        )),
        "{out}"
    );
    assert!(
        out.stdout.contains(&format!(
            "pod {job_pod} is Succeeded (Job {}/backfill)",
            s.name()
        )),
        "{out}"
    );
}

/// The first pod matching `selector` once it has Succeeded.
async fn wait_succeeded(s: &Scenario, selector: &str) -> Pod {
    poll_until(Duration::from_secs(60), "a Succeeded job pod", || async {
        let pods =
            s.ns.api::<Pod>()
                .list(&ListParams::default().labels(selector))
                .await
                .map_err(|e| e.to_string())?;
        pods.items
            .into_iter()
            .find(|p| p.status.as_ref().and_then(|st| st.phase.as_deref()) == Some("Succeeded"))
            .ok_or_else(|| "no Succeeded pod yet".to_string())
    })
    .await
}
