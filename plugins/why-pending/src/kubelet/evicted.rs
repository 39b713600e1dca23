//! Pods the kubelet evicted (`status.reason: Evicted`): node pressure or the pod's own
//! ephemeral-storage limits (runbook 003 6.2.4), the node now, and the evicted pods left behind.

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::report::{Finding, ObjectRef, Remedy, Severity, Source};
use serde_json::json;

use super::context::PodContext;
use super::eviction_message::{EvictionCause, parse};
use super::node_health::{NodeState, condition_evidence, node_state, problems};

pub fn is_evicted(pod: &Pod) -> bool {
    pod.status.as_ref().and_then(|s| s.reason.as_deref()) == Some("Evicted")
}

pub fn analyse(ctx: &PodContext) -> Finding {
    let message = ctx
        .status()
        .and_then(|s| s.message.as_deref())
        .unwrap_or("");
    let cause = parse(message);
    let (code, title) = title(&cause);
    let mut finding = Finding::new(Severity::Error, ctx.object.clone(), code, title)
        .explain(explanation(&cause))
        .evidence(
            format!("Evicted: {}", message.trim()),
            ctx.field("status.message"),
        );
    if let EvictionCause::NodeLow { containers, .. } = &cause {
        for (container, usage, request) in containers {
            finding = finding.evidence(
                format!("container {container} used {usage} against a request of {request}"),
                Source::Computed,
            );
        }
    }
    finding = with_node_now(ctx, finding);
    let left_behind = evicted_in_namespace(ctx);
    finding = finding.evidence(
        format!(
            "{left_behind} evicted pod(s) are left behind in namespace {}",
            ctx.namespace
        ),
        Source::Computed,
    );
    if let Some(owner) = ctx.state.top_controller(ctx.namespace, &ctx.pod.metadata) {
        finding = finding.evidence(
            format!(
                "its controller {} creates replacements; this pod object is only a record",
                owner
            ),
            Source::Object { object: owner },
        );
    }
    for remedy in remedies(ctx, &cause) {
        finding = finding.remedy(remedy);
    }
    finding
        .remedy(
            Remedy::command(
                format!("Clean up the {left_behind} evicted pod(s) of namespace {}", ctx.namespace),
                format!("kubectl delete pods -n {} --field-selector=status.phase==Failed", ctx.namespace),
            )
            .dangerous("deletes every Failed pod in the namespace, not only evicted ones: failed Job pods and their logs go too"),
        )
        .details(json!({
            "cause": cause_name(&cause),
            "message": message,
            "node": ctx.node_name(),
            "evictedPodsInNamespace": left_behind,
        }))
}

fn title(cause: &EvictionCause) -> (&'static str, String) {
    match cause {
        EvictionCause::NodeLow { resource, .. } => (
            "evicted-node-pressure",
            format!("the kubelet evicted the pod: the node was low on {resource}"),
        ),
        EvictionCause::NodeCondition { conditions } => (
            "evicted-node-pressure",
            format!("the kubelet refused the pod: the node had {conditions}"),
        ),
        EvictionCause::PodStorageLimit { limit } => (
            "evicted-storage-limit",
            format!("the pod was evicted for using more than its ephemeral-storage limit {limit}"),
        ),
        EvictionCause::ContainerStorageLimit { container, limit } => (
            "evicted-storage-limit",
            format!(
                "the pod was evicted: container {container} exceeded its ephemeral-storage limit {limit}"
            ),
        ),
        EvictionCause::EmptyDirLimit { volume, limit } => (
            "evicted-storage-limit",
            format!("the pod was evicted: emptyDir {volume} exceeded its sizeLimit {limit}"),
        ),
        EvictionCause::Unrecognised => ("evicted", "the kubelet evicted the pod".to_string()),
    }
}

fn cause_name(cause: &EvictionCause) -> &'static str {
    match cause {
        EvictionCause::NodeLow { .. } => "node-low-on-resource",
        EvictionCause::NodeCondition { .. } => "node-condition",
        EvictionCause::PodStorageLimit { .. } => "pod-ephemeral-storage-limit",
        EvictionCause::ContainerStorageLimit { .. } => "container-ephemeral-storage-limit",
        EvictionCause::EmptyDirLimit { .. } => "emptydir-size-limit",
        EvictionCause::Unrecognised => "unrecognised",
    }
}

fn explanation(cause: &EvictionCause) -> String {
    let tail = "An evicted pod is never restarted: it stays as a Failed record until deleted.";
    let why = match cause {
        EvictionCause::NodeLow { resource, threshold, available, .. } => format!(
            "The node's free {resource} fell below the kubelet's eviction threshold{}, so the kubelet evicted pods, those using most above their requests first.",
            match (threshold, available) {
                (Some(t), Some(a)) => format!(" ({t}; {a} was left)"),
                _ => String::new(),
            }
        ),
        EvictionCause::NodeCondition { .. } => {
            "The node was under pressure when the pod arrived, and the kubelet does not admit new pods then.".to_string()
        }
        EvictionCause::PodStorageLimit { .. } | EvictionCause::ContainerStorageLimit { .. } | EvictionCause::EmptyDirLimit { .. } => {
            "The kubelet evicts a pod whose local ephemeral storage (writable layer, logs, emptyDir) outgrows its limits, whatever the node's free space.".to_string()
        }
        EvictionCause::Unrecognised => "The kubelet's message does not match a known eviction cause.".to_string(),
    };
    format!("{why} {tail}")
}

fn with_node_now(ctx: &PodContext, finding: Finding) -> Finding {
    let NodeState::Present(node) = node_state(ctx) else {
        return finding;
    };
    let name = node.metadata.name.as_deref().unwrap_or("");
    let problems = problems(node);
    if problems.is_empty() {
        return finding.evidence(
            format!("node {name} reports no pressure now"),
            Source::Object {
                object: ObjectRef::cluster("Node", name),
            },
        );
    }
    problems.into_iter().fold(finding, |f, c| {
        let (fact, source) = condition_evidence(name, c);
        f.evidence(fact, source)
    })
}

fn evicted_in_namespace(ctx: &PodContext) -> usize {
    ctx.state
        .pods
        .iter()
        .filter(|p| p.metadata.namespace.as_deref() == Some(ctx.namespace) && is_evicted(p))
        .count()
}

fn remedies(ctx: &PodContext, cause: &EvictionCause) -> Vec<Remedy> {
    let storage_yaml = "resources:\n  requests:\n    ephemeral-storage: \"2Gi\"\n  limits:\n    ephemeral-storage: \"3Gi\"";
    match cause {
        EvictionCause::NodeLow { resource, .. } if resource == "memory" => vec![Remedy::step(
            "Set memory requests to what the containers really use (pods using more than their requests are evicted first), and free or enlarge the node",
        )],
        EvictionCause::NodeLow { .. } | EvictionCause::NodeCondition { .. } => vec![
            Remedy::command(
                "Find what fills the node (images, logs, emptyDirs) and clean it; the kubelet also garbage-collects images under disk pressure",
                format!(
                    "kubectl describe node {}",
                    ctx.node_name().unwrap_or("NODE")
                ),
            ),
            Remedy::yaml(
                "Declare ephemeral-storage requests and limits so the scheduler and kubelet account for the pod's disk use",
                storage_yaml,
            ),
        ],
        EvictionCause::PodStorageLimit { .. } | EvictionCause::ContainerStorageLimit { .. } => {
            vec![
                Remedy::yaml(
                    "Raise the ephemeral-storage limit to what the pod needs",
                    storage_yaml,
                ),
                Remedy::step("Or write less locally: rotate logs, put scratch data on a volume"),
            ]
        }
        EvictionCause::EmptyDirLimit { volume, .. } => vec![Remedy::step(format!(
            "Raise emptyDir.sizeLimit of volume {volume}, or clean up what the pod writes there"
        ))],
        EvictionCause::Unrecognised => Vec::new(),
    }
}
