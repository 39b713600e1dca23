//! Events about an object, newest first, whichever API wrote them: the scheduler writes through
//! events.k8s.io/v1, so its core/v1 view has no lastTimestamp and only eventTime or series.

use k8s_openapi::api::core::v1::Event;
use k8s_openapi::jiff::Timestamp;

use super::cluster_state::ClusterState;

/// When an event last happened: series, then lastTimestamp, eventTime, firstTimestamp, creation.
pub fn event_time(event: &Event) -> Option<Timestamp> {
    let series = event
        .series
        .as_ref()
        .and_then(|s| s.last_observed_time.as_ref())
        .map(|t| t.0);
    series
        .or_else(|| event.last_timestamp.as_ref().map(|t| t.0))
        .or_else(|| event.event_time.as_ref().map(|t| t.0))
        .or_else(|| event.first_timestamp.as_ref().map(|t| t.0))
        .or_else(|| event.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

/// How many times an event happened (series count, then count, at least 1).
pub fn event_count(event: &Event) -> i32 {
    event
        .series
        .as_ref()
        .and_then(|s| s.count)
        .or(event.count)
        .unwrap_or(1)
        .max(1)
}

/// Who reported an event (e.g. `default-scheduler`, `kubelet`).
pub fn event_reporter(event: &Event) -> Option<&str> {
    event
        .reporting_component
        .as_deref()
        .filter(|c| !c.is_empty())
        .or_else(|| event.source.as_ref().and_then(|s| s.component.as_deref()))
}

impl ClusterState {
    /// Events about the object `kind` `namespace/name` (and `uid` when known), newest first.
    pub fn events_for(
        &self,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        uid: Option<&str>,
    ) -> Vec<&Event> {
        let mut events: Vec<&Event> = self
            .events
            .iter()
            .filter(|e| {
                let o = &e.involved_object;
                o.kind.as_deref() == Some(kind)
                    && o.name.as_deref() == Some(name)
                    && (namespace.is_none() || o.namespace.as_deref() == namespace)
                    && match (uid, o.uid.as_deref()) {
                        (Some(want), Some(have)) => want == have,
                        _ => true,
                    }
            })
            .collect();
        events.sort_by_key(|e| std::cmp::Reverse(event_time(e)));
        events
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::jiff::Timestamp;
    use serde_json::json;

    use super::*;
    use crate::state::Origin;

    fn event(name: &str, reason: &str, time_field: (&str, &str), uid: &str) -> Event {
        let mut value = json!({
            "metadata": {"name": name, "namespace": "shop"},
            "involvedObject": {"kind": "Pod", "name": "web", "namespace": "shop", "uid": uid},
            "reason": reason,
        });
        value[time_field.0] = json!(time_field.1);
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn newest_first_across_both_event_apis() {
        let mut state =
            ClusterState::new(Origin::Snapshot { path: "x".into() }, Timestamp::UNIX_EPOCH);
        state.events = vec![
            event(
                "a",
                "Scheduled",
                ("lastTimestamp", "2026-01-01T00:00:00Z"),
                "u1",
            ),
            event(
                "b",
                "FailedScheduling",
                ("eventTime", "2026-01-01T00:05:00.000000Z"),
                "u1",
            ),
            event(
                "c",
                "Pulled",
                ("lastTimestamp", "2026-01-01T00:09:00Z"),
                "old-uid",
            ),
        ];
        let names: Vec<_> = state
            .events_for("Pod", Some("shop"), "web", Some("u1"))
            .iter()
            .map(|e| e.metadata.name.clone().unwrap())
            .collect();
        assert_eq!(
            names,
            vec!["b", "a"],
            "the event of an older pod with the same name is left out"
        );
    }
}
