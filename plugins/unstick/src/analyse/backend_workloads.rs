//! What should create the pods behind an APIService's Service: the Deployments, StatefulSets and
//! DaemonSets of its namespace whose pod template matches the Service's selector.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::PodTemplateSpec;
use kube_runbook::{report::ObjectRef, state::ClusterState};

/// A workload whose pods the Service would select, and why none of them serves.
#[derive(Debug, Clone)]
pub struct Creator {
    /// "Deployment kube-system/metrics-server is scaled to 0".
    pub fact: String,
    pub object: ObjectRef,
    /// Scaled to 0 replicas: scaling it back up is the fix.
    pub scaled_to_zero: bool,
}

/// Whether `labels` carry every key and value of `selector`.
pub fn selects(
    selector: &BTreeMap<String, String>,
    labels: Option<&BTreeMap<String, String>>,
) -> bool {
    selector
        .iter()
        .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

/// The workloads in `namespace` whose pod template `selector` matches.
pub fn creators(
    state: &ClusterState,
    namespace: &str,
    selector: &BTreeMap<String, String>,
) -> Vec<Creator> {
    let deployments = state.deployments.iter().map(|d| {
        let wants = Wants::Replicas(d.spec.replicas);
        ("Deployment", &d.metadata, &d.spec.template, wants)
    });
    let stateful_sets = state.stateful_sets.iter().map(|s| {
        let wants = Wants::Replicas(s.spec.replicas);
        ("StatefulSet", &s.metadata, &s.spec.template, wants)
    });
    let daemon_sets = state.daemon_sets.iter().map(|d| {
        let wants = Wants::Nodes(d.status.as_ref().map(|s| s.desired_number_scheduled));
        ("DaemonSet", &d.metadata, &d.spec.template, wants)
    });
    deployments
        .chain(stateful_sets)
        .chain(daemon_sets)
        .filter(|(_, meta, template, _)| {
            meta.namespace.as_deref() == Some(namespace)
                && selects(selector, template_labels(template))
        })
        .map(|(kind, meta, _, wants)| {
            let name = meta.name.as_deref().unwrap_or_default();
            wants.creator(kind, namespace, name)
        })
        .collect()
}

fn template_labels(template: &PodTemplateSpec) -> Option<&BTreeMap<String, String>> {
    template.metadata.as_ref()?.labels.as_ref()
}

/// How many pods a workload asks for.
enum Wants {
    /// A Deployment's or StatefulSet's spec.replicas (1 when unset).
    Replicas(Option<i32>),
    /// A DaemonSet's status.desiredNumberScheduled: the nodes it should run on.
    Nodes(Option<i32>),
}

impl Wants {
    fn creator(&self, kind: &str, namespace: &str, name: &str) -> Creator {
        let object = ObjectRef::namespaced(kind, namespace, name);
        let (fact, scaled_to_zero) = match *self {
            Wants::Replicas(Some(0)) => (format!("{kind} {namespace}/{name} is scaled to 0"), true),
            Wants::Replicas(replicas) => (
                format!(
                    "{kind} {namespace}/{name} wants {} replica(s) but none exists",
                    replicas.unwrap_or(1)
                ),
                false,
            ),
            Wants::Nodes(Some(0)) => (
                format!(
                    "{kind} {namespace}/{name} matches no node (its node selector, affinity or tolerations)"
                ),
                false,
            ),
            Wants::Nodes(Some(nodes)) => (
                format!(
                    "{kind} {namespace}/{name} should run on {nodes} node(s) but no pod exists"
                ),
                false,
            ),
            Wants::Nodes(None) => (
                format!("{kind} {namespace}/{name} has created no pod"),
                false,
            ),
        };
        Creator {
            fact,
            object,
            scaled_to_zero,
        }
    }
}
