//! Whether a controller that would remove a finalizer appears to run: a Deployment, StatefulSet
//! or DaemonSet in any namespace whose name, namespace, labels or images mention the API group.
//! A heuristic, stated as one: "appears to be running", never "is".

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::PodTemplateSpec;
use kube_runbook::{report::ObjectRef, state::Kind};

use crate::inventory::Inventory;

/// Domain labels too common to identify a controller.
const GENERIC_LABELS: &[&str] = &[
    "com",
    "io",
    "org",
    "net",
    "dev",
    "sh",
    "cloud",
    "k8s",
    "x-k8s",
    "kubernetes",
    "apps",
    "api",
    "www",
    "app",
    "internal",
    "local",
    "svc",
    "cluster",
    "group",
    "storage",
    "volume",
    "csi",
    "test",
];

/// A workload that may be the controller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    pub object: ObjectRef,
    pub ready: i32,
    pub desired: i32,
}

impl Workload {
    pub fn describe(&self) -> String {
        format!(
            "{} {}/{} ({}/{} ready)",
            self.object.kind,
            self.object.namespace.as_deref().unwrap_or_default(),
            self.object.name,
            self.ready,
            self.desired
        )
    }
}

/// What the search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sighting {
    /// Matching workloads with at least one ready replica.
    Running(Vec<Workload>),
    /// Matching workloads, none ready.
    Stopped(Vec<Workload>),
    /// Nothing matches any of the words.
    None { words: Vec<String> },
    /// Workloads could not be read, and why.
    Unchecked(String),
}

impl Sighting {
    /// One line for evidence.
    pub fn describe(&self) -> String {
        let list = |w: &[Workload]| {
            w.iter()
                .map(Workload::describe)
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Sighting::Running(found) => {
                format!("a controller appears to be running: {}", list(found))
            }
            Sighting::Stopped(found) => format!(
                "a controller appears to be installed but has no ready replica: {}",
                list(found)
            ),
            Sighting::None { words } => format!(
                "no controller appears to be running: no Deployment, StatefulSet or DaemonSet mentions {}",
                words
                    .iter()
                    .map(|w| format!("\"{w}\""))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            Sighting::Unchecked(reason) => {
                format!("whether its controller runs could not be checked: {reason}")
            }
        }
    }
}

/// The distinctive words of a DNS-style name: `cert-manager.io` → `cert-manager`,
/// `ebs.csi.aws.com` → `ebs`, `aws`.
pub fn words_of(domain: &str) -> Vec<String> {
    domain
        .to_lowercase()
        .split(['.', '/'])
        .filter(|label| label.len() >= 3 && !GENERIC_LABELS.contains(label))
        .map(str::to_string)
        .collect()
}

/// Looks for workloads mentioning any of `words`.
pub fn look_for_controller(inventory: &Inventory, words: &[String]) -> Sighting {
    let state = &inventory.workloads;
    if !state.has(Kind::Deployment) {
        let reason = state
            .unavailable_reason(Kind::Deployment)
            .unwrap_or("deployments in every namespace were not read");
        return Sighting::Unchecked(reason.to_string());
    }
    if words.is_empty() {
        return Sighting::Unchecked("its name has no distinctive word to look for".to_string());
    }
    let mut found = Vec::new();
    let mut consider = |kind: &str,
                        meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
                        template: &PodTemplateSpec,
                        ready: i32,
                        desired: i32| {
        let namespace = meta.namespace.as_deref().unwrap_or_default();
        let name = meta.name.as_deref().unwrap_or_default();
        if mentions(words, name, namespace, meta.labels.as_ref(), template) {
            found.push(Workload {
                object: ObjectRef::namespaced(kind, namespace, name),
                ready,
                desired,
            });
        }
    };
    for d in &state.deployments {
        let ready = d
            .status
            .as_ref()
            .and_then(|s| s.ready_replicas)
            .unwrap_or(0);
        let desired = d.spec.replicas.unwrap_or(1);
        consider("Deployment", &d.metadata, &d.spec.template, ready, desired);
    }
    for s in &state.stateful_sets {
        let ready = s
            .status
            .as_ref()
            .and_then(|s| s.ready_replicas)
            .unwrap_or(0);
        let desired = s.spec.replicas.unwrap_or(1);
        consider("StatefulSet", &s.metadata, &s.spec.template, ready, desired);
    }
    for d in &state.daemon_sets {
        let status = d.status.as_ref();
        let ready = status.map(|s| s.number_ready).unwrap_or(0);
        let desired = status.map(|s| s.desired_number_scheduled).unwrap_or(0);
        consider("DaemonSet", &d.metadata, &d.spec.template, ready, desired);
    }
    if found.is_empty() {
        Sighting::None {
            words: words.to_vec(),
        }
    } else if found.iter().any(|w| w.ready > 0) {
        Sighting::Running(found.into_iter().filter(|w| w.ready > 0).collect())
    } else {
        Sighting::Stopped(found)
    }
}

fn mentions(
    words: &[String],
    name: &str,
    namespace: &str,
    labels: Option<&BTreeMap<String, String>>,
    template: &PodTemplateSpec,
) -> bool {
    let images = template
        .spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .filter_map(|c| c.image.as_deref())
        .map(|image| image.rsplit('/').next().unwrap_or(image).to_lowercase());
    let haystack: Vec<String> = [name.to_lowercase(), namespace.to_lowercase()]
        .into_iter()
        .chain(labels.into_iter().flatten().map(|(_, v)| v.to_lowercase()))
        .chain(images)
        .collect();
    words
        .iter()
        .any(|word| haystack.iter().any(|h| h.contains(word.as_str())))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::analyse::testing::inventory;

    fn deployment(
        namespace: &str,
        name: &str,
        ready: i32,
        image: &str,
    ) -> k8s_openapi::api::apps::v1::Deployment {
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/name": name}},
            "spec": {"replicas": 1, "selector": {}, "template": {"spec": {"containers": [{"name": "c", "image": image}]}}},
            "status": {"readyReplicas": ready},
        }))
        .unwrap()
    }

    #[test]
    fn words_skip_generic_labels() {
        assert_eq!(words_of("cert-manager.io"), vec!["cert-manager"]);
        assert_eq!(words_of("ebs.csi.aws.com"), vec!["ebs", "aws"]);
        assert_eq!(words_of("example.com"), vec!["example"]);
        assert!(words_of("x.k8s.io").is_empty());
    }

    #[test]
    fn finds_running_stopped_or_no_controller() {
        let mut inv = inventory("2026-01-01T00:00:00Z");
        inv.workloads.insert_all([
            deployment(
                "cert-manager",
                "cert-manager",
                1,
                "quay.io/jetstack/cert-manager-controller:v1",
            ),
            deployment(
                "storage",
                "provisioner",
                0,
                "registry.k8s.io/sig-storage/csi-provisioner:v5",
            ),
        ]);
        inv.workloads
            .insert_all(Vec::<k8s_openapi::api::apps::v1::StatefulSet>::new());
        inv.workloads
            .insert_all(Vec::<k8s_openapi::api::apps::v1::DaemonSet>::new());
        match look_for_controller(&inv, &words_of("cert-manager.io")) {
            Sighting::Running(found) => assert_eq!(found[0].object.name, "cert-manager"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            look_for_controller(&inv, &["csi-provisioner".to_string()]),
            Sighting::Stopped(_)
        ));
        let none = look_for_controller(&inv, &words_of("example.com"));
        assert_eq!(
            none.describe(),
            "no controller appears to be running: no Deployment, StatefulSet or DaemonSet mentions \"example\""
        );
    }

    #[test]
    fn unreadable_workloads_are_unchecked() {
        let inv = {
            let mut inv = inventory("2026-01-01T00:00:00Z");
            inv.workloads.loaded.clear();
            inv
        };
        assert!(matches!(
            look_for_controller(&inv, &["x".to_string()]),
            Sighting::Unchecked(_)
        ));
    }
}
