//! The connection flags that override the kubeconfig, as kubectl applies them: `--server`,
//! `--token`, `--insecure-skip-tls-verify` and impersonation (`--as`, `--as-group`, `--as-uid`).

use kube::{Config, config::AuthInfo};

use super::flags::KubectlFlags;
use crate::Error;

/// Applies the override flags to a config loaded from the kubeconfig (or in-cluster).
pub fn apply_overrides(config: &mut Config, flags: &KubectlFlags) -> Result<(), Error> {
    if let Some(server) = &flags.server {
        config.cluster_url = server_url(server)?;
    }
    if let Some(token) = &flags.token {
        // The token alone authenticates: a client certificate kept beside it would win.
        config.auth_info = AuthInfo {
            token: Some(token.clone().into()),
            ..AuthInfo::default()
        };
    }
    if flags.insecure_skip_tls_verify {
        config.accept_invalid_certs = true;
    }
    // Like kubectl's overrides: a flag replaces the kubeconfig's value only when it is given.
    if let Some(user) = &flags.impersonate {
        config.auth_info.impersonate = Some(user.clone());
    }
    if !flags.impersonate_groups.is_empty() {
        config.auth_info.impersonate_groups = Some(flags.impersonate_groups.clone());
    }
    if let Some(uid) = &flags.impersonate_uid {
        config.auth_info.impersonate_uid = Some(uid.clone());
    }
    Ok(())
}

/// `--server` as kubectl takes it: a URL, or a bare `host:port` meaning https.
fn server_url(server: &str) -> Result<http::Uri, Error> {
    let with_scheme = if server.contains("://") {
        server.to_string()
    } else {
        format!("https://{server}")
    };
    with_scheme
        .parse::<http::Uri>()
        .ok()
        .filter(|uri| uri.host().is_some())
        .ok_or_else(|| Error::Usage(format!("--server \"{server}\" is not a valid URL")))
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn config() -> Config {
        let mut config = Config::new("https://10.0.0.1:6443".parse().unwrap());
        config.auth_info.client_certificate_data = Some("cert".into());
        config
    }

    #[test]
    fn server_token_and_insecure_replace_the_kubeconfigs() {
        let mut config = config();
        let flags = KubectlFlags {
            server: Some("127.0.0.1:8443".into()),
            token: Some("abc".into()),
            insecure_skip_tls_verify: true,
            ..Default::default()
        };
        apply_overrides(&mut config, &flags).unwrap();
        assert_eq!(config.cluster_url.to_string(), "https://127.0.0.1:8443/");
        let token = config.auth_info.token.as_ref().unwrap();
        assert_eq!(token.expose_secret(), "abc");
        assert_eq!(config.auth_info.client_certificate_data, None);
        assert!(config.accept_invalid_certs);
    }

    #[test]
    fn impersonation_keeps_the_users_credentials() {
        let mut config = config();
        let flags = KubectlFlags {
            impersonate: Some("alice".into()),
            impersonate_groups: vec!["dev".into(), "ops".into()],
            ..Default::default()
        };
        apply_overrides(&mut config, &flags).unwrap();
        assert_eq!(config.auth_info.impersonate.as_deref(), Some("alice"));
        assert_eq!(
            config.auth_info.impersonate_groups,
            Some(vec!["dev".to_string(), "ops".to_string()])
        );
        assert_eq!(
            config.auth_info.client_certificate_data.as_deref(),
            Some("cert")
        );
    }

    #[test]
    fn the_kubeconfigs_impersonation_stays_unless_a_flag_replaces_it() {
        let mut config = config();
        config.auth_info.impersonate_groups = Some(vec!["from-kubeconfig".into()]);
        let flags = KubectlFlags {
            impersonate: Some("alice".into()),
            ..Default::default()
        };
        apply_overrides(&mut config, &flags).unwrap();
        assert_eq!(
            config.auth_info.impersonate_groups,
            Some(vec!["from-kubeconfig".to_string()])
        );
    }

    #[test]
    fn a_server_that_is_not_a_url_is_a_usage_error() {
        let flags = KubectlFlags {
            server: Some("https://".into()),
            ..Default::default()
        };
        let err = apply_overrides(&mut config(), &flags).unwrap_err();
        assert_eq!(err.exit_code(), crate::exit_code::USAGE);
    }
}
