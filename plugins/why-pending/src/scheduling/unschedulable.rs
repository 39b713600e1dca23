//! The node-by-node answer: every filter that rejects every node, the arithmetic behind each,
//! the fixes, and whether the scheduler's own message agrees.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::{
    fit::{Agreement, Plugin, PodFit, Snapshot, compare, evaluate, parse_message},
    report::{Finding, ObjectRef, Remedy, Severity, Source},
    state::ClusterState,
};
use serde_json::json;

use super::scheduler_said::SchedulerSaid;

/// How many nodes are described one by one in text; JSON details carry all of them.
const NODES_SHOWN: usize = 5;
/// How many distinct fixes are offered.
const REMEDIES_SHOWN: usize = 6;

/// Findings from evaluating the pod against every node.
pub fn analyse(
    pod: &Pod,
    object: &ObjectRef,
    state: &ClusterState,
    snapshot: &Snapshot,
    said: Option<SchedulerSaid>,
) -> Vec<Finding> {
    let fit = evaluate(pod, snapshot);
    let parsed = said.as_ref().and_then(|s| parse_message(&s.message));
    let agreement = parsed.as_ref().map(|p| compare(&fit.scheduler_view, p));
    let mut finding = if fit.fits_somewhere() {
        fits_now(object, &fit)
    } else {
        unschedulable(object, &fit)
    };
    if !state.has(kube_runbook::state::Kind::Node) {
        finding = finding.evidence(
            "nodes could not be read, so no node was evaluated",
            Source::Computed,
        );
    }
    if let Some(said) = &said {
        finding = finding.evidence(
            format!("the scheduler said: {}", said.message),
            said.source.clone(),
        );
    } else {
        finding = finding.evidence("the scheduler has not reported on this pod (no FailedScheduling event or PodScheduled message)", Source::Computed);
    }
    if let Some(agreement) = &agreement {
        finding = finding.evidence(agreement_fact(agreement), Source::Computed);
    }
    for unchecked in &fit.unchecked {
        finding = finding.evidence(format!("not checked: {unchecked}"), Source::Computed);
    }
    let message = said.map(|s| s.message);
    vec![finding.details_deferred(move || {
        json!({
            "schedulerMessage": message,
            "agreement": agreement,
            "fit": fit,
        })
    })]
}

fn unschedulable(object: &ObjectRef, fit: &PodFit) -> Finding {
    if let Some(first) = fit.prefilter.first() {
        let mut finding = Finding::new(
            Severity::Error,
            object.clone(),
            "unschedulable",
            format!("it cannot be scheduled: {}", first.message),
        )
        .explain(&first.explanation)
        .remedy(Remedy::step(&first.fix));
        for other in &fit.prefilter[1..] {
            finding = finding.evidence(format!("also: {}", other.message), Source::Computed);
        }
        return finding;
    }
    if fit.nodes.is_empty() {
        return Finding::new(Severity::Error, object.clone(), "no-nodes", "the cluster has no nodes to run it on")
            .explain("No Node objects exist (or none could be read). Pods stay Pending until a node registers.")
            .remedy(Remedy::command("Check that the nodes' kubelets have registered", "kubectl get nodes"));
    }
    let mut finding = Finding::new(
        Severity::Error,
        object.clone(),
        "unschedulable",
        format!("no node can run it: {}", summary(fit)),
    )
    .explain(explanation(fit));
    for (node, rejection) in shown_rejections(fit) {
        let facts = if rejection.evidence.is_empty() {
            String::new()
        } else {
            format!(": {}", rejection.evidence.join("; "))
        };
        finding = finding.evidence(
            format!("node {node}: {}{facts}", rejection.reason),
            Source::Object {
                object: ObjectRef::cluster("Node", node),
            },
        );
    }
    let hidden = fit.ranking.len().saturating_sub(NODES_SHOWN);
    if hidden > 0 {
        finding = finding.evidence(
            format!("{hidden} more node(s) not shown (-o json lists every node)"),
            Source::Computed,
        );
    }
    for fragment in fit.fragmentation.iter().filter(|f| f.fragmented) {
        finding = finding.evidence(&fragment.summary, Source::Computed);
    }
    for remedy in remedies(fit) {
        finding = finding.remedy(remedy);
    }
    finding
}

/// "2 nodes lack cpu; 1 node has a taint it does not tolerate", most common first.
fn summary(fit: &PodFit) -> String {
    let mut by_plugin: BTreeMap<Plugin, (usize, Vec<String>)> = BTreeMap::new();
    for verdict in fit.nodes.iter().filter(|v| !v.fits) {
        let mut seen = Vec::new();
        for rejection in &verdict.reasons {
            let entry = by_plugin.entry(rejection.plugin).or_default();
            if !seen.contains(&rejection.plugin) {
                entry.0 += 1;
                seen.push(rejection.plugin);
            }
            if let Some(resource) = rejection.reason.strip_prefix("Insufficient ")
                && !entry.1.iter().any(|r| r == resource)
            {
                entry.1.push(resource.to_string());
            }
        }
    }
    let mut parts: Vec<(usize, String)> = by_plugin
        .into_iter()
        .map(|(plugin, (count, resources))| (count, phrase(plugin, count, &resources)))
        .collect();
    parts.sort_by_key(|part| std::cmp::Reverse(part.0));
    parts
        .into_iter()
        .map(|(_, text)| text)
        .collect::<Vec<_>>()
        .join("; ")
}

fn phrase(plugin: Plugin, count: usize, resources: &[String]) -> String {
    let nodes = if count == 1 {
        "1 node".to_string()
    } else {
        format!("{count} nodes")
    };
    let (is, has, does) = if count == 1 {
        ("is", "has", "does")
    } else {
        ("are", "have", "do")
    };
    match plugin {
        Plugin::NodeResourcesFit if resources.is_empty() => format!(
            "{nodes} {are_full}",
            are_full = if count == 1 {
                "is full (pods)"
            } else {
                "are full (pods)"
            }
        ),
        Plugin::NodeResourcesFit => format!(
            "{nodes} {lack} enough {}",
            resources.join(" and "),
            lack = if count == 1 { "lacks" } else { "lack" }
        ),
        Plugin::NodeUnschedulable => format!("{nodes} {is} cordoned"),
        Plugin::NodeName => format!("{nodes} {is} not the node it names"),
        Plugin::TaintToleration => format!("{nodes} {has} a taint it does not tolerate"),
        Plugin::NodeAffinity => format!("{nodes} {does} not match its node selector or affinity"),
        Plugin::NodePorts => format!("{nodes} already {has} its host port in use"),
        Plugin::VolumeRestrictions
        | Plugin::NodeVolumeLimits
        | Plugin::VolumeBinding
        | Plugin::VolumeZone => {
            format!("{nodes} cannot reach its volumes")
        }
        Plugin::PodTopologySpread => format!("{nodes} would break its topology spread constraints"),
        Plugin::InterPodAffinity => format!("{nodes} fail its pod affinity or anti-affinity"),
        Plugin::SchedulingGates => format!("{nodes} {is} gated"),
    }
}

fn explanation(fit: &PodFit) -> String {
    let requests: Vec<String> = fit
        .requests
        .total
        .iter()
        .filter(|(_, amount)| *amount > 0)
        .map(|(name, amount)| named_amount(name, amount))
        .collect();
    let mut text = format!(
        "The scheduler checked {} node(s) and every one rejects the pod. Below, each node's reasons are listed closest-to-fitting first, with the arithmetic.",
        fit.nodes.len()
    );
    if !requests.is_empty() {
        text.push_str(&format!("\nThe pod requests {} (the larger of its init containers and its containers plus sidecars, plus overhead).", requests.join(", ")));
    }
    if let Some(fragment) = fit.fragmentation.iter().find(|f| f.fragmented) {
        text.push_str(&format!(
            "\nThe capacity exists, but fragmented: {}",
            fragment.summary
        ));
    }
    text
}

/// "2 CPU", "1Gi memory", "1 nvidia.com/gpu".
fn named_amount(name: &str, amount: i64) -> String {
    let formatted = kube_runbook::fit::format_amount(name, amount);
    if name == kube_runbook::fit::CPU || name == kube_runbook::fit::PODS {
        formatted
    } else {
        format!("{formatted} {name}")
    }
}

/// The rejections of the nodes closest to fitting, in ranking order.
fn shown_rejections(fit: &PodFit) -> Vec<(&str, &kube_runbook::fit::Rejection)> {
    fit.ranking
        .iter()
        .take(NODES_SHOWN)
        .filter_map(|ranked| fit.verdict(&ranked.node))
        .flat_map(|verdict| {
            verdict
                .reasons
                .iter()
                .map(move |r| (verdict.node.as_str(), r))
        })
        .collect()
}

/// Distinct fixes, from the nodes closest to fitting first.
fn remedies(fit: &PodFit) -> Vec<Remedy> {
    let mut seen: Vec<(&str, Option<&str>)> = Vec::with_capacity(REMEDIES_SHOWN);
    'verdicts: for verdict in fit.verdicts_by_rank() {
        for rejection in &verdict.reasons {
            let key = (rejection.fix.as_str(), rejection.fix_yaml.as_deref());
            if !rejection.fix.is_empty() && !seen.contains(&key) {
                seen.push(key);
            }
            if seen.len() == REMEDIES_SHOWN {
                break 'verdicts;
            }
        }
    }
    seen.into_iter()
        .map(|(fix, yaml)| match yaml {
            Some(yaml) => Remedy::yaml(fix, yaml),
            None => Remedy::step(fix),
        })
        .collect()
}

fn fits_now(object: &ObjectRef, fit: &PodFit) -> Finding {
    let feasible: Vec<&str> = fit
        .nodes
        .iter()
        .filter(|v| v.fits)
        .map(|v| v.node.as_str())
        .collect();
    let shown: Vec<&str> = feasible.iter().take(5).copied().collect();
    Finding::new(
        Severity::Warning,
        object.clone(),
        "fits-now",
        format!("it fits on {} node(s) now ({}), but has not been scheduled yet", feasible.len(), shown.join(", ")),
    )
    .explain("Something changed since the scheduler's last attempt (a pod finished, a node joined), or the scheduler is backing off before retrying. It retries unschedulable pods when the cluster changes and at least every 5 minutes.")
    .remedy(Remedy::step("Wait a minute and run this again; if it stays Pending, check the scheduler's logs"))
}

fn agreement_fact(agreement: &Agreement) -> String {
    if agreement.agrees {
        return "the scheduler's per-reason node counts agree with this analysis".to_string();
    }
    let differences: Vec<String> = agreement
        .differences
        .iter()
        .map(|d| {
            format!(
                "{}: scheduler {} vs here {}",
                d.reason, d.scheduler, d.engine
            )
        })
        .collect();
    let causes: Vec<String> = agreement
        .possible_causes
        .iter()
        .map(|c| c.describe())
        .collect();
    format!(
        "this analysis differs from the scheduler's message ({}); possible causes: {}",
        differences.join(", "),
        causes.join(" ")
    )
}
