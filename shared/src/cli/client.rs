//! Building a connected client from the kubectl flags: the one client every plugin uses.
//!
//! It fails fast and hands every answer back at once. kube's default client retries 429, 503 and
//! 504 answers itself, with exponential backoff for minutes: that would hide an unavailable or
//! overloaded API server behind minutes of silence, and the answers a mutating plugin must act on
//! (an eviction refused by a PodDisruptionBudget, 429, told apart from API rate limiting) have
//! to be seen, named and retried on the plugin's own terms (lists retry a 429 a few times:
//! [`crate::state::retry_throttled`]). Connecting, sending and each read
//! wait at most `--request-timeout`.

use kube::{
    Client, Config,
    config::{KubeConfigOptions, Kubeconfig},
};

use super::{
    api_error::credentials_failed,
    flags::KubectlFlags,
    kubeconfig::{KubeconfigSource, resolve_kubeconfig},
    overrides::apply_overrides,
    timeout::parse_request_timeout,
};
use crate::{Error, error::nearest_names};

/// A client plus what the user should be told about where it points.
#[derive(Clone)]
pub struct Connection {
    pub client: Client,
    /// The namespace from `-n`, else the context's, else "default".
    pub namespace: String,
    /// The kubeconfig context in use (None in-cluster).
    pub context: Option<String>,
    /// The API server URL.
    pub server: String,
}

/// Resolves the kubeconfig like kubectl and builds a client honouring every connection flag,
/// without automatic retries.
pub async fn connect(flags: &KubectlFlags) -> Result<Connection, Error> {
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

    let (mut config, context) = match source {
        KubeconfigSource::InCluster => (
            Config::incluster().map_err(|e| Error::ClientConfig(e.to_string()))?,
            None,
        ),
        KubeconfigSource::Files(_, kubeconfig) => {
            let context = check_names(&kubeconfig, flags)?;
            let options = KubeConfigOptions {
                context: Some(context.clone()),
                cluster: flags.cluster.clone(),
                user: flags.user.clone(),
            };
            let config = Config::from_custom_kubeconfig(*kubeconfig, &options)
                .await
                .map_err(|e| Error::ClientConfig(e.to_string()))?;
            (config, Some(context))
        }
    };
    apply_overrides(&mut config, flags)?;
    config.connect_timeout = timeout;
    config.read_timeout = timeout;
    config.write_timeout = timeout;
    config.default_retry = false;
    let namespace = flags
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let server = config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_string();
    let client = Client::try_from(config).map_err(|err| match err {
        kube::Error::Auth(auth) => credentials_failed(&auth, &server),
        other => Error::ClientConfig(other.to_string()),
    })?;
    Ok(Connection {
        client,
        namespace,
        context,
        server,
    })
}

/// Checks that the context, cluster and user asked for exist; returns the context to use.
fn check_names(kubeconfig: &Kubeconfig, flags: &KubectlFlags) -> Result<String, Error> {
    let contexts: Vec<&str> = kubeconfig
        .contexts
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    let wanted = match flags
        .context
        .clone()
        .or_else(|| kubeconfig.current_context.clone())
    {
        Some(name) if !name.is_empty() => name,
        _ => {
            return Err(Error::NoCurrentContext {
                available: contexts.iter().map(|c| c.to_string()).collect(),
            });
        }
    };
    if !contexts.contains(&wanted.as_str()) {
        return Err(Error::ContextNotFound {
            suggestions: nearest_names(&wanted, contexts.iter().copied()),
            name: wanted,
        });
    }
    if let Some(cluster) = &flags.cluster
        && !kubeconfig.clusters.iter().any(|c| &c.name == cluster)
    {
        return Err(Error::ClientConfig(format!(
            "cluster \"{cluster}\" not found in the kubeconfig"
        )));
    }
    if let Some(user) = &flags.user
        && !kubeconfig.auth_infos.iter().any(|u| &u.name == user)
    {
        return Err(Error::ClientConfig(format!(
            "user \"{user}\" not found in the kubeconfig"
        )));
    }
    Ok(wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kubeconfig() -> Kubeconfig {
        Kubeconfig::from_yaml(
            "apiVersion: v1\nkind: Config\ncurrent-context: prod\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\ncontexts:\n- name: prod\n  context: {cluster: c, user: u}\n- name: staging\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {token: t}\n",
        )
        .unwrap()
    }

    #[test]
    fn unknown_context_suggests_near_names() {
        let flags = KubectlFlags {
            context: Some("prd".into()),
            ..Default::default()
        };
        let err = check_names(&kubeconfig(), &flags).unwrap_err();
        assert_eq!(
            err.to_string(),
            "context \"prd\" not found in the kubeconfig\n  hint: did you mean \"prod\"?"
        );
        assert_eq!(err.exit_code(), crate::exit_code::CONFIG);
    }

    #[test]
    fn current_context_is_the_default() {
        assert_eq!(
            check_names(&kubeconfig(), &KubectlFlags::default()).unwrap(),
            "prod"
        );
    }

    #[test]
    fn unknown_user_is_named() {
        let flags = KubectlFlags {
            user: Some("root".into()),
            ..Default::default()
        };
        assert_eq!(
            check_names(&kubeconfig(), &flags).unwrap_err().to_string(),
            "cannot build a client from the kubeconfig: user \"root\" not found in the kubeconfig"
        );
    }
}
