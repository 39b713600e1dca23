//! kubectl's connection flags and kubeconfig forms, as the shared client applies them to every
//! plugin: `--user`, `--cluster`, `--server`, `--token`, `--insecure-skip-tls-verify`, `--as`,
//! a `KUBECONFIG` list, rejected or unobtainable credentials, `-v=N`, and a real
//! `kubectl cluster-info dump` directory as a snapshot.

use std::path::Path;

use kube_runbooks_harness::{RunCommand, RunOutput};
use serde_json::Value;

use crate::{
    cli::{WHY_PENDING, assert_snapshot_agrees, cluster, json, pending_pod, run},
    kubeconfigs::{joined, kubeconfig, token_kubeconfig},
};

/// The resources the report says it could not read (the `view` role cannot list nodes).
fn not_checked(report: &Value) -> Vec<String> {
    report["notChecked"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["resource"].as_str().map(str::to_string))
        .collect()
}

async fn why_pending(kubeconfig: &str, args: &[&str]) -> RunOutput {
    let cp = cluster().await;
    RunCommand::new(cp, Path::new(WHY_PENDING), args)
        .kubeconfig(Path::new(kubeconfig))
        .output()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_rejected_or_unobtainable_are_unauthorized() {
    let cp = cluster().await;
    let rejected = token_kubeconfig(cp, cp.server_url());
    let out = why_pending(&rejected.display().to_string(), &[]).await;
    assert_eq!(out.code, Some(5), "{out}");
    assert!(
        out.stderr
            .contains("rejected the credentials (401 Unauthorized)"),
        "{out}"
    );

    let exec = "{exec: {apiVersion: client.authentication.k8s.io/v1, command: sh, args: [-c, 'echo session expired, run cloud login >&2; exit 1'], interactiveMode: Never}}";
    let expired = kubeconfig(cp, "expired-login", cp.server_url(), exec);
    let out = why_pending(&expired.display().to_string(), &[]).await;
    assert_eq!(
        out.code,
        Some(5),
        "an expired login is not a network problem: {out}"
    );
    assert!(
        out.stderr.contains("cannot get credentials")
            && out.stderr.contains("session expired, run cloud login"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_and_cluster_flags_pick_entries_of_a_kubeconfig_list() {
    let cp = cluster().await;
    let ns = cp.namespace("wp-entries").await;
    pending_pod(&ns, "big").await;
    let dead = token_kubeconfig(cp, "https://127.0.0.1:1");
    // The first file's current context wins: the viewer's.
    let merged = joined(&[cp.readonly_kubeconfig(), cp.admin_kubeconfig(), &dead]);
    let args = ["big", "-n", ns.name(), "-o", "json"];

    let as_viewer = why_pending(&merged, &args).await;
    assert_eq!(as_viewer.code, Some(1), "{as_viewer}");
    assert!(
        not_checked(&json(&as_viewer)).contains(&"nodes".to_string()),
        "{as_viewer}"
    );

    let as_admin = why_pending(&merged, &[&args[..], &["--user", "admin"]].concat()).await;
    assert_eq!(as_admin.code, Some(1), "{as_admin}");
    assert!(not_checked(&json(&as_admin)).is_empty(), "{as_admin}");

    let dead_cluster = dead
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let cluster_name = dead_cluster.trim_start_matches("kubeconfig-");
    let elsewhere = why_pending(
        &merged,
        &[
            &args[..],
            &["--cluster", cluster_name, "--request-timeout", "3s"],
        ]
        .concat(),
    )
    .await;
    assert_eq!(elsewhere.code, Some(4), "{elsewhere}");
    assert!(
        elsewhere.stderr.contains("https://127.0.0.1:1"),
        "{elsewhere}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_token_and_impersonation_flags_override_the_kubeconfig() {
    let cp = cluster().await;
    let ns = cp.namespace("wp-overrides").await;
    pending_pod(&ns, "big").await;
    let admin = cp.admin_kubeconfig().display().to_string();
    let args = ["big", "-n", ns.name(), "-o", "json"];

    let dead = token_kubeconfig(cp, "https://127.0.0.1:1")
        .display()
        .to_string();
    let redirected = why_pending(
        &dead,
        &[
            &args[..],
            &["--server", cp.server_url(), "--insecure-skip-tls-verify"],
        ]
        .concat(),
    )
    .await;
    assert_eq!(
        redirected.code,
        Some(5),
        "reached the real server, with the bad token: {redirected}"
    );

    let token = why_pending(&admin, &[&args[..], &["--token", "not-a-token"]].concat()).await;
    assert_eq!(
        token.code,
        Some(5),
        "--token replaces the admin's certificate: {token}"
    );

    let as_viewer = why_pending(&admin, &[&args[..], &["--as", "viewer"]].concat()).await;
    assert_eq!(as_viewer.code, Some(1), "{as_viewer}");
    assert!(
        not_checked(&json(&as_viewer)).contains(&"nodes".to_string()),
        "{as_viewer}"
    );

    let nobody = why_pending(
        &admin,
        &[
            "big",
            "-n",
            ns.name(),
            "--as",
            "nobody",
            "--as-group",
            "nobodies",
        ],
    )
    .await;
    assert_eq!(nobody.code, Some(6), "{nobody}");
    assert!(
        nobody.stderr.contains("User \"nobody\" cannot") && nobody.stderr.contains("pods"),
        "{nobody}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectls_numeric_verbosity_shows_the_requests() {
    let cp = cluster().await;
    let ns = cp.namespace("wp-verbose").await;
    pending_pod(&ns, "big").await;
    let out = run(cp, &["big", "-n", ns.name(), "-v=6"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.stderr.lines().any(|l| l.starts_with("list pods")),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_info_dump_directory_gives_the_live_answer() {
    let cp = cluster().await;
    let ns = cp.namespace("wp-dump").await;
    pending_pod(&ns, "huge").await;
    let dir = cp.work_dir().join(format!("dump-{}", ns.name()));
    let dump = cp
        .kubectl(&[
            "cluster-info",
            "dump",
            "--namespaces",
            ns.name(),
            "--output-directory",
            &dir.display().to_string(),
        ])
        .await;
    assert!(dump.success(), "{dump}");
    assert!(dir.join(ns.name()).join("pods.json").is_file(), "{dump}");

    assert_snapshot_agrees(cp, &ns, "huge", &dir).await;
}
