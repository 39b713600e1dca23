//! StatefulSets with ordinal pods (OrderedReady: none after a Pending one).

use serde_json::json;

use super::super::meta::{owner, timestamp};
use super::super::pods::Phase;
use super::Backend;

const STATEFUL: [&str; 8] = [
    "postgres",
    "redis",
    "kafka",
    "zookeeper",
    "elasticsearch",
    "rabbitmq",
    "mongodb",
    "etcd",
];

impl super::Ctx<'_> {
    pub(super) fn statefulset(&mut self, replicas: usize) {
        let (namespace, name) = self.name(&STATEFUL);
        let created = self.created();
        let uid = self.rng.uid();
        let mut shape = self.shape();
        shape.demand.impossible_selector &= self.rng.chance(0.5);
        let image = format!(
            "registry.example.com/{namespace}/{name}:{}.{}",
            1 + self.rng.below(16),
            self.rng.below(10)
        );
        let labels = json!({"app": name});
        let template = self.template(labels.clone(), &name, &image, &shape, true);
        let revision = format!("{name}-{}", self.rng.suffix(10));
        let owner_ref = owner("apps/v1", "StatefulSet", &name, &uid);
        let mut endpoints = Vec::new();
        let mut existing = 0;
        for ordinal in 0..replicas {
            let (node, pending) = self.place(&shape.demand, false);
            let pod_name = format!("{name}-{ordinal}");
            let extra = vec![
                ("controller-revision-hash".to_string(), revision.clone()),
                (
                    "statefulset.kubernetes.io/pod-name".to_string(),
                    pod_name.clone(),
                ),
                (
                    "apps.kubernetes.io/pod-index".to_string(),
                    ordinal.to_string(),
                ),
            ];
            let stuck = node.is_none();
            let host = Some((pod_name.clone(), name.clone()));
            if let Some(e) = self.pod(
                &namespace,
                pod_name,
                &template,
                owner_ref.clone(),
                node,
                pending,
                Phase::Running,
                created + 1 + ordinal as i64 * 30,
                extra,
                host,
            ) {
                endpoints.push(e);
            }
            existing += 1;
            // OrderedReady: no later ordinal exists while one is Pending.
            if stuck {
                break;
            }
        }
        let ready = endpoints.iter().filter(|e| e.ready).count();
        self.out.controllers.push(json!({
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": name, "namespace": namespace, "uid": uid, "generation": 1,
                         "creationTimestamp": timestamp(created), "labels": labels},
            "spec": {
                "replicas": replicas,
                "serviceName": name,
                "selector": {"matchLabels": labels},
                "template": template,
                "podManagementPolicy": "OrderedReady",
                "updateStrategy": {"type": "OnDelete"},
                "revisionHistoryLimit": 10,
                "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
            },
            "status": {"replicas": existing, "readyReplicas": ready, "currentReplicas": existing,
                       "updatedReplicas": existing, "availableReplicas": ready, "currentRevision": revision,
                       "updateRevision": revision, "collisionCount": 0, "observedGeneration": 1},
        }));
        self.out.backends.push(Backend {
            namespace,
            app: name,
            kind: "StatefulSet",
            replicas,
            endpoints,
            created,
        });
    }
}
