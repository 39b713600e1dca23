//! Runs every check on the Services asked for and turns each chain into its verdict and findings.

use k8s_openapi::api::core::v1::Service;
use kube_runbook::report::{Finding, Severity};

use crate::{
    analyse::{self, Context},
    backends::Backends,
    chain::{Chain, Observation, plural},
    client::ClientPod,
    index::Index,
    infra::Infrastructure,
    model::{ServiceKind, Subject},
    request::Request,
    steps,
};

/// The findings, and how many Services were examined (for the all-clear message).
pub struct Examination {
    pub findings: Vec<Finding>,
    pub services: usize,
}

pub fn examine(index: &Index, request: &Request) -> Examination {
    let infra = Infrastructure::detect(index);
    let client = request
        .from
        .as_ref()
        .and_then(|from| index.pod(&from.namespace, &from.name))
        .map(|pod| ClientPod::new(index, pod));
    let services = services(index, request);
    let single = request.service.is_some();
    let mut findings = Vec::new();
    for service in &services {
        let subject = Subject::new(service);
        let backends = Backends::build(index, &subject);
        let cx = Context {
            index,
            infra: &infra,
            subject: &subject,
            backends: &backends,
            client: client.as_ref(),
        };
        let observations = observe(&cx);
        let chain = Chain {
            steps: steps::of(&cx),
            observations: &observations,
            ready_backends: backends.fewest_ready(),
            client: client.as_ref().map(ClientPod::label),
            healthy_answer: healthy_answer(&cx),
        };
        let verdict = chain.verdict(&subject);
        if single {
            findings.push(verdict);
            findings.extend(observations.into_iter().map(|o| o.finding));
        } else if verdict.severity > Severity::Info {
            findings.push(verdict);
            findings.extend(
                observations
                    .into_iter()
                    .filter(|o| o.finding.severity > Severity::Info)
                    .map(|o| o.finding),
            );
        }
    }
    Examination {
        findings,
        services: services.len(),
    }
}

/// Every check, in chain order.
fn observe(cx: &Context) -> Vec<Observation> {
    let mut observations = Vec::new();
    observations.extend(analyse::client::check(cx));
    observations.extend(analyse::dns::check(cx));
    observations.extend(analyse::types::check(cx));
    observations.extend(analyse::load_balancer::check(cx));
    observations.extend(analyse::proxy::check(cx));
    if cx.subject.kind.has_endpoints() {
        observations.extend(analyse::selector::check(cx));
        observations.extend(analyse::finished_pods::check(cx));
        observations.extend(analyse::ports::check(cx));
        observations.extend(analyse::endpoints::check(cx));
        observations.extend(analyse::readiness::check(cx));
        let unexplained = analyse::endpoints::unexplained(cx, &observations);
        observations.extend(unexplained);
    }
    observations.extend(analyse::network_policy::check(cx));
    observations.sort_by_key(|o| o.link);
    observations
}

fn services<'a>(index: &Index<'a>, request: &Request) -> Vec<&'a Service> {
    let mut services: Vec<&Service> = match (&request.service, &request.namespace) {
        (Some(name), Some(ns)) => index.service(ns, name).into_iter().collect(),
        (_, Some(ns)) => index.services_in(ns).to_vec(),
        (_, None) => index.all_services().collect(),
    };
    services.retain(|s| request.labels.matches(s.metadata.labels.as_ref()));
    services.sort_by(|a, b| {
        (a.metadata.namespace.as_deref(), a.metadata.name.as_deref())
            .cmp(&(b.metadata.namespace.as_deref(), b.metadata.name.as_deref()))
    });
    services
}

/// How the Service reads when nothing is wrong.
fn healthy_answer(cx: &Context) -> String {
    let ready = cx.backends.fewest_ready();
    let who = match cx.client {
        Some(client) => format!("traffic from {}", client.label()),
        None => "traffic".to_string(),
    };
    match cx.subject.kind {
        ServiceKind::ExternalName => format!(
            "an alias: DNS answers a CNAME to {}; nothing to balance",
            cx.subject
                .spec()
                .and_then(|s| s.external_name.as_deref())
                .unwrap_or_default()
        ),
        ServiceKind::Headless => format!(
            "DNS answers {ready} ready pod IP{} (headless: no virtual IP, no load balancing)",
            plural(ready)
        ),
        _ if ready == 0 => format!("{who} only reaches backends that are terminating"),
        _ => format!("{who} reaches {ready} ready backend{}", plural(ready)),
    }
}
