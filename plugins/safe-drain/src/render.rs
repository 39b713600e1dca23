//! The plan as text: per node, a table of every pod and what happens to it, then the findings
//! (shared report rendering), then the verdict.

use std::fmt::Write;

use kube_runbook::{
    report::{Report, Styles, render_text},
    state::ClusterState,
};

use crate::plan::{Action, NodeCondition, NodePlan, PodPlan};

/// Renders every node's plan, then what could not be checked.
pub fn plan_text(state: &ClusterState, plans: &[NodePlan], styles: &Styles) -> String {
    let mut out = String::new();
    for plan in plans {
        node_text(&mut out, state, plan, styles);
    }
    if !state.unavailable.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            styles
                .warning
                .style("Not checked (the plan may be incomplete):")
        );
        for item in &state.unavailable {
            let _ = writeln!(out, "  - {}: {}", item.kind.resource(), item.reason);
        }
    }
    out
}

fn node_text(out: &mut String, state: &ClusterState, plan: &NodePlan, styles: &Styles) {
    let condition = match plan.condition {
        NodeCondition::Ready => "Ready",
        NodeCondition::NotReady => "NotReady",
        NodeCondition::Unknown => "Unknown",
    };
    let cordon = match (&plan.cordon_record, plan.cordoned) {
        (Some(_), _) => "cordoned by safe-drain",
        (None, true) => "cordoned",
        (None, false) => "schedulable",
    };
    let _ = writeln!(
        out,
        "{}",
        styles.heading.style(format!(
            "Drain plan for node {} ({condition}, {cordon}): {} to evict, {} skipped, {} blocked",
            plan.node,
            plan.count(Action::Evict),
            plan.count(Action::Skip),
            plan.count(Action::Blocked)
        ))
    );
    if !plan.pods.is_empty() {
        let width = plan
            .pods
            .iter()
            .map(|p| p.key().len())
            .max()
            .unwrap_or(0)
            .max(3);
        let _ = writeln!(out, "  {:<8} {:<width$}  WHY", "ACTION", "POD");
        let mut pods: Vec<&PodPlan> = plan.pods.iter().collect();
        pods.sort_by_key(|p| (order(p.action), p.key()));
        for pod in pods {
            let (word, style) = match pod.action {
                Action::Evict => ("evict", styles.ok),
                Action::Skip => ("skip", styles.dim),
                Action::Blocked => ("BLOCKED", styles.error),
            };
            let _ = writeln!(
                out,
                "  {} {:<width$}  {}",
                style.style(format!("{word:<8}")),
                pod.key(),
                why(pod)
            );
        }
    }
    out.push('\n');
    let mut report = Report::new("safe-drain", state, plan.findings.clone());
    report.not_checked.clear();
    if !report.findings.is_empty() {
        out.push_str(&render_text(&report, styles, ""));
        out.push('\n');
    }
    let blockers = plan.blockers().count();
    if plan.can_drain {
        let _ = writeln!(
            out,
            "{} node {} can be drained: {} evicted, {} left in place",
            styles.ok.style("✓"),
            plan.node,
            pods_word(plan.count(Action::Evict)),
            pods_word(plan.count(Action::Skip))
        );
    } else {
        let _ = writeln!(
            out,
            "{} node {} cannot be drained: {} (see above)",
            styles.error.style("✗"),
            plan.node,
            if blockers == 1 {
                "1 blocker".to_string()
            } else {
                format!("{blockers} blockers")
            }
        );
    }
    out.push('\n');
}

fn order(action: Action) -> u8 {
    match action {
        Action::Blocked => 0,
        Action::Evict => 1,
        Action::Skip => 2,
    }
}

/// The reasons in one line, with where the replacement goes.
fn why(pod: &PodPlan) -> String {
    let mut parts: Vec<String> = pod.reasons.iter().map(|r| r.message.clone()).collect();
    if !pod.ready
        && pod.phase == "Running"
        && !pod
            .reasons
            .iter()
            .any(|r| r.message.starts_with("not Ready"))
    {
        parts.push("not Ready".to_string());
    }
    if let Some(replacement) = &pod.replacement
        && pod.action != Action::Skip
        && !pod
            .reasons
            .iter()
            .any(|r| r.message.starts_with("replacement would stay Pending"))
    {
        parts.push(match &replacement.node {
            Some(node) => format!("replacement fits on {node}"),
            None => "replacement would stay Pending".to_string(),
        });
    }
    parts.join("; ")
}

fn pods_word(n: usize) -> String {
    if n == 1 {
        "1 pod".into()
    } else {
        format!("{n} pods")
    }
}
