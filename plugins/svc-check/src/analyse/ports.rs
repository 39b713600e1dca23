//! Every Service port resolved on every backend pod, as the endpointslice controller resolves it:
//! a named targetPort by name and protocol among app and sidecar containers (a pod without it is
//! silently left out of that port's endpoints), a numeric one as is (declaring it is optional).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::report::{Finding, ObjectRef, Remedy, Severity, Source};
use serde_json::json;

use super::Context;
use crate::{
    backends::Selection,
    chain::{Link, Observation, plural},
    model::{PortSpec, ServiceKind, TargetPort},
    pods,
};

/// How one pod answers one Service port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution<'a> {
    /// A container (or sidecar) declares the port with the Service's protocol.
    Declared {
        number: i32,
        container: &'a str,
        sidecar: bool,
    },
    /// A number no container declares. Traffic is still sent; whether anything listens is unknown.
    Undeclared { number: i32, declared: Vec<String> },
    /// A number declared only with another protocol.
    OtherProtocol {
        number: i32,
        container: &'a str,
        protocol: &'a str,
    },
    /// A name no app or sidecar container declares with the Service's protocol: the pod gets no
    /// endpoint for this port.
    NameMissing {
        /// The name exists with another protocol: (container, protocol, number).
        other_protocol: Option<(&'a str, &'a str, i32)>,
        /// The name exists on an init container that runs to completion.
        init_container: Option<&'a str>,
    },
}

impl Resolution<'_> {
    pub fn number(&self) -> Option<i32> {
        match self {
            Resolution::Declared { number, .. }
            | Resolution::Undeclared { number, .. }
            | Resolution::OtherProtocol { number, .. } => Some(*number),
            Resolution::NameMissing { .. } => None,
        }
    }
}

/// Resolves `port` on `pod` like the endpointslice controller's FindPort.
pub fn resolve<'a>(pod: &'a Pod, port: &PortSpec) -> Resolution<'a> {
    let declared = || {
        pods::serving_containers(pod).flat_map(|s| {
            s.container
                .ports
                .iter()
                .flatten()
                .map(move |p| (s.container.name.as_str(), s.sidecar, p))
        })
    };
    let protocol_of =
        |p: &'a k8s_openapi::api::core::v1::ContainerPort| p.protocol.as_deref().unwrap_or("TCP");
    match &port.target {
        TargetPort::Name(name) => {
            let named =
                |p: &&k8s_openapi::api::core::v1::ContainerPort| p.name.as_deref() == Some(name);
            if let Some((container, sidecar, p)) =
                declared().find(|(_, _, p)| named(p) && protocol_of(p) == port.protocol)
            {
                return Resolution::Declared {
                    number: p.container_port,
                    container,
                    sidecar,
                };
            }
            Resolution::NameMissing {
                other_protocol: declared()
                    .find(|(_, _, p)| named(p))
                    .map(|(container, _, p)| (container, protocol_of(p), p.container_port)),
                init_container: pods::plain_init_containers(pod)
                    .find(|c| c.ports.iter().flatten().any(|p| named(&p)))
                    .map(|c| c.name.as_str()),
            }
        }
        TargetPort::Number(number) => {
            let number = *number;
            if let Some((container, sidecar, _)) = declared()
                .find(|(_, _, p)| p.container_port == number && protocol_of(p) == port.protocol)
            {
                return Resolution::Declared {
                    number,
                    container,
                    sidecar,
                };
            }
            if let Some((container, _, p)) = declared().find(|(_, _, p)| p.container_port == number)
            {
                return Resolution::OtherProtocol {
                    number,
                    container,
                    protocol: protocol_of(p),
                };
            }
            Resolution::Undeclared {
                number,
                declared: declared()
                    .map(|(_, _, p)| format!("{}/{}", p.container_port, protocol_of(p)))
                    .collect(),
            }
        }
    }
}

/// The pods whose ports matter: the selected pods that have not finished.
pub fn candidates<'a>(cx: &Context<'a, '_>) -> Vec<&'a Pod> {
    match &cx.backends.selection {
        Selection::Pods(selected) => selected
            .iter()
            .copied()
            .filter(|p| !pods::is_terminal(p))
            .collect(),
        Selection::Manual | Selection::Unknown => Vec::new(),
    }
}

pub fn check(cx: &Context) -> Vec<Observation> {
    let pods = candidates(cx);
    let mut observations = Vec::new();
    for port in &cx.subject.ports {
        if cx.subject.kind == ServiceKind::Headless
            && let TargetPort::Number(target) = port.target
            && target != port.port
        {
            observations.push(headless_mismatch(cx, port, target));
        }
        if pods.is_empty() {
            continue;
        }
        let resolved: Vec<(&Pod, Resolution)> =
            pods.iter().map(|p| (*p, resolve(p, port))).collect();
        observations.extend(named_missing(cx, port, &resolved));
        observations.extend(numeric_warnings(cx, port, &resolved));
    }
    observations
}

/// `targetPort "http" → 8080 (sidecar envoy)`: the step text of the chain for one port.
pub fn describe(cx: &Context, port: &PortSpec) -> String {
    let pods = candidates(cx);
    let resolutions: Vec<Resolution> = pods.iter().map(|p| resolve(p, port)).collect();
    let mut numbers: Vec<i32> = resolutions.iter().filter_map(Resolution::number).collect();
    numbers.sort_unstable();
    numbers.dedup();
    let sidecar = resolutions.iter().find_map(|r| match r {
        Resolution::Declared {
            container,
            sidecar: true,
            ..
        } => Some(*container),
        _ => None,
    });
    let mut text = format!("targetPort {}", port.target);
    if matches!(port.target, TargetPort::Name(_)) && !numbers.is_empty() {
        let list: Vec<String> = numbers.iter().map(ToString::to_string).collect();
        text.push_str(&format!(" = {}", list.join("|")));
    }
    if let Some(container) = sidecar {
        text.push_str(&format!(" (sidecar {container})"));
    }
    text
}

fn named_missing(
    cx: &Context,
    port: &PortSpec,
    resolved: &[(&Pod, Resolution)],
) -> Option<Observation> {
    let TargetPort::Name(name) = &port.target else {
        return None;
    };
    let missing: Vec<&(&Pod, Resolution)> = resolved
        .iter()
        .filter(|(_, r)| matches!(r, Resolution::NameMissing { .. }))
        .collect();
    let first = missing.first()?;
    let all = missing.len() == resolved.len();
    let protocol_only = missing.iter().all(|(_, r)| {
        matches!(
            r,
            Resolution::NameMissing {
                other_protocol: Some(_),
                ..
            }
        )
    });
    let code = if protocol_only {
        "port-protocol-mismatch"
    } else {
        "named-port-not-found"
    };
    let label = port.label();
    let protocol = &port.protocol;
    let title = match (all, protocol_only) {
        (true, true) => format!(
            "port {label}: the backend pods declare \"{name}\" only for another protocol than {protocol}, so the port has no endpoints"
        ),
        (true, false) => format!(
            "port {label}: no backend pod declares a container port named \"{name}\", so the port has no endpoints"
        ),
        (false, true) => format!(
            "port {label}: {} of {} pods declare \"{name}\" only for another protocol and are left out of its endpoints",
            missing.len(),
            resolved.len()
        ),
        (false, false) => format!(
            "port {label}: {} of {} pods declare no container port named \"{name}\" and are left out of its endpoints",
            missing.len(),
            resolved.len()
        ),
    };
    let mut explanation = format!(
        "targetPort \"{name}\" is looked up on each pod among the ports of its containers and sidecars \
         (init containers with restartPolicy: Always), by name and protocol ({}). A pod without it is silently \
         left out of this port's endpoints; nothing is logged above verbosity 4.",
        port.protocol
    );
    if !all {
        explanation.push_str(" The other pods still serve, usually the pods of an older or newer version of the workload.");
    }
    let (pod, resolution) = (first.0, &first.1);
    let mut finding = Finding::new(
        if all {
            Severity::Error
        } else {
            Severity::Warning
        },
        cx.subject.object(),
        code,
        title,
    )
    .explain(explanation)
    .evidence(
        format!("Service port {} has targetPort \"{name}\"", port.label()),
        Source::Field {
            object: cx.subject.object(),
            path: "spec.ports".into(),
        },
    );
    let pod_ref = ObjectRef::namespaced("Pod", pods::namespace(pod), pods::name(pod));
    let declared: Vec<String> = pods::serving_containers(pod)
        .flat_map(|s| s.container.ports.iter().flatten())
        .map(|p| match &p.name {
            Some(n) => format!(
                "{n}={}/{}",
                p.container_port,
                p.protocol.as_deref().unwrap_or("TCP")
            ),
            None => format!(
                "{}/{}",
                p.container_port,
                p.protocol.as_deref().unwrap_or("TCP")
            ),
        })
        .collect();
    finding = finding.evidence(
        format!(
            "pod {}{} declares {}",
            pods::name(pod),
            others(missing.len()),
            if declared.is_empty() {
                "no ports".to_string()
            } else {
                declared.join(", ")
            }
        ),
        Source::Field {
            object: pod_ref.clone(),
            path: "spec.containers[*].ports".into(),
        },
    );
    if let Resolution::NameMissing {
        other_protocol,
        init_container,
    } = resolution
    {
        if let Some((container, protocol, number)) = other_protocol {
            finding = finding.evidence(
                format!(
                    "container {container} declares \"{name}\" as {number}/{protocol}, the Service port is {}",
                    port.protocol
                ),
                Source::Field {
                    object: pod_ref.clone(),
                    path: "spec.containers[*].ports[*].protocol".into(),
                },
            );
        }
        if let Some(container) = init_container {
            finding = finding.evidence(
                format!(
                    "init container {container} declares \"{name}\" but runs to completion; only sidecars (restartPolicy: Always) serve"
                ),
                Source::Field {
                    object: pod_ref,
                    path: "spec.initContainers[*].ports".into(),
                },
            );
        }
    }
    finding = finding
        .remedy(Remedy::step(format!(
            "Name the container port \"{name}\" (protocol {}) in the pod template, or set the Service's targetPort to the number the container listens on",
            port.protocol
        )))
        .details(json!({
            "port": port.label(),
            "targetPort": name,
            "podsWithout": missing.iter().map(|(p, _)| pods::name(p)).collect::<Vec<_>>(),
            "pods": resolved.len(),
        }));
    Some(Observation::new(Link::TargetPort, finding))
}

fn numeric_warnings(
    cx: &Context,
    port: &PortSpec,
    resolved: &[(&Pod, Resolution)],
) -> Vec<Observation> {
    let TargetPort::Number(number) = port.target else {
        return Vec::new();
    };
    let mut other_protocol: BTreeMap<(&str, &str), Vec<&Pod>> = BTreeMap::new();
    let mut undeclared: BTreeMap<Vec<String>, Vec<&Pod>> = BTreeMap::new();
    for (pod, resolution) in resolved {
        match resolution {
            Resolution::OtherProtocol {
                container,
                protocol,
                ..
            } => other_protocol
                .entry((container, protocol))
                .or_default()
                .push(pod),
            Resolution::Undeclared { declared, .. } if !declared.is_empty() => {
                undeclared.entry(declared.clone()).or_default().push(pod)
            }
            _ => {}
        }
    }
    let mut observations = Vec::new();
    if let Some(((container, protocol), pods_with)) = other_protocol.iter().next()
        && let Some(pod) = pods_with.first()
    {
        let finding = Finding::new(
            Severity::Warning,
            cx.subject.object(),
            "port-protocol-mismatch",
            format!(
                "port {}: container {container} declares {number}/{protocol}, not {number}/{}",
                port.label(),
                port.protocol
            ),
        )
        .explain(format!(
            "The Service forwards {} to port {number}, but the container declares that port for {protocol}. \
             If the application only listens on {protocol}, every request to this port fails.",
            port.protocol
        ))
        .evidence(
            format!("pod {}{} declares {number}/{protocol}", pods::name(pod), others(pods_with.len())),
            Source::Field {
                object: ObjectRef::namespaced("Pod", pods::namespace(pod), pods::name(pod)),
                path: "spec.containers[*].ports".into(),
            },
        )
        .remedy(Remedy::step(format!(
            "Set the Service port's protocol to {protocol}, or add a {} port {number} if the application serves both",
            port.protocol
        )));
        observations.push(Observation::new(Link::TargetPort, finding));
    }
    if let Some((declared, pods_with)) = undeclared.iter().next()
        && let Some(pod) = pods_with.first()
    {
        let finding = Finding::new(
            Severity::Warning,
            cx.subject.object(),
            "target-port-not-declared",
            format!(
                "port {}: targetPort {number} is not among the ports the pods declare ({})",
                port.label(),
                declared.join(", ")
            ),
        )
        .explain(format!(
            "Traffic is sent to port {number} anyway (declaring container ports is optional), but the pods declare \
             other ports: if nothing listens on {number}, connections are refused. This is the first thing to compare \
             when endpoints exist but requests fail."
        ))
        .evidence(
            format!("pod {}{} declares {}", pods::name(pod), others(pods_with.len()), declared.join(", ")),
            Source::Field {
                object: ObjectRef::namespaced("Pod", pods::namespace(pod), pods::name(pod)),
                path: "spec.containers[*].ports".into(),
            },
        )
        .remedy(Remedy::command(
            format!("Check what pod {} listens on, then fix the Service's targetPort or the container port", pods::name(pod)),
            format!("kubectl port-forward pod/{} {number} -n {}", pods::name(pod), pods::namespace(pod)),
        ));
        observations.push(Observation::new(Link::TargetPort, finding));
    }
    observations
}

fn headless_mismatch(cx: &Context, port: &PortSpec, target: i32) -> Observation {
    let finding = Finding::new(
        Severity::Warning,
        cx.subject.object(),
        "headless-target-port-ignored",
        format!(
            "headless Service: clients connect to pod IPs on port {}, but targetPort is {target}",
            port.port
        ),
    )
    .explain(format!(
        "A headless Service has no virtual IP, so nothing translates port {} to {target}: DNS returns the pod IPs \
         and clients connect to whatever port they use, usually the Service port. targetPort only shows up in SRV \
         records. The API documents it as ignored for clusterIP: None and to be left out or set equal to port.",
        port.port
    ))
    .evidence(
        format!("port {} targetPort {target}", port.port),
        Source::Field {
            object: cx.subject.object(),
            path: "spec.ports".into(),
        },
    )
    .remedy(Remedy::step(format!(
        "Set port and targetPort to the port the pods listen on ({target})"
    )));
    Observation::new(Link::TargetPort, finding)
}

fn others(count: usize) -> String {
    if count > 1 {
        format!(" (and {} more pod{})", count - 1, plural(count - 1))
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod(spec: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p", "namespace": "ns"}, "spec": spec}))
            .unwrap()
    }

    fn port(target: TargetPort, protocol: &str) -> PortSpec {
        PortSpec {
            name: String::new(),
            port: 80,
            protocol: protocol.into(),
            target,
            node_port: None,
        }
    }

    #[test]
    fn named_ports_need_name_and_protocol() {
        let p = pod(json!({"containers": [{"name": "app", "ports": [
            {"name": "http", "containerPort": 8080},
            {"name": "dns", "containerPort": 53, "protocol": "UDP"}
        ]}]}));
        assert_eq!(
            resolve(&p, &port(TargetPort::Name("http".into()), "TCP")),
            Resolution::Declared {
                number: 8080,
                container: "app",
                sidecar: false
            }
        );
        assert_eq!(
            resolve(&p, &port(TargetPort::Name("dns".into()), "TCP")),
            Resolution::NameMissing {
                other_protocol: Some(("app", "UDP", 53)),
                init_container: None
            }
        );
        assert_eq!(
            resolve(&p, &port(TargetPort::Name("grpc".into()), "TCP")),
            Resolution::NameMissing {
                other_protocol: None,
                init_container: None
            }
        );
    }

    #[test]
    fn sidecar_ports_resolve_and_plain_init_ports_do_not() {
        let p = pod(json!({
            "containers": [{"name": "app"}],
            "initContainers": [
                {"name": "setup", "ports": [{"name": "admin", "containerPort": 9000}]},
                {"name": "envoy", "restartPolicy": "Always", "ports": [{"name": "proxy", "containerPort": 15001}]}
            ]
        }));
        assert_eq!(
            resolve(&p, &port(TargetPort::Name("proxy".into()), "TCP")),
            Resolution::Declared {
                number: 15001,
                container: "envoy",
                sidecar: true
            }
        );
        assert_eq!(
            resolve(&p, &port(TargetPort::Name("admin".into()), "TCP")),
            Resolution::NameMissing {
                other_protocol: None,
                init_container: Some("setup")
            }
        );
    }

    #[test]
    fn numeric_ports_are_declared_undeclared_or_other_protocol() {
        let p = pod(json!({"containers": [{"name": "app", "ports": [
            {"containerPort": 8080}, {"containerPort": 53, "protocol": "UDP"}
        ]}]}));
        assert!(matches!(
            resolve(&p, &port(TargetPort::Number(8080), "TCP")),
            Resolution::Declared { .. }
        ));
        assert_eq!(
            resolve(&p, &port(TargetPort::Number(53), "TCP")),
            Resolution::OtherProtocol {
                number: 53,
                container: "app",
                protocol: "UDP"
            }
        );
        assert_eq!(
            resolve(&p, &port(TargetPort::Number(9090), "TCP")),
            Resolution::Undeclared {
                number: 9090,
                declared: vec!["8080/TCP".into(), "53/UDP".into()]
            }
        );
        let bare = pod(json!({"containers": [{"name": "app"}]}));
        assert_eq!(
            resolve(&bare, &port(TargetPort::Number(80), "TCP")),
            Resolution::Undeclared {
                number: 80,
                declared: vec![]
            }
        );
    }
}
