//! `kubectl safe-drain NODE...`: plan every node, stop before any change if one cannot be
//! drained, confirm, then drain the nodes one at a time, planning each again from fresh state
//! just before it, and stop at the first that does not finish.

use std::{future::Future, io::IsTerminal};

use kube_runbook::{
    Error,
    app::{self, Target},
    cli::{self, OutputFormat},
    exit_code,
    interrupt::Interrupt,
    report::Styles,
    state::ClusterState,
};

use crate::{
    args::{Args, DryRun, FinalStep},
    confirm::confirm,
    document::{PlanDocument, RunDocument, machine_text},
    exec::{
        Cordoned, Ended, Execution, NodeOutcome, Stop, cordon_node, drain, not_started, release,
    },
    gather::{gather, resolve_nodes},
    plan::{Acknowledged, NodePlan, PlanOptions, plan_nodes},
    render::plan_text,
};

/// What every step of one invocation shares.
struct Session<'a> {
    args: &'a Args,
    source: &'a Target,
    options: PlanOptions,
    interrupt: Interrupt,
    styles: Styles,
    /// Text output (else JSON or YAML at the end).
    text: bool,
}

pub async fn run(args: Args, interrupt: Interrupt) -> Result<u8, Error> {
    let options = PlanOptions {
        acknowledged: Acknowledged {
            local_data: args.delete_emptydir_data,
            force: args.force,
            local_volumes: args.evict_local_volume_pods,
            pending: args.allow_pending,
        },
        final_step: args.then,
    };
    let source = Target::from_flags(&args.kube, args.snapshot.as_deref()).await?;
    let session = Session {
        args: &args,
        source: &source,
        options,
        interrupt,
        styles: Styles::for_color(cli::use_color(args.kube.color)),
        text: args.kube.output == OutputFormat::Text,
    };
    let state = session.gather().await?;
    let nodes = resolve_nodes(&state, &args.nodes, args.kube.selector.as_deref())?;
    let plans = plan_nodes(&state, &nodes, &options);
    let can_drain = plans.iter().all(|p| p.can_drain);
    let plan_only = args.plan || args.snapshot.is_some();
    if plan_only || !can_drain || session.text {
        print_plan(&state, &plans, &session)?;
    }
    if plan_only {
        return Ok(if can_drain {
            exit_code::OK
        } else {
            exit_code::PROBLEM_FOUND
        });
    }
    if !can_drain {
        eprintln!(
            "Nothing was changed: fix the blockers above, or accept them with the flags named."
        );
        return Ok(exit_code::PROBLEM_FOUND);
    }
    let Some(connection) = source.connection() else {
        return Err(Error::Usage(
            "a snapshot can only be planned (--plan)".into(),
        ));
    };
    let dry_run = args.dry_run == DryRun::Server;
    if !dry_run && !confirm(question(&plans), args.yes, &session.interrupt).await? {
        eprintln!("Nothing was changed.");
        return Ok(exit_code::PROBLEM_FOUND);
    }
    let execution = Execution {
        client: connection.client.clone(),
        dry_run,
        concurrency: usize::from(args.concurrency),
        grace_period: args.grace_period,
        wait_healthy: args.wait_healthy,
        keep_cordoned: args.keep_cordoned,
        final_step: args.then,
        interactive: session.text && std::io::stderr().is_terminal(),
    };
    let (outcomes, code) = match cordon_all(&execution, &plans, &session).await {
        Ok(cordons) => {
            session
                .drain_in_turn(&execution, plans.clone(), cordons)
                .await?
        }
        Err(outcome) => {
            session.print_outcome(&outcome)?;
            let code = outcome.exit_code();
            (vec![outcome], code)
        }
    };
    if !session.text {
        let document = RunDocument::new(PlanDocument::new(&state, &plans), &outcomes);
        app::print_stdout(&machine_text(&document, args.kube.output)?)?;
    }
    Ok(code)
}

impl Session<'_> {
    async fn gather(&self) -> Result<ClusterState, Error> {
        let work = gather(self.source, self.args.kube.verbose > 0);
        unless_interrupted(&self.interrupt, work).await
    }

    fn stop(&self) -> Stop {
        Stop::new(self.interrupt.clone(), self.args.timeout.0)
    }

    fn print_outcome(&self, outcome: &NodeOutcome) -> Result<(), Error> {
        if self.text {
            app::print_stdout(&outcome.text(&self.styles))?;
        }
        Ok(())
    }

    /// Drains the planned nodes in order; nodes after the first are planned again first.
    /// `cordons` holds the nodes cordoned up front (none when each is cordoned in turn).
    async fn drain_in_turn(
        &self,
        execution: &Execution,
        plans: Vec<NodePlan>,
        cordons: Vec<(String, Cordoned)>,
    ) -> Result<(Vec<NodeOutcome>, u8), Error> {
        let mut outcomes = Vec::new();
        for (index, planned) in plans.into_iter().enumerate() {
            let from = |first: usize| cordons.get(first..).unwrap_or_default();
            let node = planned.node.clone();
            let plan = if index == 0 {
                Some(planned)
            } else {
                self.plan_again(&node).await?
            };
            let Some(plan) = plan else {
                eprintln!(
                    "Stopping before node {node}: the cluster changed and it can no longer be drained safely."
                );
                release_all(execution, from(index)).await;
                return Ok((outcomes, exit_code::PROBLEM_FOUND));
            };
            let stop = self.stop();
            let cordoned = match cordons.get(index) {
                Some((_, cordoned)) => Ok(*cordoned),
                None => cordon_node(execution, &plan.node, &stop).await,
            };
            let outcome = match cordoned {
                Ok(cordoned) => drain(execution, &plan, cordoned, &stop).await,
                Err(reason) => not_started(&plan, reason),
            };
            self.print_outcome(&outcome)?;
            let finished = outcome.ended == Ended::Drained;
            let code = outcome.exit_code();
            outcomes.push(outcome);
            if !finished {
                release_all(execution, from(index + 1)).await;
                return Ok((outcomes, code));
            }
        }
        Ok((outcomes, exit_code::OK))
    }

    /// The node's plan from fresh state, printed; None when it can no longer be drained.
    async fn plan_again(&self, node: &str) -> Result<Option<NodePlan>, Error> {
        let fresh = self.gather().await?;
        let replanned = plan_nodes(&fresh, &[node.to_string()], &self.options);
        if self.text {
            app::print_stdout(&plan_text(&fresh, &replanned, &self.styles))?;
        }
        Ok(replanned.into_iter().next().filter(|p| p.can_drain))
    }
}

/// With several nodes that stay out (maintenance, delete), every node is cordoned first, as
/// the plan assumed, so that one node's evicted pods do not land on the next; if one cannot be
/// cordoned, the others are released again. Otherwise each node is cordoned when its turn comes.
async fn cordon_all(
    execution: &Execution,
    plans: &[NodePlan],
    session: &Session<'_>,
) -> Result<Vec<(String, Cordoned)>, NodeOutcome> {
    if plans.len() < 2 || session.args.then == Some(FinalStep::Uncordon) {
        return Ok(Vec::new());
    }
    let stop = session.stop();
    let mut cordons: Vec<(String, Cordoned)> = Vec::new();
    for plan in plans {
        match cordon_node(execution, &plan.node, &stop).await {
            Ok(cordoned) => cordons.push((plan.node.clone(), cordoned)),
            Err(reason) => {
                release_all(execution, &cordons).await;
                return Err(not_started(plan, reason));
            }
        }
    }
    Ok(cordons)
}

/// Undoes this run's cordons of nodes it did not drain, saying what each was left as.
async fn release_all(execution: &Execution, cordons: &[(String, Cordoned)]) {
    for (node, cordoned) in cordons {
        let left = release(execution, node, *cordoned).await;
        eprintln!("node {node} was not drained: {}", left.describe(node));
    }
}

fn print_plan(state: &ClusterState, plans: &[NodePlan], session: &Session) -> Result<(), Error> {
    let text = match session.args.kube.output {
        OutputFormat::Text => plan_text(state, plans, &session.styles),
        format => machine_text(&PlanDocument::new(state, plans), format)?,
    };
    app::print_stdout(&text)
}

fn question(plans: &[NodePlan]) -> String {
    let pods: usize = plans.iter().map(|p| p.evictions().count()).sum();
    match plans {
        [one] => format!("Cordon node {} and evict {pods} pods?", one.node),
        many => format!(
            "Drain {} nodes one at a time ({}), evicting {pods} pods?",
            many.len(),
            many.iter()
                .map(|p| p.node.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Runs `work` unless Ctrl-C comes first.
async fn unless_interrupted<T>(
    interrupt: &Interrupt,
    work: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    tokio::select! {
        result = work => result,
        () = interrupt.triggered() => Err(Error::Interrupted(String::new())),
    }
}
