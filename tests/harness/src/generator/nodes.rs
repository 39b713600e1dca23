//! Generated nodes: pools of machine shapes spread over three zones, a few tainted or cordoned.

use serde_json::{Value, json};

use super::meta::{self, timestamp};
use super::rng::Rng;

const GI: u64 = 1 << 30;
pub const REGION: &str = "region-1";
pub const ZONES: [&str; 3] = ["region-1a", "region-1b", "region-1c"];
pub const GPU_TAINT: &str = "nvidia.com/gpu";

/// One node's shape and what is left of it while pods are placed.
#[derive(Debug, Clone)]
pub struct NodeState {
    pub name: String,
    pub pool: &'static str,
    pub zone: &'static str,
    pub ip: String,
    pub cpu_millis: u64,
    pub memory_bytes: u64,
    pub max_pods: u64,
    pub gpus: u64,
    pub used_cpu: u64,
    pub used_memory: u64,
    pub used_pods: u64,
    pub used_gpus: u64,
    pub tainted_gpu: bool,
    pub unschedulable: bool,
    pub pod_cidr_index: u64,
    pub next_pod_ip: u64,
}

struct Pool {
    name: &'static str,
    instance_type: &'static str,
    /// Allocatable (capacity minus system reservations).
    cpu_millis: u64,
    memory_bytes: u64,
    gpus: u64,
    /// Weight out of 100.
    weight: usize,
}

const POOLS: [Pool; 4] = [
    Pool {
        name: "general",
        instance_type: "m7.2xlarge",
        cpu_millis: 7_910,
        memory_bytes: 29 * GI,
        gpus: 0,
        weight: 70,
    },
    Pool {
        name: "highmem",
        instance_type: "r7.4xlarge",
        cpu_millis: 15_890,
        memory_bytes: 120 * GI,
        gpus: 0,
        weight: 15,
    },
    Pool {
        name: "compute",
        instance_type: "c7.8xlarge",
        cpu_millis: 31_850,
        memory_bytes: 60 * GI,
        gpus: 0,
        weight: 10,
    },
    Pool {
        name: "gpu",
        instance_type: "g6.2xlarge",
        cpu_millis: 7_910,
        memory_bytes: 29 * GI,
        gpus: 1,
        weight: 5,
    },
];

/// Generates `count` node shapes, names `<pool>-<zone letter>-<nnnnn>`.
pub fn plan(count: usize, rng: &mut Rng) -> Vec<NodeState> {
    (0..count)
        .map(|i| {
            let mut roll = rng.below(100);
            // Always have at least one GPU node in clusters of 20 nodes or more.
            let pool = if count >= 20 && i == count - 1 {
                &POOLS[3]
            } else {
                POOLS
                    .iter()
                    .find(|p| {
                        let hit = roll < p.weight;
                        roll = roll.saturating_sub(p.weight);
                        hit
                    })
                    .unwrap_or(&POOLS[0])
            };
            let zone = ZONES[i % ZONES.len()];
            let letter = &zone[zone.len() - 1..];
            NodeState {
                name: format!("{}-{letter}-{i:05}", pool.name),
                pool: pool.name,
                zone,
                ip: format!("10.{}.{}.{}", 16 + i / 65_536, i / 256 % 256, i % 256),
                cpu_millis: pool.cpu_millis,
                memory_bytes: pool.memory_bytes,
                max_pods: 110,
                gpus: pool.gpus * 4,
                used_cpu: 0,
                used_memory: 0,
                used_pods: 0,
                used_gpus: 0,
                tainted_gpu: pool.gpus > 0,
                unschedulable: count >= 50 && rng.chance(0.01),
                pod_cidr_index: i as u64,
                next_pod_ip: 2,
            }
        })
        .collect()
}

impl NodeState {
    /// The next pod IP from this node's /24 inside 10.244.0.0/16 (wraps for >250 pods).
    pub fn take_pod_ip(&mut self) -> String {
        let ip = format!(
            "10.{}.{}.{}",
            244 + self.pod_cidr_index / 256 % 12,
            self.pod_cidr_index % 256,
            self.next_pod_ip
        );
        self.next_pod_ip = if self.next_pod_ip >= 254 {
            2
        } else {
            self.next_pod_ip + 1
        };
        ip
    }

    /// The Node object, carrying the kwok annotation.
    pub fn to_object(&self, rng: &mut Rng, created: i64) -> Value {
        let pool = POOLS
            .iter()
            .find(|p| p.name == self.pool)
            .unwrap_or(&POOLS[0]);
        let mut taints = Vec::new();
        if self.tainted_gpu {
            taints.push(json!({"key": GPU_TAINT, "value": "present", "effect": "NoSchedule"}));
        }
        if self.unschedulable {
            taints.push(json!({
                "key": "node.kubernetes.io/unschedulable",
                "effect": "NoSchedule",
                "timeAdded": timestamp(created + 3600),
            }));
        }
        let mut allocatable = json!({
            "cpu": meta::cpu(self.cpu_millis),
            "memory": meta::memory(self.memory_bytes),
            "pods": self.max_pods.to_string(),
            "ephemeral-storage": "95Gi",
            "hugepages-2Mi": "0",
        });
        let capacity_cpu = self.cpu_millis.div_ceil(1000);
        let mut capacity = json!({
            "cpu": capacity_cpu.to_string(),
            "memory": meta::memory(self.memory_bytes + 2 * GI),
            "pods": self.max_pods.to_string(),
            "ephemeral-storage": "100Gi",
            "hugepages-2Mi": "0",
        });
        if self.gpus > 0 {
            allocatable[GPU_TAINT] = json!(self.gpus.to_string());
            capacity[GPU_TAINT] = json!(self.gpus.to_string());
        }
        let now = timestamp(created + 86_400 * 3);
        let condition = |type_: &str, status: &str, reason: &str, message: &str| {
            json!({
                "type": type_, "status": status, "reason": reason, "message": message,
                "lastHeartbeatTime": now, "lastTransitionTime": timestamp(created + 60),
            })
        };
        json!({
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": self.name,
                "uid": rng.uid(),
                "creationTimestamp": timestamp(created),
                "labels": {
                    "kubernetes.io/hostname": self.name,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    "beta.kubernetes.io/os": "linux",
                    "beta.kubernetes.io/arch": "amd64",
                    "node.kubernetes.io/instance-type": pool.instance_type,
                    "topology.kubernetes.io/zone": self.zone,
                    "topology.kubernetes.io/region": REGION,
                    "pool": self.pool,
                    "type": "kwok",
                },
                "annotations": {
                    "kwok.x-k8s.io/node": "fake",
                    "node.alpha.kubernetes.io/ttl": "0",
                },
            },
            "spec": {
                "podCIDR": format!("10.{}.{}.0/24", 244 + self.pod_cidr_index / 256 % 12, self.pod_cidr_index % 256),
                "taints": taints,
                "unschedulable": self.unschedulable,
            },
            "status": {
                "capacity": capacity,
                "allocatable": allocatable,
                "conditions": [
                    condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                    condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                    condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                    condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
                ],
                "addresses": [
                    {"type": "InternalIP", "address": self.ip},
                    {"type": "Hostname", "address": self.name},
                ],
                "nodeInfo": {
                    "architecture": "amd64",
                    "bootID": rng.uid(),
                    "containerRuntimeVersion": "containerd://2.1.4",
                    "kernelVersion": "6.12.41",
                    "kubeProxyVersion": "",
                    "kubeletVersion": "v1.37.2",
                    "machineID": rng.uid().replace('-', ""),
                    "operatingSystem": "linux",
                    "osImage": "Ubuntu 24.04.3 LTS",
                    "systemUUID": rng.uid(),
                },
                "phase": "Running",
            },
        })
    }
}
