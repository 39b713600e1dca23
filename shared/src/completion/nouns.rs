//! What a word names: objects of a kind, `TYPE/NAME`, kubeconfig entries, or paths.

use crate::state::Kind;

/// What the word being completed names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Noun {
    /// Names of objects of a kind in the namespace (every namespace with -A), except those
    /// already typed (for positionals that take several names).
    Names { kind: Kind, except: Vec<String> },
    /// Nodes marked unschedulable.
    CordonedNodes,
    /// `TYPE/NAME` for each type word, and bare names of objects of `bare` (if any).
    TypedNames {
        types: &'static [TypeWord],
        bare: Option<Kind>,
    },
    /// Names from the kubeconfig.
    Kubeconfig(KubeconfigEntry),
    /// A file or directory path.
    Path,
    /// A directory path.
    Directory,
}

/// The kubeconfig sections whose names `--context`, `--cluster` and `--user` take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KubeconfigEntry {
    Context,
    Cluster,
    User,
}

/// A resource type as typed before `/`: offered as its short name, also recognised by the
/// kind's plural and singular names, optionally with the group (`deployments.apps`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeWord {
    pub short: &'static str,
    pub kind: Kind,
}

impl TypeWord {
    const fn new(short: &'static str, kind: Kind) -> TypeWord {
        TypeWord { short, kind }
    }

    /// Whether `typed` (the text before `/`) names this type.
    pub fn is_named_by(&self, typed: &str) -> bool {
        let typed = typed.to_lowercase();
        let resource = typed.split('.').next().unwrap_or_default();
        resource == self.short
            || resource == self.kind.resource()
            || resource == self.kind.kind_name().to_lowercase()
    }
}

/// The type of `typed` (the text before `/`) among `types`.
pub fn find_type(types: &[TypeWord], typed: &str) -> Option<Kind> {
    types.iter().find(|t| t.is_named_by(typed)).map(|t| t.kind)
}

/// A pod, or a workload owning pods: what `kubectl why-pending` takes.
pub const POD_OWNERS: &[TypeWord] = &[
    TypeWord::new("po", Kind::Pod),
    TypeWord::new("deploy", Kind::Deployment),
    TypeWord::new("rs", Kind::ReplicaSet),
    TypeWord::new("sts", Kind::StatefulSet),
    TypeWord::new("ds", Kind::DaemonSet),
    TypeWord::new("job", Kind::Job),
];

/// The types objects are most often stuck in Terminating as: what `kubectl unstick` offers.
pub const STUCK_TYPES: &[TypeWord] = &[
    TypeWord::new("pod", Kind::Pod),
    TypeWord::new("ns", Kind::Namespace),
    TypeWord::new("pvc", Kind::PersistentVolumeClaim),
    TypeWord::new("pv", Kind::PersistentVolume),
    TypeWord::new("svc", Kind::Service),
    TypeWord::new("deploy", Kind::Deployment),
    TypeWord::new("sts", Kind::StatefulSet),
    TypeWord::new("rs", Kind::ReplicaSet),
    TypeWord::new("ds", Kind::DaemonSet),
    TypeWord::new("job", Kind::Job),
    TypeWord::new("cm", Kind::ConfigMap),
    TypeWord::new("secret", Kind::Secret),
    TypeWord::new("pdb", Kind::PodDisruptionBudget),
    TypeWord::new("crd", Kind::CustomResourceDefinition),
];

/// A Service, as `NAME` or `svc/NAME`: what `kubectl svc-check` takes.
pub const SERVICES: &[TypeWord] = &[TypeWord::new("svc", Kind::Service)];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_words_follow_kubectl_spellings() {
        for typed in ["deploy", "deployment", "Deployments", "deployments.apps"] {
            assert_eq!(
                find_type(POD_OWNERS, typed),
                Some(Kind::Deployment),
                "{typed}"
            );
        }
        assert_eq!(find_type(STUCK_TYPES, "namespace"), Some(Kind::Namespace));
        assert_eq!(
            find_type(STUCK_TYPES, "persistentvolumeclaims"),
            Some(Kind::PersistentVolumeClaim)
        );
        assert_eq!(find_type(POD_OWNERS, "pods"), Some(Kind::Pod));
        assert_eq!(find_type(POD_OWNERS, "svc"), None);
    }
}
