//! Waiting: until an evicted pod is gone from the node (by UID: a pod recreated with the same
//! name is not the one evicted), and until a workload is Ready again elsewhere.

use std::{collections::HashSet, time::Duration};

use k8s_openapi::api::{
    apps::v1::{Deployment, ReplicaSet, StatefulSet},
    core::v1::{Pod, ReplicationController},
};
use kube::{Api, Client, api::ListParams};
use kube_runbook::report::ObjectRef;
use tokio::{sync::watch, task::JoinHandle};

/// How often the node's pods and workloads are read.
const POLL: Duration = Duration::from_secs(1);

/// The UIDs of the pods on a node, read every second by one task for every waiter.
pub struct Presence {
    uids: watch::Receiver<Option<HashSet<String>>>,
    task: JoinHandle<()>,
}

impl Presence {
    /// Starts polling the pods of `node` (fieldSelector `spec.nodeName`).
    pub fn watch(client: Client, node: &str) -> Presence {
        let (sender, uids) = watch::channel(None);
        let pods: Api<Pod> = Api::all(client);
        let params = ListParams::default().fields(&format!("spec.nodeName={node}"));
        let task = tokio::spawn(async move {
            loop {
                if let Ok(list) = pods.list_metadata(&params).await {
                    let present = list
                        .items
                        .into_iter()
                        .filter_map(|p| p.metadata.uid)
                        .collect();
                    if sender.send(Some(present)).is_err() {
                        return;
                    }
                }
                tokio::time::sleep(POLL).await;
            }
        });
        Presence { uids, task }
    }

    /// Resolves once no pod with `uid` is on the node.
    pub async fn gone(&self, uid: &str) {
        let mut uids = self.uids.clone();
        let _ = uids
            .wait_for(|present| present.as_ref().is_some_and(|p| !p.contains(uid)))
            .await;
    }
}

impl Drop for Presence {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Waits until `workload` has at least `target` ready replicas (capped by its current
/// spec.replicas); returns false for kinds without a ready count (nothing to wait for).
pub async fn ready_again(
    client: &Client,
    workload: &ObjectRef,
    target: usize,
) -> Result<bool, kube::Error> {
    let namespace = workload.namespace.as_deref().unwrap_or_default();
    loop {
        let (ready, desired) = match workload.kind.as_str() {
            "Deployment" => {
                let d = Api::<Deployment>::namespaced(client.clone(), namespace)
                    .get(&workload.name)
                    .await?;
                (d.status.and_then(|s| s.ready_replicas), d.spec.replicas)
            }
            "StatefulSet" => {
                let s = Api::<StatefulSet>::namespaced(client.clone(), namespace)
                    .get(&workload.name)
                    .await?;
                (s.status.and_then(|s| s.ready_replicas), s.spec.replicas)
            }
            "ReplicaSet" => {
                let r = Api::<ReplicaSet>::namespaced(client.clone(), namespace)
                    .get(&workload.name)
                    .await?;
                (r.status.and_then(|s| s.ready_replicas), r.spec.replicas)
            }
            "ReplicationController" => {
                let r = Api::<ReplicationController>::namespaced(client.clone(), namespace)
                    .get(&workload.name)
                    .await?;
                (
                    r.status.and_then(|s| s.ready_replicas),
                    r.spec.and_then(|s| s.replicas),
                )
            }
            _ => return Ok(false),
        };
        let wanted = desired.map_or(target, |d| target.min(usize::try_from(d).unwrap_or(0)));
        if usize::try_from(ready.unwrap_or(0)).unwrap_or(0) >= wanted {
            return Ok(true);
        }
        tokio::time::sleep(POLL).await;
    }
}
