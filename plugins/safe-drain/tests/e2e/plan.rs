//! The pre-flight plan against the real cluster: every pod's action and reason, local data,
//! availability, capacity, the node itself, bad input. Nothing here changes the cluster.

use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, PostParams};

use crate::support::{Env, finding_codes, pod_actions};

#[tokio::test]
async fn every_pod_gets_an_action_and_a_reason() {
    let env = Env::new("sd-classify", "4").await;
    let (drain, id) = (&env.drain, &env.id);
    let pin = env.pinned();
    let manifests = [
        env.deployment("web", 2, "100m", "", ""),
        env.deployment(
            "scratch",
            1,
            "100m",
            ", volumes: [{name: tmp, emptyDir: {}}]",
            "",
        ),
        env.deployment(
            "logs",
            1,
            "100m",
            ", volumes: [{name: var, hostPath: {path: /var/log}}]",
            "",
        ),
        env.deployment(
            "keep",
            1,
            "100m",
            "",
            "cluster-autoscaler.kubernetes.io/safe-to-evict: \"false\"",
        ),
        env.deployment(
            "cache",
            1,
            "100m",
            ", volumes: [{name: tmp, emptyDir: {}}]",
            "cluster-autoscaler.kubernetes.io/safe-to-evict: \"true\"",
        ),
        env.deployment(
            "db",
            1,
            "100m",
            ", volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]",
            "",
        ),
        format!(
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: agent}}\nspec:\n  selector: {{matchLabels: {{app: agent}}}}\n  template:\n    metadata: {{labels: {{app: agent}}}}\n    spec: {{{pin}, containers: [{{name: a, image: example/agent}}]}}\n"
        ),
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: debug}}\nspec: {{nodeName: {drain}, containers: [{{name: c, image: example/debug}}]}}\n"
        ),
        format!(
            "apiVersion: v1\nkind: PersistentVolume\nmetadata: {{name: {id}-local}}\nspec:\n  capacity: {{storage: 1Gi}}\n  accessModes: [ReadWriteOnce]\n  storageClassName: {id}-local\n  local: {{path: /mnt/disk}}\n  nodeAffinity: {{required: {{nodeSelectorTerms: [{{matchExpressions: [{{key: kubernetes.io/hostname, operator: In, values: [{drain}]}}]}}]}}}}\n"
        ),
        format!(
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: data}}\nspec: {{accessModes: [ReadWriteOnce], storageClassName: {id}-local, volumeName: {id}-local, resources: {{requests: {{storage: 1Gi}}}}}}\n"
        ),
    ];
    for manifest in &manifests {
        env.ns.apply_yaml(manifest).await;
    }
    // A pod already terminating: a finalizer holds it after its deletion.
    env.ns
        .apply_yaml(&format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: leaving, finalizers: [kube-runbooks.io/hold]}}\nspec: {{nodeName: {drain}, containers: [{{name: c, image: example/x}}]}}\n"
        ))
        .await;
    env.ns
        .api::<Pod>()
        .delete("leaving", &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // A mirror pod, as the kubelet creates for a static pod.
    let mirror: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": format!("static-{drain}"), "annotations": {"kubernetes.io/config.mirror": "hash", "kubernetes.io/config.source": "file"}},
        "spec": {"nodeName": drain, "containers": [{"name": "c", "image": "example/static"}]},
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    let mirror_created = env
        .ns
        .api::<Pod>()
        .create(&PostParams::default(), &mirror)
        .await
        .is_ok();
    env.wait_on_drain_node(10 + usize::from(mirror_created))
        .await;
    env.ns.wait_pods_ready("app=web", 2).await;
    env.open_spare().await;

    let (plan, out) = env.plan(&[]).await;
    assert_eq!(out.code, Some(1), "a plan with blockers exits 1: {out}");
    let mut actions = pod_actions(&plan);
    actions.retain(|a| {
        !a.starts_with("agent-")
            && !a.starts_with("scratch-")
            && !a.starts_with("web-")
            && !a.starts_with("logs-")
            && !a.starts_with("keep-")
            && !a.starts_with("cache-")
            && !a.starts_with("db-")
    });
    let mut expected = vec![
        "debug blocked unmanaged".to_string(),
        "leaving skip terminating".to_string(),
    ];
    if mirror_created {
        expected.push(format!("static-{drain} skip static-pod"));
    }
    expected.sort();
    assert_eq!(actions, expected);
    let by_prefix = |prefix: &str| -> Vec<String> {
        pod_actions(&plan)
            .into_iter()
            .filter(|a| a.starts_with(prefix))
            .map(|a| {
                a.split_once(' ')
                    .map(|(_, rest)| rest.to_string())
                    .unwrap_or_default()
            })
            .collect()
    };
    assert_eq!(by_prefix("agent-"), ["skip daemonset-pod"]);
    assert_eq!(by_prefix("web-"), ["evict recreated", "evict recreated"]);
    assert_eq!(by_prefix("scratch-"), ["blocked recreated,local-data"]);
    assert_eq!(by_prefix("logs-"), ["blocked recreated,local-data"]);
    assert_eq!(
        by_prefix("keep-"),
        ["blocked recreated,safe-to-evict-false"]
    );
    assert_eq!(
        by_prefix("cache-"),
        ["evict recreated,local-data,safe-to-evict-true"]
    );
    assert_eq!(by_prefix("db-"), ["blocked recreated,local-volume"]);
    let codes = finding_codes(&plan);
    for code in [
        "unmanaged",
        "safe-to-evict-false",
        "local-data",
        "local-volume",
    ] {
        assert!(
            codes.iter().any(|c| c.starts_with(code)),
            "{code} missing from {codes:?}"
        );
    }
    assert!(!env.cordoned(drain).await, "a plan changes nothing");

    // Every blocker can be accepted with its flag, and then the drain can succeed.
    let (plan, out) = env
        .plan(&[
            "--force",
            "--delete-emptydir-data",
            "--evict-local-volume-pods",
        ])
        .await;
    assert_eq!(out.code, Some(0), "{out}");
    assert_eq!(plan["canDrain"], true);
    assert!(
        pod_actions(&plan).iter().all(|a| !a.contains(" blocked ")),
        "{:?}",
        pod_actions(&plan)
    );
}

#[tokio::test]
async fn the_text_plan_says_what_happens_to_each_pod() {
    let env = Env::new("sd-text", "4").await;
    env.ns
        .apply_yaml(&env.deployment("web", 1, "100m", "", ""))
        .await;
    env.wait_on_drain_node(1).await;
    env.open_spare().await;
    let out = env.safe_drain(&[&env.drain, "--plan"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    let web = env.pods_on(&env.drain).await.remove(0);
    assert!(
        out.stdout.contains(&format!(
            "Drain plan for node {} (Ready, schedulable): 1 to evict, 0 skipped, 0 blocked",
            env.drain
        )),
        "{out}"
    );
    assert!(
        out.stdout
            .contains(&format!("evict    {}/{web}", env.ns.name())),
        "{out}"
    );
    assert!(
        out.stdout
            .contains(&format!("replacement fits on {}", env.spare)),
        "{out}"
    );
    assert!(
        out.stdout.contains(
            "loses its last ready replica: its only ready replica is on this node (spec.replicas 1)"
        ),
        "{out}"
    );
    assert!(
        out.stdout.contains(&format!(
            "✓ node {} can be drained: 1 pod evicted",
            env.drain
        )),
        "{out}"
    );
}

#[tokio::test]
async fn replacements_with_no_room_are_named_with_the_schedulers_reason() {
    let env = Env::new("sd-capacity", "1").await;
    env.ns
        .apply_yaml(&env.deployment("big", 2, "700m", "", ""))
        .await;
    env.wait_on_drain_node(2).await;
    env.open_spare().await;
    let (plan, out) = env.plan(&[]).await;
    assert_eq!(out.code, Some(1), "{out}");
    let pending: Vec<&serde_json::Value> = plan["nodes"][0]["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["code"] == "replacement-pending")
        .collect();
    assert_eq!(
        pending.len(),
        1,
        "one of the two fits on the spare: {:#}",
        plan["nodes"][0]["findings"]
    );
    let evidence = pending[0]["evidence"].to_string();
    assert!(evidence.contains("Insufficient cpu"), "{evidence}");
    assert!(
        evidence.contains("node(s) were unschedulable"),
        "the drained node is cordoned in the simulation: {evidence}"
    );
    let (_, accepted) = env.plan(&["--allow-pending"]).await;
    assert_eq!(accepted.code, Some(0), "{accepted}");
}

#[tokio::test]
async fn a_lost_node_is_explained_with_the_runbooks_options() {
    let env = Env::new("sd-lost", "4").await;
    env.ns
        .apply_yaml(&env.deployment("web", 1, "100m", "", ""))
        .await;
    env.wait_on_drain_node(1).await;
    env.open_spare().await;
    env.cp.stop_heartbeat(&env.drain).await;
    env.cp
        .wait_node_condition(&env.drain, "Ready", "Unknown")
        .await;
    let out = env.safe_drain(&[&env.drain, "--plan"]).await;
    env.cp.resume_heartbeat(&env.drain).await;
    assert_eq!(out.code, Some(1), "{out}");
    for text in [
        "is Unknown for",
        "evictions would never complete",
        "Bring the node back",
        &format!("kubectl delete node {}", env.drain),
        "--grace-period=0 --force",
        "split brain",
        "6.6.2",
    ] {
        assert!(out.stdout.contains(text), "{text:?} missing: {out}");
    }
}

#[tokio::test]
async fn an_unknown_node_suggests_near_names() {
    let env = Env::new("sd-unknown", "1").await;
    let typo = format!("{}-drian", env.id);
    let out = env.safe_drain(&[&typo, "--plan"]).await;
    assert_eq!(out.code, Some(7), "{out}");
    assert!(
        out.stderr.contains(&format!("node \"{typo}\" not found")),
        "{out}"
    );
    assert!(
        out.stderr.contains(&env.drain),
        "suggests the real name: {out}"
    );
}

#[tokio::test]
async fn without_a_terminal_or_yes_nothing_is_changed() {
    let env = Env::new("sd-noyes", "4").await;
    env.ns
        .apply_yaml(&env.deployment("web", 1, "100m", "", ""))
        .await;
    env.wait_on_drain_node(1).await;
    env.open_spare().await;
    let out = env.safe_drain(&[&env.drain]).await;
    assert_eq!(out.code, Some(2), "{out}");
    assert!(out.stderr.contains("pass --yes to proceed"), "{out}");
    assert!(!env.cordoned(&env.drain).await);
}

#[tokio::test]
async fn a_viewer_cannot_plan_and_is_told_why() {
    let env = Env::new("sd-viewer", "1").await;
    let out = env
        .cp
        .run_with_kubeconfig(
            std::path::Path::new(crate::support::BIN),
            &[&env.drain, "--plan"],
            env.cp.readonly_kubeconfig(),
        )
        .await;
    assert_eq!(out.code, Some(6), "{out}");
    assert!(out.stderr.contains("cannot list nodes"), "{out}");
}
