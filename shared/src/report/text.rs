//! The report as text for people: the answer first, then the evidence, then the fix.

use std::fmt::Write;

use super::{
    document::Report,
    finding::{Finding, ObjectRef, Risk, Severity, Source},
    styles::Styles,
};

/// Renders the whole report; `empty_message` is printed when there are no findings.
pub fn render_text(report: &Report, styles: &Styles, empty_message: &str) -> String {
    let mut out = String::new();
    if report.findings.is_empty() {
        let _ = writeln!(out, "{} {empty_message}", styles.ok.style("✓"));
    }
    for (i, finding) in report.findings.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        render_finding(&mut out, finding, styles);
    }
    if !report.not_checked.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            styles
                .warning
                .style("Not checked (the answer may be incomplete):")
        );
        for item in &report.not_checked {
            let _ = writeln!(out, "  - {}: {}", item.resource, item.reason);
        }
    }
    out
}

fn render_finding(out: &mut String, finding: &Finding, styles: &Styles) {
    let (mark, style) = match finding.severity {
        Severity::Error => ("✗", styles.error),
        Severity::Warning => ("!", styles.warning),
        Severity::Info => ("i", styles.info),
    };
    let _ = writeln!(
        out,
        "{} {}",
        style.style(mark),
        styles
            .heading
            .style(format!("{}: {}", finding.object, finding.title))
    );
    for line in finding.explanation.lines() {
        let _ = writeln!(out, "  {line}");
    }
    if !finding.evidence.is_empty() {
        let _ = writeln!(out, "  {}", styles.heading.style("Evidence:"));
        for evidence in &finding.evidence {
            let _ = writeln!(
                out,
                "    • {} {}",
                evidence.fact,
                styles
                    .dim
                    .style(source_label(&evidence.source, &finding.object))
            );
        }
    }
    if !finding.remediation.is_empty() {
        let _ = writeln!(out, "  {}", styles.heading.style("Fix:"));
        for (n, remedy) in finding.remediation.iter().enumerate() {
            match &remedy.risk {
                Risk::Safe => {
                    let _ = writeln!(
                        out,
                        "    {}. {} {}",
                        n + 1,
                        remedy.description,
                        styles.dim.style("(safe)")
                    );
                }
                Risk::Dangerous { danger } => {
                    let _ = writeln!(out, "    {}. {}", n + 1, remedy.description);
                    let _ = writeln!(
                        out,
                        "       {}",
                        styles.danger.style(format!("danger: {danger}"))
                    );
                }
            }
            if let Some(command) = &remedy.command {
                let _ = writeln!(out, "       {}", styles.command.style(command));
            }
            if let Some(yaml) = &remedy.yaml {
                for line in yaml.lines() {
                    let _ = writeln!(out, "         {}", styles.command.style(line));
                }
            }
        }
    }
}

/// Where a fact came from; an event about another object than the finding's names it.
fn source_label(source: &Source, about: &ObjectRef) -> String {
    match source {
        Source::Field { object, path } => format!("({} {})", object_short(object), path),
        Source::Event {
            object,
            reason,
            count,
            last_seen,
            ..
        } => {
            let on = if object == about || object.name.is_empty() {
                String::new()
            } else {
                format!(" on {}", object_short(object))
            };
            let count = count
                .filter(|c| *c > 1)
                .map(|c| format!(" ×{c}"))
                .unwrap_or_default();
            let seen = last_seen
                .as_ref()
                .map(|s| format!(", last {s}"))
                .unwrap_or_default();
            format!("(event {reason}{on}{count}{seen})")
        }
        Source::Condition {
            object,
            condition_type,
            status,
            reason,
        } => {
            let reason = reason.as_ref().map(|r| format!("/{r}")).unwrap_or_default();
            format!(
                "({} condition {condition_type}={status}{reason})",
                object_short(object)
            )
        }
        Source::Object { object } => format!("({})", object_short(object)),
        Source::Computed => "(computed)".to_string(),
    }
}

fn object_short(object: &ObjectRef) -> String {
    format!("{}/{}", object.kind.to_lowercase(), object.name)
}

#[cfg(test)]
mod tests {
    use k8s_openapi::jiff::Timestamp;

    use super::*;
    use crate::{
        report::{Remedy, finding::Finding},
        state::{ClusterState, Kind, Origin, Unavailable},
    };

    fn sample() -> Report {
        let pod = ObjectRef::namespaced("Pod", "shop", "web");
        let finding = Finding::new(
            Severity::Error,
            pod.clone(),
            "insufficient-resources",
            "no node has 4 CPU free",
        )
        .explain("The pod requests 4 CPU; the largest free share on any node is 1.5 CPU.")
        .evidence(
            "requests cpu 4",
            Source::Field {
                object: pod.clone(),
                path: "spec.containers[0].resources.requests.cpu".into(),
            },
        )
        .evidence(
            "0/3 nodes are available: 3 Insufficient cpu.",
            Source::Event {
                object: pod,
                reason: "FailedScheduling".into(),
                count: Some(4),
                last_seen: Some("2m".into()),
                reporter: None,
            },
        )
        .remedy(Remedy::command(
            "Lower the request",
            "kubectl set resources deploy/web --requests=cpu=1",
        ))
        .remedy(Remedy::step("Delete other pods").dangerous("their workloads lose capacity"));
        let mut state = ClusterState::new(
            Origin::Snapshot {
                path: "snap.yaml".into(),
            },
            Timestamp::UNIX_EPOCH,
        );
        state.unavailable.push(Unavailable {
            kind: Kind::Node,
            reason: "forbidden".into(),
        });
        Report::new("why-pending", &state, vec![finding])
    }

    #[test]
    fn plain_text_layout() {
        insta::assert_snapshot!(render_text(&sample(), &Styles::plain(), "nothing wrong"), @r"
        ✗ Pod shop/web: no node has 4 CPU free
          The pod requests 4 CPU; the largest free share on any node is 1.5 CPU.
          Evidence:
            • requests cpu 4 (pod/web spec.containers[0].resources.requests.cpu)
            • 0/3 nodes are available: 3 Insufficient cpu. (event FailedScheduling ×4, last 2m)
          Fix:
            1. Lower the request (safe)
               kubectl set resources deploy/web --requests=cpu=1
            2. Delete other pods
               danger: their workloads lose capacity

        Not checked (the answer may be incomplete):
          - nodes: forbidden
        ");
    }

    #[test]
    fn json_schema_is_stable() {
        let json = crate::report::render_json(&sample()).unwrap();
        insta::assert_snapshot!(json);
        assert_eq!(sample().exit_code(), crate::exit_code::PROBLEM_FOUND);
    }

    #[test]
    fn an_event_about_another_object_names_it() {
        let event = Source::Event {
            object: ObjectRef::namespaced("ReplicaSet", "shop", "web-7d9"),
            reason: "FailedCreate".into(),
            count: Some(3),
            last_seen: None,
            reporter: None,
        };
        let deployment = ObjectRef::namespaced("Deployment", "shop", "web");
        assert_eq!(
            source_label(&event, &deployment),
            "(event FailedCreate on replicaset/web-7d9 ×3)"
        );
        let replica_set = ObjectRef::namespaced("ReplicaSet", "shop", "web-7d9");
        assert_eq!(
            source_label(&event, &replica_set),
            "(event FailedCreate ×3)"
        );
    }

    #[test]
    fn empty_report_says_so() {
        let state = ClusterState::new(Origin::Snapshot { path: "s".into() }, Timestamp::UNIX_EPOCH);
        let report = Report::new("svc-check", &state, vec![]);
        assert_eq!(
            render_text(
                &report,
                &Styles::plain(),
                "all services reach a ready backend"
            ),
            "✓ all services reach a ready backend\n"
        );
        assert_eq!(report.exit_code(), 0);
    }
}
