//! The first link for `--from POD`: the client pod must be running with an IP to send anything.

use kube_runbook::report::{Finding, ObjectRef, Remedy, Severity, Source};

use super::Context;
use crate::{
    chain::{Link, Observation},
    pods,
};

pub fn check(cx: &Context) -> Vec<Observation> {
    let Some(client) = cx.client else {
        return Vec::new();
    };
    let phase = pods::phase(client.pod);
    if phase == "Running" && client.ip.is_some() {
        return Vec::new();
    }
    let object = ObjectRef::namespaced("Pod", client.namespace, client.name);
    let finding = Finding::new(
        Severity::Error,
        cx.subject.object(),
        "client-pod-not-running",
        format!(
            "the client pod {} is {phase}{}",
            client.label(),
            if client.ip.is_none() {
                " without an IP"
            } else {
                ""
            }
        ),
    )
    .explain("A pod sends traffic only while its containers run with a pod IP.")
    .evidence(
        format!("pod {} phase {phase}", client.label()),
        Source::Field {
            object,
            path: "status.phase".into(),
        },
    )
    .remedy(Remedy::command(
        format!("Find out why pod {} is not running", client.name),
        pods::why_pending_command(client.pod),
    ));
    vec![Observation::new(Link::Client, finding)]
}
