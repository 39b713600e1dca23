//! Whether a node's Service rules are known to be out of date. kube-proxy leaves the iptables,
//! nftables or IPVS rules it wrote in place when it stops, so a node without a ready kube-proxy
//! still forwards what was current then; only what changed since is missing there.

use k8s_openapi::api::{
    core::v1::{Pod, Service},
    discovery::v1::EndpointSlice,
};
use k8s_openapi::jiff::Timestamp;
use kube_runbook::report::ObjectRef;

use crate::pods;

/// Set by the endpointslice controller to when the endpoints last changed.
const LAST_CHANGE_ANNOTATION: &str = "endpoints.kubernetes.io/last-change-trigger-time";

/// kube-proxy on one node, as its pods tell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeProxy {
    Ready,
    /// Pods exist but none is ready; since when, if every pod's Ready condition says.
    NotReady {
        since: Option<Timestamp>,
    },
    /// No kube-proxy pod on the node: it may never have run there, or its pod went away and
    /// left the rules it wrote; nothing tells which, nor when.
    Absent,
}

impl NodeProxy {
    pub fn of(proxies: &[&Pod]) -> NodeProxy {
        if proxies.is_empty() {
            return NodeProxy::Absent;
        }
        if proxies.iter().any(|p| pods::is_ready(p)) {
            return NodeProxy::Ready;
        }
        let since = proxies
            .iter()
            .map(|p| not_ready_since(p))
            .collect::<Option<Vec<_>>>()
            .and_then(|times| times.into_iter().max());
        NodeProxy::NotReady { since }
    }

    /// Positive evidence that the node has no current rules for a Service last changed at
    /// `change`; None when its rules may well still be right.
    pub fn missing_rules(self, change: Option<&Change>) -> Option<Missing> {
        match (self, change) {
            (
                NodeProxy::NotReady {
                    since: Some(stopped),
                },
                Some(change),
            ) if change.at > stopped => Some(Missing {
                stopped,
                change: change.clone(),
            }),
            _ => None,
        }
    }
}

fn not_ready_since(pod: &Pod) -> Option<Timestamp> {
    pods::condition(pod, "Ready")
        .filter(|c| c.status != "True")
        .and_then(|c| c.last_transition_time.as_ref())
        .map(|t| t.0)
}

/// The latest recorded change of a Service or of its endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub at: Timestamp,
    /// `the Service was created`, `its endpoints changed`.
    pub what: &'static str,
    pub object: ObjectRef,
}

/// When the Service was created or its EndpointSlices last changed, whichever is later.
pub fn last_change(service: &Service, slices: &[&EndpointSlice]) -> Option<Change> {
    let namespace = service.metadata.namespace.as_deref().unwrap_or_default();
    let created = service
        .metadata
        .creation_timestamp
        .as_ref()
        .map(|t| Change {
            at: t.0,
            what: "the Service was created",
            object: ObjectRef::namespaced(
                "Service",
                namespace,
                service.metadata.name.as_deref().unwrap_or_default(),
            ),
        });
    let endpoints = slices.iter().filter_map(|slice| {
        let meta = &slice.metadata;
        let annotated = meta
            .annotations
            .as_ref()
            .and_then(|a| a.get(LAST_CHANGE_ANNOTATION))
            .and_then(|t| t.parse::<Timestamp>().ok());
        let at = annotated
            .into_iter()
            .chain(meta.creation_timestamp.as_ref().map(|t| t.0))
            .max()?;
        Some(Change {
            at,
            what: "its endpoints changed",
            object: ObjectRef::namespaced(
                "EndpointSlice",
                namespace,
                meta.name.as_deref().unwrap_or_default(),
            ),
        })
    });
    created.into_iter().chain(endpoints).max_by_key(|c| c.at)
}

/// Why a node cannot have the Service's current rules: it changed after kube-proxy stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub stopped: Timestamp,
    pub change: Change,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn proxy(ready: &str, since: &str) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "kube-proxy-a", "namespace": "kube-system"},
            "status": {"phase": "Running", "conditions": [
                {"type": "Ready", "status": ready, "lastTransitionTime": since}
            ]}
        }))
        .unwrap()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn change(when: &str) -> Change {
        Change {
            at: at(when),
            what: "its endpoints changed",
            object: ObjectRef::namespaced("EndpointSlice", "shop", "web-abc"),
        }
    }

    #[test]
    fn a_stopped_kube_proxy_keeps_rules_for_what_did_not_change() {
        let stopped = proxy("False", "2026-01-01T00:30:00Z");
        let node = NodeProxy::of(&[&stopped]);
        assert_eq!(
            node,
            NodeProxy::NotReady {
                since: Some(at("2026-01-01T00:30:00Z"))
            }
        );
        assert_eq!(node.missing_rules(None), None);
        assert_eq!(
            node.missing_rules(Some(&change("2026-01-01T00:10:00Z"))),
            None
        );
        assert_eq!(
            node.missing_rules(Some(&change("2026-01-01T00:30:00Z"))),
            None,
            "the same second cannot be ordered"
        );
        assert_eq!(
            node.missing_rules(Some(&change("2026-01-01T00:40:00Z"))),
            Some(Missing {
                stopped: at("2026-01-01T00:30:00Z"),
                change: change("2026-01-01T00:40:00Z")
            })
        );
    }

    #[test]
    fn no_pod_proves_no_missing_rules_and_any_ready_pod_means_current_rules() {
        assert_eq!(NodeProxy::of(&[]), NodeProxy::Absent);
        assert_eq!(
            NodeProxy::Absent.missing_rules(Some(&change("2026-01-01T00:40:00Z"))),
            None,
            "a pod that went away leaves its rules, and when it went is unknown"
        );
        let stopped = proxy("False", "2026-01-01T00:30:00Z");
        let ready = proxy("True", "2026-01-01T00:00:00Z");
        assert_eq!(NodeProxy::of(&[&stopped, &ready]), NodeProxy::Ready);
        let mut unknown = proxy("False", "2026-01-01T00:30:00Z");
        if let Some(conditions) = unknown.status.as_mut().and_then(|s| s.conditions.as_mut()) {
            conditions[0].last_transition_time = None;
        }
        let node = NodeProxy::of(&[&stopped, &unknown]);
        assert_eq!(node, NodeProxy::NotReady { since: None });
        assert_eq!(
            node.missing_rules(Some(&change("2026-01-01T00:40:00Z"))),
            None
        );
    }

    #[test]
    fn the_last_change_is_the_latest_of_service_and_slices() {
        let service: Service = serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "shop", "creationTimestamp": "2026-01-01T00:05:00Z"}
        }))
        .unwrap();
        let slice: EndpointSlice = serde_json::from_value(json!({
            "metadata": {"name": "web-abc", "namespace": "shop", "creationTimestamp": "2026-01-01T00:05:01Z",
                         "annotations": {LAST_CHANGE_ANNOTATION: "2026-01-01T00:20:00.5Z"}},
            "addressType": "IPv4", "endpoints": []
        }))
        .unwrap();
        assert_eq!(
            last_change(&service, &[]).map(|c| (c.at, c.what)),
            Some((at("2026-01-01T00:05:00Z"), "the Service was created"))
        );
        assert_eq!(
            last_change(&service, &[&slice]),
            Some(Change {
                at: at("2026-01-01T00:20:00.5Z"),
                what: "its endpoints changed",
                object: ObjectRef::namespaced("EndpointSlice", "shop", "web-abc"),
            })
        );
    }
}
