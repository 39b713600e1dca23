//! Every ConfigMap and Secret a pod references (env, envFrom, volumes, projected sources), and
//! whether each (and each named key) exists. References marked `optional: true` never block.

use k8s_openapi::api::core::v1::{Container, PodSpec, Volume};
use kube_runbook::state::{ClusterState, Kind};

/// ConfigMap or Secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigKind {
    ConfigMap,
    Secret,
}

impl ConfigKind {
    pub fn kind_name(self) -> &'static str {
        match self {
            ConfigKind::ConfigMap => "ConfigMap",
            ConfigKind::Secret => "Secret",
        }
    }

    pub fn state_kind(self) -> Kind {
        match self {
            ConfigKind::ConfigMap => Kind::ConfigMap,
            ConfigKind::Secret => Kind::Secret,
        }
    }
}

/// One reference from the pod spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigRef {
    pub kind: ConfigKind,
    pub name: String,
    pub key: Option<String>,
    /// The field holding the reference, e.g. `spec.containers[0].env[2].valueFrom.configMapKeyRef`.
    pub path: String,
    /// The container using it (env), or None for a volume.
    pub container: Option<String>,
    /// The volume holding it, for volume references.
    pub volume: Option<String>,
}

/// What the state says about a reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    Present,
    ObjectMissing,
    KeyMissing,
    /// The kind was not readable, or (for Secret keys) data is never read.
    Unknown,
}

/// The non-optional references of `spec`: containers' env and envFrom, then volumes.
pub fn required_refs(spec: &PodSpec) -> Vec<ConfigRef> {
    let mut out = Vec::new();
    let init = spec
        .init_containers
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("spec.initContainers[{i}]"), c));
    let app = spec
        .containers
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("spec.containers[{i}]"), c));
    for (path, container) in init.chain(app) {
        container_refs(&path, container, &mut out);
    }
    for (i, volume) in spec.volumes.as_deref().unwrap_or(&[]).iter().enumerate() {
        volume_refs(&format!("spec.volumes[{i}]"), volume, &mut out);
    }
    out
}

fn container_refs(path: &str, container: &Container, out: &mut Vec<ConfigRef>) {
    let at = |suffix: String, kind, name: &str, key: Option<&str>| ConfigRef {
        kind,
        name: name.to_string(),
        key: key.map(str::to_string),
        path: format!("{path}{suffix}"),
        container: Some(container.name.clone()),
        volume: None,
    };
    for (i, env) in container.env.as_deref().unwrap_or(&[]).iter().enumerate() {
        let Some(from) = &env.value_from else {
            continue;
        };
        if let Some(r) = from
            .config_map_key_ref
            .as_ref()
            .filter(|r| r.optional != Some(true))
        {
            out.push(at(
                format!(".env[{i}].valueFrom.configMapKeyRef"),
                ConfigKind::ConfigMap,
                &r.name,
                Some(&r.key),
            ));
        }
        if let Some(r) = from
            .secret_key_ref
            .as_ref()
            .filter(|r| r.optional != Some(true))
        {
            out.push(at(
                format!(".env[{i}].valueFrom.secretKeyRef"),
                ConfigKind::Secret,
                &r.name,
                Some(&r.key),
            ));
        }
    }
    for (i, source) in container
        .env_from
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        if let Some(r) = source
            .config_map_ref
            .as_ref()
            .filter(|r| r.optional != Some(true))
        {
            out.push(at(
                format!(".envFrom[{i}].configMapRef"),
                ConfigKind::ConfigMap,
                &r.name,
                None,
            ));
        }
        if let Some(r) = source
            .secret_ref
            .as_ref()
            .filter(|r| r.optional != Some(true))
        {
            out.push(at(
                format!(".envFrom[{i}].secretRef"),
                ConfigKind::Secret,
                &r.name,
                None,
            ));
        }
    }
}

fn volume_refs(path: &str, volume: &Volume, out: &mut Vec<ConfigRef>) {
    let mut push = |suffix: String, kind, name: &str, keys: Vec<&str>| {
        let base = ConfigRef {
            kind,
            name: name.to_string(),
            key: None,
            path: format!("{path}{suffix}"),
            container: None,
            volume: Some(volume.name.clone()),
        };
        if keys.is_empty() {
            out.push(base);
        } else {
            out.extend(keys.into_iter().map(|k| ConfigRef {
                key: Some(k.to_string()),
                ..base.clone()
            }));
        }
    };
    if let Some(cm) = volume
        .config_map
        .as_ref()
        .filter(|c| c.optional != Some(true))
    {
        push(
            ".configMap".into(),
            ConfigKind::ConfigMap,
            &cm.name,
            item_keys(cm.items.as_deref()),
        );
    }
    if let Some(secret) = volume.secret.as_ref().filter(|s| s.optional != Some(true)) {
        let name = secret.secret_name.as_deref().unwrap_or("");
        push(
            ".secret".into(),
            ConfigKind::Secret,
            name,
            item_keys(secret.items.as_deref()),
        );
    }
    let sources = volume
        .projected
        .as_ref()
        .and_then(|p| p.sources.as_deref())
        .unwrap_or(&[]);
    for (i, source) in sources.iter().enumerate() {
        if let Some(cm) = source
            .config_map
            .as_ref()
            .filter(|c| c.optional != Some(true))
        {
            push(
                format!(".projected.sources[{i}].configMap"),
                ConfigKind::ConfigMap,
                &cm.name,
                item_keys(cm.items.as_deref()),
            );
        }
        if let Some(secret) = source.secret.as_ref().filter(|s| s.optional != Some(true)) {
            push(
                format!(".projected.sources[{i}].secret"),
                ConfigKind::Secret,
                &secret.name,
                item_keys(secret.items.as_deref()),
            );
        }
    }
}

fn item_keys(items: Option<&[k8s_openapi::api::core::v1::KeyToPath]>) -> Vec<&str> {
    items
        .unwrap_or(&[])
        .iter()
        .map(|i| i.key.as_str())
        .collect()
}

/// Whether `reference` resolves in `namespace`.
pub fn presence(reference: &ConfigRef, namespace: &str, state: &ClusterState) -> Presence {
    if !state.has(reference.kind.state_kind()) {
        return Presence::Unknown;
    }
    let in_namespace = |ns: Option<&str>, name: Option<&str>| {
        ns == Some(namespace) && name == Some(reference.name.as_str())
    };
    match reference.kind {
        ConfigKind::ConfigMap => {
            let Some(cm) = state.config_maps.iter().find(|c| {
                in_namespace(c.metadata.namespace.as_deref(), c.metadata.name.as_deref())
            }) else {
                return Presence::ObjectMissing;
            };
            match &reference.key {
                None => Presence::Present,
                Some(key) => {
                    let in_data = cm.data.as_ref().is_some_and(|d| d.contains_key(key));
                    let in_binary = cm.binary_data.as_ref().is_some_and(|d| d.contains_key(key));
                    if in_data || in_binary {
                        Presence::Present
                    } else {
                        Presence::KeyMissing
                    }
                }
            }
        }
        ConfigKind::Secret => {
            let exists = state
                .secrets
                .iter()
                .any(|s| in_namespace(s.metadata.namespace.as_deref(), s.metadata.name.as_deref()));
            match (exists, &reference.key) {
                (false, _) => Presence::ObjectMissing,
                (true, None) => Presence::Present,
                (true, Some(_)) => Presence::Unknown,
            }
        }
    }
}
