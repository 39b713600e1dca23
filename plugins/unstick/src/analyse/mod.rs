//! Pure analysis: from an [`Inventory`] to what is stuck, why, and the ladder of steps that would
//! unstick it. Nothing here talks to the API, so a snapshot and a live cluster answer alike.

mod api_backend;
mod apiservice;
mod backend_pod;
mod backend_workloads;
mod cause;
mod controllers;
mod dependents;
mod finalizers;
mod namespace;
mod namespace_conditions;
mod node;
mod pod;
mod pv;
mod pvc;
mod statefulset;
mod terminating;
#[cfg(test)]
pub mod testing;

use k8s_openapi::jiff::Timestamp;
use kube_runbook::{
    report::{Finding, Severity},
    selector::LabelQuery,
};

pub use cause::Diagnosis;
pub use finalizers::IN_TREE_FINALIZERS;

use crate::inventory::{Inventory, MetaObject};

/// How deep analysis follows what holds an object (a namespace's pod's claim's pod ...).
const MAX_DEPTH: usize = 4;
/// Deletions younger than this are still expected to finish by themselves.
const SETTLING_SECONDS: i64 = 30;

/// Analysis context: the inventory and how deep the current object is in the chain of holders.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub inv: &'a Inventory,
    depth: usize,
}

impl<'a> Ctx<'a> {
    pub fn new(inv: &'a Inventory) -> Ctx<'a> {
        Ctx { inv, depth: 0 }
    }

    pub fn now(&self) -> Timestamp {
        self.inv.observed_at()
    }

    /// Error once a deletion has had time to finish (its grace period plus a little), Info while
    /// it is fresh. For causes that cannot resolve by themselves, use Error directly.
    pub fn severity(&self, subject: &MetaObject) -> Severity {
        let fresh = terminating::Deletion::of(subject)
            .is_some_and(|d| self.now().duration_since(d.deadline).as_secs() < SETTLING_SECONDS);
        if fresh {
            Severity::Info
        } else {
            Severity::Error
        }
    }

    /// The diagnosis of an object that holds the current one, unless the chain is already deep.
    pub fn nested(&self, holder: &MetaObject) -> Option<Diagnosis> {
        (self.depth < MAX_DEPTH).then(|| {
            Ctx {
                inv: self.inv,
                depth: self.depth + 1,
            }
            .diagnose(holder)
        })
    }

    /// Everything that keeps `subject` from going away (or, for StatefulSets and their pods,
    /// from being replaced), with the ladder of steps.
    pub fn diagnose(&self, subject: &MetaObject) -> Diagnosis {
        let mut out = Diagnosis::default();
        let resource = &subject.resource;
        if resource.is_core("Pod") {
            pod::analyse(self, subject, &mut out);
        } else if resource.is_core("Namespace") {
            namespace::analyse(self, subject, &mut out);
        } else if resource.is_core("PersistentVolumeClaim") {
            pvc::analyse(self, subject, &mut out);
        } else if resource.is("apps", "StatefulSet") {
            statefulset::analyse(self, subject, &mut out);
        }
        for (index, finalizer) in subject.finalizers().iter().enumerate() {
            finalizers::explain(self, subject, finalizer, index, &mut out);
        }
        if subject.deletion_timestamp().is_some() && out.findings.is_empty() {
            out.add(cause::Cause::new(
                terminating::terminating_finding(
                    subject,
                    self.now(),
                    Severity::Info,
                    "terminating-without-blocker",
                    "nothing holds it; the API server removes it shortly",
                )
                .explain("It has no finalizer left and no grace period running."),
            ));
        }
        out
    }
}

/// The diagnosis of one object.
pub fn diagnose(inventory: &Inventory, subject: &MetaObject) -> Diagnosis {
    Ctx::new(inventory).diagnose(subject)
}

/// One object a scan found stuck, and its diagnosis.
#[derive(Debug, Clone)]
pub struct Scanned<'a> {
    pub subject: &'a MetaObject,
    pub diagnosis: Diagnosis,
}

/// Every stuck object in the inventory whose labels match `selector`, each diagnosed.
pub fn scan<'a>(inventory: &'a Inventory, selector: &LabelQuery) -> Vec<Scanned<'a>> {
    let ctx = Ctx::new(inventory);
    candidates(inventory)
        .into_iter()
        .filter(|subject| selector.matches(subject.meta.labels.as_ref()))
        .map(|subject| Scanned {
            subject,
            diagnosis: ctx.diagnose(subject),
        })
        .filter(|s| !s.diagnosis.findings.is_empty())
        .collect()
}

/// When the deletion of `subject` was requested, if it is being deleted.
pub fn deletion_requested_at(subject: &MetaObject) -> Option<Timestamp> {
    terminating::Deletion::of(subject).map(|d| d.requested_at)
}

/// Objects worth diagnosing: everything being deleted, StatefulSet pods on lost nodes, pods in
/// phase Unknown, StatefulSets whose rollout waits on a broken pod.
fn candidates(inventory: &Inventory) -> Vec<&MetaObject> {
    inventory
        .objects
        .iter()
        .filter(|o| {
            o.deletion_timestamp().is_some()
                || (o.resource.is_core("Pod") && pod::stuck_without_deletion(inventory, o))
                || (o.resource.is("apps", "StatefulSet")
                    && statefulset::rollout_blocked(inventory, o))
        })
        .collect()
}

/// The group versions a terminating namespace's discovery-failure condition names.
pub fn condition_group_versions(namespace: &k8s_openapi::api::core::v1::Namespace) -> Vec<String> {
    namespace_conditions::failing(namespace, namespace_conditions::DISCOVERY_FAILURE)
        .and_then(|c| c.message.as_deref())
        .map(namespace_conditions::failing_group_versions)
        .unwrap_or_default()
        .into_iter()
        .map(|(group_version, _)| group_version)
        .collect()
}

/// Every finding of `diagnoses`, each once.
pub fn findings_of(diagnoses: &[Diagnosis]) -> Vec<Finding> {
    let mut findings: Vec<Finding> = Vec::new();
    for finding in diagnoses.iter().flat_map(|d| d.findings.iter()) {
        let seen = findings.iter().any(|f| {
            f.object == finding.object && f.code == finding.code && f.title == finding.title
        });
        if !seen {
            findings.push(finding.clone());
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{ConfigMap, Pod};
    use serde_json::json;

    use super::*;
    use crate::analyse::testing::{add, from, inventory, node};

    #[test]
    fn scan_finds_deleting_objects_and_lost_statefulset_pods_and_filters_by_label() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        inv.state
            .nodes
            .push(node("n1", "Unknown", "2026-01-01T00:05:00Z"));
        add(
            &mut inv,
            from::<ConfigMap>(json!({"metadata": {
                "name": "held", "namespace": "shop", "uid": "u1", "labels": {"app": "web"},
                "deletionTimestamp": "2026-01-01T00:00:00Z", "finalizers": ["example.com/x"],
            }})),
        );
        add(
            &mut inv,
            from::<ConfigMap>(json!({"metadata": {"name": "fine", "namespace": "shop"}})),
        );
        add(
            &mut inv,
            from::<Pod>(json!({
                "metadata": {"name": "db-0", "namespace": "shop", "uid": "u2", "labels": {"app": "db"},
                             "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "uid": "s", "controller": true}]},
                "spec": {"nodeName": "n1", "containers": []}, "status": {"phase": "Running"},
            })),
        );
        let everything = LabelQuery::parse("").unwrap();
        let diagnoses = |found: Vec<Scanned>| -> Vec<Diagnosis> {
            found.into_iter().map(|s| s.diagnosis).collect()
        };
        let names: Vec<String> = findings_of(&diagnoses(scan(&inv, &everything)))
            .iter()
            .map(|f| format!("{} {}", f.object.name, f.code))
            .collect();
        assert_eq!(
            names,
            vec![
                "held finalizer-no-controller",
                "db-0 statefulset-pod-on-lost-node"
            ]
        );
        let only_db = LabelQuery::parse("app=db").unwrap();
        assert_eq!(findings_of(&diagnoses(scan(&inv, &only_db))).len(), 1);
    }
}
