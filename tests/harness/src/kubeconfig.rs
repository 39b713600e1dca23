//! Writes self-contained kubeconfig files (certificates embedded as base64 data).

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::pki::CertPair;

/// Writes a kubeconfig for `server` trusting `ca_pem`, authenticating with `client`, under the
/// user and context name `name`. The file is JSON, which every kubeconfig reader accepts as YAML.
pub fn write(path: &Path, server: &str, ca_pem: &str, name: &str, client: &CertPair) {
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{
            "name": "harness",
            "cluster": {
                "server": server,
                "certificate-authority-data": STANDARD.encode(ca_pem),
            },
        }],
        "users": [{
            "name": name,
            "user": {
                "client-certificate-data": STANDARD.encode(&client.cert_pem),
                "client-key-data": STANDARD.encode(&client.key_pem),
            },
        }],
        "contexts": [{
            "name": name,
            "context": {"cluster": "harness", "user": name, "namespace": "default"},
        }],
        "current-context": name,
        "preferences": {},
    });
    let text = serde_json::to_string_pretty(&config)
        .unwrap_or_else(|e| panic!("cannot serialize a kubeconfig: {e}"));
    std::fs::write(path, text)
        .unwrap_or_else(|e| panic!("cannot write kubeconfig {}: {e}", path.display()));
}

/// Builds a `kube::Client` from a kubeconfig file.
pub async fn client_from(path: &Path) -> kube::Client {
    let config = config_from(path).await;
    kube::Client::try_from(config)
        .unwrap_or_else(|e| panic!("cannot build a client from {}: {e}", path.display()))
}

/// Reads a kubeconfig file into a `kube::Config`.
pub async fn config_from(path: &Path) -> kube::Config {
    let kubeconfig = kube::config::Kubeconfig::read_from(path)
        .unwrap_or_else(|e| panic!("cannot read kubeconfig {}: {e}", path.display()));
    kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap_or_else(|e| panic!("cannot load kubeconfig {}: {e}", path.display()))
}
