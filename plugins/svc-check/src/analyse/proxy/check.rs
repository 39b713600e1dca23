//! The proxy link's findings: kube-proxy down everywhere, or not ready on the nodes that matter.
//! Its rules outlive it, so a stopped kube-proxy is an error only where the rules are known to be
//! missing: the Service changed after it stopped. A missing pod may have left its rules behind.

use std::collections::{BTreeSet, HashMap};

use k8s_openapi::api::{apps::v1::DaemonSet, core::v1::Pod};
use k8s_openapi::jiff::Timestamp;
use kube_runbook::report::{Finding, ObjectRef, Remedy, Severity, Source, human_duration};

use super::{
    SYSTEM, ServiceProxy,
    rules::{Change, Missing, NodeProxy, last_change},
};
use crate::{
    analyse::Context,
    chain::{Link, Observation, plural},
    pods,
};

const RULES_OUTLIVE_IT: &str = "kube-proxy programs each node (iptables, nftables or IPVS rules) so that connections to a \
     Service's virtual IP and node ports reach an endpoint. The rules stay in place when kube-proxy stops, so what \
     was current then keeps working; what changed since (new Services, endpoint changes, new node ports) is not \
     applied on that node (003 6.4.2).";

pub fn check(cx: &Context) -> Vec<Observation> {
    if !cx.subject.kind.is_proxied() {
        return Vec::new();
    }
    let ServiceProxy::KubeProxy { daemon_set, pods } = &cx.infra.proxy else {
        return Vec::new();
    };
    let change = last_change(cx.subject.service, &cx.backends.slices);
    if let Some(ds) = daemon_set
        && let Some(status) = &ds.status
        && status.desired_number_scheduled > 0
        && status.number_ready == 0
    {
        return vec![down(cx, ds, pods.as_ref(), change.as_ref())];
    }
    let Some(by_node) = pods else {
        return Vec::new();
    };
    let client_node = cx.client.and_then(|c| c.node);
    let broken = broken_nodes(cx, by_node, client_node);
    if broken.is_empty() {
        return Vec::new();
    }
    let client_broken = broken.iter().find(|(node, _)| client_node == Some(*node));
    let client_missing = client_broken.and_then(|(_, state)| state.missing_rules(change.as_ref()));
    let severity = if client_missing.is_some() {
        Severity::Error
    } else {
        Severity::Warning
    };
    let title = title(&broken, client_broken, client_missing.is_some());
    let mut finding = Finding::new(severity, cx.subject.object(), "kube-proxy-not-ready", title)
        .explain(format!(
            "{RULES_OUTLIVE_IT} Clients on such a node, and node-port traffic arriving there, see the Service as it \
             was when kube-proxy stopped. A node without a kube-proxy pod has no rules at all if it never ran \
             there, but a pod deleted and not recreated leaves its rules, and nothing shows which."
        ));
    for (node, state) in &broken {
        finding = finding.evidence(
            format!("node {node}: {}", node_state(cx, by_node, node, *state)),
            Source::Object {
                object: ObjectRef::cluster("Node", node),
            },
        );
    }
    if let Some(missing) = &client_missing {
        finding = changed_since(cx, finding, missing, "kube-proxy on the client's node");
    }
    finding = finding.remedy(Remedy::command(
        "Check the kube-proxy pods and their logs",
        format!("kubectl get pods -n {SYSTEM} -l k8s-app=kube-proxy -o wide"),
    ));
    vec![Observation::new(Link::Proxy, finding)]
}

/// The nodes hosting ready backends, and the client's, where kube-proxy is not ready.
fn broken_nodes<'n>(
    cx: &Context<'n, '_>,
    by_node: &HashMap<&str, Vec<&Pod>>,
    client_node: Option<&'n str>,
) -> Vec<(&'n str, NodeProxy)> {
    let backend_nodes: BTreeSet<&str> = cx
        .backends
        .per_port
        .iter()
        .flatten()
        .filter(|e| e.ready)
        .filter_map(|e| e.node)
        .collect();
    backend_nodes
        .into_iter()
        .chain(client_node)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|node| (node, NodeProxy::of(proxies_on(by_node, node))))
        .filter(|(_, state)| *state != NodeProxy::Ready)
        .collect()
}

fn title(
    broken: &[(&str, NodeProxy)],
    client_broken: Option<&(&str, NodeProxy)>,
    client_missing: bool,
) -> String {
    match client_broken {
        Some((node, NodeProxy::Absent)) => format!(
            "no kube-proxy pod runs on node {node}, where the client runs: {ABSENT_CONSEQUENCE}"
        ),
        Some((node, _)) if client_missing => {
            format!("kube-proxy is not running ready on node {node}, where the client runs")
        }
        Some((node, _)) => format!(
            "kube-proxy is not running ready on node {node}, where the client runs: changes since it stopped are not applied there"
        ),
        None => format!(
            "kube-proxy is not running ready on {} node{} hosting backends: {}",
            broken.len(),
            plural(broken.len()),
            broken
                .iter()
                .map(|(node, _)| *node)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

const ABSENT_CONSEQUENCE: &str =
    "rules written before it went away keep working; changes since are not applied there";

fn proxies_on<'p, 'a>(by_node: &'p HashMap<&str, Vec<&'a Pod>>, node: &str) -> &'p [&'a Pod] {
    by_node.get(node).map_or(&[], Vec::as_slice)
}

/// `pod kube-proxy-x is not ready (for 5m)`, `no kube-proxy pod, so no rules for any Service`.
fn node_state(
    cx: &Context,
    by_node: &HashMap<&str, Vec<&Pod>>,
    node: &str,
    state: NodeProxy,
) -> String {
    let proxies = proxies_on(by_node, node);
    if proxies.is_empty() {
        return format!("no kube-proxy pod runs there: {ABSENT_CONSEQUENCE}");
    }
    let pods_text = proxies
        .iter()
        .map(|p| {
            let phase = pods::phase(p);
            let state = if phase == "Running" {
                "not ready"
            } else {
                phase
            };
            format!("pod {} is {state}", pods::name(p))
        })
        .collect::<Vec<_>>()
        .join(", ");
    match state {
        NodeProxy::NotReady { since: Some(since) } => {
            format!("{pods_text} (since {})", ago(cx, since))
        }
        _ => pods_text,
    }
}

/// The change that the stopped kube-proxy (`whose`) has not applied, as evidence.
fn changed_since(cx: &Context, finding: Finding, missing: &Missing, whose: &str) -> Finding {
    let Missing { stopped, change } = missing;
    finding.evidence(
        format!(
            "{} {}, after {whose} stopped being ready {}: the rules lack that change",
            change.what,
            ago(cx, change.at),
            ago(cx, *stopped)
        ),
        Source::Object {
            object: change.object.clone(),
        },
    )
}

fn ago(cx: &Context, at: Timestamp) -> String {
    let age = cx.index.state.observed_at.duration_since(at);
    format!("{} ago", human_duration(age.unsigned_abs()))
}

fn down(
    cx: &Context,
    ds: &DaemonSet,
    by_node: Option<&HashMap<&str, Vec<&Pod>>>,
    change: Option<&Change>,
) -> Observation {
    let desired = ds.status.as_ref().map_or(0, |s| s.desired_number_scheduled);
    let every_proxy: Option<Vec<&Pod>> =
        by_node.map(|by_node| by_node.values().flatten().copied().collect());
    let missing = every_proxy
        .as_deref()
        .and_then(|proxies| NodeProxy::of(proxies).missing_rules(change));
    let base = format!("kube-proxy is down: 0 of {desired} pods ready");
    let (severity, title, consequence) = match &missing {
        Some(Missing { change, .. }) => (
            Severity::Error,
            format!("{base}, and {} after it stopped", change.what),
            "The Service changed after every kube-proxy stopped, so no node's rules match its current endpoints: \
             connections to its virtual IP are refused, hang, or reach only endpoints that existed before."
                .to_string(),
        ),
        None => (
            Severity::Warning,
            format!("{base}: Service changes since it stopped are not applied"),
            "Nothing shows that this Service changed since, so its old rules most likely still work; any change \
             to it (endpoints, ports, node ports) will not reach the nodes until kube-proxy runs again."
                .to_string(),
        ),
    };
    let mut finding = Finding::new(severity, cx.subject.object(), "kube-proxy-down", title)
        .explain(format!("{RULES_OUTLIVE_IT} {consequence}"))
        .evidence(
            format!("DaemonSet kube-proxy: {desired} desired, 0 ready"),
            Source::Object {
                object: ObjectRef::namespaced(
                    "DaemonSet",
                    SYSTEM,
                    ds.metadata.name.as_deref().unwrap_or("kube-proxy"),
                ),
            },
        );
    if let Some(missing) = &missing {
        finding = changed_since(cx, finding, missing, "the last kube-proxy pod");
    }
    finding = finding.remedy(Remedy::command(
        "Find out why the kube-proxy pods are not ready",
        format!("kubectl describe daemonset kube-proxy -n {SYSTEM}"),
    ));
    Observation::new(Link::Proxy, finding)
}
