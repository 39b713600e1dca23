//! Users with just the permissions a test needs, to steer which ladder steps are offered.

use std::path::PathBuf;

use kube_runbooks_harness::ControlPlane;

/// A kubeconfig for `user`: `view` and `namespace_rules` in `namespace`, `cluster_rules` cluster-wide.
/// Rules are YAML flow mappings, one per line: `{apiGroups: [""], resources: [pods], verbs: [get]}`.
pub async fn kubeconfig_with_rules(
    cp: &ControlPlane,
    namespace: &str,
    user: &str,
    namespace_rules: &[&str],
    cluster_rules: &[&str],
) -> PathBuf {
    let rules =
        |rules: &[&str]| -> String { rules.iter().map(|rule| format!("- {rule}\n")).collect() };
    cp.apply_yaml(
        namespace,
        &format!(
            r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: {user}}}
rules:
{}---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: {user}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: {user}}}
subjects: [{{apiGroup: rbac.authorization.k8s.io, kind: User, name: {user}}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: {user}-view}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}}
subjects: [{{apiGroup: rbac.authorization.k8s.io, kind: User, name: {user}}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {{name: {user}}}
rules:
{}---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: {user}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {user}}}
subjects: [{{apiGroup: rbac.authorization.k8s.io, kind: User, name: {user}}}]
"#,
            rules(namespace_rules),
            rules(cluster_rules)
        ),
    )
    .await;
    cp.kubeconfig_for(user, &[])
}

/// A user who may read and delete pods in `namespace` and read nodes, but not change nodes.
pub async fn operator_kubeconfig(cp: &ControlPlane, namespace: &str) -> PathBuf {
    kubeconfig_with_rules(
        cp,
        namespace,
        &format!("operator-{namespace}"),
        &[r#"{apiGroups: [""], resources: [pods], verbs: [get, list, watch, delete, patch]}"#],
        &[
            r#"{apiGroups: [""], resources: [nodes], verbs: [get, list]}"#,
            "{apiGroups: [coordination.k8s.io], resources: [leases], verbs: [get, list]}",
        ],
    )
    .await
}
