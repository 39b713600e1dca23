//! The workloads that assign LoadBalancer addresses, found by name (namespace for MetalLB), and
//! whether one serves a Service (its classes: [`super::classes`]).

use k8s_openapi::api::core::v1::{PodTemplateSpec, Service};
use kube::api::ObjectMeta;
use kube_runbook::report::ObjectRef;

use super::classes::{self, AWS_CLASS, Classes};
use crate::index::Index;

/// Workloads that assign LoadBalancer addresses, recognised by name.
const PRODUCTS: [(&str, &str); 8] = [
    ("cloud-controller-manager", CLOUD_CONTROLLER),
    ("metallb", METALLB),
    ("kube-vip", KUBE_VIP),
    ("cilium-operator", CILIUM_LB_IPAM),
    ("openelb", "OpenELB"),
    ("purelb", "PureLB"),
    ("loxilb", "LoxiLB"),
    ("aws-load-balancer-controller", AWS_LB_CONTROLLER),
];
pub const METALLB: &str = "MetalLB";
pub const KUBE_VIP: &str = "kube-vip";
pub const CILIUM_LB_IPAM: &str = "Cilium LB IPAM";
pub const AWS_LB_CONTROLLER: &str = "AWS Load Balancer Controller";
const METALLB_NAMESPACE: &str = "metallb-system";
pub const CLOUD_CONTROLLER: &str = "cloud-controller-manager";
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

/// A workload that can assign LoadBalancer addresses.
#[derive(Debug, Clone)]
pub struct Controller {
    pub product: &'static str,
    pub object: ObjectRef,
    pub ready: bool,
    pub classes: Classes,
}

impl Controller {
    pub fn serves(&self, service: &Service) -> bool {
        let class = service
            .spec
            .as_ref()
            .and_then(|s| s.load_balancer_class.as_deref());
        match (&self.classes, class) {
            (Classes::Any, _) => true,
            (Classes::Only { unclassed, .. }, None) => unclassed.admits(&service.metadata),
            (Classes::Only { named, .. }, Some(class)) => named.iter().any(|n| n == class),
        }
    }

    /// What it serves, in words: "serves only Services without a loadBalancerClass".
    pub fn serves_in_words(&self) -> String {
        match &self.classes {
            Classes::Any => "may serve any loadBalancerClass".into(),
            Classes::Only { unclassed, named } => {
                let served: Vec<String> = unclassed
                    .in_words()
                    .into_iter()
                    .chain(named.iter().map(|n| format!("loadBalancerClass {n}")))
                    .collect();
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
                classes: classes::of(product, containers),
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

    fn load_balancer(class: Option<&str>, aws_type: Option<&str>) -> Service {
        let annotations =
            aws_type.map(|t| json!({"service.beta.kubernetes.io/aws-load-balancer-type": t}));
        serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "shop", "annotations": annotations},
            "spec": {"type": "LoadBalancer", "loadBalancerClass": class}
        }))
        .unwrap()
    }

    fn controller(product: &'static str) -> Controller {
        Controller {
            product,
            object: ObjectRef::namespaced("Deployment", "kube-system", product),
            ready: true,
            classes: classes::of(product, &[]),
        }
    }

    #[test]
    fn the_aws_controller_takes_unclassed_services_only_when_annotated_external() {
        let aws = controller(AWS_LB_CONTROLLER);
        assert!(
            !aws.serves(&load_balancer(None, None)),
            "the cloud provider's"
        );
        assert!(
            !aws.serves(&load_balancer(None, Some("nlb"))),
            "the cloud provider's"
        );
        assert!(aws.serves(&load_balancer(None, Some("external"))));
        assert!(aws.serves(&load_balancer(None, Some("nlb-ip"))));
        assert!(aws.serves(&load_balancer(Some(AWS_CLASS), None)));
        assert!(!aws.serves(&load_balancer(Some("example.com/other"), Some("external"))));
        assert_eq!(
            aws.serves_in_words(),
            "serves only Services without a loadBalancerClass annotated service.beta.kubernetes.io/aws-load-balancer-type external or nlb-ip and loadBalancerClass service.k8s.aws/nlb"
        );
    }

    #[test]
    fn cilium_lb_ipam_leaves_node_ipam_its_class() {
        let cilium = controller(CILIUM_LB_IPAM);
        assert!(cilium.serves(&load_balancer(Some("io.cilium/l2-announcer"), None)));
        assert!(cilium.serves(&load_balancer(None, None)));
        assert!(!cilium.serves(&load_balancer(Some("io.cilium/node"), None)));
    }
}
