//! The pod under analysis with what every check needs: its identity, node, kubelet events, and
//! the evidence helpers that cite them.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Event, Node, Pod, PodSpec, PodStatus};
use k8s_openapi::jiff::Timestamp;
use kube_runbook::{
    report::{ObjectRef, Source, human_duration},
    state::{ClusterState, Kind, event_time},
};

use super::containers::ContainerView;

/// One pod and the cluster around it.
pub struct PodContext<'a> {
    pub pod: &'a Pod,
    pub state: &'a ClusterState,
    pub namespace: &'a str,
    pub name: &'a str,
    pub object: ObjectRef,
    /// Events about this pod (this incarnation, by uid), newest first.
    pub events: Vec<&'a Event>,
}

impl<'a> PodContext<'a> {
    /// None for a pod without a name or namespace (not a stored object).
    pub fn new(pod: &'a Pod, state: &'a ClusterState) -> Option<Self> {
        let namespace = pod.metadata.namespace.as_deref()?;
        let name = pod.metadata.name.as_deref()?;
        let uid = pod.metadata.uid.as_deref();
        Some(PodContext {
            pod,
            state,
            namespace,
            name,
            object: ObjectRef::namespaced("Pod", namespace, name),
            events: state.events_for("Pod", Some(namespace), name, uid),
        })
    }

    pub fn spec(&self) -> Option<&'a PodSpec> {
        self.pod.spec.as_ref()
    }

    pub fn status(&self) -> Option<&'a PodStatus> {
        self.pod.status.as_ref()
    }

    pub fn phase(&self) -> &'a str {
        self.status().and_then(|s| s.phase.as_deref()).unwrap_or("")
    }

    pub fn node_name(&self) -> Option<&'a str> {
        self.spec()
            .and_then(|s| s.node_name.as_deref())
            .filter(|n| !n.is_empty())
    }

    /// The pod's node, when nodes were loaded and it exists.
    pub fn node(&self) -> Option<&'a Node> {
        let name = self.node_name()?;
        self.state
            .nodes
            .iter()
            .find(|n| n.metadata.name.as_deref() == Some(name))
    }

    /// A field of this pod, as evidence source.
    pub fn field(&self, path: impl Into<String>) -> Source {
        Source::Field {
            object: self.object.clone(),
            path: path.into(),
        }
    }

    /// How long ago `time` was, as kubectl prints ages.
    pub fn age(&self, time: Timestamp) -> String {
        let seconds = self.state.observed_at.duration_since(time).as_secs();
        human_duration(Duration::from_secs(u64::try_from(seconds).unwrap_or(0)))
    }

    /// Events with one of `reasons`, newest first.
    pub fn events_with(&self, reasons: &[&str]) -> Vec<&'a Event> {
        self.events
            .iter()
            .copied()
            .filter(|e| e.reason.as_deref().is_some_and(|r| reasons.contains(&r)))
            .collect()
    }

    /// Events with one of `reasons` recorded against one container, newest first.
    pub fn container_events(&self, container: &ContainerView, reasons: &[&str]) -> Vec<&'a Event> {
        let path = container.event_field_path();
        self.events_with(reasons)
            .into_iter()
            .filter(|e| e.involved_object.field_path.as_deref() == Some(path.as_str()))
            .collect()
    }

    /// An event as evidence: its message, cited with reason, count, age and reporter.
    pub fn event_evidence(&self, event: &Event) -> (String, Source) {
        let message = event.message.as_deref().unwrap_or("").trim().to_string();
        let source = Source::event(event, event_time(event).map(|t| self.age(t)));
        (message, source)
    }

    /// What to say when `kind` could not be checked: refused (with the reason) or not loaded.
    pub fn not_checked(&self, kind: Kind) -> String {
        match self.state.unavailable_reason(kind) {
            Some(reason) => format!("{} could not be read ({reason})", kind.resource()),
            None => format!("{} were not loaded", kind.resource()),
        }
    }

    /// What to edit to change the pod's spec: `deployment/web` for a managed pod, else `pod/NAME`.
    pub fn workload(&self) -> String {
        match self
            .state
            .top_controller(self.namespace, &self.pod.metadata)
        {
            Some(owner) => format!("{}/{}", owner.kind.to_lowercase(), owner.name),
            None => format!("pod/{}", self.name),
        }
    }

    /// `kubectl logs` of one container; `previous` reads the last terminated instance.
    pub fn logs_command(&self, container: &str, previous: bool) -> String {
        let previous = if previous { " --previous" } else { "" };
        format!(
            "kubectl logs {} -n {} -c {container}{previous}",
            self.name, self.namespace
        )
    }

    /// How to run a command on the pod's node without ssh (the node's root is at /host).
    pub fn on_node(&self, command: &str) -> String {
        let node = self.node_name().unwrap_or("NODE");
        format!("kubectl debug node/{node} -it --image=busybox -- chroot /host {command}")
    }
}
