//! Which lists were read, and where: an empty list means "there are none" only for a namespace
//! whose list was read, not one that was forbidden or never asked for.

use std::collections::BTreeSet;

use kube_runbook::state::{ClusterState, Kind};

#[derive(Debug, Clone, Default)]
pub struct Coverage {
    reads: Vec<Read>,
}

#[derive(Debug, Clone)]
struct Read {
    /// None: every namespace (or a cluster-scoped kind).
    namespace: Option<String>,
    kinds: BTreeSet<Kind>,
}

impl Coverage {
    /// A snapshot, or one load of every namespace: what the state holds, it holds everywhere.
    pub fn everywhere(state: &ClusterState) -> Coverage {
        let mut coverage = Coverage::default();
        coverage.record(None, &state.loaded);
        coverage
    }

    /// Records that `kinds` were listed in `namespace` (None: all namespaces).
    pub fn record(&mut self, namespace: Option<&str>, kinds: &BTreeSet<Kind>) {
        self.reads.push(Read {
            namespace: namespace.map(str::to_string),
            kinds: kinds.clone(),
        });
    }

    /// Whether every object of `kind` in `namespace` was read (cluster kinds: pass any namespace).
    pub fn lists(&self, kind: Kind, namespace: &str) -> bool {
        self.reads.iter().any(|read| {
            read.kinds.contains(&kind)
                && (!kind.namespaced()
                    || read.namespace.as_deref().is_none_or(|ns| ns == namespace))
        })
    }

    /// Whether `kind` was read in every namespace.
    pub fn lists_everywhere(&self, kind: Kind) -> bool {
        self.reads
            .iter()
            .any(|read| read.namespace.is_none() && read.kinds.contains(&kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaced_reads_cover_their_namespace_only() {
        let mut coverage = Coverage::default();
        coverage.record(Some("shop"), &BTreeSet::from([Kind::Pod, Kind::Service]));
        coverage.record(None, &BTreeSet::from([Kind::Node, Kind::DaemonSet]));
        assert!(coverage.lists(Kind::Pod, "shop"));
        assert!(!coverage.lists(Kind::Pod, "kube-system"));
        assert!(coverage.lists(Kind::Node, "anything"));
        assert!(coverage.lists(Kind::DaemonSet, "kube-system"));
        assert!(!coverage.lists_everywhere(Kind::Pod));
        assert!(coverage.lists_everywhere(Kind::DaemonSet));
    }
}
