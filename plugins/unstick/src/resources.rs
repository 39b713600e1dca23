//! Resource types: what discovery says about a kind (names, scope, verbs), and the same facts for
//! the built-in kinds a snapshot can hold.

use kube::core::ApiResource;
use kube_runbook::state::Kind;

/// One API resource type, as discovery describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceType {
    /// API group, empty for the core group.
    pub group: String,
    pub version: String,
    pub kind: String,
    /// Plural resource name, as in URLs and RBAC rules.
    pub plural: String,
    pub singular: String,
    pub short_names: Vec<String>,
    pub namespaced: bool,
    pub verbs: Vec<String>,
}

impl ResourceType {
    /// `v1` or `group/version`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `pods`, `deployments.apps`, `widgets.example.com`: how kubectl and RBAC name the resource.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// Whether the core group's `kind` is this type (`is_core("Pod")`).
    pub fn is_core(&self, kind: &str) -> bool {
        self.group.is_empty() && self.kind == kind
    }

    /// Whether this is `kind` of `group`.
    pub fn is(&self, group: &str, kind: &str) -> bool {
        self.group == group && self.kind == kind
    }

    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    /// The kube-rs description used to build dynamic requests.
    pub fn api_resource(&self) -> ApiResource {
        ApiResource {
            group: self.group.clone(),
            version: self.version.clone(),
            api_version: self.api_version(),
            kind: self.kind.clone(),
            plural: self.plural.clone(),
        }
    }

    /// The URL path of the collection, e.g. `/api/v1/namespaces/shop/pods`.
    pub fn collection_path(&self, namespace: Option<&str>) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace.filter(|_| self.namespaced) {
            Some(ns) => format!("{base}/namespaces/{ns}/{}", self.plural),
            None => format!("{base}/{}", self.plural),
        }
    }

    /// The built-in type of a kind the shared loaders know (used for snapshots).
    pub fn builtin(kind: Kind) -> ResourceType {
        ResourceType {
            group: kind.group().to_string(),
            version: "v1".to_string(),
            kind: kind.kind_name().to_string(),
            plural: kind.resource().to_string(),
            singular: kind.kind_name().to_lowercase(),
            short_names: builtin_short_names(kind)
                .iter()
                .map(|s| s.to_string())
                .collect(),
            namespaced: kind.namespaced(),
            verbs: [
                "get", "list", "watch", "create", "update", "patch", "delete",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        }
    }

    /// Every built-in type, in the order kubectl would prefer them.
    pub fn builtins() -> Vec<ResourceType> {
        Kind::ALL.into_iter().map(ResourceType::builtin).collect()
    }
}

fn builtin_short_names(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Pod => &["po"],
        Kind::Node => &["no"],
        Kind::Event => &["ev"],
        Kind::Namespace => &["ns"],
        Kind::PersistentVolumeClaim => &["pvc"],
        Kind::PersistentVolume => &["pv"],
        Kind::StorageClass => &["sc"],
        Kind::PodDisruptionBudget => &["pdb"],
        Kind::ReplicaSet => &["rs"],
        Kind::Deployment => &["deploy"],
        Kind::StatefulSet => &["sts"],
        Kind::DaemonSet => &["ds"],
        Kind::ReplicationController => &["rc"],
        Kind::Service => &["svc"],
        Kind::NetworkPolicy => &["netpol"],
        Kind::ConfigMap => &["cm"],
        Kind::ServiceAccount => &["sa"],
        Kind::ResourceQuota => &["quota"],
        Kind::LimitRange => &["limits"],
        Kind::PriorityClass => &["pc"],
        Kind::CustomResourceDefinition => &["crd", "crds"],
        Kind::Job | Kind::EndpointSlice | Kind::Secret | Kind::Lease | Kind::ApiService => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_names() {
        let pod = ResourceType::builtin(Kind::Pod);
        assert_eq!(
            pod.collection_path(Some("shop")),
            "/api/v1/namespaces/shop/pods"
        );
        assert_eq!(pod.qualified(), "pods");
        let sts = ResourceType::builtin(Kind::StatefulSet);
        assert_eq!(sts.api_version(), "apps/v1");
        assert_eq!(sts.qualified(), "statefulsets.apps");
        let node = ResourceType::builtin(Kind::Node);
        assert_eq!(node.collection_path(Some("shop")), "/api/v1/nodes");
        assert_eq!(
            ResourceType::builtin(Kind::ApiService).collection_path(None),
            "/apis/apiregistration.k8s.io/v1/apiservices"
        );
    }
}
