//! Containers that started and died: CrashLoopBackOff, a terminated container that will not be
//! restarted, and a running container that keeps restarting. The last exit code and its meaning,
//! OOMKilled against the memory limit, probe-triggered restarts, and the previous log.

use k8s_openapi::api::core::v1::ContainerStateTerminated;
use kube_runbook::report::{Finding, Remedy, Severity};
use serde_json::json;

use super::containers::ContainerView;
use super::context::PodContext;
use super::exit_codes::{meaning, signal_of};
use super::probes::{ProbeKind, restarts, with_load_advice, with_probe_evidence};

pub const CRASH_LOOP: &str = "CrashLoopBackOff";

/// Why the container died, as far as the status and events tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    OomKilled,
    ProbeKilled(ProbeKind),
    Completed,
    Exited,
}

impl Cause {
    fn of(
        ctx: &PodContext,
        container: &ContainerView,
        last: Option<&ContainerStateTerminated>,
    ) -> Cause {
        if last.is_some_and(|t| t.reason.as_deref() == Some("OOMKilled")) {
            return Cause::OomKilled;
        }
        for kind in [ProbeKind::Liveness, ProbeKind::Startup] {
            if !restarts(ctx, container, kind).is_empty() {
                return Cause::ProbeKilled(kind);
            }
        }
        match last {
            Some(t) if t.exit_code == 0 => Cause::Completed,
            _ => Cause::Exited,
        }
    }

    fn code(self, otherwise: &'static str) -> &'static str {
        match self {
            Cause::OomKilled => "oom-killed",
            Cause::ProbeKilled(ProbeKind::Startup) => "startup-probe-failed",
            Cause::ProbeKilled(_) => "liveness-probe-failed",
            Cause::Completed | Cause::Exited => otherwise,
        }
    }
}

/// A container in CrashLoopBackOff.
pub fn crash_loop(ctx: &PodContext, container: &ContainerView) -> Finding {
    let last = container.last_terminated();
    let cause = Cause::of(ctx, container, last);
    let title = format!(
        "{} is in CrashLoopBackOff{}",
        container.label(),
        cause_words(cause, last)
            .map(|w| format!(": {w}"))
            .unwrap_or_default()
    );
    let mut finding = Finding::new(Severity::Error, ctx.object.clone(), cause.code("crash-loop-back-off"), title)
        .explain(format!(
            "The container started and exited; the kubelet restarts it with a growing back-off (10s doubling to 5 minutes). {}",
            explanation(cause, last)
        ))
        .evidence(
            format!("restarted {} times; {}", container.restart_count(), container.waiting_message().unwrap_or(CRASH_LOOP)),
            ctx.field(container.status_path(".restartCount")),
        );
    if let Some(last) = last {
        finding = finding.evidence(
            termination_fact(ctx, last),
            ctx.field(container.status_path(".lastState.terminated")),
        );
    }
    if let Some(event) = ctx.container_events(container, &["BackOff"]).first() {
        let (fact, source) = ctx.event_evidence(event);
        finding = finding.evidence(fact, source);
    }
    finish(ctx, finding, container, cause, last)
}

/// A terminated container that will not be restarted (restartPolicy Never, or a failed pod).
pub fn failed(ctx: &PodContext, container: &ContainerView) -> Option<Finding> {
    let terminated = container.terminated().filter(|t| t.exit_code != 0)?;
    let cause = Cause::of(ctx, container, Some(terminated));
    let title = format!(
        "{} failed{}",
        container.label(),
        cause_words(cause, Some(terminated))
            .map(|w| format!(": {w}"))
            .unwrap_or_default()
    );
    let finding = Finding::new(
        Severity::Error,
        ctx.object.clone(),
        cause.code("container-failed"),
        title,
    )
    .explain(format!(
        "The container exited with an error and its restartPolicy does not restart it. {}",
        explanation(cause, Some(terminated))
    ))
    .evidence(
        termination_fact(ctx, terminated),
        ctx.field(container.status_path(".state.terminated")),
    );
    Some(finish(ctx, finding, container, cause, Some(terminated)))
}

/// A running, ready container that has restarted: it works now but died before.
pub fn restarted(ctx: &PodContext, container: &ContainerView) -> Option<Finding> {
    let last = container
        .last_terminated()
        .filter(|_| container.restart_count() > 0)?;
    let cause = Cause::of(ctx, container, Some(last));
    let title = format!(
        "{} restarted {} times{}",
        container.label(),
        container.restart_count(),
        cause_words(cause, Some(last))
            .map(|w| format!(", last time: {w}"))
            .unwrap_or_default()
    );
    let finding = Finding::new(
        Severity::Warning,
        ctx.object.clone(),
        "container-restarts",
        title,
    )
    .explain(format!(
        "The container runs and is ready now, but it died before. {}",
        explanation(cause, Some(last))
    ))
    .evidence(
        termination_fact(ctx, last),
        ctx.field(container.status_path(".lastState.terminated")),
    );
    Some(finish(ctx, finding, container, cause, Some(last)))
}

fn finish(
    ctx: &PodContext,
    mut finding: Finding,
    container: &ContainerView,
    cause: Cause,
    last: Option<&ContainerStateTerminated>,
) -> Finding {
    let previous = last.is_some() && container.terminated().is_none();
    finding = finding.remedy(Remedy::command(
        "Read the log of the container's last run",
        ctx.logs_command(container.name(), previous),
    ));
    if cause == Cause::OomKilled {
        finding = memory_evidence(ctx, finding, container);
    }
    if let Cause::ProbeKilled(kind) = cause {
        finding = with_probe_evidence(ctx, finding, container, kind);
        finding = with_load_advice(ctx, finding, container, kind);
    }
    if matches!(last.map(|t| t.exit_code), Some(126 | 127)) {
        let command: Vec<String> = container
            .spec
            .command
            .iter()
            .chain(container.spec.args.iter())
            .flatten()
            .cloned()
            .collect();
        let fact = if command.is_empty() {
            "no command: the image's entrypoint runs".to_string()
        } else {
            format!("command: {}", command.join(" "))
        };
        finding = finding.evidence(fact, ctx.field(container.spec_path(".command")));
    }
    for remedy in cause_remedies(cause, container) {
        finding = finding.remedy(remedy);
    }
    finding.details(json!({
        "container": container.name(),
        "restartCount": container.restart_count(),
        "exitCode": last.map(|t| t.exit_code),
        "reason": last.and_then(|t| t.reason.clone()),
        "signal": last.and_then(|t| signal_of(t.exit_code)),
        "meaning": last.map(|t| meaning(t.exit_code)),
        "memoryLimit": memory(container, "limits"),
    }))
}

fn cause_words(cause: Cause, last: Option<&ContainerStateTerminated>) -> Option<String> {
    match cause {
        Cause::OomKilled => Some("OOMKilled (out of memory)".into()),
        Cause::ProbeKilled(kind) => Some(format!(
            "restarted by its failing {} probe",
            kind.word().to_ascii_lowercase()
        )),
        Cause::Completed => Some("the main process exits with code 0".into()),
        Cause::Exited => last.map(|t| format!("exit code {}", t.exit_code)),
    }
}

fn explanation(cause: Cause, last: Option<&ContainerStateTerminated>) -> String {
    match cause {
        Cause::OomKilled => "It used more memory than its limit (or the node ran out of memory), and the kernel's OOM killer ended it with SIGKILL (exit 137).".into(),
        Cause::ProbeKilled(kind) => format!(
            "Its {} probe failed failureThreshold times in a row, so the kubelet killed and restarted it. The application may be broken, or just too slow to answer, e.g. on an overloaded node.",
            kind.word().to_ascii_lowercase()
        ),
        Cause::Completed => "Its main process finished successfully; with restartPolicy Always a finished container is started again and again. A long-running container needs a foreground process; a one-off task belongs in a Job.".into(),
        Cause::Exited => match last {
            Some(t) => format!("Last exit code {}: {}.", t.exit_code, meaning(t.exit_code)),
            None => "Its last exit is no longer recorded.".into(),
        },
    }
}

fn termination_fact(ctx: &PodContext, terminated: &ContainerStateTerminated) -> String {
    let reason = terminated
        .reason
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    let when = terminated
        .finished_at
        .as_ref()
        .map(|t| format!(", {} ago", ctx.age(t.0)))
        .unwrap_or_default();
    let message = terminated
        .message
        .as_deref()
        .filter(|m| !m.is_empty())
        .map(|m| format!("; message: {}", m.trim()))
        .unwrap_or_default();
    format!(
        "exit code {}{reason}{when}: {}{message}",
        terminated.exit_code,
        meaning(terminated.exit_code)
    )
}

fn memory(container: &ContainerView, which: &str) -> Option<String> {
    let resources = container.spec.resources.as_ref()?;
    let list = if which == "limits" {
        resources.limits.as_ref()?
    } else {
        resources.requests.as_ref()?
    };
    list.get("memory").map(|q| q.0.clone())
}

fn memory_evidence(ctx: &PodContext, finding: Finding, container: &ContainerView) -> Finding {
    match memory(container, "limits") {
        Some(limit) => {
            let request = memory(container, "requests").map(|r| format!(", request {r}")).unwrap_or_default();
            finding.evidence(format!("memory limit {limit}{request}"), ctx.field(container.spec_path(".resources.limits.memory")))
        }
        None => finding.evidence(
            "no memory limit: the node itself ran out of memory and its OOM killer chose this container",
            ctx.field(container.spec_path(".resources")),
        ),
    }
}

fn cause_remedies(cause: Cause, container: &ContainerView) -> Vec<Remedy> {
    match cause {
        Cause::OomKilled => {
            let limit = memory(container, "limits").unwrap_or_else(|| "<current>".into());
            vec![Remedy::yaml(
                format!(
                    "Give the container more memory than its peak (the limit is {limit}), or find what grows (leak, cache, heap size above the limit)"
                ),
                "resources:\n  requests:\n    memory: <peak usage>\n  limits:\n    memory: <peak usage + headroom>",
            )]
        }
        Cause::Completed => vec![Remedy::step(
            "Make the command run in the foreground for the container's whole life, or move a one-off task to a Job (restartPolicy: OnFailure)",
        )],
        Cause::ProbeKilled(kind) => vec![Remedy::step(format!(
            "Check that the {} probe's port/path/command match what the application serves, and that the first check waits for start-up (a startupProbe covers slow starts)",
            kind.word().to_ascii_lowercase()
        ))],
        Cause::Exited => vec![Remedy::step(
            "Fix what the log shows (configuration, missing dependency, bad arguments); for exit 126/127 fix the command or image",
        )],
    }
}
