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

/// `orphan` at `index`: the dependents the garbage collector has yet to release from the owner.
pub fn orphan(ctx: &Ctx, subject: &MetaObject, index: usize, out: &mut Diagnosis) {
    let uid = subject.uid().unwrap_or_default();
    let referencing: Vec<&MetaObject> = ctx.inv.dependents_of(uid).collect();
    if referencing.is_empty() {
        let danger = known(ORPHAN).map(|k| k.danger).unwrap_or_default();
        out.add(
            gc_stalled(ctx, subject, ORPHAN, "no dependent references it any more").step(
                removal_step(subject, ORPHAN, index, "the owner goes", danger),
            ),
        );
        return;
    }
    let names: Vec<String> = referencing
        .iter()
        .map(|d| d.reference().to_string())
        .collect();
    let mut finding = terminating_finding(
        subject,
        ctx.now(),
        ctx.severity(subject),
        "orphan-dependents-remaining",
        &format!(
            "the garbage collector has yet to remove its owner reference from {} dependent(s): {}",
            referencing.len(),
            names.join(", ")
        ),
    )
    .explain(
        "The owner was deleted with propagationPolicy=Orphan: the garbage collector in \
         kube-controller-manager removes the owner's reference from every dependent, so they outlive \
         it, and only then removes the orphan finalizer. A dependent it cannot update (an admission \
         webhook rejecting the patch, an object that fails validation) keeps the owner here; \
         kube-controller-manager logs \"orphaning ... failed\" with the reason.",
    );
    for dependent in &referencing {
        finding = finding.evidence(
            format!(
                "{} still lists it in metadata.ownerReferences",
                dependent.reference()
            ),
            Source::Field {
                object: dependent.reference(),
                path: "metadata.ownerReferences".into(),
            },
        );
    }
    let removal = removal_step(
        subject,
        ORPHAN,
        index,
        "the owner goes before its dependents are released",
        &format!(
            "the garbage collector then deletes {} instead of orphaning them: their owner is gone",
            names.join(", ")
        ),
    );
    out.add(
        Cause::new(finding)
            .advice(Remedy::command(
                "Find why the garbage collector cannot update the dependents: kube-controller-manager logs \"orphaning ... failed\"",
                "kubectl -n kube-system logs -l component=kube-controller-manager --tail=200",
            ))
            .step(removal),
    );
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
        inventory::{Inventory, MetaObject},
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

    fn parent(inv: &Inventory) -> MetaObject {
        inv.object("", "ConfigMap", Some("shop"), "parent")
            .cloned()
            .unwrap()
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
        let d = diagnose(&inv, &parent(&inv));
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
    fn orphan_deletion_names_the_dependents_still_referencing_the_owner() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        add(&mut inv, config_map("parent", &["orphan"], None));
        let mut child = config_map("child", &[], Some("u-parent"));
        child.metadata.deletion_timestamp = None;
        add(&mut inv, child);
        let d = diagnose(&inv, &parent(&inv));
        assert_eq!(d.findings.len(), 1, "{:#?}", d.findings);
        let finding = &d.findings[0];
        assert_eq!(finding.code, "orphan-dependents-remaining");
        assert_eq!(finding.severity, kube_runbook::report::Severity::Error);
        assert_eq!(
            finding.title,
            "Terminating for 10m: the garbage collector has yet to remove its owner reference from 1 dependent(s): ConfigMap shop/child"
        );
        assert_eq!(
            finding.evidence[0].fact,
            "ConfigMap shop/child still lists it in metadata.ownerReferences"
        );
        assert!(
            finding.explanation.contains("garbage collector"),
            "{}",
            finding.explanation
        );
        let ladder = d.ladder();
        assert_eq!(ladder.len(), 1);
        assert_eq!(ladder[0].key(), "unfinalize ConfigMap shop/parent orphan");
        assert_eq!(
            ladder[0].danger,
            "the garbage collector then deletes ConfigMap shop/child instead of orphaning them: their owner is gone"
        );
    }

    #[test]
    fn orphan_deletion_with_every_dependent_released_points_at_the_garbage_collector() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        add(&mut inv, config_map("parent", &["orphan"], None));
        let d = diagnose(&inv, &parent(&inv));
        assert_eq!(d.findings[0].code, "gc-finalizer-stalled");
        assert_eq!(
            d.findings[0].title,
            "Terminating for 10m: orphan: no dependent references it any more, yet the garbage collector has not removed the finalizer"
        );
    }

    #[test]
    fn foreground_deletion_with_nothing_left_points_at_the_garbage_collector() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        add(
            &mut inv,
            config_map("parent", &["foregroundDeletion"], None),
        );
        let d = diagnose(&inv, &parent(&inv));
        assert_eq!(d.findings[0].code, "gc-finalizer-stalled");
        assert!(
            d.findings[0].remediation[0]
                .description
                .contains("restart it")
        );
    }
}
