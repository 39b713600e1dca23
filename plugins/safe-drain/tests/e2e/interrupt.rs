//! Stopping mid-drain (Ctrl-C, --timeout) and the cluster changing under the drain (a pod
//! recreated with the same name): the node is restored and the state left is printed exactly.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::{ResourceExt, api::DeleteParams};
use kube_runbooks_harness::poll_until;

use crate::support::Env;

const HOLD: &str = "kube-runbooks.io/hold";

/// A web Deployment of 3 on the node to drain, one of whose pods a finalizer keeps Terminating.
async fn with_a_held_pod(prefix: &str) -> (Env, String) {
    let env = Env::new(prefix, "4").await;
    env.ns
        .apply_yaml(&env.deployment("web", 3, "100m", "", ""))
        .await;
    env.wait_on_drain_node(3).await;
    env.open_spare().await;
    let held = env.pods_on(&env.drain).await.remove(0);
    env.set_finalizer(&held, Some(HOLD)).await;
    (env, held)
}

#[tokio::test]
async fn ctrl_c_mid_drain_restores_the_node_and_a_second_run_finishes() {
    let (env, held) = with_a_held_pod("sd-sigint").await;
    let ns = env.ns.name().to_string();
    let mut running = env.spawn(&[&env.drain, "--yes"]);
    running
        .wait_for_line(&format!(
            "pod {ns}/{held}: evicted, waiting for it to be gone"
        ))
        .await;
    running.interrupt();
    let out = running.finish().await;
    assert_eq!(out.code, Some(130), "{out}");
    assert!(
        out.stdout.contains(&format!(
            "drain of node {} did not finish (interrupted (Ctrl-C))",
            env.drain
        )),
        "{out}"
    );
    assert!(
        out.stdout.contains(&format!(
            "remaining on the node:\n    {ns}/{held}: evicted, still terminating"
        )),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("schedulable again: this run's cordon was undone"),
        "{out}"
    );
    assert!(out.stdout.contains("Run the same command again"), "{out}");
    assert!(!env.cordoned(&env.drain).await, "the node is uncordoned");

    env.set_finalizer(&held, None).await;
    poll_until(Duration::from_secs(30), "the held pod to go", || async {
        let left = env.pods_on(&env.drain).await;
        if left.contains(&held) {
            Err(format!("{left:?}"))
        } else {
            Ok(())
        }
    })
    .await;
    let again = env.safe_drain(&[&env.drain, "--yes"]).await;
    assert_eq!(again.code, Some(0), "{again}");
    assert!(env.pods_on(&env.drain).await.is_empty());
}

#[tokio::test]
async fn the_timeout_stops_the_drain_and_restores_the_node() {
    let (env, held) = with_a_held_pod("sd-timeout").await;
    let out = env
        .safe_drain(&[&env.drain, "--yes", "--timeout", "6s"])
        .await;
    assert_eq!(out.code, Some(10), "{out}");
    assert!(
        out.stdout
            .contains("did not finish (timed out after 6s (--timeout))"),
        "{out}"
    );
    assert!(
        out.stdout.contains(&format!(
            "{}/{held}: evicted, still terminating",
            env.ns.name()
        )),
        "{out}"
    );
    assert!(!env.cordoned(&env.drain).await);
    env.set_finalizer(&held, None).await;
}

#[tokio::test]
async fn keep_cordoned_leaves_the_cordon_after_a_failure() {
    let (env, held) = with_a_held_pod("sd-keep").await;
    let out = env
        .safe_drain(&[&env.drain, "--yes", "--timeout", "5s", "--keep-cordoned"])
        .await;
    assert_eq!(out.code, Some(10), "{out}");
    assert!(
        out.stdout.contains("is left cordoned (--keep-cordoned)"),
        "{out}"
    );
    assert!(env.cordoned(&env.drain).await);
    env.set_finalizer(&held, None).await;

    let again = env.safe_drain(&[&env.drain, "--yes"]).await;
    assert_eq!(again.code, Some(0), "{again}");
    assert!(
        again
            .stdout
            .contains("already cordoned by safe-drain: this run continues the drain"),
        "{again}"
    );
    assert!(
        again.stdout.contains("stays cordoned for maintenance"),
        "{again}"
    );
    let out = env.safe_drain(&["uncordon", &env.drain]).await;
    assert!(
        out.stdout.contains("was cordoned by safe-drain at"),
        "{out}"
    );
}

#[tokio::test]
async fn a_pod_recreated_with_the_same_name_is_not_evicted_again() {
    let env = Env::new("sd-samename", "4").await;
    env.ns.apply_yaml(&env.stateful_set("db", 2)).await;
    env.wait_on_drain_node(2).await;
    env.ns.wait_pods_ready("app=db", 2).await;
    env.open_spare().await;
    env.set_finalizer("db-1", Some(HOLD)).await;
    let ns = env.ns.name().to_string();

    let mut running = env.spawn(&[&env.drain, "--yes"]);
    running
        .wait_for_line(&format!(
            "pod {ns}/db-1: evicted, waiting for it to be gone"
        ))
        .await;
    let pods = env.ns.api::<Pod>();
    let old = pods
        .get("db-0")
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .uid();
    pods.delete("db-0", &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let recreated = poll_until(
        Duration::from_secs(60),
        "db-0 recreated on the spare node",
        || async {
            match pods.get_opt("db-0").await {
                Ok(Some(pod))
                    if pod.uid() != old
                        && pod.spec.as_ref().and_then(|s| s.node_name.as_deref())
                            == Some(env.spare.as_str()) =>
                {
                    Ok(pod.uid())
                }
                other => Err(format!("{:?}", other.map(|p| p.map(|p| p.uid())))),
            }
        },
    )
    .await;
    env.set_finalizer("db-1", None).await;
    let out = running.finish().await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        out.stderr.contains(&format!(
            "pod {ns}/db-0: replaced by a new pod with the same name"
        )),
        "{out}"
    );
    let now = pods.get("db-0").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(now.uid(), recreated, "the new db-0 was left alone");
}
