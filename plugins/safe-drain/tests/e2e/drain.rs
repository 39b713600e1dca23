//! Carrying out the plan: cordon, evict, wait, the final step, and ending maintenance.

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::{Api, ResourceExt};

use crate::support::Env;

const ANNOTATION: &str = "kube-runbooks.io/safe-drain";

async fn annotation(env: &Env, node: &str) -> Option<String> {
    env.node(node)
        .await
        .and_then(|n| n.annotations().get(ANNOTATION).cloned())
}

#[tokio::test]
async fn maintenance_keeps_the_node_cordoned_until_uncordon_which_knows_the_cordon_was_ours() {
    let env = Env::new("sd-maint", "4").await;
    env.ns
        .apply_yaml(&env.deployment("web", 2, "100m", "", ""))
        .await;
    env.ns.apply_yaml(&env.stateful_set("db", 2)).await;
    env.wait_on_drain_node(4).await;
    env.ns.wait_pods_ready("app=db", 2).await;
    env.open_spare().await;
    let db0_before = env
        .ns
        .api::<Pod>()
        .get("db-0")
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .uid();

    let out = env.safe_drain(&[&env.drain, "--yes"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        out.stderr.contains(&format!("node/{} cordoned", env.drain)),
        "{out}"
    );
    let ns = env.ns.name();
    let gone = |pod: &str| {
        out.stderr
            .find(&format!("pod {ns}/{pod}: gone after"))
            .unwrap_or_else(|| panic!("{pod} not gone: {out}"))
    };
    let evicted = |pod: &str| {
        out.stderr
            .find(&format!("pod {ns}/{pod}: evicted"))
            .unwrap_or_else(|| panic!("{pod} not evicted: {out}"))
    };
    assert!(
        gone("db-1") < evicted("db-0"),
        "StatefulSet pods go one at a time, highest ordinal first: {out}"
    );
    assert!(
        out.stdout
            .contains(&format!("✓ node {} drained", env.drain)),
        "{out}"
    );
    assert!(
        out.stdout
            .contains(&format!("kubectl safe-drain uncordon {}", env.drain)),
        "{out}"
    );
    assert!(env.pods_on(&env.drain).await.is_empty());
    assert!(env.cordoned(&env.drain).await);
    let record = annotation(&env, &env.drain)
        .await
        .unwrap_or_else(|| panic!("no {ANNOTATION} annotation"));
    assert!(record.contains("\"cordonedBy\":\"safe-drain\""), "{record}");
    env.ns.wait_pods_ready("app=db", 2).await;
    let db0_after = env
        .ns
        .api::<Pod>()
        .get("db-0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(
        db0_after.uid(),
        db0_before,
        "db-0 was recreated with the same name"
    );
    assert_eq!(
        db0_after.spec.and_then(|s| s.node_name).as_deref(),
        Some(env.spare.as_str())
    );

    let out = env.safe_drain(&["uncordon", &env.drain]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        out.stdout
            .contains(&format!("node {} was cordoned by safe-drain at", env.drain)),
        "{out}"
    );
    assert!(!env.cordoned(&env.drain).await);
    assert_eq!(annotation(&env, &env.drain).await, None);
    let again = env.safe_drain(&["uncordon", &env.drain]).await;
    assert!(
        again.stdout.contains("is not cordoned: nothing to do"),
        "{again}"
    );
}

#[tokio::test]
async fn then_uncordon_returns_the_node_and_then_delete_removes_it() {
    let env = Env::new("sd-then", "4").await;
    env.ns
        .apply_yaml(&env.deployment("web", 2, "100m", "", ""))
        .await;
    env.wait_on_drain_node(2).await;
    env.open_spare().await;
    let out = env
        .safe_drain(&[&env.drain, "--yes", "--then", "uncordon"])
        .await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        out.stdout
            .contains("is schedulable again (--then uncordon)"),
        "{out}"
    );
    assert!(!env.cordoned(&env.drain).await);
    assert_eq!(annotation(&env, &env.drain).await, None);

    env.ns.wait_pods_ready("app=web", 2).await;
    let out = env
        .safe_drain(&[&env.spare, "--yes", "--then", "delete"])
        .await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        out.stdout
            .contains(&format!("Node {} was deleted", env.spare)),
        "{out}"
    );
    assert!(
        Api::<Node>::all(env.cp.client())
            .get_opt(&env.spare)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none()
    );
    env.ns.wait_pods_ready("app=web", 2).await;
}

#[tokio::test]
async fn a_server_dry_run_changes_nothing() {
    let env = Env::new("sd-dry", "4").await;
    env.ns
        .apply_yaml(&env.deployment("web", 2, "100m", "", ""))
        .await;
    env.wait_on_drain_node(2).await;
    env.open_spare().await;
    let before = env.pods_on(&env.drain).await;
    let out = env.safe_drain(&[&env.drain, "--dry-run=server"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(out.stderr.contains("eviction accepted (dry run)"), "{out}");
    assert!(out.stdout.contains("would be drained (dry run"), "{out}");
    assert!(!env.cordoned(&env.drain).await);
    assert_eq!(env.pods_on(&env.drain).await, before);
    assert_eq!(annotation(&env, &env.drain).await, None);
}

#[tokio::test]
async fn a_node_cordoned_by_someone_else_stays_so_and_uncordon_asks_first() {
    let env = Env::new("sd-other", "4").await;
    env.ns
        .apply_yaml(&env.deployment("web", 1, "100m", "", ""))
        .await;
    env.wait_on_drain_node(1).await;
    env.open_spare().await;
    let cordon = env.cp.kubectl(&["cordon", &env.drain]).await;
    assert!(cordon.success(), "{cordon}");

    let out = env.safe_drain(&[&env.drain, "--yes"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        out.stdout.contains("already cordoned, not by safe-drain"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("stays cordoned, as it was before this run"),
        "{out}"
    );
    assert!(env.cordoned(&env.drain).await);

    let refused = env.safe_drain(&["uncordon", &env.drain]).await;
    assert_eq!(refused.code, Some(2), "{refused}");
    assert!(
        refused
            .stdout
            .contains("was cordoned by someone else, not by safe-drain"),
        "{refused}"
    );
    assert!(env.cordoned(&env.drain).await);
    let out = env.safe_drain(&["uncordon", &env.drain, "--yes"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(!env.cordoned(&env.drain).await);
}

#[tokio::test]
async fn several_nodes_go_one_at_a_time_and_never_both_when_the_cluster_cannot_take_it() {
    let env = Env::new("sd-many", "2").await;
    env.ns
        .apply_yaml(&env.deployment("web", 2, "600m", "", ""))
        .await;
    env.wait_on_drain_node(2).await;
    env.open_spare().await;
    let selector = format!("sd-test={}", env.id);

    let out = env.safe_drain(&["-l", &selector, "--yes"]).await;
    assert_eq!(
        out.code,
        Some(1),
        "both nodes out at once leave no room: {out}"
    );
    assert!(
        out.stdout
            .contains(&format!("✗ node {} cannot be drained", env.drain)),
        "{out}"
    );
    assert!(
        out.stdout
            .contains(&format!("{}: node(s) were unschedulable", env.spare)),
        "the spare is cordoned first: {out}"
    );
    assert!(
        !env.cordoned(&env.drain).await && !env.cordoned(&env.spare).await,
        "nothing was changed: {out}"
    );

    let out = env
        .safe_drain(&["-l", &selector, "--yes", "--then", "uncordon"])
        .await;
    assert_eq!(
        out.code,
        Some(0),
        "one at a time, each returned before the next: {out}"
    );
    assert!(
        out.stdout
            .contains(&format!("✓ node {} drained", env.drain))
            && out
                .stdout
                .contains(&format!("✓ node {} drained", env.spare)),
        "{out}"
    );
    assert!(!env.cordoned(&env.drain).await && !env.cordoned(&env.spare).await);
    assert!(
        env.pods_on(&env.spare).await.is_empty(),
        "the last node drained is empty"
    );
}
