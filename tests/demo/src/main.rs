//! The demo: a real local control plane, the broken scenarios of `examples/`, and every plugin
//! run on them through kubectl, as a user would type it. `--keep` leaves the cluster running.
//! Exits 0 once every plugin has run on its scenarios (the plugins themselves exit 1: each finds
//! what its example breaks); panics (exit code 101) if a scenario does not settle in time.

mod scenarios;
mod settle;

use std::path::PathBuf;
use std::time::Instant;

use kube_runbooks_harness::{ControlPlane, RunCommand};

use crate::scenarios::{Scenario, load_scenarios};

#[tokio::main]
async fn main() {
    let keep = std::env::args().any(|a| a == "--keep");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let plugins_dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(PathBuf::from))
        .unwrap_or_else(|| root.join("target/debug"));

    println!(
        "Starting a local control plane (etcd, kube-apiserver, kube-scheduler, kube-controller-manager, kwok)..."
    );
    let cp = ControlPlane::shared().await;
    println!(
        "  up in {:.1}s at {}\n",
        cp.start_duration().as_secs_f64(),
        cp.server_url()
    );

    let examples = root.join("examples");
    let nodes = std::fs::read_to_string(examples.join("00-nodes.yaml"))
        .unwrap_or_else(|e| panic!("cannot read examples/00-nodes.yaml: {e}"));
    kube_runbooks_harness::apply_yaml(&cp.client(), "default", &nodes).await;
    for node in ["demo-general-a", "demo-general-b", "demo-gpu"] {
        cp.wait_node_condition(node, "Ready", "True").await;
    }
    println!(
        "Created nodes demo-general-a, demo-general-b (4 CPU each) and demo-gpu (8 CPU, 2 GPUs, tainted dedicated=gpu).\n"
    );

    let scenarios = load_scenarios(&examples);
    for scenario in &scenarios {
        scenario.create(cp).await;
    }
    println!("Waiting for the scheduler and the controllers to act on each scenario...");
    let began = Instant::now();
    for scenario in &scenarios {
        scenario.settle(cp).await;
    }
    println!("  settled in {:.1}s\n", began.elapsed().as_secs_f64());

    for scenario in &scenarios {
        println!("━━ {} ━━", scenario.file);
        println!("{}", scenario.description);
        for command in scenario.commands() {
            show(cp, &plugins_dir, &command).await;
        }
    }
    if keep {
        println!(
            "The cluster keeps running until you press Ctrl-C:\n  export KUBECONFIG={}",
            cp.admin_kubeconfig().display()
        );
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs `kubectl <args>` with the plugins on PATH, printing the command and what it printed.
async fn show(cp: &ControlPlane, plugins_dir: &std::path::Path, args: &[String]) {
    let plugin = format!("kubectl-{}", args[0].replace('-', "_"));
    if !plugins_dir.join(&plugin).exists() {
        println!(
            "$ kubectl {}\n  ({plugin} is not built yet; skipped)\n",
            args.join(" ")
        );
        return;
    }
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = RunCommand::new(cp, &cp.bin_dir().join("kubectl"), &words)
        .path_prepend(plugins_dir)
        .output()
        .await;
    println!("$ kubectl {}", args.join(" "));
    print!("{}", out.stdout);
    if !out.stderr.is_empty() {
        print!("{}", out.stderr);
    }
    println!(
        "(exit code {})\n",
        out.code.map_or("killed".to_string(), |c| c.to_string())
    );
}

impl Scenario {
    async fn create(&self, cp: &ControlPlane) {
        let ns = cp.namespace(&self.namespace).await;
        ns.apply_yaml(&self.yaml).await;
        self.namespace_name.set(ns.name().to_string()).ok();
        if self.plugin() == Some("unstick") {
            delete_custom_objects(cp, ns.name(), &self.custom_objects()).await;
        }
    }
}

/// Deletes the scenario's custom objects so their finalizers leave them Terminating.
async fn delete_custom_objects(cp: &ControlPlane, namespace: &str, objects: &[String]) {
    for object in objects {
        let out = cp
            .kubectl(&["delete", object, "-n", namespace, "--wait=false"])
            .await;
        if !out.success() {
            println!("(could not delete {object}: {})", out.stderr.trim());
        }
    }
}
