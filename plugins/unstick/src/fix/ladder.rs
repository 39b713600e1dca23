//! Walking the ladder: offer the safest step not yet tried, confirm it, carry it out, read the
//! cluster again and diagnose anew, until the object is gone or nothing is left to offer. A step
//! that finds its object changed is never retried blindly: the new state is diagnosed first; if
//! it changed while a person was deciding, the run ends there, writing nothing.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use kube_runbook::{Error, cli::Connection, exit_code, report::Styles};

use super::{
    Session,
    access::{Permission, missing, required},
    confirm::Decision,
    execute::execute,
    hook::{Pause, pause},
    plan::Step,
    present::step_text,
    request::{Outcome, read},
    stale::changed_while_confirming,
};
use crate::analyse::Diagnosis;

/// How often the cluster is read again while waiting for the object to go.
const POLL: Duration = Duration::from_secs(3);
/// How long controllers get to react to a step before the cluster is diagnosed again.
const SETTLE: Duration = Duration::from_secs(10);
const SETTLE_POLL: Duration = Duration::from_millis(500);
/// How many times a step may find its object changed before it is no longer offered.
const MAX_CHANGES: usize = 3;

/// Offers the ladder of `diagnosis` step by step.
pub async fn walk(
    session: &Session<'_>,
    conn: &Connection,
    mut diagnosis: Diagnosis,
) -> Result<u8, Error> {
    let subject = session.subject.reference();
    let mut walk = Walk::new(session, conn);
    loop {
        if walk.took_any && !diagnosis.is_stuck() {
            eprintln!(
                "Waiting up to {} for {subject} to go...",
                kube_runbook::report::human_duration(session.wait)
            );
            match wait_while_progressing(session).await? {
                None => return gone(&subject, &session.styles),
                Some(next) => diagnosis = next,
            }
        }
        let (permitted, first_forbidden) =
            permitted_steps(conn, &diagnosis, &mut walk.tried, &mut walk.lacking).await?;
        let Some(step) = permitted.into_iter().next() else {
            return walk.end_without_step(&diagnosis, first_forbidden);
        };
        let Some(awaited) = walk.offer(&step).await? else {
            continue;
        };
        if let Some(code) = walk.take(&step, awaited).await? {
            return Ok(code);
        }
        match session.rediagnose().await? {
            None => return gone(&subject, &session.styles),
            Some(next) => {
                for finding in next.findings.iter().filter(|f| f.object == subject) {
                    eprintln!("  now: {}", finding.title);
                }
                diagnosis = next;
            }
        }
    }
}

/// Where a walk stands: the steps tried, how often each found its object changed, the
/// permissions found missing, whether a step was taken and how many were offered.
struct Walk<'s, 'a> {
    session: &'s Session<'a>,
    conn: &'s Connection,
    tried: HashSet<String>,
    changes: HashMap<String, usize>,
    lacking: HashMap<String, Option<Permission>>,
    took_any: bool,
    offered: usize,
}

impl<'s, 'a> Walk<'s, 'a> {
    fn new(session: &'s Session<'a>, conn: &'s Connection) -> Self {
        Walk {
            session,
            conn,
            tried: HashSet::new(),
            changes: HashMap::new(),
            lacking: HashMap::new(),
            took_any: false,
            offered: 0,
        }
    }

    /// No step is left to offer: a missing permission when nothing was taken, else how it ends.
    fn end_without_step(
        &self,
        diagnosis: &Diagnosis,
        first_forbidden: Option<Permission>,
    ) -> Result<u8, Error> {
        if let (Some(permission), false) = (first_forbidden, self.took_any) {
            return Err(permission.forbidden());
        }
        nothing_left(diagnosis, self.took_any, &self.session.subject.reference())
    }

    /// Shows `step` and asks: Some(whether the answer took a person's time) to take it, None to
    /// skip it; an error to stop.
    async fn offer(&mut self, step: &Step) -> Result<Option<bool>, Error> {
        self.tried.insert(step.key());
        self.offered += 1;
        eprint!("\n{}", step_text(step, self.offered, &self.session.styles));
        // The test hook stands in for a person taking time to decide.
        let awaited = pause(Pause::AwaitingConfirmation, &step.description()).await?
            || self.session.confirmer.asks_a_person(step);
        // The prompt blocks on the terminal: keep it off the async worker's hands.
        match tokio::task::block_in_place(|| self.session.confirmer.decide(step))? {
            Decision::Skip => Ok(None),
            Decision::Stop => Err(Error::Incomplete(format!(
                "stopped at your request; {} is still there",
                self.session.subject.reference()
            ))),
            Decision::Take => Ok(Some(awaited)),
        }
    }

    /// Carries `step` out; Some(exit code) when the run ends here.
    async fn take(&mut self, step: &Step, awaited: bool) -> Result<Option<u8>, Error> {
        let session = self.session;
        match execute(self.conn, step, false, &session.backup_dir).await? {
            Outcome::Stale(why) if awaited => {
                return changed_while_confirming(session, self.conn, step, &why)
                    .await
                    .map(Some);
            }
            Outcome::Done => {
                self.took_any = true;
                eprintln!(
                    "  {} {}",
                    session.styles.ok.style("done:"),
                    step.description()
                );
                if settled_away(session, self.conn).await? {
                    return gone(&session.subject.reference(), &session.styles).map(Some);
                }
            }
            Outcome::Gone => eprintln!("  {} is already gone", step.target().reference()),
            Outcome::Changed(why) | Outcome::Stale(why) => self.found_changed(step, &why),
        }
        Ok(None)
    }

    /// The step's object changed: it may be offered again, from a fresh diagnosis, a few times.
    fn found_changed(&mut self, step: &Step, why: &str) {
        let count = self.changes.entry(step.key()).or_default();
        *count += 1;
        eprintln!(
            "  {} changed since it was read ({why}): the change was not applied; reading it again and diagnosing anew",
            step.target().reference()
        );
        if *count < MAX_CHANGES {
            self.tried.remove(&step.key());
        }
    }
}

/// The untried steps of the ladder the user may take, safest first, and the first permission
/// found missing. Steps lacking a permission are announced once and count as tried.
async fn permitted_steps(
    conn: &Connection,
    diagnosis: &Diagnosis,
    tried: &mut HashSet<String>,
    lacking: &mut HashMap<String, Option<Permission>>,
) -> Result<(Vec<Step>, Option<Permission>), Error> {
    let mut permitted = Vec::new();
    let mut first_forbidden = None;
    for step in diagnosis.ladder() {
        let key = step.key();
        if tried.contains(&key) {
            continue;
        }
        if !lacking.contains_key(&key) {
            let lack = missing(conn, &required(&step)).await?.into_iter().next();
            if let Some(permission) = &lack {
                eprintln!(
                    "Not offered: {}\n  you lack permission to {}",
                    step.description(),
                    permission.describe()
                );
            }
            lacking.insert(key.clone(), lack);
        }
        match lacking.get(&key).cloned().flatten() {
            Some(permission) => {
                first_forbidden.get_or_insert(permission);
                tried.insert(key);
            }
            None => permitted.push(step),
        }
    }
    Ok((permitted, first_forbidden))
}

/// Gives controllers a moment to react to a step; true once the object is gone.
async fn settled_away(session: &Session<'_>, conn: &Connection) -> Result<bool, Error> {
    let started = Instant::now();
    while started.elapsed() < SETTLE {
        let current = read(conn, &session.subject).await?;
        let same = current.as_ref().is_some_and(|object| {
            object
                .pointer("/metadata/uid")
                .and_then(serde_json::Value::as_str)
                == session.subject.uid()
        });
        if !same {
            return Ok(true);
        }
        tokio::time::sleep(SETTLE_POLL).await;
    }
    Ok(false)
}

/// Waits while the object is no longer stuck (only waiting on its controllers); returns None once
/// it is gone, or the diagnosis once it is stuck again or the wait is over.
async fn wait_while_progressing(session: &Session<'_>) -> Result<Option<Diagnosis>, Error> {
    let started = Instant::now();
    loop {
        tokio::time::sleep(POLL).await;
        let Some(diagnosis) = session.rediagnose().await? else {
            return Ok(None);
        };
        if diagnosis.is_stuck() || started.elapsed() >= session.wait {
            return Ok(Some(diagnosis));
        }
    }
}

fn gone(subject: &kube_runbook::report::ObjectRef, styles: &Styles) -> Result<u8, Error> {
    eprintln!("{} {subject} is gone.", styles.ok.style("✓"));
    Ok(exit_code::OK)
}

fn nothing_left(
    diagnosis: &Diagnosis,
    took_any: bool,
    subject: &kube_runbook::report::ObjectRef,
) -> Result<u8, Error> {
    if !diagnosis.is_stuck() && !took_any {
        eprintln!("Nothing to do: {subject} is not stuck.");
        return Ok(exit_code::OK);
    }
    Err(Error::Incomplete(format!(
        "nothing more to offer and {subject} is still there; run kubectl unstick again to see why"
    )))
}
