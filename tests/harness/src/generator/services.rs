//! Services (with the EndpointSlices the endpointslice controller would write) and
//! PodDisruptionBudgets (with the disruption controller's status) for generated workloads.

use serde_json::{Value, json};

use super::meta::{owner, timestamp};
use super::rng::Rng;
use super::workloads::Backend;

/// `count` Services: one per backend first (headless for StatefulSets), then Services whose
/// selector matches nothing (a common real-world mistake). Returns Services and EndpointSlices.
pub fn services(
    backends: &[Backend],
    count: usize,
    namespaces: &[String],
    rng: &mut Rng,
) -> Vec<Value> {
    let mut out = Vec::new();
    for i in 0..count {
        let (namespace, name, selector, backend) = match backends.get(i) {
            Some(b) => (b.namespace.clone(), b.app.clone(), b.app.clone(), Some(b)),
            None => {
                let namespace =
                    namespaces[rng.below(namespaces.len().saturating_sub(1).max(1))].clone();
                (
                    namespace,
                    format!("legacy-{i}"),
                    format!("legacy-{i}-app"),
                    None,
                )
            }
        };
        let headless = backend.is_some_and(|b| b.kind == "StatefulSet");
        let uid = rng.uid();
        let created = backend.map_or(0, |b| b.created);
        let cluster_ip = if headless {
            "None".to_string()
        } else {
            format!("10.96.{}.{}", 1 + i / 250 % 254, 2 + i % 250)
        };
        out.push(json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": namespace, "uid": uid,
                         "creationTimestamp": timestamp(created), "labels": {"app": selector}},
            "spec": {
                "type": "ClusterIP",
                "clusterIP": cluster_ip,
                "clusterIPs": [cluster_ip],
                "ipFamilies": ["IPv4"],
                "ipFamilyPolicy": "SingleStack",
                "internalTrafficPolicy": "Cluster",
                "sessionAffinity": "None",
                "selector": {"app": selector},
                "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
            },
            "status": {"loadBalancer": {}},
        }));
        let endpoints: Vec<_> = backend.map(|b| b.endpoints.clone()).unwrap_or_default();
        let chunks: Vec<&[_]> = if endpoints.is_empty() {
            vec![&[]]
        } else {
            endpoints.chunks(100).collect()
        };
        for chunk in chunks {
            let slice = format!("{name}-{}", rng.suffix(5));
            let items: Vec<Value> = chunk
                .iter()
                .map(|e| json!({
                    "addresses": [e.ip],
                    "conditions": {"ready": e.ready, "serving": e.ready, "terminating": false},
                    "nodeName": e.node,
                    "zone": e.zone,
                    "targetRef": {"kind": "Pod", "name": e.pod, "namespace": namespace, "uid": e.uid},
                }))
                .collect();
            out.push(json!({
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {
                    "name": slice, "namespace": namespace, "uid": rng.uid(),
                    "creationTimestamp": timestamp(created + 1),
                    "generateName": format!("{name}-"),
                    "labels": {"kubernetes.io/service-name": name,
                               "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"},
                    "ownerReferences": [owner("v1", "Service", &name, &uid)],
                },
                "addressType": "IPv4",
                "endpoints": items,
                "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            }));
        }
    }
    out
}

/// PDBs for about 40% of the multi-replica backends, with the disruption controller's status.
/// A few use `maxUnavailable: 0`, which blocks every voluntary eviction.
pub fn pdbs(backends: &[Backend], rng: &mut Rng) -> Vec<Value> {
    let mut out = Vec::new();
    for b in backends.iter().filter(|b| b.replicas >= 2) {
        if !rng.chance(0.4) {
            continue;
        }
        let expected = b.replicas as i64;
        let healthy = b.endpoints.iter().filter(|e| e.ready).count() as i64;
        let (field, value, desired) = match rng.below(10) {
            0 => ("maxUnavailable", json!(0), expected),
            1..=4 => ("minAvailable", json!("50%"), (expected + 1) / 2),
            5..=7 => ("maxUnavailable", json!(1), expected - 1),
            _ => ("minAvailable", json!(1), 1),
        };
        let allowed = (healthy - desired).max(0);
        let at = timestamp(b.created + 120);
        let (status, reason, message) = if allowed > 0 {
            ("True", "SufficientPods", "")
        } else {
            ("False", "InsufficientPods", "")
        };
        out.push(json!({
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": b.app, "namespace": b.namespace, "uid": rng.uid(), "generation": 1,
                         "creationTimestamp": timestamp(b.created)},
            "spec": {field: value, "selector": {"matchLabels": {"app": b.app}}},
            "status": {
                "observedGeneration": 1, "expectedPods": expected, "currentHealthy": healthy,
                "desiredHealthy": desired, "disruptionsAllowed": allowed,
                "conditions": [{"type": "DisruptionAllowed", "status": status, "reason": reason,
                                "message": message, "observedGeneration": 1, "lastTransitionTime": at}],
            },
        }));
    }
    out
}
