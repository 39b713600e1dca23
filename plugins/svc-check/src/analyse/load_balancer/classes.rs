//! Which Services a load-balancer controller acts on: since spec.loadBalancerClass, an
//! implementation takes only the classes it is configured for, and the default one only Services
//! without a class.

use k8s_openapi::api::core::v1::Container;
use kube::api::ObjectMeta;

use super::controllers::{AWS_LB_CONTROLLER, CILIUM_LB_IPAM, CLOUD_CONTROLLER, KUBE_VIP, METALLB};

/// kube-vip's class when its `lb_class_name` is not set.
const KUBE_VIP_CLASS: &str = "kube-vip.io/kube-vip-class";
/// LB IPAM's classes; `io.cilium/node` belongs to Cilium's Node IPAM, another operator feature.
const CILIUM_CLASSES: [&str; 2] = ["io.cilium/bgp-control-plane", "io.cilium/l2-announcer"];
pub const AWS_CLASS: &str = "service.k8s.aws/nlb";
/// Without a class, the AWS Load Balancer Controller takes only Services annotated so; the
/// cloud provider takes the rest.
const AWS_TYPE_ANNOTATION: &str = "service.beta.kubernetes.io/aws-load-balancer-type";
const AWS_TYPES: &[&str] = &["external", "nlb-ip"];

/// The loadBalancerClass values a controller acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classes {
    /// How it is configured is not known: it may act on any Service.
    Any,
    Only {
        unclassed: Unclassed,
        named: Vec<String>,
    },
}

/// Which Services without a loadBalancerClass a controller takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unclassed {
    Taken,
    Left,
    /// Only those whose annotation `key` has one of `values`.
    WhenAnnotated {
        key: &'static str,
        values: &'static [&'static str],
    },
}

impl Unclassed {
    pub fn admits(&self, meta: &ObjectMeta) -> bool {
        match self {
            Unclassed::Taken => true,
            Unclassed::Left => false,
            Unclassed::WhenAnnotated { key, values } => meta
                .annotations
                .as_ref()
                .and_then(|a| a.get(*key))
                .is_some_and(|v| values.contains(&v.as_str())),
        }
    }

    pub fn in_words(&self) -> Option<String> {
        let unclassed = "Services without a loadBalancerClass";
        match self {
            Unclassed::Taken => Some(unclassed.into()),
            Unclassed::Left => None,
            Unclassed::WhenAnnotated { key, values } => Some(format!(
                "{unclassed} annotated {key} {}",
                values.join(" or ")
            )),
        }
    }
}

/// The classes a product acts on, from its documented defaults and its containers' settings.
pub fn of(product: &str, containers: &[Container]) -> Classes {
    let only = |unclassed: Unclassed, named: Vec<String>| Classes::Only { unclassed, named };
    match product {
        CLOUD_CONTROLLER => only(Unclassed::Taken, Vec::new()),
        // `--lb-class` makes MetalLB take that class only, instead of Services without one.
        METALLB => match flag(containers, "--lb-class") {
            Some(class) => only(Unclassed::Left, vec![class]),
            None => only(Unclassed::Taken, Vec::new()),
        },
        KUBE_VIP => kube_vip_classes(containers),
        CILIUM_LB_IPAM => only(Unclassed::Taken, CILIUM_CLASSES.map(String::from).to_vec()),
        AWS_LB_CONTROLLER => only(
            Unclassed::WhenAnnotated {
                key: AWS_TYPE_ANNOTATION,
                values: AWS_TYPES,
            },
            vec![AWS_CLASS.into()],
        ),
        _ => Classes::Any,
    }
}

/// Its class (`lb_class_name`), and Services without one unless `lb_class_only` is set.
fn kube_vip_classes(containers: &[Container]) -> Classes {
    let class = env(containers, "lb_class_name")
        .or_else(|| flag(containers, "--lbClassName"))
        .unwrap_or_else(|| KUBE_VIP_CLASS.into());
    let class_only = env(containers, "lb_class_only").is_some_and(|v| v == "true")
        || switch(containers, "--lbClassOnly");
    let unclassed = if class_only {
        Unclassed::Left
    } else {
        Unclassed::Taken
    };
    Classes::Only {
        unclassed,
        named: vec![class],
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

/// Whether a boolean flag is set: `--NAME` or `--NAME=true`.
fn switch(containers: &[Container], name: &str) -> bool {
    let set = format!("{name}=true");
    containers
        .iter()
        .flat_map(|c| c.command.iter().flatten().chain(c.args.iter().flatten()))
        .any(|word| *word == name || *word == set)
}

fn env(containers: &[Container], name: &str) -> Option<String> {
    containers
        .iter()
        .flat_map(|c| c.env.iter().flatten())
        .find(|e| e.name == name)
        .and_then(|e| e.value.clone())
        .filter(|v| !v.is_empty())
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
        let plain = of(
            METALLB,
            &container(json!({"name": "controller", "args": ["--port=7472"]})),
        );
        assert_eq!(
            plain,
            Classes::Only {
                unclassed: Unclassed::Taken,
                named: vec![]
            }
        );
        for args in [
            json!(["--lb-class=example.com/metal"]),
            json!(["--lb-class", "example.com/metal"]),
        ] {
            let classed = of(
                METALLB,
                &container(json!({"name": "controller", "args": args})),
            );
            assert_eq!(
                classed,
                Classes::Only {
                    unclassed: Unclassed::Left,
                    named: vec!["example.com/metal".into()]
                }
            );
        }
    }

    #[test]
    fn kube_vip_takes_its_configured_class() {
        let configured = of(
            KUBE_VIP,
            &container(
                json!({"name": "kube-vip", "env": [{"name": "lb_class_name", "value": "example.com/vip"}]}),
            ),
        );
        assert_eq!(
            configured,
            Classes::Only {
                unclassed: Unclassed::Taken,
                named: vec!["example.com/vip".into()]
            }
        );
    }

    #[test]
    fn kube_vip_with_lb_class_only_leaves_services_without_a_class() {
        for container in [
            json!({"name": "kube-vip", "env": [{"name": "lb_class_only", "value": "true"}]}),
            json!({"name": "kube-vip", "args": ["manager", "--lbClassOnly"]}),
        ] {
            let class_only = of(KUBE_VIP, &self::container(container));
            assert_eq!(
                class_only,
                Classes::Only {
                    unclassed: Unclassed::Left,
                    named: vec![KUBE_VIP_CLASS.into()]
                }
            );
        }
        let off = container(
            json!({"name": "kube-vip", "env": [{"name": "lb_class_only", "value": "false"}]}),
        );
        assert_eq!(
            of(KUBE_VIP, &off),
            Classes::Only {
                unclassed: Unclassed::Taken,
                named: vec![KUBE_VIP_CLASS.into()]
            }
        );
    }
}
