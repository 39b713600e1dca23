//! Whether any scheduler is serving the pod: the default scheduler's lease, or a custom
//! schedulerName that nothing answers to (seed 001, "external components").

use std::time::Duration;

use k8s_openapi::api::{coordination::v1::Lease, core::v1::Pod};
use kube_runbook::{
    report::{Finding, ObjectRef, Remedy, Severity, Source, human_duration},
    state::{ClusterState, Kind, event_reporter},
};

const DEFAULT_SCHEDULER: &str = "default-scheduler";

/// A finding when no scheduler appears to serve the pod's schedulerName.
pub fn analyse(pod: &Pod, object: &ObjectRef, state: &ClusterState) -> Option<Finding> {
    let scheduler = pod
        .spec
        .as_ref()?
        .scheduler_name
        .as_deref()
        .unwrap_or(DEFAULT_SCHEDULER);
    if scheduler == DEFAULT_SCHEDULER {
        return stale_default_scheduler(object, state);
    }
    if serves(scheduler, state) {
        return None;
    }
    Some(
        Finding::new(
            Severity::Error,
            object.clone(),
            "unknown-scheduler",
            format!("it asks for scheduler \"{scheduler}\", and no such scheduler appears to be running"),
        )
        .explain(format!(
            "Only a scheduler whose name is \"{scheduler}\" will bind this pod. No event was written by it, and no lease or pod with that name was found, so the pod stays Pending forever."
        ))
        .evidence(format!("spec.schedulerName: {scheduler}"), Source::Field { object: object.clone(), path: "spec.schedulerName".into() })
        .remedy(Remedy::step(format!("Start the \"{scheduler}\" scheduler, or remove spec.schedulerName from the pod template to use the default scheduler"))),
    )
}

fn serves(scheduler: &str, state: &ClusterState) -> bool {
    state
        .events
        .iter()
        .any(|e| event_reporter(e) == Some(scheduler))
        || state
            .leases
            .iter()
            .any(|l| l.metadata.name.as_deref() == Some(scheduler))
        || state.pods.iter().any(|p| {
            p.metadata
                .name
                .as_deref()
                .is_some_and(|n| n.starts_with(scheduler))
        })
}

fn stale_default_scheduler(object: &ObjectRef, state: &ClusterState) -> Option<Finding> {
    if !state.has(Kind::Lease) {
        return None;
    }
    let lease = state.leases.iter().find(|l| {
        l.metadata.namespace.as_deref() == Some("kube-system")
            && l.metadata.name.as_deref() == Some("kube-scheduler")
    })?;
    let age = lease_age(lease, state)?;
    let duration = Duration::from_secs(
        lease
            .spec
            .as_ref()?
            .lease_duration_seconds
            .unwrap_or(15)
            .max(1) as u64,
    );
    if age <= duration * 2 {
        return None;
    }
    let lease_ref = ObjectRef::namespaced("Lease", "kube-system", "kube-scheduler");
    Some(
        Finding::new(
            Severity::Error,
            object.clone(),
            "no-active-scheduler",
            format!("no scheduler is running: the kube-scheduler lease was last renewed {} ago", human_duration(age)),
        )
        .explain("The leading kube-scheduler renews its lease every few seconds. A lease this stale means no scheduler instance is alive (or none can reach the API server), so every new pod stays Pending without a FailedScheduling event.")
        .evidence(
            format!("renewTime {} ago, leaseDurationSeconds {}", human_duration(age), duration.as_secs()),
            Source::Field { object: lease_ref, path: "spec.renewTime".into() },
        )
        .remedy(Remedy::command("Check the scheduler pods (or the static pod manifests on the control-plane nodes)", "kubectl get pods -n kube-system -l component=kube-scheduler"))
        .remedy(Remedy::step("Read the scheduler's logs for API or certificate errors and restart it")),
    )
}

fn lease_age(lease: &Lease, state: &ClusterState) -> Option<Duration> {
    let renewed = lease.spec.as_ref()?.renew_time.as_ref()?.0;
    let span = state.observed_at.duration_since(renewed);
    Duration::try_from(span).ok()
}

#[cfg(test)]
mod tests {
    use k8s_openapi::jiff::Timestamp;
    use kube_runbook::state::Origin;
    use serde_json::json;

    use super::*;

    fn state_at(now: &str) -> ClusterState {
        let mut state = ClusterState::new(
            Origin::Snapshot { path: "s".into() },
            now.parse::<Timestamp>().unwrap(),
        );
        state.loaded.insert(Kind::Lease);
        state
    }

    fn pod(scheduler: Option<&str>) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p", "namespace": "ns"}, "spec": {"schedulerName": scheduler, "containers": []}})).unwrap()
    }

    fn lease(renewed: &str) -> Lease {
        serde_json::from_value(json!({"metadata": {"name": "kube-scheduler", "namespace": "kube-system"}, "spec": {"renewTime": renewed, "leaseDurationSeconds": 15}})).unwrap()
    }

    #[test]
    fn stale_lease_means_no_scheduler() {
        let mut state = state_at("2026-01-01T00:10:00Z");
        state.leases.push(lease("2026-01-01T00:00:00.000000Z"));
        let object = ObjectRef::namespaced("Pod", "ns", "p");
        let finding = analyse(&pod(None), &object, &state).unwrap();
        assert_eq!(finding.code, "no-active-scheduler");
        assert!(finding.title.contains("10m ago"), "{}", finding.title);
    }

    #[test]
    fn fresh_lease_is_fine() {
        let mut state = state_at("2026-01-01T00:00:10Z");
        state.leases.push(lease("2026-01-01T00:00:02.000000Z"));
        assert!(analyse(&pod(None), &ObjectRef::namespaced("Pod", "ns", "p"), &state).is_none());
    }

    #[test]
    fn unknown_custom_scheduler() {
        let state = state_at("2026-01-01T00:00:10Z");
        let finding = analyse(
            &pod(Some("my-scheduler")),
            &ObjectRef::namespaced("Pod", "ns", "p"),
            &state,
        )
        .unwrap();
        assert_eq!(finding.code, "unknown-scheduler");
    }
}
