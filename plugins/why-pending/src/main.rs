//! `kubectl why-pending`: why a pod is not running, node by node where scheduling is the cause.

use std::process::ExitCode;

use kube_runbook::{Error, app, report::Report, selector::LabelQuery};
use kubectl_why_pending::{args::Args, findings, gather, target::Target};

fn main() -> ExitCode {
    app::run(run(app::parse_args::<Args>("why-pending")))
}

async fn run(args: Args) -> Result<u8, Error> {
    let target = Target::parse(args.target.as_deref())?;
    let labels = LabelQuery::parse(args.kube.selector.as_deref().unwrap_or_default())?;
    let source = app::Target::from_flags(&args.kube, args.snapshot.as_deref()).await?;
    let namespace = source.namespace(&args.kube);
    let state = gather::gather(&source, namespace.as_deref(), args.kube.verbose > 0).await?;
    let findings = findings(&state, &target, namespace.as_deref(), &labels)?;
    let report = Report::new("why-pending", &state, findings);
    let all_fine = match (&target, namespace.as_deref()) {
        (Target::Pod(name), _) => format!("pod {name} is running and ready"),
        (Target::Owner(kind, name), _) => format!(
            "every pod of {} {name} is running and ready",
            kind.kind_name().to_lowercase()
        ),
        (Target::Unhealthy, Some(ns)) => {
            format!("every pod in namespace {ns} is running and ready (or completed)")
        }
        (Target::Unhealthy, None) => {
            "every pod in the cluster is running and ready (or completed)".to_string()
        }
    };
    app::emit(&report, &args.kube, &all_fine)
}
