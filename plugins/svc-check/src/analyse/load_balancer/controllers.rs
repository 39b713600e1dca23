//! The workloads that assign LoadBalancer addresses, found by name (namespace for MetalLB), and
//! which Services each acts on: since spec.loadBalancerClass, an implementation takes only the
//! classes it is configured for, and the default one only Services without a class.

use k8s_openapi::api::core::v1::{Container, PodTemplateSpec};
use kube::api::ObjectMeta;
use kube_runbook::report::ObjectRef;

use crate::index::Index;

/// Workloads that assign LoadBalancer addresses, recognised by name.
const PRODUCTS: [(&str, &str); 8] = [
    ("cloud-controller-manager", CLOUD_CONTROLLER),
    ("metallb", METALLB),
    ("kube-vip", "kube-vip"),
    ("cilium-operator", "Cilium LB IPAM"),
    ("openelb", "OpenELB"),
    ("purelb", "PureLB"),
    ("loxilb", "LoxiLB"),
    (
        "aws-load-balancer-controller",
        "AWS Load Balancer Controller",
    ),
];
pub const METALLB: &str = "MetalLB";
const METALLB_NAMESPACE: &str = "metallb-system";
const CLOUD_CONTROLLER: &str = "cloud-controller-manager";
/// kube-vip's class when its `lb_class_name` is not set.
const KUBE_VIP_CLASS: &str = "kube-vip.io/kube-vip-class";
const CILIUM_CLASSES: [&str; 3] = [
    "io.cilium/bgp-control-plane",
    "io.cilium/l2-announcer",
    "io.cilium/node",
];
const AWS_CLASS: &str = "service.k8s.aws/nlb";

/// Classes whose implementation is known by name, for saying which one is missing.
const KNOWN_CLASSES: [(&str, &str); 6] = [
    (AWS_CLASS, "the AWS Load Balancer Controller"),
    ("eks.amazonaws.com/", "EKS Auto Mode"),
    ("io.cilium/", "Cilium"),
    ("kube-vip.io/", "kube-vip"),
    ("purelb.io/", "PureLB"),
    ("loxilb.io/", "LoxiLB"),
];
/// Classes served by a cloud's hosted controller, outside the cluster: (class prefix, cloud).
const HOSTED_CLASSES: [(&str, &str); 1] = [("eks.amazonaws.com/", "aws")];

/// Node providerID schemes of clouds whose controller may run outside the cluster (managed).
const HOSTED_CLOUDS: [&str; 12] = [
    "aws",
    "gce",
    "azure",
    "openstack",
    "alicloud",
    "digitalocean",
    "hcloud",
    "linode",
    "vsphere",
    "oci",
    "ibm",
    "scaleway",
];

/// The loadBalancerClass values a controller acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classes {
    /// How it is configured is not known: it may act on any Service.
    Any,
    Only {
        /// Services without a loadBalancerClass.
        unclassed: bool,
        named: Vec<String>,
    },
}

/// A workload that can assign LoadBalancer addresses.
#[derive(Debug, Clone)]
pub struct Controller {
    pub product: &'static str,
    pub object: ObjectRef,
    pub ready: bool,
    pub classes: Classes,
}

impl Controller {
    pub fn serves(&self, class: Option<&str>) -> bool {
        match (&self.classes, class) {
            (Classes::Any, _) => true,
            (Classes::Only { unclassed, .. }, None) => *unclassed,
            (Classes::Only { named, .. }, Some(class)) => named.iter().any(|n| n == class),
        }
    }

    /// What it serves, in words: "serves only Services without a loadBalancerClass".
    pub fn serves_in_words(&self) -> String {
        match &self.classes {
            Classes::Any => "may serve any loadBalancerClass".into(),
            Classes::Only { unclassed, named } => {
                let mut served: Vec<String> = named
                    .iter()
                    .map(|n| format!("loadBalancerClass {n}"))
                    .collect();
                if *unclassed {
                    served.insert(0, "Services without a loadBalancerClass".into());
                }
                format!("serves only {}", served.join(" and "))
            }
        }
    }
}

/// Every Deployment and DaemonSet that is a known load-balancer controller.
pub fn find(index: &Index) -> Vec<Controller> {
    let deployments = index.deployments().iter().map(|d| {
        let ready = d
            .status
            .as_ref()
            .and_then(|s| s.ready_replicas)
            .unwrap_or(0)
            > 0;
        let template = Some(&d.spec.template);
        ("Deployment", &d.metadata, template, ready)
    });
    let daemon_sets = index.daemon_sets().iter().map(|d| {
        let ready = d.status.as_ref().is_some_and(|s| s.number_ready > 0);
        let template = Some(&d.spec.template);
        ("DaemonSet", &d.metadata, template, ready)
    });
    deployments
        .chain(daemon_sets)
        .filter_map(|(kind, meta, template, ready)| {
            let product = product(meta)?;
            let containers = template
                .and_then(|t: &PodTemplateSpec| t.spec.as_ref())
                .map(|s| s.containers.as_slice())
                .unwrap_or_default();
            Some(Controller {
                product,
                object: ObjectRef::namespaced(
                    kind,
                    meta.namespace.as_deref().unwrap_or_default(),
                    meta.name.as_deref().unwrap_or_default(),
                ),
                ready,
                classes: classes(product, containers),
            })
        })
        .collect()
}

fn product(meta: &ObjectMeta) -> Option<&'static str> {
    let name = meta.name.as_deref().unwrap_or_default();
    if meta.namespace.as_deref() == Some(METALLB_NAMESPACE) {
        Some(METALLB)
    } else if name.starts_with("ccm-") || name.ends_with("-ccm") {
        Some(CLOUD_CONTROLLER)
    } else {
        PRODUCTS
            .iter()
            .find(|(needle, _)| name.contains(needle))
            .map(|(_, product)| *product)
    }
}

/// The classes a product acts on, from its documented defaults and its containers' settings.
fn classes(product: &str, containers: &[Container]) -> Classes {
    let only = |unclassed: bool, named: Vec<String>| Classes::Only { unclassed, named };
    match product {
        CLOUD_CONTROLLER => only(true, Vec::new()),
        // `--lb-class` makes MetalLB take that class only, instead of Services without one.
        METALLB => match flag(containers, "--lb-class") {
            Some(class) => only(false, vec![class]),
            None => only(true, Vec::new()),
        },
        "kube-vip" => only(
            true,
            vec![env(containers, "lb_class_name").unwrap_or_else(|| KUBE_VIP_CLASS.into())],
        ),
        "Cilium LB IPAM" => only(true, CILIUM_CLASSES.map(String::from).to_vec()),
        "AWS Load Balancer Controller" => only(true, vec![AWS_CLASS.into()]),
        _ => Classes::Any,
    }
}

/// The value of `--NAME=VALUE` or `--NAME VALUE` in any container's command or args.
fn flag(containers: &[Container], name: &str) -> Option<String> {
    containers.iter().find_map(|c| {
        let words: Vec<&String> = c
            .command
            .iter()
            .flatten()
            .chain(c.args.iter().flatten())
            .collect();
        words.iter().enumerate().find_map(|(i, word)| {
            if let Some(value) = word.strip_prefix(&format!("{name}=")) {
                Some(value.to_string())
            } else if word.as_str() == name {
                words.get(i + 1).map(|v| v.to_string())
            } else {
                None
            }
        })
    })
}

fn env(containers: &[Container], name: &str) -> Option<String> {
    containers
        .iter()
        .flat_map(|c| c.env.iter().flatten())
        .find(|e| e.name == name)
        .and_then(|e| e.value.clone())
        .filter(|v| !v.is_empty())
}

/// The cloud of the nodes' providerID, when it is one with a hosted controller.
pub fn hosted_cloud(index: &Index) -> Option<String> {
    index.nodes().find_map(|node| {
        let id = node.spec.as_ref()?.provider_id.as_deref()?;
        let scheme = id.split("://").next()?;
        HOSTED_CLOUDS.contains(&scheme).then(|| scheme.to_string())
    })
}

/// k3s nodes run the built-in ServiceLB.
pub fn k3s(index: &Index) -> bool {
    index.nodes().any(|node| {
        node.status
            .as_ref()
            .and_then(|s| s.node_info.as_ref())
            .is_some_and(|i| i.kubelet_version.contains("k3s"))
    })
}

/// The implementation a class name is known to belong to.
pub fn known_implementation(class: &str) -> Option<&'static str> {
    KNOWN_CLASSES
        .iter()
        .find(|(prefix, _)| class.starts_with(prefix))
        .map(|(_, name)| *name)
}

/// Whether the class belongs to a controller the cloud runs outside the cluster.
pub fn hosted_class(class: &str, cloud: Option<&str>) -> bool {
    HOSTED_CLASSES
        .iter()
        .any(|(prefix, on)| class.starts_with(prefix) && cloud == Some(*on))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn container(value: serde_json::Value) -> Vec<Container> {
        vec![serde_json::from_value(value).unwrap()]
    }

    #[test]
    fn metallb_serves_unclassed_services_unless_given_a_class() {
        let plain = classes(
            METALLB,
            &container(json!({"name": "controller", "args": ["--port=7472"]})),
        );
        assert_eq!(
            plain,
            Classes::Only {
                unclassed: true,
                named: vec![]
            }
        );
        for args in [
            json!(["--lb-class=example.com/metal"]),
            json!(["--lb-class", "example.com/metal"]),
        ] {
            let classed = classes(
                METALLB,
                &container(json!({"name": "controller", "args": args})),
            );
            assert_eq!(
                classed,
                Classes::Only {
                    unclassed: false,
                    named: vec!["example.com/metal".into()]
                }
            );
        }
    }

    #[test]
    fn kube_vip_takes_its_configured_class() {
        let configured = classes(
            "kube-vip",
            &container(
                json!({"name": "kube-vip", "env": [{"name": "lb_class_name", "value": "example.com/vip"}]}),
            ),
        );
        assert_eq!(
            configured,
            Classes::Only {
                unclassed: true,
                named: vec!["example.com/vip".into()]
            }
        );
    }
}
