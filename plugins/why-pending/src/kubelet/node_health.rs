//! The pod's node as the kubelet's heartbeat shows it: present, Ready, under pressure, and how
//! fresh its Lease is.

use k8s_openapi::api::core::v1::{Node, NodeCondition};
use kube_runbook::{
    report::{Finding, ObjectRef, Remedy, Severity, Source},
    state::Kind,
};
use serde_json::json;

use super::context::PodContext;

const LEASE_NAMESPACE: &str = "kube-node-lease";

/// What is known about the pod's node.
pub enum NodeState<'a> {
    /// Nodes were not loaded: nothing is known.
    Unknown,
    /// The node object does not exist (deleted, or the VM is gone).
    Missing,
    Present(&'a Node),
}

pub fn node_state<'a>(ctx: &PodContext<'a>) -> NodeState<'a> {
    if !ctx.state.has(Kind::Node) {
        return NodeState::Unknown;
    }
    match ctx.node() {
        Some(node) => NodeState::Present(node),
        None => NodeState::Missing,
    }
}

pub fn conditions(node: &Node) -> &[NodeCondition] {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or(&[])
}

pub fn ready_condition(node: &Node) -> Option<&NodeCondition> {
    conditions(node).iter().find(|c| c.type_ == "Ready")
}

/// Ready=True.
pub fn is_ready(node: &Node) -> bool {
    ready_condition(node).is_some_and(|c| c.status == "True")
}

/// Conditions other than Ready that are True: MemoryPressure, DiskPressure, PIDPressure,
/// NetworkUnavailable, and node-problem-detector's (KernelDeadlock, ReadonlyFilesystem, ...).
pub fn problems(node: &Node) -> Vec<&NodeCondition> {
    conditions(node)
        .iter()
        .filter(|c| c.type_ != "Ready" && c.status == "True")
        .collect()
}

/// A node condition as evidence.
pub fn condition_evidence(node_name: &str, condition: &NodeCondition) -> (String, Source) {
    let message = condition
        .message
        .as_deref()
        .filter(|m| !m.is_empty())
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    (
        format!(
            "node {node_name} {}={}{message}",
            condition.type_, condition.status
        ),
        Source::Condition {
            object: ObjectRef::cluster("Node", node_name),
            condition_type: condition.type_.clone(),
            status: condition.status.clone(),
            reason: condition.reason.clone(),
        },
    )
}

/// The node's Ready condition and lease age as evidence lines.
pub fn heartbeat_evidence(ctx: &PodContext, node: &Node) -> Vec<(String, Source)> {
    let name = node.metadata.name.as_deref().unwrap_or("");
    let mut out: Vec<(String, Source)> = ready_condition(node)
        .map(|c| condition_evidence(name, c))
        .into_iter()
        .collect();
    if let Some(fact) = lease_fact(ctx, name) {
        out.push(fact);
    }
    out
}

fn lease_fact(ctx: &PodContext, node: &str) -> Option<(String, Source)> {
    let object = ObjectRef::namespaced("Lease", LEASE_NAMESPACE, node);
    if !ctx.state.has(Kind::Lease) {
        return Some((
            format!(
                "the node's heartbeat Lease was not checked: {}",
                ctx.not_checked(Kind::Lease)
            ),
            Source::Computed,
        ));
    }
    let lease = ctx.state.leases.iter().find(|l| {
        l.metadata.namespace.as_deref() == Some(LEASE_NAMESPACE)
            && l.metadata.name.as_deref() == Some(node)
    });
    let fact = match lease.and_then(|l| l.spec.as_ref()?.renew_time.as_ref()) {
        Some(renewed) => format!(
            "the kubelet last renewed its Lease {} ago",
            ctx.age(renewed.0)
        ),
        None => "the node has no heartbeat Lease".to_string(),
    };
    Some((fact, Source::Object { object }))
}

/// A warning about pressure or problem conditions on a Ready node: context for other findings.
pub fn pressure_finding(ctx: &PodContext) -> Option<Finding> {
    let NodeState::Present(node) = node_state(ctx) else {
        return None;
    };
    let problems = problems(node);
    if problems.is_empty() {
        return None;
    }
    let name = node.metadata.name.as_deref().unwrap_or("");
    let kinds: Vec<&str> = problems.iter().map(|c| c.type_.as_str()).collect();
    let mut finding = Finding::new(
        Severity::Warning,
        ctx.object.clone(),
        "node-pressure",
        format!("the pod's node {name} reports {}", kinds.join(", ")),
    )
    .explain(
        "Under pressure the kubelet evicts pods, refuses new BestEffort pods, and slow probes fail: an overloaded node can make healthy containers look broken.",
    );
    for condition in &problems {
        let (fact, source) = condition_evidence(name, condition);
        finding = finding.evidence(fact, source);
    }
    finding
        .remedy(Remedy::command("See what uses the node's resources", format!("kubectl describe node {name}")))
        .remedy(Remedy::step("Free the node (move or limit heavy pods, clean disk, raise eviction headroom) or add capacity"))
        .details(json!({"node": name, "conditions": kinds}))
        .into()
}
