//! `kubectl unstick`: why objects are stuck in Terminating (or a StatefulSet pod on a lost node is
//! never replaced), and the least dangerous way out, step by step.

mod analyse;
mod args;
mod fix;
mod gather;
mod inventory;
mod report;
mod resources;
mod scan_table;
mod target;

use std::process::ExitCode;

use kube_runbook::{Error, app, cli::OutputFormat, selector::LabelQuery};

use crate::{
    args::{Args, DryRun},
    gather::{Focus, gather},
};

fn main() -> ExitCode {
    app::run(run(app::parse_args::<Args>("unstick")))
}

async fn run(args: Args) -> Result<u8, Error> {
    let spec = target::parse_object(&args.object)?;
    check_combinations(&args, spec.is_some())?;
    let selector = LabelQuery::parse(args.kube.selector.as_deref().unwrap_or_default())?;
    let confirmer = fix::Confirmer::new(args.yes, args.acknowledge.clone());
    if args.fix && args.snapshot.is_none() && args.dry_run == DryRun::None {
        confirmer.ensure_possible()?;
    }
    let source = app::Target::from_flags(&args.kube, args.snapshot.as_deref()).await?;
    let gathered = gather(&source, &args.kube, spec.as_ref()).await?;
    let scanned = match &gathered.focus {
        Focus::Scan { .. } => analyse::scan(&gathered.inventory, &selector),
        Focus::Object(object) => vec![analyse::Scanned {
            subject: object,
            diagnosis: analyse::diagnose(&gathered.inventory, object),
        }],
    };
    let diagnoses: Vec<analyse::Diagnosis> = scanned.iter().map(|s| s.diagnosis.clone()).collect();
    let document = report::build(&gathered.inventory, &diagnoses);
    let code = match (&gathered.focus, args.kube.output) {
        (Focus::Scan { .. }, OutputFormat::Text) if !scanned.is_empty() => {
            let rows = scan_table::rows(&scanned, gathered.inventory.observed_at());
            app::print_stdout(&scan_table::text(
                &rows,
                args.kube.all_namespaces,
                &document,
            ))?;
            document.exit_code()
        }
        _ => app::emit(
            &document,
            &args.kube,
            &report::empty_message(&gathered.focus),
        )?,
    };
    let (Some(spec), Focus::Object(subject), true) = (&spec, &gathered.focus, args.fix) else {
        return Ok(code);
    };
    let session = fix::Session {
        source: &source,
        flags: &args.kube,
        spec,
        subject: subject.as_ref().clone(),
        confirmer,
        dry_run: args.dry_run == DryRun::Server,
        backup_dir: args.backup_dir.clone(),
        wait: args.wait,
        styles: fix::stderr_styles(args.kube.color),
    };
    let diagnosis = diagnoses.into_iter().next().unwrap_or_default();
    fix::run(&session, diagnosis, code).await
}

/// Flags that make no sense together are usage errors, before anything is read.
fn check_combinations(args: &Args, has_object: bool) -> Result<(), Error> {
    if args.fix && !has_object {
        return Err(Error::Usage(
            "--fix acts on one object: kubectl unstick TYPE/NAME --fix (run without --fix to list what is stuck)".into(),
        ));
    }
    if !args.fix && (args.yes || !args.acknowledge.is_empty() || args.dry_run == DryRun::Server) {
        return Err(Error::Usage(
            "--yes, --acknowledge and --dry-run only apply with --fix".into(),
        ));
    }
    if args.snapshot.is_some() && args.dry_run == DryRun::Server {
        return Err(Error::Usage(
            "--dry-run=server needs a live cluster: with --snapshot, --fix already only shows the plan".into(),
        ));
    }
    if args.kube.selector.is_some() && has_object {
        return Err(Error::Usage(
            "-l selects what a scan lists: use it without TYPE/NAME".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use kube_runbook::exit_code;

    use super::*;

    fn check(words: &[&str]) -> Result<(), Error> {
        let args = Args::try_parse_from(words).unwrap();
        let object = target::parse_object(&args.object).unwrap();
        check_combinations(&args, object.is_some())
    }

    #[test]
    fn flag_combinations() {
        assert!(check(&["kubectl-unstick", "pod/web", "--fix", "--yes"]).is_ok());
        assert!(check(&["kubectl-unstick", "-l", "app=web"]).is_ok());
        for bad in [
            &["kubectl-unstick", "--fix"][..],
            &["kubectl-unstick", "pod/web", "--yes"],
            &["kubectl-unstick", "pod/web", "--dry-run=server"],
            &[
                "kubectl-unstick",
                "pod/web",
                "--fix",
                "--snapshot",
                "x",
                "--dry-run=server",
            ],
            &["kubectl-unstick", "pod/web", "-l", "app=web"],
        ] {
            let err = check(bad).unwrap_err();
            assert_eq!(err.exit_code(), exit_code::USAGE, "{bad:?}");
        }
    }
}
