//! Why one pod is not ready: the first cause found, from the most basic up (not scheduled, its
//! node not Ready, init containers, waiting or stopped containers, a failing readiness probe,
//! readiness gates), with its evidence and the step that follows from it.

mod gates;
mod init_containers;
mod node;
#[cfg(test)]
mod testing;

use k8s_openapi::api::core::v1::{Event, Pod};
use kube_runbook::report::{ObjectRef, Remedy, Source};

use super::Context;
use crate::pods;

/// Why one pod is not ready, in words, with its evidence and the command to dig further.
pub struct Reason {
    pub text: String,
    pub source: Source,
    /// `kubectl why-pending POD -n NS` when the pod is not running.
    pub handoff: Option<String>,
    /// What to do about this cause; pods with the same cause share it.
    pub remedy: Option<Remedy>,
}

impl Reason {
    fn new(text: String, source: Source) -> Reason {
        Reason {
            text,
            source,
            handoff: None,
            remedy: None,
        }
    }

    fn handoff(mut self, pod: &Pod) -> Reason {
        self.handoff = Some(pods::why_pending_command(pod));
        self
    }

    fn remedy(mut self, remedy: Remedy) -> Reason {
        self.remedy = Some(remedy);
        self
    }
}

/// Why `pod` is not ready: the first cause found, from the most basic up.
pub fn why(cx: &Context, pod: &Pod) -> Reason {
    unscheduled(pod)
        .or_else(|| node::not_ready(cx, pod))
        .or_else(|| init_containers::unfinished(pod))
        .or_else(|| stopped_containers(pod))
        .or_else(|| unready_containers(cx, pod))
        .or_else(|| gates::not_true(pod))
        .unwrap_or_else(|| ready_condition(pod))
}

fn pod_events<'a>(cx: &Context<'a, '_>, pod: &Pod) -> impl Iterator<Item = &'a Event> {
    cx.index
        .events_for(
            "Pod",
            pods::namespace(pod),
            pods::name(pod),
            pod.metadata.uid.as_deref(),
        )
        .into_iter()
}

/// ` (REASON: MESSAGE)` of a condition, or nothing when it gives neither.
fn in_parentheses(reason: Option<&str>, message: Option<&str>) -> String {
    let said: Vec<&str> = [reason, message]
        .into_iter()
        .flatten()
        .map(str::trim)
        .collect();
    if said.is_empty() {
        String::new()
    } else {
        format!(" ({})", said.join(": "))
    }
}

fn field(pod: &Pod, path: &str) -> Source {
    Source::Field {
        object: ObjectRef::namespaced("Pod", pods::namespace(pod), pods::name(pod)),
        path: path.to_string(),
    }
}

fn unscheduled(pod: &Pod) -> Option<Reason> {
    if pods::node(pod).is_some() {
        return None;
    }
    let message = pods::condition(pod, "PodScheduled")
        .and_then(|c| c.message.as_deref())
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    Some(
        Reason::new(
            format!("is not scheduled on any node{message}"),
            field(pod, "spec.nodeName"),
        )
        .handoff(pod),
    )
}

fn stopped_containers(pod: &Pod) -> Option<Reason> {
    let containers = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref());
    for container in containers.into_iter().flatten() {
        let state = container.state.as_ref();
        if let Some(waiting) = state.and_then(|s| s.waiting.as_ref()) {
            let reason = waiting.reason.as_deref().unwrap_or("Waiting");
            let message = waiting
                .message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            return Some(
                Reason::new(
                    format!("container {} is waiting: {reason}{message}", container.name),
                    field(pod, "status.containerStatuses[*].state.waiting"),
                )
                .handoff(pod),
            );
        }
        if let Some(terminated) = state.and_then(|s| s.terminated.as_ref()) {
            return Some(
                Reason::new(
                    format!(
                        "container {} terminated ({}, exit code {})",
                        container.name,
                        terminated.reason.as_deref().unwrap_or("Terminated"),
                        terminated.exit_code
                    ),
                    field(pod, "status.containerStatuses[*].state.terminated"),
                )
                .handoff(pod),
            );
        }
    }
    if containers.is_none() && pods::phase(pod) == "Pending" {
        return Some(
            Reason::new(
                "is Pending: its containers have not started".into(),
                field(pod, "status.phase"),
            )
            .handoff(pod),
        );
    }
    None
}

/// Running containers that are not ready: the kubelet's Unhealthy event quotes the failing
/// readiness probe.
fn unready_containers(cx: &Context, pod: &Pod) -> Option<Reason> {
    let containers = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref());
    let name = containers
        .into_iter()
        .flatten()
        .find(|c| !c.ready)
        .map(|c| c.name.as_str())?;
    let probe_failure = pod_events(cx, pod).find(|e| {
        e.reason.as_deref() == Some("Unhealthy")
            && e.message
                .as_deref()
                .is_some_and(|m| m.starts_with("Readiness probe"))
    });
    if let Some(event) = probe_failure {
        return Some(
            Reason::new(
                format!(
                    "the readiness probe fails: {}",
                    event.message.as_deref().unwrap_or_default().trim()
                ),
                cx.event_source(event),
            )
            .remedy(Remedy::step(
                "Fix what the probe reports, or the probe itself if it checks the wrong path, port or timeout",
            )),
        );
    }
    let has_probe = pods::serving_containers(pod)
        .any(|s| s.container.name == name && s.container.readiness_probe.is_some());
    let text = if has_probe {
        format!("container {name} is running but its readiness probe has not passed")
    } else {
        format!("container {name} is running but not ready")
    };
    Some(Reason::new(
        text,
        field(pod, "status.containerStatuses[*].ready"),
    ))
}

fn ready_condition(pod: &Pod) -> Reason {
    let ready = pods::condition(pod, "Ready");
    Reason::new(
        format!(
            "its Ready condition is {}{}",
            ready.map_or("missing", |c| c.status.as_str()),
            ready
                .and_then(|c| c.reason.as_deref().or(c.message.as_deref()))
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        ),
        Source::Condition {
            object: ObjectRef::namespaced("Pod", pods::namespace(pod), pods::name(pod)),
            condition_type: "Ready".into(),
            status: ready.map_or("Unknown".into(), |c| c.status.clone()),
            reason: ready.and_then(|c| c.reason.clone()),
        },
    )
}
