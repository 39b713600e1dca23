//! CreateContainerConfigError (a missing ConfigMap, Secret or key, or a security-context check)
//! and the errors of creating or starting a container (CreateContainerError, RunContainerError,
//! lifecycle hooks).

use kube_runbook::report::{Finding, Remedy, Severity};
use serde_json::json;

use super::containers::ContainerView;
use super::context::PodContext;
use super::missing_config;

pub const CONFIG_ERROR: &str = "CreateContainerConfigError";

pub fn analyse(ctx: &PodContext, container: &ContainerView) -> Vec<Finding> {
    if container.waiting_reason() == Some(CONFIG_ERROR) {
        config_error(ctx, container)
    } else {
        vec![start_error(ctx, container)]
    }
}

fn config_error(ctx: &PodContext, container: &ContainerView) -> Vec<Finding> {
    let failed = ctx
        .container_events(container, &["Failed"])
        .into_iter()
        .next();
    let missing = missing_config::missing_refs(
        ctx,
        |r| r.container.as_deref() == Some(container.name()),
        failed,
    );
    if !missing.is_empty() {
        return missing;
    }
    let message = container.waiting_message().unwrap_or("");
    let source = ctx.field(container.status_path(".state.waiting.message"));
    if let Some(finding) = missing_config::from_message(ctx, message, source.clone()) {
        return vec![finding];
    }
    let mut finding = Finding::new(
        Severity::Error,
        ctx.object.clone(),
        "container-config-error",
        format!("the kubelet cannot configure {}: {message}", container.label()),
    )
    .explain("The kubelet could not build the container's configuration (environment, mounts, security context) and retries until the cause is fixed.")
    .evidence(format!("{CONFIG_ERROR}: {message}"), source);
    if message.contains("runAsNonRoot") {
        finding = finding.remedy(Remedy::yaml(
            "The image runs as root (or as a non-numeric user) but the pod requires non-root: set a numeric non-root user, or build the image with `USER 1000`",
            "securityContext:\n  runAsNonRoot: true\n  runAsUser: 1000",
        ));
    }
    vec![finding.details(
        json!({"container": container.name(), "reason": CONFIG_ERROR, "message": message}),
    )]
}

fn start_error(ctx: &PodContext, container: &ContainerView) -> Finding {
    let reason = container.waiting_reason().unwrap_or("");
    let message = container.waiting_message().unwrap_or("");
    let mut finding = Finding::new(
        Severity::Error,
        ctx.object.clone(),
        "container-start-failed",
        format!("{} cannot be started ({reason})", container.label()),
    )
    .explain(format!(
        "The container runtime failed to create or start the container and the kubelet retries. {}",
        hint(reason, message)
    ))
    .evidence(
        format!("{reason}: {message}"),
        ctx.field(container.status_path(".state.waiting")),
    );
    let hook_events = ["Failed", "FailedPostStartHook", "FailedPreStopHook"];
    if let Some(event) = ctx.container_events(container, &hook_events).first() {
        let (fact, source) = ctx.event_evidence(event);
        finding = finding.evidence(fact, source);
    }
    if container.spec.command.is_some() || container.spec.args.is_some() {
        let command: Vec<String> = container
            .spec
            .command
            .iter()
            .chain(container.spec.args.iter())
            .flatten()
            .cloned()
            .collect();
        finding = finding.evidence(
            format!("command: {}", command.join(" ")),
            ctx.field(container.spec_path(".command")),
        );
    }
    finding
        .remedy(Remedy::command(
            "Read the full error in the pod's events",
            format!("kubectl describe pod {} -n {}", ctx.name, ctx.namespace),
        ))
        .details(json!({"container": container.name(), "reason": reason, "message": message}))
}

/// A plain-words reading of the runtime's message.
fn hint(reason: &str, message: &str) -> &'static str {
    let text = message.to_ascii_lowercase();
    if text.contains("executable file not found") || text.contains("no such file or directory") {
        "The command (or a file it needs) does not exist in the image: check `command`/`args` against the image's paths."
    } else if text.contains("permission denied") {
        "The command is not executable (permissions, or a binary for another architecture)."
    } else if text.contains("read-only file system")
        || text.contains("not a directory")
        || text.contains("subpath")
    {
        "A volume mount cannot be set up as declared (subPath, read-only root filesystem, or a file mounted over a directory)."
    } else if text.contains("already in use") {
        "A leftover container of the same name is still registered in the runtime; this usually clears on the next retry."
    } else if reason.contains("Hook") {
        "A lifecycle hook failed: the container is killed when its postStart hook fails; fix the hook's command or endpoint."
    } else {
        "The message above is the runtime's own explanation."
    }
}
