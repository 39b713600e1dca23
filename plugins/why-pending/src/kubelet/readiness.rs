//! Running but not Ready: failing readiness or startup probes, and readiness gates that an
//! outside controller has not set.

use kube_runbook::report::{Finding, Remedy, Severity, Source};
use serde_json::json;

use super::containers::ContainerView;
use super::context::PodContext;
use super::probes::{ProbeKind, failures, with_load_advice, with_probe_evidence};

/// A running container that is not ready.
pub fn not_ready(ctx: &PodContext, container: &ContainerView) -> Option<Finding> {
    if !container.is_running() || container.is_ready() {
        return None;
    }
    let not_started = container.status.is_some_and(|s| s.started == Some(false));
    let (kind, code, severity, title) =
        if not_started && !failures(ctx, container, ProbeKind::Startup).is_empty() {
            (
                ProbeKind::Startup,
                "startup-probe-failed",
                Severity::Error,
                format!("{} has not passed its startup probe", container.label()),
            )
        } else if !failures(ctx, container, ProbeKind::Readiness).is_empty() {
            (
                ProbeKind::Readiness,
                "readiness-probe-failed",
                Severity::Error,
                format!("{} runs but fails its readiness probe", container.label()),
            )
        } else {
            (
                ProbeKind::Readiness,
                "container-not-ready",
                Severity::Warning,
                format!("{} runs but is not ready", container.label()),
            )
        };
    let explanation = match code {
        "container-not-ready" => {
            "The container runs but is not ready, and no probe failure is recorded: its probe may not have succeeded yet (initialDelaySeconds), or the failure events have expired (after an hour)."
        }
        _ => {
            "A pod that is not Ready receives no Service traffic and counts as unavailable in rollouts. A failing probe is not always the application's fault: on an overloaded node the probe can time out or be refused (runbook 003 6.2.3), so look at the node as well."
        }
    };
    let mut finding = Finding::new(severity, ctx.object.clone(), code, title)
        .explain(explanation)
        .evidence(
            format!("{} running, ready=false", container.label()),
            ctx.field(container.status_path(".ready")),
        );
    finding = with_probe_evidence(ctx, finding, container, kind);
    if code != "container-not-ready" {
        finding = with_load_advice(ctx, finding, container, kind);
    }
    Some(
        finding
            .remedy(Remedy::command(
                "Read what the application logs while it is not ready",
                ctx.logs_command(container.name(), false),
            ))
            .details(json!({"container": container.name(), "probe": kind.field()})),
    )
}

/// Readiness gates whose pod condition is not True.
pub fn gates(ctx: &PodContext) -> Vec<Finding> {
    let conditions = ctx
        .status()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or(&[]);
    ctx.spec()
        .and_then(|s| s.readiness_gates.as_deref())
        .unwrap_or(&[])
        .iter()
        .filter_map(|gate| {
            let gate_type = gate.condition_type.as_str();
            let condition = conditions.iter().find(|c| c.type_ == gate_type);
            if condition.is_some_and(|c| c.status == "True") {
                return None;
            }
            let status = condition.map_or("missing", |c| c.status.as_str());
            Some(
                Finding::new(
                    Severity::Error,
                    ctx.object.clone(),
                    "readiness-gate-not-ready",
                    format!("readiness gate {gate_type} is {status}"),
                )
                .explain("A readiness gate keeps the pod not Ready until another controller (a load-balancer or service-mesh controller) sets its condition to True; the containers themselves may be fine.")
                .evidence(
                    format!("condition {gate_type} is {status}"),
                    Source::Condition {
                        object: ctx.object.clone(),
                        condition_type: gate_type.to_string(),
                        status: status.to_string(),
                        reason: condition.and_then(|c| c.reason.clone()),
                    },
                )
                .remedy(Remedy::step(format!("Check the controller that owns the {gate_type} condition (its logs and the target's health)")))
                .details(json!({"gate": gate_type, "status": status})),
            )
        })
        .collect()
}
