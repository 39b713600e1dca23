//! Availability: workloads that lose their last ready replica (downtime), and StatefulSets,
//! whose pods move one at a time and are only replaced once the old pod is confirmed gone.

use std::collections::BTreeMap;

use kube_runbook::report::{Finding, ObjectRef, Remedy, Severity, Source};

use super::{NodePlan, Workloads, pods::plural};

pub const LAST_READY_REPLICA: &str = "last-ready-replica";
pub const STATEFULSET_ORDERED: &str = "statefulset-ordered";

/// Adds the availability findings for the pods `plan` evicts.
pub fn assess(plan: &mut NodePlan, workloads: &Workloads) {
    let mut ready_here: BTreeMap<ObjectRef, Vec<String>> = BTreeMap::new();
    let mut stateful: BTreeMap<ObjectRef, Vec<String>> = BTreeMap::new();
    for pod in plan.evictions().filter(|p| p.is_replaced()) {
        let Some(workload) = &pod.workload else {
            continue;
        };
        if workload.kind == "Job" {
            continue;
        }
        if pod.ready {
            ready_here
                .entry(workload.clone())
                .or_default()
                .push(pod.key());
        }
        if workload.kind == "StatefulSet" {
            stateful
                .entry(workload.clone())
                .or_default()
                .push(pod.key());
        }
    }
    for (workload, pods) in ready_here {
        let total = workloads.ready_replicas(&workload);
        if pods.len() < total {
            continue;
        }
        let desired = workloads
            .desired_replicas(&workload)
            .map(|d| format!(" (spec.replicas {d})"))
            .unwrap_or_default();
        let mut finding = Finding::new(
            Severity::Warning,
            workload.clone(),
            LAST_READY_REPLICA,
            if total == 1 {
                format!("loses its last ready replica: its only ready replica is on this node{desired}")
            } else {
                format!("loses its last ready replica: all {total} ready replicas are on this node{desired}")
            },
        )
        .explain(format!(
            "Evicting {} leaves {workload} with no ready pod until the replacements start elsewhere and pass their readiness checks: downtime. \
Nothing in Kubernetes waits for a replacement before evicting (no surge before evict).",
            plural(pods.len(), "pod", "pods")
        ))
        .details(serde_json::json!({"readyReplicas": total, "readyOnNode": pods.len()}));
        for pod in &pods {
            finding = finding.evidence(format!("{pod} is Ready on this node"), Source::Computed);
        }
        plan.findings.push(
            finding
                .remedy(Remedy::command(
                    "Scale up first so a replica runs elsewhere, then drain",
                    format!(
                        "kubectl scale {} {} -n {} --replicas={}",
                        workload.kind.to_lowercase(),
                        workload.name,
                        workload.namespace.as_deref().unwrap_or_default(),
                        total + 1
                    ),
                ))
                .remedy(Remedy::step(
                    "Or accept the downtime (use --wait-healthy to wait for it to be Ready again)",
                )),
        );
    }
    for (workload, pods) in stateful {
        let mut finding = Finding::new(
            Severity::Info,
            workload.clone(),
            STATEFULSET_ORDERED,
            format!("{} evicted one at a time, highest ordinal first", plural(pods.len(), "pod is", "pods are")),
        )
        .explain(
            "A StatefulSet recreates a pod (same name, same volumes) only after the old one is confirmed gone. If this node stops \
responding while a pod terminates, that pod stays Terminating and the StatefulSet never replaces it (runbook 003 6.6.2): \
requests to it keep failing until the node returns or the pod is force-deleted once the machine is known to be off.",
        );
        for pod in &pods {
            finding = finding.evidence(format!("{pod} is on this node"), Source::Computed);
        }
        plan.findings.push(finding);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{PlanOptions, fixtures::*, node::start, pods::classify};

    #[test]
    fn a_workload_whose_ready_pods_are_all_here_loses_them() {
        let mut state = state_with(vec![
            owned_pod("web-1", "n1", "ReplicaSet", "web", true),
            owned_pod("web-2", "n1", "ReplicaSet", "web", true),
            owned_pod("api-1", "n1", "ReplicaSet", "api", true),
            owned_pod("api-2", "n2", "ReplicaSet", "api", true),
            owned_pod("db-0", "n1", "StatefulSet", "db", true),
        ]);
        state.insert_all([replica_set("web", None), replica_set("api", None)]);
        state.insert_all([stateful_set("db", 1)]);
        let workloads = Workloads::index(&state);
        let mut plan = start(&state, "n1");
        plan.pods = state
            .pods
            .iter()
            .filter(|p| p.spec.as_ref().unwrap().node_name.as_deref() == Some("n1"))
            .map(|p| classify(p, "n1", &state, &workloads, &PlanOptions::default()))
            .collect();
        assess(&mut plan, &workloads);
        let found: Vec<String> = plan
            .findings
            .iter()
            .map(|f| format!("{} {}: {}", f.code, f.object, f.title))
            .collect();
        assert_eq!(
            found,
            [
                "last-ready-replica ReplicaSet shop/web: loses its last ready replica: all 2 ready replicas are on this node (spec.replicas 2)",
                "last-ready-replica StatefulSet shop/db: loses its last ready replica: its only ready replica is on this node (spec.replicas 1)",
                "statefulset-ordered StatefulSet shop/db: 1 pod is evicted one at a time, highest ordinal first",
            ]
        );
    }
}
