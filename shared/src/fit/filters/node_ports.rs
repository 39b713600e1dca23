//! NodePorts: a host port (IP, protocol, port) can be bound by one pod per node
//! (`nodeports/node_ports.go`, `HostPortInfo.CheckConflict`).

use k8s_openapi::api::core::v1::Pod;
use serde::Serialize;

use super::rejection::{Code, Detail, Plugin, Rejection};
use crate::fit::index::{NodeEntry, Snapshot};
use crate::fit::reasons;
use crate::fit::requests::is_sidecar;

const ANY_IP: &str = "0.0.0.0";

/// A host port a pod binds, with the defaults applied (IP `0.0.0.0`, protocol `TCP`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HostPort<'a> {
    pub host_ip: &'a str,
    pub protocol: &'a str,
    pub port: i32,
}

impl HostPort<'_> {
    /// Two bindings collide on the same protocol and port when their IPs are equal or either
    /// is the wildcard `0.0.0.0`.
    pub fn conflicts_with(&self, other: &HostPort) -> bool {
        self.port == other.port
            && self.protocol == other.protocol
            && (self.host_ip == other.host_ip || self.host_ip == ANY_IP || other.host_ip == ANY_IP)
    }
}

/// The host ports of the pod's containers and sidecars (`util.GetHostPorts`).
pub fn host_ports(pod: &Pod) -> impl Iterator<Item = HostPort<'_>> {
    let spec = pod.spec.as_ref();
    let sidecars = spec
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or_default()
        .iter()
        .filter(|c| is_sidecar(c));
    let containers = spec
        .map(|s| s.containers.as_slice())
        .unwrap_or_default()
        .iter();
    sidecars
        .chain(containers)
        .flat_map(|c| c.ports.iter().flatten())
        .filter(|p| p.host_port.unwrap_or(0) > 0)
        .map(|p| HostPort {
            host_ip: p
                .host_ip
                .as_deref()
                .filter(|ip| !ip.is_empty())
                .unwrap_or(ANY_IP),
            protocol: p
                .protocol
                .as_deref()
                .filter(|p| !p.is_empty())
                .unwrap_or("TCP"),
            port: p.host_port.unwrap_or(0),
        })
}

pub(crate) fn check(
    wanted: &[HostPort],
    snapshot: &Snapshot,
    node: &NodeEntry,
) -> Option<Rejection> {
    if wanted.is_empty() {
        return None;
    }
    let used_ports = snapshot.ports_on_node(node.id);
    let (want, (used, holder)) = wanted.iter().find_map(|want| {
        used_ports
            .iter()
            .find(|(used, _)| want.conflicts_with(used))
            .map(|hit| (want, hit))
    })?;
    let holder = snapshot.pods[*holder].key();
    Some(
        Rejection::new(
            Plugin::NodePorts,
            Code::Unschedulable,
            reasons::NODE_PORTS,
            Detail::HostPortInUse {
                host_ip: used.host_ip.to_string(),
                protocol: used.protocol.to_string(),
                port: used.port,
                held_by: holder.clone(),
            },
        )
        .explained(format!(
            "The pod wants host port {}/{} on {}, but pod {holder} already binds {}:{}/{} on node {}.",
            want.port, want.protocol, want.host_ip, used.host_ip, used.port, used.protocol, node.name
        ))
        .with_evidence(format!("{holder} holds {}:{}/{}", used.host_ip, used.port, used.protocol))
        .with_fix(
            "Avoid hostPort: expose the pod through a Service (or hostNetwork only where required), \
             or choose a free port.",
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::testing::{node, pod_from, pod_with_spec};
    use serde_json::json;

    fn with_ports(ports: serde_json::Value) -> serde_json::Value {
        json!({"containers": [{"name": "c", "ports": ports}]})
    }

    fn holder(ports: serde_json::Value) -> Pod {
        pod_from(json!({
            "metadata": {"name": "holder", "namespace": "infra"},
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "ports": ports}]},
        }))
    }

    fn conflict(existing: serde_json::Value, wanted: serde_json::Value) -> Option<Rejection> {
        let nodes = [node("n1", json!({}))];
        let pods = [holder(existing)];
        let snapshot = Snapshot::new(&nodes, &pods);
        let incoming = pod_with_spec(with_ports(wanted));
        let wanted: Vec<HostPort> = host_ports(&incoming).collect();
        check(&wanted, &snapshot, &snapshot.nodes[0])
    }

    #[test]
    fn names_the_pod_holding_the_port() {
        let rejection = conflict(
            json!([{"containerPort": 80, "hostPort": 8080}]),
            json!([{"containerPort": 80, "hostPort": 8080}]),
        )
        .unwrap();
        assert_eq!(rejection.reason, reasons::NODE_PORTS);
        assert_eq!(rejection.code, Code::Unschedulable);
        assert!(rejection.explanation.contains("infra/holder"));
    }

    #[test]
    fn wildcard_and_specific_ips_conflict_but_distinct_ips_do_not() {
        let port = |ip: &str| json!([{"containerPort": 80, "hostPort": 80, "hostIP": ip}]);
        assert!(conflict(port("0.0.0.0"), port("10.0.0.1")).is_some());
        assert!(conflict(port("10.0.0.1"), port("")).is_some());
        assert!(conflict(port("10.0.0.1"), port("10.0.0.1")).is_some());
        assert!(conflict(port("10.0.0.1"), port("10.0.0.2")).is_none());
    }

    #[test]
    fn protocols_are_distinct_and_default_to_tcp() {
        let tcp = json!([{"containerPort": 53, "hostPort": 53}]);
        let udp = json!([{"containerPort": 53, "hostPort": 53, "protocol": "UDP"}]);
        assert!(conflict(tcp.clone(), udp).is_none());
        assert!(
            conflict(
                tcp,
                json!([{"containerPort": 53, "hostPort": 53, "protocol": "TCP"}])
            )
            .is_some()
        );
    }

    #[test]
    fn container_ports_without_host_port_are_ignored() {
        assert!(
            conflict(
                json!([{"containerPort": 80}]),
                json!([{"containerPort": 80}])
            )
            .is_none()
        );
    }

    #[test]
    fn sidecar_ports_count_but_plain_init_container_ports_do_not() {
        let pod = pod_with_spec(json!({
            "initContainers": [
                {"name": "init", "ports": [{"containerPort": 1, "hostPort": 1}]},
                {"name": "proxy", "restartPolicy": "Always", "ports": [{"containerPort": 2, "hostPort": 2}]},
            ],
            "containers": [{"name": "c", "ports": [{"containerPort": 3, "hostPort": 3}]}],
        }));
        let ports: Vec<i32> = host_ports(&pod).map(|p| p.port).collect();
        assert_eq!(ports, [2, 3]);
    }
}
