//! Finalizers: who removes each well-known one and when, what removing it by hand breaks, and for
//! custom ones the owning CRD or API group and whether a controller for it appears to run.

use kube_runbook::report::{Remedy, Severity, Source};

use super::{
    Ctx,
    cause::Cause,
    controllers::{Sighting, look_for_controller, words_of},
    dependents, pv, pvc,
    terminating::terminating_finding,
};
use crate::{
    fix::plan::{Action, Rung, Step},
    inventory::MetaObject,
};

/// A finalizer the suite knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownFinalizer {
    /// The finalizer, or its prefix when `prefix` is set (`external-attacher/` + driver).
    pub name: &'static str,
    pub prefix: bool,
    /// Who removes it.
    pub remover: &'static str,
    /// When it is removed.
    pub removed_when: &'static str,
    /// What removing it by hand breaks.
    pub danger: &'static str,
}

/// The well-known finalizers.
pub const KNOWN: &[KnownFinalizer] = &[
    KnownFinalizer {
        name: "kubernetes",
        prefix: false,
        remover: "the namespace controller (kube-controller-manager)",
        removed_when: "every object in the namespace is gone and every API group could be checked",
        danger: "whatever is left in the namespace stays in etcd, invisible, and reappears if the namespace is created again",
    },
    KnownFinalizer {
        name: "kubernetes.io/pvc-protection",
        prefix: false,
        remover: "the pvc-protection controller (kube-controller-manager)",
        removed_when: "no scheduled pod, running or finished, uses the claim",
        danger: "pods still using the claim lose it: the volume is released and, with reclaimPolicy Delete, its data deleted while in use",
    },
    KnownFinalizer {
        name: "kubernetes.io/pv-protection",
        prefix: false,
        remover: "the pv-protection controller (kube-controller-manager)",
        removed_when: "the volume is no longer Bound to a claim",
        danger: "the PV object goes while a claim is still bound to it: the claim breaks and the backend volume may never be reclaimed",
    },
    KnownFinalizer {
        name: "foregroundDeletion",
        prefix: false,
        remover: "the garbage collector (kube-controller-manager)",
        removed_when: "every dependent with blockOwnerDeletion=true is gone",
        danger: "the owner goes before its dependents; the garbage collector still deletes them in the background",
    },
    KnownFinalizer {
        name: "orphan",
        prefix: false,
        remover: "the garbage collector (kube-controller-manager)",
        removed_when: "it has removed the owner reference from every dependent",
        danger: "dependents that still reference the owner are then garbage-collected instead of orphaned",
    },
    KnownFinalizer {
        name: "batch.kubernetes.io/job-tracking",
        prefix: false,
        remover: "the Job controller (kube-controller-manager)",
        removed_when: "it has counted the pod's success or failure in the Job's status",
        danger: "the Job may miscount this pod: a completion can be lost or a replacement started",
    },
    KnownFinalizer {
        name: "kubernetes.io/pv-controller",
        prefix: false,
        remover: "the persistent volume controller (kube-controller-manager)",
        removed_when: "it has deleted the backend volume (reclaimPolicy Delete)",
        danger: "the backend volume is never deleted: the disk leaks and keeps costing",
    },
    KnownFinalizer {
        name: "external-provisioner.volume.kubernetes.io/finalizer",
        prefix: false,
        remover: "the CSI driver's external-provisioner sidecar",
        removed_when: "it has deleted the backend volume (reclaimPolicy Delete)",
        danger: "the backend volume is never deleted: the disk leaks and keeps costing",
    },
    KnownFinalizer {
        name: "external-attacher/",
        prefix: true,
        remover: "the CSI driver's external-attacher sidecar",
        removed_when: "the volume is detached from every node",
        danger: "the disk may stay attached to a node and leak; deleting a volume that is still attached can corrupt its data",
    },
    KnownFinalizer {
        name: "service.kubernetes.io/load-balancer-cleanup",
        prefix: false,
        remover: "the service controller of the cloud provider (cloud-controller-manager)",
        removed_when: "it has deleted the cloud load balancer",
        danger: "the cloud load balancer leaks: it keeps its IP and keeps costing",
    },
    KnownFinalizer {
        name: "customresourcecleanup.apiextensions.k8s.io",
        prefix: false,
        remover: "the API server (apiextensions)",
        removed_when: "every custom resource of the CRD is deleted",
        danger: "custom resources of this CRD stay in etcd and reappear if the CRD is created again",
    },
    KnownFinalizer {
        name: "snapshot.storage.kubernetes.io/",
        prefix: true,
        remover: "the CSI snapshot controller",
        removed_when: "no snapshot or restore uses the object any more",
        danger: "a snapshot or restore in progress may fail or leave a dangling backend snapshot",
    },
];

/// Finalizers removed by kube-controller-manager or the API server: no workload to look for.
pub const IN_TREE_FINALIZERS: &[&str] = &[
    "kubernetes",
    "kubernetes.io/pvc-protection",
    "kubernetes.io/pv-protection",
    "foregroundDeletion",
    "orphan",
    "batch.kubernetes.io/job-tracking",
    "kubernetes.io/pv-controller",
    "customresourcecleanup.apiextensions.k8s.io",
];

/// Words that identify out-of-tree controllers of known finalizers.
fn controller_words(known: &KnownFinalizer, finalizer: &str) -> Vec<String> {
    match known.name {
        "external-attacher/" => {
            // The attacher names its finalizer after the driver with every character outside
            // [a-zA-Z0-9-] replaced by '-': ebs.csi.aws.com becomes ebs-csi-aws-com.
            let driver = finalizer.trim_start_matches(known.name);
            std::iter::once(driver.to_string())
                .chain(words_of(&driver.replace('-', ".")))
                .collect()
        }
        "service.kubernetes.io/load-balancer-cleanup" => {
            ["cloud-controller", "cloud-provider", "metallb", "kube-vip"]
                .iter()
                .map(|w| w.to_string())
                .collect()
        }
        "snapshot.storage.kubernetes.io/" => vec!["snapshot-controller".to_string()],
        _ => Vec::new(),
    }
}

/// The known entry for `finalizer`, if any.
pub fn known(finalizer: &str) -> Option<&'static KnownFinalizer> {
    KNOWN.iter().find(|k| {
        if k.prefix {
            finalizer.starts_with(k.name)
        } else {
            finalizer == k.name
        }
    })
}

/// Explains finalizer `finalizer` at `index` of `subject`'s `metadata.finalizers`.
pub fn explain(
    ctx: &Ctx,
    subject: &MetaObject,
    finalizer: &str,
    index: usize,
    out: &mut super::Diagnosis,
) {
    match finalizer {
        "kubernetes.io/pvc-protection" => pvc::protection(ctx, subject, index, out),
        "kubernetes.io/pv-protection" => pv::protection(ctx, subject, index, out),
        "kubernetes.io/pv-controller" | "external-provisioner.volume.kubernetes.io/finalizer" => {
            pv::volume_deletion(ctx, subject, finalizer, index, out)
        }
        "foregroundDeletion" => dependents::foreground(ctx, subject, index, out),
        "orphan" => dependents::orphan(ctx, subject, index, out),
        _ => match known(finalizer) {
            Some(entry) => out.add(known_pending(ctx, subject, entry, finalizer, index)),
            None => out.add(custom(ctx, subject, finalizer, index)),
        },
    }
}

/// The step that removes one finalizer, guarded by resourceVersion and the finalizer's index.
pub fn removal_step(
    subject: &MetaObject,
    finalizer: &str,
    index: usize,
    why: &str,
    danger: &str,
) -> Step {
    Step::new(
        Rung::RemoveFinalizer,
        Action::RemoveFinalizer {
            object: subject.clone(),
            finalizer: finalizer.to_string(),
            index,
        },
        why,
        danger,
    )
}

fn known_pending(
    ctx: &Ctx,
    subject: &MetaObject,
    entry: &KnownFinalizer,
    finalizer: &str,
    index: usize,
) -> Cause {
    let words = controller_words(entry, finalizer);
    let sighting = (!words.is_empty()).then(|| look_for_controller(ctx.inv, &words));
    let severity = match sighting {
        Some(Sighting::None { .. } | Sighting::Stopped(_)) => Severity::Error,
        _ => ctx.severity(subject),
    };
    let cause_text = match &sighting {
        Some(Sighting::None { .. }) => {
            format!("finalizer {finalizer}: no controller to remove it appears to be running")
        }
        _ => format!("finalizer {finalizer} waits for {}", entry.remover),
    };
    let mut finding = terminating_finding(
        subject,
        ctx.now(),
        severity,
        "finalizer-pending",
        &cause_text,
    )
    .explain(format!(
        "{finalizer} is removed by {} once {}. Until then the API server keeps the object.",
        entry.remover,
        removed_when(entry, subject)
    ))
    .evidence(
        format!("metadata.finalizers[{index}] = {finalizer}"),
        Source::Field {
            object: subject.reference(),
            path: "metadata.finalizers".into(),
        },
    );
    if let Some(sighting) = &sighting {
        finding = finding.evidence(sighting.describe(), Source::Computed);
    }
    Cause::new(finding)
        .advice(Remedy::step(format!(
            "Make sure {} is running and can do its work; it removes {finalizer} by itself",
            entry.remover
        )))
        .step(removal_step(
            subject,
            finalizer,
            index,
            &format!("what {} would do is skipped", entry.remover),
            entry.danger,
        ))
}

/// When `entry` is removed from `subject`: the attacher keeps its finalizer on a volume while any
/// VolumeAttachment of it remains, and on a VolumeAttachment until it has detached the volume.
fn removed_when(entry: &KnownFinalizer, subject: &MetaObject) -> &'static str {
    match entry.name {
        "external-attacher/" if subject.resource.is_core("PersistentVolume") => {
            "no VolumeAttachment of the volume remains (each is deleted once the volume is detached from its node)"
        }
        "external-attacher/" => {
            "it has detached the volume from the node (ControllerUnpublishVolume)"
        }
        _ => entry.removed_when,
    }
}

/// A finalizer the suite does not know: find its owner (CRD or APIService of its domain) and
/// whether a controller for it appears to run.
fn custom(ctx: &Ctx, subject: &MetaObject, finalizer: &str, index: usize) -> Cause {
    let domain = finalizer_domain(finalizer, &subject.resource.group);
    let mut words = words_of(&domain);
    for word in words_of(&subject.resource.group) {
        if !words.contains(&word) {
            words.push(word);
        }
    }
    let sighting = look_for_controller(ctx.inv, &words);
    let (code, cause_text, severity) = match &sighting {
        Sighting::Running(_) => (
            "finalizer-controller-not-acting",
            format!("finalizer {finalizer}: its controller appears to run but has not removed it"),
            ctx.severity(subject),
        ),
        Sighting::Stopped(_) => (
            "finalizer-controller-down",
            format!("finalizer {finalizer}: its controller has no ready replica"),
            Severity::Error,
        ),
        Sighting::None { .. } => (
            "finalizer-no-controller",
            format!("finalizer {finalizer}: no controller for {domain} appears to be running"),
            Severity::Error,
        ),
        Sighting::Unchecked(_) => (
            "finalizer-controller-unchecked",
            format!("finalizer {finalizer} waits for the controller of {domain}"),
            ctx.severity(subject),
        ),
    };
    let mut finding = terminating_finding(subject, ctx.now(), severity, code, &cause_text)
        .explain(format!(
            "{finalizer} belongs to a controller of {domain}: it removes the finalizer after its own clean-up. \
             While it does not, the API server keeps the object."
        ))
        .evidence(
            format!("metadata.finalizers[{index}] = {finalizer}"),
            Source::Field {
                object: subject.reference(),
                path: "metadata.finalizers".into(),
            },
        );
    for (fact, source) in owners_of(ctx, &domain) {
        finding = finding.evidence(fact, source);
    }
    finding = finding.evidence(sighting.describe(), Source::Computed);
    let advice = match &sighting {
        Sighting::Running(found) | Sighting::Stopped(found) => {
            let first = &found[0].object;
            Remedy::command(
                format!(
                    "Read the logs of {} {}/{} to see why it does not finish",
                    first.kind,
                    first.namespace.as_deref().unwrap_or_default(),
                    first.name
                ),
                format!(
                    "kubectl logs -n {} {}/{} --tail=100",
                    first.namespace.as_deref().unwrap_or_default(),
                    first.kind.to_lowercase(),
                    first.name
                ),
            )
        }
        _ => Remedy::step(format!(
            "Reinstall (or restart) the controller that owns {finalizer} so it does its clean-up and removes the finalizer"
        )),
    };
    Cause::new(finding).advice(advice).step(removal_step(
        subject,
        finalizer,
        index,
        &format!("the clean-up of {domain} never runs"),
        &format!(
            "whatever {finalizer} guards is never cleaned up: resources its controller manages outside this object (cloud resources, DNS records, data) may be left behind"
        ),
    ))
}

/// The DNS domain a finalizer names (`example.com/cleanup` → `example.com`), else the
/// object's own API group.
fn finalizer_domain(finalizer: &str, object_group: &str) -> String {
    match finalizer.split_once('/') {
        Some((domain, _)) if domain.contains('.') => domain.to_string(),
        _ if !object_group.is_empty() => object_group.to_string(),
        _ => finalizer.to_string(),
    }
}

/// The CRDs and APIServices of `domain` (or of a group within it).
fn owners_of(ctx: &Ctx, domain: &str) -> Vec<(String, Source)> {
    let related = |group: &str| {
        group == domain
            || group.ends_with(&format!(".{domain}"))
            || domain.ends_with(&format!(".{group}"))
    };
    let mut facts = Vec::new();
    for crd in &ctx.inv.state.custom_resource_definitions {
        if related(&crd.spec.group) {
            let name = crd.metadata.name.as_deref().unwrap_or_default();
            facts.push((
                format!("CRD {name} defines the API group {}", crd.spec.group),
                Source::Object {
                    object: kube_runbook::report::ObjectRef::cluster(
                        "CustomResourceDefinition",
                        name,
                    ),
                },
            ));
        }
    }
    for api in &ctx.inv.state.api_services {
        let aggregated = api.spec.as_ref().is_some_and(|s| s.service.is_some());
        if aggregated
            && api
                .spec
                .as_ref()
                .and_then(|s| s.group.as_deref())
                .is_some_and(related)
        {
            let name = api.metadata.name.as_deref().unwrap_or_default();
            facts.push((
                format!("APIService {name} serves this API group from an aggregated API server"),
                Source::Object {
                    object: kube_runbook::report::ObjectRef::cluster("APIService", name),
                },
            ));
        }
    }
    if facts.is_empty() {
        facts.push((
            format!("no CRD or APIService of {domain} exists"),
            Source::Computed,
        ));
    }
    facts
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{
        analyse::{
            Ctx,
            testing::{from, inventory, widget_type},
        },
        inventory::{Inventory, MetaObject},
    };

    fn widget(finalizers: &[&str]) -> MetaObject {
        MetaObject {
            resource: widget_type(),
            meta: from(json!({
                "name": "w1", "namespace": "shop", "uid": "u-w1", "resourceVersion": "42",
                "deletionTimestamp": "2026-01-01T00:00:00Z", "finalizers": finalizers,
            })),
        }
    }

    #[test]
    fn table_matches_exact_names_and_prefixes() {
        assert_eq!(
            known("kubernetes.io/pvc-protection").map(|k| k.name),
            Some("kubernetes.io/pvc-protection")
        );
        assert_eq!(
            known("external-attacher/ebs.csi.aws.com").map(|k| k.name),
            Some("external-attacher/")
        );
        assert!(known("example.com/cleanup").is_none());
        assert!(known("kubernetes.io/pvc-protection-x").is_none());
        for entry in KNOWN {
            assert!(!entry.danger.is_empty() && !entry.remover.is_empty());
        }
    }

    #[test]
    fn custom_finalizer_without_controller() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        inv.state.custom_resource_definitions.push(from(json!({
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "names": {"plural": "widgets", "kind": "Widget"}, "scope": "Namespaced", "versions": []},
        })));
        let subject = widget(&["example.com/cleanup"]);
        let ctx = Ctx::new(&inv);
        let mut out = crate::analyse::Diagnosis::default();
        explain(&ctx, &subject, "example.com/cleanup", 0, &mut out);
        let finding = &out.findings[0];
        assert_eq!(finding.code, "finalizer-no-controller");
        assert_eq!(
            finding.title,
            "Terminating for 10m: finalizer example.com/cleanup: no controller for example.com appears to be running"
        );
        let facts: Vec<&str> = finding.evidence.iter().map(|e| e.fact.as_str()).collect();
        assert!(
            facts.contains(&"CRD widgets.example.com defines the API group example.com"),
            "{facts:?}"
        );
        assert_eq!(out.steps.len(), 1);
        assert_eq!(
            out.steps[0].key(),
            "unfinalize Widget shop/w1 example.com/cleanup"
        );
        assert_eq!(out.steps[0].rung, Rung::RemoveFinalizer);
    }

    #[test]
    fn custom_finalizer_with_a_running_controller() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        inv.workloads.insert_all([from::<k8s_openapi::api::apps::v1::Deployment>(json!({
            "metadata": {"name": "example-operator", "namespace": "example-system"},
            "spec": {"replicas": 1, "selector": {}, "template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}},
            "status": {"readyReplicas": 1},
        }))]);
        let subject = widget(&["other", "example.com/cleanup"]);
        let ctx = Ctx::new(&inv);
        let mut out = crate::analyse::Diagnosis::default();
        explain(&ctx, &subject, "example.com/cleanup", 1, &mut out);
        assert_eq!(out.findings[0].code, "finalizer-controller-not-acting");
        assert!(
            out.findings[0].remediation[0]
                .command
                .as_deref()
                .unwrap()
                .contains("kubectl logs -n example-system deployment/example-operator")
        );
        let Action::RemoveFinalizer { index, .. } = &out.steps[0].action else {
            panic!("expected a finalizer removal");
        };
        assert_eq!(*index, 1);
    }

    #[test]
    fn fresh_deletions_are_not_yet_errors_unless_nothing_will_act() {
        let inv = inventory("2026-01-01T00:00:05Z");
        let subject = widget(&["example.com/cleanup"]);
        let ctx = Ctx::new(&inv);
        assert_eq!(ctx.severity(&subject), Severity::Info);
        let mut out = crate::analyse::Diagnosis::default();
        explain(&ctx, &subject, "example.com/cleanup", 0, &mut out);
        assert_eq!(
            out.findings[0].severity,
            Severity::Error,
            "no controller will ever remove it"
        );
    }

    fn volume_attachment() -> MetaObject {
        MetaObject {
            resource: std::sync::Arc::new(crate::resources::ResourceType {
                group: "storage.k8s.io".into(),
                version: "v1".into(),
                kind: "VolumeAttachment".into(),
                plural: "volumeattachments".into(),
                singular: "volumeattachment".into(),
                short_names: Vec::new(),
                namespaced: false,
                verbs: vec!["list".into(), "delete".into(), "patch".into()],
            }),
            meta: from(json!({
                "name": "csi-3b1f", "uid": "u-va", "resourceVersion": "9",
                "deletionTimestamp": "2026-01-01T00:00:00Z", "finalizers": ["external-attacher/ebs-csi-aws-com"],
            })),
        }
    }

    fn ebs_controller(ready: i32) -> k8s_openapi::api::apps::v1::Deployment {
        from(json!({
            "metadata": {"name": "ebs-csi-controller", "namespace": "kube-system"},
            "spec": {"replicas": 2, "selector": {}, "template": {"spec": {"containers": [
                {"name": "ebs-plugin", "image": "public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.30.0"},
                {"name": "csi-attacher", "image": "public.ecr.aws/eks-distro/kubernetes-csi/external-attacher:v4.5.0"},
            ]}}},
            "status": {"readyReplicas": ready},
        }))
    }

    fn attacher_diagnosis(inv: &Inventory, subject: &MetaObject) -> crate::analyse::Diagnosis {
        let mut out = crate::analyse::Diagnosis::default();
        let finalizer = "external-attacher/ebs-csi-aws-com";
        explain(&Ctx::new(inv), subject, finalizer, 0, &mut out);
        out
    }

    #[test]
    fn the_attacher_finalizer_of_a_volume_attachment_finds_the_driver_by_its_sanitized_name() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        inv.workloads.insert_all([ebs_controller(2)]);
        let subject = volume_attachment();
        let out = attacher_diagnosis(&inv, &subject);
        let finding = &out.findings[0];
        assert_eq!(finding.code, "finalizer-pending");
        assert_eq!(
            finding.title,
            "Terminating for 10m: finalizer external-attacher/ebs-csi-aws-com waits for the CSI driver's external-attacher sidecar"
        );
        assert_eq!(
            finding.explanation,
            "external-attacher/ebs-csi-aws-com is removed by the CSI driver's external-attacher sidecar once it has detached the volume from the node (ControllerUnpublishVolume). Until then the API server keeps the object."
        );
        assert_eq!(
            finding.evidence[1].fact,
            "a controller appears to be running: Deployment kube-system/ebs-csi-controller (2/2 ready)"
        );
        assert!(
            out.steps[0].danger.contains("stay attached"),
            "{}",
            out.steps[0].danger
        );
    }

    #[test]
    fn the_attacher_finalizer_of_a_volume_waits_for_its_volume_attachments() {
        let mut inv = inventory("2026-01-01T00:10:00Z");
        inv.workloads.insert_all([ebs_controller(0)]);
        let subject = MetaObject::of_kind(
            kube_runbook::state::Kind::PersistentVolume,
            &from(
                json!({"name": "pv-1", "deletionTimestamp": "2026-01-01T00:00:00Z",
                         "finalizers": ["external-attacher/ebs-csi-aws-com"]}),
            ),
        );
        let out = attacher_diagnosis(&inv, &subject);
        let finding = &out.findings[0];
        assert_eq!(
            finding.severity,
            Severity::Error,
            "its controller has no ready replica"
        );
        assert!(
            finding
                .explanation
                .contains("once no VolumeAttachment of the volume remains"),
            "{}",
            finding.explanation
        );
        assert_eq!(
            finding.evidence[1].fact,
            "a controller appears to be installed but has no ready replica: Deployment kube-system/ebs-csi-controller (0/2 ready)"
        );
    }

    #[test]
    fn load_balancer_cleanup_names_the_cloud_controller() {
        let inv = inventory("2026-01-01T00:10:00Z");
        let subject = MetaObject::of_kind(
            kube_runbook::state::Kind::Service,
            &from(
                json!({"name": "web", "namespace": "shop", "deletionTimestamp": "2026-01-01T00:00:00Z",
                         "finalizers": ["service.kubernetes.io/load-balancer-cleanup"]}),
            ),
        );
        let ctx = Ctx::new(&inv);
        let mut out = crate::analyse::Diagnosis::default();
        explain(
            &ctx,
            &subject,
            "service.kubernetes.io/load-balancer-cleanup",
            0,
            &mut out,
        );
        assert_eq!(out.findings[0].code, "finalizer-pending");
        assert!(
            out.findings[0]
                .title
                .contains("no controller to remove it appears to be running")
        );
        assert!(out.steps[0].danger.contains("load balancer leaks"));
    }
}
