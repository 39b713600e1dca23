//! PodDisruptionBudgets, as the Eviction API applies them (`pkg/registry/core/pod/storage/
//! eviction.go`): which budget covers each pod, the cumulative count of this node's pods per
//! budget against `disruptionsAllowed`, budgets that can never allow an eviction, pods under two
//! budgets (answered 500), stale status, and unready pods under IfHealthyBudget or AlwaysAllow.

use std::collections::HashMap;

use k8s_openapi::{
    api::{core::v1::Pod, policy::v1::PodDisruptionBudget},
    apimachinery::pkg::util::intstr::IntOrString,
};
use kube_runbook::{
    label_selector::{CompiledSelector, labels_or_empty},
    report::{Finding, ObjectRef, Remedy, Severity, Source},
    state::ClusterState,
};
use serde_json::json;

use super::{NodePlan, PodPlan, pods::plural};

pub const PDB_MULTIPLE: &str = "pdb-multiple";
pub const PDB_NEVER_ALLOWS: &str = "pdb-never-allows";
pub const PDB_BLOCKS: &str = "pdb-blocks";
pub const PDB_SEQUENTIAL: &str = "pdb-sequential";
pub const PDB_STALE: &str = "pdb-stale";
pub const PDB_ALLOWS: &str = "pdb-allows";
pub const PDB_UNHEALTHY_POD: &str = "pdb-unhealthy-pod";
pub const PDB_NOT_CHECKED: &str = "pdb-not-checked";

/// The budgets of the cluster with their compiled selectors, by namespace. As in the Eviction
/// API, a budget without a selector selects no pod, an empty one every pod of its namespace, an
/// invalid one none.
pub struct Budgets<'a> {
    by_namespace: HashMap<&'a str, Vec<(&'a PodDisruptionBudget, CompiledSelector)>>,
}

impl<'a> Budgets<'a> {
    pub fn index(state: &'a ClusterState) -> Budgets<'a> {
        let mut by_namespace: HashMap<&str, Vec<_>> = HashMap::new();
        for pdb in &state.pod_disruption_budgets {
            let Some(selector) = pdb.spec.as_ref().and_then(|s| s.selector.as_ref()) else {
                continue;
            };
            let namespace = pdb.metadata.namespace.as_deref().unwrap_or_default();
            by_namespace
                .entry(namespace)
                .or_default()
                .push((pdb, CompiledSelector::new(selector)));
        }
        Budgets { by_namespace }
    }

    /// The budgets whose selector matches `pod`.
    pub fn covering(&self, pod: &Pod) -> Vec<&'a PodDisruptionBudget> {
        let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
        let labels = labels_or_empty(pod.metadata.labels.as_ref());
        self.by_namespace
            .get(namespace)
            .into_iter()
            .flatten()
            .filter(|(_, selector)| selector.matches(labels))
            .map(|(pdb, _)| *pdb)
            .collect()
    }
}

/// The budget's status numbers.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    allowed: i32,
    current: i32,
    desired: i32,
    expected: i32,
}

impl Counts {
    fn of(pdb: &PodDisruptionBudget) -> Counts {
        pdb.status
            .as_ref()
            .map(|s| Counts {
                allowed: s.disruptions_allowed.unwrap_or(0),
                current: s.current_healthy.unwrap_or(0),
                desired: s.desired_healthy.unwrap_or(0),
                expected: s.expected_pods.unwrap_or(0),
            })
            .unwrap_or_default()
    }

    fn describe(self) -> String {
        format!(
            "currentHealthy {}, desiredHealthy {}, disruptionsAllowed {}, expectedPods {}",
            self.current, self.desired, self.allowed, self.expected
        )
    }
}

/// One budget's share of the drain: this node's pods that need one of its disruptions.
struct Share<'a> {
    pdb: &'a PodDisruptionBudget,
    needing: Vec<usize>,
    unready_needing: usize,
}

/// Applies every budget to the pods of `plan`; `pods[i]` is the object of `plan.pods[i]`.
pub fn assess(plan: &mut NodePlan, pods: &[&Pod], budgets: &Budgets) {
    let mut shares: Vec<Share> = Vec::new();
    for (index, pod) in pods.iter().enumerate() {
        let pod_plan = &mut plan.pods[index];
        if pod_plan.action == super::Action::Skip {
            continue;
        }
        let covering = budgets.covering(pod);
        let Some(&pdb) = covering.first() else {
            continue;
        };
        let name = pdb.metadata.name.clone().unwrap_or_default();
        if matches!(pod_plan.phase.as_str(), "Pending" | "Succeeded" | "Failed") {
            pod_plan.note(
                PDB_NOT_CHECKED,
                format!(
                    "{} pods are deleted without consulting PodDisruptionBudget {name}",
                    pod_plan.phase
                ),
            );
            continue;
        }
        if covering.len() > 1 {
            multiple(plan, index, &covering);
            continue;
        }
        pod_plan.pdb = Some(name.clone());
        if !pod_plan.ready && !needs_disruption_when_unready(pdb, pod_plan) {
            continue;
        }
        let position = shares.iter().position(|s| std::ptr::eq(s.pdb, pdb));
        let share = match position {
            Some(at) => &mut shares[at],
            None => {
                shares.push(Share {
                    pdb,
                    needing: Vec::new(),
                    unready_needing: 0,
                });
                let last = shares.len() - 1;
                &mut shares[last]
            }
        };
        share.needing.push(index);
        share.unready_needing += usize::from(!plan.pods[index].ready);
    }
    for share in shares {
        judge(plan, &share);
    }
}

/// An unready pod skips the budget under AlwaysAllow, or under IfHealthyBudget while the budget
/// is healthy (currentHealthy >= desiredHealthy > 0); otherwise it needs a disruption.
fn needs_disruption_when_unready(pdb: &PodDisruptionBudget, pod: &mut PodPlan) -> bool {
    let name = pdb.metadata.name.as_deref().unwrap_or_default();
    let policy = pdb
        .spec
        .as_ref()
        .and_then(|s| s.unhealthy_pod_eviction_policy.as_deref())
        .unwrap_or("IfHealthyBudget");
    let counts = Counts::of(pdb);
    if policy == "AlwaysAllow" {
        pod.note(PDB_UNHEALTHY_POD, format!("not Ready: PodDisruptionBudget {name} has unhealthyPodEvictionPolicy AlwaysAllow, so it goes without using the budget"));
        false
    } else if counts.current >= counts.desired && counts.desired > 0 {
        pod.note(PDB_UNHEALTHY_POD, format!("not Ready: PodDisruptionBudget {name} is healthy ({} of {} needed), so IfHealthyBudget lets it go without using the budget", counts.current, counts.desired));
        false
    } else {
        pod.note(PDB_UNHEALTHY_POD, format!("not Ready, and PodDisruptionBudget {name} is not healthy ({} of {} needed): under IfHealthyBudget it needs a disruption like a Ready pod", counts.current, counts.desired));
        true
    }
}

fn pdb_ref(pdb: &PodDisruptionBudget) -> ObjectRef {
    ObjectRef::namespaced(
        "PodDisruptionBudget",
        pdb.metadata.namespace.as_deref().unwrap_or_default(),
        pdb.metadata.name.as_deref().unwrap_or_default(),
    )
}

fn multiple(plan: &mut NodePlan, index: usize, covering: &[&PodDisruptionBudget]) {
    let names: Vec<String> = covering
        .iter()
        .map(|p| p.metadata.name.clone().unwrap_or_default())
        .collect();
    let pod = &mut plan.pods[index];
    pod.block(
        PDB_MULTIPLE,
        format!(
            "covered by {} PodDisruptionBudgets ({}): the Eviction API refuses it with 500",
            names.len(),
            names.join(", ")
        ),
    );
    let mut finding = Finding::new(
        Severity::Error,
        ObjectRef::namespaced("Pod", &pod.namespace, &pod.name),
        PDB_MULTIPLE,
        format!("covered by {} PodDisruptionBudgets: it cannot be evicted", names.len()),
    )
    .explain("The Eviction API does not support a pod selected by more than one budget: it answers 500 \"This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.\", and kubectl drain fails on it.");
    for pdb in covering {
        finding = finding.evidence(
            format!(
                "PodDisruptionBudget {} selects it",
                pdb.metadata.name.as_deref().unwrap_or_default()
            ),
            Source::Object {
                object: pdb_ref(pdb),
            },
        );
    }
    plan.findings.push(finding.remedy(Remedy::step(
        "Narrow the budgets' selectors (or merge them) so that each pod has at most one",
    )));
}

/// Whether the budget's spec can never allow an eviction: maxUnavailable 0, or minAvailable of
/// every expected pod.
fn never_allows(pdb: &PodDisruptionBudget, counts: Counts) -> Option<String> {
    let spec = pdb.spec.as_ref()?;
    match (&spec.max_unavailable, &spec.min_available) {
        (Some(IntOrString::Int(0)), _) => Some("maxUnavailable is 0".to_string()),
        (Some(IntOrString::String(p)), _) if p.trim_end_matches('%') == "0" => {
            Some(format!("maxUnavailable is {p}"))
        }
        (_, Some(IntOrString::String(p))) if p == "100%" => {
            Some("minAvailable is 100%".to_string())
        }
        (_, Some(IntOrString::Int(n))) if counts.expected > 0 && *n >= counts.expected => Some(
            format!("minAvailable is {n} and it counts {} pods", counts.expected),
        ),
        _ => None,
    }
}

fn judge(plan: &mut NodePlan, share: &Share) {
    let pdb = share.pdb;
    let name = pdb.metadata.name.as_deref().unwrap_or_default();
    let object = pdb_ref(pdb);
    let counts = Counts::of(pdb);
    let needing = share.needing.len();
    let details = json!({
        "currentHealthy": counts.current,
        "desiredHealthy": counts.desired,
        "disruptionsAllowed": counts.allowed,
        "expectedPods": counts.expected,
        "podsOnNode": needing,
    });
    let field = |path: &str| Source::Field {
        object: object.clone(),
        path: path.to_string(),
    };
    let evidence_pods = |mut finding: Finding, plan: &NodePlan| {
        for &i in &share.needing {
            let pod = &plan.pods[i];
            finding = finding.evidence(
                format!(
                    "{} is on this node{}",
                    pod.key(),
                    if pod.ready { "" } else { " (not Ready)" }
                ),
                Source::Object {
                    object: ObjectRef::namespaced("Pod", &pod.namespace, &pod.name),
                },
            );
        }
        finding
    };
    stale(plan, pdb, &object);
    if let Some(why) = never_allows(pdb, counts) {
        let finding = Finding::new(Severity::Error, object.clone(), PDB_NEVER_ALLOWS, format!("can never allow an eviction: {why}"))
            .explain(format!(
                "No pod it covers can ever be evicted, so the drain would wait forever on {} (kubectl drain retries every 5s without end).",
                plural(needing, "pod", "pods")
            ))
            .evidence(counts.describe(), field("status"))
            .details(details);
        let finding = evidence_pods(finding, plan)
            .remedy(Remedy::step(
                "Scale the workload up so the budget has room, then drain",
            ))
            .remedy(
                Remedy::step(format!(
                    "Relax the budget (e.g. maxUnavailable: 1): kubectl edit pdb {name} -n {}",
                    object.namespace.as_deref().unwrap_or_default()
                ))
                .dangerous("the workload may lose a replica during the drain"),
            );
        block_all(
            plan,
            share,
            PDB_NEVER_ALLOWS,
            format!("PodDisruptionBudget {name} can never allow an eviction ({why})"),
        );
        plan.findings.push(finding);
    } else if counts.allowed <= 0 {
        let unready = if share.unready_needing > 0 {
            format!(
                " {} of this node's pods under it are not Ready, and under IfHealthyBudget an unready pod needs a disruption while the budget is unhealthy; unhealthyPodEvictionPolicy: AlwaysAllow would let them go.",
                share.unready_needing
            )
        } else {
            String::new()
        };
        let finding = Finding::new(
            Severity::Error,
            object.clone(),
            PDB_BLOCKS,
            format!("allows no disruption now: needs {} healthy pods and has {}", counts.desired, counts.current),
        )
        .explain(format!("The Eviction API refuses (429) every eviction it covers until more of its pods are healthy; kubectl drain would retry every 5s without saying which budget.{unready}"))
        .evidence(counts.describe(), field("status"))
        .details(details);
        let finding = evidence_pods(finding, plan)
            .remedy(Remedy::step("Make the budget's unhealthy pods Ready (kubectl why-pending), or scale the workload up, then drain"));
        block_all(
            plan,
            share,
            PDB_BLOCKS,
            format!(
                "PodDisruptionBudget {name} allows no disruption now ({})",
                counts.describe()
            ),
        );
        plan.findings.push(finding);
    } else if (counts.allowed as usize) < needing {
        let finding = Finding::new(
            Severity::Warning,
            object.clone(),
            PDB_SEQUENTIAL,
            format!("allows {} of this node's {needing} evictions at once", counts.allowed),
        )
        .explain("The drain evicts what the budget allows, then waits for replacements to become Ready elsewhere before the budget allows the next: this needs room for the replacements on other nodes.")
        .evidence(counts.describe(), field("status"))
        .details(details);
        plan.findings.push(evidence_pods(finding, plan));
        for &i in &share.needing {
            plan.pods[i].note(PDB_SEQUENTIAL, format!("PodDisruptionBudget {name} allows {} of this node's {needing} at once: the rest wait for replacements", counts.allowed));
        }
    } else {
        for &i in &share.needing {
            plan.pods[i].note(
                PDB_ALLOWS,
                format!(
                    "PodDisruptionBudget {name} allows it ({})",
                    counts.describe()
                ),
            );
        }
    }
}

fn block_all(plan: &mut NodePlan, share: &Share, code: &'static str, message: String) {
    for &i in &share.needing {
        plan.pods[i].block(code, message.clone());
    }
}

/// The status is only valid once the controller observed the current spec.
fn stale(plan: &mut NodePlan, pdb: &PodDisruptionBudget, object: &ObjectRef) {
    let generation = pdb.metadata.generation.unwrap_or(0);
    let observed = pdb
        .status
        .as_ref()
        .and_then(|s| s.observed_generation)
        .unwrap_or(0);
    if observed >= generation {
        return;
    }
    plan.findings.push(
        Finding::new(
            Severity::Warning,
            object.clone(),
            PDB_STALE,
            format!("status is stale: observedGeneration {observed} < generation {generation}"),
        )
        .explain("The disruption controller has not processed the budget's latest spec: until it does, the Eviction API answers 429 \"still being processed\" for every pod it covers, and the counts shown may be out of date.")
        .evidence(format!("metadata.generation {generation}, status.observedGeneration {observed}"), Source::Field { object: object.clone(), path: "status.observedGeneration".into() })
        .remedy(Remedy::step("Wait a few seconds; if it stays stale, check that kube-controller-manager (the disruption controller) is running")),
    );
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::plan::{Action, PlanOptions, Workloads, fixtures::*, node::start, pods::classify};

    fn plan_for(pods: Vec<Pod>, pdbs: Vec<PodDisruptionBudget>) -> NodePlan {
        let mut state = state_with(pods);
        state.insert_all([replica_set("web", None)]);
        state.insert_all(pdbs);
        let workloads = Workloads::index(&state);
        let budgets = Budgets::index(&state);
        let mut plan = start(&state, "n1");
        let on_node: Vec<&Pod> = state.pods.iter().collect();
        plan.pods = on_node
            .iter()
            .map(|p| classify(p, "n1", &state, &workloads, &PlanOptions::default()))
            .collect();
        assess(&mut plan, &on_node, &budgets);
        plan
    }

    fn status(allowed: i32, current: i32, desired: i32, expected: i32) -> serde_json::Value {
        json!({"disruptionsAllowed": allowed, "currentHealthy": current, "desiredHealthy": desired, "expectedPods": expected, "observedGeneration": 1})
    }

    fn codes(plan: &NodePlan) -> Vec<&str> {
        plan.findings.iter().map(|f| f.code.as_str()).collect()
    }

    #[test]
    fn counts_this_nodes_pods_against_the_budget() {
        let pods = vec![
            owned_pod("web-1", "n1", "ReplicaSet", "web", true),
            owned_pod("web-2", "n1", "ReplicaSet", "web", true),
        ];
        let plan = plan_for(
            pods.clone(),
            vec![pdb(
                "web",
                "web",
                json!({"maxUnavailable": 1}),
                status(1, 3, 2, 3),
            )],
        );
        assert_eq!(codes(&plan), [PDB_SEQUENTIAL]);
        assert!(plan.pods.iter().all(|p| p.action == Action::Evict));
        let plan = plan_for(
            pods,
            vec![pdb(
                "web",
                "web",
                json!({"maxUnavailable": 2}),
                status(2, 3, 1, 3),
            )],
        );
        assert!(codes(&plan).is_empty());
    }

    #[test]
    fn budgets_that_never_allow_block() {
        let pods = vec![owned_pod("web-1", "n1", "ReplicaSet", "web", true)];
        for spec in [
            json!({"maxUnavailable": 0}),
            json!({"maxUnavailable": "0%"}),
            json!({"minAvailable": 2}),
            json!({"minAvailable": "100%"}),
        ] {
            let plan = plan_for(
                pods.clone(),
                vec![pdb("web", "web", spec.clone(), status(0, 2, 2, 2))],
            );
            assert_eq!(codes(&plan), [PDB_NEVER_ALLOWS], "{spec}");
            assert_eq!(plan.pods[0].action, Action::Blocked);
        }
        let plan = plan_for(
            pods,
            vec![pdb(
                "web",
                "web",
                json!({"minAvailable": 2}),
                status(0, 2, 2, 3),
            )],
        );
        assert_eq!(codes(&plan), [PDB_BLOCKS]);
        assert!(
            plan.findings[0]
                .title
                .contains("needs 2 healthy pods and has 2")
        );
    }

    #[test]
    fn two_budgets_on_one_pod_are_refused() {
        let pods = vec![owned_pod("web-1", "n1", "ReplicaSet", "web", true)];
        let plan = plan_for(
            pods,
            vec![
                pdb("a", "web", json!({"maxUnavailable": 1}), status(1, 2, 1, 2)),
                pdb("b", "web", json!({"maxUnavailable": 1}), status(1, 2, 1, 2)),
            ],
        );
        assert_eq!(codes(&plan), [PDB_MULTIPLE]);
        assert_eq!(plan.pods[0].action, Action::Blocked);
    }

    #[test]
    fn unready_pods_follow_the_unhealthy_pod_eviction_policy() {
        let pods = vec![owned_pod("web-1", "n1", "ReplicaSet", "web", false)];
        let unhealthy = status(0, 1, 2, 3);
        let plan = plan_for(
            pods.clone(),
            vec![pdb(
                "web",
                "web",
                json!({"minAvailable": 2}),
                unhealthy.clone(),
            )],
        );
        assert_eq!(codes(&plan), [PDB_BLOCKS]);
        assert!(plan.findings[0].explanation.contains("AlwaysAllow"));
        let plan = plan_for(
            pods.clone(),
            vec![pdb(
                "web",
                "web",
                json!({"minAvailable": 2, "unhealthyPodEvictionPolicy": "AlwaysAllow"}),
                unhealthy,
            )],
        );
        assert!(codes(&plan).is_empty());
        assert_eq!(plan.pods[0].action, Action::Evict);
        let healthy = status(0, 2, 2, 3);
        let plan = plan_for(
            pods,
            vec![pdb("web", "web", json!({"minAvailable": 2}), healthy)],
        );
        assert!(
            codes(&plan).is_empty(),
            "a healthy budget lets an unready pod go"
        );
    }

    #[test]
    fn stale_status_is_reported() {
        let pods = vec![owned_pod("web-1", "n1", "ReplicaSet", "web", true)];
        let mut budget = pdb(
            "web",
            "web",
            json!({"maxUnavailable": 1}),
            status(1, 2, 1, 2),
        );
        budget.metadata.generation = Some(2);
        let plan = plan_for(pods, vec![budget]);
        assert_eq!(codes(&plan), [PDB_STALE]);
    }
}
