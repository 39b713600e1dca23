//! The Service selector against the pods of its namespace: no match (with the pods that almost
//! match and the exact label that differs), or matches only pods that are not running.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::{
    error::nearest_names,
    report::{Finding, ObjectRef, Remedy, Severity, Source},
    state::Kind,
};
use serde_json::json;

use super::Context;
use crate::{
    backends::Selection,
    chain::{Link, Observation, plural},
    labels::Labels,
    pods,
};

/// How many near-miss groups to show.
const NEAR_MISSES_SHOWN: usize = 5;

pub fn check(cx: &Context) -> Vec<Observation> {
    let Some(selector) = cx.subject.selector else {
        return Vec::new();
    };
    let Selection::Pods(selected) = &cx.backends.selection else {
        return Vec::new();
    };
    if selected.is_empty() {
        return vec![no_pod_matches(cx, selector)];
    }
    if selected.iter().any(|p| pods::phase(p) == "Running") {
        return Vec::new();
    }
    vec![none_running(cx, selected)]
}

/// One way a pod's labels differ from one selector entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Difference {
    /// The pod has no such key (nor one differing only in case).
    Missing { key: String, want: String },
    /// The value differs only in letter case: `Frontend` vs `frontend`.
    ValueCase {
        key: String,
        want: String,
        have: String,
    },
    Value {
        key: String,
        want: String,
        have: String,
    },
    /// The key differs only in letter case: `App` vs `app`.
    KeyCase {
        key: String,
        have_key: String,
        want: String,
        have: String,
    },
}

impl Difference {
    fn describe(&self) -> String {
        match self {
            Difference::Missing { key, want } => {
                format!("has no label {key} (the selector wants {key}={want})")
            }
            Difference::ValueCase { key, want, have } => format!(
                "has {key}={have} where the selector wants {key}={want} (differs only in case)"
            ),
            Difference::Value { key, want, have } => {
                format!("has {key}={have} where the selector wants {key}={want}")
            }
            Difference::KeyCase {
                key,
                have_key,
                want,
                have,
            } => format!(
                "has {have_key}={have} where the selector wants {key}={want} (the key differs only in case)"
            ),
        }
    }

    /// A slip rather than a different workload: case, or a similar value (`web` vs `web-v2`).
    fn is_close(&self) -> bool {
        match self {
            Difference::Missing { .. } => false,
            Difference::ValueCase { .. } => true,
            Difference::KeyCase { want, have, .. } => want.eq_ignore_ascii_case(have),
            Difference::Value { want, have, .. } => {
                !nearest_names(want, [have.as_str()]).is_empty()
            }
        }
    }

    /// The selector change that would make the pod match: key -> new value (None removes it).
    fn selector_patch(&self) -> Vec<(String, Option<String>)> {
        match self {
            Difference::Missing { key, .. } => vec![(key.clone(), None)],
            Difference::ValueCase { key, have, .. } | Difference::Value { key, have, .. } => {
                vec![(key.clone(), Some(have.clone()))]
            }
            Difference::KeyCase {
                key,
                have_key,
                have,
                ..
            } => vec![(key.clone(), None), (have_key.clone(), Some(have.clone()))],
        }
    }
}

/// How `labels` differ from `selector`, entry by entry.
pub fn differences(selector: &Labels, labels: &Labels) -> Vec<Difference> {
    selector
        .iter()
        .filter_map(|(key, want)| match labels.get(key) {
            Some(have) if have == want => None,
            Some(have) if have.eq_ignore_ascii_case(want) => Some(Difference::ValueCase {
                key: key.clone(),
                want: want.clone(),
                have: have.clone(),
            }),
            Some(have) => Some(Difference::Value {
                key: key.clone(),
                want: want.clone(),
                have: have.clone(),
            }),
            None => match labels.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
                Some((have_key, have)) => Some(Difference::KeyCase {
                    key: key.clone(),
                    have_key: have_key.clone(),
                    want: want.clone(),
                    have: have.clone(),
                }),
                None => Some(Difference::Missing {
                    key: key.clone(),
                    want: want.clone(),
                }),
            },
        })
        .collect()
}

/// Pods that almost match, grouped by workload and difference, closest first.
struct NearMiss<'a> {
    pod: &'a Pod,
    owner: Option<ObjectRef>,
    more: usize,
    differences: Vec<Difference>,
}

fn near_misses<'a>(cx: &Context<'a, '_>, selector: &Labels) -> Vec<NearMiss<'a>> {
    let mut scored: Vec<(usize, &Pod, Vec<Difference>)> = candidates(cx, selector)
        .into_iter()
        .filter(|p| !pods::is_terminal(p))
        .map(|pod| {
            let diffs = differences(selector, pods::labels(pod));
            (diffs.len(), pod, diffs)
        })
        .filter(|(count, _, diffs)| {
            *count < selector.len() || diffs.iter().all(Difference::is_close)
        })
        .collect();
    scored.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| pods::name(a.1).cmp(pods::name(b.1)))
    });
    let mut groups: Vec<NearMiss> = Vec::new();
    for (_, pod, diffs) in scored {
        let owner = pods::workload(cx.index.state, pod);
        match groups
            .iter_mut()
            .find(|g| g.owner.is_some() && g.owner == owner && g.differences == diffs)
        {
            Some(group) => group.more += 1,
            None => groups.push(NearMiss {
                pod,
                owner,
                more: 0,
                differences: diffs,
            }),
        }
    }
    groups
}

/// The pods worth comparing: those sharing a selector entry exactly, or carrying a selector key
/// (or the key in another case) with a close value. Found through the label index, distinct
/// value by distinct value, so a namespace of thousands of pods is not compared pod by pod.
fn candidates<'a>(cx: &Context<'a, '_>, selector: &Labels) -> Vec<&'a Pod> {
    let index = cx.index;
    let namespace = cx.subject.namespace;
    let keys = index.label_keys(namespace);
    let mut found: Vec<&Pod> = Vec::new();
    for (key, want) in selector {
        found.extend(index.pods_labelled(namespace, key, want));
        for have_key in keys.iter().filter(|k| k.eq_ignore_ascii_case(key)) {
            for value in index.label_values(namespace, have_key) {
                let difference = Difference::Value {
                    key: key.clone(),
                    want: want.clone(),
                    have: value.to_string(),
                };
                let close = value.eq_ignore_ascii_case(want) || difference.is_close();
                if value != want && close || *have_key != key.as_str() {
                    found.extend(index.pods_labelled(namespace, have_key, value));
                }
            }
        }
    }
    found.sort_by_key(|p| std::ptr::from_ref(*p));
    found.dedup_by_key(|p| std::ptr::from_ref(*p));
    found
}

fn no_pod_matches(cx: &Context, selector: &Labels) -> Observation {
    let subject = cx.subject;
    let selector_text = subject.selector_text();
    let namespace_pods = cx.index.pods_in(subject.namespace);
    let misses = near_misses(cx, selector);
    let elsewhere = if cx.index.coverage.lists_everywhere(Kind::Pod) {
        cx.index.namespaces_matching(subject.namespace, selector)
    } else {
        Vec::new()
    };
    let title = if namespace_pods.is_empty() {
        format!(
            "the selector {selector_text} matches no pod: namespace {} has no pods at all",
            subject.namespace
        )
    } else {
        format!("the selector {selector_text} matches no pod")
    };
    let mut explanation = format!(
        "Only pods in namespace {} carrying every label of the selector become endpoints, and none does, \
         so {} has no endpoints. Requests to it are not delivered anywhere: they hang until the client \
         times out (kube-proxy in iptables or nftables mode rejects them at once with \"connection refused\").",
        subject.namespace,
        subject.dns_name()
    );
    if let Some(closest) = misses.first() {
        explanation.push_str(&format!(
            "\nClosest: pod {} {}.",
            pods::name(closest.pod),
            closest
                .differences
                .iter()
                .map(Difference::describe)
                .collect::<Vec<_>>()
                .join(" and ")
        ));
    }
    if !elsewhere.is_empty() {
        explanation.push_str(&format!(
            "\nPods matching {selector_text} run in namespace {}, but a Service only selects pods of its own namespace.",
            elsewhere.join(", ")
        ));
    }
    let mut finding = Finding::new(
        Severity::Error,
        subject.object(),
        "selector-matches-no-pods",
        title,
    )
    .explain(explanation)
    .evidence(
        format!("selector {selector_text}"),
        Source::Field {
            object: subject.object(),
            path: "spec.selector".into(),
        },
    );
    for miss in misses.iter().take(NEAR_MISSES_SHOWN) {
        finding = finding.evidence(near_miss_fact(miss), pod_labels_source(miss.pod));
    }
    if misses.is_empty() && !namespace_pods.is_empty() {
        finding = finding.evidence(
            format!(
                "no pod of the {} in namespace {} carries any of these labels",
                namespace_pods.len(),
                subject.namespace
            ),
            Source::Computed,
        );
    }
    finding = finding.remedy(Remedy::command(
        "List the pods the selector should pick and compare their labels",
        format!("kubectl get pods {} --show-labels", subject.ns_flag()),
    ));
    if let Some(closest) = misses.first() {
        finding = finding.remedy(selector_fix(cx, closest)).remedy(Remedy::step(format!(
            "Or change the pod template of {} so that its pods carry {selector_text} (a Deployment's own selector must still match its template)",
            closest
                .owner
                .as_ref()
                .map_or_else(|| format!("pod {}", pods::name(closest.pod)), ToString::to_string)
        )));
    }
    let near: Vec<_> = misses
        .iter()
        .take(NEAR_MISSES_SHOWN)
        .map(|m| {
            json!({
                "pod": pods::name(m.pod),
                "owner": m.owner,
                "morePods": m.more,
                "differences": m.differences.iter().map(Difference::describe).collect::<Vec<_>>(),
            })
        })
        .collect();
    finding = finding.details(json!({
        "selector": selector,
        "podsInNamespace": namespace_pods.len(),
        "nearMisses": near,
        "matchingElsewhere": elsewhere,
    }));
    Observation::new(Link::Endpoints, finding)
}

fn near_miss_fact(miss: &NearMiss) -> String {
    let owner = miss
        .owner
        .as_ref()
        .map(|o| format!("{} {}", o.kind, o.name));
    let whose = match (miss.more, owner) {
        (0, Some(owner)) => format!(" ({owner})"),
        (0, None) => String::new(),
        (more, Some(owner)) => format!(" (and {more} more pod{} of {owner})", plural(more)),
        (more, None) => format!(" (and {more} more pod{})", plural(more)),
    };
    let diffs: Vec<String> = miss.differences.iter().map(Difference::describe).collect();
    format!(
        "pod {}{whose} almost matches: it {}",
        pods::name(miss.pod),
        diffs.join(" and ")
    )
}

fn pod_labels_source(pod: &Pod) -> Source {
    Source::Field {
        object: ObjectRef::namespaced("Pod", pods::namespace(pod), pods::name(pod)),
        path: "metadata.labels".into(),
    }
}

/// `kubectl patch service` changing the selector so that the closest pods match.
fn selector_fix(cx: &Context, closest: &NearMiss) -> Remedy {
    let patch: BTreeMap<String, Option<String>> = closest
        .differences
        .iter()
        .flat_map(Difference::selector_patch)
        .collect();
    let body = json!({"spec": {"selector": patch}});
    Remedy::command(
        format!(
            "Make the Service select the pods of {} (only if they are the intended backends)",
            closest.owner.as_ref().map_or_else(
                || format!("pod {}", pods::name(closest.pod)),
                ToString::to_string
            )
        ),
        format!(
            "kubectl patch service {} {} --type merge -p '{}'",
            cx.subject.name,
            cx.subject.ns_flag(),
            body
        ),
    )
}

fn none_running(cx: &Context, selected: &[&Pod]) -> Observation {
    let subject = cx.subject;
    let severity = if cx.backends.fewest_ready() == 0 {
        Severity::Error
    } else {
        Severity::Warning
    };
    let mut by_phase: BTreeMap<&str, usize> = BTreeMap::new();
    for pod in selected {
        *by_phase.entry(pods::phase(pod)).or_default() += 1;
    }
    let phases: Vec<String> = by_phase
        .iter()
        .map(|(phase, n)| format!("{n} {phase}"))
        .collect();
    let title = format!(
        "the selector matches {} pod{}, none of them running ({})",
        selected.len(),
        plural(selected.len()),
        phases.join(", ")
    );
    let finished = by_phase.get("Succeeded").copied().unwrap_or(0)
        + by_phase.get("Failed").copied().unwrap_or(0);
    let mut explanation = String::from(
        "Only running pods with an IP become endpoints. Pending pods are not scheduled or not started yet; \
         Succeeded and Failed pods have finished and never serve again.",
    );
    if finished == selected.len() {
        explanation.push_str(
            " Every selected pod has finished: the selector probably picks the pods of a Job rather than of a long-running workload.",
        );
    }
    let mut finding =
        Finding::new(severity, subject.object(), "pods-not-running", title).explain(explanation);
    for pod in selected.iter().take(NEAR_MISSES_SHOWN) {
        finding = finding.evidence(
            format!("pod {} is {}", pods::name(pod), pods::phase(pod)),
            Source::Field {
                object: ObjectRef::namespaced("Pod", pods::namespace(pod), pods::name(pod)),
                path: "status.phase".into(),
            },
        );
    }
    if let Some(pending) = selected.iter().find(|p| pods::phase(p) == "Pending") {
        finding = finding.remedy(Remedy::command(
            format!("Find out why pod {} is not running", pods::name(pending)),
            pods::why_pending_command(pending),
        ));
    }
    if finished > 0 {
        finding = finding.remedy(Remedy::step(
            "Point the selector at the pods of a long-running workload (Deployment, StatefulSet, DaemonSet)",
        ));
    }
    Observation::new(Link::ReadyPod, finding)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn classifies_each_difference() {
        let selector = labels(&[
            ("app", "web"),
            ("tier", "frontend"),
            ("env", "prod"),
            ("Team", "a"),
        ]);
        let pod = labels(&[("app", "web"), ("tier", "Frontend"), ("team", "a")]);
        let diffs = differences(&selector, &pod);
        assert_eq!(
            diffs,
            vec![
                Difference::KeyCase {
                    key: "Team".into(),
                    have_key: "team".into(),
                    want: "a".into(),
                    have: "a".into()
                },
                Difference::Missing {
                    key: "env".into(),
                    want: "prod".into()
                },
                Difference::ValueCase {
                    key: "tier".into(),
                    want: "frontend".into(),
                    have: "Frontend".into()
                },
            ]
        );
        assert_eq!(
            diffs[2].describe(),
            "has tier=Frontend where the selector wants tier=frontend (differs only in case)"
        );
    }

    #[test]
    fn similar_values_are_close_and_missing_keys_are_not() {
        let close = Difference::Value {
            key: "app".into(),
            want: "web".into(),
            have: "web-v2".into(),
        };
        let far = Difference::Value {
            key: "app".into(),
            want: "web".into(),
            have: "postgres".into(),
        };
        assert!(close.is_close());
        assert!(!far.is_close());
        assert!(
            !Difference::Missing {
                key: "a".into(),
                want: "b".into()
            }
            .is_close()
        );
    }

    #[test]
    fn selector_patches_remove_missing_keys_and_copy_values() {
        let diff = Difference::Missing {
            key: "env".into(),
            want: "prod".into(),
        };
        assert_eq!(diff.selector_patch(), vec![("env".to_string(), None)]);
        let diff = Difference::Value {
            key: "app".into(),
            want: "web".into(),
            have: "web-v2".into(),
        };
        assert_eq!(
            diff.selector_patch(),
            vec![("app".to_string(), Some("web-v2".to_string()))]
        );
    }
}
