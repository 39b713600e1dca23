//! One error type for every plugin: a clear message for people and a documented exit code.

use std::path::PathBuf;

use thiserror::Error;

use crate::exit_code;

/// Everything that can stop a plugin before it has an answer.
#[derive(Debug, Error)]
pub enum Error {
    /// No kubeconfig file was found and the process is not inside a cluster.
    #[error(
        "no kubeconfig: none of {searched} exists, and this is not running inside a cluster\n  hint: pass --kubeconfig PATH or set KUBECONFIG"
    )]
    NoKubeconfig { searched: String },

    /// A kubeconfig file exists but could not be read or parsed.
    #[error("cannot read kubeconfig {path}: {reason}")]
    BadKubeconfig { path: String, reason: String },

    /// `--context` (or the current context) names no context in the kubeconfig.
    #[error("context \"{name}\" not found in the kubeconfig{}", suggest(.suggestions))]
    ContextNotFound {
        name: String,
        suggestions: Vec<String>,
    },

    /// The kubeconfig names no current context and none was given.
    #[error("the kubeconfig has no current context\n  hint: pass --context NAME (contexts: {})", .available.join(", "))]
    NoCurrentContext { available: Vec<String> },

    /// The kubeconfig could not be turned into a client (bad certificate, unknown auth, ...).
    #[error("cannot build a client from the kubeconfig: {0}")]
    ClientConfig(String),

    /// The API server did not answer: connection refused, DNS, TLS, or timeout.
    #[error("cannot reach the API server at {server}: {reason}")]
    Unreachable { server: String, reason: String },

    /// The credentials were rejected (HTTP 401).
    #[error("the API server at {server} rejected the credentials (401 Unauthorized): {message}")]
    Unauthorized { server: String, message: String },

    /// The kubeconfig user's credentials could not be obtained (exec plugin, token file, ...).
    #[error(
        "cannot get credentials for the API server at {server}: {reason}\n  hint: check the user in the kubeconfig (log in again if its credentials expired)"
    )]
    NoCredentials { server: String, reason: String },

    /// A permission is missing (HTTP 403); `verb` and `resource` name it.
    #[error("forbidden: {user} cannot {verb} {resource}{}\n  hint: this needs RBAC permission to {verb} {resource}", scope_suffix(.namespace))]
    Forbidden {
        user: String,
        verb: String,
        resource: String,
        namespace: Option<String>,
    },

    /// The named object does not exist.
    #[error("{kind} \"{name}\" not found{}{}", in_namespace(.namespace), suggest(.suggestions))]
    NotFound {
        kind: String,
        name: String,
        namespace: Option<String>,
        suggestions: Vec<String>,
    },

    /// A snapshot could not be read or parsed.
    #[error("cannot load snapshot {}: {reason}", .path.display())]
    BadSnapshot { path: PathBuf, reason: String },

    /// The command line was valid for the parser but not as a request (e.g. a bad TYPE/NAME).
    #[error("{0}")]
    Usage(String),

    /// Any other error answer from the API server.
    #[error("the API server answered {code}: {message}")]
    Api { code: u16, message: String },

    /// A change was started and did not finish; the message says what state was left.
    #[error("{0}")]
    Incomplete(String),

    /// The user pressed Ctrl-C.
    #[error("interrupted{}", if .0.is_empty() { String::new() } else { format!(": {}", .0) })]
    Interrupted(String),

    /// Output could not be written or rendered.
    #[error("cannot write output: {0}")]
    Output(String),
}

impl Error {
    /// The documented exit code for this class of error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::NoKubeconfig { .. }
            | Error::BadKubeconfig { .. }
            | Error::ContextNotFound { .. }
            | Error::NoCurrentContext { .. }
            | Error::ClientConfig(_) => exit_code::CONFIG,
            Error::Unreachable { .. } => exit_code::UNREACHABLE,
            Error::Unauthorized { .. } | Error::NoCredentials { .. } => exit_code::UNAUTHORIZED,
            Error::Forbidden { .. } => exit_code::FORBIDDEN,
            Error::NotFound { .. } => exit_code::NOT_FOUND,
            Error::BadSnapshot { .. } => exit_code::BAD_INPUT,
            Error::Usage(_) => exit_code::USAGE,
            Error::Api { .. } | Error::Output(_) => exit_code::API_ERROR,
            Error::Incomplete(_) => exit_code::INCOMPLETE,
            Error::Interrupted(_) => exit_code::INTERRUPTED,
        }
    }

    /// A not-found error for `name`, suggesting the nearest of `candidates`.
    pub fn not_found<'a>(
        kind: &str,
        name: &str,
        namespace: Option<&str>,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> Error {
        Error::NotFound {
            kind: kind.to_string(),
            name: name.to_string(),
            namespace: namespace.map(str::to_string),
            suggestions: nearest_names(name, candidates),
        }
    }
}

/// Up to three names close to `wanted` (by edit distance or shared prefix), nearest first.
pub fn nearest_names<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    let mut scored: Vec<(f64, &str)> = candidates
        .into_iter()
        .filter(|c| *c != wanted)
        .map(|c| {
            let similarity = strsim::jaro_winkler(wanted, c);
            let contains = c.contains(wanted) || wanted.contains(c);
            (
                if contains {
                    similarity.max(0.9)
                } else {
                    similarity
                },
                c,
            )
        })
        .filter(|(score, _)| *score >= 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(3)
        .map(|(_, c)| c.to_string())
        .collect()
}

fn suggest(suggestions: &[String]) -> String {
    match suggestions {
        [] => String::new(),
        [one] => format!("\n  hint: did you mean \"{one}\"?"),
        many => format!(
            "\n  hint: did you mean one of {}?",
            many.iter()
                .map(|s| format!("\"{s}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn in_namespace(namespace: &Option<String>) -> String {
    namespace
        .as_ref()
        .map(|ns| format!(" in namespace \"{ns}\""))
        .unwrap_or_default()
}

fn scope_suffix(namespace: &Option<String>) -> String {
    match namespace {
        Some(ns) => format!(" in namespace \"{ns}\""),
        None => " at the cluster scope".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_names_first() {
        let names = ["web-7d9f", "web-7d9g", "database-0", "cache"];
        let near = nearest_names("web-7d9", names);
        assert_eq!(near, vec!["web-7d9f", "web-7d9g"]);
        assert!(nearest_names("zzz", names).is_empty());
    }

    #[test]
    fn not_found_message_names_namespace_and_suggestion() {
        let err = Error::not_found("pod", "webb", Some("shop"), ["web", "db"]);
        assert_eq!(
            err.to_string(),
            "pod \"webb\" not found in namespace \"shop\"\n  hint: did you mean \"web\"?"
        );
        assert_eq!(err.exit_code(), exit_code::NOT_FOUND);
    }

    #[test]
    fn forbidden_names_verb_and_resource() {
        let err = Error::Forbidden {
            user: "User \"viewer\"".into(),
            verb: "list".into(),
            resource: "secrets".into(),
            namespace: Some("prod".into()),
        };
        assert!(
            err.to_string().starts_with(
                "forbidden: User \"viewer\" cannot list secrets in namespace \"prod\""
            )
        );
        assert_eq!(err.exit_code(), exit_code::FORBIDDEN);
    }
}
