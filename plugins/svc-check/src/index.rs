//! Lookups built once per run so that checking every Service stays linear: pods by namespace and
//! by label, EndpointSlices by Service, events by object, and the small cluster-wide lists.

use std::collections::HashMap;

use k8s_openapi::api::{
    apps::v1::{DaemonSet, Deployment},
    core::v1::{Event, Node, Pod, Service},
    discovery::v1::EndpointSlice,
    networking::v1::NetworkPolicy,
};
use kube_runbook::state::{ClusterState, Kind, event_time};

use crate::{coverage::Coverage, labels::Labels, pods};

/// The label the endpointslice controller (and anyone writing slices by hand) sets to the Service name.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

pub struct Index<'a> {
    pub state: &'a ClusterState,
    pub coverage: &'a Coverage,
    pods: HashMap<&'a str, NamespacePods<'a>>,
    services: HashMap<&'a str, Vec<&'a Service>>,
    /// namespace -> Service name -> slices.
    slices: HashMap<&'a str, HashMap<&'a str, Vec<&'a EndpointSlice>>>,
    /// kind -> namespace -> name -> events, newest first.
    events: HashMap<&'a str, HashMap<&'a str, HashMap<&'a str, Vec<&'a Event>>>>,
    policies: HashMap<&'a str, Vec<&'a NetworkPolicy>>,
    namespace_labels: HashMap<&'a str, &'a Labels>,
    nodes: HashMap<&'a str, &'a Node>,
}

#[derive(Default)]
struct NamespacePods<'a> {
    pods: Vec<&'a Pod>,
    /// label key -> value -> positions in `pods`.
    by_label: HashMap<&'a str, HashMap<&'a str, Vec<usize>>>,
    by_name: HashMap<&'a str, &'a Pod>,
}

impl<'a> Index<'a> {
    pub fn new(state: &'a ClusterState, coverage: &'a Coverage) -> Index<'a> {
        let mut pods: HashMap<&str, NamespacePods> = HashMap::new();
        for pod in &state.pods {
            let entry = pods.entry(pods::namespace(pod)).or_default();
            let position = entry.pods.len();
            entry.pods.push(pod);
            entry.by_name.insert(pods::name(pod), pod);
            for (key, value) in pods::labels(pod) {
                entry
                    .by_label
                    .entry(key.as_str())
                    .or_default()
                    .entry(value.as_str())
                    .or_default()
                    .push(position);
            }
        }
        let mut services: HashMap<&str, Vec<&Service>> = HashMap::new();
        for service in &state.services {
            services
                .entry(namespace_of(&service.metadata))
                .or_default()
                .push(service);
        }
        let mut slices: HashMap<&str, HashMap<&str, Vec<&EndpointSlice>>> = HashMap::new();
        for slice in &state.endpoint_slices {
            if let Some(service) = slice
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(SERVICE_NAME_LABEL))
            {
                slices
                    .entry(namespace_of(&slice.metadata))
                    .or_default()
                    .entry(service.as_str())
                    .or_default()
                    .push(slice);
            }
        }
        let mut events: HashMap<&str, HashMap<&str, HashMap<&str, Vec<&Event>>>> = HashMap::new();
        for event in &state.events {
            let object = &event.involved_object;
            if let (Some(kind), Some(name)) = (object.kind.as_deref(), object.name.as_deref()) {
                events
                    .entry(kind)
                    .or_default()
                    .entry(object.namespace.as_deref().unwrap_or_default())
                    .or_default()
                    .entry(name)
                    .or_default()
                    .push(event);
            }
        }
        for list in events
            .values_mut()
            .flat_map(|k| k.values_mut())
            .flat_map(|n| n.values_mut())
        {
            list.sort_by_key(|e| std::cmp::Reverse(event_time(e)));
        }
        let mut policies: HashMap<&str, Vec<&NetworkPolicy>> = HashMap::new();
        for policy in &state.network_policies {
            policies
                .entry(namespace_of(&policy.metadata))
                .or_default()
                .push(policy);
        }
        let namespace_labels = state
            .namespaces
            .iter()
            .filter_map(|ns| {
                let name = ns.metadata.name.as_deref()?;
                Some((name, crate::labels::or_empty(ns.metadata.labels.as_ref())))
            })
            .collect();
        let nodes = state
            .nodes
            .iter()
            .filter_map(|node| Some((node.metadata.name.as_deref()?, node)))
            .collect();
        Index {
            state,
            coverage,
            pods,
            services,
            slices,
            events,
            policies,
            namespace_labels,
            nodes,
        }
    }

    /// Pods in `namespace` whose labels carry every key and value of `selector` (a Service selector).
    pub fn select(&self, namespace: &str, selector: &Labels) -> Vec<&'a Pod> {
        let Some(ns) = self.pods.get(namespace) else {
            return Vec::new();
        };
        let shortest = selector
            .iter()
            .map(|(k, v)| {
                ns.by_label
                    .get(k.as_str())
                    .and_then(|values| values.get(v.as_str()))
                    .map_or(&[][..], Vec::as_slice)
            })
            .min_by_key(|positions| positions.len())
            .unwrap_or_default();
        shortest
            .iter()
            .map(|&i| ns.pods[i])
            .filter(|pod| {
                let labels = pods::labels(pod);
                selector.iter().all(|(k, v)| labels.get(k) == Some(v))
            })
            .collect()
    }

    /// Pods of `namespace` labelled `key=value`.
    pub fn pods_labelled(&self, namespace: &str, key: &str, value: &str) -> Vec<&'a Pod> {
        let Some(ns) = self.pods.get(namespace) else {
            return Vec::new();
        };
        ns.by_label
            .get(key)
            .and_then(|values| values.get(value))
            .into_iter()
            .flatten()
            .map(|&i| ns.pods[i])
            .collect()
    }

    /// The distinct values of label `key` among the pods of `namespace`.
    pub fn label_values(&self, namespace: &str, key: &str) -> Vec<&'a str> {
        self.pods
            .get(namespace)
            .and_then(|ns| ns.by_label.get(key))
            .map(|values| values.keys().copied().collect())
            .unwrap_or_default()
    }

    /// The distinct label keys among the pods of `namespace`.
    pub fn label_keys(&self, namespace: &str) -> Vec<&'a str> {
        self.pods
            .get(namespace)
            .map(|ns| ns.by_label.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Namespaces other than `namespace` holding pods that `selector` would match.
    pub fn namespaces_matching(&self, namespace: &str, selector: &Labels) -> Vec<&'a str> {
        let mut found: Vec<&str> = self
            .pods
            .keys()
            .copied()
            .filter(|ns| *ns != namespace && !self.select(ns, selector).is_empty())
            .collect();
        found.sort_unstable();
        found
    }

    pub fn pods_in(&self, namespace: &str) -> &[&'a Pod] {
        self.pods
            .get(namespace)
            .map_or(&[][..], |ns| ns.pods.as_slice())
    }

    pub fn pod(&self, namespace: &str, name: &str) -> Option<&'a Pod> {
        self.pods.get(namespace)?.by_name.get(name).copied()
    }

    pub fn services_in(&self, namespace: &str) -> &[&'a Service] {
        self.services.get(namespace).map_or(&[][..], Vec::as_slice)
    }

    pub fn all_services(&self) -> impl Iterator<Item = &'a Service> + '_ {
        self.state.services.iter()
    }

    pub fn service(&self, namespace: &str, name: &str) -> Option<&'a Service> {
        self.services_in(namespace)
            .iter()
            .copied()
            .find(|s| s.metadata.name.as_deref() == Some(name))
    }

    pub fn slices_of(&self, namespace: &str, service: &str) -> &[&'a EndpointSlice] {
        self.slices
            .get(namespace)
            .and_then(|services| services.get(service))
            .map_or(&[][..], Vec::as_slice)
    }

    /// Events about one object, newest first; events of an older object of the same name
    /// (a different `uid`) are left out.
    pub fn events_for(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
        uid: Option<&str>,
    ) -> Vec<&'a Event> {
        self.events
            .get(kind)
            .and_then(|namespaces| namespaces.get(namespace))
            .and_then(|names| names.get(name))
            .into_iter()
            .flatten()
            .copied()
            .filter(|e| match (uid, e.involved_object.uid.as_deref()) {
                (Some(want), Some(have)) => want == have,
                _ => true,
            })
            .collect()
    }

    pub fn policies_in(&self, namespace: &str) -> &[&'a NetworkPolicy] {
        self.policies.get(namespace).map_or(&[][..], Vec::as_slice)
    }

    /// The labels of a namespace, if namespaces were readable and it exists.
    pub fn namespace_labels(&self, namespace: &str) -> Option<&'a Labels> {
        self.namespace_labels.get(namespace).copied()
    }

    pub fn namespace_names(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.namespace_labels.keys().copied()
    }

    pub fn node(&self, name: &str) -> Option<&'a Node> {
        self.nodes.get(name).copied()
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn nodes(&self) -> impl Iterator<Item = &'a Node> + '_ {
        self.state.nodes.iter()
    }

    pub fn daemon_sets(&self) -> &'a [DaemonSet] {
        &self.state.daemon_sets
    }

    pub fn deployments(&self) -> &'a [Deployment] {
        &self.state.deployments
    }

    /// Whether every `kind` in `namespace` was read (so that none found means none exist).
    pub fn lists(&self, kind: Kind, namespace: &str) -> bool {
        self.coverage.lists(kind, namespace)
    }
}

fn namespace_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> &str {
    meta.namespace.as_deref().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use k8s_openapi::jiff::Timestamp;
    use kube_runbook::state::Origin;
    use serde_json::json;

    use super::*;

    fn pod(ns: &str, name: &str, labels: serde_json::Value) -> Pod {
        serde_json::from_value(
            json!({"metadata": {"name": name, "namespace": ns, "labels": labels}}),
        )
        .unwrap()
    }

    #[test]
    fn selects_by_every_label_within_the_namespace() {
        let mut state =
            ClusterState::new(Origin::Snapshot { path: "t".into() }, Timestamp::UNIX_EPOCH);
        state.pods = vec![
            pod("shop", "a", json!({"app": "web", "tier": "fe"})),
            pod("shop", "b", json!({"app": "web", "tier": "be"})),
            pod("shop", "c", json!({"app": "db"})),
            pod("other", "d", json!({"app": "web", "tier": "fe"})),
        ];
        let coverage = Coverage::everywhere(&state);
        let index = Index::new(&state, &coverage);
        let selector: Labels = [
            ("app".to_string(), "web".to_string()),
            ("tier".into(), "fe".into()),
        ]
        .into();
        let names: Vec<_> = index
            .select("shop", &selector)
            .iter()
            .map(|p| pods::name(p))
            .collect();
        assert_eq!(names, vec!["a"]);
        assert_eq!(index.namespaces_matching("shop", &selector), vec!["other"]);
        assert!(
            index
                .select("shop", &[("app".to_string(), "nope".to_string())].into())
                .is_empty()
        );
        assert!(index.pod("shop", "c").is_some());
    }
}
