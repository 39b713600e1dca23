//! One finding: what is wrong with which object, why, the evidence, and how to fix it.

use k8s_openapi::api::core::v1::Event;
use serde::Serialize;

use super::details::Details;
use crate::state::{event_count, event_reporter};

/// How bad a finding is. `Error` means the object does not work; it makes the exit code 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// The object a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    pub fn namespaced(kind: &str, namespace: &str, name: &str) -> Self {
        ObjectRef {
            kind: kind.to_string(),
            namespace: Some(namespace.to_string()),
            name: name.to_string(),
        }
    }

    pub fn cluster(kind: &str, name: &str) -> Self {
        ObjectRef {
            kind: kind.to_string(),
            namespace: None,
            name: name.to_string(),
        }
    }
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// Where a fact was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Source {
    /// A field of an object, e.g. `spec.containers[0].resources.requests.cpu` of `object`.
    #[serde(rename_all = "camelCase")]
    Field { object: ObjectRef, path: String },
    /// An event recorded against `object` (its involvedObject).
    #[serde(rename_all = "camelCase")]
    Event {
        object: ObjectRef,
        reason: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        count: Option<i32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        last_seen: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        reporter: Option<String>,
    },
    /// A status condition of an object.
    #[serde(rename_all = "camelCase")]
    Condition {
        object: ObjectRef,
        condition_type: String,
        status: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The existence, absence or state of another object.
    #[serde(rename_all = "camelCase")]
    Object { object: ObjectRef },
    /// Worked out by the plugin from other facts (e.g. the resource arithmetic).
    Computed,
}

impl Source {
    /// An event as evidence: its object, reason, count and reporter, and `last_seen` as worded
    /// by the caller (an age relative to when the state was observed).
    pub fn event(event: &Event, last_seen: Option<String>) -> Source {
        let involved = &event.involved_object;
        Source::Event {
            object: ObjectRef {
                kind: involved.kind.clone().unwrap_or_default(),
                namespace: involved.namespace.clone(),
                name: involved.name.clone().unwrap_or_default(),
            },
            reason: event.reason.clone().unwrap_or_default(),
            count: Some(event_count(event)),
            last_seen,
            reporter: event_reporter(event).map(str::to_string),
        }
    }
}

/// One fact supporting a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub fact: String,
    pub source: Source,
}

/// Whether running a remedy can hurt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "level", rename_all = "lowercase")]
pub enum Risk {
    Safe,
    /// Can lose data or availability; `danger` says how, in one line.
    Dangerous {
        danger: String,
    },
}

/// One way to fix a finding: a command, a YAML snippet, or a step in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Remedy {
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub yaml: Option<String>,
    pub risk: Risk,
}

impl Remedy {
    pub fn step(description: impl Into<String>) -> Self {
        Remedy {
            description: description.into(),
            command: None,
            yaml: None,
            risk: Risk::Safe,
        }
    }

    pub fn command(description: impl Into<String>, command: impl Into<String>) -> Self {
        Remedy {
            command: Some(command.into()),
            ..Remedy::step(description)
        }
    }

    pub fn yaml(description: impl Into<String>, yaml: impl Into<String>) -> Self {
        Remedy {
            yaml: Some(yaml.into()),
            ..Remedy::step(description)
        }
    }

    /// Marks this remedy dangerous, saying how in one line.
    pub fn dangerous(mut self, danger: impl Into<String>) -> Self {
        self.risk = Risk::Dangerous {
            danger: danger.into(),
        };
        self
    }
}

/// What is wrong with one object, why, the evidence, and the fixes (safest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub severity: Severity,
    pub object: ObjectRef,
    /// A stable identifier of the kind of problem, e.g. `insufficient-resources`.
    pub code: String,
    /// The answer in one line of plain words.
    pub title: String,
    /// Why, in a few sentences.
    pub explanation: String,
    pub evidence: Vec<Evidence>,
    pub remediation: Vec<Remedy>,
    /// Plugin-specific structured data (documented per plugin).
    #[serde(skip_serializing_if = "Details::is_null")]
    pub details: Details,
}

impl Finding {
    pub fn new(
        severity: Severity,
        object: ObjectRef,
        code: &str,
        title: impl Into<String>,
    ) -> Self {
        Finding {
            severity,
            object,
            code: code.to_string(),
            title: title.into(),
            explanation: String::new(),
            evidence: Vec::new(),
            remediation: Vec::new(),
            details: Details::default(),
        }
    }

    pub fn explain(mut self, explanation: impl Into<String>) -> Self {
        self.explanation = explanation.into();
        self
    }

    pub fn evidence(mut self, fact: impl Into<String>, source: Source) -> Self {
        self.evidence.push(Evidence {
            fact: fact.into(),
            source,
        });
        self
    }

    pub fn remedy(mut self, remedy: Remedy) -> Self {
        self.remediation.push(remedy);
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details.into();
        self
    }

    /// Details made by `make` only when they are read (machine output), for large values.
    pub fn details_deferred(
        mut self,
        make: impl Fn() -> serde_json::Value + Send + Sync + 'static,
    ) -> Self {
        self.details = Details::deferred(make);
        self
    }
}
