//! An EXTERNAL-IP that stays pending (003 6.8.2): the controller's events, and whether a
//! controller serving the Service's loadBalancerClass (without one: the default implementation)
//! exists and is ready. Only that controller may assign the address; MetalLB assigns it only
//! from an IPAddressPool.

use k8s_openapi::api::core::v1::Event;
use kube_runbook::report::{Finding, Remedy, Severity, Source};
use serde_json::json;

use super::cause::{self, Cause, Diagnosis};
use crate::{
    analyse::Context,
    chain::{Link, Observation},
};

pub fn pending(cx: &Context) -> Observation {
    let subject = cx.subject;
    let lbs = &cx.infra.load_balancers;
    let class = subject
        .spec()
        .and_then(|s| s.load_balancer_class.as_deref());
    let events = cx.index.events_for(
        "Service",
        subject.namespace,
        subject.name,
        subject.service.metadata.uid.as_deref(),
    );
    let diagnosis = Diagnosis::of(lbs, subject.service, class, &events);
    let none_found = lbs.controllers.is_empty();
    let finding = Finding::new(
        Severity::Error,
        subject.object(),
        "load-balancer-pending",
        format!(
            "EXTERNAL-IP is pending: {}",
            cause::title(&diagnosis.cause, class, none_found)
        ),
    )
    .explain(cause::explanation(
        &diagnosis.cause,
        class,
        none_found,
        diagnosis.metallb.is_some(),
    ))
    .evidence(
        "status.loadBalancer.ingress is empty",
        Source::Field {
            object: subject.object(),
            path: "status.loadBalancer".into(),
        },
    );
    let finding = with_evidence(cx, finding, &events, diagnosis.hosted);
    let finding = with_remedies(cx, finding, &diagnosis, class).details(json!({
        "loadBalancerClass": class,
        "controllers": lbs.controllers.iter().map(|c| json!({"product": c.product, "object": c.object, "ready": c.ready, "serves": c.serves(subject.service)})).collect::<Vec<_>>(),
        "hostedCloud": lbs.hosted_cloud,
    }));
    Observation::external(Link::ServicePort, finding)
}

/// The controller's events, every controller found and whether it serves the Service, the cloud.
fn with_evidence(cx: &Context, mut finding: Finding, events: &[&Event], hosted: bool) -> Finding {
    let lbs = &cx.infra.load_balancers;
    for event in events.iter().take(3) {
        finding = finding.evidence(
            event.message.clone().unwrap_or_default(),
            cx.event_source(event),
        );
    }
    for controller in &lbs.controllers {
        let state = if controller.ready {
            "is ready"
        } else {
            "has no ready pod"
        };
        let not_this = if controller.serves(cx.subject.service) {
            String::new()
        } else {
            format!(", but {}", controller.serves_in_words())
        };
        finding = finding.evidence(
            format!(
                "{} ({}) {state}{not_this}",
                controller.product, controller.object
            ),
            Source::Object {
                object: controller.object.clone(),
            },
        );
    }
    if let Some(cloud) = lbs.hosted_cloud.as_deref().filter(|_| hosted) {
        finding = finding.evidence(
            format!("nodes run on {cloud}, whose controller may run outside the cluster"),
            Source::Computed,
        );
    }
    if lbs.controllers.is_empty() && lbs.checked {
        finding = finding.evidence(
            "no cloud-controller-manager, MetalLB, kube-vip, Cilium, OpenELB, PureLB or LoxiLB workload in any namespace",
            Source::Computed,
        );
    }
    finding
}

fn with_remedies(
    cx: &Context,
    finding: Finding,
    diagnosis: &Diagnosis,
    class: Option<&str>,
) -> Finding {
    let subject = cx.subject;
    let mut finding = finding.remedy(remedy(cx, &diagnosis.cause, class));
    if let Some(metallb) = diagnosis.metallb {
        finding = finding.remedy(Remedy::command(
            "List MetalLB's address pools: one must exist, have free addresses and admit this Service",
            format!(
                "kubectl get ipaddresspools -n {}",
                metallb.object.namespace.as_deref().unwrap_or_default()
            ),
        ));
    }
    finding.remedy(Remedy::command(
        "Meanwhile reach it through a node port",
        format!(
            "kubectl get service {} {} -o jsonpath='{{.spec.ports[*].nodePort}}'",
            subject.name,
            subject.ns_flag()
        ),
    ))
}

fn remedy(cx: &Context, cause: &Cause, class: Option<&str>) -> Remedy {
    let subject = cx.subject;
    let describe = || {
        Remedy::command(
            "Read the Service's events and the controller's logs",
            format!(
                "kubectl describe service {} {}",
                subject.name,
                subject.ns_flag()
            ),
        )
    };
    match (cause, class) {
        (Cause::NotReady(stuck), _) => match stuck.iter().find(|c| !c.ready) {
            Some(stuck) => {
                let namespace = stuck.object.namespace.as_deref().unwrap_or_default();
                Remedy::command(
                    format!("Look at {} and its pods' logs", stuck.object),
                    format!(
                        "kubectl describe {} {} -n {namespace}",
                        stuck.object.kind.to_lowercase(),
                        stuck.object.name
                    ),
                )
            }
            None => describe(),
        },
        (Cause::Missing, Some(class)) => Remedy::step(format!(
            "Install a controller for loadBalancerClass {class}, or recreate the Service without spec.loadBalancerClass \
             (it cannot be changed in place) so that the default implementation takes it"
        )),
        (Cause::Missing, None) if cx.infra.load_balancers.controllers.is_empty() => Remedy::step(
            "Install a load-balancer implementation for this environment (MetalLB, kube-vip, Cilium LB IPAM) with an address pool",
        ),
        (Cause::Missing, None) => Remedy::step(
            "Recreate the Service with the loadBalancerClass of an installed controller (the field cannot be added in \
             place), or configure one for Services without a class",
        ),
        _ => describe(),
    }
}

#[cfg(test)]
mod tests {
    use kube_runbook::report::Finding;
    use serde_json::{Value, json};

    use crate::testing::{Fixture, facts, find};

    /// `healthy_web` as a pending LoadBalancer of `class` (None: no class).
    fn pending_web(class: Option<&str>) -> Fixture {
        let mut f = Fixture::healthy_web();
        f.edit_service("web", |s| {
            s["spec"]["type"] = json!("LoadBalancer");
            if let Some(class) = class {
                s["spec"]["loadBalancerClass"] = json!(class);
            }
        });
        f
    }

    /// A ready MetalLB controller in metallb-system, started with `args`.
    fn metallb(args: Value) -> Value {
        json!({
            "metadata": {"name": "controller", "namespace": "metallb-system"},
            "spec": {"selector": {}, "template": {"spec": {"containers": [{"name": "controller", "args": args}]}}},
            "status": {"replicas": 1, "readyReplicas": 1}
        })
    }

    fn pending(f: &Fixture) -> Finding {
        find(&f.check_web(None), "load-balancer-pending").clone()
    }

    fn commands(finding: &Finding) -> Vec<&str> {
        finding
            .remediation
            .iter()
            .filter_map(|r| r.command.as_deref())
            .collect()
    }

    #[test]
    fn a_class_no_installed_controller_serves_blames_none_of_them() {
        let mut f = pending_web(Some("example.com/internal"));
        f.deployment(metallb(json!(["--port=7472"])))
            .deployment(json!({
                "metadata": {"name": "cloud-controller-manager", "namespace": "kube-system"},
                "status": {"replicas": 1, "readyReplicas": 0}
            }));
        let finding = pending(&f);
        assert_eq!(
            finding.title,
            "EXTERNAL-IP is pending: no controller for loadBalancerClass example.com/internal appears to be installed"
        );
        assert!(
            facts(&finding).contains("MetalLB (Deployment metallb-system/controller) is ready, but serves only Services without a loadBalancerClass"),
            "{}",
            facts(&finding)
        );
        assert!(
            facts(&finding).contains("cloud-controller-manager (Deployment kube-system/cloud-controller-manager) has no ready pod, but serves only Services without a loadBalancerClass"),
            "{}",
            facts(&finding)
        );
        assert!(
            !commands(&finding)
                .iter()
                .any(|c| c.contains("ipaddresspools")),
            "{:?}",
            commands(&finding)
        );
        assert!(
            finding.remediation[0]
                .description
                .starts_with("Install a controller for loadBalancerClass example.com/internal, or recreate the Service without spec.loadBalancerClass"),
            "{:?}",
            finding.remediation
        );
    }

    #[test]
    fn a_known_class_names_its_implementation() {
        let finding = pending(&pending_web(Some("service.k8s.aws/nlb")));
        assert_eq!(
            finding.title,
            "EXTERNAL-IP is pending: no controller for loadBalancerClass service.k8s.aws/nlb (the AWS Load Balancer Controller) appears to be installed"
        );
    }

    #[test]
    fn a_class_served_by_a_ready_controller_names_it() {
        let mut f = pending_web(Some("kube-vip.io/kube-vip-class"));
        f.daemon_set(json!({
            "metadata": {"name": "kube-vip-ds", "namespace": "kube-system"},
            "status": {"desiredNumberScheduled": 1, "numberReady": 1, "currentNumberScheduled": 1, "numberMisscheduled": 0}
        }));
        assert_eq!(
            pending(&f).title,
            "EXTERNAL-IP is pending: kube-vip (DaemonSet kube-system/kube-vip-ds) serves loadBalancerClass kube-vip.io/kube-vip-class but has not assigned an address"
        );
    }

    #[test]
    fn metallb_serving_the_service_points_at_its_address_pools() {
        let mut f = pending_web(Some("example.com/metal"));
        f.deployment(metallb(json!(["--lb-class=example.com/metal"])));
        let finding = pending(&f);
        assert_eq!(
            finding.title,
            "EXTERNAL-IP is pending: MetalLB has not assigned an address from any IPAddressPool"
        );
        assert!(
            finding
                .explanation
                .contains("MetalLB assigns addresses only from an IPAddressPool"),
            "{}",
            finding.explanation
        );
        assert!(
            commands(&finding).contains(&"kubectl get ipaddresspools -n metallb-system"),
            "{:?}",
            commands(&finding)
        );
    }

    #[test]
    fn metallb_events_are_quoted_and_its_pools_still_suspected() {
        let mut f = pending_web(None);
        f.deployment(metallb(json!([]))).event(json!({
            "metadata": {"name": "web.allocationfailed", "namespace": "shop"},
            "involvedObject": {"kind": "Service", "name": "web", "namespace": "shop", "uid": "uid-web"},
            "reason": "AllocationFailed", "type": "Warning", "count": 3,
            "message": "Failed to allocate IP for \"shop/web\": no available IPs",
            "lastTimestamp": "2026-01-01T00:59:00Z"
        }));
        let finding = pending(&f);
        assert_eq!(
            finding.title,
            "EXTERNAL-IP is pending: the controller reports AllocationFailed"
        );
        assert!(
            facts(&finding).contains("no available IPs"),
            "{}",
            facts(&finding)
        );
        assert!(
            commands(&finding).contains(&"kubectl get ipaddresspools -n metallb-system"),
            "{:?}",
            commands(&finding)
        );
    }

    #[test]
    fn metallb_given_a_class_does_not_serve_services_without_one() {
        let mut f = pending_web(None);
        f.deployment(metallb(json!(["--lb-class", "example.com/metal"])));
        let finding = pending(&f);
        assert_eq!(
            finding.title,
            "EXTERNAL-IP is pending: no controller serves Services without a loadBalancerClass"
        );
        assert!(
            facts(&finding).contains("but serves only loadBalancerClass example.com/metal"),
            "{}",
            facts(&finding)
        );
    }
}
