//! FailedCreatePodSandBox: the pod's sandbox (its network namespace and pause container) cannot
//! be created. Usually the CNI plugin (no network, no IP), sometimes the runtime handler.

use k8s_openapi::api::core::v1::Event;
use kube_runbook::report::{Finding, ObjectRef, Remedy, Severity, Source};
use serde_json::json;

use super::cni::{self, CniPod};
use super::context::PodContext;
use super::node_health::{NodeState, node_state, ready_condition};

/// The newest sandbox failure, as a finding.
pub fn analyse(ctx: &PodContext) -> Option<Finding> {
    let event = ctx
        .events_with(&["FailedCreatePodSandBox"])
        .into_iter()
        .next();
    let network_not_ready = ctx.events_with(&["NetworkNotReady"]).into_iter().next();
    let event = event.or(network_not_ready)?;
    let message = event.message.as_deref().unwrap_or("");
    if is_runtime_handler(message) {
        return Some(runtime_handler(ctx, event));
    }
    if !is_network(message) && network_not_ready.is_none() {
        return Some(other_failure(ctx, event));
    }
    Some(network(ctx, event))
}

fn is_network(message: &str) -> bool {
    let text = message.to_ascii_lowercase();
    ["network", "cni", "plugin type=", "ip address", "ipam"]
        .iter()
        .any(|n| text.contains(n))
}

fn is_runtime_handler(message: &str) -> bool {
    message.contains("runtime handler") || message.contains("no runtime for")
}

fn network(ctx: &PodContext, event: &Event) -> Finding {
    let node = ctx.node_name().unwrap_or("its node");
    let message = event.message.as_deref().unwrap_or("");
    let (fact, source) = ctx.event_evidence(event);
    let mut finding = Finding::new(
        Severity::Error,
        ctx.object.clone(),
        "pod-network-setup-failed",
        format!("the network plugin on {node} cannot set up the pod's network"),
    )
    .explain(format!(
        "The kubelet asks the CNI plugin for the pod's network before starting any container; the plugin fails, so the pod stays in ContainerCreating without an IP. {}",
        network_hint(message)
    ))
    .evidence(fact, source);
    if ctx
        .status()
        .and_then(|s| s.pod_ip.as_deref())
        .is_none_or(str::is_empty)
    {
        finding = finding.evidence("the pod has no IP address", ctx.field("status.podIP"));
    }
    if let NodeState::Present(n) = node_state(ctx)
        && let Some(ready) = ready_condition(n)
            .filter(|c| c.message.as_deref().is_some_and(|m| m.contains("network")))
    {
        finding = finding.evidence(
            format!(
                "node {node} Ready={}: {}",
                ready.status,
                ready.message.as_deref().unwrap_or("")
            ),
            Source::Condition {
                object: ObjectRef::cluster("Node", node),
                condition_type: "Ready".into(),
                status: ready.status.clone(),
                reason: ready.reason.clone(),
            },
        );
    }
    let (finding, cni_pods) = with_cni_pods(ctx, finding, node);
    let unhealthy = cni_pods
        .iter()
        .find(|p| p.problem.is_some())
        .or(cni_pods.first());
    let finding = match unhealthy {
        Some(cni_pod) => {
            let name = cni_pod.pod.metadata.name.as_deref().unwrap_or("");
            let namespace = cni_pod.pod.metadata.namespace.as_deref().unwrap_or("");
            finding
                .remedy(Remedy::command("Read the network plugin's log on this node", format!("kubectl logs {name} -n {namespace} --all-containers")))
                .remedy(
                    Remedy::command("Restart the network plugin's pod on this node (its DaemonSet recreates it)", format!("kubectl delete pod {name} -n {namespace}"))
                        .dangerous(format!("new pods on {node} get no network until it is back")),
                )
        }
        None => finding.remedy(Remedy::step(format!(
            "Check the network plugin on {node}: its node agent, /etc/cni/net.d and /opt/cni/bin on the node"
        ))),
    };
    finding
        .remedy(Remedy::step(
            "If restarting the plugin does not help, restart the container runtime on the node, then escalate (runbook 004's healing ladder)",
        ))
        .details(json!({
            "node": ctx.node_name(),
            "message": message,
            "cniPods": cni_pods.iter().map(|p| json!({
                "name": p.pod.metadata.name,
                "namespace": p.pod.metadata.namespace,
                "daemonSet": p.daemon_set,
                "problem": p.problem,
            })).collect::<Vec<_>>(),
        }))
}

fn network_hint(message: &str) -> &'static str {
    let text = message.to_ascii_lowercase();
    if text.contains("no ip addresses available")
        || text.contains("failed to allocate")
        || text.contains("ipam")
    {
        "The plugin has no free IP address for the node (an exhausted pod CIDR or leaked IP allocations)."
    } else if text.contains("unauthorized") || text.contains("forbidden") {
        "The plugin cannot talk to the API server with its credentials."
    } else if text.contains("no such file or directory")
        || text.contains("not initialized")
        || text.contains("not ready")
    {
        "The plugin is not (yet) installed or running on the node: its config or binary is missing."
    } else {
        "The plugin's own error is in the message."
    }
}

fn with_cni_pods<'a>(
    ctx: &PodContext<'a>,
    finding: Finding,
    node: &str,
) -> (Finding, Vec<CniPod<'a>>) {
    if let Err(why) = cni::checkable(ctx.state) {
        return (
            finding.evidence(
                format!("the network plugin's pods were not checked: {why}"),
                Source::Computed,
            ),
            Vec::new(),
        );
    }
    let pods = cni::pods_on_node(ctx.state, node);
    if pods.is_empty() {
        let finding = finding.evidence(
            format!("no pod of a known CNI DaemonSet runs on {node} (the plugin may be missing, or installed another way)"),
            Source::Computed,
        );
        return (finding, pods);
    }
    let finding = pods.iter().fold(finding, |f, p| {
        let name = p.pod.metadata.name.as_deref().unwrap_or("");
        let namespace = p.pod.metadata.namespace.as_deref().unwrap_or("");
        let health = p
            .problem
            .clone()
            .unwrap_or_else(|| "running and ready".into());
        f.evidence(
            format!(
                "network plugin pod {namespace}/{name} ({}) on {node}: {health}",
                p.daemon_set
            ),
            Source::Object {
                object: ObjectRef::namespaced("Pod", namespace, name),
            },
        )
    });
    (finding, pods)
}

fn runtime_handler(ctx: &PodContext, event: &Event) -> Finding {
    let (fact, source) = ctx.event_evidence(event);
    let class = ctx.spec().and_then(|s| s.runtime_class_name.clone());
    Finding::new(
        Severity::Error,
        ctx.object.clone(),
        "sandbox-creation-failed",
        format!("the container runtime on {} has no handler for the pod's RuntimeClass", ctx.node_name().unwrap_or("its node")),
    )
    .explain("The pod's runtimeClassName maps to a runtime handler (gVisor, Kata, ...) that the node's container runtime does not have configured.")
    .evidence(fact, source)
    .remedy(Remedy::step("Configure the handler on the node's runtime, or keep the pod on nodes that have it (RuntimeClass scheduling.nodeSelector)"))
    .details(json!({"runtimeClassName": class, "message": event.message}))
}

fn other_failure(ctx: &PodContext, event: &Event) -> Finding {
    let (fact, source) = ctx.event_evidence(event);
    Finding::new(
        Severity::Error,
        ctx.object.clone(),
        "sandbox-creation-failed",
        format!("the container runtime on {} cannot create the pod's sandbox", ctx.node_name().unwrap_or("its node")),
    )
    .explain("Before any container, the runtime creates the pod sandbox (its pause container and namespaces); that fails. Common causes: the pause image cannot be pulled, cgroup or security settings the node rejects, a runtime in trouble.")
    .evidence(fact, source)
    .remedy(Remedy::command("Check the runtime on the node", ctx.on_node("crictl info")))
    .details(json!({"message": event.message}))
}
