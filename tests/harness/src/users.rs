//! Extra users: the read-only `viewer` and client-certificate kubeconfigs for any user.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::json;

use crate::ControlPlane;
use crate::kubeconfig;

/// The user of [`ControlPlane::readonly_kubeconfig`].
pub const VIEWER: &str = "viewer";

/// Binds user `viewer` to the built-in ClusterRole `view`.
pub async fn bind_viewer(client: &kube::Client) {
    let bindings: Api<ClusterRoleBinding> = Api::all(client.clone());
    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "kube-runbooks-harness-viewer"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": VIEWER}],
    });
    bindings
        .patch(
            "kube-runbooks-harness-viewer",
            &PatchParams::apply("kube-runbooks-harness").force(),
            &Patch::Apply(&binding),
        )
        .await
        .unwrap_or_else(|e| panic!("cannot bind {VIEWER} to ClusterRole view: {e}"));
}

impl ControlPlane {
    /// Mints a client-certificate kubeconfig for `user` in `groups` (at most two). The user has no
    /// permissions until the test binds roles to it (or to one of its groups).
    pub fn kubeconfig_for(&self, user: &str, groups: &[&str]) -> PathBuf {
        let pair = self.pki.client_cert(user, groups);
        let seq = self.user_seq.fetch_add(1, Ordering::Relaxed);
        let safe: String = user
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let dir = self.layout.file("users");
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let path = dir.join(format!("{safe}-{seq}.kubeconfig"));
        kubeconfig::write(&path, self.server_url(), &self.pki.ca_pem, user, &pair);
        path
    }

    /// A client authenticating as `user` in `groups` (see [`ControlPlane::kubeconfig_for`]).
    pub async fn client_for(&self, user: &str, groups: &[&str]) -> kube::Client {
        kubeconfig::client_from(&self.kubeconfig_for(user, groups)).await
    }

    /// A client authenticating as the read-only `viewer`.
    pub async fn readonly_client(&self) -> kube::Client {
        kubeconfig::client_from(self.readonly_kubeconfig()).await
    }
}
