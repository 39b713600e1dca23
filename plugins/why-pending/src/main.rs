//! `kubectl why-pending`: why a pod is not running, node by node where scheduling is the cause.

mod analyse;
mod args;
mod gather;
mod kubelet;
mod owner;
mod scheduling;
mod select;
mod target;

use std::process::ExitCode;

use kube_runbook::{Error, app, report::Report, selector::LabelQuery, state::Kind};

use crate::{args::Args, select::select, target::Target};

fn main() -> ExitCode {
    app::run(run(app::parse_args::<Args>("why-pending")))
}

async fn run(args: Args) -> Result<u8, Error> {
    let target = Target::parse(args.target.as_deref())?;
    let labels = LabelQuery::parse(args.kube.selector.as_deref().unwrap_or_default())?;
    let source = app::Target::from_flags(&args.kube, args.snapshot.as_deref()).await?;
    let namespace = source.namespace(&args.kube);
    let state = gather::gather(&source, namespace.as_deref(), args.kube.verbose > 0).await?;
    if let Some(ns) = namespace.as_deref()
        && state.has(Kind::Namespace)
        && !state
            .namespaces
            .iter()
            .any(|n| n.metadata.name.as_deref() == Some(ns))
    {
        return Err(Error::not_found(
            "namespace",
            ns,
            None,
            state
                .namespaces
                .iter()
                .filter_map(|n| n.metadata.name.as_deref()),
        ));
    }
    let selection = select(&state, &target, namespace.as_deref(), &labels)?;
    let findings = analyse::explain(&state, &selection);
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
