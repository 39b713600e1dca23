//! ErrImagePull, ImagePullBackOff, InvalidImageName, ErrImageNeverPull, ImageInspectError: which
//! image, parsed as the runtime reads it, why the pull failed, and the pull secrets in play.

use k8s_openapi::api::core::v1::Event;
use kube_runbook::report::{Finding, Remedy, Severity, Source};
use serde_json::json;

use super::containers::ContainerView;
use super::context::PodContext;
use super::image_ref::ImageRef;
use super::pull_error::{PullFailure, classify};
use super::pull_remedies;
use super::pull_secrets::pull_secrets;

/// The container waiting reasons this module explains.
pub const REASONS: [&str; 7] = [
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
    "ImageInspectError",
    "RegistryUnavailable",
    "SignatureValidationFailed",
];

pub fn analyse(ctx: &PodContext, container: &ContainerView) -> Finding {
    let image = container.spec.image.as_deref().unwrap_or("");
    let parsed = ImageRef::parse(image);
    match (container.waiting_reason().unwrap_or(""), parsed) {
        (_, Err(why)) => invalid_name(ctx, container, image, &why),
        ("InvalidImageName", Ok(_)) => {
            invalid_name(ctx, container, image, "the runtime rejected the reference")
        }
        ("ErrImageNeverPull", Ok(reference)) => never_pull(ctx, container, &reference),
        ("ImageInspectError", Ok(reference)) => inspect_failed(ctx, container, &reference),
        (_, Ok(reference)) => pull_failed(ctx, container, &reference),
    }
}

fn base(ctx: &PodContext, container: &ContainerView, code: &str, title: String) -> Finding {
    let mut finding = Finding::new(Severity::Error, ctx.object.clone(), code, title);
    if let Some(reason) = container.waiting_reason() {
        let message = container
            .waiting_message()
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        finding = finding.evidence(
            format!("{} is waiting with {reason}{message}", container.label()),
            ctx.field(container.status_path(".state.waiting")),
        );
    }
    finding.evidence(
        format!("image {:?}", container.spec.image.as_deref().unwrap_or("")),
        ctx.field(container.spec_path(".image")),
    )
}

fn pull_failed(ctx: &PodContext, container: &ContainerView, reference: &ImageRef) -> Finding {
    let failed = latest_pull_failure(ctx, container);
    // Without the event, the waiting message: the pull error itself for ErrImagePull, and for
    // ImagePullBackOff on recent kubelets `Back-off pulling image "x": ErrImagePull: <error>`.
    let error = failed
        .and_then(|e| e.message.as_deref())
        .or_else(|| container.waiting_message())
        .unwrap_or("");
    let cause = classify(error);
    let qualified = reference.qualified();
    let title = format!(
        "{} cannot pull image {qualified}: {}",
        container.label(),
        cause_words(cause)
    );
    let secrets = pull_secrets(ctx);
    let mut finding = base(ctx, container, cause.code(), title)
        .explain(explanation(
            cause,
            reference,
            ctx.node_name().unwrap_or("its node"),
        ))
        .evidence(
            format!(
                "read as registry {}, repository {}, {}",
                reference.registry,
                reference.repository,
                version_words(reference)
            ),
            Source::Computed,
        );
    finding = match failed {
        Some(event) => {
            let (fact, source) = ctx.event_evidence(event);
            finding.evidence(fact, source)
        }
        None => finding.evidence(
            "no `Failed to pull image` event is left (events expire after an hour); the cause is unknown",
            Source::Computed,
        ),
    };
    if let Some(backoff) = ctx.container_events(container, &["BackOff"]).first() {
        let (fact, source) = ctx.event_evidence(backoff);
        finding = finding.evidence(fact, source);
    }
    if matches!(
        cause,
        PullFailure::Unauthorized
            | PullFailure::NotFound
            | PullFailure::RateLimited
            | PullFailure::Unknown
    ) {
        finding = finding.evidence(
            pull_remedies::secrets_fact(&secrets),
            ctx.field("spec.imagePullSecrets"),
        );
        for (fact, source) in &secrets.notes {
            finding = finding.evidence(fact.clone(), source.clone());
        }
    }
    for remedy in pull_remedies::remedies(ctx, container, reference, cause, &secrets) {
        finding = finding.remedy(remedy);
    }
    finding.details(json!({
        "container": container.name(),
        "image": container.spec.image,
        "reference": reference,
        "cause": cause.code(),
        "pullError": error,
        "pullSecrets": secrets.secrets,
        "serviceAccount": secrets.service_account,
        "node": ctx.node_name(),
    }))
}

/// The newest `Failed to pull image` event of this container.
fn latest_pull_failure<'a>(ctx: &PodContext<'a>, container: &ContainerView) -> Option<&'a Event> {
    ctx.container_events(container, &["Failed"])
        .into_iter()
        .find(|e| {
            e.message
                .as_deref()
                .is_some_and(|m| m.starts_with("Failed to pull image"))
        })
}

fn cause_words(cause: PullFailure) -> &'static str {
    match cause {
        PullFailure::NotFound => "the image or tag does not exist",
        PullFailure::Unauthorized => "the registry denied access",
        PullFailure::Unreachable => "the registry cannot be reached from the node",
        PullFailure::Timeout => "the pull timed out",
        PullFailure::RateLimited => "the registry rate-limits pulls",
        PullFailure::Tls => "the registry's certificate is not trusted",
        PullFailure::Platform => "the image has no build for the node's platform",
        PullFailure::Unknown => "the pull fails",
    }
}

fn version_words(reference: &ImageRef) -> String {
    match (&reference.tag, &reference.digest) {
        (Some(tag), Some(digest)) => format!("tag {tag} pinned to {digest}"),
        (Some(tag), None) => format!("tag {tag}"),
        (None, Some(digest)) => format!("digest {digest}"),
        (None, None) => "no tag given, so tag latest".to_string(),
    }
}

fn explanation(cause: PullFailure, reference: &ImageRef, node: &str) -> String {
    let image = reference.qualified();
    let retry = "The kubelet retries with a growing back-off (up to 5 minutes), showing ImagePullBackOff in between.";
    let why = match cause {
        PullFailure::NotFound => format!(
            "The registry {} answered that {image} does not exist: the repository name or the tag is wrong, or the tag was deleted.",
            reference.registry
        ),
        PullFailure::Unauthorized => format!(
            "The registry {} refused the pull: the repository is private and the pod has no valid credentials for it (a missing or wrong imagePullSecret, or expired credentials).",
            reference.registry
        ),
        PullFailure::Unreachable => format!(
            "The container runtime on {node} could not connect to {} (DNS, firewall, proxy or routing); the image itself may be fine.",
            reference.registry
        ),
        PullFailure::Timeout => format!(
            "The pull of {image} started but did not finish in time on {node}: typically a very large image over a slow link, cut off by the runtime's pull timeout."
        ),
        PullFailure::RateLimited => format!(
            "The registry {} throttles pulls (Docker Hub limits anonymous pulls per IP); the node's address has used its quota.",
            reference.registry
        ),
        PullFailure::Tls => format!(
            "The runtime on {node} does not trust the TLS certificate of {} (self-signed or private CA).",
            reference.registry
        ),
        PullFailure::Platform => {
            format!("{image} has no image for the operating system/architecture of {node}.")
        }
        PullFailure::Unknown => format!("The runtime on {node} fails to pull {image}."),
    };
    format!("{why} {retry}")
}

fn invalid_name(ctx: &PodContext, container: &ContainerView, image: &str, why: &str) -> Finding {
    base(ctx, container, "invalid-image-name", format!("{} has an invalid image reference {image:?}", container.label()))
        .explain(format!(
            "The kubelet cannot parse the image reference, so it never tries to pull it: {why}. The reference is [registry[:port]/]repository[:tag][@digest], repository in lowercase."
        ))
        .evidence(why.to_string(), Source::Computed)
        .remedy(Remedy::command(
            "Correct the image reference",
            format!("kubectl set image {} {}=<registry/repository:tag> -n {}", ctx.workload(), container.name(), ctx.namespace),
        ))
        .details(json!({"container": container.name(), "image": image, "problem": why}))
}

fn never_pull(ctx: &PodContext, container: &ContainerView, reference: &ImageRef) -> Finding {
    let node = ctx.node_name().unwrap_or("its node");
    let image = container.spec.image.as_deref().unwrap_or("");
    base(ctx, container, "image-never-pull", format!("{} uses imagePullPolicy Never but {image} is not on {node}", container.label()))
        .explain(format!(
            "With imagePullPolicy: Never the kubelet only uses images already present on the node, and {node} does not have {}.",
            reference.qualified()
        ))
        .evidence("imagePullPolicy: Never", ctx.field(container.spec_path(".imagePullPolicy")))
        .remedy(Remedy::step(format!(
            "Load the image onto {node} (e.g. `ctr -n k8s.io images import IMAGE.tar` on the node, `kind load docker-image {image}`, `minikube image load {image}`)"
        )))
        .remedy(Remedy::step("Or let the kubelet pull it: set imagePullPolicy: IfNotPresent on the container"))
        .details(json!({"container": container.name(), "image": image, "reference": reference, "node": ctx.node_name()}))
}

fn inspect_failed(ctx: &PodContext, container: &ContainerView, reference: &ImageRef) -> Finding {
    let image = container.spec.image.as_deref().unwrap_or("");
    let qualified = reference.qualified();
    base(ctx, container, "image-inspect-failed", format!("the runtime cannot inspect image {image} for {}", container.label()))
        .explain("The container runtime failed to read the image from its local store; the stored image is usually corrupt or the runtime is unhealthy.")
        .remedy(Remedy::command("Remove the image on the node so that it is pulled again", ctx.on_node(&format!("crictl rmi {qualified}"))))
        .details(json!({"container": container.name(), "image": image, "reference": reference, "node": ctx.node_name()}))
}
