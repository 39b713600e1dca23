//! A client that hands every answer back at once, 429s included.
//!
//! kube's default client retries 429, 503 and 504 answers itself, with exponential backoff for
//! minutes. That hides the answers a mutating plugin must act on: an eviction refused by a
//! PodDisruptionBudget (429), told apart from API rate limiting, has to be seen, named and
//! retried on the plugin's own terms.

use kube::{Client, Config, config::KubeConfigOptions};

use crate::{
    Error,
    cli::{Connection, KubeconfigSource, KubectlFlags, parse_request_timeout, resolve_kubeconfig},
};

/// A client for the same cluster, context and user as `conn` (built by [`crate::cli::connect`]
/// from `flags`), without kube's automatic retries.
pub async fn direct_client(flags: &KubectlFlags, conn: &Connection) -> Result<Client, Error> {
    let timeout = parse_request_timeout(&flags.request_timeout)?;
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let in_cluster = std::env::var_os("KUBERNETES_SERVICE_HOST").is_some();
    let env_value = std::env::var("KUBECONFIG").ok();
    let source = resolve_kubeconfig(
        flags.kubeconfig.as_deref(),
        env_value.as_deref(),
        home.as_deref(),
        in_cluster,
    )?;
    let mut config = match source {
        KubeconfigSource::InCluster => {
            Config::incluster().map_err(|e| Error::ClientConfig(e.to_string()))?
        }
        KubeconfigSource::Files(_, kubeconfig) => {
            let options = KubeConfigOptions {
                context: conn.context.clone(),
                cluster: flags.cluster.clone(),
                user: flags.user.clone(),
            };
            Config::from_custom_kubeconfig(*kubeconfig, &options)
                .await
                .map_err(|e| Error::ClientConfig(e.to_string()))?
        }
    };
    config.connect_timeout = timeout;
    config.read_timeout = timeout;
    config.write_timeout = timeout;
    config.default_retry = false;
    Client::try_from(config).map_err(|e| Error::ClientConfig(e.to_string()))
}
