//! Carrying out one node's plan: cordon (guarded), evict (bounded, UID preconditions, budget-aware
//! retries), wait until each pod is gone, then the final step, or, when stopped, undo this run's
//! cordon and say exactly what was evicted and what remains.

mod cordon;
mod evict;
mod finish;
mod interrupt;
mod lanes;
mod outcome;
mod progress;
mod wait;

use std::collections::HashSet;

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::{Api, Client, api::ListParams};
use tokio::sync::Semaphore;

pub use cordon::{Cordoned, Uncordoned, uncordon};
pub use interrupt::{Stop, StopReason};
pub use outcome::{Ended, NodeLeft, NodeOutcome};

use self::{
    cordon::cordon,
    evict::EvictOptions,
    finish::{finish, restore},
    lanes::{Evictor, lanes},
    outcome::{EvictedPod, RemainingPod},
    progress::{PodState, Progress},
    wait::Presence,
};
use crate::{
    args::FinalStep,
    plan::{NodePlan, PodPlan, pods_left_alone},
};

/// How to carry out plans.
pub struct Execution {
    /// Without automatic retries (see [`kube_runbook::cli::connect`]): evictions see every 429.
    pub client: Client,
    pub dry_run: bool,
    pub concurrency: usize,
    pub grace_period: Option<u32>,
    pub wait_healthy: bool,
    pub keep_cordoned: bool,
    pub final_step: Option<FinalStep>,
    /// Draw a progress bar (stderr is a terminal and the output is text).
    pub interactive: bool,
}

/// Cordons `node` (guarded), saying so; the result tells whether this run did it.
pub async fn cordon_node(
    exec: &Execution,
    node: &str,
    stop: &Stop,
) -> Result<Cordoned, StopReason> {
    let nodes: Api<Node> = Api::all(exec.client.clone());
    let cordoned = match stop.race(cordon(&nodes, node, exec.dry_run)).await? {
        Ok(cordoned) => cordoned,
        Err(error) => {
            return Err(StopReason::Failed(format!(
                "cannot cordon node {node}: {error}"
            )));
        }
    };
    let announced = match (cordoned, exec.dry_run) {
        (Cordoned::Already, _) => format!("node/{node} already cordoned"),
        (Cordoned::ByThisRun, false) => format!("node/{node} cordoned"),
        (Cordoned::ByThisRun, true) => format!("node/{node} cordoned (dry run)"),
    };
    eprintln!("{announced}");
    Ok(cordoned)
}

/// Undoes this run's cordon of a node that was not drained (unless --keep-cordoned).
pub async fn release(exec: &Execution, node: &str, cordoned: Cordoned) -> NodeLeft {
    if exec.dry_run {
        return NodeLeft::Unchanged;
    }
    restore(
        &Api::all(exec.client.clone()),
        node,
        cordoned,
        exec.keep_cordoned,
        exec.dry_run,
    )
    .await
}

/// The outcome of a node whose drain stopped before it was cordoned.
pub fn not_started(plan: &NodePlan, reason: StopReason) -> NodeOutcome {
    stopped(fresh_outcome(plan, false), reason)
}

fn fresh_outcome(plan: &NodePlan, dry_run: bool) -> NodeOutcome {
    NodeOutcome {
        node: plan.node.clone(),
        ended: Ended::Incomplete,
        dry_run,
        stopped_because: None,
        seconds: 0,
        evicted: Vec::new(),
        remaining: plan
            .evictions()
            .map(|p| RemainingPod {
                pod: p.key(),
                why: "not evicted yet".into(),
            })
            .collect(),
        node_left: NodeLeft::Untouched,
    }
}

/// Drains the cordoned node of `plan`, stopping on `stop`.
pub async fn drain(
    exec: &Execution,
    plan: &NodePlan,
    cordoned: Cordoned,
    stop: &Stop,
) -> NodeOutcome {
    let nodes: Api<Node> = Api::all(exec.client.clone());
    let planned: Vec<PodPlan> = plan.evictions().cloned().collect();
    let mut outcome = fresh_outcome(plan, exec.dry_run);
    let on_node = match stop.race(pods_on(&exec.client, &plan.node)).await {
        Ok(Ok(pods)) => pods,
        Ok(Err(error)) => {
            return undo(
                exec,
                &nodes,
                outcome,
                cordoned,
                StopReason::Failed(format!("cannot list the node's pods: {error}")),
            )
            .await;
        }
        Err(reason) => return undo(exec, &nodes, outcome, cordoned, reason).await,
    };
    let present: HashSet<&str> = on_node
        .iter()
        .filter_map(|p| p.metadata.uid.as_deref())
        .collect();
    let (to_evict, already_gone): (Vec<PodPlan>, Vec<PodPlan>) = planned
        .into_iter()
        .partition(|p| present.contains(p.uid.as_str()));
    let newcomers = newcomers(&on_node, plan);

    let progress = Progress::new(to_evict.iter().map(PodPlan::key), exec.interactive);
    let evictor = Evictor {
        client: exec.client.clone(),
        options: EvictOptions {
            grace_period: exec.grace_period,
            dry_run: exec.dry_run,
        },
        permits: Semaphore::new(exec.concurrency),
        presence: Presence::watch(exec.client.clone(), &plan.node),
        progress: &progress,
        stop,
        wait_healthy: exec.wait_healthy,
    };
    let lanes = lanes(to_evict, exec.wait_healthy);
    futures::future::join_all(lanes.iter().map(|lane| evictor.run(lane))).await;
    progress.finish();

    outcome.seconds = progress.elapsed().as_secs();
    outcome.evicted = already_gone
        .iter()
        .map(|p| EvictedPod {
            pod: p.key(),
            seconds: 0,
        })
        .collect();
    outcome.remaining = newcomers;
    for (pod, state) in progress.snapshot() {
        match state {
            PodState::Evicted(took) => outcome.evicted.push(EvictedPod {
                pod,
                seconds: took.as_secs(),
            }),
            PodState::WouldEvict => outcome.evicted.push(EvictedPod { pod, seconds: 0 }),
            other => outcome.remaining.push(RemainingPod {
                pod,
                why: describe(&other),
            }),
        }
    }
    if outcome.remaining.is_empty() {
        outcome.ended = Ended::Drained;
        // A cordon an earlier safe-drain run kept is this maintenance's cordon too.
        let maintenance = match plan.cordon_record {
            Some(_) => Cordoned::ByThisRun,
            None => cordoned,
        };
        outcome.node_left = match finish(
            &nodes,
            &plan.node,
            exec.final_step,
            maintenance,
            exec.dry_run,
        )
        .await
        {
            Ok(_) if exec.dry_run => NodeLeft::Unchanged,
            Ok(left) => left,
            Err(error) => {
                outcome.ended = Ended::Incomplete;
                outcome.stopped_because = Some(format!("the final step failed: {error}"));
                NodeLeft::StillCordoned
            }
        };
        return outcome;
    }
    let reason = stop.check().unwrap_or_else(|| {
        StopReason::Failed(format!(
            "{} pods are still on the node",
            outcome.remaining.len()
        ))
    });
    undo(exec, &nodes, outcome, cordoned, reason).await
}

/// Undoes this run's cordon and records why the drain stopped.
async fn undo(
    exec: &Execution,
    nodes: &Api<Node>,
    outcome: NodeOutcome,
    cordoned: Cordoned,
    reason: StopReason,
) -> NodeOutcome {
    let mut outcome = stopped(outcome, reason);
    outcome.node_left = if exec.dry_run {
        NodeLeft::Unchanged
    } else {
        restore(
            nodes,
            &outcome.node,
            cordoned,
            exec.keep_cordoned,
            exec.dry_run,
        )
        .await
    };
    outcome
}

fn stopped(mut outcome: NodeOutcome, reason: StopReason) -> NodeOutcome {
    outcome.ended = match reason {
        StopReason::Interrupted => Ended::Interrupted,
        StopReason::TimedOut(_) => Ended::TimedOut,
        StopReason::Failed(_) => Ended::Incomplete,
    };
    outcome.stopped_because = Some(reason.to_string());
    outcome
}

fn describe(state: &PodState) -> String {
    match state {
        PodState::Queued => "not evicted yet".into(),
        PodState::Evicting => "eviction not answered yet".into(),
        PodState::Waiting => "evicted, still terminating".into(),
        PodState::Blocked(why) => format!("refused: {why}"),
        PodState::Failed(why) => format!("cannot be evicted: {why}"),
        PodState::Evicted(_) | PodState::WouldEvict => "evicted".into(),
    }
}

/// Pods on the node now that the plan did not know (scheduled between plan and cordon): not
/// evicted unplanned; DaemonSet, static, finished and terminating pods do not count.
fn newcomers(on_node: &[Pod], plan: &NodePlan) -> Vec<RemainingPod> {
    let known: HashSet<&str> = plan.pods.iter().map(|p| p.uid.as_str()).collect();
    on_node
        .iter()
        .filter(|p| !pods_left_alone(p))
        .filter(|p| {
            p.metadata
                .uid
                .as_deref()
                .is_some_and(|uid| !known.contains(uid))
        })
        .map(|p| RemainingPod {
            pod: format!(
                "{}/{}",
                p.metadata.namespace.as_deref().unwrap_or_default(),
                p.metadata.name.as_deref().unwrap_or_default()
            ),
            why: "appeared after the plan was made: not evicted (run again to plan it)".into(),
        })
        .collect()
}

/// The pods bound to `node` now.
async fn pods_on(client: &Client, node: &str) -> Result<Vec<Pod>, kube::Error> {
    let pods: Api<Pod> = Api::all(client.clone());
    let list = pods
        .list(&ListParams::default().fields(&format!("spec.nodeName={node}")))
        .await?;
    Ok(list.items)
}
