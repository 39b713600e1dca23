//! Pods the kubelet refused at admission (pkg/kubelet/lifecycle/predicate.go) or stopped for a
//! node shutdown: `status.reason` OutOfcpu, OutOfmemory, OutOfpods, NodeAffinity, NodeShutdown, ...

use kube_runbook::report::{Finding, Remedy, Severity, Source};
use serde_json::json;

use super::context::PodContext;

const REJECTIONS: [&str; 10] = [
    "NodeAffinity",
    "NodeShutdown",
    "UnexpectedAdmissionError",
    "PodOSSelectorNodeLabelDoesNotMatch",
    "PodOSNotSupported",
    "InvalidNodeInfo",
    "InitContainerRestartPolicyForbidden",
    "SupplementalGroupsPolicyNotSupported",
    "UnknownReason",
    "UnexpectedPredicateFailureType",
];

const SHUTDOWN_MESSAGE: &str = "terminated in response to imminent node shutdown";

/// The kubelet's reason when it refused or shut down the pod.
pub fn rejection_reason<'a>(ctx: &PodContext<'a>) -> Option<&'a str> {
    let status = ctx.status()?;
    let reason = status.reason.as_deref()?;
    let message = status.message.as_deref().unwrap_or("");
    let rejected = reason.starts_with("OutOf")
        || REJECTIONS.contains(&reason)
        || message.starts_with("Pod was rejected")
        || (reason == "Terminated" && message.contains(SHUTDOWN_MESSAGE));
    rejected.then_some(reason)
}

pub fn analyse(ctx: &PodContext, reason: &str) -> Finding {
    let message = ctx
        .status()
        .and_then(|s| s.message.as_deref())
        .unwrap_or("");
    let node = ctx.node_name().unwrap_or("its node");
    let (code, title, explanation, fix) = if let Some(resource) = reason.strip_prefix("OutOf") {
        (
            "kubelet-out-of-resources",
            format!("the kubelet on {node} refused the pod: not enough {resource}"),
            format!(
                "The kubelet re-checks the pod's requests against the node before starting it, and found too little {resource} left. The scheduler and the kubelet disagreed: typically the pod was bound with spec.nodeName (bypassing the scheduler) or is a static pod, another pod took the room first, or a device plugin had not yet re-registered its devices after a kubelet restart."
            ),
            Remedy::command(
                "Delete the pod so that its controller creates a new one for the scheduler to place (a bare pod must be recreated by hand, without spec.nodeName)",
                format!("kubectl delete pod {} -n {}", ctx.name, ctx.namespace),
            ),
        )
    } else if reason == "NodeShutdown" || reason == "Terminated" {
        (
            "node-shutdown",
            format!("the pod was stopped because node {node} was shutting down"),
            "The kubelet's graceful node shutdown terminates running pods and refuses new ones while the node shuts down. Such pods stay as Failed records.".to_string(),
            Remedy::step("Nothing to fix on the pod: its controller recreates it elsewhere; delete the Failed record when done"),
        )
    } else {
        (
            "kubelet-rejected",
            format!("the kubelet on {node} refused the pod: {reason}"),
            rejection_explanation(reason).to_string(),
            Remedy::command(
                "Recreate the pod through its controller once the cause is fixed",
                format!("kubectl delete pod {} -n {}", ctx.name, ctx.namespace),
            ),
        )
    };
    let mut finding = Finding::new(Severity::Error, ctx.object.clone(), code, title)
        .explain(explanation)
        .evidence(format!("reason {reason}"), ctx.field("status.reason"))
        .evidence(message.to_string(), ctx.field("status.message"));
    if let Some((requested, used, capacity)) = parse_insufficient(message) {
        finding = finding.evidence(
            format!("requested {requested}, already used {used}, node capacity {capacity}"),
            Source::Computed,
        );
    }
    if has_no_schedule_event(ctx) {
        finding = finding.evidence(
            "the pod has events but no Scheduled one: it was probably bound directly with spec.nodeName",
            Source::Computed,
        );
    }
    finding
        .remedy(fix)
        .details(json!({"reason": reason, "message": message, "node": ctx.node_name()}))
}

fn rejection_explanation(reason: &str) -> &'static str {
    match reason {
        "NodeAffinity" => {
            "The node's labels do not match the pod's nodeSelector/affinity any more (labels changed after scheduling), or the pod was bound with spec.nodeName to a node it does not select."
        }
        "UnexpectedAdmissionError" => {
            "An admission step failed unexpectedly, most often a device plugin that could not allocate devices (unhealthy or not yet registered GPUs)."
        }
        "PodOSSelectorNodeLabelDoesNotMatch" | "PodOSNotSupported" => {
            "The pod asks for an operating system the node does not run."
        }
        _ => "The kubelet's admission check refused the pod; its message says which check.",
    }
}

/// `Node didn't have enough resource: cpu, requested: 2000, used: 3500, capacity: 4000`.
fn parse_insufficient(message: &str) -> Option<(String, String, String)> {
    let value = |key: &str| {
        let rest = &message[message.find(key)? + key.len()..];
        Some(rest.split(',').next().unwrap_or("").trim().to_string())
    };
    Some((
        value("requested: ")?,
        value("used: ")?,
        value("capacity: ")?,
    ))
}

fn has_no_schedule_event(ctx: &PodContext) -> bool {
    ctx.state.has(kube_runbook::state::Kind::Event)
        && !ctx.events.is_empty()
        && ctx.events_with(&["Scheduled"]).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_kubelet_arithmetic() {
        assert_eq!(
            parse_insufficient(
                "Pod was rejected: Node didn't have enough resource: cpu, requested: 2000, used: 3500, capacity: 4000"
            ),
            Some(("2000".into(), "3500".into(), "4000".into()))
        );
        assert_eq!(
            parse_insufficient("Pod was rejected as the node is shutting down."),
            None
        );
    }
}
