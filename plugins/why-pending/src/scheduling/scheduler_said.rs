//! What the scheduler itself last said about the pod: the newest FailedScheduling event, else the
//! PodScheduled condition's message.

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::{
    report::{ObjectRef, Source, human_duration},
    state::{ClusterState, event_time},
};

/// The scheduler's latest word on a pod, with where it was read.
pub struct SchedulerSaid {
    pub message: String,
    pub source: Source,
}

/// The newest FailedScheduling message (events API or core), else the PodScheduled condition.
pub fn latest(pod: &Pod, object: &ObjectRef, state: &ClusterState) -> Option<SchedulerSaid> {
    let uid = pod.metadata.uid.as_deref();
    let events = state.events_for("Pod", object.namespace.as_deref(), &object.name, uid);
    if let Some(event) = events
        .into_iter()
        .find(|e| e.reason.as_deref() == Some("FailedScheduling"))
    {
        let last_seen = event_time(event).and_then(|t| {
            let span = state.observed_at.duration_since(t);
            std::time::Duration::try_from(span)
                .ok()
                .map(|d| format!("{} ago", human_duration(d)))
        });
        return Some(SchedulerSaid {
            message: event.message.clone().unwrap_or_default(),
            source: Source::event(event, last_seen),
        });
    }
    let condition = pod
        .status
        .as_ref()?
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False")?;
    Some(SchedulerSaid {
        message: condition.message.clone().filter(|m| !m.is_empty())?,
        source: Source::Condition {
            object: object.clone(),
            condition_type: "PodScheduled".into(),
            status: "False".into(),
            reason: condition.reason.clone(),
        },
    })
}
