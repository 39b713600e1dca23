//! The cluster every scenario runs in: the harness control plane plus what a real cluster has in
//! kube-system (a kube-proxy DaemonSet on every node, CoreDNS behind kube-dns), and helpers to
//! build workloads, break them, and run the plugin.

use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::{
    apps::v1::DaemonSet,
    core::v1::{Event, Pod},
    discovery::v1::EndpointSlice,
};
use kube::{
    Api,
    api::{ListParams, Patch, PatchParams, PostParams},
};
use kube_runbooks_harness::{ControlPlane, FakeNode, RunOutput, TestNamespace, poll_until};
use serde_json::{Value, json};
use tokio::sync::{OnceCell, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Nodes with this label get no kube-proxy pod.
pub const NO_PROXY_LABEL: &str = "svc-check-e2e/no-kube-proxy";
pub const WAIT: Duration = Duration::from_secs(60);

static INFRA: OnceCell<()> = OnceCell::const_new();
/// Scenarios that break something cluster-wide (DNS) take it exclusively; the others share it.
static CLUSTER_WIDE: RwLock<()> = RwLock::const_new(());

/// A scenario's view of the cluster, holding the shared lock for its duration.
pub struct Scenario {
    pub cp: &'static ControlPlane,
    pub ns: TestNamespace,
    _shared: Option<RwLockReadGuard<'static, ()>>,
    _exclusive: Option<RwLockWriteGuard<'static, ()>>,
}

/// A scenario in its own namespace `prefix-...`, with the shared infrastructure in place.
pub async fn scenario(prefix: &str) -> Scenario {
    let cp = ControlPlane::shared().await;
    INFRA.get_or_init(|| install(cp)).await;
    let shared = CLUSTER_WIDE.read().await;
    Scenario {
        cp,
        ns: cp.namespace(prefix).await,
        _shared: Some(shared),
        _exclusive: None,
    }
}

/// A scenario that may break kube-system: no other scenario runs meanwhile.
pub async fn exclusive_scenario(prefix: &str) -> Scenario {
    let cp = ControlPlane::shared().await;
    INFRA.get_or_init(|| install(cp)).await;
    let exclusive = CLUSTER_WIDE.write().await;
    Scenario {
        cp,
        ns: cp.namespace(prefix).await,
        _shared: None,
        _exclusive: Some(exclusive),
    }
}

const KUBE_PROXY_YAML: &str = r#"
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: kube-proxy
  labels: {k8s-app: kube-proxy}
spec:
  selector:
    matchLabels: {k8s-app: kube-proxy}
  template:
    metadata:
      labels: {k8s-app: kube-proxy}
    spec:
      tolerations: [{operator: Exists}]
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions: [{key: svc-check-e2e/no-kube-proxy, operator: DoesNotExist}]
      containers:
      - name: kube-proxy
        image: registry.k8s.io/kube-proxy:v1.37.2
"#;

const DNS_YAML: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: coredns
  labels: {k8s-app: kube-dns}
spec:
  replicas: 1
  selector:
    matchLabels: {k8s-app: kube-dns}
  template:
    metadata:
      labels: {k8s-app: kube-dns}
    spec:
      nodeSelector: {svc-check-e2e/role: system}
      tolerations: [{key: svc-check-e2e/system, operator: Exists}]
      containers:
      - name: coredns
        image: registry.k8s.io/coredns/coredns:v1.12.0
        ports:
        - {name: dns, containerPort: 53, protocol: UDP}
        - {name: dns-tcp, containerPort: 53, protocol: TCP}
        readinessProbe:
          httpGet: {path: /ready, port: 8181}
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  labels: {k8s-app: kube-dns}
spec:
  clusterIP: 10.96.0.10
  selector: {k8s-app: kube-dns}
  ports:
  - {name: dns, port: 53, protocol: UDP, targetPort: 53}
  - {name: dns-tcp, port: 53, protocol: TCP, targetPort: 53}
"#;

/// kube-system as in a real cluster: a system node, kube-proxy everywhere, CoreDNS.
async fn install(cp: &'static ControlPlane) {
    cp.add_node(
        FakeNode::new("svc-system")
            .label("svc-check-e2e/role", "system")
            .taint("svc-check-e2e/system", "true", "NoSchedule"),
    )
    .await;
    kube_runbooks_harness::apply_yaml(&cp.client(), "kube-system", DNS_YAML).await;
    restore_kube_proxy(cp).await;
    wait_ready_endpoints(cp, "kube-system", "kube-dns", 1).await;
}

/// (Re)creates the kube-proxy DaemonSet and waits until it runs a ready pod on every node it
/// selects.
pub async fn restore_kube_proxy(cp: &ControlPlane) {
    kube_runbooks_harness::apply_yaml(&cp.client(), "kube-system", KUBE_PROXY_YAML).await;
    let sets: Api<DaemonSet> = Api::namespaced(cp.client(), "kube-system");
    poll_until(WAIT, "kube-proxy ready on every node", || async {
        let ds = sets.get("kube-proxy").await.map_err(|e| e.to_string())?;
        let status = ds.status.unwrap_or_default();
        let current = status.observed_generation >= ds.metadata.generation;
        if current
            && status.desired_number_scheduled > 0
            && status.number_ready == status.desired_number_scheduled
        {
            Ok(())
        } else {
            Err(format!("{status:?}"))
        }
    })
    .await;
}

/// Adds a node (unique name) and waits for its kube-proxy pod unless it is labelled without one.
pub async fn node(cp: &ControlPlane, name: &str, labels: &[(&str, &str)]) {
    let mut node = FakeNode::new(name).label("svc-check-e2e/node", name);
    for (k, v) in labels {
        node = node.label(k, v);
    }
    cp.add_node(node).await;
    if !labels.iter().any(|(k, _)| *k == NO_PROXY_LABEL) {
        wait_kube_proxy(cp, name).await;
    }
}

async fn wait_kube_proxy(cp: &ControlPlane, node: &str) {
    let pods: Api<Pod> = Api::namespaced(cp.client(), "kube-system");
    poll_until(WAIT, &format!("kube-proxy ready on {node}"), || async {
        let list = pods
            .list(
                &ListParams::default()
                    .labels("k8s-app=kube-proxy")
                    .fields(&format!("spec.nodeName={node}")),
            )
            .await
            .map_err(|e| e.to_string())?;
        if list
            .items
            .iter()
            .any(kube_runbooks_harness::wait::is_running_and_ready)
        {
            Ok(())
        } else {
            Err(format!("{} kube-proxy pods, none ready", list.items.len()))
        }
    })
    .await;
}

/// Waits until the Service's EndpointSlices list exactly `count` ready endpoints.
pub async fn wait_ready_endpoints(cp: &ControlPlane, namespace: &str, service: &str, count: usize) {
    let slices: Api<EndpointSlice> = Api::namespaced(cp.client(), namespace);
    let selector = format!("kubernetes.io/service-name={service}");
    poll_until(
        WAIT,
        &format!("{count} ready endpoints of {namespace}/{service}"),
        || async {
            let list = slices
                .list(&ListParams::default().labels(&selector))
                .await
                .map_err(|e| e.to_string())?;
            let ready = list
                .items
                .iter()
                .flat_map(|s| s.endpoints.iter().flatten())
                .filter(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true))
                .count();
            if ready == count {
                Ok(())
            } else {
                Err(format!("{ready} ready"))
            }
        },
    )
    .await;
}

/// Waits until the Service's EndpointSlices list `count` endpoints, ready or not.
pub async fn wait_endpoints(cp: &ControlPlane, namespace: &str, service: &str, count: usize) {
    let slices: Api<EndpointSlice> = Api::namespaced(cp.client(), namespace);
    let selector = format!("kubernetes.io/service-name={service}");
    poll_until(
        WAIT,
        &format!("{count} endpoints of {namespace}/{service}"),
        || async {
            let list = slices
                .list(&ListParams::default().labels(&selector))
                .await
                .map_err(|e| e.to_string())?;
            let found: usize = list
                .items
                .iter()
                .map(|s| s.endpoints.as_ref().map_or(0, Vec::len))
                .sum();
            if found == count && !list.items.is_empty() {
                Ok(())
            } else {
                Err(format!("{found} endpoints"))
            }
        },
    )
    .await;
}

impl Scenario {
    pub fn name(&self) -> &str {
        self.ns.name()
    }

    pub async fn apply(&self, yaml: &str) {
        self.ns.apply_yaml(yaml).await;
    }

    /// `kubectl svc-check ARGS -n NS` as admin.
    pub async fn check(&self, args: &[&str]) -> RunOutput {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["-n", self.ns.name()]);
        self.cp
            .run(Path::new(env!("CARGO_BIN_EXE_kubectl-svc_check")), &all)
            .await
    }

    /// `kubectl svc-check ARGS` with exactly these arguments.
    pub async fn check_raw(&self, args: &[&str]) -> RunOutput {
        self.cp
            .run(Path::new(env!("CARGO_BIN_EXE_kubectl-svc_check")), args)
            .await
    }

    /// `kubectl svc-check SERVICE -n NS -o json`, parsed.
    pub async fn check_json(&self, args: &[&str]) -> (RunOutput, Value) {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        let out = self.check(&all).await;
        let report =
            serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"));
        (out, report)
    }

    /// A new node `node_name` running Deployment `web`: `replicas` pods labelled app=web with
    /// container ports `ports` and a readiness probe.
    pub async fn web_on(&self, node_name: &str, replicas: u32, ports: &str) {
        node(self.cp, node_name, &[]).await;
        self.apply(&deployment(
            "web",
            replicas,
            "{app: web}",
            node_name,
            ports,
            true,
        ))
        .await;
    }

    /// Deployment `client` (one pod labelled app=client, no ports) on `node_name`: the name of
    /// its pod, once ready.
    pub async fn client_on(&self, node_name: &str) -> String {
        self.apply(&deployment(
            "client",
            1,
            "{app: client}",
            node_name,
            "[]",
            false,
        ))
        .await;
        let pods = self.wait_ready("app=client", 1).await;
        pods[0].metadata.name.clone().unwrap_or_default()
    }

    pub async fn wait_ready(&self, selector: &str, count: usize) -> Vec<Pod> {
        self.ns.wait_pods_ready(selector, count).await
    }

    pub async fn wait_ready_endpoints(&self, service: &str, count: usize) {
        wait_ready_endpoints(self.cp, self.ns.name(), service, count).await;
    }

    pub async fn wait_endpoints(&self, service: &str, count: usize) {
        wait_endpoints(self.cp, self.ns.name(), service, count).await;
    }

    /// Patches a pod's status (merge patch on the status subresource).
    pub async fn patch_pod_status(&self, pod: &str, status: Value) {
        let pods: Api<Pod> = self.ns.api();
        pods.patch_status(
            pod,
            &PatchParams::default(),
            &Patch::Merge(json!({"status": status})),
        )
        .await
        .unwrap_or_else(|e| panic!("cannot patch status of pod {pod}: {e}"));
    }

    /// Makes a pod not ready the way a failing readiness probe does.
    pub async fn make_unready(&self, pod: &Pod, container_state: Value) {
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        let container = pod
            .spec
            .as_ref()
            .map(|s| s.containers[0].name.clone())
            .unwrap_or_default();
        let now = k8s_openapi::jiff::Timestamp::now().to_string();
        self.patch_pod_status(
            name,
            json!({
                "conditions": [
                    {"type": "Ready", "status": "False", "reason": "ContainersNotReady", "lastTransitionTime": now},
                    {"type": "ContainersReady", "status": "False", "reason": "ContainersNotReady", "lastTransitionTime": now}
                ],
                "containerStatuses": [{"name": container, "ready": false, "restartCount": 3, "image": "x", "imageID": "",
                                       "state": container_state}]
            }),
        )
        .await;
    }

    /// Records a Warning event about a pod, as the kubelet does for a failing probe.
    pub async fn pod_event(&self, pod: &Pod, reason: &str, message: &str) {
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        let involved =
            json!({"kind": "Pod", "name": name, "uid": pod.metadata.uid, "apiVersion": "v1"});
        self.warning_event(involved, reason, message, "kubelet")
            .await;
    }

    /// Records a Warning event about a Service, as a load-balancer controller does.
    pub async fn service_event(&self, service: &str, reason: &str, message: &str) {
        let services: Api<k8s_openapi::api::core::v1::Service> = self.ns.api();
        let uid = services
            .get(service)
            .await
            .unwrap_or_else(|e| panic!("cannot read service {service}: {e}"))
            .metadata
            .uid;
        let involved = json!({"kind": "Service", "name": service, "uid": uid, "apiVersion": "v1"});
        self.warning_event(involved, reason, message, "service-controller")
            .await;
    }

    async fn warning_event(
        &self,
        mut involved: Value,
        reason: &str,
        message: &str,
        component: &str,
    ) {
        let events: Api<Event> = self.ns.api();
        involved["namespace"] = json!(self.ns.name());
        let name = format!(
            "{}.{}",
            involved["name"].as_str().unwrap_or_default(),
            reason.to_lowercase()
        );
        let now = k8s_openapi::jiff::Timestamp::now().to_string();
        let event: Event = serde_json::from_value(json!({
            "metadata": {"name": name},
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "type": "Warning",
            "count": 7,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "source": {"component": component}
        }))
        .unwrap_or_else(|e| panic!("bad event: {e}"));
        events
            .create(&PostParams::default(), &event)
            .await
            .unwrap_or_else(|e| panic!("cannot create event: {e}"));
    }

    /// Patches a Service's status (e.g. a load balancer address, as a controller would).
    pub async fn patch_service_status(&self, service: &str, status: Value) {
        let services: Api<k8s_openapi::api::core::v1::Service> = self.ns.api();
        services
            .patch_status(
                service,
                &PatchParams::default(),
                &Patch::Merge(json!({"status": status})),
            )
            .await
            .unwrap_or_else(|e| panic!("cannot patch status of service {service}: {e}"));
    }
}

/// A Deployment of `replicas` pods labelled `labels` on node `node`, container `app` with
/// `ports` and, when `probe`, a readiness probe.
pub fn deployment(
    name: &str,
    replicas: u32,
    labels: &str,
    node: &str,
    ports: &str,
    probe: bool,
) -> String {
    let probe = if probe {
        "\n        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 5}"
    } else {
        ""
    };
    format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {labels}
  template:
    metadata:
      labels: {labels}
    spec:
      nodeSelector: {{svc-check-e2e/node: {node}}}
      containers:
      - name: app
        image: registry.example/{name}:1.0
        ports: {ports}{probe}
"#
    )
}

/// A ClusterIP Service `name` selecting `selector` with port 80 -> `target`.
pub fn service(name: &str, selector: &str, target: &str) -> String {
    format!(
        r#"
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector: {selector}
  ports:
  - {{port: 80, targetPort: {target}}}
"#
    )
}

/// The first line of the output (the verdict).
pub fn first_line(out: &RunOutput) -> &str {
    out.stdout.lines().next().unwrap_or_default()
}

/// A one-Service report with nothing wrong: the verdict says reachable, and no finding is an
/// error or a warning.
pub fn assert_no_alarm(report: &Value) {
    assert_eq!(
        report["findings"][0]["code"], "service-reachable",
        "{report:#}"
    );
    assert_eq!(report["summary"]["errors"], 0, "{report:#}");
    assert_eq!(report["summary"]["warnings"], 0, "{report:#}");
}

/// The text report names `code` as the first broken link, on `link`.
pub fn assert_culprit(out: &RunOutput, link: &str, code: &str) {
    assert!(
        out.stdout
            .contains(&format!("First broken link: {link} ({code}).")),
        "expected culprit {code} on {link}: {out}"
    );
}
