//! Deployments with their current (and sometimes an old) ReplicaSet and pods.

use serde_json::{Value, json};

use super::super::meta::{owner, timestamp};
use super::super::pods::Phase;
use super::Backend;

const APPS: [&str; 20] = [
    "api",
    "web",
    "worker",
    "cache",
    "auth",
    "billing",
    "gateway",
    "ingest",
    "notifier",
    "reports",
    "catalog",
    "orders",
    "inventory",
    "profile",
    "frontend",
    "analytics",
    "scheduler",
    "indexer",
    "exporter",
    "sync",
];

impl super::Ctx<'_> {
    pub(super) fn deployment(&mut self, replicas: usize) {
        let (namespace, name) = self.name(&APPS);
        let created = self.created();
        let uid = self.rng.uid();
        let shape = self.shape();
        let anti = self.rng.chance(0.2);
        let version = format!("1.{}.{}", self.rng.below(30), self.rng.below(10));
        let image = format!("registry.example.com/{namespace}/{name}:{version}");
        let labels = json!({"app": name});
        let template = self.template(labels.clone(), &name, &image, &shape, anti);
        let old = self.rng.chance(0.3);
        let revision = if old { 2 } else { 1 };
        let dep_owner = owner("apps/v1", "Deployment", &name, &uid);
        if old {
            let mut old_template = template.clone();
            old_template["spec"]["containers"][0]["image"] =
                json!(format!("registry.example.com/{namespace}/{name}:1.0.0"));
            let (rs, _) = self.replicaset(
                &namespace,
                &name,
                &old_template,
                0,
                0,
                1,
                replicas,
                dep_owner.clone(),
                created,
            );
            self.out.controllers.push(rs);
        }
        let rs_created = created + if old { 3600 } else { 0 };
        let (mut rs, rs_name) = self.replicaset(
            &namespace, &name, &template, replicas, 0, revision, replicas, dep_owner, rs_created,
        );
        let hash = rs["metadata"]["labels"]["pod-template-hash"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let rs_uid = rs["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let rs_owner = owner("apps/v1", "ReplicaSet", &rs_name, &rs_uid);
        let mut endpoints = Vec::new();
        for _ in 0..replicas {
            let (node, pending) = self.place(&shape.demand, false);
            let pod_name = format!("{rs_name}-{}", self.rng.suffix(5));
            let extra = vec![("pod-template-hash".to_string(), hash.clone())];
            if let Some(e) = self.pod(
                &namespace,
                pod_name,
                &template,
                rs_owner.clone(),
                node,
                pending,
                Phase::Running,
                rs_created + 1,
                extra,
                None,
            ) {
                endpoints.push(e);
            }
        }
        let ready = endpoints.iter().filter(|e| e.ready).count();
        rs["status"] = json!({"replicas": replicas, "fullyLabeledReplicas": replicas, "readyReplicas": ready,
                               "availableReplicas": ready, "observedGeneration": 1});
        self.out.controllers.push(rs);
        let available = ready == replicas;
        let at = timestamp(rs_created + 60);
        let condition = |type_: &str, status: bool, reason: &str, message: String| {
            json!({"type": type_, "status": if status { "True" } else { "False" }, "reason": reason,
                   "message": message, "lastUpdateTime": at, "lastTransitionTime": at})
        };
        let mut status = json!({
            "observedGeneration": revision, "replicas": replicas, "updatedReplicas": replicas,
            "readyReplicas": ready, "availableReplicas": ready,
            "conditions": [
                if available {
                    condition("Available", true, "MinimumReplicasAvailable", "Deployment has minimum availability.".into())
                } else {
                    condition("Available", false, "MinimumReplicasUnavailable", "Deployment does not have minimum availability.".into())
                },
                condition("Progressing", true, "NewReplicaSetAvailable", format!("ReplicaSet \"{rs_name}\" has successfully progressed.")),
            ],
        });
        if ready < replicas {
            status["unavailableReplicas"] = json!(replicas - ready);
        }
        self.out.controllers.push(json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "uid": uid, "generation": revision,
                         "creationTimestamp": timestamp(created), "labels": labels,
                         "annotations": {"deployment.kubernetes.io/revision": revision.to_string()}},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": labels},
                "template": template,
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                "revisionHistoryLimit": 10,
                "progressDeadlineSeconds": 600,
            },
            "status": status,
        }));
        self.out.backends.push(Backend {
            namespace,
            app: name,
            kind: "Deployment",
            replicas,
            endpoints,
            created,
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn replicaset(
        &mut self,
        namespace: &str,
        deployment: &str,
        template: &Value,
        replicas: usize,
        ready: usize,
        revision: i64,
        desired: usize,
        owner_ref: Value,
        created: i64,
    ) -> (Value, String) {
        let hash = self.rng.suffix(10);
        let name = format!("{deployment}-{hash}");
        let mut template = template.clone();
        template["metadata"]["labels"]["pod-template-hash"] = json!(hash);
        let labels = template["metadata"]["labels"].clone();
        let max_surge = desired + desired.div_ceil(4);
        let rs = json!({
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": namespace, "uid": self.rng.uid(), "generation": 1,
                         "creationTimestamp": timestamp(created), "labels": labels,
                         "annotations": {"deployment.kubernetes.io/desired-replicas": desired.to_string(),
                                         "deployment.kubernetes.io/max-replicas": max_surge.to_string(),
                                         "deployment.kubernetes.io/revision": revision.to_string()},
                         "ownerReferences": [owner_ref]},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": template},
            "status": {"replicas": replicas, "readyReplicas": ready, "availableReplicas": ready, "observedGeneration": 1},
        });
        (rs, name)
    }
}
