//! The end of a node's drain: the final step when it is drained (uncordon, delete the Node, or
//! keep it cordoned for maintenance), or undoing this run's cordon when it is not.

use std::time::Duration;

use k8s_openapi::api::core::v1::Node;
use kube::{
    Api,
    api::{DeleteParams, Preconditions},
};

use super::{
    cordon::{Cordoned, uncordon},
    outcome::NodeLeft,
};
use crate::args::FinalStep;

/// Carries out `step` on the drained node.
pub async fn finish(
    nodes: &Api<Node>,
    name: &str,
    step: Option<FinalStep>,
    cordoned: Cordoned,
    dry_run: bool,
) -> Result<NodeLeft, kube::Error> {
    match step {
        Some(FinalStep::Uncordon) => {
            uncordon(nodes, name, dry_run).await?;
            if !dry_run {
                untainted(nodes, name).await?;
            }
            Ok(NodeLeft::Uncordoned)
        }
        Some(FinalStep::Delete) => {
            let uid = nodes.get(name).await?.metadata.uid;
            let mut params = DeleteParams {
                preconditions: Some(Preconditions {
                    uid,
                    resource_version: None,
                }),
                ..DeleteParams::default()
            };
            params.dry_run = dry_run;
            nodes.delete(name, &params).await?;
            Ok(NodeLeft::Deleted)
        }
        None if cordoned == Cordoned::ByThisRun => Ok(NodeLeft::CordonedForMaintenance),
        None => Ok(NodeLeft::StillCordoned),
    }
}

/// The taint the node-lifecycle controller keeps on a cordoned node, removed shortly after.
const UNSCHEDULABLE_TAINT: &str = "node.kubernetes.io/unschedulable";
/// How long to wait for that taint to go after uncordoning.
const TAINT_GRACE: Duration = Duration::from_secs(30);

/// Waits (a little) until the node-lifecycle controller has removed the unschedulable taint, so
/// that the scheduler, and the plan of the next node, can use the node again.
async fn untainted(nodes: &Api<Node>, name: &str) -> Result<(), kube::Error> {
    let deadline = tokio::time::Instant::now() + TAINT_GRACE;
    loop {
        let node = nodes.get(name).await?;
        let tainted = node
            .spec
            .and_then(|s| s.taints)
            .is_some_and(|taints| taints.iter().any(|t| t.key == UNSCHEDULABLE_TAINT));
        if !tainted || tokio::time::Instant::now() >= deadline {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// After a drain that did not finish: undoes this run's cordon unless asked to keep it.
pub async fn restore(
    nodes: &Api<Node>,
    name: &str,
    cordoned: Cordoned,
    keep: bool,
    dry_run: bool,
) -> NodeLeft {
    match cordoned {
        Cordoned::Already => NodeLeft::StillCordoned,
        Cordoned::ByThisRun if keep => NodeLeft::KeptCordoned,
        Cordoned::ByThisRun => match uncordon(nodes, name, dry_run).await {
            Ok(_) => NodeLeft::Restored,
            Err(error) => NodeLeft::RestoreFailed(error.to_string()),
        },
    }
}
