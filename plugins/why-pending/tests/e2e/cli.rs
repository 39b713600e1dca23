//! The command as users meet it: targets, scheduler-side findings, workload failures, bad input,
//! read-only credentials and snapshots, all against the real control plane.

use std::path::Path;

use kube_runbooks_harness::{ControlPlane, FakeNode, RunCommand, RunOutput, TestNamespace};
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::kubeconfigs::token_kubeconfig;

pub(crate) const WHY_PENDING: &str = env!("CARGO_BIN_EXE_kubectl-why_pending");

/// One small node for this module's pods, created once.
pub(crate) async fn cluster() -> &'static ControlPlane {
    static NODE: OnceCell<()> = OnceCell::const_new();
    let cp = ControlPlane::shared().await;
    NODE.get_or_init(|| async {
        cp.add_node(FakeNode::new("cli-node").cpu("2").memory("4Gi"))
            .await;
    })
    .await;
    cp
}

pub(crate) async fn run(cp: &ControlPlane, args: &[&str]) -> RunOutput {
    RunCommand::new(cp, Path::new(WHY_PENDING), args)
        .output()
        .await
}

pub(crate) fn json(out: &RunOutput) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{out}"))
}

pub(crate) fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["code"].as_str().map(str::to_string))
        .collect()
}

pub(crate) async fn pending_pod(ns: &TestNamespace, name: &str) {
    ns.apply_yaml(&format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  containers: [{{name: c, image: x, resources: {{requests: {{cpu: '500'}}}}}}]\n"
    ))
    .await;
    ns.wait_event(name, "FailedScheduling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gated_pods_and_unknown_schedulers_are_named() {
    let cp = cluster().await;
    let ns = cp.namespace("wp-gates").await;
    ns.apply_yaml(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: gated}\nspec:\n  schedulingGates: [{name: example.com/quota-check}]\n  containers: [{name: c, image: x}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: custom}\nspec:\n  schedulerName: ghost-scheduler\n  containers: [{name: c, image: x}]\n",
    )
    .await;
    let gated = run(cp, &["gated", "-n", ns.name(), "-o", "json"]).await;
    assert_eq!(gated.code, Some(1), "{gated}");
    assert_eq!(codes(&json(&gated)), vec!["scheduling-gated"], "{gated}");
    assert!(gated.stdout.contains("example.com/quota-check"), "{gated}");

    let custom = run(cp, &["custom", "-n", ns.name()]).await;
    assert_eq!(custom.code, Some(1), "{custom}");
    let first_line = custom.stdout.lines().next().unwrap_or_default();
    assert!(
        first_line.contains("ghost-scheduler") && first_line.contains("no such scheduler"),
        "{custom}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workload_whose_pods_are_refused_by_quota() {
    let cp = cluster().await;
    let ns = cp.namespace("wp-quota").await;
    ns.apply_yaml(
        "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: no-pods}\nspec: {hard: {pods: '0'}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: c, image: x}]}\n",
    )
    .await;
    let out = kube_runbooks_harness::wait_for(
        kube_runbooks_harness::DEFAULT_TIMEOUT,
        "a FailedCreate finding",
        || async {
            let out = run(cp, &["deploy/web", "-n", ns.name(), "-o", "json"]).await;
            codes(&json(&out))
                .contains(&"pods-not-created".to_string())
                .then_some(out)
        },
    )
    .await;
    assert_eq!(out.code, Some(1), "{out}");
    let report = json(&out);
    let finding = &report["findings"][0];
    assert_eq!(finding["object"]["kind"], "Deployment");
    assert!(
        finding["title"]
            .as_str()
            .unwrap_or_default()
            .contains("ResourceQuota"),
        "{out}"
    );
    assert!(
        finding["evidence"][0]["fact"]
            .as_str()
            .unwrap_or_default()
            .contains("exceeded quota: no-pods"),
        "{out}"
    );
    let event = &finding["evidence"][0]["source"];
    assert_eq!(event["type"], "event", "{out}");
    assert_eq!(
        event["object"]["kind"], "ReplicaSet",
        "the event is about the Deployment's ReplicaSet: {out}"
    );
    let text = run(cp, &["deploy/web", "-n", ns.name()]).await;
    assert!(
        text.stdout
            .contains("(event FailedCreate on replicaset/web-"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_clear_errors_and_documented_codes() {
    let cp = cluster().await;
    let ns = cp.namespace("wp-input").await;
    pending_pod(&ns, "payments-api").await;

    let typo = run(cp, &["payments-apj", "-n", ns.name()]).await;
    assert_eq!(typo.code, Some(7), "{typo}");
    assert!(
        typo.stderr.contains("pod \"payments-apj\" not found")
            && typo.stderr.contains("did you mean \"payments-api\""),
        "{typo}"
    );

    let no_ns = run(cp, &["-n", "no-such-namespace"]).await;
    assert_eq!(no_ns.code, Some(7), "{no_ns}");
    assert!(
        no_ns
            .stderr
            .contains("namespace \"no-such-namespace\" not found"),
        "{no_ns}"
    );

    let bad_type = run(cp, &["svc/web", "-n", ns.name()]).await;
    assert_eq!(bad_type.code, Some(2), "{bad_type}");

    let unreachable = RunCommand::new(cp, Path::new(WHY_PENDING), &["--request-timeout", "3s"])
        .kubeconfig(&token_kubeconfig(cp, "https://127.0.0.1:1"))
        .output()
        .await;
    assert_eq!(unreachable.code, Some(4), "{unreachable}");
    assert!(
        unreachable
            .stderr
            .contains("cannot reach the API server at https://127.0.0.1:1"),
        "{unreachable}"
    );

    let missing = RunCommand::new(cp, Path::new(WHY_PENDING), &[])
        .kubeconfig(Path::new("/nonexistent/kubeconfig"))
        .env("HOME", "/nonexistent")
        .output()
        .await;
    assert_eq!(missing.code, Some(3), "{missing}");
    assert!(missing.stderr.contains("no kubeconfig"), "{missing}");
    assert!(!missing.stderr.contains("panicked"), "{missing}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_credentials_degrade_and_say_what_was_not_checked() {
    let cp = cluster().await;
    let ns = cp.namespace("wp-viewer").await;
    pending_pod(&ns, "big").await;
    let out = RunCommand::new(
        cp,
        Path::new(WHY_PENDING),
        &["big", "-n", ns.name(), "-o", "json"],
    )
    .kubeconfig(cp.readonly_kubeconfig())
    .output()
    .await;
    assert_eq!(out.code, Some(1), "{out}");
    let report = json(&out);
    let not_checked: Vec<&str> = report["notChecked"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["resource"].as_str())
        .collect();
    assert!(
        not_checked.contains(&"nodes"),
        "the view role cannot list nodes: {out}"
    );
    assert!(
        not_checked.contains(&"secrets"),
        "the view role cannot list secrets: {out}"
    );
    assert!(!codes(&report).is_empty(), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_gives_the_same_answer_as_the_live_cluster() {
    let cp = cluster().await;
    let ns = cp.namespace("wp-snapshot").await;
    pending_pod(&ns, "huge").await;
    let dump = cp
        .kubectl(&[
            "get",
            "pods,nodes,events,namespaces,pvc,pv,leases",
            "-A",
            "-o",
            "yaml",
        ])
        .await;
    assert!(dump.success(), "{dump}");
    let file = cp.work_dir().join(format!("{}.yaml", ns.name()));
    std::fs::write(&file, &dump.stdout)
        .unwrap_or_else(|e| panic!("cannot write the snapshot: {e}"));

    assert_snapshot_agrees(cp, &ns, "huge", &file).await;

    let broken = cp.work_dir().join("broken-snapshot.json");
    std::fs::write(&broken, "{\"kind\": \"PodList\", \"items\": [")
        .unwrap_or_else(|e| panic!("{e}"));
    let bad = run(cp, &["--snapshot", &broken.display().to_string()]).await;
    assert_eq!(bad.code, Some(8), "{bad}");
    assert!(bad.stderr.contains("cannot load snapshot"), "{bad}");
}

/// Asserts that `pod` is explained from the `snapshot` as from the live cluster.
pub(crate) async fn assert_snapshot_agrees(
    cp: &ControlPlane,
    ns: &TestNamespace,
    pod: &str,
    snapshot: &Path,
) {
    let live = json(&run(cp, &[pod, "-n", ns.name(), "-o", "json"]).await);
    let snapshot = snapshot.display().to_string();
    let offline_out = run(
        cp,
        &[pod, "-n", ns.name(), "-o", "json", "--snapshot", &snapshot],
    )
    .await;
    assert_eq!(offline_out.code, Some(1), "{offline_out}");
    let offline = json(&offline_out);
    assert_eq!(codes(&live), codes(&offline), "{offline_out}");
    let view = |r: &Value| r["findings"][0]["details"]["fit"]["schedulerView"]["histogram"].clone();
    assert_eq!(view(&live), view(&offline), "the same node-by-node verdict");
    assert_eq!(offline["source"]["type"], "snapshot");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_namespace_says_so_and_exits_zero() {
    let cp = cluster().await;
    let ns = cp.namespace("wp-healthy").await;
    ns.apply_yaml("apiVersion: v1\nkind: Pod\nmetadata: {name: fine}\nspec:\n  nodeName: cli-node\n  containers: [{name: c, image: x}]\n").await;
    ns.wait_pod_condition("fine", "Ready", "True").await;
    let out = run(cp, &["-n", ns.name()]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        out.stdout.starts_with(&format!(
            "✓ every pod in namespace {} is running and ready",
            ns.name()
        )),
        "{out}"
    );
}
