//! Turning kube errors into [`Error`]s that name what failed: the verb and resource for 403s,
//! the server for connection failures, timeouts and 503/504 answers (the server is unavailable).

use kube::client::AuthError;

use crate::Error;

/// What a request was trying to do, to explain its failure.
#[derive(Debug, Clone)]
pub struct ApiContext {
    pub server: String,
    pub verb: &'static str,
    /// Plural resource, e.g. "pods" or "poddisruptionbudgets.policy".
    pub resource: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

/// Maps a kube error for the request described by `ctx`.
pub fn from_kube_error(err: kube::Error, ctx: &ApiContext) -> Error {
    match err {
        kube::Error::Api(status) => match status.code {
            401 => Error::Unauthorized {
                server: ctx.server.clone(),
                message: status.message.clone(),
            },
            403 => forbidden(&status.message, ctx),
            404 => Error::NotFound {
                kind: singular(&ctx.resource),
                name: ctx.name.clone().unwrap_or_else(|| status.message.clone()),
                namespace: ctx.namespace.clone(),
                suggestions: Vec::new(),
            },
            503 | 504 => Error::Unreachable {
                server: ctx.server.clone(),
                reason: format!("it answered {} ({})", status.code, status.message),
            },
            code => Error::Api {
                code,
                message: status.message.clone(),
            },
        },
        kube::Error::Auth(auth) => credentials_failed(&auth, &ctx.server),
        // The auth layer's failures reach us boxed as a service error.
        kube::Error::Service(inner) => match inner.downcast::<AuthError>() {
            Ok(auth) => credentials_failed(&auth, &ctx.server),
            Err(inner) => unreachable_server(&kube::Error::Service(inner), ctx),
        },
        other if is_transport(&other) => unreachable_server(&other, ctx),
        other => Error::Api {
            code: 0,
            message: root_cause(&other),
        },
    }
}

fn unreachable_server(err: &kube::Error, ctx: &ApiContext) -> Error {
    Error::Unreachable {
        server: ctx.server.clone(),
        reason: root_cause(err),
    }
}

/// The kubeconfig user's credentials could not be obtained (an exec plugin or token file failed).
pub(super) fn credentials_failed(err: &AuthError, server: &str) -> Error {
    let reason = match err {
        AuthError::AuthExecRun { cmd, out } => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let said = stderr.trim();
            format!(
                "the credential plugin `{cmd}` failed ({}){}",
                out.status,
                if said.is_empty() {
                    String::new()
                } else {
                    format!(": {said}")
                }
            )
        }
        other => root_cause(other),
    };
    Error::NoCredentials {
        server: server.to_string(),
        reason,
    }
}

fn is_transport(err: &kube::Error) -> bool {
    matches!(err, kube::Error::HyperError(_))
}

/// The innermost message of an error chain: "connection refused" rather than "ServiceError: ...".
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    let text = current.to_string();
    if text.contains("elapsed") || text.to_lowercase().contains("timed out") {
        "the request timed out (see --request-timeout)".to_string()
    } else {
        text
    }
}

/// Reads the API server's 403 message: `pods is forbidden: User "x" cannot list resource "pods"
/// in API group "" in the namespace "y"`.
fn forbidden(message: &str, ctx: &ApiContext) -> Error {
    let user = between(message, "forbidden: ", " cannot ")
        .unwrap_or("the current user")
        .to_string();
    let verb = between(message, " cannot ", " resource ").map(str::to_string);
    let resource = between(message, "resource \"", "\"").map(|r| {
        match between(message, "API group \"", "\"") {
            Some(group) if !group.is_empty() => format!("{r}.{group}"),
            _ => r.to_string(),
        }
    });
    let namespace = between(message, "in the namespace \"", "\"").map(str::to_string);
    Error::Forbidden {
        user,
        verb: verb.unwrap_or_else(|| ctx.verb.to_string()),
        resource: resource.unwrap_or_else(|| ctx.resource.clone()),
        namespace: namespace.or_else(|| ctx.namespace.clone()),
    }
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}

fn singular(resource: &str) -> String {
    let base = resource.split('.').next().unwrap_or(resource);
    if let Some(stem) = base.strip_suffix("ies") {
        format!("{stem}y")
    } else if let Some(stem) = base.strip_suffix("sses") {
        format!("{stem}ss")
    } else {
        base.strip_suffix('s').unwrap_or(base).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ApiContext {
        ApiContext {
            server: "https://127.0.0.1:6443".into(),
            verb: "list",
            resource: "pods".into(),
            namespace: Some("shop".into()),
            name: None,
        }
    }

    #[test]
    fn forbidden_message_names_user_verb_and_resource() {
        let msg = "poddisruptionbudgets.policy is forbidden: User \"viewer\" cannot list resource \"poddisruptionbudgets\" in API group \"policy\" in the namespace \"shop\"";
        let err = forbidden(msg, &ctx());
        assert_eq!(
            err.to_string(),
            "forbidden: User \"viewer\" cannot list poddisruptionbudgets.policy in namespace \"shop\"\n  hint: this needs RBAC permission to list poddisruptionbudgets.policy"
        );
    }

    #[test]
    fn forbidden_at_cluster_scope() {
        let msg = "nodes is forbidden: User \"viewer\" cannot list resource \"nodes\" in API group \"\" at the cluster scope";
        let err = forbidden(
            msg,
            &ApiContext {
                namespace: None,
                resource: "nodes".into(),
                ..ctx()
            },
        );
        assert!(
            err.to_string()
                .starts_with("forbidden: User \"viewer\" cannot list nodes at the cluster scope"),
            "{err}"
        );
    }

    #[test]
    fn a_failing_credential_plugin_is_unauthorized_not_unreachable() {
        let out = std::process::Command::new("sh")
            .args(["-c", "echo 'token expired, run: cloud login' >&2; exit 1"])
            .output()
            .unwrap();
        let auth = AuthError::AuthExecRun {
            cmd: "cloud-auth".into(),
            out: Box::new(out),
        };
        let err = from_kube_error(kube::Error::Service(Box::new(auth)), &ctx());
        assert_eq!(err.exit_code(), crate::exit_code::UNAUTHORIZED);
        assert_eq!(
            err.to_string().lines().next().unwrap(),
            "cannot get credentials for the API server at https://127.0.0.1:6443: the credential plugin `cloud-auth` failed (exit status: 1): token expired, run: cloud login"
        );
    }

    #[test]
    fn singular_names() {
        assert_eq!(singular("pods"), "pod");
        assert_eq!(singular("networkpolicies"), "networkpolicy");
        assert_eq!(singular("endpointslices"), "endpointslice");
        assert_eq!(
            singular("poddisruptionbudgets.policy"),
            "poddisruptionbudget"
        );
    }
}
