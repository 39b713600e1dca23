//! The garbage collector's finalizers: `foregroundDeletion` (the owner waits for its blocking
//! dependents) and `orphan` (the owner waits until its dependents no longer reference it).

use kube_runbook::report::{Remedy, Severity, Source};

use super::{
    Ctx, Diagnosis,
    cause::Cause,
    finalizers::{known, removal_step},
    terminating::terminating_finding,
};
use crate::inventory::MetaObject;

const FOREGROUND: &str = "foregroundDeletion";
const ORPHAN: &str = "orphan";

/// `foregroundDeletion` at `index`: the dependents with `blockOwnerDeletion` still present.
pub fn foreground(ctx: &Ctx, subject: &MetaObject, index: usize, out: &mut Diagnosis) {
    let danger = known(FOREGROUND).map(|k| k.danger).unwrap_or_default();
    let removal = removal_step(
        subject,
        FOREGROUND,
        index,
        "the owner goes without waiting for its dependents",
        danger,
    );
    let uid = subject.uid().unwrap_or_default();
    let blocking: Vec<&MetaObject> = ctx
        .inv
        .dependents_of(uid)
        .filter(|d| {
            d.meta
                .owner_references
                .iter()
                .flatten()
                .any(|r| r.uid == uid && r.block_owner_deletion == Some(true))
        })
        .collect();
    if blocking.is_empty() {
        out.add(
            gc_stalled(
                ctx,
                subject,
                FOREGROUND,
                "no dependent that blocks it remains",
            )
            .step(removal),
        );
        return;
    }
    let described: Vec<String> = blocking.iter().map(|d| describe(d)).collect();
    let nested: Vec<Diagnosis> = blocking.iter().filter_map(|d| ctx.nested(d)).collect();
    let severity = if nested.iter().any(Diagnosis::is_stuck) {
        Severity::Error
    } else {
        ctx.severity(subject)
    };
    let mut finding = terminating_finding(
        subject,
        ctx.now(),
        severity,
        "foreground-deletion-waiting",
        &format!(
            "foreground deletion waits for {} dependent(s): {}",
            blocking.len(),
            described.join("; ")
        ),
    )
    .explain(
        "The owner was deleted with propagationPolicy=Foreground: the garbage collector deletes every \
         dependent first and removes foregroundDeletion only when each dependent with \
         blockOwnerDeletion=true is gone. A dependent that is itself stuck holds the owner.",
    );
    for dependent in &blocking {
        finding = finding.evidence(
            describe(dependent),
            Source::Object {
                object: dependent.reference(),
            },
        );
    }
    for diagnosis in nested {
        out.absorb(diagnosis);
    }
    out.add(Cause::new(finding).step(removal));
}

/// `orphan` at `index`: dependents still referencing the owner.
pub fn orphan(ctx: &Ctx, subject: &MetaObject, index: usize, out: &mut Diagnosis) {
    let danger = known(ORPHAN).map(|k| k.danger).unwrap_or_default();
    let removal = removal_step(
        subject,
        ORPHAN,
        index,
        "the owner goes before its dependents are orphaned",
        danger,
    );
    let uid = subject.uid().unwrap_or_default();
    let referencing: Vec<&MetaObject> = ctx.inv.dependents_of(uid).collect();
    let what = if referencing.is_empty() {
        "no dependent references it any more".to_string()
    } else {
        format!(
            "{} dependent(s) still reference it: {}",
            referencing.len(),
            referencing
                .iter()
                .map(|d| d.reference().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    out.add(gc_stalled(ctx, subject, ORPHAN, &what).step(removal));
}

fn gc_stalled(ctx: &Ctx, subject: &MetaObject, finalizer: &str, what: &str) -> Cause {
    let finding = terminating_finding(
        subject,
        ctx.now(),
        ctx.severity(subject),
        "gc-finalizer-stalled",
        &format!("{finalizer}: {what}, yet the garbage collector has not removed the finalizer"),
    )
    .explain(
        "The garbage collector in kube-controller-manager removes this finalizer itself. When it does not, \
         it is not running, or its dependency graph missed an event (known garbage-collector bugs); \
         restarting kube-controller-manager rebuilds the graph.",
    );
    Cause::new(finding).advice(Remedy::step(
        "Check that kube-controller-manager runs; restart it to rebuild the garbage collector's graph",
    ))
}

/// "ConfigMap shop/child (being deleted, finalizers example.com/hold)".
fn describe(object: &MetaObject) -> String {
    let mut facts = Vec::new();
    if object.deletion_timestamp().is_some() {
        facts.push("being deleted".to_string());
    } else {
        facts.push("not deleted yet".to_string());
    }
    if !object.finalizers().is_empty() {
        facts.push(format!("finalizers {}", object.finalizers().join(", ")));
    }
    format!("{} ({})", object.reference(), facts.join(", "))
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::ConfigMap;
    use serde_json::json;

    use crate::{
        analyse::{
            diagnose,
            testing::{add, from, inventory},
        },
        fix::plan::Step,
    };

    fn config_map(name: &str, finalizers: &[&str], owner: Option<&str>) -> ConfigMap {
        let owners: Vec<_> = owner
            .map(|uid| json!({"apiVersion": "v1", "kind": "ConfigMap", "name": "parent", "uid": uid, "blockOwnerDeletion": true}))
            .into_iter()
            .collect();
        from(json!({"metadata": {
            "name": name, "namespace": "shop", "uid": format!("u-{name}"), "resourceVersion": "1",
            "deletionTimestamp": "2026-01-01T00:00:00Z", "finalizers": finalizers, "ownerReferences": owners,
        }}))
    }

    #[test]
    fn foreground_deletion_held_by_a_stuck_dependent() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        add(
            &mut inv,
            config_map("parent", &["foregroundDeletion"], None),
        );
        add(
            &mut inv,
            config_map("child", &["example.com/hold"], Some("u-parent")),
        );
        let subject = inv
            .object("", "ConfigMap", Some("shop"), "parent")
            .cloned()
            .unwrap();
        let d = diagnose(&inv, &subject);
        let codes: Vec<&str> = d.findings.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(
            codes,
            vec!["finalizer-no-controller", "foreground-deletion-waiting"]
        );
        assert_eq!(
            d.findings[1].title,
            "Terminating for 10m: foreground deletion waits for 1 dependent(s): ConfigMap shop/child (being deleted, finalizers example.com/hold)"
        );
        let keys: Vec<String> = d.ladder().iter().map(Step::key).collect();
        assert_eq!(
            keys,
            vec![
                "unfinalize ConfigMap shop/child example.com/hold",
                "unfinalize ConfigMap shop/parent foregroundDeletion",
            ]
        );
    }

    #[test]
    fn foreground_deletion_with_nothing_left_points_at_the_garbage_collector() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        add(
            &mut inv,
            config_map("parent", &["foregroundDeletion"], None),
        );
        let subject = inv
            .object("", "ConfigMap", Some("shop"), "parent")
            .cloned()
            .unwrap();
        let d = diagnose(&inv, &subject);
        assert_eq!(d.findings[0].code, "gc-finalizer-stalled");
        assert!(
            d.findings[0].remediation[0]
                .description
                .contains("restart it")
        );
    }
}
