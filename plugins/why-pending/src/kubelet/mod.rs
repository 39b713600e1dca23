//! The kubelet side: why a pod the scheduler placed (or that has run) is not Running and Ready.
//!
//! [`analyse`] is pure: it reads the pod and the [`ClusterState`] (nodes, events, ConfigMaps,
//! Secret names, claims, ServiceAccounts, Leases, other pods) and says what it could not check
//! when a kind is missing. A Running and Ready pod without restarts gives no findings.

mod admission;
mod cni;
mod config_refs;
mod container_errors;
mod containers;
mod context;
mod crash_loop;
mod evicted;
mod eviction_message;
mod exit_codes;
mod handoff;
mod image_pull;
mod image_ref;
mod init;
mod missing_config;
mod node_health;
mod probes;
mod pull_error;
mod pull_remedies;
mod pull_secrets;
mod readiness;
mod sandbox;
mod volumes;
mod waiting;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::{report::Finding, state::ClusterState};

use self::containers::{ContainerView, containers};
use self::context::PodContext;

/// Kubelet-side findings about `pod`, most specific first. Empty for a pod the scheduler has not
/// placed (that is the scheduling analysis's job), a Succeeded pod, and a Running and Ready pod
/// without restarts.
pub fn analyse(pod: &Pod, state: &ClusterState) -> Vec<Finding> {
    let Some(ctx) = PodContext::new(pod, state) else {
        return Vec::new();
    };
    if !kubelet_involved(&ctx) {
        return Vec::new();
    }
    if let Some(finding) = handoff::terminating(&ctx) {
        return vec![finding];
    }
    if evicted::is_evicted(pod) {
        return vec![evicted::analyse(&ctx)];
    }
    if let Some(reason) = admission::rejection_reason(&ctx) {
        return vec![admission::analyse(&ctx, reason)];
    }
    if let Some(finding) = handoff::node_down(&ctx) {
        return vec![finding];
    }
    if ctx.phase() == "Succeeded" {
        return Vec::new();
    }
    let mut findings = container_findings(&ctx);
    if not_started(&ctx) {
        findings.extend(creating_findings(&ctx, findings.is_empty()));
    }
    if findings.is_empty() && ctx.phase() == "Running" {
        findings.extend(readiness::gates(&ctx));
    }
    if !findings.is_empty() {
        findings.extend(node_health::pressure_finding(&ctx));
    }
    findings
}

/// Placed on a node, or has a status only a kubelet writes.
fn kubelet_involved(ctx: &PodContext) -> bool {
    ctx.node_name().is_some()
        || ctx.status().is_some_and(|s| s.start_time.is_some())
        || !matches!(ctx.phase(), "" | "Pending")
}

fn container_findings(ctx: &PodContext) -> Vec<Finding> {
    let all = containers(ctx.pod);
    let classic_init = all.iter().filter(|c| c.is_classic_init()).count();
    let mut init_position = 0;
    let mut findings = Vec::new();
    for container in &all {
        if container.is_classic_init() {
            init_position += 1;
        }
        findings.extend(one_container(ctx, container, (init_position, classic_init)));
    }
    findings
}

fn one_container(
    ctx: &PodContext,
    container: &ContainerView,
    init_position: (usize, usize),
) -> Vec<Finding> {
    match container.waiting_reason() {
        Some(reason) if image_pull::REASONS.contains(&reason) => {
            vec![image_pull::analyse(ctx, container)]
        }
        Some(crash_loop::CRASH_LOOP) => vec![crash_loop::crash_loop(ctx, container)],
        Some("ContainerCreating" | "PodInitializing") => Vec::new(),
        Some(_) => container_errors::analyse(ctx, container),
        None if container.terminated().is_some() => {
            crash_loop::failed(ctx, container).into_iter().collect()
        }
        None if container.is_classic_init() => init::running(ctx, container, init_position)
            .into_iter()
            .collect(),
        None => {
            let not_ready = readiness::not_ready(ctx, container);
            let restarted = crash_loop::restarted(ctx, container);
            not_ready.into_iter().chain(restarted).collect()
        }
    }
}

/// Pending with no container started yet: volumes, the sandbox and images are being prepared.
fn not_started(ctx: &PodContext) -> bool {
    ctx.phase() == "Pending"
        && containers(ctx.pod).iter().all(|c| {
            !c.is_running()
                && c.terminated().is_none()
                && c.last_terminated().is_none()
                && matches!(
                    c.waiting_reason(),
                    None | Some("ContainerCreating" | "PodInitializing")
                )
        })
}

/// Why a pod that has started no container is stuck: missing ConfigMaps/Secrets of volumes,
/// claims, attach/mount failures, the sandbox; else the generic ContainerCreating finding.
fn creating_findings(ctx: &PodContext, nothing_else: bool) -> Vec<Finding> {
    let config_event = ctx
        .events_with(&["FailedMount"])
        .into_iter()
        .find(|e| volumes::is_config_message(e));
    let mut findings = missing_config::missing_refs(ctx, |r| r.volume.is_some(), config_event);
    if findings.is_empty()
        && let Some(event) = config_event
    {
        let (_, source) = ctx.event_evidence(event);
        findings.extend(missing_config::from_message(
            ctx,
            event.message.as_deref().unwrap_or(""),
            source,
        ));
    }
    findings.extend(volumes::analyse(ctx));
    findings.extend(sandbox::analyse(ctx));
    if findings.is_empty() && nothing_else {
        findings.push(waiting::creating(ctx));
    }
    findings
}
