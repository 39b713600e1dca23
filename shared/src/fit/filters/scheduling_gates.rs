//! SchedulingGates: a pod with `spec.schedulingGates` is never tried; the API server sets
//! `PodScheduled=False, reason SchedulingGated` (`schedulinggates/scheduling_gates.go`).

use k8s_openapi::api::core::v1::Pod;

/// The names of the pod's scheduling gates, in order; empty when it may be scheduled.
pub fn scheduling_gates(pod: &Pod) -> Vec<String> {
    let gates = pod
        .spec
        .as_ref()
        .and_then(|s| s.scheduling_gates.as_deref())
        .unwrap_or_default();
    gates.iter().map(|gate| gate.name.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_gate_names() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [], "schedulingGates": [{"name": "example.com/quota"}, {"name": "b"}]},
        }))
        .unwrap();
        assert_eq!(scheduling_gates(&pod), ["example.com/quota", "b"]);
        assert!(scheduling_gates(&Pod::default()).is_empty());
    }
}
