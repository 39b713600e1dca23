//! Finished Jobs with Succeeded pods.

use serde_json::json;

use super::super::meta::{owner, timestamp};
use super::super::pods::Phase;

const JOBS: [&str; 4] = ["backup", "report", "migrate", "reindex"];

impl super::Ctx<'_> {
    pub(super) fn job(&mut self, completions: usize) {
        let (namespace, base) = self.name(&JOBS);
        let created = self.created();
        let name = format!("{base}-{}", 29_000_000 + created / 60);
        let uid = self.rng.uid();
        let mut shape = self.shape();
        shape.demand.impossible_selector = false;
        shape.demand.cpu_millis = shape.demand.cpu_millis.min(2000);
        let image = format!(
            "registry.example.com/{namespace}/{base}:2.{}.0",
            self.rng.below(9)
        );
        let labels = json!({"batch.kubernetes.io/job-name": name, "job-name": name});
        let mut template = self.template(labels.clone(), &base, &image, &shape, false);
        template["spec"]["restartPolicy"] = json!("Never");
        template["spec"]["containers"][0]["ports"] = json!([]);
        let owner_ref = owner("batch/v1", "Job", &name, &uid);
        let mut succeeded = 0;
        for _ in 0..completions {
            let (node, pending) = self.place(&shape.demand, true);
            let pod_name = format!("{name}-{}", self.rng.suffix(5));
            let done = node.is_some();
            self.pod(
                &namespace,
                pod_name,
                &template,
                owner_ref.clone(),
                node,
                pending,
                Phase::Succeeded,
                created + 1,
                vec![],
                None,
            );
            succeeded += usize::from(done);
        }
        let complete = succeeded == completions;
        let finished = timestamp(created + 900);
        let condition = |type_: &str, reason: &str, message: &str| {
            json!({"type": type_, "status": "True", "reason": reason, "message": message,
                   "lastProbeTime": finished, "lastTransitionTime": finished})
        };
        let mut status = json!({"startTime": timestamp(created), "succeeded": succeeded, "ready": 0,
                                "terminating": 0, "uncountedTerminatedPods": {}});
        if complete {
            status["completionTime"] = json!(finished);
            status["conditions"] = json!([
                condition(
                    "SuccessCriteriaMet",
                    "CompletionsReached",
                    "Reached expected number of succeeded pods"
                ),
                condition(
                    "Complete",
                    "CompletionsReached",
                    "Reached expected number of succeeded pods"
                ),
            ]);
        } else {
            status["active"] = json!(completions - succeeded);
        }
        self.out.controllers.push(json!({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": name, "namespace": namespace, "uid": uid, "generation": 1,
                         "creationTimestamp": timestamp(created), "labels": labels},
            "spec": {
                "completions": completions,
                "parallelism": completions,
                "backoffLimit": 6,
                "completionMode": "NonIndexed",
                "manualSelector": true,
                "selector": {"matchLabels": {"batch.kubernetes.io/job-name": name}},
                "suspend": false,
                "podReplacementPolicy": "TerminatingOrFailed",
                "template": template,
            },
            "status": status,
        }));
    }
}
