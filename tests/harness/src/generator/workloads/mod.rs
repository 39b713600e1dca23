//! Workloads (Deployments with their ReplicaSets, StatefulSets, DaemonSets, Jobs) and the pods
//! they own, placed onto the generated nodes.

use serde_json::{Value, json};

use super::meta;
use super::nodes::{GPU_TAINT, NodeState};
use super::placement::{self, Demand};
use super::pods::{Phase, PodPlan, pod_object};
use super::rng::Rng;

const MI: u64 = 1 << 20;
const TEAMS: [&str; 10] = [
    "payments", "search", "checkout", "identity", "media", "platform", "data", "growth", "ml",
    "ops",
];
/// One ready-or-not pod behind a Service.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub pod: String,
    pub uid: String,
    pub ip: String,
    pub node: String,
    pub zone: String,
    pub ready: bool,
}

/// A Deployment or StatefulSet that Services and PDBs can select (by label `app`).
#[derive(Debug, Clone)]
pub struct Backend {
    pub namespace: String,
    pub app: String,
    pub kind: &'static str,
    pub replicas: usize,
    pub endpoints: Vec<Endpoint>,
    pub created: i64,
}

/// Everything the workload step produced.
#[derive(Default)]
pub struct Workloads {
    pub namespaces: Vec<String>,
    pub controllers: Vec<Value>,
    pub pods: Vec<Value>,
    pub backends: Vec<Backend>,
}

/// A pod shape plus the scheduling constraints it was generated with.
struct Shape {
    demand: Demand,
    limits: bool,
}

/// Generates `pods` pods in workloads over `nodes` (whose usage is booked as pods are placed).
pub fn generate(nodes: &mut [NodeState], pods: usize, rng: &mut Rng) -> Workloads {
    let mut out = Workloads::default();
    let teams = (pods / 150).clamp(2, TEAMS.len());
    out.namespaces = TEAMS[..teams].iter().map(|t| t.to_string()).collect();
    out.namespaces.push("monitoring".into());
    // Size requests so the average pod takes ~70% of its fair share: most pods fit, some
    // fragmentation leaves a few Pending.
    let share = |total: u64| total as f64 * 0.7 / pods.max(1) as f64;
    let cpu_share = share(nodes.iter().map(|n| n.cpu_millis).sum());
    let memory_share = share(nodes.iter().map(|n| n.memory_bytes).sum());
    let mut ctx = Ctx {
        nodes,
        rng,
        out,
        names: Default::default(),
        cpu_share,
        memory_share,
    };

    let daemonsets = match pods / ctx.nodes.len().max(1) {
        n if n >= 8 => 2,
        n if n >= 4 => 1,
        _ => 0,
    };
    let mut left = pods;
    for (namespace, name) in [
        ("monitoring", "node-exporter"),
        ("kube-system", "log-agent"),
    ]
    .iter()
    .take(daemonsets)
    {
        left -= ctx.daemonset(namespace, name).min(left);
    }
    let jobs = left * 5 / 100;
    let stateful = left * 10 / 100;
    let mut deploy = left - jobs - stateful;
    let mut stateful_left = stateful;
    while stateful_left > 0 {
        let replicas = (*ctx.rng.pick(&[1, 3, 3, 5])).min(stateful_left);
        ctx.statefulset(replicas);
        stateful_left -= replicas;
    }
    while deploy > 0 {
        let replicas = (*ctx.rng.pick(&[1, 2, 2, 3, 3, 3, 4, 5, 6, 8, 10, 12, 20])).min(deploy);
        ctx.deployment(replicas);
        deploy -= replicas;
    }
    let mut jobs_left = jobs;
    while jobs_left > 0 {
        let completions = (*ctx.rng.pick(&[1, 1, 2, 3, 5])).min(jobs_left);
        ctx.job(completions);
        jobs_left -= completions;
    }
    ctx.out
}

struct Ctx<'a> {
    nodes: &'a mut [NodeState],
    rng: &'a mut Rng,
    out: Workloads,
    names: std::collections::BTreeMap<(String, String), usize>,
    cpu_share: f64,
    memory_share: f64,
}

impl Ctx<'_> {
    /// A team namespace and a name unique in it, e.g. `orders` then `orders-2`.
    fn name(&mut self, words: &[&str]) -> (String, String) {
        let teams = self.out.namespaces.len() - 1;
        let namespace = self.out.namespaces[self.rng.below(teams)].clone();
        let base = self.rng.pick(words).to_string();
        let n = self
            .names
            .entry((namespace.clone(), base.clone()))
            .or_insert(0);
        *n += 1;
        let name = if *n == 1 { base } else { format!("{base}-{n}") };
        (namespace, name)
    }

    fn created(&mut self) -> i64 {
        self.rng.below(3 * 86_400) as i64
    }

    fn shape(&mut self) -> Shape {
        const SPREAD: [f64; 8] = [0.25, 0.5, 0.5, 1.0, 1.0, 1.0, 1.5, 2.0];
        let cpu = (self.cpu_share * self.rng.pick(&SPREAD) / 10.0).round() as u64 * 10;
        let cpu = cpu.clamp(10, 4000);
        let memory = (self.memory_share * self.rng.pick(&SPREAD) / MI as f64).round() as u64;
        let memory = memory.clamp(16, 16 * 1024) * MI;
        let mut demand = Demand {
            cpu_millis: cpu,
            memory_bytes: memory,
            ..Demand::default()
        };
        let roll = self.rng.below(100);
        match roll {
            0..=2 => {
                demand.pool = Some("gpu");
                demand.gpus = 1;
                demand.tolerates_gpu = true;
            }
            3..=4 => demand.impossible_selector = true,
            5 => demand.cpu_millis = 48_000,
            6..=10 => demand.pool = Some("highmem"),
            11..=13 => demand.pool = Some("compute"),
            _ => {}
        }
        Shape {
            demand,
            limits: self.rng.chance(0.6),
        }
    }

    fn template(
        &mut self,
        labels: Value,
        app: &str,
        image: &str,
        shape: &Shape,
        anti_affinity: bool,
    ) -> Value {
        let d = &shape.demand;
        let mut requests =
            json!({"cpu": meta::cpu(d.cpu_millis), "memory": meta::memory(d.memory_bytes)});
        if d.gpus > 0 {
            requests[GPU_TAINT] = json!(d.gpus.to_string());
        }
        let mut resources = json!({"requests": requests});
        if shape.limits || d.gpus > 0 {
            let mut limits = json!({"memory": meta::memory(d.memory_bytes)});
            if self.rng.chance(0.5) {
                limits["cpu"] = json!(meta::cpu(d.cpu_millis * 2));
            }
            if d.gpus > 0 {
                limits[GPU_TAINT] = json!(d.gpus.to_string());
            }
            resources["limits"] = limits;
        }
        let mut spec = json!({
            "containers": [{
                "name": app,
                "image": image,
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                "resources": resources,
                "imagePullPolicy": "IfNotPresent",
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
            }],
        });
        if let Some(pool) = d.pool {
            spec["nodeSelector"] = json!({"pool": pool});
        }
        if d.tolerates_gpu {
            spec["tolerations"] =
                json!([{"key": GPU_TAINT, "operator": "Exists", "effect": "NoSchedule"}]);
        }
        if d.impossible_selector {
            spec["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{
                    "key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["p5.48xlarge"],
                }]}],
            }}});
        } else if anti_affinity {
            spec["affinity"] = json!({"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
                "weight": 100,
                "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": "kubernetes.io/hostname"},
            }]}});
        }
        json!({"metadata": {"labels": labels}, "spec": spec})
    }

    /// Places one pod; returns the plan's placement and phase.
    fn place(&mut self, demand: &Demand, terminal: bool) -> (Option<usize>, Option<String>) {
        match placement::place(self.nodes, demand, self.rng) {
            Some(i) => {
                if terminal {
                    // Finished pods hold no resources.
                    let n = &mut self.nodes[i];
                    n.used_pods -= 1;
                    n.used_cpu -= demand.cpu_millis;
                    n.used_memory -= demand.memory_bytes;
                    n.used_gpus -= demand.gpus;
                }
                (Some(i), None)
            }
            None => (
                None,
                Some(placement::unschedulable_message(self.nodes, demand)),
            ),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn pod(
        &mut self,
        namespace: &str,
        name: String,
        template: &Value,
        owner_ref: Value,
        node: Option<usize>,
        pending: Option<String>,
        phase: Phase,
        created: i64,
        extra_labels: Vec<(String, String)>,
        hostname: Option<(String, String)>,
    ) -> Option<Endpoint> {
        let uid = self.rng.uid();
        let placement = node.map(|i| {
            let ip = self.nodes[i].take_pod_ip();
            (i, ip)
        });
        let endpoint = placement.as_ref().map(|(i, ip)| Endpoint {
            pod: name.clone(),
            uid: uid.clone(),
            ip: ip.clone(),
            node: self.nodes[*i].name.clone(),
            zone: self.nodes[*i].zone.to_string(),
            ready: phase == Phase::Running,
        });
        let node_ref = placement.as_ref().map(|(i, ip)| {
            (
                self.nodes[*i].name.as_str(),
                self.nodes[*i].ip.as_str(),
                self.nodes[*i].zone,
                ip.clone(),
            )
        });
        let plan = PodPlan {
            namespace,
            name,
            uid,
            template,
            owner: Some(owner_ref),
            placement: node_ref,
            phase: if node.is_none() {
                Phase::Pending
            } else {
                phase
            },
            created,
            pending_message: pending,
            extra_labels,
            hostname,
            finalizers: Vec::new(),
        };
        let pod = pod_object(plan, &mut Rng::new(self.rng.next_u64()));
        self.out.pods.push(pod);
        endpoint
    }
}

mod daemonsets;
mod deployments;
mod jobs;
mod statefulsets;
