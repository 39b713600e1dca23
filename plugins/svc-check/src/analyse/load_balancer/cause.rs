//! Why a LoadBalancer's EXTERNAL-IP is pending, most telling first, and how that reads.

use k8s_openapi::api::core::v1::{Event, Service};

use super::{
    LoadBalancers,
    controllers::{self, Controller, METALLB},
};

/// Why no address was assigned, most telling first.
pub enum Cause<'c> {
    /// The controllers that serve the Service have no ready pod.
    NotReady(Vec<&'c Controller>),
    Reported(&'c Event),
    /// No controller found serves the Service's class (or Services without one).
    Missing,
    /// A ready MetalLB serves it: its address pools are the suspects.
    MetalLb,
    /// A ready controller serves it, or what serves it could not be told.
    Unassigned(Option<&'c Controller>),
}

/// The cause, and what else bears on it.
pub struct Diagnosis<'c> {
    pub cause: Cause<'c>,
    /// A ready MetalLB that serves the Service: its address pools are suspects.
    pub metallb: Option<&'c Controller>,
    /// A controller outside the cluster (the cloud's, k3s ServiceLB) may serve it.
    pub hosted: bool,
}

impl<'c> Diagnosis<'c> {
    pub fn of(
        lbs: &'c LoadBalancers,
        service: &Service,
        class: Option<&str>,
        events: &[&'c Event],
    ) -> Diagnosis<'c> {
        let serving: Vec<&Controller> = lbs
            .controllers
            .iter()
            .filter(|c| c.serves(service))
            .collect();
        let ready: Vec<&Controller> = serving.iter().copied().filter(|c| c.ready).collect();
        let hosted = match class {
            None => lbs.hosted_cloud.is_some() || lbs.k3s,
            Some(class) => controllers::hosted_class(class, lbs.hosted_cloud.as_deref()),
        };
        let metallb = ready.iter().copied().find(|c| c.product == METALLB);
        let cause = if !serving.is_empty() && ready.is_empty() {
            Cause::NotReady(serving)
        } else if let Some(event) = events.first() {
            Cause::Reported(event)
        } else if serving.is_empty() && !hosted && lbs.checked {
            Cause::Missing
        } else if metallb.is_some() {
            Cause::MetalLb
        } else {
            Cause::Unassigned(ready.first().copied())
        };
        Diagnosis {
            cause,
            metallb,
            hosted,
        }
    }
}

fn names(controllers: &[&Controller]) -> String {
    controllers
        .iter()
        .map(|c| c.object.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn title(cause: &Cause, class: Option<&str>, none_found: bool) -> String {
    match (cause, class) {
        (Cause::NotReady(stuck), None) => format!(
            "the load-balancer controller has no ready pod ({})",
            names(stuck)
        ),
        (Cause::NotReady(stuck), Some(class)) => format!(
            "the controller for loadBalancerClass {class} has no ready pod ({})",
            names(stuck)
        ),
        (Cause::Reported(event), _) => format!(
            "the controller reports {}",
            event.reason.as_deref().unwrap_or("an error")
        ),
        (Cause::Missing, None) if none_found => {
            "no load-balancer controller exists in the cluster".into()
        }
        (Cause::Missing, None) => {
            "no controller serves Services without a loadBalancerClass".into()
        }
        (Cause::Missing, Some(class)) => match controllers::known_implementation(class) {
            Some(name) => {
                format!(
                    "no controller for loadBalancerClass {class} ({name}) appears to be installed"
                )
            }
            None => format!("no controller for loadBalancerClass {class} appears to be installed"),
        },
        (Cause::MetalLb, _) => "MetalLB has not assigned an address from any IPAddressPool".into(),
        (Cause::Unassigned(Some(controller)), Some(class)) => format!(
            "{} ({}) serves loadBalancerClass {class} but has not assigned an address",
            controller.product, controller.object
        ),
        (Cause::Unassigned(_), Some(class)) => {
            format!("no controller has acted on loadBalancerClass {class}")
        }
        (Cause::Unassigned(_), None) => "no controller has assigned an address".into(),
    }
}

pub fn explanation(cause: &Cause, class: Option<&str>, none_found: bool, metallb: bool) -> String {
    let mut explanation = String::from(
        "A LoadBalancer Service gets its EXTERNAL-IP from a controller: the cloud provider's \
         cloud-controller-manager, or on bare metal MetalLB, kube-vip, Cilium LB IPAM, k3s ServiceLB. Until one \
         assigns it, only clients inside the cluster (cluster IP) and node ports work.",
    );
    if let Some(class) = class {
        explanation.push_str(&format!(
            " spec.loadBalancerClass is {class}: the default controller ignores the Service, as does every \
             implementation not configured for that class; only a controller for {class} assigns its address."
        ));
    }
    match cause {
        Cause::NotReady(_) => explanation.push_str(
            " The controller found has no ready pod; a cloud-controller-manager stuck in leader election keeps every \
             LoadBalancer pending until its pod is restarted (003 6.8.2).",
        ),
        Cause::Missing if none_found && class.is_none() => explanation.push_str(
            " None runs here and the nodes are not on a cloud with a hosted controller, so the address will stay pending.",
        ),
        Cause::Missing => explanation.push_str(
            " None of the controllers found serves it, so the address will stay pending.",
        ),
        _ => {}
    }
    if metallb {
        explanation.push_str(
            " MetalLB assigns addresses only from an IPAddressPool: one must exist, have a free address, and admit the \
             Service (autoAssign, or the pool named in the Service's metallb.io/address-pool annotation; the pool's \
             serviceAllocation namespace and Service selectors).",
        );
    }
    explanation
}
