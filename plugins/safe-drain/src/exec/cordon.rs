//! Cordon and uncordon with a guarded patch: the node's resourceVersion is a precondition, so a
//! change made meanwhile by someone else is never overwritten (a conflict re-reads and decides
//! again). safe-drain's [`CordonRecord`] annotation goes on with the cordon and off with it.

use k8s_openapi::api::core::v1::Node;
use kube::{
    Api,
    api::{Patch, PatchParams},
};
use serde_json::json;

use crate::plan::{ANNOTATION, CordonRecord};

/// How many times a conflicting change is re-read before giving up.
const ATTEMPTS: usize = 5;

/// What cordoning did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cordoned {
    /// This run set `spec.unschedulable` (and the record).
    ByThisRun,
    /// The node was already unschedulable: left as it was.
    Already,
}

/// What uncordoning found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uncordoned {
    /// It was cordoned by safe-drain (the record says when) and is schedulable now.
    Ours(CordonRecord),
    /// It was cordoned by someone else and is schedulable now.
    Others,
    /// It was not cordoned.
    NotCordoned,
}

fn params(dry_run: bool) -> PatchParams {
    let params = PatchParams::default();
    if dry_run { params.dry_run() } else { params }
}

/// Cordons `name`, recording that safe-drain did.
pub async fn cordon(nodes: &Api<Node>, name: &str, dry_run: bool) -> Result<Cordoned, kube::Error> {
    let mut attempt = 1;
    loop {
        let node = nodes.get(name).await?;
        if node
            .spec
            .as_ref()
            .and_then(|s| s.unschedulable)
            .unwrap_or(false)
        {
            return Ok(Cordoned::Already);
        }
        let record = CordonRecord::now().to_annotation();
        let patch = json!({
            "metadata": {
                "resourceVersion": node.metadata.resource_version,
                "annotations": {ANNOTATION: record},
            },
            "spec": {"unschedulable": true},
        });
        match nodes
            .patch(name, &params(dry_run), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => return Ok(Cordoned::ByThisRun),
            Err(kube::Error::Api(status)) if status.code == 409 && attempt < ATTEMPTS => {
                attempt += 1
            }
            Err(other) => return Err(other),
        }
    }
}

/// Makes `name` schedulable and removes safe-drain's record, saying whose cordon it was.
pub async fn uncordon(
    nodes: &Api<Node>,
    name: &str,
    dry_run: bool,
) -> Result<Uncordoned, kube::Error> {
    let mut attempt = 1;
    loop {
        let node = nodes.get(name).await?;
        let record = CordonRecord::of(&node);
        let cordoned = node
            .spec
            .as_ref()
            .and_then(|s| s.unschedulable)
            .unwrap_or(false);
        if !cordoned && record.is_none() {
            return Ok(Uncordoned::NotCordoned);
        }
        let patch = json!({
            "metadata": {
                "resourceVersion": node.metadata.resource_version,
                "annotations": {ANNOTATION: null},
            },
            "spec": {"unschedulable": false},
        });
        match nodes
            .patch(name, &params(dry_run), &Patch::Merge(&patch))
            .await
        {
            Ok(_) if !cordoned => return Ok(Uncordoned::NotCordoned),
            Ok(_) => return Ok(record.map_or(Uncordoned::Others, Uncordoned::Ours)),
            Err(kube::Error::Api(status)) if status.code == 409 && attempt < ATTEMPTS => {
                attempt += 1
            }
            Err(other) => return Err(other),
        }
    }
}
