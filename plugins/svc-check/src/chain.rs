//! The chain a request follows, client -> DNS name -> Service port -> proxy -> targetPort ->
//! endpoint -> ready pod -> NetworkPolicy, and the verdict: the first link that breaks it.

use kube_runbook::report::{Finding, Severity};
use serde::Serialize;
use serde_json::json;

use crate::model::Subject;

/// A link of the chain, in the order a request crosses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Link {
    Client,
    Dns,
    ServicePort,
    Proxy,
    TargetPort,
    Endpoints,
    ReadyPod,
    NetworkPolicy,
}

impl Link {
    pub fn label(self) -> &'static str {
        match self {
            Link::Client => "client",
            Link::Dns => "DNS name",
            Link::ServicePort => "Service port",
            Link::Proxy => "service proxy",
            Link::TargetPort => "targetPort",
            Link::Endpoints => "endpoints",
            Link::ReadyPod => "ready pod",
            Link::NetworkPolicy => "NetworkPolicy",
        }
    }
}

/// A finding placed on the link it concerns.
#[derive(Debug, Clone)]
pub struct Observation {
    pub link: Link,
    pub finding: Finding,
    /// Only traffic from outside the cluster is affected (a pending LoadBalancer address).
    pub external_only: bool,
}

impl Observation {
    pub fn new(link: Link, finding: Finding) -> Observation {
        Observation {
            link,
            finding,
            external_only: false,
        }
    }

    pub fn external(link: Link, finding: Finding) -> Observation {
        Observation {
            link,
            finding,
            external_only: true,
        }
    }
}

/// One link as it applies to this Service, e.g. `DNS web.shop.svc`.
#[derive(Debug, Clone)]
pub struct Step {
    pub link: Link,
    pub text: String,
    /// False when what the link depends on could not be read or found: shown as `?`.
    pub checked: bool,
}

impl Step {
    pub fn new(link: Link, text: impl Into<String>) -> Step {
        Step {
            link,
            text: text.into(),
            checked: true,
        }
    }

    pub fn unchecked(link: Link, text: impl Into<String>) -> Step {
        Step {
            checked: false,
            ..Step::new(link, text)
        }
    }
}

/// What the Service's chain adds up to.
pub struct Chain<'s> {
    pub steps: Vec<Step>,
    pub observations: &'s [Observation],
    /// Ready endpoints of the port with the fewest.
    pub ready_backends: usize,
    /// `ns/pod` when evaluated for traffic from one pod.
    pub client: Option<String>,
    /// How the healthy answer reads for this kind of Service (e.g. a CNAME for ExternalName).
    pub healthy_answer: String,
}

impl Chain<'_> {
    fn status(&self, link: Link) -> Option<Severity> {
        self.observations
            .iter()
            .filter(|o| o.link == link)
            .map(|o| o.finding.severity)
            .max()
    }

    /// The observation that breaks the chain first, in link order; a break that only stops
    /// traffic from outside the cluster comes after any that stops everyone.
    pub fn culprit(&self) -> Option<&Observation> {
        self.observations
            .iter()
            .filter(|o| o.finding.severity == Severity::Error)
            .min_by_key(|o| (o.external_only, o.link))
    }

    fn first_warning(&self) -> Option<&Observation> {
        self.observations
            .iter()
            .filter(|o| o.finding.severity == Severity::Warning)
            .min_by_key(|o| o.link)
    }

    /// The link after which nothing is reached: the culprit's, unless only outside traffic breaks.
    fn cut(&self) -> Option<Link> {
        self.culprit().filter(|c| !c.external_only).map(|c| c.link)
    }

    /// How one link reads: broken, warned, not reached (after the cut), unchecked, or fine.
    fn state(&self, step: &Step) -> LinkState {
        match self.status(step.link) {
            Some(Severity::Error) => LinkState::Broken,
            Some(Severity::Warning) => LinkState::Warning,
            _ if self.cut().is_some_and(|cut| step.link > cut) => LinkState::NotReached,
            _ if !step.checked => LinkState::Unchecked,
            _ => LinkState::Ok,
        }
    }

    /// The client's step: named after the `--from` pod, if any.
    fn client_step(&self) -> Step {
        let client = match &self.client {
            Some(pod) => format!("client {pod}"),
            None => "client".to_string(),
        };
        Step::new(Link::Client, client)
    }

    /// Every link as shown, the client first; text and JSON give the same chain.
    fn shown<'s>(&'s self, client: &'s Step) -> impl Iterator<Item = &'s Step> {
        std::iter::once(client).chain(self.steps.iter().filter(|s| s.link != Link::Client))
    }

    /// `client → DNS web.shop.svc ✓ → port 80/TCP ✓ → ...`
    pub fn line(&self) -> String {
        let client = self.client_step();
        self.shown(&client)
            .map(|s| format!("{} {}", s.text, self.state(s).mark()))
            .collect::<Vec<_>>()
            .join(" → ")
    }

    /// The one-line answer for the Service, placed first among its findings.
    pub fn verdict(&self, subject: &Subject) -> Finding {
        let who = match &self.client {
            Some(pod) => format!("traffic from {pod}"),
            None => "traffic".to_string(),
        };
        let warnings = self
            .observations
            .iter()
            .filter(|o| o.finding.severity == Severity::Warning)
            .count();
        let (severity, code, title) = match (self.culprit(), self.first_warning()) {
            (Some(culprit), _) => {
                let who = if culprit.external_only {
                    "traffic from outside the cluster".to_string()
                } else {
                    who
                };
                (
                    Severity::Error,
                    "service-unreachable",
                    format!(
                        "{who} cannot reach a ready backend: {}",
                        culprit.finding.title
                    ),
                )
            }
            (None, Some(first)) => (
                Severity::Warning,
                "service-degraded",
                format!(
                    "{}, with {warnings} warning{}: {}",
                    self.healthy_answer,
                    plural(warnings),
                    first.finding.title
                ),
            ),
            (None, None) => (
                Severity::Info,
                "service-reachable",
                self.healthy_answer.clone(),
            ),
        };
        let mut explanation = self.line();
        if let Some(culprit) = self.culprit() {
            explanation.push_str(&format!(
                "\nFirst broken link: {} ({}).",
                culprit.link.label(),
                culprit.finding.code
            ));
            if culprit.external_only
                && self
                    .observations
                    .iter()
                    .all(|o| o.external_only || o.finding.severity != Severity::Error)
            {
                explanation.push_str(
                    "\nClients inside the cluster still reach the Service through its cluster IP.",
                );
            }
        }
        let client = self.client_step();
        let chain: Vec<_> = self
            .shown(&client)
            .map(|s| {
                json!({
                    "link": s.link,
                    "step": s.text,
                    "status": self.state(s).name(),
                })
            })
            .collect();
        Finding::new(severity, subject.object(), code, title)
            .explain(explanation)
            .details(json!({
                "reachable": self.culprit().is_none(),
                "brokenLink": self.culprit().map(|c| c.link),
                "culprit": self.culprit().map(|c| c.finding.code.clone()),
                "readyBackends": self.ready_backends,
                "client": self.client,
                "chain": chain,
            }))
    }
}

/// The state of one link as shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LinkState {
    Ok,
    Warning,
    Broken,
    /// After the first broken link: never reached.
    NotReached,
    /// What it depends on could not be read or found.
    Unchecked,
}

impl LinkState {
    fn mark(self) -> &'static str {
        match self {
            LinkState::Ok => "✓",
            LinkState::Warning => "!",
            LinkState::Broken => "✗",
            LinkState::NotReached => "–",
            LinkState::Unchecked => "?",
        }
    }

    fn name(self) -> &'static str {
        match self {
            LinkState::Ok => "ok",
            LinkState::Warning => "warning",
            LinkState::Broken => "broken",
            LinkState::NotReached => "notReached",
            LinkState::Unchecked => "unchecked",
        }
    }
}

pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::Service;
    use kube_runbook::report::ObjectRef;

    use super::*;

    fn finding(severity: Severity, code: &str, title: &str) -> Finding {
        Finding::new(
            severity,
            ObjectRef::namespaced("Service", "shop", "web"),
            code,
            title,
        )
    }

    fn service() -> Service {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"ports": [{"port": 80}], "selector": {"app": "web"}}
        }))
        .unwrap()
    }

    fn chain(observations: &[Observation]) -> Chain<'_> {
        Chain {
            steps: vec![
                Step::new(Link::Dns, "DNS web.shop.svc"),
                Step::new(Link::Endpoints, "endpoints"),
                Step::new(Link::ReadyPod, "ready pods"),
            ],
            observations,
            ready_backends: 0,
            client: None,
            healthy_answer: "traffic reaches 2 ready backends".into(),
        }
    }

    #[test]
    fn the_first_broken_link_is_the_culprit() {
        let observations = vec![
            Observation::new(
                Link::ReadyPod,
                finding(Severity::Error, "no-ready-backends", "no pod is ready"),
            ),
            Observation::new(
                Link::Endpoints,
                finding(
                    Severity::Error,
                    "selector-matches-no-pods",
                    "the selector matches no pod",
                ),
            ),
            Observation::new(Link::Dns, finding(Severity::Warning, "x", "y")),
        ];
        let svc = service();
        let verdict = chain(&observations).verdict(&Subject::new(&svc));
        assert_eq!(verdict.severity, Severity::Error);
        assert_eq!(verdict.code, "service-unreachable");
        assert_eq!(
            verdict.title,
            "traffic cannot reach a ready backend: the selector matches no pod"
        );
        assert!(
            verdict
                .explanation
                .starts_with("client ✓ → DNS web.shop.svc ! → endpoints ✗ → ready pods ✗")
        );
        assert_eq!(verdict.details["brokenLink"], "endpoints");
        assert_eq!(verdict.details["culprit"], "selector-matches-no-pods");
        assert_eq!(
            verdict.details["chain"],
            serde_json::json!([
                {"link": "client", "step": "client", "status": "ok"},
                {"link": "dns", "step": "DNS web.shop.svc", "status": "warning"},
                {"link": "endpoints", "step": "endpoints", "status": "broken"},
                {"link": "readyPod", "step": "ready pods", "status": "broken"}
            ]),
            "the JSON chain is the text line's"
        );
    }

    #[test]
    fn a_break_for_everyone_comes_before_one_for_outside_traffic() {
        let observations = vec![
            Observation::external(
                Link::ServicePort,
                finding(
                    Severity::Error,
                    "load-balancer-pending",
                    "EXTERNAL-IP is pending",
                ),
            ),
            Observation::new(
                Link::ReadyPod,
                finding(Severity::Error, "no-ready-backends", "no pod is ready"),
            ),
        ];
        let svc = service();
        let verdict = chain(&observations).verdict(&Subject::new(&svc));
        assert_eq!(
            verdict.title,
            "traffic cannot reach a ready backend: no pod is ready"
        );
        let outside = vec![observations[0].clone()];
        let verdict = chain(&outside).verdict(&Subject::new(&svc));
        assert_eq!(
            verdict.title,
            "traffic from outside the cluster cannot reach a ready backend: EXTERNAL-IP is pending"
        );
        assert!(
            verdict
                .explanation
                .contains("Clients inside the cluster still reach")
        );
    }

    #[test]
    fn healthy_and_degraded_answers() {
        let svc = service();
        let healthy = chain(&[]).verdict(&Subject::new(&svc));
        assert_eq!(
            (healthy.severity, healthy.code.as_str()),
            (Severity::Info, "service-reachable")
        );
        assert_eq!(healthy.title, "traffic reaches 2 ready backends");
        let warned = vec![Observation::new(
            Link::ReadyPod,
            finding(
                Severity::Warning,
                "no-readiness-probe",
                "1 pod has no readiness probe",
            ),
        )];
        let degraded = chain(&warned).verdict(&Subject::new(&svc));
        assert_eq!(degraded.code, "service-degraded");
        assert_eq!(
            degraded.title,
            "traffic reaches 2 ready backends, with 1 warning: 1 pod has no readiness probe"
        );
    }
}
