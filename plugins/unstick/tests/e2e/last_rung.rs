//! The last rung: a namespace held by a custom resource whose finalizer has no controller, fixed
//! by a user who may finalize namespaces but not patch that resource, so the finalizer removal is
//! not offered and the ladder reaches `/finalize`. The plan names what it strands before the
//! call; the namespace goes, a backup of it is written and its path printed, and nothing outside
//! the namespace is touched.

use std::time::Duration;

use k8s_openapi::{
    api::core::v1::Namespace,
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use kube::{Api, api::DynamicObject};
use kube_runbooks_harness::{ControlPlane, poll_until};

use crate::common::{backup_dir, backups, discovery_lock, fix_everything, gizmo_type};

#[tokio::test]
async fn a_namespace_held_by_a_custom_resource_is_finalized_as_the_last_resort() {
    let cp = ControlPlane::shared().await;
    let _shared = discovery_lock().read().await;
    let doomed = cp.namespace("unstick-last-rung").await;
    let bystander = cp.namespace("unstick-last-rung-other").await;
    let group = format!("{}.lastrung.test", doomed.name());
    let finalizer = format!("{group}/cleanup");
    let operator = format!("{}-operator", doomed.name());
    let resource = gizmo_type(cp, &doomed, &group).await;
    cp.apply_yaml(
        doomed.name(),
        &format!(
            r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {{name: {operator}}}
rules:
- {{apiGroups: [""], resources: [namespaces/finalize], verbs: [update]}}
- {{apiGroups: [{group}], resources: [gizmos], verbs: [get, list, watch]}}
- {{apiGroups: [apiextensions.k8s.io], resources: [customresourcedefinitions], verbs: [get, list, watch]}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: {operator}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {operator}}}
subjects: [{{apiGroup: rbac.authorization.k8s.io, kind: User, name: {operator}}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: {operator}-view}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}}
subjects: [{{apiGroup: rbac.authorization.k8s.io, kind: User, name: {operator}}}]
"#
        ),
    )
    .await;
    let gizmo = format!(
        "apiVersion: {group}/v1\nkind: Gizmo\nmetadata: {{name: g1, finalizers: [{finalizer}]}}\n"
    );
    doomed.apply_yaml(&gizmo).await;
    bystander.apply_yaml(&gizmo).await;
    let held: Api<DynamicObject> = Api::namespaced_with(cp.client(), doomed.name(), &resource);
    let other: Api<DynamicObject> = Api::namespaced_with(cp.client(), bystander.name(), &resource);
    let other_before = other.get("g1").await.expect("the bystander gizmo");

    doomed.delete(None).await;
    poll_until(
        Duration::from_secs(60),
        "the namespace controller deletes g1",
        || async {
            match held.get("g1").await {
                Ok(g) if g.metadata.deletion_timestamp.is_some() => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await;

    let kubeconfig = cp.kubeconfig_for(&operator, &[]);
    let saved = backup_dir();
    let fixed = fix_everything(
        cp,
        Some(&kubeconfig),
        &format!("ns/{}", doomed.name()),
        &["--acknowledge", doomed.name()],
        saved.path(),
    )
    .await;
    eprintln!("--- fix:\n{}", fixed.stderr);
    assert_eq!(fixed.code, Some(0), "{fixed}");
    assert!(
        fixed.stderr.contains(&format!(
            "Not offered: Remove finalizer {finalizer} from Gizmo {}/g1",
            doomed.name()
        )),
        "{fixed}"
    );
    let strands = fixed
        .stderr
        .find("danger: strands in etcd")
        .unwrap_or_else(|| panic!("the plan names nothing it strands:\n{fixed}"));
    let stranded_gizmo = format!("Gizmo {}/g1", doomed.name());
    assert!(
        fixed.stderr[strands..]
            .lines()
            .next()
            .is_some_and(|line| line.contains(&stranded_gizmo)),
        "{fixed}"
    );
    let finalized = fixed
        .stderr
        .find(&format!("done: Finalize Namespace {}", doomed.name()))
        .unwrap_or_else(|| panic!("/finalize was not called:\n{fixed}"));
    assert!(
        strands < finalized,
        "what is stranded is listed before /finalize"
    );
    assert!(
        fixed
            .stderr
            .contains(&format!("Namespace {} is gone", doomed.name())),
        "{fixed}"
    );

    let namespaces: Api<Namespace> = Api::all(cp.client());
    assert!(
        namespaces
            .get_opt(doomed.name())
            .await
            .expect("read ns")
            .is_none(),
        "the namespace should be gone"
    );
    let files = backups(saved.path());
    assert_eq!(files.len(), 1, "only the namespace was changed: {files:?}");
    assert!(
        fixed.stderr.contains(&format!(
            "backup of Namespace {} written to {}",
            doomed.name(),
            files[0].display()
        )),
        "{fixed}"
    );
    let backup = std::fs::read_to_string(&files[0]).expect("read backup");
    assert!(
        backup.contains(&format!("\"{}\"", doomed.name())) && backup.contains("\"kubernetes\""),
        "the namespace as it was, its finalizer token included: {backup}"
    );

    let other_after = other.get("g1").await.expect("the bystander gizmo is kept");
    assert_eq!(
        other_after.metadata.resource_version, other_before.metadata.resource_version,
        "the gizmo outside the namespace is untouched"
    );
    assert!(other_after.metadata.deletion_timestamp.is_none());
    let crds: Api<CustomResourceDefinition> = Api::all(cp.client());
    assert!(
        crds.get_opt(&format!("gizmos.{group}"))
            .await
            .expect("read crd")
            .is_some(),
        "the CRD is untouched"
    );
}
