//! Liveness, readiness and startup probes: their settings, their failures (`Unhealthy` events)
//! and the restarts they cause (`Killing ... failed liveness probe`).

use k8s_openapi::api::core::v1::{Event, Probe};
use kube_runbook::report::{Finding, Remedy};

use super::containers::ContainerView;
use super::context::PodContext;
use super::node_health::{NodeState, condition_evidence, node_state, problems};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeKind {
    Liveness,
    Readiness,
    Startup,
}

impl ProbeKind {
    /// As the kubelet capitalises it in events: `Liveness probe failed: ...`.
    pub fn word(self) -> &'static str {
        match self {
            ProbeKind::Liveness => "Liveness",
            ProbeKind::Readiness => "Readiness",
            ProbeKind::Startup => "Startup",
        }
    }

    pub fn field(self) -> &'static str {
        match self {
            ProbeKind::Liveness => "livenessProbe",
            ProbeKind::Readiness => "readinessProbe",
            ProbeKind::Startup => "startupProbe",
        }
    }

    pub fn of<'a>(self, container: &ContainerView<'a>) -> Option<&'a Probe> {
        let spec = container.spec;
        match self {
            ProbeKind::Liveness => spec.liveness_probe.as_ref(),
            ProbeKind::Readiness => spec.readiness_probe.as_ref(),
            ProbeKind::Startup => spec.startup_probe.as_ref(),
        }
    }
}

/// `Unhealthy` events of this probe (`... probe failed` or `... probe errored`), newest first.
pub fn failures<'a>(
    ctx: &PodContext<'a>,
    container: &ContainerView,
    kind: ProbeKind,
) -> Vec<&'a Event> {
    let failed = format!("{} probe failed", kind.word());
    let errored = format!("{} probe errored", kind.word());
    ctx.container_events(container, &["Unhealthy"])
        .into_iter()
        .filter(|e| {
            e.message
                .as_deref()
                .is_some_and(|m| m.starts_with(&failed) || m.starts_with(&errored))
        })
        .collect()
}

/// `Killing` events saying the kubelet restarted the container because this probe failed.
pub fn restarts<'a>(
    ctx: &PodContext<'a>,
    container: &ContainerView,
    kind: ProbeKind,
) -> Vec<&'a Event> {
    let needle = format!("failed {} probe", kind.word().to_ascii_lowercase());
    ctx.container_events(container, &["Killing"])
        .into_iter()
        .filter(|e| e.message.as_deref().is_some_and(|m| m.contains(&needle)))
        .collect()
}

/// The probe's handler and timing, with the API defaults filled in.
pub fn settings(probe: &Probe) -> String {
    let handler = if let Some(http) = &probe.http_get {
        format!(
            "httpGet {}:{}",
            http.path.as_deref().unwrap_or("/"),
            port_text(&http.port)
        )
    } else if let Some(tcp) = &probe.tcp_socket {
        format!("tcpSocket :{}", port_text(&tcp.port))
    } else if let Some(grpc) = &probe.grpc {
        format!("grpc :{}", grpc.port)
    } else if let Some(exec) = &probe.exec {
        format!("exec {}", exec.command.as_deref().unwrap_or(&[]).join(" "))
    } else {
        "no handler".to_string()
    };
    let t = Timing::of(probe);
    format!(
        "{handler}, initialDelaySeconds={} periodSeconds={} timeoutSeconds={} failureThreshold={} (fails after ~{}s of failures)",
        t.initial_delay,
        t.period,
        t.timeout,
        t.failure_threshold,
        t.period * t.failure_threshold
    )
}

fn port_text(port: &k8s_openapi::apimachinery::pkg::util::intstr::IntOrString) -> String {
    match port {
        k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n) => n.to_string(),
        k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s.clone(),
    }
}

/// Probe timing with the API defaults.
struct Timing {
    initial_delay: i32,
    period: i32,
    timeout: i32,
    failure_threshold: i32,
}

impl Timing {
    fn of(probe: &Probe) -> Timing {
        Timing {
            initial_delay: probe.initial_delay_seconds.unwrap_or(0),
            period: probe.period_seconds.unwrap_or(10),
            timeout: probe.timeout_seconds.unwrap_or(1),
            failure_threshold: probe.failure_threshold.unwrap_or(3),
        }
    }
}

/// Adds the probe's settings, its newest failure and the restarts it caused.
pub fn with_probe_evidence(
    ctx: &PodContext,
    mut finding: Finding,
    container: &ContainerView,
    kind: ProbeKind,
) -> Finding {
    if let Some(probe) = kind.of(container) {
        finding = finding.evidence(
            format!("{}: {}", kind.field(), settings(probe)),
            ctx.field(container.spec_path(&format!(".{}", kind.field()))),
        );
    }
    let failures = failures(ctx, container, kind);
    if let Some(event) = failures.first() {
        let (fact, source) = ctx.event_evidence(event);
        finding = finding.evidence(fact, source);
    }
    if let Some(event) = restarts(ctx, container, kind).first() {
        let (fact, source) = ctx.event_evidence(event);
        finding = finding.evidence(fact, source);
    }
    finding
}

/// Runbook 003 6.2.1 / 6.2.3: probes fail on an overloaded node although the app is fine.
/// Shows the node's pressure conditions and proposes more tolerant probe settings.
pub fn with_load_advice(
    ctx: &PodContext,
    mut finding: Finding,
    container: &ContainerView,
    kind: ProbeKind,
) -> Finding {
    if let NodeState::Present(node) = node_state(ctx) {
        let name = node.metadata.name.as_deref().unwrap_or("");
        for condition in problems(node) {
            let (fact, source) = condition_evidence(name, condition);
            finding = finding.evidence(fact, source);
        }
    }
    if let Some(probe) = kind.of(container) {
        finding = finding.remedy(Remedy::yaml(
            format!(
                "If the application is healthy but slow (an overloaded node answers late or refuses connections), make the {} more tolerant, and lower the node's load",
                kind.field()
            ),
            tolerant_yaml(kind, probe),
        ));
    }
    finding
}

fn tolerant_yaml(kind: ProbeKind, probe: &Probe) -> String {
    let t = Timing::of(probe);
    format!(
        "{}:\n  initialDelaySeconds: {}\n  periodSeconds: {}\n  timeoutSeconds: {}\n  failureThreshold: {}",
        kind.field(),
        t.initial_delay,
        t.period,
        (t.timeout * 3).max(5),
        (t.failure_threshold * 2).max(6)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_fill_in_defaults() {
        let probe: Probe = serde_json::from_value(
            serde_json::json!({"tcpSocket": {"port": 8080}, "initialDelaySeconds": 5}),
        )
        .unwrap();
        assert_eq!(
            settings(&probe),
            "tcpSocket :8080, initialDelaySeconds=5 periodSeconds=10 timeoutSeconds=1 failureThreshold=3 (fails after ~30s of failures)"
        );
        assert_eq!(
            tolerant_yaml(ProbeKind::Liveness, &probe),
            "livenessProbe:\n  initialDelaySeconds: 5\n  periodSeconds: 10\n  timeoutSeconds: 5\n  failureThreshold: 6"
        );
    }
}
