//! PodDisruptionBudgets with the real disruption controller, side by side with the real
//! `kubectl drain --ignore-daemonsets --delete-emptydir-data`.

use std::time::Duration;

use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Patch, PatchParams};
use kube_runbooks_harness::poll_until;
use serde_json::json;

use crate::support::{Env, finding_codes, kubectl_evicted};

/// Waits until the disruption controller has counted `expected` pods for budget `name`.
async fn budget_counted(env: &Env, name: &str, expected: i32) {
    let pdbs = env.ns.api::<PodDisruptionBudget>();
    poll_until(
        Duration::from_secs(60),
        &format!("PDB {name} to count {expected} pods"),
        || async {
            let pdb = pdbs.get(name).await.map_err(|e| e.to_string())?;
            let status = pdb.status.clone().unwrap_or_default();
            let current = status.observed_generation == pdb.metadata.generation;
            if current
                && status.expected_pods == Some(expected)
                && status.current_healthy == Some(expected)
            {
                Ok(())
            } else {
                Err(format!("{status:?}"))
            }
        },
    )
    .await;
}

async fn kubectl_drain(env: &Env) -> kube_runbooks_harness::RunOutput {
    env.cp
        .kubectl(&[
            "drain",
            &env.drain,
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--timeout=20s",
        ])
        .await
}

#[tokio::test]
async fn a_budget_that_never_allows_is_named_before_cordoning_where_kubectl_drain_hangs() {
    let env = Env::new("sd-never", "4").await;
    env.ns
        .apply_yaml(&env.deployment("payments", 2, "100m", "", ""))
        .await;
    env.ns
        .apply_yaml(&Env::pdb("payments", "payments", "minAvailable: 2"))
        .await;
    env.wait_on_drain_node(2).await;
    env.open_spare().await;
    budget_counted(&env, "payments", 2).await;

    let out = env.safe_drain(&[&env.drain, "--yes"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stdout.contains(&format!("PodDisruptionBudget {}/payments: can never allow an eviction: minAvailable is 2 and it counts 2 pods", env.ns.name())), "{out}");
    assert!(out.stderr.contains("Nothing was changed"), "{out}");
    assert!(
        !env.cordoned(&env.drain).await,
        "safe-drain stopped before cordoning"
    );

    let kubectl = kubectl_drain(&env).await;
    assert_ne!(
        kubectl.code,
        Some(0),
        "kubectl drain cannot succeed either: {kubectl}"
    );
    let said = format!("{}{}", kubectl.stdout, kubectl.stderr);
    assert!(
        said.contains("Cannot evict pod as it would violate the pod's disruption budget"),
        "{kubectl}"
    );
    assert!(
        said.contains("global timeout reached: 20s"),
        "kubectl drain hung until its timeout: {kubectl}"
    );
    assert!(
        env.cordoned(&env.drain).await,
        "kubectl drain leaves the node cordoned"
    );
}

#[tokio::test]
async fn evicts_the_same_pods_as_kubectl_drain() {
    let env = Env::new("sd-same", "4").await;
    let pin = env.pinned();
    env.ns
        .apply_yaml(&env.deployment("web", 3, "100m", "", ""))
        .await;
    env.ns
        .apply_yaml(&env.deployment(
            "scratch",
            1,
            "100m",
            ", volumes: [{name: tmp, emptyDir: {}}]",
            "",
        ))
        .await;
    env.ns
        .apply_yaml(&Env::pdb("web", "web", "maxUnavailable: 1"))
        .await;
    env.ns
        .apply_yaml(&format!(
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: agent}}\nspec:\n  selector: {{matchLabels: {{app: agent}}}}\n  template:\n    metadata: {{labels: {{app: agent}}}}\n    spec: {{{pin}, containers: [{{name: a, image: example/agent}}]}}\n"
        ))
        .await;
    env.wait_on_drain_node(5).await;
    env.open_spare().await;
    budget_counted(&env, "web", 3).await;

    let (plan, out) = env.plan(&["--delete-emptydir-data"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        finding_codes(&plan)
            .iter()
            .any(|c| c == "pdb-sequential web"),
        "{:?}",
        finding_codes(&plan)
    );
    let mut planned: Vec<String> = plan["nodes"][0]["pods"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["action"] == "evict")
        .filter_map(|p| p["name"].as_str().map(str::to_string))
        .collect();
    planned.sort();
    assert_eq!(
        planned.len(),
        4,
        "3 web + scratch; the DaemonSet pod stays: {planned:?}"
    );

    let kubectl = env
        .cp
        .kubectl(&[
            "drain",
            &env.drain,
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--timeout=90s",
        ])
        .await;
    assert_eq!(kubectl.code, Some(0), "{kubectl}");
    assert_eq!(
        kubectl_evicted(&kubectl),
        planned,
        "kubectl drain evicted exactly the planned pods"
    );
}

/// Replacement pods are held by a scheduling gate until the budget has refused an eviction, so
/// the refusal does not depend on how fast the disruption controller counts the replacements.
#[tokio::test]
async fn a_budget_allowing_one_at_a_time_drains_in_turn_and_names_itself() {
    let env = Env::new("sd-turns", "4").await;
    let gated = ", schedulingGates: [{name: example.com/held-by-test}]";
    env.ns
        .apply_yaml(&env.deployment("web", 3, "100m", gated, ""))
        .await;
    env.ns
        .apply_yaml(&Env::pdb("web", "web", "maxUnavailable: 1"))
        .await;
    poll_until(Duration::from_secs(60), "3 gated pods of web", || async {
        env.release_gated_pods().await;
        let pods = env.pods_on(&env.drain).await;
        if pods.len() == 3 {
            Ok(())
        } else {
            Err(format!("{pods:?}"))
        }
    })
    .await;
    env.open_spare().await;
    budget_counted(&env, "web", 3).await;
    let before = env.pods_on(&env.drain).await;

    let mut running = env.spawn(&[&env.drain, "--yes", "-o", "json"]);
    running
        .wait_for_line("PodDisruptionBudget web refuses the eviction (currentHealthy")
        .await;
    let finishing = running.finish();
    tokio::pin!(finishing);
    let out = loop {
        tokio::select! {
            out = &mut finishing => break out,
            () = tokio::time::sleep(Duration::from_millis(300)) => env.release_gated_pods().await,
        }
    };
    assert_eq!(out.code, Some(0), "{out}");
    let run: serde_json::Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out}"));
    let mut evicted: Vec<String> = run["outcomes"][0]["evicted"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            e["pod"]
                .as_str()
                .and_then(|p| p.split('/').nth(1))
                .map(str::to_string)
        })
        .collect();
    evicted.sort();
    assert_eq!(evicted, before);
    assert_eq!(
        run["outcomes"][0]["nodeLeft"]["state"],
        "cordonedForMaintenance"
    );
    assert!(env.pods_on(&env.drain).await.is_empty());
    env.release_gated_pods().await;
    env.ns.wait_pods_ready("app=web", 3).await;
}

#[tokio::test]
async fn two_budgets_on_one_pod_are_found_before_the_500() {
    let env = Env::new("sd-two", "4").await;
    env.ns
        .apply_yaml(&env.deployment("web", 2, "100m", "", ""))
        .await;
    env.ns
        .apply_yaml(&Env::pdb("web-a", "web", "maxUnavailable: 1"))
        .await;
    env.ns
        .apply_yaml(&Env::pdb("web-b", "web", "maxUnavailable: 1"))
        .await;
    env.wait_on_drain_node(2).await;
    env.open_spare().await;
    env.ns.wait_pods_ready("app=web", 2).await;

    let (plan, out) = env.plan(&[]).await;
    assert_eq!(out.code, Some(1), "{out}");
    let codes = finding_codes(&plan);
    assert_eq!(
        codes
            .iter()
            .filter(|c| c.starts_with("pdb-multiple "))
            .count(),
        2,
        "{codes:?}"
    );

    let kubectl = kubectl_drain(&env).await;
    assert_ne!(kubectl.code, Some(0), "{kubectl}");
    assert!(
        format!("{kubectl}").contains("more than one PodDisruptionBudget"),
        "{kubectl}"
    );
}

#[tokio::test]
async fn a_budget_tightened_mid_drain_holds_it_until_relaxed() {
    let env = Env::new("sd-edit", "4").await;
    env.ns
        .apply_yaml(&env.deployment("web", 3, "100m", "", ""))
        .await;
    env.ns
        .apply_yaml(&Env::pdb("web", "web", "maxUnavailable: 1"))
        .await;
    env.wait_on_drain_node(3).await;
    env.open_spare().await;
    budget_counted(&env, "web", 3).await;

    let mut running = env.spawn(&[&env.drain, "--yes"]);
    running
        .wait_for_line("evicted, waiting for it to be gone")
        .await;
    let pdbs = env.ns.api::<PodDisruptionBudget>();
    let set = |max: i32| json!({"spec": {"maxUnavailable": max}});
    pdbs.patch("web", &PatchParams::default(), &Patch::Merge(set(0)))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    running
        .wait_for_line("PodDisruptionBudget web refuses the eviction")
        .await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(
        !env.pods_on(&env.drain).await.is_empty(),
        "the tightened budget holds the rest of the drain"
    );
    pdbs.patch("web", &PatchParams::default(), &Patch::Merge(set(3)))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let out = running.finish().await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        out.stdout
            .contains(&format!("✓ node {} drained", env.drain)),
        "{out}"
    );
    assert!(env.pods_on(&env.drain).await.is_empty());
}
