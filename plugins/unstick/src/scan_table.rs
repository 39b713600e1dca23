//! A scan as a kubectl-style table: one row per stuck object with its kind, name, how long it has
//! been terminating and its main cause in one line, the longest terminating first.

use std::{fmt::Write, time::Duration};

use k8s_openapi::jiff::Timestamp;
use kube_runbook::report::{Finding, Report, Severity, human_duration};

use crate::analyse::{Scanned, deletion_requested_at};

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    pub kind: String,
    pub name: String,
    /// Since the deletion was requested; None when the object is not being deleted.
    pub terminating: Option<Duration>,
    pub cause: String,
}

/// The rows of `scanned`, the longest terminating first, then what is stuck without being
/// deleted, each group by namespace, kind and name.
pub fn rows(scanned: &[Scanned], now: Timestamp) -> Vec<Row> {
    let mut rows: Vec<Row> = scanned
        .iter()
        .map(|s| {
            let subject = s.subject;
            let own: Vec<&Finding> = s
                .diagnosis
                .findings
                .iter()
                .filter(|f| f.object == subject.reference())
                .collect();
            let main = own
                .iter()
                .copied()
                .find(|f| f.severity == Severity::Error)
                .or_else(|| own.first().copied())
                .or_else(|| s.diagnosis.findings.first());
            Row {
                namespace: subject.namespace().unwrap_or_default().to_string(),
                kind: subject.resource.kind.clone(),
                name: subject.name().to_string(),
                terminating: deletion_requested_at(subject)
                    .and_then(|at| Duration::try_from(now.duration_since(at)).ok()),
                cause: main.map(|f| cause_of(&f.title)).unwrap_or_default(),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.terminating
            .cmp(&a.terminating)
            .then_with(|| a.namespace.cmp(&b.namespace))
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.name.cmp(&b.name))
    });
    rows
}

/// A finding's title without its "Terminating for 5m: " lead, which the table has as a column.
fn cause_of(title: &str) -> String {
    match title.split_once(": ") {
        Some((lead, cause)) if lead.starts_with("Terminating") => cause.to_string(),
        _ => title.to_string(),
    }
}

/// The table (with a NAMESPACE column when `all_namespaces`), what could not be checked, and
/// where to look next.
pub fn text(rows: &[Row], all_namespaces: bool, report: &Report) -> String {
    let terminating: Vec<String> = rows
        .iter()
        .map(|r| r.terminating.map(human_duration).unwrap_or("-".into()))
        .collect();
    let width = |header: &str, cells: &mut dyn Iterator<Item = usize>| {
        cells.chain([header.len()]).max().unwrap_or_default()
    };
    let ns_width = width("NAMESPACE", &mut rows.iter().map(|r| r.namespace.len()));
    let kind_width = width("KIND", &mut rows.iter().map(|r| r.kind.len()));
    let name_width = width("NAME", &mut rows.iter().map(|r| r.name.len()));
    let age_width = width("TERMINATING", &mut terminating.iter().map(String::len));
    let mut out = String::new();
    let mut line = |namespace: &str, kind: &str, name: &str, age: &str, cause: &str| {
        if all_namespaces {
            let _ = write!(out, "{namespace:<ns_width$}   ");
        }
        let _ = writeln!(
            out,
            "{kind:<kind_width$}   {name:<name_width$}   {age:<age_width$}   {cause}"
        );
    };
    line("NAMESPACE", "KIND", "NAME", "TERMINATING", "CAUSE");
    for (row, age) in rows.iter().zip(&terminating) {
        line(&row.namespace, &row.kind, &row.name, age, &row.cause);
    }
    if !report.not_checked.is_empty() {
        let _ = writeln!(out, "\nNot checked (the answer may be incomplete):");
        for item in &report.not_checked {
            let _ = writeln!(out, "  - {}: {}", item.resource, item.reason);
        }
    }
    let _ = writeln!(
        out,
        "\nFor the evidence and the way out of one: kubectl unstick TYPE/NAME -n NAMESPACE (add --fix to take it)."
    );
    out
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolume};
    use kube_runbook::selector::LabelQuery;
    use serde_json::json;

    use super::*;
    use crate::analyse::{
        scan,
        testing::{add, from, inventory, node},
    };

    #[test]
    fn rows_put_the_longest_terminating_first_and_strip_the_lead_of_the_cause() {
        let mut inv = inventory("2026-01-01T01:00:00Z");
        inv.state
            .nodes
            .push(node("n1", "Unknown", "2026-01-01T00:50:00Z"));
        for (name, deleted) in [
            ("young", "2026-01-01T00:55:00Z"),
            ("old", "2026-01-01T00:00:00Z"),
        ] {
            add(
                &mut inv,
                from::<ConfigMap>(json!({"metadata": {
                    "name": name, "namespace": "shop", "uid": format!("u-{name}"),
                    "deletionTimestamp": deleted, "finalizers": ["example.com/x"],
                }})),
            );
        }
        add(
            &mut inv,
            from::<PersistentVolume>(json!({
                "metadata": {"name": "pv-1", "uid": "u-pv", "deletionTimestamp": "2026-01-01T00:30:00Z",
                             "finalizers": ["kubernetes.io/pv-protection"]},
                "spec": {"claimRef": {"namespace": "shop", "name": "gone"}},
                "status": {"phase": "Released"},
            })),
        );
        add(
            &mut inv,
            from::<k8s_openapi::api::core::v1::Pod>(json!({
                "metadata": {"name": "db-0", "namespace": "shop", "uid": "u-db",
                             "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "uid": "s", "controller": true}]},
                "spec": {"nodeName": "n1", "containers": []}, "status": {"phase": "Running"},
            })),
        );
        let scanned = scan(&inv, &LabelQuery::parse("").unwrap());
        let table: Vec<(String, String, Option<u64>)> = rows(&scanned, inv.observed_at())
            .into_iter()
            .map(|r| (r.kind, r.name, r.terminating.map(|d| d.as_secs() / 60)))
            .collect();
        assert_eq!(
            table,
            vec![
                ("ConfigMap".to_string(), "old".to_string(), Some(60)),
                ("PersistentVolume".to_string(), "pv-1".to_string(), Some(30)),
                ("ConfigMap".to_string(), "young".to_string(), Some(5)),
                ("Pod".to_string(), "db-0".to_string(), None),
            ]
        );
        let first = &rows(&scanned, inv.observed_at())[0];
        assert_eq!(
            first.cause,
            "finalizer example.com/x: no controller for example.com appears to be running"
        );
        let lost = &rows(&scanned, inv.observed_at())[3];
        assert!(
            lost.cause
                .starts_with("On a lost node for 10m: node n1 stopped reporting"),
            "{}",
            lost.cause
        );
    }

    #[test]
    fn text_aligns_the_columns_and_adds_the_namespace_for_all_namespaces() {
        let rows = vec![
            Row {
                namespace: "shop".into(),
                kind: "ConfigMap".into(),
                name: "held".into(),
                terminating: Some(Duration::from_secs(3600)),
                cause: "finalizer example.com/x: no controller".into(),
            },
            Row {
                namespace: String::new(),
                kind: "PersistentVolume".into(),
                name: "pv-1".into(),
                terminating: None,
                cause: "still bound".into(),
            },
        ];
        let report = Report::new(
            "unstick",
            &kube_runbook::state::ClusterState::new(
                kube_runbook::state::Origin::Snapshot { path: "x".into() },
                Timestamp::UNIX_EPOCH,
            ),
            Vec::new(),
        );
        let text = text(&rows, true, &report);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "NAMESPACE   KIND               NAME   TERMINATING   CAUSE"
        );
        assert_eq!(
            lines[1],
            "shop        ConfigMap          held   60m           finalizer example.com/x: no controller"
        );
        assert_eq!(
            lines[2],
            "            PersistentVolume   pv-1   -             still bound"
        );
    }
}
