//! DaemonSets: one pod per node, tolerating every taint.

use serde_json::json;

use super::super::meta::{owner, timestamp};
use super::super::placement::Demand;
use super::super::pods::Phase;
use super::{MI, Shape};

impl super::Ctx<'_> {
    pub(super) fn daemonset(&mut self, namespace: &str, name: &str) -> usize {
        let created = 0;
        let uid = self.rng.uid();
        let hash = self.rng.suffix(10);
        let labels = json!({"app": name});
        let shape = Shape {
            demand: Demand {
                cpu_millis: 100,
                memory_bytes: 128 * MI,
                tolerates_all: true,
                ..Demand::default()
            },
            limits: true,
        };
        let image = format!("registry.example.com/infra/{name}:1.9.1");
        let mut template = self.template(labels.clone(), name, &image, &shape, false);
        template["spec"]["tolerations"] = json!([{"operator": "Exists"}]);
        let owner_ref = owner("apps/v1", "DaemonSet", name, &uid);
        let mut count = 0;
        for i in 0..self.nodes.len() {
            let demand = Demand {
                node: Some(i),
                ..shape.demand.clone()
            };
            let (node, pending) = self.place(&demand, false);
            if node.is_none() {
                continue;
            }
            let mut pod_template = template.clone();
            pod_template["spec"]["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [self.nodes[i].name]}]}],
            }}});
            let pod_name = format!("{name}-{}", self.rng.suffix(5));
            let extra = vec![
                ("controller-revision-hash".to_string(), hash.clone()),
                ("pod-template-generation".to_string(), "1".to_string()),
            ];
            self.pod(
                namespace,
                pod_name,
                &pod_template,
                owner_ref.clone(),
                node,
                pending,
                Phase::Running,
                created + 5,
                extra,
                None,
            );
            count += 1;
        }
        let n = count as i64;
        self.out.controllers.push(json!({
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": name, "namespace": namespace, "uid": uid, "generation": 1,
                         "creationTimestamp": timestamp(created), "labels": labels},
            "spec": {
                "selector": {"matchLabels": labels},
                "template": template,
                "updateStrategy": {"type": "OnDelete"},
                "revisionHistoryLimit": 10,
            },
            "status": {"currentNumberScheduled": n, "desiredNumberScheduled": n, "numberAvailable": n,
                       "numberMisscheduled": 0, "numberReady": n, "updatedNumberScheduled": n, "observedGeneration": 1},
        }));
        count
    }
}
