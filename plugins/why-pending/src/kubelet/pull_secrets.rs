//! The image pull secrets a pod can use: its own `imagePullSecrets` and its ServiceAccount's,
//! and whether each Secret exists.

use kube_runbook::{
    report::{ObjectRef, Source},
    state::Kind,
};
use serde::Serialize;

use super::context::PodContext;

/// One referenced pull secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PullSecret {
    pub name: String,
    /// Listed in the pod spec (the ServiceAccount's are copied there when the pod is created).
    pub in_pod: bool,
    /// Listed on the ServiceAccount now.
    pub in_service_account: bool,
    /// None when Secrets could not be checked.
    pub exists: Option<bool>,
}

/// The pull secrets of the pod and its ServiceAccount, plus facts about what could not be checked.
pub struct PullSecrets {
    pub service_account: String,
    pub secrets: Vec<PullSecret>,
    /// Evidence: (fact, source).
    pub notes: Vec<(String, Source)>,
}

pub fn pull_secrets(ctx: &PodContext) -> PullSecrets {
    let spec = ctx.spec();
    let service_account = spec
        .and_then(|s| s.service_account_name.as_deref())
        .filter(|n| !n.is_empty())
        .unwrap_or("default")
        .to_string();
    let mut notes = Vec::new();
    let from_pod: Vec<&str> = spec
        .and_then(|s| s.image_pull_secrets.as_deref())
        .unwrap_or(&[])
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    let from_account = service_account_secrets(ctx, &service_account, &mut notes);
    let mut names: Vec<&str> = from_pod.clone();
    names.extend(
        from_account
            .iter()
            .copied()
            .filter(|n| !from_pod.contains(n)),
    );
    let secrets = names
        .into_iter()
        .map(|name| PullSecret {
            name: name.to_string(),
            in_pod: from_pod.contains(&name),
            in_service_account: from_account.contains(&name),
            exists: secret_exists(ctx, name),
        })
        .collect();
    if !ctx.state.has(Kind::Secret) {
        notes.push((
            format!(
                "whether the pull secrets exist is unknown: {}",
                ctx.not_checked(Kind::Secret)
            ),
            Source::Computed,
        ));
    }
    PullSecrets {
        service_account,
        secrets,
        notes,
    }
}

fn service_account_secrets<'a>(
    ctx: &PodContext<'a>,
    name: &str,
    notes: &mut Vec<(String, Source)>,
) -> Vec<&'a str> {
    if !ctx.state.has(Kind::ServiceAccount) {
        notes.push((
            format!(
                "the ServiceAccount's pull secrets are unknown: {}",
                ctx.not_checked(Kind::ServiceAccount)
            ),
            Source::Computed,
        ));
        return Vec::new();
    }
    let account = ctx.state.service_accounts.iter().find(|sa| {
        sa.metadata.namespace.as_deref() == Some(ctx.namespace)
            && sa.metadata.name.as_deref() == Some(name)
    });
    let object = ObjectRef::namespaced("ServiceAccount", ctx.namespace, name);
    match account {
        None => {
            notes.push((
                format!("ServiceAccount {name} does not exist"),
                Source::Object { object },
            ));
            Vec::new()
        }
        Some(account) => account
            .image_pull_secrets
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .map(|r| r.name.as_str())
            .collect(),
    }
}

pub fn secret_exists(ctx: &PodContext, name: &str) -> Option<bool> {
    ctx.state.has(Kind::Secret).then(|| {
        ctx.state.secrets.iter().any(|s| {
            s.metadata.namespace.as_deref() == Some(ctx.namespace)
                && s.metadata.name.as_deref() == Some(name)
        })
    })
}
