//! One reason an object is stuck: a finding plus the ladder steps that address it, and the
//! diagnosis that gathers them for one object.

use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use kube_runbook::report::{Finding, Remedy, Severity, human_duration};
use serde_json::json;

use crate::fix::plan::{Step, ladder};

/// A finding and the executable steps it proposes (advice stays in the finding's remedies).
#[derive(Debug, Clone)]
pub struct Cause {
    pub finding: Finding,
    pub steps: Vec<Step>,
}

impl Cause {
    pub fn new(finding: Finding) -> Cause {
        Cause {
            finding,
            steps: Vec::new(),
        }
    }

    /// Adds advice that is not carried out by `--fix` (shown before the executable steps).
    pub fn advice(mut self, remedy: Remedy) -> Cause {
        self.finding = self.finding.remedy(remedy);
        self
    }

    pub fn step(mut self, step: Step) -> Cause {
        self.steps.push(step);
        self
    }

    pub fn steps(mut self, steps: impl IntoIterator<Item = Step>) -> Cause {
        self.steps.extend(steps);
        self
    }
}

/// Everything found about one stuck object, including the objects that hold it.
#[derive(Debug, Clone, Default)]
pub struct Diagnosis {
    pub findings: Vec<Finding>,
    /// Every step proposed for the subject and for what holds it, in analysis order.
    pub steps: Vec<Step>,
}

impl Diagnosis {
    /// Adds a cause: its steps become remedies of its finding (safest first) and join the ladder.
    pub fn add(&mut self, cause: Cause) {
        let Cause { mut finding, steps } = cause;
        let ordered = ladder(steps.iter().cloned());
        for step in &ordered {
            finding = finding.remedy(step.remedy());
        }
        if !ordered.is_empty() {
            let mut details = match finding.details.take() {
                serde_json::Value::Null => json!({}),
                other => other,
            };
            details["steps"] = ordered.iter().map(Step::details).collect();
            finding.details = details.into();
        }
        self.push_finding(finding);
        self.steps.extend(steps);
    }

    /// Takes in the diagnosis of an object that holds this one: its findings and its steps.
    pub fn absorb(&mut self, other: Diagnosis) {
        for finding in other.findings {
            self.push_finding(finding);
        }
        self.steps.extend(other.steps);
    }

    fn push_finding(&mut self, finding: Finding) {
        let duplicate = self.findings.iter().any(|f| {
            f.object == finding.object && f.code == finding.code && f.title == finding.title
        });
        if !duplicate {
            self.findings.push(finding);
        }
    }

    /// The ladder for the subject, safest first.
    pub fn ladder(&self) -> Vec<Step> {
        ladder(self.steps.iter().cloned())
    }

    /// Whether any finding says the object does not work (severity error).
    pub fn is_stuck(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

/// How long an object has been in a state, for titles: "Terminating for 5m".
pub fn for_how_long(state: &str, since: Option<Timestamp>, now: Timestamp) -> String {
    match since.and_then(|since| elapsed(since, now)) {
        Some(duration) => format!("{state} for {}", human_duration(duration)),
        None => state.to_string(),
    }
}

/// Time from `since` to `now`, None when `since` is in the future.
pub fn elapsed(since: Timestamp, now: Timestamp) -> Option<Duration> {
    Duration::try_from(now.duration_since(since)).ok()
}

/// The age of a timestamp as kubectl prints it ("5m3s ago"), or "just now".
pub fn ago(time: Timestamp, now: Timestamp) -> String {
    elapsed(time, now)
        .map(|d| format!("{} ago", human_duration(d)))
        .unwrap_or_else(|| "just now".to_string())
}

/// The first line of a message, trimmed: events and conditions can span several.
pub fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_string()
}
