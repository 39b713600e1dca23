//! The kubelet-side findings of `kubectl why-pending POD` against the real control plane. Each
//! test stages what a kubelet would have written (container states, pod status, events) on a
//! node of its own (see `fake_kubelet`), runs the real binary with `-o json`, and checks the
//! finding codes and the culprits they name.

mod fake_kubelet;

use std::path::Path;

use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams};
use kube_runbooks_harness::{ControlPlane, TestNamespace, poll_until};
use serde_json::{Value, json};

use self::fake_kubelet::FakeKubelet;

/// The report of `kubectl why-pending POD -n NS -o json`, and its exit code.
async fn why_pending(cp: &ControlPlane, ns: &TestNamespace, pod: &str) -> (Value, Option<i32>) {
    let bin = Path::new(env!("CARGO_BIN_EXE_kubectl-why_pending"));
    let out = cp.run(bin, &[pod, "-n", ns.name(), "-o", "json"]).await;
    let report = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not a JSON report ({e}): {out}"));
    (report, out.code)
}

fn codes(report: &Value) -> Vec<&str> {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["code"].as_str())
        .collect()
}

fn finding<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| {
            panic!(
                "no {code} finding in {}",
                serde_json::to_string_pretty(report).unwrap_or_default()
            )
        })
}

fn commands(finding: &Value) -> Vec<&str> {
    finding["remediation"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["command"].as_str())
        .collect()
}

fn web_pod(name: &str, image: &str, extra_spec: Value) -> Value {
    let mut pod = json!({"metadata": {"name": name}, "spec": {"containers": [{"name": "web", "image": image}]}});
    if let (Some(spec), Value::Object(extra)) = (pod["spec"].as_object_mut(), extra_spec) {
        spec.extend(extra);
    }
    pod
}

fn waiting(reason: &str, message: &str) -> Value {
    json!({"phase": "Pending", "containerStatuses": [{"name": "web", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
        "state": {"waiting": {"reason": reason, "message": message}}}]})
}

async fn setup(prefix: &str) -> (&'static ControlPlane, TestNamespace, FakeKubelet) {
    let cp = ControlPlane::shared().await;
    let ns = cp.namespace(prefix).await;
    let kubelet = FakeKubelet::start(cp, &format!("kubelet-{}", ns.name())).await;
    (cp, ns, kubelet)
}

#[tokio::test]
async fn image_tag_not_found() {
    let (cp, ns, kubelet) = setup("kl-image").await;
    let pod = kubelet
        .pod(
            &ns,
            web_pod("web", "registry.example/shop/web:9.9", json!({})),
        )
        .await;
    kubelet
        .set_status(
            &ns,
            "web",
            waiting(
                "ImagePullBackOff",
                "Back-off pulling image \"registry.example/shop/web:9.9\"",
            ),
        )
        .await;
    let error = "rpc error: code = NotFound desc = failed to pull and unpack image \"registry.example/shop/web:9.9\": failed to resolve reference \"registry.example/shop/web:9.9\": registry.example/shop/web:9.9: not found";
    kubelet
        .event(
            &ns,
            &pod,
            "Failed",
            &format!("Failed to pull image \"registry.example/shop/web:9.9\": {error}"),
            Some("web"),
        )
        .await;
    let (report, code) = why_pending(cp, &ns, "web").await;
    let missing = finding(&report, "image-not-found");
    assert_eq!(
        missing["details"]["reference"]["registry"],
        "registry.example"
    );
    assert_eq!(missing["details"]["reference"]["repository"], "shop/web");
    assert_eq!(missing["details"]["reference"]["tag"], "9.9");
    assert_eq!(code, Some(1), "an error finding exits 1");
}

#[tokio::test]
async fn pull_denied_for_a_missing_pull_secret() {
    let (cp, ns, kubelet) = setup("kl-secret").await;
    kubelet
        .pod(
            &ns,
            web_pod(
                "web",
                "registry.example/private/app:1",
                json!({"imagePullSecrets": [{"name": "regcred"}]}),
            ),
        )
        .await;
    kubelet
        .set_status(
            &ns,
            "web",
            waiting(
                "ErrImagePull",
                "failed to authorize: failed to fetch oauth token: 401 Unauthorized",
            ),
        )
        .await;
    let (report, _) = why_pending(cp, &ns, "web").await;
    let denied = finding(&report, "image-pull-unauthorized");
    assert_eq!(denied["details"]["pullSecrets"][0]["name"], "regcred");
    assert_eq!(denied["details"]["pullSecrets"][0]["exists"], false);
    let create = format!(
        "kubectl create secret docker-registry regcred --docker-server=registry.example --docker-username=<user> --docker-password=<password> -n {}",
        ns.name()
    );
    assert!(commands(denied).contains(&create.as_str()), "{denied}");
}

#[tokio::test]
async fn missing_config_map_key() {
    let (cp, ns, kubelet) = setup("kl-config").await;
    ns.apply_yaml(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-config}\ndata: {LEVEL: info}\n",
    )
    .await;
    let env = json!([{"name": "LOG_LEVEL", "valueFrom": {"configMapKeyRef": {"name": "app-config", "key": "LOG_LEVEL"}}}]);
    kubelet.pod(&ns, json!({"metadata": {"name": "web"}, "spec": {"containers": [{"name": "web", "image": "x:1", "env": env}]}})).await;
    let message = format!(
        "couldn't find key LOG_LEVEL in ConfigMap {}/app-config",
        ns.name()
    );
    kubelet
        .set_status(&ns, "web", waiting("CreateContainerConfigError", &message))
        .await;
    let (report, _) = why_pending(cp, &ns, "web").await;
    let missing = finding(&report, "config-map-key-not-found");
    assert_eq!(missing["details"]["name"], "app-config");
    assert_eq!(missing["details"]["key"], "LOG_LEVEL");
    assert_eq!(missing["details"]["container"], "web");
}

fn crash_looping(last: Value) -> Value {
    json!({"phase": "Running", "containerStatuses": [{"name": "web", "image": "x", "imageID": "", "ready": false, "restartCount": 5,
        "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 2m40s restarting failed container=web"}},
        "lastState": {"terminated": last}}]})
}

#[tokio::test]
async fn oom_killed_crash_loop() {
    let (cp, ns, kubelet) = setup("kl-oom").await;
    let resources = json!({"limits": {"memory": "128Mi"}});
    kubelet.pod(&ns, json!({"metadata": {"name": "web"}, "spec": {"containers": [{"name": "web", "image": "x:1", "resources": resources}]}})).await;
    kubelet
        .set_status(
            &ns,
            "web",
            crash_looping(json!({"exitCode": 137, "reason": "OOMKilled"})),
        )
        .await;
    let (report, _) = why_pending(cp, &ns, "web").await;
    let oom = finding(&report, "oom-killed");
    assert_eq!(oom["details"]["memoryLimit"], "128Mi");
    assert_eq!(oom["details"]["exitCode"], 137);
    let logs = format!("kubectl logs web -n {} -c web --previous", ns.name());
    assert!(commands(oom).contains(&logs.as_str()), "{oom}");
}

#[tokio::test]
async fn liveness_probe_restarts() {
    let (cp, ns, kubelet) = setup("kl-liveness").await;
    let probe = json!({"httpGet": {"path": "/healthz", "port": 8080}, "timeoutSeconds": 1, "failureThreshold": 3});
    let pod = kubelet
        .pod(&ns, json!({"metadata": {"name": "web"}, "spec": {"containers": [{"name": "web", "image": "x:1", "livenessProbe": probe}]}}))
        .await;
    kubelet
        .set_status(
            &ns,
            "web",
            crash_looping(json!({"exitCode": 143, "reason": "Error"})),
        )
        .await;
    kubelet.event(&ns, &pod, "Unhealthy", "Liveness probe failed: Get \"http://10.0.0.7:8080/healthz\": context deadline exceeded", Some("web")).await;
    kubelet
        .event(
            &ns,
            &pod,
            "Killing",
            "Container web failed liveness probe, will be restarted",
            Some("web"),
        )
        .await;
    let (report, _) = why_pending(cp, &ns, "web").await;
    let liveness = finding(&report, "liveness-probe-failed");
    let facts = liveness["evidence"].to_string();
    assert!(facts.contains("httpGet /healthz:8080"), "{facts}");
    assert!(facts.contains("context deadline exceeded"), "{facts}");
}

#[tokio::test]
async fn running_but_failing_readiness() {
    let (cp, ns, kubelet) = setup("kl-ready").await;
    let probe = json!({"tcpSocket": {"port": 5432}});
    let pod = kubelet
        .pod(&ns, json!({"metadata": {"name": "db"}, "spec": {"containers": [{"name": "db", "image": "x:1", "readinessProbe": probe}]}}))
        .await;
    let status = json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}],
        "containerStatuses": [{"name": "db", "image": "x", "imageID": "", "ready": false, "restartCount": 0, "state": {"running": {}}}]});
    kubelet.set_status(&ns, "db", status).await;
    kubelet
        .event(
            &ns,
            &pod,
            "Unhealthy",
            "Readiness probe failed: dial tcp 10.0.0.8:5432: connect: connection refused",
            Some("db"),
        )
        .await;
    let (report, _) = why_pending(cp, &ns, "db").await;
    assert_eq!(
        finding(&report, "readiness-probe-failed")["details"]["container"],
        "db"
    );
}

#[tokio::test]
async fn multi_attach_names_the_other_pod() {
    let (cp, ns, kubelet) = setup("kl-attach").await;
    let other = FakeKubelet::start(cp, &format!("kubelet-{}-b", ns.name())).await;
    let pv = format!("pv-{}", ns.name());
    cp.apply_yaml(
        ns.name(),
        &format!(
            "apiVersion: v1\nkind: PersistentVolume\nmetadata: {{name: {pv}}}\nspec:\n  capacity: {{storage: 1Gi}}\n  accessModes: [ReadWriteOnce]\n  storageClassName: \"\"\n  hostPath: {{path: /tmp/{pv}}}\n  claimRef: {{namespace: {ns}, name: data}}\n---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: data}}\nspec:\n  accessModes: [ReadWriteOnce]\n  storageClassName: \"\"\n  volumeName: {pv}\n  resources: {{requests: {{storage: 1Gi}}}}\n",
            ns = ns.name()
        ),
    )
    .await;
    let claims: Api<PersistentVolumeClaim> = ns.api();
    poll_until(
        kube_runbooks_harness::DEFAULT_TIMEOUT,
        "claim data Bound",
        || async {
            let claim = claims.get("data").await.map_err(|e| e.to_string())?;
            match claim.status.and_then(|s| s.phase) {
                Some(phase) if phase == "Bound" => Ok(()),
                phase => Err(format!("{phase:?}")),
            }
        },
    )
    .await;
    let volumes =
        json!({"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]});
    other
        .pod(&ns, web_pod("web-old", "x:1", volumes.clone()))
        .await;
    other
        .set_status(&ns, "web-old", json!({"phase": "Running"}))
        .await;
    let pod = kubelet.pod(&ns, web_pod("web-new", "x:1", volumes)).await;
    kubelet
        .set_status(&ns, "web-new", waiting("ContainerCreating", ""))
        .await;
    let message =
        format!("Multi-Attach error for volume \"{pv}\" Volume is already used by pod(s) web-old");
    kubelet
        .event(&ns, &pod, "FailedAttachVolume", &message, None)
        .await;
    let (report, _) = why_pending(cp, &ns, "web-new").await;
    let multi = finding(&report, "volume-multi-attach");
    assert_eq!(multi["details"]["claim"], "data");
    assert_eq!(multi["details"]["otherPods"], json!(["web-old"]));
    assert_eq!(multi["details"]["otherNodes"], json!([other.node]));
}

#[tokio::test]
async fn sandbox_failure_points_at_the_cni_pod_on_the_node() {
    let (cp, ns, kubelet) = setup("kl-cni").await;
    let daemon_set = format!(
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: calico-node}}\nspec:\n  selector: {{matchLabels: {{k8s-app: calico-node}}}}\n  template:\n    metadata: {{labels: {{k8s-app: calico-node}}}}\n    spec:\n      nodeSelector: {{kubernetes.io/hostname: {node}}}\n      tolerations: [{{operator: Exists}}]\n      containers: [{{name: calico-node, image: 'calico/node:v3.29'}}]\n",
        node = kubelet.node
    );
    ns.apply_yaml(&daemon_set).await;
    let pods: Api<Pod> = ns.api();
    let cni_pod = poll_until(
        kube_runbooks_harness::DEFAULT_TIMEOUT,
        "calico-node pod on the node",
        || async {
            let list = pods
                .list(&kube::api::ListParams::default().labels("k8s-app=calico-node"))
                .await
                .map_err(|e| e.to_string())?;
            list.items
                .into_iter()
                .find(|p| {
                    p.spec.as_ref().and_then(|s| s.node_name.as_deref())
                        == Some(kubelet.node.as_str())
                })
                .and_then(|p| p.metadata.name)
                .ok_or_else(|| "not scheduled yet".to_string())
        },
    )
    .await;
    let broken = json!({"phase": "Running", "containerStatuses": [{"name": "calico-node", "image": "x", "imageID": "", "ready": false,
        "restartCount": 9, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]});
    kubelet.set_status(&ns, &cni_pod, broken).await;
    let pod = kubelet.pod(&ns, web_pod("web", "x:1", json!({}))).await;
    kubelet
        .set_status(&ns, "web", waiting("ContainerCreating", ""))
        .await;
    let message = "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox \"4f1c\": plugin type=\"calico\" failed (add): stat /var/lib/calico/nodename: no such file or directory";
    kubelet
        .event(&ns, &pod, "FailedCreatePodSandBox", message, None)
        .await;
    let (report, _) = why_pending(cp, &ns, "web").await;
    let network = finding(&report, "pod-network-setup-failed");
    assert_eq!(network["details"]["cniPods"][0]["name"], cni_pod.as_str());
    assert_eq!(network["details"]["cniPods"][0]["daemonSet"], "calico-node");
    let problem = network["details"]["cniPods"][0]["problem"]
        .as_str()
        .unwrap_or_default();
    assert!(problem.contains("CrashLoopBackOff"), "{problem}");
}

#[tokio::test]
async fn evicted_pods_and_the_ones_left_behind() {
    let (cp, ns, kubelet) = setup("kl-evicted").await;
    let message = "The node was low on resource: ephemeral-storage. Threshold quantity: 10Gi, available: 8Gi. Container web was using 12Gi, request is 0, has larger consumption of ephemeral-storage. ";
    for name in ["web-a", "web-b"] {
        kubelet.pod(&ns, web_pod(name, "x:1", json!({}))).await;
        kubelet
            .set_status(
                &ns,
                name,
                json!({"phase": "Failed", "reason": "Evicted", "message": message}),
            )
            .await;
    }
    let (report, _) = why_pending(cp, &ns, "web-a").await;
    let evicted = finding(&report, "evicted-node-pressure");
    assert_eq!(evicted["details"]["evictedPodsInNamespace"], 2);
    let cleanup = format!(
        "kubectl delete pods -n {} --field-selector=status.phase==Failed",
        ns.name()
    );
    assert!(commands(evicted).contains(&cleanup.as_str()), "{evicted}");
}

#[tokio::test]
async fn kubelet_admission_out_of_cpu() {
    let (cp, ns, kubelet) = setup("kl-admission").await;
    kubelet.pod(&ns, web_pod("web", "x:1", json!({}))).await;
    let message = "Pod was rejected: Node didn't have enough resource: cpu, requested: 8000, used: 500, capacity: 4000";
    kubelet
        .set_status(
            &ns,
            "web",
            json!({"phase": "Failed", "reason": "OutOfcpu", "message": message}),
        )
        .await;
    let (report, _) = why_pending(cp, &ns, "web").await;
    assert_eq!(
        finding(&report, "kubelet-out-of-resources")["details"]["reason"],
        "OutOfcpu"
    );
}

#[tokio::test]
async fn stuck_terminating_hands_off_to_unstick() {
    let (cp, ns, kubelet) = setup("kl-terminating").await;
    let mut pod = web_pod("web", "x:1", json!({}));
    pod["metadata"]["finalizers"] = json!(["kube-runbooks.io/hold"]);
    kubelet.pod(&ns, pod).await;
    kubelet
        .set_status(&ns, "web", json!({"phase": "Running"}))
        .await;
    let pods: Api<Pod> = ns.api();
    pods.delete("web", &DeleteParams::default().grace_period(0))
        .await
        .unwrap_or_else(|e| panic!("cannot delete: {e}"));
    let (report, _) = why_pending(cp, &ns, "web").await;
    let terminating = finding(&report, "pod-terminating");
    let unstick = format!("kubectl unstick pod/web -n {}", ns.name());
    assert!(
        commands(terminating).contains(&unstick.as_str()),
        "{terminating}"
    );
    let release = json!({"metadata": {"finalizers": null}});
    pods.patch("web", &PatchParams::default(), &Patch::Merge(&release))
        .await
        .unwrap_or_else(|e| panic!("cannot release: {e}"));
}

#[tokio::test]
async fn a_node_that_stopped_reporting() {
    let (cp, ns, kubelet) = setup("kl-notready").await;
    kubelet.pod(&ns, web_pod("web", "x:1", json!({}))).await;
    kubelet
        .set_status(&ns, "web", json!({"phase": "Running"}))
        .await;
    let nodes: Api<k8s_openapi::api::core::v1::Node> = Api::all(cp.client());
    let down = json!({"status": {"conditions": [{"type": "Ready", "status": "False", "reason": "KubeletNotReady", "message": "PLEG is not healthy"}]}});
    nodes
        .patch_status(
            &kubelet.node,
            &PatchParams::default(),
            &Patch::Strategic(&down),
        )
        .await
        .unwrap_or_else(|e| panic!("cannot mark NotReady: {e}"));
    let (report, _) = why_pending(cp, &ns, "web").await;
    let not_ready = finding(&report, "node-not-ready");
    assert_eq!(not_ready["details"]["node"], kubelet.node.as_str());
}

#[tokio::test]
async fn running_and_ready_gives_no_kubelet_finding() {
    let (cp, ns, kubelet) = setup("kl-healthy").await;
    kubelet.pod(&ns, web_pod("web", "x:1", json!({}))).await;
    let status = json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}, {"type": "ContainersReady", "status": "True"}],
        "containerStatuses": [{"name": "web", "image": "x", "imageID": "", "ready": true, "restartCount": 0, "started": true, "state": {"running": {}}}]});
    kubelet.set_status(&ns, "web", status).await;
    let (report, code) = why_pending(cp, &ns, "web").await;
    assert!(codes(&report).is_empty(), "{report}");
    assert_eq!(code, Some(0));
}
