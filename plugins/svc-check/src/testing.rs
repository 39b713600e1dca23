//! Small cluster fixtures for unit tests: objects as JSON, a healthy web Service to break.

use k8s_openapi::jiff::Timestamp;
use kube_runbook::{
    report::Finding,
    state::{ClusterState, Kind, Origin},
};
use serde_json::{Value, json};

use crate::{coverage::Coverage, examine::examine, index::Index, request::Request};

/// The moment fixtures are observed at; pods became ready an hour earlier.
pub const OBSERVED: &str = "2026-01-01T01:00:00Z";
const READY_SINCE: &str = "2026-01-01T00:00:00Z";

pub struct Fixture {
    state: ClusterState,
}

impl Fixture {
    /// An empty cluster in which every kind was read.
    pub fn new() -> Fixture {
        let mut state = ClusterState::new(
            Origin::Snapshot {
                path: "fixture".into(),
            },
            OBSERVED
                .parse::<Timestamp>()
                .unwrap_or(Timestamp::UNIX_EPOCH),
        );
        state.loaded.extend([
            Kind::Service,
            Kind::EndpointSlice,
            Kind::Pod,
            Kind::NetworkPolicy,
            Kind::Namespace,
            Kind::Node,
            Kind::DaemonSet,
            Kind::Deployment,
            Kind::Event,
        ]);
        Fixture { state }
    }

    pub fn service(&mut self, value: Value) -> &mut Self {
        self.state.services.push(from(value));
        self
    }

    pub fn slice(&mut self, value: Value) -> &mut Self {
        self.state.endpoint_slices.push(from(value));
        self
    }

    pub fn pod(&mut self, value: Value) -> &mut Self {
        self.state.pods.push(from(value));
        self
    }

    pub fn policy(&mut self, value: Value) -> &mut Self {
        self.state.network_policies.push(from(value));
        self
    }

    pub fn namespace(&mut self, name: &str, labels: Value) -> &mut Self {
        let mut labels = labels;
        labels["kubernetes.io/metadata.name"] = json!(name);
        self.state
            .namespaces
            .push(from(json!({"metadata": {"name": name, "labels": labels}})));
        self
    }

    pub fn node(&mut self, name: &str, labels: Value) -> &mut Self {
        self.state.nodes.push(from(json!({
            "metadata": {"name": name, "labels": labels},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}
        })));
        self
    }

    pub fn event(&mut self, value: Value) -> &mut Self {
        self.state.events.push(from(value));
        self
    }

    pub fn daemon_set(&mut self, value: Value) -> &mut Self {
        self.state.daemon_sets.push(from(value));
        self
    }

    pub fn deployment(&mut self, value: Value) -> &mut Self {
        self.state.deployments.push(from(value));
        self
    }

    pub fn state(&self) -> ClusterState {
        self.state.clone()
    }

    /// A healthy `shop/web`: Service port 80 -> 8080, two ready pods with probes, their slice,
    /// kube-dns with a ready endpoint, kube-proxy on both nodes.
    pub fn healthy_web() -> Fixture {
        let mut f = Fixture::new();
        f.namespace("shop", json!({"team": "shop"}))
            .namespace("kube-system", json!({}))
            .node("n1", json!({}))
            .node("n2", json!({}))
            .service(service("shop", "web", json!({"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]})))
            .pod(pod("shop", "web-1", json!({"app": "web"}), "10.0.0.1", "n1"))
            .pod(pod("shop", "web-2", json!({"app": "web"}), "10.0.0.2", "n2"))
            .slice(slice("shop", "web", &[("web-1", "10.0.0.1", "n1", true), ("web-2", "10.0.0.2", "n2", true)], 8080))
            .service(service("kube-system", "kube-dns", json!({"selector": {"k8s-app": "kube-dns"}, "clusterIP": "10.96.0.10", "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]})))
            .pod(pod("kube-system", "coredns-1", json!({"k8s-app": "kube-dns"}), "10.0.9.1", "n1"))
            .edit_pod("coredns-1", |p| {
                p["spec"]["containers"][0]["ports"] = json!([{"name": "dns", "containerPort": 53, "protocol": "UDP"}]);
            })
            .slice(json!({
                "metadata": {"name": "kube-dns-1", "namespace": "kube-system", "labels": {"kubernetes.io/service-name": "kube-dns"}},
                "addressType": "IPv4",
                "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}],
                "endpoints": [{"addresses": ["10.0.9.1"], "targetRef": {"kind": "Pod", "name": "coredns-1"}, "nodeName": "n1"}]
            }))
            .daemon_set(json!({
                "metadata": {"name": "kube-proxy", "namespace": "kube-system", "labels": {"k8s-app": "kube-proxy"}},
                "status": {"desiredNumberScheduled": 2, "numberReady": 2, "currentNumberScheduled": 2, "numberMisscheduled": 0}
            }))
            .pod(pod("kube-system", "kube-proxy-a", json!({"k8s-app": "kube-proxy"}), "192.168.0.1", "n1"))
            .pod(pod("kube-system", "kube-proxy-b", json!({"k8s-app": "kube-proxy"}), "192.168.0.2", "n2"));
        f
    }

    /// Adds `shop/client` (app=client, IP 10.0.0.9) on node n1.
    pub fn client(&mut self) -> &mut Self {
        self.pod(pod(
            "shop",
            "client",
            json!({"app": "client"}),
            "10.0.0.9",
            "n1",
        ))
    }

    /// `healthy_web` plus `shop/client` (app=client, on n1) isolated by egress policy
    /// `client-egress` with `egress` rules.
    pub fn client_with_egress(egress: Value) -> Fixture {
        let mut f = Fixture::healthy_web();
        f.client().policy(
            json!({"metadata": {"name": "client-egress", "namespace": "shop"}, "spec": {
                "podSelector": {"matchLabels": {"app": "client"}},
                "policyTypes": ["Egress"],
                "egress": egress
            }}),
        );
        f
    }

    /// Mutates the stored objects as JSON (to break one thing in a healthy fixture).
    pub fn edit_pod(&mut self, name: &str, edit: impl Fn(&mut Value)) -> &mut Self {
        edit_in(&mut self.state.pods, name, edit);
        self
    }

    pub fn edit_service(&mut self, name: &str, edit: impl Fn(&mut Value)) -> &mut Self {
        edit_in(&mut self.state.services, name, edit);
        self
    }

    pub fn edit_slice(&mut self, name: &str, edit: impl Fn(&mut Value)) -> &mut Self {
        edit_in(&mut self.state.endpoint_slices, name, edit);
        self
    }

    pub fn edit_node(&mut self, name: &str, edit: impl Fn(&mut Value)) -> &mut Self {
        edit_in(&mut self.state.nodes, name, edit);
        self
    }

    pub fn remove_node(&mut self, name: &str) -> &mut Self {
        self.state
            .nodes
            .retain(|n| n.metadata.name.as_deref() != Some(name));
        self
    }

    pub fn remove_pod(&mut self, name: &str) -> &mut Self {
        self.state
            .pods
            .retain(|p| p.metadata.name.as_deref() != Some(name));
        self
    }

    pub fn remove_daemon_set(&mut self, name: &str) -> &mut Self {
        self.state
            .daemon_sets
            .retain(|d| d.metadata.name.as_deref() != Some(name));
        self
    }

    /// Examines the fixture as `kubectl svc-check [SERVICE] -n NS [--from POD]` would.
    pub fn run(
        &self,
        service: Option<&str>,
        namespace: Option<&str>,
        from: Option<&str>,
    ) -> Vec<Finding> {
        let state = self.state();
        let coverage = Coverage::everywhere(&state);
        let index = Index::new(&state, &coverage);
        let request = Request::new(service, from, None, namespace.map(str::to_string))
            .unwrap_or_else(|e| panic!("{e}"));
        examine(&index, &request).findings
    }

    /// `kubectl svc-check web -n shop [--from POD]`.
    pub fn check_web(&self, from: Option<&str>) -> Vec<Finding> {
        self.run(Some("web"), Some("shop"), from)
    }
}

fn edit_in<T: serde::Serialize + serde::de::DeserializeOwned + kube::ResourceExt>(
    items: &mut [T],
    name: &str,
    edit: impl Fn(&mut Value),
) {
    for item in items.iter_mut().filter(|i| i.name_any() == name) {
        let mut value = serde_json::to_value(&*item).unwrap_or(Value::Null);
        edit(&mut value);
        *item = from(value);
    }
}

fn from<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).unwrap_or_else(|e| panic!("bad fixture: {e}"))
}

pub fn service(ns: &str, name: &str, spec: Value) -> Value {
    let mut spec = spec;
    if spec.get("clusterIP").is_none() {
        spec["clusterIP"] = json!("10.96.1.1");
    }
    json!({"metadata": {"name": name, "namespace": ns, "uid": format!("uid-{name}")}, "spec": spec})
}

/// A running, ready pod with one container `app` declaring 8080 (`http`) and a readiness probe.
pub fn pod(ns: &str, name: &str, labels: Value, ip: &str, node: &str) -> Value {
    json!({
        "metadata": {"name": name, "namespace": ns, "labels": labels, "uid": format!("uid-{name}")},
        "spec": {
            "nodeName": node,
            "containers": [{
                "name": "app",
                "ports": [{"name": "http", "containerPort": 8080}],
                "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}}
            }]
        },
        "status": {
            "phase": "Running",
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "conditions": [
                {"type": "Ready", "status": "True", "lastTransitionTime": READY_SINCE},
                {"type": "ContainersReady", "status": "True", "lastTransitionTime": READY_SINCE}
            ],
            "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0, "image": "x", "imageID": "x",
                "state": {"running": {"startedAt": READY_SINCE}}}]
        }
    })
}

/// Removes `key` from a JSON object (a no-op on anything else).
pub fn remove(value: &mut Value, key: &str) {
    if let Some(object) = value.as_object_mut() {
        object.remove(key);
    }
}

/// Marks a pod JSON not ready (Ready False, container not ready).
pub fn make_unready(pod: &mut Value) {
    pod["status"]["conditions"][0]["status"] = json!("False");
    pod["status"]["conditions"][1]["status"] = json!("False");
    pod["status"]["containerStatuses"][0]["ready"] = json!(false);
}

/// An EndpointSlice of `service` with one unnamed TCP port: (pod, ip, node, ready).
pub fn slice(ns: &str, service: &str, endpoints: &[(&str, &str, &str, bool)], port: i32) -> Value {
    let endpoints: Vec<Value> = endpoints
        .iter()
        .map(|(pod, ip, node, ready)| {
            json!({
                "addresses": [ip],
                "conditions": {"ready": ready, "serving": ready, "terminating": false},
                "targetRef": {"kind": "Pod", "name": pod, "namespace": ns},
                "nodeName": node
            })
        })
        .collect();
    json!({
        "metadata": {"name": format!("{service}-abc"), "namespace": ns, "labels": {"kubernetes.io/service-name": service}},
        "addressType": "IPv4",
        "ports": [{"name": "", "port": port, "protocol": "TCP"}],
        "endpoints": endpoints
    })
}

/// The finding with `code`, or a panic listing the codes found.
pub fn find<'f>(findings: &'f [Finding], code: &str) -> &'f Finding {
    findings
        .iter()
        .find(|f| f.code == code)
        .unwrap_or_else(|| panic!("no {code} among {:?}", codes(findings)))
}

pub fn codes(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.code.as_str()).collect()
}

/// The verdict (the first finding) has `code`.
pub fn assert_verdict(findings: &[Finding], code: &str) {
    assert_eq!(
        findings.first().map(|f| f.code.as_str()),
        Some(code),
        "{:?}",
        codes(findings)
    );
}

/// Every YAML remedy of a finding, joined, for substring assertions.
pub fn remedy_yaml(finding: &Finding) -> String {
    finding
        .remediation
        .iter()
        .filter_map(|r| r.yaml.as_deref())
        .collect::<Vec<_>>()
        .join("\n---\n")
}

/// Every fact of a finding's evidence, joined, for substring assertions.
pub fn facts(finding: &Finding) -> String {
    finding
        .evidence
        .iter()
        .map(|e| e.fact.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}
