//! What every scenario needs: two nodes of its own (one to drain, one spare that stays cordoned
//! until the workloads are placed, so every pod starts on the node to drain), pinned to the test
//! by a label and a taint so that no other test's pods come near, and helpers to run the plugin.

use std::{path::Path, process::Stdio, time::Duration};

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::{
    Api,
    api::{ListParams, Patch, PatchParams},
};
use kube_runbooks_harness::{
    ControlPlane, FakeNode, RunCommand, RunOutput, TestNamespace, poll_until,
};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

pub const BIN: &str = env!("CARGO_BIN_EXE_kubectl-safe_drain");

/// How long any one plugin run may take.
const RUN_TIMEOUT: Duration = Duration::from_secs(150);

/// One scenario's namespace and nodes.
pub struct Env {
    pub cp: &'static ControlPlane,
    pub ns: TestNamespace,
    /// The label value and taint value that keep this test's pods on its own nodes.
    pub id: String,
    /// The node to drain.
    pub drain: String,
    /// The node the evicted pods can go to (cordoned until [`Env::open_spare`]).
    pub spare: String,
}

impl Env {
    /// A namespace, the node to drain and a cordoned spare with `spare_cpu` CPUs.
    pub async fn new(prefix: &str, spare_cpu: &str) -> Env {
        let cp = ControlPlane::shared().await;
        let ns = cp.namespace(prefix).await;
        let id = ns.name().to_string();
        let node = |name: &str| {
            FakeNode::new(name)
                .label("sd-test", &id)
                .taint("sd-test", &id, "NoSchedule")
        };
        let drain = format!("{id}-drain");
        let spare = format!("{id}-spare");
        cp.add_node(node(&drain)).await;
        cp.add_node(node(&spare).cpu(spare_cpu).unschedulable(true))
            .await;
        Env {
            cp,
            ns,
            id,
            drain,
            spare,
        }
    }

    /// The pod spec fields that keep a pod on this test's nodes (flow-style YAML).
    pub fn pinned(&self) -> String {
        format!(
            "nodeSelector: {{sd-test: {id}}}, tolerations: [{{key: sd-test, operator: Equal, value: {id}, effect: NoSchedule}}]",
            id = self.id
        )
    }

    /// A Deployment of `replicas` pods requesting `cpu`, with `extra` pod spec fields and
    /// `annotations` on its pods.
    pub fn deployment(
        &self,
        name: &str,
        replicas: u32,
        cpu: &str,
        extra: &str,
        annotations: &str,
    ) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}, annotations: {{{annotations}}}}}\n    spec: {{{pin}, terminationGracePeriodSeconds: 0, containers: [{{name: main, image: example/{name}, resources: {{requests: {{cpu: {cpu}, memory: 64Mi}}}}}}]{extra}}}\n",
            pin = self.pinned()
        )
    }

    /// A StatefulSet of `replicas` pods (Parallel pod management).
    pub fn stateful_set(&self, name: &str, replicas: u32) -> String {
        format!(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: {name}}}\nspec:\n  replicas: {replicas}\n  serviceName: {name}\n  podManagementPolicy: Parallel\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec: {{{pin}, terminationGracePeriodSeconds: 0, containers: [{{name: main, image: example/{name}, resources: {{requests: {{cpu: 100m}}}}}}]}}\n",
            pin = self.pinned()
        )
    }

    /// A PodDisruptionBudget selecting `app=<app>` with `rule` (e.g. `minAvailable: 2`).
    pub fn pdb(name: &str, app: &str, rule: &str) -> String {
        format!(
            "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: {name}}}\nspec: {{{rule}, selector: {{matchLabels: {{app: {app}}}}}}}\n"
        )
    }

    /// Makes the spare node schedulable.
    pub async fn open_spare(&self) {
        let nodes: Api<Node> = Api::all(self.cp.client());
        nodes
            .patch(
                &self.spare,
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"unschedulable": false}})),
            )
            .await
            .unwrap_or_else(|e| panic!("cannot uncordon {}: {e}", self.spare));
    }

    /// Runs the plugin with `args` as admin, without a terminal.
    pub async fn safe_drain(&self, args: &[&str]) -> RunOutput {
        RunCommand::new(self.cp, Path::new(BIN), args)
            .timeout(RUN_TIMEOUT)
            .output()
            .await
    }

    /// `--plan -o json` of the node to drain, with `extra` flags.
    pub async fn plan(&self, extra: &[&str]) -> (Value, RunOutput) {
        let mut args = vec![self.drain.as_str(), "--plan", "-o", "json"];
        args.extend_from_slice(extra);
        let out = self.safe_drain(&args).await;
        let document = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("plan is not JSON ({e}): {out}"));
        (document, out)
    }

    pub async fn node(&self, name: &str) -> Option<Node> {
        Api::<Node>::all(self.cp.client())
            .get_opt(name)
            .await
            .unwrap_or_else(|e| panic!("cannot read node {name}: {e}"))
    }

    /// Whether node `name` is cordoned.
    pub async fn cordoned(&self, name: &str) -> bool {
        self.node(name)
            .await
            .and_then(|n| n.spec?.unschedulable)
            .unwrap_or(false)
    }

    /// Names of this namespace's pods on `node`, sorted.
    pub async fn pods_on(&self, node: &str) -> Vec<String> {
        let pods: Api<Pod> = self.ns.api();
        let list = pods
            .list(&ListParams::default().fields(&format!("spec.nodeName={node}")))
            .await
            .unwrap_or_else(|e| panic!("cannot list pods: {e}"));
        let mut names: Vec<String> = list
            .items
            .into_iter()
            .filter_map(|p| p.metadata.name)
            .collect();
        names.sort();
        names
    }

    /// Waits until `count` pods of this namespace run on the node to drain.
    pub async fn wait_on_drain_node(&self, count: usize) {
        poll_until(
            Duration::from_secs(60),
            &format!("{count} pods on {}", self.drain),
            || async {
                let pods = self.pods_on(&self.drain).await;
                if pods.len() == count {
                    Ok(())
                } else {
                    Err(format!("{pods:?}"))
                }
            },
        )
        .await;
    }

    /// Lets every pod of this namespace held by a scheduling gate be scheduled.
    pub async fn release_gated_pods(&self) {
        let pods: Api<Pod> = self.ns.api();
        let list = pods
            .list(&ListParams::default())
            .await
            .unwrap_or_else(|e| panic!("cannot list pods: {e}"));
        for pod in list.items {
            let gated = pod
                .spec
                .as_ref()
                .and_then(|s| s.scheduling_gates.as_ref())
                .is_some_and(|g| !g.is_empty());
            if let (true, Some(name)) = (gated, pod.metadata.name) {
                let ungate = json!({"spec": {"schedulingGates": null}});
                // A pod deleted meanwhile is no longer ours to release.
                let _ = pods
                    .patch(&name, &PatchParams::default(), &Patch::Merge(ungate))
                    .await;
            }
        }
    }

    /// Adds (or, with None, removes) finalizers on pod `name`.
    pub async fn set_finalizer(&self, name: &str, finalizer: Option<&str>) {
        let pods: Api<Pod> = self.ns.api();
        let finalizers: Vec<&str> = finalizer.into_iter().collect();
        pods.patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": finalizers}})),
        )
        .await
        .unwrap_or_else(|e| panic!("cannot set finalizers of {name}: {e}"));
    }

    /// The plugin, started in the background with its stderr read line by line.
    pub fn spawn(&self, args: &[&str]) -> Running {
        let mut command = tokio::process::Command::new(BIN);
        command
            .args(args)
            .env("KUBECONFIG", self.cp.admin_kubeconfig())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {BIN}: {e}"));
        let stderr = child
            .stderr
            .take()
            .unwrap_or_else(|| panic!("no stderr pipe"));
        let (sender, lines) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        Running {
            child,
            lines,
            seen: Vec::new(),
        }
    }
}

/// A plugin run in the background.
pub struct Running {
    child: tokio::process::Child,
    lines: tokio::sync::mpsc::UnboundedReceiver<String>,
    seen: Vec<String>,
}

impl Running {
    /// Waits until a stderr line contains `text` and returns it.
    pub async fn wait_for_line(&mut self, text: &str) -> String {
        let found = tokio::time::timeout(Duration::from_secs(90), async {
            while let Some(line) = self.lines.recv().await {
                self.seen.push(line.clone());
                if line.contains(text) {
                    return Some(line);
                }
            }
            None
        })
        .await;
        match found {
            Ok(Some(line)) => line,
            _ => panic!(
                "no stderr line contains {text:?}; seen:\n{}",
                self.seen.join("\n")
            ),
        }
    }

    /// Sends SIGINT, as Ctrl-C does.
    pub fn interrupt(&self) {
        let pid = self
            .child
            .id()
            .unwrap_or_else(|| panic!("the plugin already exited"));
        let sent = std::process::Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status();
        assert!(
            sent.is_ok_and(|s| s.success()),
            "cannot send SIGINT to {pid}"
        );
    }

    /// Waits for the exit; returns the code, stdout and every stderr line.
    pub async fn finish(mut self) -> RunOutput {
        let output = tokio::time::timeout(RUN_TIMEOUT, async {
            let mut stdout = String::new();
            if let Some(mut pipe) = self.child.stdout.take() {
                use tokio::io::AsyncReadExt;
                let _ = pipe.read_to_string(&mut stdout).await;
            }
            let status = self.child.wait().await;
            while let Some(line) = self.lines.recv().await {
                self.seen.push(line);
            }
            (stdout, status)
        })
        .await
        .unwrap_or_else(|_| {
            panic!(
                "the plugin did not exit; stderr so far:\n{}",
                self.seen.join("\n")
            )
        });
        RunOutput {
            stdout: output.0,
            stderr: self.seen.join("\n"),
            code: output.1.ok().and_then(|s| s.code()),
        }
    }
}

/// The plan's pods as `name action codes...`, sorted.
pub fn pod_actions(plan: &Value) -> Vec<String> {
    let mut rows: Vec<String> = plan["nodes"][0]["pods"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let codes: Vec<&str> = p["reasons"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["code"].as_str())
                .collect();
            format!(
                "{} {} {}",
                p["name"].as_str().unwrap_or("?"),
                p["action"].as_str().unwrap_or("?"),
                codes.join(",")
            )
        })
        .collect();
    rows.sort();
    rows
}

/// The plan's findings as `code object-name`, in order.
pub fn finding_codes(plan: &Value) -> Vec<String> {
    plan["nodes"][0]["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            format!(
                "{} {}",
                f["code"].as_str().unwrap_or("?"),
                f["object"]["name"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

/// The pod names a `kubectl drain` run evicted (`evicting pod ns/name`), sorted.
pub fn kubectl_evicted(out: &RunOutput) -> Vec<String> {
    let mut names: Vec<String> = format!("{}\n{}", out.stdout, out.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("evicting pod "))
        .filter_map(|p| p.split('/').nth(1).map(str::to_string))
        .collect();
    names.sort();
    names.dedup();
    names
}
