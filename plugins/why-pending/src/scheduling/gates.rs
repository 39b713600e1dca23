//! Pods held back by schedulingGates: the scheduler does not even try them.

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::report::{Finding, ObjectRef, Remedy, Severity, Source};

/// A finding when the pod has scheduling gates.
pub fn analyse(pod: &Pod, object: &ObjectRef) -> Option<Finding> {
    let gates: Vec<&str> = pod
        .spec
        .as_ref()?
        .scheduling_gates
        .iter()
        .flatten()
        .map(|g| g.name.as_str())
        .collect();
    if gates.is_empty() {
        return None;
    }
    let namespace = object.namespace.as_deref().unwrap_or_default();
    Some(
        Finding::new(
            Severity::Error,
            object.clone(),
            "scheduling-gated",
            format!("it is held by scheduling gate(s) {}: the scheduler will not try it until they are removed", gates.join(", ")),
        )
        .explain("schedulingGates keep a pod out of the scheduling queue. Whatever added the gate (a queueing controller such as Kueue, or an operator) is expected to remove it; until then no node is considered.")
        .evidence(format!("spec.schedulingGates: {}", gates.join(", ")), Source::Field { object: object.clone(), path: "spec.schedulingGates".into() })
        .remedy(Remedy::step("Find the controller that owns the gate and why it has not released the pod (for Kueue: the workload's admission and quota)"))
        .remedy(
            Remedy::command(
                "Remove the gates by hand (only if no controller should manage them)",
                format!("kubectl patch pod {} -n {namespace} --type=json -p='[{{\"op\":\"remove\",\"path\":\"/spec/schedulingGates\"}}]'", object.name),
            )
            .dangerous("bypasses the admission or quota the gate enforces"),
        ),
    )
}
