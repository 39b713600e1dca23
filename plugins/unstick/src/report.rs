//! The report of a run: every finding once, and everything that could not be checked.

use kube_runbook::report::Report;

use crate::{
    analyse::{Diagnosis, findings_of},
    gather::Focus,
    inventory::Inventory,
};

pub const PLUGIN: &str = "unstick";

/// The report of `diagnoses` over `inventory`.
pub fn build(inventory: &Inventory, diagnoses: &[Diagnosis]) -> Report {
    let mut report = Report::new(PLUGIN, &inventory.state, findings_of(diagnoses));
    report
        .not_checked
        .extend(inventory.not_checked.iter().cloned());
    report
}

/// What to say when nothing is stuck.
pub fn empty_message(focus: &Focus) -> String {
    match focus {
        Focus::Scan {
            namespace: Some(ns),
        } => format!("nothing is stuck in namespace {ns}"),
        Focus::Scan { namespace: None } => "nothing is stuck in any namespace".to_string(),
        Focus::Object(object) => format!(
            "{} is not stuck: it is not being deleted and nothing holds it",
            object.reference()
        ),
    }
}
