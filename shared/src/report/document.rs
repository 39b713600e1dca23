//! The report a plugin prints: its findings plus what it could not check.

use serde::Serialize;

use super::finding::{Finding, Severity};
use crate::{
    exit_code,
    state::{ClusterState, Origin},
};

/// The `apiVersion` of the JSON/YAML report; bumped on any incompatible change.
pub const SCHEMA_VERSION: &str = "kube-runbooks.io/v1";

/// Something the plugin could not look at, so its answer may be incomplete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotChecked {
    /// The resource (plural, as RBAC names it).
    pub resource: String,
    pub reason: String,
}

/// Finding counts by severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

/// Everything one run found, in the documented schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub plugin: String,
    pub source: Origin,
    pub observed_at: String,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    pub not_checked: Vec<NotChecked>,
}

impl Report {
    /// A report of `findings` from `plugin` over `state`, most severe first, with the kinds the
    /// state could not load listed as not checked.
    pub fn new(plugin: &str, state: &ClusterState, mut findings: Vec<Finding>) -> Self {
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
        let summary = Summary {
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
            infos: count(Severity::Info),
        };
        Report {
            api_version: SCHEMA_VERSION,
            kind: "Report",
            plugin: plugin.to_string(),
            source: state.origin.clone(),
            observed_at: state.observed_at.to_string(),
            summary,
            findings,
            not_checked: state
                .unavailable
                .iter()
                .map(|u| NotChecked {
                    resource: u.kind.resource().to_string(),
                    reason: u.reason.clone(),
                })
                .collect(),
        }
    }

    /// [`exit_code::PROBLEM_FOUND`] when any finding is an error, else [`exit_code::OK`].
    pub fn exit_code(&self) -> u8 {
        if self.summary.errors > 0 {
            exit_code::PROBLEM_FOUND
        } else {
            exit_code::OK
        }
    }
}
