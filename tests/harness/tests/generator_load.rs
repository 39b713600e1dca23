//! The synthetic cluster generator's output loads into the real control plane and stays as
//! generated: controllers adopt the pods instead of creating or deleting any.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::ListParams;
use kube_runbooks_harness::generator::generate;
use kube_runbooks_harness::{ControlPlane, poll_until};
use serde_json::Value;

fn phases(pods: impl Iterator<Item = Option<String>>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for phase in pods {
        *counts.entry(phase.unwrap_or_default()).or_insert(0) += 1;
    }
    counts
}

#[tokio::test]
async fn generated_cluster_loads_and_settles_as_generated() {
    let cp = ControlPlane::shared().await;
    let items = generate(8, 150, 5);
    let report = cp.load_cluster(&items).await;
    eprintln!("loaded {:?} in {:?}", report.created, report.elapsed);
    assert_eq!(
        report.skipped.get("EndpointSlice").copied().unwrap_or(0),
        items
            .iter()
            .filter(|i| i["kind"] == "EndpointSlice")
            .count()
    );

    let generated: Vec<&Value> = items.iter().filter(|i| i["kind"] == "Pod").collect();
    let expected = phases(
        generated
            .iter()
            .map(|p| p["status"]["phase"].as_str().map(String::from)),
    );
    let namespaces: Vec<String> = items
        .iter()
        .filter(|i| i["kind"] == "Namespace")
        .filter_map(|i| i["metadata"]["name"].as_str().map(String::from))
        .collect();
    let pods: Api<Pod> = Api::all(cp.client());
    poll_until(
        Duration::from_secs(120),
        "pods to reach their generated phases",
        || async {
            let list = pods
                .list(&ListParams::default())
                .await
                .map_err(|e| e.to_string())?;
            let ours: Vec<&Pod> = list
                .items
                .iter()
                .filter(|p| {
                    let ns = p.metadata.namespace.as_deref().unwrap_or_default();
                    namespaces.iter().any(|n| n == ns)
                        || (ns == "kube-system"
                            && p.metadata
                                .name
                                .as_deref()
                                .is_some_and(|n| n.starts_with("log-agent-")))
                })
                .collect();
            let seen = phases(
                ours.iter()
                    .map(|p| p.status.as_ref().and_then(|s| s.phase.clone())),
            );
            if seen == expected {
                Ok(())
            } else {
                Err(format!("{seen:?}, expected {expected:?}"))
            }
        },
    )
    .await;

    for namespace in &namespaces {
        let deployments: Api<Deployment> = Api::namespaced(cp.client(), namespace);
        for d in deployments
            .list(&ListParams::default())
            .await
            .expect("list deployments")
        {
            let name = d.metadata.name.clone().unwrap_or_default();
            let generated = items
                .iter()
                .find(|i| {
                    i["kind"] == "Deployment"
                        && i["metadata"]["name"] == name.as_str()
                        && i["metadata"]["namespace"] == namespace.as_str()
                })
                .expect("generated deployment");
            let want_ready = generated["status"]["readyReplicas"].as_i64().unwrap_or(0) as i32;
            let api = deployments.clone();
            poll_until(
                Duration::from_secs(60),
                &format!("deployment {namespace}/{name} status"),
                || async {
                    let d = api.get(&name).await.map_err(|e| e.to_string())?;
                    let status = d.status.unwrap_or_default();
                    let ready = status.ready_replicas.unwrap_or(0);
                    if ready == want_ready && status.replicas == Some(d.spec.replicas.unwrap_or(1))
                    {
                        Ok(())
                    } else {
                        Err(format!("{status:?}"))
                    }
                },
            )
            .await;
        }
        let jobs: Api<Job> = Api::namespaced(cp.client(), namespace);
        for job in jobs.list(&ListParams::default()).await.expect("list jobs") {
            let name = job.metadata.name.clone().unwrap_or_default();
            let api = jobs.clone();
            poll_until(
                Duration::from_secs(60),
                &format!("job {namespace}/{name} counts its pods"),
                || async {
                    let j = api.get(&name).await.map_err(|e| e.to_string())?;
                    let completions = j.spec.and_then(|s| s.completions).unwrap_or(1);
                    let status = j.status.unwrap_or_default();
                    let counted = status.succeeded.unwrap_or(0) + status.active.unwrap_or(0);
                    if counted == completions {
                        Ok(())
                    } else {
                        Err(format!("{status:?}"))
                    }
                },
            )
            .await;
        }
    }
    // Nothing was added or removed by a controller once settled.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let list = pods.list(&ListParams::default()).await.expect("list pods");
    let ours: BTreeMap<(String, String), &Pod> = list
        .items
        .iter()
        .filter(|p| {
            namespaces
                .iter()
                .any(|n| Some(n.as_str()) == p.metadata.namespace.as_deref())
        })
        .map(|p| (key(&p.metadata.namespace, &p.metadata.name), p))
        .collect();
    let generated_ours: Vec<(String, String)> = generated
        .iter()
        .filter(|p| {
            namespaces
                .iter()
                .any(|n| p["metadata"]["namespace"] == n.as_str())
        })
        .map(|p| {
            let text = |field: &str| p["metadata"][field].as_str().map(String::from);
            key(&text("namespace"), &text("name"))
        })
        .collect();
    let added: Vec<String> = ours
        .iter()
        .filter(|(k, _)| !generated_ours.contains(k))
        .map(|((ns, name), pod)| describe(ns, name, pod))
        .collect();
    let removed: Vec<&(String, String)> = generated_ours
        .iter()
        .filter(|k| !ours.contains_key(*k))
        .collect();
    assert!(
        added.is_empty() && removed.is_empty(),
        "controllers changed the generated pods once settled: added {added:#?}, removed {removed:?}"
    );
}

fn key(namespace: &Option<String>, name: &Option<String>) -> (String, String) {
    (
        namespace.clone().unwrap_or_default(),
        name.clone().unwrap_or_default(),
    )
}

/// `ns/name` with its controller, phase and node, to tell which controller added it.
fn describe(namespace: &str, name: &str, pod: &Pod) -> String {
    let owner = pod
        .metadata
        .owner_references
        .iter()
        .flatten()
        .map(|o| format!("{}/{}", o.kind, o.name))
        .collect::<Vec<_>>()
        .join(",");
    let phase = pod.status.as_ref().and_then(|s| s.phase.clone());
    let node = pod.spec.as_ref().and_then(|s| s.node_name.clone());
    format!("{namespace}/{name} owned by [{owner}], phase {phase:?}, node {node:?}")
}
