//! A step's object changed while the step awaited confirmation: the answer was given for an
//! object that no longer exists as shown, so nothing is written, the object as it is now is
//! printed, and the run ends (exit 10) for a person to look again.

use kube_runbook::{Error, cli::Connection, exit_code};
use serde_json::Value;

use super::{Session, plan::Step, request::read};

/// Says what changed and how things stand now, writing nothing.
pub async fn changed_while_confirming(
    session: &Session<'_>,
    conn: &Connection,
    step: &Step,
    why: &str,
) -> Result<u8, Error> {
    let target = step.target().reference();
    let subject = session.subject.reference();
    eprintln!(
        "  {target} changed while this step awaited confirmation ({why}): nothing was changed"
    );
    match read(conn, step.target()).await? {
        Some(object) => eprintln!("  {target} as it is now: {}", describe(&object)),
        None => eprintln!("  {target} is gone now"),
    }
    let Some(diagnosis) = session.rediagnose().await? else {
        eprintln!("{subject} is gone.");
        return Ok(exit_code::OK);
    };
    for finding in diagnosis.findings.iter().filter(|f| f.object == subject) {
        eprintln!("  now: {}", finding.title);
    }
    Err(Error::Incomplete(format!(
        "{target} changed while a step awaited confirmation, so nothing was changed; run kubectl unstick again to see what holds {subject} now"
    )))
}

/// "resourceVersion 812, finalizers [a, b], deletion requested at 2026-01-01T00:00:00Z".
fn describe(object: &Value) -> String {
    let version = object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    let finalizers: Vec<&str> = object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let finalizers = match finalizers.as_slice() {
        [] => "no finalizers".to_string(),
        names => format!("finalizers [{}]", names.join(", ")),
    };
    let deletion = object
        .pointer("/metadata/deletionTimestamp")
        .and_then(Value::as_str)
        .map(|at| format!(", deletion requested at {at}"))
        .unwrap_or_default();
    format!("resourceVersion {version}, {finalizers}{deletion}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_object_as_it_is_now_in_one_line() {
        let deleting = json!({"metadata": {
            "resourceVersion": "812", "finalizers": ["a.test/x", "b.test/y"],
            "deletionTimestamp": "2026-01-01T00:00:00Z",
        }});
        assert_eq!(
            describe(&deleting),
            "resourceVersion 812, finalizers [a.test/x, b.test/y], deletion requested at 2026-01-01T00:00:00Z"
        );
        assert_eq!(
            describe(&json!({"metadata": {"resourceVersion": "9"}})),
            "resourceVersion 9, no finalizers"
        );
    }
}
