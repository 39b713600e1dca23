//! ContainerCreating with no specific cause found: how long, and the pod's latest events.

use kube_runbook::report::{Finding, Remedy, Severity};
use serde_json::json;

use super::context::PodContext;

const EVENTS_SHOWN: usize = 3;

pub fn creating(ctx: &PodContext) -> Finding {
    let since = ctx
        .status()
        .and_then(|s| s.conditions.as_deref())
        .and_then(|c| {
            c.iter()
                .find(|c| c.type_ == "PodScheduled" && c.status == "True")
        })
        .and_then(|c| c.last_transition_time.as_ref())
        .or(ctx.pod.metadata.creation_timestamp.as_ref())
        .map(|t| ctx.age(t.0));
    let title = match &since {
        Some(age) => format!("the pod has been in ContainerCreating for {age}"),
        None => "the pod is in ContainerCreating".to_string(),
    };
    let mut finding = Finding::new(Severity::Warning, ctx.object.clone(), "container-creating", title).explain(
        "The kubelet is still preparing the pod (volumes, network sandbox, image pulls) and reports no error. The latest events show where it is; if there are none, they may have expired (after an hour) or the kubelet has not picked the pod up.",
    );
    if ctx.events.is_empty() {
        finding = finding.evidence("no events about the pod", ctx.field("metadata.name"));
    }
    for event in ctx.events.iter().take(EVENTS_SHOWN) {
        let (fact, source) = ctx.event_evidence(event);
        finding = finding.evidence(fact, source);
    }
    finding
        .remedy(Remedy::command(
            "Follow the pod's events",
            format!("kubectl describe pod {} -n {}", ctx.name, ctx.namespace),
        ))
        .details(json!({"since": since, "node": ctx.node_name()}))
}
