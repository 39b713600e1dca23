//! A namespace held in Terminating by an APIService whose backend is missing: the diagnosis names
//! the API, its Service and why it has no endpoints; the fix deletes the stale APIService, and
//! the namespace controller then finishes by itself. The backend's namespace is left alone. A
//! backend that is installed (here a StatefulSet scaled to 0) is down, not stale.

use std::time::Duration;

use k8s_openapi::{
    api::core::v1::{Namespace, Service},
    kube_aggregator::pkg::apis::apiregistration::v1::APIService,
};
use kube::{Api, api::DeleteParams};
use kube_runbooks_harness::{ControlPlane, TestNamespace, poll_until};

use crate::common::{
    backup_dir, backups, discovery_lock, finding, fix_everything, report, unstick,
};

/// Creates Service `gone-api` (selecting `app: gone-api`) and `workloads` in `backend`, an
/// APIService served by it, then deletes `doomed` and waits until discovery failure holds it.
/// Returns the API group and the APIService's name. Call with the discovery lock held.
async fn held_by_apiservice(
    cp: &ControlPlane,
    backend: &TestNamespace,
    doomed: &TestNamespace,
    workloads: &str,
) -> (String, String) {
    let group = format!("{}.unstick.test", backend.name());
    let api_name = format!("v1alpha1.{group}");
    backend
        .apply_yaml(&format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: gone-api}}\n\
             spec: {{selector: {{app: gone-api}}, ports: [{{port: 443, targetPort: 6443}}]}}\n{workloads}"
        ))
        .await;
    cp.apply_yaml(
        backend.name(),
        &format!(
            "apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {{name: {api_name}}}\n\
             spec: {{group: {group}, version: v1alpha1, insecureSkipTLSVerify: true, groupPriorityMinimum: 1000, \
             versionPriority: 15, service: {{namespace: {}, name: gone-api, port: 443}}}}\n",
            backend.name()
        ),
    )
    .await;
    doomed.delete(None).await;
    let namespaces: Api<Namespace> = Api::all(cp.client());
    poll_until(
        Duration::from_secs(90),
        "the discovery-failure condition",
        || async {
            let ns = namespaces
                .get(doomed.name())
                .await
                .map_err(|e| e.to_string())?;
            let failing = ns
                .status
                .and_then(|s| s.conditions)
                .into_iter()
                .flatten()
                .any(|c| c.type_ == "NamespaceDeletionDiscoveryFailure" && c.status == "True");
            failing.then_some(()).ok_or_else(|| "not yet".to_string())
        },
    )
    .await;
    (group, api_name)
}

/// The title and the ladder steps (as JSON text) of `doomed`'s unavailable-API finding.
async fn blocked_by_api(cp: &ControlPlane, doomed: &TestNamespace) -> (String, String) {
    let out = unstick(cp, &[&format!("namespace/{}", doomed.name()), "-o", "json"]).await;
    let report = report(&out);
    let blocked = finding(&report, "namespace-blocked-by-unavailable-api");
    let title = blocked["title"].as_str().unwrap_or_default().to_string();
    (title, blocked["details"]["steps"].to_string())
}

#[tokio::test]
async fn namespace_held_by_an_apiservice_whose_backend_is_missing() {
    let cp = ControlPlane::shared().await;
    let backend = cp.namespace("unstick-api-backend").await;
    let doomed = cp.namespace("unstick-api-doomed").await;
    let _exclusive = discovery_lock().write().await;
    let (group, api_name) = held_by_apiservice(cp, &backend, &doomed, "").await;
    let namespaces: Api<Namespace> = Api::all(cp.client());
    let text = unstick(cp, &["ns", doomed.name()]).await;
    eprintln!("--- diagnosis:\n{}", text.stdout);
    assert_eq!(text.code, Some(1), "{text}");
    let (title, steps) = blocked_by_api(cp, &doomed).await;
    assert!(
        title.contains(&format!(
            "API {group}/v1alpha1 is unavailable, so the namespace controller cannot make sure the namespace is empty: APIService {api_name}: service {}/gone-api has no ready endpoint: no pod matches app=gone-api",
            backend.name()
        )),
        "{title}"
    );
    assert!(
        steps.contains(&format!("delete APIService {api_name}")),
        "{steps}"
    );
    assert!(
        steps.contains(&format!("finalize Namespace {}", doomed.name())),
        "{steps}"
    );

    let saved = backup_dir();
    let fixed = fix_everything(
        cp,
        None,
        &format!("ns/{}", doomed.name()),
        &[],
        saved.path(),
    )
    .await;
    eprintln!("--- fix:\n{}", fixed.stderr);
    assert_eq!(fixed.code, Some(0), "{fixed}");
    let api_services: Api<APIService> = Api::all(cp.client());
    assert!(
        api_services
            .get_opt(&api_name)
            .await
            .expect("read apiservice")
            .is_none()
    );
    assert!(
        namespaces
            .get_opt(doomed.name())
            .await
            .expect("read ns")
            .is_none(),
        "the namespace should be gone"
    );
    let services: Api<Service> = backend.api();
    assert!(
        services
            .get_opt("gone-api")
            .await
            .expect("read service")
            .is_some(),
        "the backend is untouched"
    );
    assert!(
        namespaces
            .get_opt(backend.name())
            .await
            .expect("read ns")
            .is_some()
    );
    let files = backups(saved.path());
    assert_eq!(files.len(), 1, "only the APIService was changed: {files:?}");
    assert!(
        files[0]
            .to_string_lossy()
            .contains("unstick-backup-apiservice-"),
        "{files:?}"
    );
}

#[tokio::test]
async fn an_apiservice_backed_by_a_statefulset_scaled_to_zero_is_down_not_stale() {
    let cp = ControlPlane::shared().await;
    let backend = cp.namespace("unstick-api-sts").await;
    let doomed = cp.namespace("unstick-api-sts-doomed").await;
    let _exclusive = discovery_lock().write().await;
    let statefulset = "---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: gone-api}\n\
        spec: {replicas: 0, serviceName: gone-api, selector: {matchLabels: {app: gone-api}}, \
        template: {metadata: {labels: {app: gone-api}}, spec: {containers: [{name: api, image: registry.example/api:1}]}}}\n";
    let (_, api_name) = held_by_apiservice(cp, &backend, &doomed, statefulset).await;
    let (title, steps) = blocked_by_api(cp, &doomed).await;
    let api_services: Api<APIService> = Api::all(cp.client());
    api_services
        .delete(&api_name, &DeleteParams::default())
        .await
        .expect("delete apiservice");
    assert!(
        title.contains(&format!(
            "no pod matches app=gone-api (StatefulSet {}/gone-api is scaled to 0)",
            backend.name()
        )),
        "{title}"
    );
    assert!(
        steps.contains(&format!("delete APIService {api_name}")),
        "{steps}"
    );
    assert!(steps.contains("disables the API"), "{steps}");
    assert!(!steps.contains("stale"), "{steps}");
}
