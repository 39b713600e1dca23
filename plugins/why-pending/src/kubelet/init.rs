//! PodInitializing: the app containers wait until every classic init container has finished.

use kube_runbook::report::{Finding, Remedy, Severity};
use serde_json::json;

use super::containers::ContainerView;
use super::context::PodContext;

/// After this long a running init container is worth a warning rather than a note.
const SLOW_SECONDS: i64 = 300;

/// A classic init container that is still running, holding back the app containers.
pub fn running(
    ctx: &PodContext,
    container: &ContainerView,
    position: (usize, usize),
) -> Option<Finding> {
    if !container.is_classic_init() || !container.is_running() {
        return None;
    }
    let started = container
        .status
        .and_then(|s| s.state.as_ref()?.running.as_ref()?.started_at.as_ref())
        .map(|t| t.0);
    let running_for = started.map(|t| ctx.state.observed_at.duration_since(t).as_secs());
    let severity = if running_for.is_some_and(|s| s > SLOW_SECONDS) {
        Severity::Warning
    } else {
        Severity::Info
    };
    let age = started
        .map(|t| format!(" for {}", ctx.age(t)))
        .unwrap_or_default();
    let (index, total) = position;
    Some(
        Finding::new(
            severity,
            ctx.object.clone(),
            "init-container-running",
            format!("{} ({index} of {total}) is still running{age}; the app containers start after it", container.label()),
        )
        .explain("Init containers run one after another and must each exit 0 before the app containers start (kubectl shows Init:N/M). One that never finishes is usually waiting for something: a dependency, a migration, a lock.")
        .evidence(format!("{} running{age}", container.label()), ctx.field(container.status_path(".state.running")))
        .remedy(Remedy::command("See what it is doing", ctx.logs_command(container.name(), false)))
        .details(json!({"container": container.name(), "index": index, "of": total})),
    )
}
