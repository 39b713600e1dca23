//! What analysis needs beyond the scope: workloads in every namespace when a finalizer's
//! controller must be looked for, the namespaces of the Services behind APIServices that hold a
//! terminating namespace, and the events that say when a pod's Node was deleted.

use std::collections::BTreeSet;

use kube_runbook::state::Kind;

use super::Scope;
use crate::{
    analyse::IN_TREE_FINALIZERS,
    inventory::{Inventory, MetaObject},
};

/// Whether a deleting object carries a finalizer whose controller runs outside
/// kube-controller-manager, so workloads must be searched for it.
pub fn needs_controller_search(objects: &[MetaObject]) -> bool {
    objects
        .iter()
        .filter(|o| o.deletion_timestamp().is_some())
        .flat_map(|o| o.finalizers())
        .any(|f| !IN_TREE_FINALIZERS.contains(&f.as_str()))
}

/// Where the event recorder puts events about cluster-scoped objects such as Nodes.
pub const CLUSTER_EVENTS_NAMESPACE: &str = "default";

/// Whether a deleting pod in scope is bound to a Node that no longer exists while the namespace
/// holding the node-lifecycle controller's `RemovingNode` events was not read.
pub fn needs_node_events(inventory: &Inventory, scope: &Scope) -> bool {
    let unread = scope
        .namespace
        .as_deref()
        .is_some_and(|ns| ns != CLUSTER_EVENTS_NAMESPACE);
    unread
        && inventory.state.has(Kind::Node)
        && inventory.state.pods.iter().any(|pod| {
            pod.metadata.deletion_timestamp.is_some()
                && pod
                    .spec
                    .as_ref()
                    .and_then(|s| s.node_name.as_deref())
                    .is_some_and(|node| inventory.node(node).is_none())
        })
}

/// Namespaces of the Services behind APIServices that matter: those failing discovery now, or
/// named by a terminating namespace's discovery condition.
pub fn backend_namespaces(inventory: &Inventory, scope: &Scope) -> BTreeSet<String> {
    let terminating = inventory.state.namespaces.iter().filter(|n| {
        n.metadata.deletion_timestamp.is_some()
            && scope
                .namespace
                .as_deref()
                .is_none_or(|want| n.metadata.name.as_deref() == Some(want))
    });
    let mut group_versions: BTreeSet<String> = BTreeSet::new();
    let mut any_terminating = false;
    for namespace in terminating {
        any_terminating = true;
        group_versions.extend(crate::analyse::condition_group_versions(namespace));
    }
    if !any_terminating {
        return BTreeSet::new();
    }
    group_versions.extend(
        inventory
            .discovery_failures
            .iter()
            .map(|f| f.group_version.clone()),
    );
    group_versions
        .iter()
        .filter_map(|gv| {
            let (group, version) = gv.split_once('/')?;
            let api = inventory.api_service(&format!("{version}.{group}"))?;
            let service = api.spec.as_ref()?.service.as_ref()?;
            Some(
                service
                    .namespace
                    .clone()
                    .unwrap_or_else(|| "default".into()),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use k8s_openapi::{
        api::core::v1::{ConfigMap, Namespace, Pod},
        kube_aggregator::pkg::apis::apiregistration::v1::APIService,
    };
    use serde_json::json;

    use super::*;
    use crate::{
        analyse::testing::{from, inventory},
        inventory::GroupFailure,
    };

    fn deleting(finalizers: &[&str]) -> MetaObject {
        let meta = from::<ConfigMap>(json!({"metadata": {
            "name": "x", "namespace": "shop", "deletionTimestamp": "2026-01-01T00:00:00Z", "finalizers": finalizers,
        }}))
        .metadata;
        MetaObject::of_kind(Kind::ConfigMap, &meta)
    }

    #[test]
    fn only_out_of_tree_finalizers_need_a_controller_search() {
        assert!(!needs_controller_search(&[deleting(&[
            "kubernetes.io/pvc-protection",
            "foregroundDeletion"
        ])]));
        assert!(needs_controller_search(&[deleting(&[
            "example.com/cleanup"
        ])]));
        assert!(needs_controller_search(&[deleting(&[
            "service.kubernetes.io/load-balancer-cleanup"
        ])]));
    }

    #[test]
    fn node_events_are_read_only_for_pods_of_deleted_nodes() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        inv.state.nodes.push(crate::analyse::testing::node(
            "n1",
            "True",
            "2026-01-01T00:00:00Z",
        ));
        let pod = |node: &str| {
            from::<Pod>(json!({
                "metadata": {"name": format!("on-{node}"), "namespace": "shop", "deletionTimestamp": "2026-01-01T00:00:00Z"},
                "spec": {"nodeName": node, "containers": []},
            }))
        };
        let shop = Scope {
            namespace: Some("shop".into()),
            cluster_scoped: false,
        };
        inv.state.pods.push(pod("n1"));
        assert!(!needs_node_events(&inv, &shop), "its node exists");
        inv.state.pods.push(pod("gone"));
        assert!(needs_node_events(&inv, &shop));
        let everywhere = Scope {
            namespace: None,
            cluster_scoped: true,
        };
        assert!(
            !needs_node_events(&inv, &everywhere),
            "every namespace's events are read already"
        );
    }

    #[test]
    fn backends_are_read_only_for_terminating_namespaces() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        inv.state.api_services.push(from::<APIService>(json!({
            "metadata": {"name": "v1beta1.metrics.k8s.io"},
            "spec": {"group": "metrics.k8s.io", "version": "v1beta1", "groupPriorityMinimum": 1, "versionPriority": 1,
                     "service": {"namespace": "kube-system", "name": "metrics-server"}},
        })));
        inv.discovery_failures.push(GroupFailure {
            group_version: "metrics.k8s.io/v1beta1".into(),
            message: "service unavailable".into(),
        });
        let scope = Scope {
            namespace: Some("shop".into()),
            cluster_scoped: false,
        };
        assert!(
            backend_namespaces(&inv, &scope).is_empty(),
            "no terminating namespace"
        );
        inv.state.namespaces.push(from::<Namespace>(json!({
            "metadata": {"name": "shop", "deletionTimestamp": "2026-01-01T00:00:00Z"},
        })));
        assert_eq!(
            backend_namespaces(&inv, &scope)
                .into_iter()
                .collect::<Vec<_>>(),
            vec!["kube-system".to_string()]
        );
    }
}
