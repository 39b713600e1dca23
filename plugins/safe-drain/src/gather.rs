//! Loading what the plan needs in one concurrent round (every list at once, cluster-wide: a
//! node's pods come from every namespace, and the capacity simulation needs every pod and node),
//! and resolving the nodes the user named or selected.

use kube_runbook::{
    Error,
    app::Target,
    selector::LabelQuery,
    state::{ClusterState, Kind},
};

/// Everything the plan reads.
const KINDS: [Kind; 13] = [
    Kind::Node,
    Kind::Pod,
    Kind::PodDisruptionBudget,
    Kind::ReplicaSet,
    Kind::Deployment,
    Kind::StatefulSet,
    Kind::DaemonSet,
    Kind::Job,
    Kind::ReplicationController,
    Kind::PersistentVolumeClaim,
    Kind::PersistentVolume,
    Kind::StorageClass,
    Kind::Namespace,
];

/// Without these there is no plan at all.
const REQUIRED: [Kind; 3] = [Kind::Node, Kind::Pod, Kind::PodDisruptionBudget];

/// Loads the state cluster-wide; fails when nodes, pods or budgets cannot be read.
pub async fn gather(target: &Target, verbose: bool) -> Result<ClusterState, Error> {
    let state = target.load(&KINDS, None, verbose).await?;
    for kind in REQUIRED {
        if let Some(reason) = state.unavailable_reason(kind) {
            return Err(unreadable(kind, reason));
        }
    }
    Ok(state)
}

/// A required kind the user may not list: exit code 6 (forbidden) when RBAC refused it.
fn unreadable(kind: Kind, reason: &str) -> Error {
    match reason.strip_prefix("forbidden: ") {
        Some(rest) => Error::Forbidden {
            user: rest
                .split(" cannot ")
                .next()
                .unwrap_or("the current user")
                .to_string(),
            verb: "list".into(),
            resource: match kind.group() {
                "" => kind.resource().to_string(),
                group => format!("{}.{group}", kind.resource()),
            },
            namespace: None,
        },
        None => Error::Usage(format!("cannot plan a drain: {reason}")),
    }
}

/// The nodes to drain: the names given (each must exist) and those matching `-l`, in order.
pub fn resolve_nodes(
    state: &ClusterState,
    names: &[String],
    selector: Option<&str>,
) -> Result<Vec<String>, Error> {
    let known = || {
        state
            .nodes
            .iter()
            .filter_map(|n| n.metadata.name.as_deref())
    };
    let mut nodes = Vec::new();
    for name in names {
        if !known().any(|k| k == name) {
            return Err(Error::not_found("node", name, None, known()));
        }
        if !nodes.contains(name) {
            nodes.push(name.clone());
        }
    }
    if let Some(text) = selector {
        let query = LabelQuery::parse(text)?;
        let mut selected: Vec<String> = state
            .nodes
            .iter()
            .filter(|n| query.matches(n.metadata.labels.as_ref()))
            .filter_map(|n| n.metadata.name.clone())
            .filter(|n| !nodes.contains(n))
            .collect();
        if selected.is_empty() && nodes.is_empty() {
            return Err(Error::Usage(format!(
                "no node matches the selector \"{text}\""
            )));
        }
        selected.sort();
        nodes.extend(selected);
    }
    if nodes.is_empty() {
        return Err(Error::Usage(
            "name the node to drain (kubectl safe-drain NODE), or select nodes with -l".into(),
        ));
    }
    Ok(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::fixtures::{node, state_with};

    #[test]
    fn unknown_nodes_suggest_near_names() {
        let mut state = state_with(vec![]);
        state.insert_all([node("worker-1"), node("worker-2")]);
        let err = resolve_nodes(&state, &["worker-3".into()], None).unwrap_err();
        assert_eq!(err.exit_code(), kube_runbook::exit_code::NOT_FOUND);
        assert!(
            err.to_string()
                .contains("did you mean one of \"worker-1\", \"worker-2\""),
            "{err}"
        );
        assert_eq!(
            resolve_nodes(&state, &[], Some("kubernetes.io/hostname=worker-2")).unwrap(),
            ["worker-2"]
        );
        assert!(resolve_nodes(&state, &[], None).is_err());
        assert!(resolve_nodes(&state, &[], Some("pool=none")).is_err());
    }

    #[test]
    fn forbidden_lists_keep_their_exit_code() {
        let err = unreadable(Kind::Node, "forbidden: User \"viewer\" cannot list nodes");
        assert_eq!(err.exit_code(), kube_runbook::exit_code::FORBIDDEN);
        assert!(
            err.to_string()
                .starts_with("forbidden: User \"viewer\" cannot list nodes"),
            "{err}"
        );
    }
}
