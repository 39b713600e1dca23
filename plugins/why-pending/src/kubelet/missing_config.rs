//! Findings for ConfigMaps, Secrets and keys a pod needs that do not exist: from the spec checked
//! against the state, or from the kubelet's own message when the state cannot tell.

use k8s_openapi::api::core::v1::Event;
use kube_runbook::report::{Finding, ObjectRef, Remedy, Severity, Source};
use serde_json::json;

use super::config_refs::{ConfigKind, ConfigRef, Presence, presence, required_refs};
use super::context::PodContext;

/// The pod's required references that the state shows missing, one finding per object or key.
/// `keep` selects which references matter (e.g. one container's, or volumes only); `event` is
/// the kubelet event that reported the failure, cited on every finding.
pub fn missing_refs(
    ctx: &PodContext,
    keep: impl Fn(&ConfigRef) -> bool,
    event: Option<&Event>,
) -> Vec<Finding> {
    let Some(spec) = ctx.spec() else {
        return Vec::new();
    };
    let mut seen: Vec<(ConfigKind, String, Option<String>)> = Vec::new();
    let mut findings = Vec::new();
    for reference in required_refs(spec).into_iter().filter(|r| keep(r)) {
        let state = presence(&reference, ctx.namespace, ctx.state);
        let key = match state {
            Presence::ObjectMissing => None,
            Presence::KeyMissing => reference.key.clone(),
            Presence::Present | Presence::Unknown => continue,
        };
        let id = (reference.kind, reference.name.clone(), key.clone());
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        let mut finding = missing(
            ctx,
            reference.kind,
            &reference.name,
            key.as_deref(),
            Some(&reference),
        );
        if let Some(event) = event {
            let (fact, source) = ctx.event_evidence(event);
            finding = finding.evidence(fact, source);
        }
        findings.push(finding);
    }
    findings
}

/// A finding from the kubelet's message alone: `configmap "x" not found`, `secret "x" not found`,
/// `couldn't find key K in ConfigMap ns/x`, `couldn't find key K in Secret ns/x`.
pub fn from_message(ctx: &PodContext, message: &str, source: Source) -> Option<Finding> {
    let (kind, name, key) = parse_message(message)?;
    let mut finding =
        missing(ctx, kind, &name, key.as_deref(), None).evidence(message.to_string(), source);
    if !ctx.state.has(kind.state_kind()) {
        finding = finding.evidence(
            format!(
                "not confirmed against the cluster: {}",
                ctx.not_checked(kind.state_kind())
            ),
            Source::Computed,
        );
    } else if kind == ConfigKind::Secret && key.is_some() {
        finding = finding.evidence(
            "Secret data is never read, so the key is taken from the kubelet's message",
            Source::Computed,
        );
    }
    Some(finding)
}

fn parse_message(message: &str) -> Option<(ConfigKind, String, Option<String>)> {
    let quoted = |prefix: &str| {
        let rest = &message[message.find(prefix)? + prefix.len()..];
        let (name, tail) = rest.split_once('"')?;
        tail.starts_with(" not found").then(|| name.to_string())
    };
    if let Some(name) = quoted("configmap \"") {
        return Some((ConfigKind::ConfigMap, name, None));
    }
    if let Some(name) = quoted("secret \"") {
        return Some((ConfigKind::Secret, name, None));
    }
    let rest = &message[message.find("couldn't find key ")? + "couldn't find key ".len()..];
    let (key, rest) = rest.split_once(" in ")?;
    let (kind, object) = rest.split_once(' ')?;
    let kind = match kind {
        "ConfigMap" => ConfigKind::ConfigMap,
        "Secret" => ConfigKind::Secret,
        _ => return None,
    };
    let object = object.trim_end_matches(|c: char| c == '.' || c.is_whitespace());
    let name = object.rsplit_once('/').map_or(object, |(_, n)| n);
    Some((kind, name.to_string(), Some(key.to_string())))
}

fn missing(
    ctx: &PodContext,
    kind: ConfigKind,
    name: &str,
    key: Option<&str>,
    reference: Option<&ConfigRef>,
) -> Finding {
    let kind_name = kind.kind_name();
    let object = ObjectRef::namespaced(kind_name, ctx.namespace, name);
    let user = reference
        .map(user_words)
        .unwrap_or_else(|| "the pod".to_string());
    let (code, title) = match (kind, key) {
        (ConfigKind::ConfigMap, None) => (
            "config-map-not-found",
            format!("ConfigMap {name} used by {user} does not exist"),
        ),
        (ConfigKind::Secret, None) => (
            "secret-not-found",
            format!("Secret {name} used by {user} does not exist"),
        ),
        (ConfigKind::ConfigMap, Some(key)) => (
            "config-map-key-not-found",
            format!("ConfigMap {name} has no key {key} (used by {user})"),
        ),
        (ConfigKind::Secret, Some(key)) => (
            "secret-key-not-found",
            format!("Secret {name} has no key {key} (used by {user})"),
        ),
    };
    let blocked = if reference.is_some_and(|r| r.volume.is_some()) {
        "The kubelet cannot mount the volume, so the pod stays in ContainerCreating"
    } else {
        "The kubelet cannot build the container's environment, so the container stays in CreateContainerConfigError"
    };
    let ready_when = match key {
        None => format!("once {kind_name} {name} exists"),
        Some(key) => format!("once {kind_name} {name} has key {key}"),
    };
    let mut finding = Finding::new(Severity::Error, ctx.object.clone(), code, title).explain(format!(
        "{blocked}. It retries on its own: {ready_when}, the pod starts without being recreated. If the pod can run without it, mark the reference `optional: true`."
    ));
    if let Some(reference) = reference {
        finding = finding.evidence(reference_fact(reference), ctx.field(reference.path.clone()));
    }
    let exists_fact = match key {
        None => format!("{kind_name} {name} is not in namespace {}", ctx.namespace),
        Some(_) => format!(
            "{kind_name} {name} exists; keys: {}",
            existing_keys(ctx, kind, name)
        ),
    };
    if ctx.state.has(kind.state_kind()) {
        finding = finding.evidence(exists_fact, Source::Object { object });
    }
    finding
        .remedy(create_remedy(ctx, kind, name, key))
        .details(json!({
            "kind": kind_name,
            "name": name,
            "key": key,
            "container": reference.and_then(|r| r.container.clone()),
            "volume": reference.and_then(|r| r.volume.clone()),
            "path": reference.map(|r| r.path.clone()),
        }))
}

fn user_words(reference: &ConfigRef) -> String {
    match (&reference.container, &reference.volume) {
        (Some(container), _) => format!("container {container}"),
        (None, Some(volume)) => format!("volume {volume}"),
        (None, None) => "the pod".into(),
    }
}

fn reference_fact(reference: &ConfigRef) -> String {
    let key = reference
        .key
        .as_ref()
        .map(|k| format!(" key {k}"))
        .unwrap_or_default();
    format!(
        "references {} {}{key} (not optional)",
        reference.kind.kind_name(),
        reference.name
    )
}

fn existing_keys(ctx: &PodContext, kind: ConfigKind, name: &str) -> String {
    if kind == ConfigKind::Secret {
        return "not read (Secret data is never read)".into();
    }
    let keys: Vec<&str> = ctx
        .state
        .config_maps
        .iter()
        .filter(|c| {
            c.metadata.namespace.as_deref() == Some(ctx.namespace)
                && c.metadata.name.as_deref() == Some(name)
        })
        .flat_map(|c| {
            let data = c.data.iter().flat_map(|d| d.keys());
            let binary = c.binary_data.iter().flat_map(|d| d.keys());
            data.chain(binary).map(String::as_str)
        })
        .collect();
    if keys.is_empty() {
        "none".into()
    } else {
        keys.join(", ")
    }
}

fn create_remedy(ctx: &PodContext, kind: ConfigKind, name: &str, key: Option<&str>) -> Remedy {
    let ns = ctx.namespace;
    match (kind, key) {
        (ConfigKind::ConfigMap, None) => Remedy::command(
            format!("Create ConfigMap {name} (from literals or files)"),
            format!("kubectl create configmap {name} -n {ns} --from-literal=<key>=<value>"),
        ),
        (ConfigKind::Secret, None) => Remedy::command(
            format!("Create Secret {name}"),
            format!("kubectl create secret generic {name} -n {ns} --from-literal=<key>=<value>"),
        ),
        (ConfigKind::ConfigMap, Some(key)) => Remedy::command(
            format!("Add key {key} to ConfigMap {name} (or fix the key name in the pod spec)"),
            format!(
                "kubectl patch configmap {name} -n {ns} --type merge -p '{{\"data\":{{\"{key}\":\"<value>\"}}}}'"
            ),
        ),
        (ConfigKind::Secret, Some(key)) => Remedy::command(
            format!("Add key {key} to Secret {name} (or fix the key name in the pod spec)"),
            format!(
                "kubectl patch secret {name} -n {ns} --type merge -p '{{\"stringData\":{{\"{key}\":\"<value>\"}}}}'"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kubelet_messages() {
        assert_eq!(
            parse_message(r#"configmap "app-config" not found"#),
            Some((ConfigKind::ConfigMap, "app-config".into(), None))
        );
        assert_eq!(
            parse_message(r#"secret "db" not found"#),
            Some((ConfigKind::Secret, "db".into(), None))
        );
        assert_eq!(
            parse_message("couldn't find key LOG_LEVEL in ConfigMap shop/app-config"),
            Some((
                ConfigKind::ConfigMap,
                "app-config".into(),
                Some("LOG_LEVEL".into())
            ))
        );
        assert_eq!(
            parse_message("couldn't find key password in Secret shop/db"),
            Some((ConfigKind::Secret, "db".into(), Some("password".into())))
        );
        assert_eq!(
            parse_message("container has runAsNonRoot and image will run as root"),
            None
        );
    }
}
