//! Kubeconfig files written for one test: a cluster at some address with some kind of user.

use std::path::PathBuf;

use kube_runbooks_harness::ControlPlane;

/// A kubeconfig whose only context is `name`: cluster `name` at `server` (certificate not
/// checked), user `name` given by the YAML mapping `user`.
pub fn kubeconfig(cp: &ControlPlane, name: &str, server: &str, user: &str) -> PathBuf {
    let path = cp.work_dir().join(format!("kubeconfig-{name}"));
    let text = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: {name}\nclusters:\n- name: {name}\n  cluster: {{server: '{server}', insecure-skip-tls-verify: true}}\ncontexts:\n- name: {name}\n  context: {{cluster: {name}, user: {name}}}\nusers:\n- name: {name}\n  user: {user}\n"
    );
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    path
}

/// A kubeconfig for `server` whose user has a token the API server does not know.
pub fn token_kubeconfig(cp: &ControlPlane, server: &str) -> PathBuf {
    let name = format!("token-{}", server.replace([':', '/', '.'], "_"));
    kubeconfig(cp, &name, server, "{token: nothing}")
}

/// `KUBECONFIG`'s list form: the files joined with `:`.
pub fn joined(paths: &[&std::path::Path]) -> String {
    std::env::join_paths(paths)
        .unwrap_or_else(|e| panic!("cannot join kubeconfig paths: {e}"))
        .into_string()
        .unwrap_or_else(|p| panic!("not UTF-8: {p:?}"))
}
