//! Polling helpers: wait until the cluster reaches a state, or panic after a timeout with what
//! was last seen.

use std::fmt::Debug;
use std::future::Future;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Event, Node, Pod};
use kube::api::ListParams;
use kube::{Api, Resource};
use serde::de::DeserializeOwned;

use crate::ControlPlane;

/// The timeout the [`crate::TestNamespace`] helpers use.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// Polls `check` until it returns `Ok`; `Err(state)` describes what was seen instead. Panics after
/// `timeout` naming `what`, the last state and any control-plane component that died.
pub async fn poll_until<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let began = Instant::now();
    loop {
        let last = match check().await {
            Ok(value) => return value,
            Err(state) => state,
        };
        if began.elapsed() >= timeout {
            let dead = ControlPlane::if_started()
                .and_then(ControlPlane::dead_components)
                .map(|d| format!("\n{d}"))
                .unwrap_or_default();
            panic!("timed out after {timeout:?} waiting for {what}; last seen: {last}{dead}");
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Polls `check` until it returns `Some`. Panics after `timeout` naming `what`.
pub async fn wait_for<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    poll_until(timeout, what, || {
        let fut = check();
        async move { fut.await.ok_or_else(|| "not yet".to_string()) }
    })
    .await
}

/// Waits until pod `namespace/name` has `status.phase == phase` (e.g. `Running`).
pub async fn pod_phase(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    phase: &str,
    timeout: Duration,
) -> Pod {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    poll_until(
        timeout,
        &format!("pod {namespace}/{name} phase {phase}"),
        || async {
            let pod = get(&pods, name).await?;
            let seen = pod
                .status
                .as_ref()
                .and_then(|s| s.phase.clone())
                .unwrap_or_default();
            if seen == phase {
                Ok(pod)
            } else {
                Err(format!("phase {seen:?}: {:?}", pod.status))
            }
        },
    )
    .await
}

/// Waits until pod `namespace/name` is bound to a node (`spec.nodeName` set).
pub async fn pod_scheduled(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    timeout: Duration,
) -> Pod {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    poll_until(
        timeout,
        &format!("pod {namespace}/{name} to be scheduled"),
        || async {
            let pod = get(&pods, name).await?;
            match pod.spec.as_ref().and_then(|s| s.node_name.clone()) {
                Some(_) => Ok(pod),
                None => Err(format!(
                    "unscheduled: {:?}",
                    pod.status.as_ref().and_then(|s| s.conditions.clone())
                )),
            }
        },
    )
    .await
}

/// Waits until pod `namespace/name` has condition `type_` with `status` (e.g. `Ready`, `True`).
pub async fn pod_condition(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    type_: &str,
    status: &str,
    timeout: Duration,
) -> Pod {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let what = format!("pod {namespace}/{name} condition {type_}={status}");
    poll_until(timeout, &what, || async {
        let pod = get(&pods, name).await?;
        let conditions = pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.clone())
            .unwrap_or_default();
        if conditions
            .iter()
            .any(|c| c.type_ == type_ && c.status == status)
        {
            Ok(pod)
        } else {
            Err(format!("conditions {conditions:?}"))
        }
    })
    .await
}

/// Waits until `count` pods matching `selector` in `namespace` are Running with Ready=True.
pub async fn pods_ready(
    client: &kube::Client,
    namespace: &str,
    selector: &str,
    count: usize,
    timeout: Duration,
) -> Vec<Pod> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let what = format!("{count} ready pods matching {selector} in {namespace}");
    poll_until(timeout, &what, || async {
        let list = pods
            .list(&ListParams::default().labels(selector))
            .await
            .map_err(|e| e.to_string())?;
        let ready: Vec<Pod> = list
            .items
            .iter()
            .filter(|p| is_running_and_ready(p))
            .cloned()
            .collect();
        if ready.len() == count {
            Ok(ready)
        } else {
            let states: Vec<String> = list.items.iter().map(describe_pod).collect();
            Err(format!(
                "{} ready of {}: {states:?}",
                ready.len(),
                list.items.len()
            ))
        }
    })
    .await
}

/// True for a Running pod whose Ready condition is True.
pub fn is_running_and_ready(pod: &Pod) -> bool {
    let Some(status) = &pod.status else {
        return false;
    };
    status.phase.as_deref() == Some("Running")
        && status
            .conditions
            .iter()
            .flatten()
            .any(|c| c.type_ == "Ready" && c.status == "True")
}

/// `name phase node` of a pod, for messages.
pub fn describe_pod(pod: &Pod) -> String {
    format!(
        "{} {} on {}",
        pod.metadata.name.as_deref().unwrap_or("?"),
        pod.status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .unwrap_or("?"),
        pod.spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .unwrap_or("<none>")
    )
}

/// Waits for an Event in `namespace` about object `involved_name` with `reason` and returns it.
pub async fn event(
    client: &kube::Client,
    namespace: &str,
    involved_name: &str,
    reason: &str,
    timeout: Duration,
) -> Event {
    let events: Api<Event> = Api::namespaced(client.clone(), namespace);
    let what = format!("event {reason} about {namespace}/{involved_name}");
    let selector = format!("involvedObject.name={involved_name}");
    poll_until(timeout, &what, || async {
        let list = events
            .list(&ListParams::default().fields(&selector))
            .await
            .map_err(|e| e.to_string())?;
        let seen: Vec<String> = list.items.iter().filter_map(|e| e.reason.clone()).collect();
        list.items
            .into_iter()
            .find(|e| e.reason.as_deref() == Some(reason))
            .ok_or_else(|| format!("reasons {seen:?}"))
    })
    .await
}

/// Waits until `name` no longer exists in `api`.
pub async fn deleted<K>(api: &Api<K>, name: &str, timeout: Duration)
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    poll_until(timeout, &format!("{name} to be deleted"), || async {
        match api.get_opt(name).await {
            Ok(None) => Ok(()),
            Ok(Some(obj)) => Err(format!(
                "still present (deletionTimestamp {:?}, finalizers {:?})",
                obj.meta().deletion_timestamp,
                obj.meta().finalizers
            )),
            Err(e) => Err(e.to_string()),
        }
    })
    .await
}

/// Waits until node `name` has condition `type_` with `status` (e.g. `Ready`, `Unknown`).
pub async fn node_condition(
    client: &kube::Client,
    name: &str,
    type_: &str,
    status: &str,
    timeout: Duration,
) -> Node {
    let nodes: Api<Node> = Api::all(client.clone());
    poll_until(
        timeout,
        &format!("node {name} condition {type_}={status}"),
        || async {
            let node = get(&nodes, name).await?;
            let conditions = node
                .status
                .as_ref()
                .and_then(|s| s.conditions.clone())
                .unwrap_or_default();
            match conditions.iter().find(|c| c.type_ == type_) {
                Some(c) if c.status == status => Ok(node),
                Some(c) => Err(format!("{type_}={} ({:?})", c.status, c.reason)),
                None => Err(format!("no {type_} condition")),
            }
        },
    )
    .await
}

async fn get<K>(api: &Api<K>, name: &str) -> Result<K, String>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    api.get_opt(name)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "not found".to_string())
}

/// Waits until node `name` carries a taint `key` with `effect` (e.g. `NoExecute`).
pub async fn node_taint(
    client: &kube::Client,
    name: &str,
    key: &str,
    effect: &str,
    timeout: Duration,
) -> Node {
    let nodes: Api<Node> = Api::all(client.clone());
    poll_until(
        timeout,
        &format!("node {name} taint {key}:{effect}"),
        || async {
            let node = get(&nodes, name).await?;
            let taints = node
                .spec
                .as_ref()
                .and_then(|s| s.taints.clone())
                .unwrap_or_default();
            if taints.iter().any(|t| t.key == key && t.effect == effect) {
                Ok(node)
            } else {
                Err(format!("taints {taints:?}"))
            }
        },
    )
    .await
}
