//! Capacity: the replacements of the evicted pods placed on the remaining schedulable nodes by
//! the shared fit engine (every default scheduler filter), node after node as the drain goes.
//! Replacements that find no node would stay Pending; the scheduler's own message says why.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::{
    fit::{CPU, Placement, Snapshot, WhatIf, place_all, pod_requests, replacement_pod},
    report::{Finding, ObjectRef, Remedy, Severity, Source},
    state::ClusterState,
};

use super::{Action, NodePlan, PlanOptions, Replacement, pdb::PDB_SEQUENTIAL, pods::LOCAL_VOLUME};
use crate::args::FinalStep;

pub const REPLACEMENT_PENDING: &str = "replacement-pending";
pub const PDB_NEEDS_REPLACEMENTS: &str = "pdb-needs-replacements";

/// How many nodes (closest to fitting first) a pending finding shows as evidence.
const EVIDENCE_NODES: usize = 5;

/// Places every replacement and records where it goes; `plans` are drained in this order.
pub fn simulate(state: &ClusterState, plans: &mut [NodePlan], options: &PlanOptions) {
    let by_uid: HashMap<&str, &Pod> = state
        .pods
        .iter()
        .filter_map(|p| Some((p.metadata.uid.as_deref()?, p)))
        .collect();
    // (plan, pod) positions of the pods that get a replacement, and the replacement pods.
    let mut positions: Vec<Vec<usize>> = Vec::with_capacity(plans.len());
    let mut replacements: Vec<Vec<Pod>> = Vec::with_capacity(plans.len());
    for plan in plans.iter() {
        let mut chosen: Vec<(usize, &Pod)> = plan
            .pods
            .iter()
            .enumerate()
            .filter(|(_, p)| p.action != Action::Skip && p.is_replaced())
            .filter_map(|(i, p)| Some((i, *by_uid.get(p.uid.as_str())?)))
            .collect();
        // The scheduler takes higher priorities first; larger pods first packs like it would.
        chosen
            .sort_by_key(|(_, pod)| std::cmp::Reverse((priority(pod), pod_requests(pod).get(CPU))));
        positions.push(chosen.iter().map(|(i, _)| *i).collect());
        replacements.push(chosen.iter().map(|(_, pod)| replacement_pod(pod)).collect());
    }
    // With --then uncordon each node is back before the next goes: each is planned alone.
    // Otherwise every selected node is cordoned first (as the drain does), and each node's
    // replacements take the room left by the ones before.
    let independent = options.final_step == Some(FinalStep::Uncordon);
    let mut base = Snapshot::from_state(state);
    if !independent {
        for plan in plans.iter() {
            base.cordon_node(&plan.node);
        }
    }
    let mut cumulative = base.clone();
    for (index, plan) in plans.iter_mut().enumerate() {
        let mut snapshot = if independent {
            base.clone()
        } else {
            cumulative.clone()
        };
        let leaving: Vec<(String, String)> = plan
            .pods
            .iter()
            .filter(|p| p.action != Action::Skip)
            .map(|p| (p.namespace.clone(), p.name.clone()))
            .collect();
        let what_if = match options.final_step {
            Some(FinalStep::Delete) => WhatIf {
                exclude_nodes: vec![plan.node.clone()],
                ..WhatIf::default()
            },
            _ => WhatIf {
                remove_pods: leaving,
                cordon_nodes: vec![plan.node.clone()],
                ..WhatIf::default()
            },
        };
        snapshot = what_if.apply(&snapshot);
        let placements = place_all(&mut snapshot, &replacements[index]);
        for (placement, &pod_index) in placements.into_iter().zip(&positions[index]) {
            plan.pods[pod_index].replacement = Some(match placement {
                Placement::Placed { node, .. } => Replacement {
                    node: Some(node),
                    pending_reasons: Vec::new(),
                },
                Placement::Pending { fit, .. } => Replacement {
                    node: None,
                    pending_reasons: fit
                        .scheduler_view
                        .message()
                        .into_iter()
                        .chain(
                            fit.ranking
                                .iter()
                                .take(EVIDENCE_NODES)
                                .map(|n| format!("{}: {}", n.node, n.summary)),
                        )
                        .collect(),
                },
            });
        }
        if !independent {
            cumulative = snapshot;
        }
        report(plan, options);
    }
}

fn priority(pod: &Pod) -> i32 {
    pod.spec.as_ref().and_then(|s| s.priority).unwrap_or(0)
}

/// One finding per evicted pod whose replacement would stay Pending.
fn report(plan: &mut NodePlan, options: &PlanOptions) {
    let mut findings = Vec::new();
    for pod in plan.pods.iter_mut().filter(|p| p.action == Action::Evict) {
        let Some(replacement) = &pod.replacement else {
            continue;
        };
        if replacement.node.is_some() || pod.reasons.iter().any(|r| r.code == LOCAL_VOLUME) {
            continue;
        }
        let object = ObjectRef::namespaced("Pod", &pod.namespace, &pod.name);
        let summary = replacement
            .pending_reasons
            .first()
            .cloned()
            .unwrap_or_else(|| "no node fits".to_string());
        let workload = pod
            .workload
            .as_ref()
            .map(|w| format!("{w}"))
            .unwrap_or_else(|| "its controller".to_string());
        let sequential = pod.reasons.iter().any(|r| r.code == PDB_SEQUENTIAL);
        let (code, severity, title) = if sequential {
            (
                PDB_NEEDS_REPLACEMENTS,
                Severity::Error,
                "its disruption budget waits for a replacement that can never be scheduled",
            )
        } else if options.acknowledged.pending {
            (
                REPLACEMENT_PENDING,
                Severity::Warning,
                "its replacement would stay Pending (accepted with --allow-pending)",
            )
        } else {
            (
                REPLACEMENT_PENDING,
                Severity::Error,
                "its replacement would stay Pending: no other node can run it",
            )
        };
        let explanation = if sequential {
            format!(
                "The PodDisruptionBudget lets the next pod go only once a replacement is Ready elsewhere; {workload}'s replacement fits nowhere, so the drain would wait for ever."
            )
        } else {
            format!(
                "Once evicted, {workload} creates a replacement that the scheduler cannot place on any remaining node: it stays Pending until capacity is freed or the node returns."
            )
        };
        let mut finding = Finding::new(severity, object.clone(), code, title).explain(explanation);
        for reason in &replacement.pending_reasons {
            finding = finding.evidence(reason.clone(), Source::Computed);
        }
        pod.note(code, format!("replacement would stay Pending: {summary}"));
        finding = finding.remedy(Remedy::step("Add a node or free capacity on the others (kubectl why-pending explains each node), then drain"));
        if code == REPLACEMENT_PENDING && !options.acknowledged.pending {
            finding = finding.remedy(
                Remedy::command(
                    "Drain anyway; the pod stays Pending until there is room",
                    format!("kubectl safe-drain {} --allow-pending", plan.node),
                )
                .dangerous("the workload runs with fewer replicas (or none) until then"),
            );
        }
        findings.push(finding);
    }
    plan.findings.extend(findings);
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::plan::{Acknowledged, fixtures::*, plan_nodes};

    fn pod_needing(name: &str, node: &str, cpu: &str) -> Pod {
        let mut pod = owned_pod(name, node, "ReplicaSet", "web", true);
        pod.spec = Some(serde_json::from_value(json!({"nodeName": node, "containers": [{"name": "c", "resources": {"requests": {"cpu": cpu}}}]})).unwrap());
        pod
    }

    #[test]
    fn replacements_that_fit_nowhere_block_unless_accepted() {
        let mut state = state_with(vec![
            pod_needing("web-1", "n1", "2"),
            pod_needing("web-2", "n1", "3"),
            pod_needing("filler", "n2", "2"),
        ]);
        state.insert_all([node("n1"), node("n2")]);
        state.insert_all([replica_set("web", None)]);
        let plans = plan_nodes(&state, &["n1".to_string()], &PlanOptions::default());
        let placed: Vec<Option<&str>> = plans[0]
            .pods
            .iter()
            .map(|p| p.replacement.as_ref().and_then(|r| r.node.as_deref()))
            .collect();
        assert_eq!(
            placed,
            [Some("n2"), None],
            "n2 has room for the 2-CPU pod only"
        );
        assert!(!plans[0].can_drain);
        let pending = plans[0]
            .findings
            .iter()
            .find(|f| f.code == REPLACEMENT_PENDING)
            .unwrap();
        assert_eq!(pending.object.name, "web-2");
        assert!(
            pending.evidence[0].fact.contains("Insufficient cpu"),
            "{:?}",
            pending.evidence
        );

        let accepted = PlanOptions {
            acknowledged: Acknowledged {
                pending: true,
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(plan_nodes(&state, &["n1".to_string()], &accepted)[0].can_drain);
    }

    #[test]
    fn nodes_drained_one_after_another_share_the_remaining_room() {
        let mut state = state_with(vec![
            pod_needing("a", "n1", "3"),
            pod_needing("b", "n2", "3"),
        ]);
        state.insert_all([node("n1"), node("n2"), node("n3")]);
        state.insert_all([replica_set("web", None)]);
        let nodes = ["n1".to_string(), "n2".to_string()];
        let plans = plan_nodes(&state, &nodes, &PlanOptions::default());
        assert!(plans[0].can_drain);
        assert!(!plans[1].can_drain, "n3 is full once n1's pod moved there");
        let uncordoning = PlanOptions {
            final_step: Some(FinalStep::Uncordon),
            ..Default::default()
        };
        assert!(
            plan_nodes(&state, &nodes, &uncordoning)
                .iter()
                .all(|p| p.can_drain)
        );
    }
}
