//! A healthy web Service with one backend made not ready, and what its finding says.

use kube_runbook::report::Finding;
use serde_json::{Value, json};

use crate::testing::{Fixture, find, make_unready};

/// `healthy_web` with web-2 not ready after `edit`, and its endpoint not ready.
pub fn web_2_not_ready(edit: impl Fn(&mut Value)) -> Fixture {
    let mut f = Fixture::healthy_web();
    f.edit_pod("web-2", |p| {
        make_unready(p);
        edit(p);
    })
    .edit_slice("web-abc", |s| {
        s["endpoints"][1]["conditions"] =
            json!({"ready": false, "serving": false, "terminating": false})
    });
    f
}

pub fn not_ready_finding(f: &Fixture) -> Finding {
    find(&f.check_web(None), "backends-not-ready").clone()
}

pub fn remedies(finding: &Finding) -> Vec<String> {
    finding
        .remediation
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r.description,
                r.command.as_deref().unwrap_or_default()
            )
        })
        .collect()
}
