//! Carrying out one step: read the object now, make sure it is the one diagnosed (same UID, same
//! resourceVersion), back it up, then send the change, itself guarded by that version.

use std::path::Path;

use k8s_openapi::jiff::Timestamp;
use kube_runbook::{Error, cli::Connection};
use serde_json::Value;

use super::{
    backup::write_backup,
    finalize::finalize,
    force_delete::{delete, delete_options, force_delete_options},
    hook::{self, Pause},
    patch::{apply, remove_finalizer_ops, scale_to_zero_ops, taint_ops},
    plan::{Action, Step},
    request::{Outcome, read},
};

/// Executes `step`; in a dry run the API server checks the change and stores nothing.
pub async fn execute(
    conn: &Connection,
    step: &Step,
    dry_run: bool,
    backup_dir: &Path,
) -> Result<Outcome, Error> {
    let target = step.target();
    let Some(current) = read(conn, target).await? else {
        return Ok(Outcome::Gone);
    };
    let current_uid = current.pointer("/metadata/uid").and_then(Value::as_str);
    if current_uid.is_some() && current_uid != target.uid() {
        return Ok(Outcome::Gone);
    }
    let current_version = current
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str);
    if current_version != target.meta.resource_version.as_deref() {
        return Ok(Outcome::Stale(format!(
            "resourceVersion is now {}, not {} as diagnosed",
            current_version.unwrap_or("unknown"),
            target.meta.resource_version.as_deref().unwrap_or("unknown")
        )));
    }
    let now = Timestamp::now();
    if !dry_run {
        let path = write_backup(backup_dir, target, &current, now)?;
        eprintln!(
            "  backup of {} written to {}",
            target.reference(),
            path.display()
        );
    }
    hook::pause(Pause::BeforeChange, &step.description()).await?;
    Ok(match &step.action {
        Action::Delete(object) => delete(conn, object, delete_options(object), dry_run).await?,
        Action::ForceDeletePod(pod) => {
            delete(conn, pod, force_delete_options(pod), dry_run).await?
        }
        Action::RemoveFinalizer {
            object,
            finalizer,
            index,
        } => {
            apply(
                conn,
                object,
                remove_finalizer_ops(object, finalizer, *index),
                dry_run,
            )
            .await?
        }
        Action::TaintOutOfService(node) => {
            apply(conn, node, taint_ops(node, &current, now), dry_run).await?
        }
        Action::ScaleToZero(workload) => {
            apply(conn, workload, scale_to_zero_ops(workload), dry_run).await?
        }
        Action::FinalizeNamespace { namespace, .. } => {
            finalize(conn, namespace, &current, dry_run).await?
        }
    })
}
