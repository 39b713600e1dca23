//! The selector: no pod matches (the pods that almost match, the label that differs), no pod at
//! all (requests hang), only pods that are not running.

use crate::cluster::{deployment, first_line, node, scenario, service};

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
    assert!(
        out.stdout
            .contains("First broken link: endpoints (selector-matches-no-pods)"),
        "{out}"
    );
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
    let pods = kube_runbooks_harness::poll_until(
        std::time::Duration::from_secs(60),
        "a pending pod",
        || async {
            let list =
                s.ns.api::<k8s_openapi::api::core::v1::Pod>()
                    .list(&Default::default())
                    .await
                    .map_err(|e| e.to_string())?;
            if list.items.is_empty() {
                Err("none yet".to_string())
            } else {
                Ok(list.items)
            }
        },
    )
    .await;
    let pod = pods[0].metadata.name.clone().unwrap_or_default();
    let out = s.check(&["web"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        first_line(&out).ends_with("the selector matches 1 pod, none of them running (1 Pending)"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains(&format!("kubectl why-pending {pod} -n {}", s.name())),
        "{out}"
    );
}
