//! Readiness gates (spec.readinessGates): with the containers ready, the pod is ready only once
//! every gate's condition is True, and only the controller that owns a gate sets it.

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::report::Remedy;

use super::{Reason, field, in_parentheses};
use crate::{chain::plural, pods};

/// Condition-type prefixes of readiness gates and the controllers that set them.
const GATE_OWNERS: [(&str, &str); 3] = [
    (
        "target-health.elbv2.k8s.aws/",
        "the AWS Load Balancer Controller",
    ),
    (
        "target-health.alb.ingress.k8s.aws/",
        "the AWS ALB Ingress Controller",
    ),
    (
        "cloud.google.com/load-balancer-neg-ready",
        "the GKE NEG controller",
    ),
];

/// Containers ready, but a readiness gate's condition missing or not True: only the controller
/// that owns the gate sets it.
pub(super) fn not_true(pod: &Pod) -> Option<Reason> {
    let mut open = pod
        .spec
        .as_ref()?
        .readiness_gates
        .as_ref()?
        .iter()
        .map(|gate| gate.condition_type.as_str())
        .filter(|gate| pods::condition(pod, gate).is_none_or(|c| c.status != "True"));
    let gate = open.next()?;
    let more = open.count();
    let more = if more > 0 {
        format!(" (and {more} more gate{})", plural(more))
    } else {
        String::new()
    };
    let owner = GATE_OWNERS
        .iter()
        .find(|(prefix, _)| gate.starts_with(prefix))
        .map(|(_, owner)| *owner);
    let state = match pods::condition(pod, gate) {
        None => "has no condition on the pod yet".to_string(),
        Some(c) => format!(
            "is {}{}",
            c.status,
            in_parentheses(c.reason.as_deref(), c.message.as_deref())
        ),
    };
    let (setter, remedy) = match owner {
        Some(owner) => (
            owner.to_string(),
            format!("Check that {owner} runs and has registered the pod; only it sets {gate}"),
        ),
        None => (
            "its owner, typically a load-balancer controller,".to_string(),
            format!(
                "Find the controller that owns readiness gate {gate} (typically a load-balancer controller) and check that it runs and has registered the pod; only it sets the condition"
            ),
        ),
    };
    Some(
        Reason::new(
            format!(
                "readiness gate {gate} {state}{more}: the containers are ready, but the pod is ready only once {setter} sets condition {gate} to True"
            ),
            field(pod, "spec.readinessGates"),
        )
        .remedy(Remedy::step(remedy)),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::testing::{not_ready_finding, remedies, web_2_not_ready};
    use crate::testing::{Fixture, facts};

    /// web-2's containers are ready but its readiness gate `gate` is `condition` (None: unset).
    fn gated(gate: &'static str, condition: Option<Value>) -> Fixture {
        web_2_not_ready(move |p| {
            p["spec"]["readinessGates"] = json!([{"conditionType": gate}]);
            p["status"]["containerStatuses"][0]["ready"] = json!(true);
            p["status"]["conditions"][1]["status"] = json!("True");
            p["status"]["conditions"][0]["reason"] = json!("ReadinessGatesNotReady");
            if let (Some(conditions), Some(c)) =
                (p["status"]["conditions"].as_array_mut(), condition.clone())
            {
                conditions.push(c);
            }
        })
    }

    #[test]
    fn a_missing_readiness_gate_condition_names_the_gate_and_its_owner() {
        let finding = not_ready_finding(&gated("example.com/lb-registered", None));
        assert!(
            facts(&finding).contains(
                "pod web-2: readiness gate example.com/lb-registered has no condition on the pod yet: the containers are ready, but the pod is ready only once its owner, typically a load-balancer controller, sets condition example.com/lb-registered to True"
            ),
            "{}",
            facts(&finding)
        );
        assert!(
            remedies(&finding).iter().any(|r| r.starts_with(
                "Find the controller that owns readiness gate example.com/lb-registered"
            )),
            "{:?}",
            remedies(&finding)
        );
    }

    #[test]
    fn a_false_readiness_gate_of_a_known_controller_names_it() {
        let gate = "target-health.elbv2.k8s.aws/k8s-shop-web-5f2a";
        let finding = not_ready_finding(&gated(
            gate,
            Some(
                json!({"type": gate, "status": "False", "reason": "Elb.RegistrationInProgress",
                "message": "Target registration is in progress"}),
            ),
        ));
        assert!(
            facts(&finding).contains(&format!(
                "readiness gate {gate} is False (Elb.RegistrationInProgress: Target registration is in progress): the containers are ready, but the pod is ready only once the AWS Load Balancer Controller sets condition {gate} to True"
            )),
            "{}",
            facts(&finding)
        );
    }

    #[test]
    fn a_stale_probe_event_does_not_hide_a_readiness_gate() {
        let mut f = gated("example.com/lb-registered", None);
        f.event(json!({
            "metadata": {"name": "e1", "namespace": "shop"},
            "involvedObject": {"kind": "Pod", "name": "web-2", "namespace": "shop", "uid": "uid-web-2"},
            "reason": "Unhealthy", "type": "Warning", "count": 2,
            "message": "Readiness probe failed: connection refused",
            "lastTimestamp": "2026-01-01T00:10:00Z"
        }));
        let evidence = facts(&not_ready_finding(&f));
        assert!(
            evidence.contains("pod web-2: readiness gate example.com/lb-registered"),
            "{evidence}"
        );
    }
}
