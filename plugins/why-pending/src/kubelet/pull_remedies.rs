//! How to fix each kind of failed pull, and how to verify the pull on the node.

use kube_runbook::report::Remedy;

use super::containers::ContainerView;
use super::context::PodContext;
use super::image_ref::ImageRef;
use super::pull_error::PullFailure;
use super::pull_secrets::{PullSecret, PullSecrets};

/// One line on the pull secrets in play.
pub fn secrets_fact(secrets: &PullSecrets) -> String {
    if secrets.secrets.is_empty() {
        return format!(
            "no imagePullSecrets on the pod or on ServiceAccount {}",
            secrets.service_account
        );
    }
    let listed: Vec<String> = secrets.secrets.iter().map(describe).collect();
    format!("imagePullSecrets: {}", listed.join(", "))
}

fn describe(secret: &PullSecret) -> String {
    let existence = match secret.exists {
        Some(true) => "exists",
        Some(false) => "does not exist",
        None => "existence unknown",
    };
    let origin = match (secret.in_pod, secret.in_service_account) {
        (true, true) => "pod and ServiceAccount",
        (true, false) => "pod",
        (false, _) => "ServiceAccount only, not copied into this pod",
    };
    format!("{} ({existence}; from {origin})", secret.name)
}

pub fn remedies(
    ctx: &PodContext,
    container: &ContainerView,
    reference: &ImageRef,
    cause: PullFailure,
    secrets: &PullSecrets,
) -> Vec<Remedy> {
    let mut out = match cause {
        PullFailure::NotFound => not_found(ctx, container, reference),
        PullFailure::Unauthorized | PullFailure::RateLimited => {
            credentials(ctx, reference, secrets, cause)
        }
        PullFailure::Unreachable => vec![Remedy::step(format!(
            "Make {} reachable from the node: check DNS, firewall, proxy (the runtime's HTTPS_PROXY/NO_PROXY) and routes; where the registry is blocked (gcr.io from some networks), use a mirror the nodes can reach",
            reference.registry
        ))],
        PullFailure::Timeout => timeout(ctx, reference),
        PullFailure::Tls => vec![Remedy::step(format!(
            "Make the runtime trust the registry's CA: for containerd, add /etc/containerd/certs.d/{}/hosts.toml with `ca = \"/path/ca.crt\"` on every node (or give the registry a publicly trusted certificate)",
            reference.registry
        ))],
        PullFailure::Platform => platform(ctx, reference),
        PullFailure::Unknown => Vec::new(),
    };
    out.push(Remedy::command(
        "Verify the pull on the node itself (add --creds USER:PASSWORD for a private registry)",
        ctx.on_node(&format!("crictl pull {}", reference.qualified())),
    ));
    out
}

fn not_found(ctx: &PodContext, container: &ContainerView, reference: &ImageRef) -> Vec<Remedy> {
    let repository = format!("{}/{}", reference.registry, reference.repository);
    let mut out = vec![
        Remedy::command(
            "List the tags that exist in the repository",
            format!("skopeo list-tags docker://{repository}"),
        ),
        Remedy::command(
            "Point the container at an existing tag",
            format!(
                "kubectl set image {} {}={repository}:<tag> -n {}",
                ctx.workload(),
                container.name(),
                ctx.namespace
            ),
        ),
    ];
    if reference.tag.is_none() && reference.digest.is_none() {
        out.push(Remedy::step("The reference has no tag, so `latest` was pulled; many repositories do not publish `latest`: name a tag"));
    }
    out
}

fn credentials(
    ctx: &PodContext,
    reference: &ImageRef,
    secrets: &PullSecrets,
    cause: PullFailure,
) -> Vec<Remedy> {
    let create = |name: &str| {
        format!(
            "kubectl create secret docker-registry {name} --docker-server={} --docker-username=<user> --docker-password=<password> -n {}",
            reference.credential_server(),
            ctx.namespace
        )
    };
    let mut out = Vec::new();
    for missing in secrets.secrets.iter().filter(|s| s.exists == Some(false)) {
        out.push(Remedy::command(
            format!("Create the missing pull secret {}", missing.name),
            create(&missing.name),
        ));
    }
    if secrets.secrets.is_empty() {
        out.push(Remedy::command(
            format!("Create a pull secret for {}", reference.registry),
            create("regcred"),
        ));
        out.push(Remedy::command(
            format!("Let pods of ServiceAccount {} use it (only pods created afterwards get it: recreate this one)", secrets.service_account),
            format!(
                "kubectl patch serviceaccount {} -n {} -p '{{\"imagePullSecrets\":[{{\"name\":\"regcred\"}}]}}'",
                secrets.service_account, ctx.namespace
            ),
        ));
    }
    if secrets.secrets.iter().any(|s| !s.in_pod) {
        out.push(Remedy::step(
            "The ServiceAccount lists pull secrets this pod does not have (they are copied in at creation): recreate the pod",
        ));
    }
    for existing in secrets
        .secrets
        .iter()
        .filter(|s| s.exists == Some(true) && s.in_pod)
    {
        out.push(Remedy::command(
            format!("Check that secret {} holds valid credentials for {}", existing.name, reference.registry),
            format!(
                "kubectl get secret {} -n {} -o jsonpath='{{.data.\\.dockerconfigjson}}' | base64 -d",
                existing.name, ctx.namespace
            ),
        ));
    }
    if cause == PullFailure::RateLimited {
        out.push(Remedy::step(
            "Authenticated pulls have a higher limit; or pull through a registry mirror / pull-through cache",
        ));
    }
    out
}

fn timeout(ctx: &PodContext, reference: &ImageRef) -> Vec<Remedy> {
    vec![
        Remedy::command(
            "Pre-pull the image on the node (or on every node with a pre-pull DaemonSet), then the pod starts from the local copy",
            ctx.on_node(&format!("crictl pull {}", reference.qualified())),
        ),
        Remedy::step(
            "Raise the pull timeout: containerd `image_pull_progress_timeout` (CRI plugin, default 5m), kubelet `--runtime-request-timeout`; dockershim-era kubelets use `--image-pull-progress-deadline`",
        ),
        Remedy::step("Make the image smaller (multi-stage build, slimmer base)"),
    ]
}

fn platform(ctx: &PodContext, reference: &ImageRef) -> Vec<Remedy> {
    let node_platform = ctx
        .node()
        .and_then(|n| n.status.as_ref()?.node_info.as_ref())
        .map(|i| format!("{}/{}", i.operating_system, i.architecture))
        .unwrap_or_else(|| "the node's platform".to_string());
    vec![
        Remedy::step(format!(
            "Publish {} for {node_platform} (a multi-arch image)",
            reference.qualified()
        )),
        Remedy::step(
            "Or keep the pod on nodes the image supports with a nodeSelector on kubernetes.io/arch",
        ),
    ]
}
