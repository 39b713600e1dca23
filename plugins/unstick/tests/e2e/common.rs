//! Running the plugin and reading its report.

use std::{path::Path, sync::OnceLock, time::Duration};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::{
    Api,
    api::{ApiResource, DeleteParams, Patch, PatchParams},
};
use kube_runbooks_harness::{ControlPlane, RunCommand, RunOutput, TestNamespace, poll_until};
use serde_json::{Value, json};
use tokio::sync::RwLock;

/// The plugin binary built for these tests.
pub fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_kubectl-unstick"))
}

/// Long enough for a fix that waits for controllers.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// Runs `kubectl unstick args...` as admin.
pub async fn unstick(cp: &ControlPlane, args: &[&str]) -> RunOutput {
    RunCommand::new(cp, bin(), args)
        .timeout(RUN_TIMEOUT)
        .output()
        .await
}

/// Runs `kubectl unstick args...` with another kubeconfig.
pub async fn unstick_as(cp: &ControlPlane, kubeconfig: &Path, args: &[&str]) -> RunOutput {
    RunCommand::new(cp, bin(), args)
        .kubeconfig(kubeconfig)
        .timeout(RUN_TIMEOUT)
        .output()
        .await
}

/// `kubectl unstick TARGET --fix --yes ARGS... --backup-dir BACKUPS`, taking every step offered, as
/// `kubeconfig`'s user (admin when None).
pub async fn fix_everything(
    cp: &ControlPlane,
    kubeconfig: Option<&Path>,
    target: &str,
    args: &[&str],
    backups: &Path,
) -> RunOutput {
    let backups = backups.display().to_string();
    let mut all = vec![target, "--fix", "--yes"];
    all.extend_from_slice(args);
    all.extend(["--backup-dir", backups.as_str()]);
    match kubeconfig {
        Some(kubeconfig) => unstick_as(cp, kubeconfig, &all).await,
        None => unstick(cp, &all).await,
    }
}

/// The JSON report on stdout.
pub fn report(out: &RunOutput) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not a JSON report ({e}):\n{out}"))
}

/// `Kind/name code` of every finding, to compare as a set.
pub fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            format!(
                "{}/{} {}",
                f["object"]["kind"].as_str().unwrap_or_default(),
                f["object"]["name"].as_str().unwrap_or_default(),
                f["code"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

/// The finding with `code` (panics with the whole report when missing).
pub fn finding<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no finding {code} in {report:#}"))
}

/// An unavailable aggregated API breaks discovery cluster-wide, which slows the garbage
/// collector and blocks every namespace deletion: that test holds this for writing, tests that
/// rely on the garbage collector hold it for reading.
pub fn discovery_lock() -> &'static RwLock<()> {
    static LOCK: OnceLock<RwLock<()>> = OnceLock::new();
    LOCK.get_or_init(|| RwLock::new(()))
}

/// Creates ConfigMap `name` with `finalizers` and deletes it, so it stays Terminating.
pub async fn terminating_config_map(ns: &TestNamespace, name: &str, finalizers: &[&str]) {
    ns.apply_yaml(&format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  finalizers: {}\ndata: {{k: v}}\n",
        json!(finalizers)
    ))
    .await;
    let api: Api<ConfigMap> = ns.api();
    api.delete(name, &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("cannot delete configmap {name}: {e}"));
    poll_until(
        Duration::from_secs(30),
        &format!("configmap {name} terminating"),
        || async {
            match api.get(name).await {
                Ok(cm) if cm.metadata.deletion_timestamp.is_some() => Ok(()),
                Ok(_) => Err("no deletionTimestamp yet".to_string()),
                Err(e) => Err(e.to_string()),
            }
        },
    )
    .await;
}

/// Whether ConfigMap `name` still exists.
pub async fn config_map(ns: &TestNamespace, name: &str) -> Option<ConfigMap> {
    let api: Api<ConfigMap> = ns.api();
    api.get_opt(name)
        .await
        .unwrap_or_else(|e| panic!("cannot read configmap {name}: {e}"))
}

/// Removes a finalizer by hand (as someone else would), merge-patching the rest.
pub async fn set_finalizers(ns: &TestNamespace, name: &str, finalizers: &[&str]) {
    let api: Api<ConfigMap> = ns.api();
    api.patch(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": finalizers}})),
    )
    .await
    .unwrap_or_else(|e| panic!("cannot patch configmap {name}: {e}"));
}

/// A fresh directory for backups.
pub fn backup_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("cannot create a temp dir: {e}"))
}

/// The backup files written to `dir`.
pub fn backups(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// Installs CRD `gizmos.GROUP` (kind Gizmo, namespaced, any content) and returns its resource.
pub async fn gizmo_type(cp: &ControlPlane, ns: &TestNamespace, group: &str) -> ApiResource {
    cp.apply_yaml(
        ns.name(),
        &format!(
            r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {{name: gizmos.{group}}}
spec:
  group: {group}
  names: {{plural: gizmos, singular: gizmo, kind: Gizmo}}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema: {{openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}}}
"#
        ),
    )
    .await;
    ApiResource {
        group: group.to_string(),
        version: "v1".into(),
        api_version: format!("{group}/v1"),
        kind: "Gizmo".into(),
        plural: "gizmos".into(),
    }
}
