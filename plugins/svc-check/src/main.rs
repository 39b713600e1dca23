//! `kubectl svc-check`: can traffic reach a ready backend of a Service, and if not, where the
//! chain breaks.

mod args;

use std::process::ExitCode;

use kube_runbook::{Error, app, report::Report};
use svc_check::{examine::examine, gather::gather, index::Index, request::Request};

use crate::args::Args;

fn main() -> ExitCode {
    app::run(run(app::parse_args::<Args>("svc-check")))
}

async fn run(args: Args) -> Result<u8, Error> {
    let target = app::Target::from_flags(&args.kube, args.snapshot.as_deref()).await?;
    let request = Request::new(
        args.service.as_deref(),
        args.from.as_deref(),
        args.kube.selector.as_deref(),
        target.namespace(&args.kube),
    )?;
    let gathered = gather(&target, &request, args.kube.verbose > 0).await?;
    let index = Index::new(&gathered.state, &gathered.coverage);
    let examination = examine(&index, &request);
    let report = Report::new("svc-check", &gathered.state, examination.findings);
    let empty = match examination.services {
        0 if gathered.namespace_unverified => format!(
            "no Services in {} (it may not exist: namespaces could not be listed)",
            request.scope()
        ),
        0 => format!("no Services in {}", request.scope()),
        n => format!(
            "all {n} Service{} in {} reach a ready backend",
            if n == 1 { "" } else { "s" },
            request.scope()
        ),
    };
    app::emit(&report, &args.kube, &empty)
}
