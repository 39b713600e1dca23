//! Choosing the pods to explain from the target: one pod, a workload's pods, or every unhealthy pod.

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::{
    Error,
    report::ObjectRef,
    selector::LabelQuery,
    state::{ClusterState, controller_of},
};

use crate::target::{OwnerKind, Target};

/// The pods to explain, and the workload they belong to when one was named.
pub struct Selection<'a> {
    pub pods: Vec<&'a Pod>,
    pub owner: Option<ObjectRef>,
}

/// Resolves `target` in `namespace` (None: all namespaces) among the loaded pods.
pub fn select<'a>(
    state: &'a ClusterState,
    target: &Target,
    namespace: Option<&str>,
    labels: &LabelQuery,
) -> Result<Selection<'a>, Error> {
    let in_scope =
        |pod: &&Pod| namespace.is_none_or(|ns| pod.metadata.namespace.as_deref() == Some(ns));
    match target {
        Target::Pod(name) => {
            // The name first: it usually differs in length, which needs no read of the string.
            let found: Vec<&Pod> = state
                .pods
                .iter()
                .filter(|p| p.metadata.name.as_deref() == Some(name))
                .filter(in_scope)
                .collect();
            match found.len() {
                0 => Err(Error::not_found(
                    "pod",
                    name,
                    namespace,
                    state
                        .pods
                        .iter()
                        .filter(in_scope)
                        .filter_map(|p| p.metadata.name.as_deref()),
                )),
                1 => Ok(Selection {
                    pods: found,
                    owner: None,
                }),
                _ => Err(Error::Usage(format!(
                    "pod \"{name}\" exists in several namespaces ({}): pass -n NAMESPACE",
                    found
                        .iter()
                        .filter_map(|p| p.metadata.namespace.as_deref())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
            }
        }
        Target::Owner(kind, name) => {
            let ns = owner_namespace(state, *kind, name, namespace)?;
            let owner = ObjectRef::namespaced(kind.kind_name(), &ns, name);
            let pods = state
                .pods
                .iter()
                .filter(|p| p.metadata.namespace.as_deref() == Some(ns.as_str()))
                .filter(|p| belongs_to(state, p, *kind, name))
                .collect();
            Ok(Selection {
                pods,
                owner: Some(owner),
            })
        }
        Target::Unhealthy => {
            let pods = state
                .pods
                .iter()
                .filter(in_scope)
                .filter(|p| labels.matches(p.metadata.labels.as_ref()))
                .filter(|p| needs_explaining(p))
                .collect();
            Ok(Selection { pods, owner: None })
        }
    }
}

/// Not Running and Ready, or restarting; finished pods (Succeeded) are fine.
pub fn needs_explaining(pod: &Pod) -> bool {
    let Some(status) = &pod.status else {
        return true;
    };
    match status.phase.as_deref() {
        Some("Succeeded") => false,
        Some("Running") => {
            let ready = status
                .conditions
                .iter()
                .flatten()
                .any(|c| c.type_ == "Ready" && c.status == "True");
            let crash_looping = status.container_statuses.iter().flatten().any(|c| {
                c.state
                    .as_ref()
                    .and_then(|s| s.waiting.as_ref())
                    .and_then(|w| w.reason.as_deref())
                    == Some("CrashLoopBackOff")
            });
            !ready || crash_looping || pod.metadata.deletion_timestamp.is_some()
        }
        _ => true,
    }
}

fn belongs_to(state: &ClusterState, pod: &Pod, kind: OwnerKind, name: &str) -> bool {
    let Some(owner) = controller_of(&pod.metadata) else {
        return false;
    };
    match kind {
        OwnerKind::Deployment => {
            let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
            state
                .top_controller(ns, &pod.metadata)
                .is_some_and(|top| top.kind == "Deployment" && top.name == name)
        }
        _ => owner.kind == kind.kind_name() && owner.name == name,
    }
}

/// The namespace of the named workload, or not-found with near names.
fn owner_namespace(
    state: &ClusterState,
    kind: OwnerKind,
    name: &str,
    namespace: Option<&str>,
) -> Result<String, Error> {
    let metas: Vec<&k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta> = match kind {
        OwnerKind::Deployment => state.deployments.iter().map(|o| &o.metadata).collect(),
        OwnerKind::ReplicaSet => state.replica_sets.iter().map(|o| &o.metadata).collect(),
        OwnerKind::StatefulSet => state.stateful_sets.iter().map(|o| &o.metadata).collect(),
        OwnerKind::DaemonSet => state.daemon_sets.iter().map(|o| &o.metadata).collect(),
        OwnerKind::Job => state.jobs.iter().map(|o| &o.metadata).collect(),
    };
    let in_scope: Vec<_> = metas
        .into_iter()
        .filter(|m| namespace.is_none_or(|ns| m.namespace.as_deref() == Some(ns)))
        .collect();
    let found: Vec<_> = in_scope
        .iter()
        .filter(|m| m.name.as_deref() == Some(name))
        .collect();
    match found.as_slice() {
        [one] => Ok(one.namespace.clone().unwrap_or_default()),
        [] => Err(Error::not_found(
            &kind.kind_name().to_lowercase(),
            name,
            namespace,
            in_scope.iter().filter_map(|m| m.name.as_deref()),
        )),
        _ => Err(Error::Usage(format!(
            "{} \"{name}\" exists in several namespaces: pass -n NAMESPACE",
            kind.kind_name().to_lowercase()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use kube_runbook::state::Origin;
    use serde_json::json;

    use super::*;

    fn pod(name: &str, phase: &str, ready: bool) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"containers": [{"name": "c", "image": "x"}]},
            "status": {"phase": phase, "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}
        }))
        .unwrap()
    }

    fn state(pods: Vec<Pod>) -> ClusterState {
        let mut state = ClusterState::new(
            Origin::Snapshot { path: "s".into() },
            k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
        );
        state.pods = pods;
        state
    }

    #[test]
    fn unhealthy_skips_ready_and_succeeded_pods() {
        let s = state(vec![
            pod("ok", "Running", true),
            pod("done", "Succeeded", false),
            pod("stuck", "Pending", false),
        ]);
        let sel = select(&s, &Target::Unhealthy, Some("shop"), &LabelQuery::default()).unwrap();
        let names: Vec<_> = sel
            .pods
            .iter()
            .filter_map(|p| p.metadata.name.as_deref())
            .collect();
        assert_eq!(names, vec!["stuck"]);
    }

    #[test]
    fn unknown_pod_suggests_near_names() {
        let s = state(vec![pod("web-abc", "Pending", false)]);
        let err = select(
            &s,
            &Target::Pod("web-ab".into()),
            Some("shop"),
            &LabelQuery::default(),
        )
        .err()
        .unwrap();
        assert!(
            err.to_string().contains("did you mean \"web-abc\""),
            "{err}"
        );
        assert_eq!(err.exit_code(), kube_runbook::exit_code::NOT_FOUND);
    }
}
