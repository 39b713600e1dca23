//! A Service as the checks see it: its type, its ports with the API defaults applied, its selector.

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube_runbook::report::ObjectRef;

use crate::labels::{Labels, selector_text};

/// How a Service is exposed, which decides the links of its chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    ClusterIp,
    /// `clusterIP: None`: DNS answers the pod IPs, nothing proxies or balances.
    Headless,
    NodePort,
    LoadBalancer,
    /// A DNS alias (CNAME); no endpoints, no proxying.
    ExternalName,
}

impl ServiceKind {
    pub fn of(service: &Service) -> ServiceKind {
        let spec = service.spec.as_ref();
        let headless = spec.and_then(|s| s.cluster_ip.as_deref()) == Some("None");
        match spec.and_then(|s| s.type_.as_deref()) {
            Some("ExternalName") => ServiceKind::ExternalName,
            Some("NodePort") => ServiceKind::NodePort,
            Some("LoadBalancer") => ServiceKind::LoadBalancer,
            _ if headless => ServiceKind::Headless,
            _ => ServiceKind::ClusterIp,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ServiceKind::ClusterIp => "ClusterIP",
            ServiceKind::Headless => "headless",
            ServiceKind::NodePort => "NodePort",
            ServiceKind::LoadBalancer => "LoadBalancer",
            ServiceKind::ExternalName => "ExternalName",
        }
    }

    /// Whether a virtual IP exists that kube-proxy (or its replacement) must translate.
    pub fn is_proxied(self) -> bool {
        matches!(
            self,
            ServiceKind::ClusterIp | ServiceKind::NodePort | ServiceKind::LoadBalancer
        )
    }

    /// Whether the Service reaches pods through endpoints (everything but ExternalName).
    pub fn has_endpoints(self) -> bool {
        self != ServiceKind::ExternalName
    }
}

/// A Service port's `targetPort`: a number, or a container port name looked up per pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetPort {
    Number(i32),
    Name(String),
}

impl std::fmt::Display for TargetPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TargetPort::Number(n) => write!(f, "{n}"),
            TargetPort::Name(name) => write!(f, "\"{name}\""),
        }
    }
}

/// One Service port with defaults applied: protocol TCP, targetPort = port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSpec {
    /// Empty for the single unnamed port.
    pub name: String,
    pub port: i32,
    pub protocol: String,
    pub target: TargetPort,
    pub node_port: Option<i32>,
}

impl PortSpec {
    fn from_api(port: &ServicePort) -> PortSpec {
        let target = match &port.target_port {
            Some(IntOrString::String(name)) => match name.parse::<i32>() {
                Ok(number) => TargetPort::Number(number),
                Err(_) => TargetPort::Name(name.clone()),
            },
            Some(IntOrString::Int(number)) if *number != 0 => TargetPort::Number(*number),
            _ => TargetPort::Number(port.port),
        };
        PortSpec {
            name: port.name.clone().unwrap_or_default(),
            port: port.port,
            protocol: port.protocol.clone().unwrap_or_else(|| "TCP".to_string()),
            target,
            node_port: port.node_port.filter(|p| *p != 0),
        }
    }

    /// `80/TCP`, or `http 80/TCP` for a named port.
    pub fn label(&self) -> String {
        if self.name.is_empty() {
            format!("{}/{}", self.port, self.protocol)
        } else {
            format!("{} {}/{}", self.name, self.port, self.protocol)
        }
    }
}

/// The Service under examination.
pub struct Subject<'a> {
    pub service: &'a Service,
    pub namespace: &'a str,
    pub name: &'a str,
    pub kind: ServiceKind,
    pub ports: Vec<PortSpec>,
    /// None when the selector is absent or empty: endpoints are managed by someone else.
    pub selector: Option<&'a Labels>,
}

impl<'a> Subject<'a> {
    pub fn new(service: &'a Service) -> Subject<'a> {
        let spec = service.spec.as_ref();
        let kind = ServiceKind::of(service);
        let ports = spec
            .and_then(|s| s.ports.as_ref())
            .map(|ports| ports.iter().map(PortSpec::from_api).collect())
            .unwrap_or_default();
        let selector = spec
            .and_then(|s| s.selector.as_ref())
            .filter(|s| !s.is_empty() && kind != ServiceKind::ExternalName);
        Subject {
            service,
            namespace: service.metadata.namespace.as_deref().unwrap_or_default(),
            name: service.metadata.name.as_deref().unwrap_or_default(),
            kind,
            ports,
            selector,
        }
    }

    pub fn object(&self) -> ObjectRef {
        ObjectRef::namespaced("Service", self.namespace, self.name)
    }

    pub fn spec(&self) -> Option<&'a ServiceSpec> {
        self.service.spec.as_ref()
    }

    /// The name clients use: `web.shop.svc` (plus the cluster domain, `cluster.local` by default).
    pub fn dns_name(&self) -> String {
        format!("{}.{}.svc", self.name, self.namespace)
    }

    pub fn cluster_ip(&self) -> Option<&'a str> {
        self.spec()
            .and_then(|s| s.cluster_ip.as_deref())
            .filter(|ip| !ip.is_empty() && *ip != "None")
    }

    pub fn publishes_not_ready(&self) -> bool {
        self.spec()
            .and_then(|s| s.publish_not_ready_addresses)
            .unwrap_or(false)
    }

    pub fn selector_text(&self) -> String {
        self.selector.map(selector_text).unwrap_or_default()
    }

    /// `kubectl ... -n NS`: the namespace flag for commands about this Service.
    pub fn ns_flag(&self) -> String {
        format!("-n {}", self.namespace)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn service(spec: serde_json::Value) -> Service {
        serde_json::from_value(
            json!({"metadata": {"name": "web", "namespace": "shop"}, "spec": spec}),
        )
        .unwrap()
    }

    #[test]
    fn applies_port_defaults() {
        let svc = service(json!({"ports": [
            {"port": 80},
            {"name": "metrics", "port": 9090, "targetPort": "metrics", "protocol": "TCP"},
            {"name": "dns", "port": 53, "targetPort": 5353, "protocol": "UDP"}
        ], "selector": {"app": "web"}}));
        let subject = Subject::new(&svc);
        assert_eq!(subject.ports[0].target, TargetPort::Number(80));
        assert_eq!(subject.ports[0].protocol, "TCP");
        assert_eq!(subject.ports[1].target, TargetPort::Name("metrics".into()));
        assert_eq!(subject.ports[2].label(), "dns 53/UDP");
        assert_eq!(subject.selector_text(), "app=web");
        assert_eq!(subject.dns_name(), "web.shop.svc");
    }

    #[test]
    fn kinds_and_empty_selectors() {
        assert_eq!(
            ServiceKind::of(&service(json!({"clusterIP": "None"}))),
            ServiceKind::Headless
        );
        assert_eq!(
            ServiceKind::of(&service(
                json!({"type": "ExternalName", "externalName": "db.example.com"})
            )),
            ServiceKind::ExternalName
        );
        let manual = service(json!({"selector": {}}));
        assert!(Subject::new(&manual).selector.is_none());
    }
}
