//! Waiting until each scenario shows what its plugin explains: the scheduler and the controllers
//! have acted on what was created.

use std::future::Future;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::ListParams;
use kube::{Api, Client, ResourceExt};
use kube_runbooks_harness::{ControlPlane, poll_until};

use crate::scenarios::Scenario;

/// Generous: the first scenarios settle while the controllers still start their informers.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(120);
const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

impl Scenario {
    /// Waits until the cluster shows what this scenario's plugin explains; panics after
    /// `SETTLE_TIMEOUT` naming the condition and what was last seen.
    pub async fn settle(&self, cp: &ControlPlane) {
        let client = cp.client();
        let ns = self.namespace();
        match self.plugin() {
            Some("why-pending") => {
                self.wait(
                    "the scheduler's FailedScheduling event for every pod",
                    || every_pod_failed_scheduling(&client, ns),
                )
                .await;
            }
            Some("svc-check") => {
                self.wait("every Deployment ready", || deployments_ready(&client, ns))
                    .await;
                self.wait("an EndpointSlice for every Service", || {
                    services_have_slices(&client, ns)
                })
                .await;
            }
            Some("safe-drain") => {
                self.wait("every Deployment ready", || deployments_ready(&client, ns))
                    .await;
                self.wait(
                    "the disruption controller's status of every PodDisruptionBudget",
                    || budgets_observed(&client, ns),
                )
                .await;
                let node = self
                    .wait("a pod on a node", || first_pods_node(&client, ns))
                    .await;
                self.drain_node.set(node).ok();
            }
            Some("unstick") => {
                let objects = self.custom_objects();
                self.wait("every deleted object Terminating", || {
                    terminating(cp, ns, &objects)
                })
                .await;
            }
            _ => {}
        }
    }

    async fn wait<T, F, Fut>(&self, condition: &str, check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, String>>,
    {
        let what = format!(
            "{condition} in {} (namespace {})",
            self.file,
            self.namespace()
        );
        poll_until(SETTLE_TIMEOUT, &what, check).await
    }
}

async fn list<K>(client: &Client, ns: &str, params: &ListParams) -> Result<Vec<K>, String>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    Api::<K>::namespaced(client.clone(), ns)
        .list(params)
        .await
        .map(|l| l.items)
        .map_err(|e| e.to_string())
}

/// `Err` joining what `unsettled` says of each object not yet as wanted, `Ok` when none is.
fn all_settled<K>(objects: &[K], unsettled: impl Fn(&K) -> Option<String>) -> Result<(), String> {
    let pending: Vec<String> = objects.iter().filter_map(unsettled).collect();
    if pending.is_empty() {
        Ok(())
    } else {
        Err(pending.join("; "))
    }
}

async fn every_pod_failed_scheduling(client: &Client, ns: &str) -> Result<(), String> {
    let pods: Vec<Pod> = list(client, ns, &ListParams::default()).await?;
    if pods.is_empty() {
        return Err("no pod yet".into());
    }
    let events: Vec<Event> = list(
        client,
        ns,
        &ListParams::default().fields("reason=FailedScheduling"),
    )
    .await?;
    all_settled(&pods, |pod| {
        let name = pod.name_any();
        let about = |e: &Event| e.involved_object.name.as_ref() == Some(&name);
        (!events.iter().any(about)).then(|| format!("no event yet about pod {name}"))
    })
}

async fn deployments_ready(client: &Client, ns: &str) -> Result<(), String> {
    let deployments: Vec<Deployment> = list(client, ns, &ListParams::default()).await?;
    all_settled(&deployments, |d| {
        let wanted = d.spec.replicas.unwrap_or(1);
        let ready = d.status.as_ref().and_then(|s| s.ready_replicas);
        let ready = ready.unwrap_or(0);
        (ready != wanted).then(|| format!("{}: {ready} of {wanted} ready", d.name_any()))
    })
}

async fn services_have_slices(client: &Client, ns: &str) -> Result<(), String> {
    let services: Vec<Service> = list(client, ns, &ListParams::default()).await?;
    let slices: Vec<EndpointSlice> = list(client, ns, &ListParams::default()).await?;
    all_settled(&services, |service| {
        let name = service.name_any();
        let of_service = |s: &EndpointSlice| s.labels().get(SERVICE_NAME_LABEL) == Some(&name);
        (!slices.iter().any(of_service)).then(|| format!("no EndpointSlice yet for {name}"))
    })
}

async fn budgets_observed(client: &Client, ns: &str) -> Result<(), String> {
    let budgets: Vec<PodDisruptionBudget> = list(client, ns, &ListParams::default()).await?;
    all_settled(&budgets, |b| {
        let status = b.status.as_ref();
        let observed = status.and_then(|s| s.observed_generation) == b.metadata.generation;
        let expected = status.and_then(|s| s.expected_pods).unwrap_or(0);
        let healthy = status.and_then(|s| s.current_healthy).unwrap_or(0);
        let name = b.name_any();
        (!observed || expected == 0 || healthy != expected).then(|| {
            format!("{name}: observed {observed}, {healthy} healthy of {expected} expected")
        })
    })
}

/// The node of the namespace's first pod by name.
async fn first_pods_node(client: &Client, ns: &str) -> Result<String, String> {
    let mut pods: Vec<Pod> = list(client, ns, &ListParams::default()).await?;
    pods.sort_by_key(|p| p.name_any());
    pods.iter()
        .find_map(|p| p.spec.as_ref()?.node_name.clone())
        .ok_or_else(|| "no pod bound to a node".into())
}

async fn terminating(cp: &ControlPlane, ns: &str, objects: &[String]) -> Result<(), String> {
    let mut seen = Vec::new();
    for object in objects {
        let jsonpath = "-o=jsonpath={.metadata.deletionTimestamp}";
        seen.push((
            object,
            cp.kubectl(&["get", object, "-n", ns, jsonpath]).await,
        ));
    }
    all_settled(&seen, |(object, out)| {
        (!out.success() || out.stdout.trim().is_empty())
            .then(|| format!("{object} not Terminating: {out}"))
    })
}
