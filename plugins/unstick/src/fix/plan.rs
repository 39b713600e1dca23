//! The remediation steps analysis proposes, ordered on a ladder from "fix the cause" to the
//! namespace `/finalize` call, each with its danger in one line.

use serde_json::{Value, json};

use kube_runbook::report::Remedy;

use super::patch::remove_finalizer_ops;
use crate::inventory::MetaObject;

/// The taint that declares a node shut down (non-graceful node shutdown, GA in 1.28).
pub const OUT_OF_SERVICE_TAINT: &str = "node.kubernetes.io/out-of-service";
/// The value kubectl's documentation uses for the out-of-service taint.
pub const OUT_OF_SERVICE_VALUE: &str = "nodeshutdown";
/// The namespace controller's token in `spec.finalizers`.
pub const NAMESPACE_FINALIZER: &str = "kubernetes";

/// How far down the ladder a step is: every step of a rung is offered before the next rung.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rung {
    /// Remove what keeps the object's own controller from finishing.
    FixCause,
    /// Remove one finalizer whose owner will not act.
    RemoveFinalizer,
    /// Delete a pod without waiting for its kubelet.
    ForceDelete,
    /// Finalize a namespace, stranding whatever is left in it.
    Finalize,
}

impl Rung {
    pub fn label(self) -> &'static str {
        match self {
            Rung::FixCause => "fix the cause",
            Rung::RemoveFinalizer => "remove a finalizer",
            Rung::ForceDelete => "force-delete",
            Rung::Finalize => "finalize the namespace",
        }
    }
}

/// One change to the cluster.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// An ordinary delete, guarded by UID and resourceVersion.
    Delete(MetaObject),
    /// Set a StatefulSet's or Deployment's replicas to 0, guarded by resourceVersion.
    ScaleToZero(MetaObject),
    /// Add the out-of-service taint to a node, guarded by resourceVersion.
    TaintOutOfService(MetaObject),
    /// Remove `finalizer`, at `index` of `metadata.finalizers`, guarded by resourceVersion.
    RemoveFinalizer {
        object: MetaObject,
        finalizer: String,
        index: usize,
    },
    /// Delete a pod with grace period 0, guarded by UID and resourceVersion.
    ForceDeletePod(MetaObject),
    /// Remove the `kubernetes` token from `spec.finalizers` through `/finalize`.
    FinalizeNamespace {
        namespace: MetaObject,
        /// What is left in the namespace and would stay in etcd.
        strands: Vec<String>,
    },
}

/// A step of the ladder: the change, why, and what it can break.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub rung: Rung,
    pub action: Action,
    /// What the step resolves, in a few words.
    pub why: String,
    /// What can go wrong, in one line.
    pub danger: String,
    /// A name the user must type to confirm, for steps that can split-brain or strand data.
    pub typed_confirmation: Option<String>,
}

impl Step {
    pub fn new(
        rung: Rung,
        action: Action,
        why: impl Into<String>,
        danger: impl Into<String>,
    ) -> Step {
        Step {
            rung,
            action,
            why: why.into(),
            danger: danger.into(),
            typed_confirmation: None,
        }
    }

    /// Requires the user to type `name` to confirm.
    pub fn confirm_by_typing(mut self, name: &str) -> Step {
        self.typed_confirmation = Some(name.to_string());
        self
    }

    /// The object the step changes.
    pub fn target(&self) -> &MetaObject {
        match &self.action {
            Action::Delete(object)
            | Action::ScaleToZero(object)
            | Action::TaintOutOfService(object)
            | Action::ForceDeletePod(object)
            | Action::RemoveFinalizer { object, .. }
            | Action::FinalizeNamespace {
                namespace: object, ..
            } => object,
        }
    }

    /// Identifies the step across re-diagnoses (the resourceVersion may change; the step does not).
    pub fn key(&self) -> String {
        let target = self.target().reference();
        match &self.action {
            Action::Delete(_) => format!("delete {target}"),
            Action::ScaleToZero(_) => format!("scale {target}"),
            Action::TaintOutOfService(_) => format!("taint {target}"),
            Action::RemoveFinalizer { finalizer, .. } => format!("unfinalize {target} {finalizer}"),
            Action::ForceDeletePod(_) => format!("force-delete {target}"),
            Action::FinalizeNamespace { .. } => format!("finalize {target}"),
        }
    }

    /// What the step does, in one sentence.
    pub fn description(&self) -> String {
        let target = self.target().reference();
        let what = match &self.action {
            Action::Delete(_) => format!("Delete {target}"),
            Action::ScaleToZero(_) => format!("Scale {target} to 0 replicas"),
            Action::TaintOutOfService(_) => format!(
                "Mark {target} out of service (taint {OUT_OF_SERVICE_TAINT}={OUT_OF_SERVICE_VALUE}:NoExecute)"
            ),
            Action::RemoveFinalizer { finalizer, .. } => {
                format!("Remove finalizer {finalizer} from {target}")
            }
            Action::ForceDeletePod(_) => format!("Force-delete {target} (grace period 0)"),
            Action::FinalizeNamespace { .. } => format!(
                "Finalize {target}: remove \"{NAMESPACE_FINALIZER}\" from spec.finalizers through /finalize"
            ),
        };
        format!("{what}: {}", self.why)
    }

    /// The kubectl command that does the same by hand.
    pub fn command(&self) -> String {
        let object = self.target();
        let args = object.kubectl_args();
        match &self.action {
            Action::Delete(_) => format!("kubectl delete {args}"),
            Action::ScaleToZero(_) => format!("kubectl scale {args} --replicas=0"),
            Action::TaintOutOfService(_) => format!(
                "kubectl taint node {} {OUT_OF_SERVICE_TAINT}={OUT_OF_SERVICE_VALUE}:NoExecute",
                object.name()
            ),
            Action::RemoveFinalizer {
                finalizer, index, ..
            } => {
                // The very patch unstick sends, so a copy-paste is as guarded.
                let patch = remove_finalizer_ops(object, finalizer, *index);
                format!("kubectl patch {args} --type=json -p '{patch}'")
            }
            Action::ForceDeletePod(_) => format!("kubectl delete {args} --grace-period=0 --force"),
            Action::FinalizeNamespace { .. } => {
                let name = object.name();
                format!(
                    "kubectl get namespace {name} -o json | jq '.spec.finalizers -= [\"{NAMESPACE_FINALIZER}\"]' | kubectl replace --raw /api/v1/namespaces/{name}/finalize -f -"
                )
            }
        }
    }

    /// The step as a remedy in a finding.
    pub fn remedy(&self) -> Remedy {
        Remedy::command(self.description(), self.command()).dangerous(self.danger.clone())
    }

    /// The step as structured data in a finding's details.
    pub fn details(&self) -> Value {
        let mut details = json!({
            "rung": self.rung.label(),
            "action": self.key(),
            "object": self.target().reference(),
            "description": self.description(),
            "danger": self.danger,
        });
        if let Some(name) = &self.typed_confirmation {
            details["requiresTypedName"] = json!(name);
        }
        if let Action::FinalizeNamespace { strands, .. } = &self.action {
            details["strands"] = json!(strands);
        }
        details
    }
}

/// Orders steps safest first, keeping the order analysis gave within a rung, without duplicates.
pub fn ladder(steps: impl IntoIterator<Item = Step>) -> Vec<Step> {
    let mut ordered: Vec<Step> = Vec::new();
    for step in steps {
        if !ordered.iter().any(|s| s.key() == step.key()) {
            ordered.push(step);
        }
    }
    ordered.sort_by_key(|s| s.rung);
    ordered
}

#[cfg(test)]
mod tests {
    use kube_runbook::state::Kind;
    use serde_json::json;

    use super::*;

    fn object(kind: Kind, namespace: Option<&str>, name: &str) -> MetaObject {
        let meta = serde_json::from_value(
            json!({"name": name, "namespace": namespace, "resourceVersion": "41"}),
        )
        .unwrap();
        MetaObject::of_kind(kind, &meta)
    }

    #[test]
    fn ladder_orders_by_rung_and_drops_duplicates() {
        let pod = object(Kind::Pod, Some("shop"), "web-0");
        let node = object(Kind::Node, None, "n1");
        let steps = vec![
            Step::new(
                Rung::ForceDelete,
                Action::ForceDeletePod(pod.clone()),
                "a",
                "d",
            ),
            Step::new(
                Rung::FixCause,
                Action::TaintOutOfService(node.clone()),
                "b",
                "d",
            ),
            Step::new(Rung::FixCause, Action::Delete(node.clone()), "c", "d"),
            Step::new(Rung::FixCause, Action::TaintOutOfService(node), "dup", "d"),
        ];
        let keys: Vec<String> = ladder(steps).iter().map(Step::key).collect();
        assert_eq!(
            keys,
            vec![
                "taint Node n1",
                "delete Node n1",
                "force-delete Pod shop/web-0"
            ]
        );
    }

    #[test]
    fn commands_match_kubectl() {
        let pod = object(Kind::Pod, Some("shop"), "web-0");
        let force = Step::new(
            Rung::ForceDelete,
            Action::ForceDeletePod(pod.clone()),
            "x",
            "y",
        );
        assert_eq!(
            force.command(),
            "kubectl delete pod web-0 -n shop --grace-period=0 --force"
        );
        let unfinalize = Step::new(
            Rung::RemoveFinalizer,
            Action::RemoveFinalizer {
                object: pod,
                finalizer: "example.com/hold".into(),
                index: 1,
            },
            "x",
            "y",
        );
        assert_eq!(
            unfinalize.command(),
            "kubectl patch pod web-0 -n shop --type=json -p '[{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\",\"value\":\"41\"},{\"op\":\"test\",\"path\":\"/metadata/finalizers/1\",\"value\":\"example.com/hold\"},{\"op\":\"remove\",\"path\":\"/metadata/finalizers/1\"}]'"
        );
        let sts = object(Kind::StatefulSet, Some("shop"), "web");
        let scale = Step::new(Rung::FixCause, Action::ScaleToZero(sts), "x", "y");
        assert_eq!(
            scale.command(),
            "kubectl scale statefulsets.apps web -n shop --replicas=0"
        );
    }

    #[test]
    fn the_by_hand_finalizer_patch_is_the_guarded_patch_unstick_sends() {
        let widget = object(Kind::ConfigMap, Some("shop"), "held");
        let step = Step::new(
            Rung::RemoveFinalizer,
            Action::RemoveFinalizer {
                object: widget.clone(),
                finalizer: "example.com/hold".into(),
                index: 0,
            },
            "x",
            "y",
        );
        let command = step.command();
        let quoted = command
            .split_once(" -p '")
            .and_then(|(_, rest)| rest.strip_suffix('\''))
            .unwrap_or_else(|| panic!("no quoted patch in {command}"));
        let shown: Value = serde_json::from_str(quoted).unwrap();
        assert_eq!(shown, remove_finalizer_ops(&widget, "example.com/hold", 0));
        assert_eq!(
            shown[0],
            json!({"op": "test", "path": "/metadata/resourceVersion", "value": "41"})
        );
    }
}
