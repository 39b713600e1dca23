//! The `-o json` / `-o yaml` documents (README "Output schema"): the plan, and a drain run's
//! plan with what each node's drain did.

use kube_runbook::{
    Error,
    cli::OutputFormat,
    report::{NotChecked, SCHEMA_VERSION, Severity, Summary},
    state::{ClusterState, Origin},
};
use serde::Serialize;

use crate::{exec::NodeOutcome, plan::NodePlan};

/// `kind: DrainPlan`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanDocument<'a> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub plugin: &'static str,
    pub source: &'a Origin,
    pub observed_at: String,
    /// Whether every node can be drained with the flags given.
    pub can_drain: bool,
    pub summary: Summary,
    pub nodes: &'a [NodePlan],
    pub not_checked: Vec<NotChecked>,
}

impl<'a> PlanDocument<'a> {
    pub fn new(state: &'a ClusterState, nodes: &'a [NodePlan]) -> PlanDocument<'a> {
        let findings = || nodes.iter().flat_map(|n| n.findings.iter());
        let count = |s: Severity| findings().filter(|f| f.severity == s).count();
        PlanDocument {
            api_version: SCHEMA_VERSION,
            kind: "DrainPlan",
            plugin: "safe-drain",
            source: &state.origin,
            observed_at: state.observed_at.to_string(),
            can_drain: nodes.iter().all(|n| n.can_drain),
            summary: Summary {
                errors: count(Severity::Error),
                warnings: count(Severity::Warning),
                infos: count(Severity::Info),
            },
            nodes,
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
}

/// `kind: DrainRun`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunDocument<'a> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub plan: PlanDocument<'a>,
    pub outcomes: &'a [NodeOutcome],
}

impl<'a> RunDocument<'a> {
    pub fn new(plan: PlanDocument<'a>, outcomes: &'a [NodeOutcome]) -> RunDocument<'a> {
        RunDocument {
            api_version: SCHEMA_VERSION,
            kind: "DrainRun",
            plan,
            outcomes,
        }
    }
}

/// `document` as JSON or YAML.
pub fn machine_text(document: &impl Serialize, format: OutputFormat) -> Result<String, Error> {
    let value = serde_json::to_value(document).map_err(|e| Error::Output(e.to_string()))?;
    match format {
        OutputFormat::Yaml => {
            serde_saphyr::to_string(&value).map_err(|e| Error::Output(e.to_string()))
        }
        _ => serde_json::to_string_pretty(&value)
            .map(|s| s + "\n")
            .map_err(|e| Error::Output(e.to_string())),
    }
}
