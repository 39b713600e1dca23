//! Ground truth: for each unschedulable scenario, the real kube-scheduler's FailedScheduling
//! message and `kubectl why-pending -o json` must count the same nodes under the same reasons.
//! Its own test binary, hence its own control plane: the node set below is all the scheduler sees.

use std::path::Path;

use kube_runbooks_harness::{ControlPlane, FakeNode, RunCommand, TestNamespace};
use serde_json::Value;

const WHY_PENDING: &str = env!("CARGO_BIN_EXE_kubectl-why_pending");

/// Six nodes covering every filter: sizes, zones, taints, a cordon, GPUs, hugepages, a pod limit.
fn nodes() -> Vec<FakeNode> {
    vec![
        FakeNode::new("c-a")
            .cpu("4")
            .memory("8Gi")
            .zone("zone-a")
            .label("disk", "ssd")
            .label("tier", "1"),
        FakeNode::new("c-b")
            .cpu("4")
            .memory("8Gi")
            .zone("zone-b")
            .label("disk", "hdd")
            .label("tier", "2"),
        FakeNode::new("c-c")
            .cpu("2")
            .memory("4Gi")
            .zone("zone-c")
            .label("tier", "3")
            .taint("dedicated", "infra", "NoSchedule"),
        FakeNode::new("c-d")
            .cpu("8")
            .memory("16Gi")
            .zone("zone-a")
            .label("tier", "4")
            .unschedulable(true),
        FakeNode::new("c-e")
            .cpu("8")
            .memory("32Gi")
            .zone("zone-b")
            .label("tier", "5")
            .extended_resource("nvidia.com/gpu", "2")
            .extended_resource("hugepages-2Mi", "1Gi")
            .taint("gpu", "true", "NoExecute"),
        FakeNode::new("c-f")
            .cpu("16")
            .memory("16Gi")
            .pods("3")
            .zone("zone-c")
            .label("tier", "6"),
    ]
}

/// Running pods (bound directly) and volumes the scenarios collide with.
const SETUP: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: holds-port, labels: {app: port-holder}}
spec:
  nodeName: c-a
  containers: [{name: c, image: x, ports: [{containerPort: 80, hostPort: 8080}], resources: {requests: {cpu: 100m}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: db, labels: {app: db}}
spec:
  nodeName: c-b
  containers: [{name: c, image: x, resources: {requests: {cpu: "3", memory: 1Gi}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: lonely, labels: {app: lonely}}
spec:
  nodeName: c-a
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: web-anti}}
        topologyKey: kubernetes.io/hostname
  containers: [{name: c, image: x}]
---
apiVersion: v1
kind: Pod
metadata: {name: spread-1, labels: {spread: x}}
spec: {nodeName: c-a, containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: spread-2, labels: {spread: x}}
spec: {nodeName: c-a, containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: fill-1}
spec: {nodeName: c-f, containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: fill-2}
spec: {nodeName: c-f, containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: fill-3}
spec: {nodeName: c-f, containers: [{name: c, image: x}]}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: corpus-immediate}
provisioner: example.com/nobody
volumeBindingMode: Immediate
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: corpus-wffc}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: unbound-immediate}
spec: {storageClassName: corpus-immediate, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: wffc-claim}
spec: {storageClassName: corpus-wffc, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
"#;

/// Pre-bound volumes, created with the test namespace's name in their claimRef.
fn bound_volumes(ns: &str) -> String {
    format!(
        r#"
apiVersion: v1
kind: PersistentVolume
metadata: {{name: {ns}-pinned}}
spec:
  capacity: {{storage: 1Gi}}
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  claimRef: {{namespace: {ns}, name: pinned-claim}}
  local: {{path: /data}}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions: [{{key: kubernetes.io/hostname, operator: In, values: [c-gone]}}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: pinned-claim}}
spec: {{storageClassName: "", volumeName: {ns}-pinned, accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}}}
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: {ns}-zoned
  labels: {{topology.kubernetes.io/zone: zone-z}}
spec:
  capacity: {{storage: 1Gi}}
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  claimRef: {{namespace: {ns}, name: zoned-claim}}
  csi: {{driver: disk.example.com, volumeHandle: zoned}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: zoned-claim}}
spec: {{storageClassName: "", volumeName: {ns}-zoned, accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}}}
---
apiVersion: v1
kind: PersistentVolume
metadata: {{name: {ns}-single}}
spec:
  capacity: {{storage: 1Gi}}
  accessModes: [ReadWriteOncePod]
  storageClassName: ""
  claimRef: {{namespace: {ns}, name: single-claim}}
  csi: {{driver: disk.example.com, volumeHandle: single}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: single-claim}}
spec: {{storageClassName: "", volumeName: {ns}-single, accessModes: [ReadWriteOncePod], resources: {{requests: {{storage: 1Gi}}}}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: single-owner}}
spec:
  nodeName: c-b
  containers: [{{name: c, image: x}}]
  volumes: [{{name: v, persistentVolumeClaim: {{claimName: single-claim}}}}]
"#
    )
}

/// One unschedulable pod per scenario: (name, labels, spec fields after `containers`).
const SCENARIOS: &[(&str, &str, &str)] = &[
    (
        "cpu-huge",
        "{}",
        "containers: [{name: c, image: x, resources: {requests: {cpu: '100'}}}]",
    ),
    (
        "memory-huge",
        "{}",
        "containers: [{name: c, image: x, resources: {requests: {memory: 100Gi}}}]",
    ),
    (
        "cpu-and-memory",
        "{}",
        "containers: [{name: c, image: x, resources: {requests: {cpu: '10', memory: 20Gi}}}]",
    ),
    (
        "ephemeral-huge",
        "{}",
        "containers: [{name: c, image: x, resources: {requests: {ephemeral-storage: 500Gi}}}]",
    ),
    (
        "gpu-untolerated",
        "{}",
        "containers: [{name: c, image: x, resources: {requests: {nvidia.com/gpu: '1'}, limits: {nvidia.com/gpu: '1'}}}]",
    ),
    (
        "gpu-too-many",
        "{}",
        "tolerations: [{key: gpu, operator: Exists}]\n  containers: [{name: c, image: x, resources: {requests: {nvidia.com/gpu: '3'}, limits: {nvidia.com/gpu: '3'}}}]",
    ),
    (
        "hugepages",
        "{}",
        "tolerations: [{key: gpu, operator: Exists}]\n  containers: [{name: c, image: x, resources: {requests: {hugepages-2Mi: 2Gi, memory: 100Mi, cpu: 100m}, limits: {hugepages-2Mi: 2Gi, memory: 100Mi}}}]",
    ),
    (
        "selector-none",
        "{}",
        "nodeSelector: {disk: nvme}\n  containers: [{name: c, image: x}]",
    ),
    (
        "affinity-in",
        "{}",
        "affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: tier, operator: In, values: ['9']}]}]}}}\n  containers: [{name: c, image: x}]",
    ),
    (
        "affinity-notin-doesnotexist",
        "{}",
        "affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: tier, operator: NotIn, values: ['3', '4', '5', '6']}, {key: disk, operator: DoesNotExist}]}]}}}\n  containers: [{name: c, image: x}]",
    ),
    (
        "affinity-gt-full",
        "{}",
        "affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: tier, operator: Gt, values: ['5']}]}]}}}\n  containers: [{name: c, image: x}]",
    ),
    (
        "affinity-lt-cpu",
        "{}",
        "affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: tier, operator: Lt, values: ['2']}]}]}}}\n  containers: [{name: c, image: x, resources: {requests: {cpu: '5'}}}]",
    ),
    (
        "affinity-two-terms",
        "{}",
        "affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: disk, operator: In, values: [nvme]}]}, {matchExpressions: [{key: tier, operator: Exists}, {key: pool, operator: Exists}]}]}}}\n  containers: [{name: c, image: x}]",
    ),
    (
        "match-fields-missing-node",
        "{}",
        "affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchFields: [{key: metadata.name, operator: In, values: [c-zzz]}]}]}}}\n  containers: [{name: c, image: x}]",
    ),
    (
        "taint-only",
        "{}",
        "nodeSelector: {tier: '3'}\n  containers: [{name: c, image: x}]",
    ),
    (
        "taint-tolerated-cpu",
        "{}",
        "nodeSelector: {tier: '3'}\n  tolerations: [{key: dedicated, operator: Equal, value: infra, effect: NoSchedule}]\n  containers: [{name: c, image: x, resources: {requests: {cpu: '3'}}}]",
    ),
    (
        "host-port",
        "{}",
        "nodeSelector: {tier: '1'}\n  containers: [{name: c, image: x, ports: [{containerPort: 80, hostPort: 8080}]}]",
    ),
    (
        "cordoned",
        "{}",
        "nodeSelector: {tier: '4'}\n  containers: [{name: c, image: x}]",
    ),
    (
        "cordon-tolerated-cpu",
        "{}",
        "nodeSelector: {tier: '4'}\n  tolerations: [{key: node.kubernetes.io/unschedulable, operator: Exists, effect: NoSchedule}]\n  containers: [{name: c, image: x, resources: {requests: {cpu: '20'}}}]",
    ),
    (
        "anti-affinity",
        "{app: web}",
        "nodeSelector: {tier: '2'}\n  affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{labelSelector: {matchLabels: {app: db}}, topologyKey: kubernetes.io/hostname}]}}\n  containers: [{name: c, image: x}]",
    ),
    (
        "existing-anti-affinity",
        "{app: web-anti}",
        "nodeSelector: {tier: '1'}\n  containers: [{name: c, image: x}]",
    ),
    (
        "pod-affinity-missing",
        "{app: follower}",
        "affinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{labelSelector: {matchLabels: {app: ghost}}, topologyKey: kubernetes.io/hostname}]}}\n  containers: [{name: c, image: x}]",
    ),
    (
        "zone-anti-affinity",
        "{app: zoned}",
        "nodeSelector: {tier: '2'}\n  affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{labelSelector: {matchLabels: {app: db}}, topologyKey: topology.kubernetes.io/zone}]}}\n  containers: [{name: c, image: x, resources: {requests: {cpu: '5'}}}]",
    ),
    (
        "spread-skew",
        "{spread: x}",
        "nodeSelector: {tier: '1'}\n  topologySpreadConstraints: [{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, nodeAffinityPolicy: Ignore, labelSelector: {matchLabels: {spread: x}}}]\n  containers: [{name: c, image: x}]",
    ),
    (
        "spread-missing-label",
        "{spread: 'y'}",
        "topologySpreadConstraints: [{maxSkew: 1, topologyKey: example.com/rack, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {spread: 'y'}}}]\n  containers: [{name: c, image: x}]",
    ),
    (
        "claim-missing",
        "{}",
        "containers: [{name: c, image: x}]\n  volumes: [{name: v, persistentVolumeClaim: {claimName: nope}}]",
    ),
    (
        "claim-unbound-immediate",
        "{}",
        "containers: [{name: c, image: x}]\n  volumes: [{name: v, persistentVolumeClaim: {claimName: unbound-immediate}}]",
    ),
    (
        "volume-node-affinity",
        "{}",
        "containers: [{name: c, image: x}]\n  volumes: [{name: v, persistentVolumeClaim: {claimName: pinned-claim}}]",
    ),
    (
        "wffc-no-volume",
        "{}",
        "containers: [{name: c, image: x}]\n  volumes: [{name: v, persistentVolumeClaim: {claimName: wffc-claim}}]",
    ),
    (
        "volume-zone",
        "{}",
        "containers: [{name: c, image: x}]\n  volumes: [{name: v, persistentVolumeClaim: {claimName: zoned-claim}}]",
    ),
    (
        "read-write-once-pod",
        "{}",
        "containers: [{name: c, image: x}]\n  volumes: [{name: v, persistentVolumeClaim: {claimName: single-claim}}]",
    ),
    (
        "init-container-big",
        "{}",
        "initContainers: [{name: i, image: x, resources: {requests: {cpu: '5'}}}]\n  containers: [{name: c, image: x, resources: {requests: {cpu: '1'}}}]",
    ),
    (
        "sidecars-add-up",
        "{}",
        "initContainers: [{name: s, image: x, restartPolicy: Always, resources: {requests: {cpu: '2'}}}]\n  containers: [{name: c, image: x, resources: {requests: {cpu: '3'}}}]",
    ),
    (
        "everything-at-once",
        "{app: web-anti}",
        "tolerations: [{key: dedicated, operator: Exists}]\n  containers: [{name: c, image: x, ports: [{containerPort: 80, hostPort: 8080}], resources: {requests: {cpu: '3', memory: 4Gi}}}]",
    ),
];

fn pod_yaml(name: &str, labels: &str, spec: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, labels: {labels}}}\nspec:\n  {spec}\n"
    )
}

async fn why_pending(cp: &ControlPlane, ns: &TestNamespace, pod: &str) -> (Value, String) {
    let out = RunCommand::new(
        cp,
        Path::new(WHY_PENDING),
        &[pod, "-n", ns.name(), "-o", "json"],
    )
    .output()
    .await;
    assert_eq!(
        out.code,
        Some(1),
        "a pending pod is a problem found (exit 1)\n{out}"
    );
    let report: Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{out}"));
    (report, out.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn engine_agrees_with_the_scheduler_on_every_scenario() {
    let cp = ControlPlane::shared().await;
    for node in nodes() {
        cp.add_node(node).await;
    }
    let ns = cp.namespace("corpus").await;
    ns.apply_yaml(SETUP).await;
    ns.apply_yaml(&bound_volumes(ns.name())).await;
    for claim in ["pinned-claim", "zoned-claim", "single-claim"] {
        kube_runbooks_harness::wait_for(
            kube_runbooks_harness::DEFAULT_TIMEOUT,
            &format!("claim {claim} bound"),
            || async {
                let claims: kube::Api<k8s_openapi::api::core::v1::PersistentVolumeClaim> = ns.api();
                let claim = claims.get(claim).await.ok()?;
                (claim.status?.phase.as_deref() == Some("Bound")).then_some(())
            },
        )
        .await;
    }
    for filler in [
        "holds-port",
        "db",
        "lonely",
        "spread-1",
        "spread-2",
        "fill-1",
        "fill-2",
        "fill-3",
        "single-owner",
    ] {
        ns.wait_pod_phase(filler, "Running").await;
    }
    for (name, labels, spec) in SCENARIOS {
        ns.apply_yaml(&pod_yaml(name, labels, spec)).await;
    }
    let mut disagreements = Vec::new();
    for (name, _, _) in SCENARIOS {
        ns.wait_event(name, "FailedScheduling").await;
        let (report, raw) = why_pending(cp, &ns, name).await;
        let finding = report["findings"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["code"] == "unschedulable"))
            .unwrap_or_else(|| panic!("{name}: no unschedulable finding\n{raw}"));
        let details = &finding["details"];
        if details["agreement"]["agrees"] != Value::Bool(true) {
            disagreements.push(format!(
                "{name}:\n  scheduler: {}\n  engine:    {}\n  agreement: {}",
                details["schedulerMessage"], details["fit"]["schedulerView"], details["agreement"]
            ));
        }
    }
    assert!(
        SCENARIOS.len() >= 30,
        "the corpus must cover at least 30 scenarios"
    );
    assert!(
        disagreements.is_empty(),
        "{} of {} scenarios disagree:\n{}",
        disagreements.len(),
        SCENARIOS.len(),
        disagreements.join("\n")
    );
}
