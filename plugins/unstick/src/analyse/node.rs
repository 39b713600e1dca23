//! Whether a pod's node can still finish its deletion: gone, not reporting (Ready Unknown, or
//! False with a stale lease or heartbeat), already declared out of service, reporting NotReady
//! while its kubelet is alive, or healthy.

use k8s_openapi::{
    api::core::v1::{Event, Node, NodeCondition},
    jiff::{SignedDuration, Timestamp},
};
use kube_runbook::{
    report::{ObjectRef, Source},
    state::Kind,
};

use super::cause::ago;
use crate::{
    fix::plan::{Action, OUT_OF_SERVICE_TAINT, Rung, Step},
    inventory::{Inventory, MetaObject},
};

/// The health of a node as far as finishing pod deletions goes.
#[derive(Debug, Clone)]
pub enum NodeHealth<'a> {
    /// Nodes could not be read, and why.
    Unchecked(String),
    /// The Node object does not exist.
    Missing,
    Ready,
    /// Ready=False from a kubelet that still renews its lease (or, with no lease read, still posts
    /// status): alive, but its runtime, network or PLEG fails.
    NotReady(AliveNode<'a>),
    /// The kubelet is not reporting, or reports the node not ready.
    Lost(LostNode<'a>),
}

/// A node that reports NotReady through a kubelet that is still alive.
#[derive(Debug, Clone)]
pub struct AliveNode<'a> {
    pub name: &'a str,
    pub ready: &'a NodeCondition,
    /// When the lease was last renewed, and its duration in seconds (None when no lease was read:
    /// the Ready condition's heartbeat is then the evidence).
    pub lease: Option<(Timestamp, i32)>,
}

impl AliveNode<'_> {
    /// The Ready condition's reason and first message line: "KubeletNotReady: PLEG is not healthy".
    pub fn not_ready_because(&self) -> String {
        let reason = self.ready.reason.as_deref().unwrap_or("no reason given");
        match self.ready.message.as_deref().and_then(|m| m.lines().next()) {
            Some(message) => format!("{reason}: {}", message.trim()),
            None => reason.to_string(),
        }
    }

    /// The facts: the Ready condition, and the fresh lease or else the fresh heartbeat.
    pub fn evidence(&self, now: Timestamp) -> Vec<(String, Source)> {
        let alive = match self.lease {
            Some(lease) => lease_fact(self.name, lease, now),
            None => heartbeat_fact(self.name, self.ready, now),
        };
        vec![ready_fact(self.name, self.ready, now), alive]
    }
}

/// A node whose kubelet cannot be relied on to finish deletions.
#[derive(Debug, Clone)]
pub struct LostNode<'a> {
    pub node: &'a Node,
    /// The Ready condition (None when the node has none).
    pub ready: Option<&'a NodeCondition>,
    /// When the node's lease was last renewed, and its duration in seconds.
    pub lease: Option<(Timestamp, i32)>,
    pub out_of_service: bool,
    /// When the out-of-service taint was added, if it is there and says.
    pub out_of_service_since: Option<Timestamp>,
}

impl LostNode<'_> {
    pub fn name(&self) -> &str {
        self.node.metadata.name.as_deref().unwrap_or_default()
    }

    /// "stopped reporting (Ready=Unknown)" or "reports NotReady".
    pub fn summary(&self) -> String {
        match self.ready.map(|c| c.status.as_str()) {
            Some("Unknown") => format!("node {} stopped reporting (Ready=Unknown)", self.name()),
            Some(_) => format!("node {} is NotReady", self.name()),
            None => format!("node {} has never reported Ready", self.name()),
        }
    }

    /// Since when the node has been lost (its Ready condition's last transition).
    pub fn since(&self) -> Option<Timestamp> {
        self.ready
            .and_then(|c| c.last_transition_time.as_ref())
            .map(|t| t.0)
    }

    /// The facts: the Ready condition, the lease (or with none read, the heartbeat), the taints.
    pub fn evidence(&self, now: Timestamp) -> Vec<(String, Source)> {
        let node_ref = ObjectRef::cluster("Node", self.name());
        let mut facts = Vec::new();
        if let Some(ready) = self.ready {
            facts.push(ready_fact(self.name(), ready, now));
        }
        match (self.lease, self.ready) {
            (Some(lease), _) => facts.push(lease_fact(self.name(), lease, now)),
            (None, Some(ready)) => facts.push(heartbeat_fact(self.name(), ready, now)),
            (None, None) => {}
        }
        for taint in self
            .node
            .spec
            .iter()
            .flat_map(|s| s.taints.iter().flatten())
        {
            if taint.key.starts_with("node.kubernetes.io/") {
                facts.push((
                    format!("tainted {}:{}", taint.key, taint.effect),
                    Source::Field {
                        object: node_ref.clone(),
                        path: "spec.taints".into(),
                    },
                ));
            }
        }
        facts
    }

    /// Handling the node itself: the out-of-service taint (unless present), then deleting it.
    pub fn steps(&self, why: &str) -> Vec<Step> {
        let node = MetaObject::of_kind(Kind::Node, &self.node.metadata);
        let name = self.name();
        let mut steps = Vec::new();
        if !self.out_of_service {
            steps.push(Step::new(
                Rung::FixCause,
                Action::TaintOutOfService(node.clone()),
                format!("declares the machine shut down, so pod GC force-deletes its terminating pods ({why})"),
                format!("every pod on {name} without a matching toleration is evicted and its volumes detached at once: only safe if the machine is really off"),
            ));
        }
        steps.push(Step::new(
            Rung::FixCause,
            Action::Delete(node),
            format!("pod GC then deletes the pods bound to it ({why})"),
            format!("every pod on {name} is deleted and recreated elsewhere; if the machine still runs, its containers keep running unmanaged until its kubelet re-registers"),
        ));
        steps
    }
}

/// "Ready=False since 5m ago (KubeletNotReady): PLEG is not healthy", sourced to the condition.
fn ready_fact(node: &str, ready: &NodeCondition, now: Timestamp) -> (String, Source) {
    let since = ready
        .last_transition_time
        .as_ref()
        .map(|t| format!(" since {}", ago(t.0, now)))
        .unwrap_or_default();
    let reason = match (ready.status.as_str(), ready.reason.as_deref()) {
        ("False", Some(reason)) => format!(" ({reason})"),
        _ => String::new(),
    };
    let message = ready
        .message
        .as_deref()
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    (
        format!("Ready={}{since}{reason}{message}", ready.status),
        Source::Condition {
            object: ObjectRef::cluster("Node", node),
            condition_type: "Ready".into(),
            status: ready.status.clone(),
            reason: ready.reason.clone(),
        },
    )
}

/// "its kubelet lease was last renewed 5s ago (lease duration 40s)", sourced to the Lease.
fn lease_fact(
    node: &str,
    (renewed, duration): (Timestamp, i32),
    now: Timestamp,
) -> (String, Source) {
    (
        format!(
            "its kubelet lease was last renewed {} (lease duration {duration}s)",
            ago(renewed, now)
        ),
        Source::Field {
            object: ObjectRef::namespaced("Lease", "kube-node-lease", node),
            path: "spec.renewTime".into(),
        },
    )
}

/// "its kubelet last posted node status 20s ago (no lease read)", sourced to the condition.
fn heartbeat_fact(node: &str, ready: &NodeCondition, now: Timestamp) -> (String, Source) {
    let posted = ready
        .last_heartbeat_time
        .as_ref()
        .map_or_else(|| "never".to_string(), |t| ago(t.0, now));
    (
        format!("its kubelet last posted node status {posted} (no lease read)"),
        Source::Field {
            object: ObjectRef::cluster("Node", node),
            path: "status.conditions[Ready].lastHeartbeatTime".into(),
        },
    )
}

/// kube-controller-manager's default `--node-monitor-grace-period`: after it, a silent node is
/// marked Ready=Unknown.
const NODE_MONITOR_GRACE: SignedDuration = SignedDuration::from_secs(40);

/// The kubelet's default `nodeStatusReportFrequency`: while its lease is renewed, it posts an
/// unchanged status (and so a new heartbeat) only this often.
const NODE_STATUS_REPORT_FREQUENCY: SignedDuration = SignedDuration::from_mins(5);

/// Whether the kubelet posted the Ready condition recently enough to still be alive.
fn heartbeat_fresh(ready: &NodeCondition, now: Timestamp) -> bool {
    ready.last_heartbeat_time.as_ref().is_some_and(|t| {
        t.0.checked_add(NODE_STATUS_REPORT_FREQUENCY + NODE_MONITOR_GRACE)
            .is_ok_and(|expiry| expiry >= now)
    })
}

/// The node-lifecycle controller's event when it sees a Node deleted.
const REMOVING_NODE: &str = "RemovingNode";

/// The node-lifecycle controller's newest `RemovingNode` event about Node `name`: when it was deleted.
pub fn removal_event<'a>(inventory: &'a Inventory, name: &str) -> Option<&'a Event> {
    inventory
        .state
        .events_for("Node", None, name, None)
        .into_iter()
        .find(|e| e.reason.as_deref() == Some(REMOVING_NODE))
}

/// The health of node `name`.
pub fn node_health<'a>(inventory: &'a Inventory, name: &str) -> NodeHealth<'a> {
    if !inventory.state.has(Kind::Node) {
        let reason = inventory
            .state
            .unavailable_reason(Kind::Node)
            .unwrap_or("nodes were not read");
        return NodeHealth::Unchecked(reason.to_string());
    }
    let Some(node) = inventory.node(name) else {
        return NodeHealth::Missing;
    };
    let ready = node
        .status
        .iter()
        .flat_map(|s| s.conditions.iter().flatten())
        .find(|c| c.type_ == "Ready");
    let lease = inventory.node_lease(name).and_then(|lease| {
        let spec = lease.spec.as_ref()?;
        Some((
            spec.renew_time.as_ref()?.0,
            spec.lease_duration_seconds.unwrap_or(40),
        ))
    });
    let out_of_service_taint = node
        .spec
        .iter()
        .flat_map(|s| s.taints.iter().flatten())
        .find(|t| t.key == OUT_OF_SERVICE_TAINT);
    let out_of_service = out_of_service_taint.is_some();
    let out_of_service_since = out_of_service_taint
        .and_then(|t| t.time_added.as_ref())
        .map(|t| t.0);
    let lease_stale = lease.is_some_and(|(renewed, duration)| {
        renewed
            .checked_add(SignedDuration::from_secs(i64::from(duration)))
            .is_ok_and(|expiry| expiry < inventory.observed_at())
    });
    // Only the kubelet writes Ready=False (the node-lifecycle controller writes Unknown).
    let kubelet_alive = |condition: &NodeCondition| match lease {
        Some(_) => !lease_stale,
        None => heartbeat_fresh(condition, inventory.observed_at()),
    };
    match ready {
        Some(condition) if condition.status == "True" && !lease_stale => NodeHealth::Ready,
        Some(condition) if condition.status == "False" && kubelet_alive(condition) => {
            NodeHealth::NotReady(AliveNode {
                name: node.metadata.name.as_deref().unwrap_or_default(),
                ready: condition,
                lease,
            })
        }
        _ => NodeHealth::Lost(LostNode {
            node,
            ready,
            lease,
            out_of_service,
            out_of_service_since,
        }),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::analyse::testing::{inventory, node};

    #[test]
    fn ready_missing_and_lost_nodes() {
        let now = "2026-01-01T00:10:00Z";
        let mut inv = inventory(now);
        inv.state
            .nodes
            .push(node("ok", "True", "2026-01-01T00:00:00Z"));
        inv.state
            .nodes
            .push(node("gone-dark", "Unknown", "2026-01-01T00:05:00Z"));
        inv.state.leases.push(
            serde_json::from_value(json!({
                "metadata": {"name": "gone-dark", "namespace": "kube-node-lease"},
                "spec": {"renewTime": "2026-01-01T00:04:30.000000Z", "leaseDurationSeconds": 40},
            }))
            .unwrap(),
        );
        assert!(matches!(node_health(&inv, "ok"), NodeHealth::Ready));
        assert!(matches!(node_health(&inv, "nope"), NodeHealth::Missing));
        let NodeHealth::Lost(lost) = node_health(&inv, "gone-dark") else {
            panic!("expected a lost node");
        };
        assert_eq!(
            lost.summary(),
            "node gone-dark stopped reporting (Ready=Unknown)"
        );
        let facts: Vec<String> = lost
            .evidence(now.parse().unwrap())
            .into_iter()
            .map(|(fact, _)| fact)
            .collect();
        assert_eq!(
            facts[0],
            "Ready=Unknown since 5m ago: Kubelet stopped posting node status."
        );
        assert_eq!(
            facts[1],
            "its kubelet lease was last renewed 5m30s ago (lease duration 40s)"
        );
        let keys: Vec<String> = lost.steps("x").iter().map(Step::key).collect();
        assert_eq!(keys, vec!["taint Node gone-dark", "delete Node gone-dark"]);
    }

    #[test]
    fn a_stale_lease_makes_a_ready_node_lost() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        inv.state
            .nodes
            .push(node("stale", "True", "2026-01-01T00:00:00Z"));
        inv.state.leases.push(
            serde_json::from_value(json!({
                "metadata": {"name": "stale", "namespace": "kube-node-lease"},
                "spec": {"renewTime": "2026-01-01T00:01:00.000000Z", "leaseDurationSeconds": 40},
            }))
            .unwrap(),
        );
        assert!(matches!(node_health(&inv, "stale"), NodeHealth::Lost(_)));
    }

    #[test]
    fn not_ready_is_alive_only_while_the_lease_is_fresh() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        for (name, renewed) in [("alive", "00:09:55"), ("dead", "00:01:00")] {
            inv.state
                .nodes
                .push(node(name, "False", "2026-01-01T00:00:00Z"));
            inv.state.leases.push(
                serde_json::from_value(json!({
                    "metadata": {"name": name, "namespace": "kube-node-lease"},
                    "spec": {"renewTime": format!("2026-01-01T{renewed}.000000Z"), "leaseDurationSeconds": 40},
                }))
                .unwrap(),
            );
        }
        let NodeHealth::NotReady(alive) = node_health(&inv, "alive") else {
            panic!("expected a NotReady node with a live kubelet");
        };
        assert_eq!(
            alive.not_ready_because(),
            "KubeletNotReady: container runtime network not ready"
        );
        assert!(matches!(node_health(&inv, "dead"), NodeHealth::Lost(_)));
    }

    #[test]
    fn not_ready_without_a_lease_is_alive_while_its_heartbeat_is_fresh() {
        let now = "2026-01-01T00:10:00Z";
        let mut inv = inventory(now);
        // The kubelet posts an unchanged status only every 5 minutes: 3m is still fresh.
        for (name, heartbeat) in [("fresh", "00:09:30"), ("quiet", "00:07:00")] {
            inv.state
                .nodes
                .push(node(name, "False", &format!("2026-01-01T{heartbeat}Z")));
        }
        let NodeHealth::NotReady(alive) = node_health(&inv, "fresh") else {
            panic!("expected a NotReady node with a live kubelet");
        };
        assert!(alive.lease.is_none());
        let facts: Vec<String> = alive
            .evidence(now.parse().unwrap())
            .into_iter()
            .map(|(fact, _)| fact)
            .collect();
        assert_eq!(
            facts[1],
            "its kubelet last posted node status 30s ago (no lease read)"
        );
        assert!(matches!(
            node_health(&inv, "quiet"),
            NodeHealth::NotReady(_)
        ));
    }

    #[test]
    fn not_ready_without_a_lease_is_lost_once_its_heartbeat_is_stale() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        inv.state
            .nodes
            .push(node("silent", "False", "2026-01-01T00:01:00Z"));
        let NodeHealth::Lost(lost) = node_health(&inv, "silent") else {
            panic!("expected a lost node");
        };
        assert_eq!(lost.summary(), "node silent is NotReady");
        let facts: Vec<String> = lost
            .evidence("2026-01-01T00:10:00Z".parse().unwrap())
            .into_iter()
            .map(|(fact, _)| fact)
            .collect();
        assert_eq!(
            facts[1],
            "its kubelet last posted node status 9m ago (no lease read)"
        );
    }

    #[test]
    fn unknown_without_a_lease_is_lost() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        inv.state
            .nodes
            .push(node("dark", "Unknown", "2026-01-01T00:09:50Z"));
        assert!(matches!(node_health(&inv, "dark"), NodeHealth::Lost(_)));
    }

    #[test]
    fn out_of_service_nodes_are_not_tainted_again() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        let mut down = node("down", "Unknown", "2026-01-01T00:00:00Z");
        down.spec = Some(
            serde_json::from_value(json!({"taints": [
                {"key": "node.kubernetes.io/out-of-service", "value": "nodeshutdown", "effect": "NoExecute"}
            ]}))
            .unwrap(),
        );
        inv.state.nodes.push(down);
        let NodeHealth::Lost(lost) = node_health(&inv, "down") else {
            panic!("expected a lost node");
        };
        assert!(lost.out_of_service);
        let keys: Vec<String> = lost.steps("x").iter().map(Step::key).collect();
        assert_eq!(keys, vec!["delete Node down"]);
    }

    #[test]
    fn a_deleted_node_is_dated_by_its_newest_removing_node_event() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        for (name, reason, at) in [
            ("e1", "RemovingNode", "2026-01-01T00:01:00Z"),
            ("e2", "RemovingNode", "2026-01-01T00:09:40Z"),
            ("e3", "RegisteredNode", "2026-01-01T00:09:50Z"),
        ] {
            inv.state.events.push(
                serde_json::from_value(json!({
                    "metadata": {"name": name, "namespace": "default"},
                    "involvedObject": {"kind": "Node", "name": "gone"},
                    "reason": reason, "lastTimestamp": at, "source": {"component": "node-controller"},
                }))
                .unwrap(),
            );
        }
        let removal = removal_event(&inv, "gone").expect("a RemovingNode event");
        assert_eq!(removal.metadata.name.as_deref(), Some("e2"));
        assert!(removal_event(&inv, "other").is_none());
    }

    #[test]
    fn unreadable_nodes_are_unchecked() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        inv.state.loaded.remove(&Kind::Node);
        assert!(matches!(node_health(&inv, "x"), NodeHealth::Unchecked(_)));
    }
}
