//! Acting on a diagnosis (`--fix`): the ladder of steps, each confirmed, backed up, guarded and
//! checked. A snapshot only shows the plan; `--dry-run=server` sends every step with dryRun=All.

mod access;
mod backup;
mod confirm;
mod execute;
mod finalize;
mod force_delete;
mod hook;
mod ladder;
mod patch;
pub mod plan;
mod present;
mod request;
mod stale;

use std::{path::PathBuf, time::Duration};

use kube_runbook::{
    Error,
    app::Target,
    cli::{Connection, KubectlFlags},
    exit_code,
    report::Styles,
};

pub use confirm::Confirmer;
pub use present::stderr_styles;

use crate::{
    analyse::{Diagnosis, diagnose},
    gather::{Focus, gather},
    inventory::MetaObject,
    target::ObjectSpec,
};

/// Everything a `--fix` run needs.
pub struct Session<'a> {
    pub source: &'a Target,
    pub flags: &'a KubectlFlags,
    pub spec: &'a ObjectSpec,
    pub subject: MetaObject,
    pub confirmer: Confirmer,
    pub dry_run: bool,
    pub backup_dir: PathBuf,
    pub wait: Duration,
    pub styles: Styles,
}

impl Session<'_> {
    /// Reads the cluster again: None when the object is gone (or replaced by a namesake).
    pub async fn rediagnose(&self) -> Result<Option<Diagnosis>, Error> {
        match gather(self.source, self.flags, Some(self.spec)).await {
            Err(Error::NotFound { .. }) => Ok(None),
            Err(err) => Err(err),
            Ok(gathered) => match gathered.focus {
                Focus::Object(object) if object.uid() == self.subject.uid() => {
                    Ok(Some(diagnose(&gathered.inventory, &object)))
                }
                _ => Ok(None),
            },
        }
    }
}

/// Runs `--fix` for the diagnosed object; returns the exit code.
pub async fn run(
    session: &Session<'_>,
    diagnosis: Diagnosis,
    report_code: u8,
) -> Result<u8, Error> {
    let Some(conn) = session.source.connection() else {
        eprint!(
            "\n{}",
            present::plan_text(&diagnosis.ladder(), &session.styles)
        );
        return Ok(report_code);
    };
    if session.dry_run {
        return dry_run(session, conn, &diagnosis).await;
    }
    ladder::walk(session, conn, diagnosis).await
}

/// Sends every step of the ladder with dryRun=All: the API server validates and authorizes each
/// one and changes nothing.
async fn dry_run(
    session: &Session<'_>,
    conn: &Connection,
    diagnosis: &Diagnosis,
) -> Result<u8, Error> {
    let steps = diagnosis.ladder();
    if steps.is_empty() {
        eprintln!(
            "Nothing to try: no step is offered for {}.",
            session.subject.reference()
        );
        return Ok(exit_code::OK);
    }
    let wanted: Vec<access::Permission> = steps.iter().flat_map(access::required).collect();
    let lacking = access::missing(conn, &wanted).await?;
    if let Some(first) = lacking.first() {
        for permission in &lacking {
            eprintln!("missing permission: {}", permission.describe());
        }
        return Err(first.forbidden());
    }
    for (n, step) in steps.iter().enumerate() {
        eprint!("\n{}", present::step_text(step, n + 1, &session.styles));
        let verdict = match execute::execute(conn, step, true, &session.backup_dir).await? {
            request::Outcome::Done => {
                "the API server accepts it (dry run: nothing changed)".to_string()
            }
            request::Outcome::Gone => format!("{} is already gone", step.target().reference()),
            request::Outcome::Changed(why) | request::Outcome::Stale(why) => {
                format!("it would not apply: the object changed ({why})")
            }
        };
        eprintln!("  {verdict}");
    }
    eprintln!("\nDry run: nothing was changed.");
    Ok(exit_code::OK)
}
