//! TaintToleration: a node's `NoSchedule` and `NoExecute` taints must all be tolerated
//! (`tainttoleration/taint_toleration.go`, `component-helpers/scheduling/corev1/helpers.go`).

use k8s_openapi::api::core::v1::{Taint, Toleration};

use super::PodContext;
use super::rejection::{Code, Detail, Plugin, Rejection, TaintRef};
use crate::fit::index::NodeEntry;
use crate::fit::reasons;

/// The taint the node lifecycle controller puts on cordoned nodes.
pub(crate) const UNSCHEDULABLE_TAINT: &str = "node.kubernetes.io/unschedulable";

/// Whether `toleration` tolerates `taint` (`Toleration.ToleratesTaint`), including the numeric
/// `Lt` / `Gt` operators of `TaintTolerationComparisonOperators`.
pub(crate) fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let effect = toleration.effect.as_deref().unwrap_or("");
    let key = toleration.key.as_deref().unwrap_or("");
    if (!effect.is_empty() && effect != taint.effect) || (!key.is_empty() && key != taint.key) {
        return false;
    }
    let wanted = toleration.value.as_deref().unwrap_or("");
    let actual = taint.value.as_deref().unwrap_or("");
    match toleration.operator.as_deref().unwrap_or("") {
        "" | "Equal" => wanted == actual,
        "Exists" => true,
        operator @ ("Lt" | "Gt") => match (decimal_integer(actual), decimal_integer(wanted)) {
            (Some(taint_value), Some(bound)) if operator == "Lt" => taint_value < bound,
            (Some(taint_value), Some(bound)) => taint_value > bound,
            _ => false,
        },
        _ => false,
    }
}

/// Whether any of `tolerations` tolerates `taint`.
pub(crate) fn tolerated(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations
        .iter()
        .any(|toleration| tolerates(toleration, taint))
}

/// The node's `NoSchedule`/`NoExecute` taints that no toleration covers, in node order.
pub(crate) fn untolerated<'n>(taints: &'n [Taint], tolerations: &[Toleration]) -> Vec<&'n Taint> {
    taints
        .iter()
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        .filter(|t| !tolerated(tolerations, t))
        .collect()
}

/// A plain integer without leading zeros (`content.IsDecimalInteger`).
fn decimal_integer(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let canonical = digits == "0" || (!digits.is_empty() && !digits.starts_with('0'));
    (canonical && digits.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok())?
}

pub(crate) fn check(ctx: &PodContext, node: &NodeEntry) -> Option<Rejection> {
    let blocking = untolerated(node.taints, ctx.tolerations);
    let first = blocking.first()?;
    let taints: Vec<TaintRef> = blocking.iter().map(|t| taint_ref(t)).collect();
    let listed: Vec<String> = taints.iter().map(ToString::to_string).collect();
    let mut rejection = Rejection::new(
        Plugin::TaintToleration,
        Code::UnschedulableAndUnresolvable,
        reasons::UNTOLERATED_TAINT,
        Detail::UntoleratedTaints {
            taints: taints.clone(),
        },
    )
    .explained(format!(
        "Node {} has the taint {} and the pod does not tolerate it{}.",
        node.name,
        taint_ref(first),
        meaning(&first.key)
            .map(|m| format!(" ({m})"))
            .unwrap_or_default()
    ))
    .with_evidence(format!("untolerated taints: {}", listed.join(", ")))
    .with_evidence(format!(
        "pod tolerations: {}",
        describe_tolerations(ctx.tolerations)
    ));
    rejection = match (first.key.as_str(), meaning(&first.key)) {
        (UNSCHEDULABLE_TAINT, _) => rejection.with_fix(format!(
            "If the maintenance is over, run `kubectl uncordon {}`; otherwise wait for it.",
            node.name
        )),
        ("node-role.kubernetes.io/control-plane", _) | (_, None) => rejection
            .with_fix(format!(
                "If the pod belongs on nodes tainted {}, add this toleration to its template (the \
                 taint keeps other pods off those nodes on purpose: removing it opens them to every \
                 pod).",
                taint_ref(first)
            ))
            .with_fix_yaml(toleration_yaml(&taints)),
        (_, Some(_)) => rejection.with_fix(
            "This taint reports a node problem: fix the node (or wait for it to recover) rather \
             than tolerating it.",
        ),
    };
    Some(rejection)
}

pub(crate) fn taint_ref(taint: &Taint) -> TaintRef {
    TaintRef {
        key: taint.key.clone(),
        value: taint.value.clone().unwrap_or_default(),
        effect: taint.effect.clone(),
    }
}

/// A `tolerations:` block tolerating exactly `taints`.
pub(crate) fn toleration_yaml(taints: &[TaintRef]) -> String {
    let mut yaml = String::from("tolerations:\n");
    for taint in taints {
        yaml.push_str(&format!("- key: \"{}\"\n", taint.key));
        if taint.value.is_empty() {
            yaml.push_str("  operator: \"Exists\"\n");
        } else {
            yaml.push_str(&format!(
                "  operator: \"Equal\"\n  value: \"{}\"\n",
                taint.value
            ));
        }
        yaml.push_str(&format!("  effect: \"{}\"\n", taint.effect));
    }
    yaml
}

fn describe_tolerations(tolerations: &[Toleration]) -> String {
    if tolerations.is_empty() {
        return "none".to_string();
    }
    let described: Vec<String> = tolerations
        .iter()
        .map(|t| {
            let key = t.key.as_deref().filter(|k| !k.is_empty()).unwrap_or("*");
            let operator = t.operator.as_deref().unwrap_or("Equal");
            let value = t
                .value
                .as_deref()
                .map(|v| format!(" {v}"))
                .unwrap_or_default();
            let effect = t
                .effect
                .as_deref()
                .filter(|e| !e.is_empty())
                .unwrap_or("any effect");
            format!("{key} {operator}{value} ({effect})")
        })
        .collect();
    described.join(", ")
}

/// What a well-known taint means.
fn meaning(key: &str) -> Option<&'static str> {
    Some(match key {
        "node.kubernetes.io/not-ready" => "the node is NotReady",
        "node.kubernetes.io/unreachable" => "the node controller cannot reach the node",
        "node.kubernetes.io/memory-pressure" => "the node is under memory pressure",
        "node.kubernetes.io/disk-pressure" => "the node is under disk pressure",
        "node.kubernetes.io/pid-pressure" => "the node is running out of process IDs",
        "node.kubernetes.io/network-unavailable" => "the node's network is not configured",
        "node.kubernetes.io/out-of-service" => "the node was marked out of service",
        "node.cloudprovider.kubernetes.io/uninitialized" => {
            "the cloud provider has not initialised the node"
        }
        UNSCHEDULABLE_TAINT => "the node is cordoned",
        "node-role.kubernetes.io/control-plane" => "a control-plane node reserved for system pods",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn taint(key: &str, value: &str, effect: &str) -> Taint {
        serde_json::from_value(json!({"key": key, "value": value, "effect": effect})).unwrap()
    }

    fn toleration(value: serde_json::Value) -> Toleration {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn equal_operator_needs_key_value_and_effect() {
        let t = taint("dedicated", "gpu", "NoSchedule");
        assert!(tolerates(
            &toleration(json!({"key": "dedicated", "value": "gpu", "effect": "NoSchedule"})),
            &t
        ));
        assert!(tolerates(
            &toleration(json!({"key": "dedicated", "operator": "Equal", "value": "gpu"})),
            &t
        ));
        assert!(!tolerates(
            &toleration(json!({"key": "dedicated", "value": "cpu"})),
            &t
        ));
        assert!(!tolerates(
            &toleration(json!({"key": "dedicated", "value": "gpu", "effect": "NoExecute"})),
            &t
        ));
    }

    #[test]
    fn exists_operator_and_wildcards() {
        let t = taint("dedicated", "gpu", "NoExecute");
        assert!(tolerates(
            &toleration(json!({"key": "dedicated", "operator": "Exists"})),
            &t
        ));
        assert!(
            tolerates(&toleration(json!({"operator": "Exists"})), &t),
            "empty key tolerates everything"
        );
        assert!(!tolerates(
            &toleration(json!({"key": "other", "operator": "Exists"})),
            &t
        ));
        assert!(!tolerates(
            &toleration(json!({"key": "dedicated", "operator": "Like"})),
            &t
        ));
    }

    #[test]
    fn numeric_comparison_operators() {
        let t = taint("score", "950", "NoSchedule");
        assert!(tolerates(
            &toleration(json!({"key": "score", "operator": "Lt", "value": "1000"})),
            &t
        ));
        assert!(!tolerates(
            &toleration(json!({"key": "score", "operator": "Lt", "value": "900"})),
            &t
        ));
        assert!(tolerates(
            &toleration(json!({"key": "score", "operator": "Gt", "value": "900"})),
            &t
        ));
        assert!(!tolerates(
            &toleration(json!({"key": "score", "operator": "Gt", "value": "0950"})),
            &t
        ));
        let odd = taint("score", "high", "NoSchedule");
        assert!(!tolerates(
            &toleration(json!({"key": "score", "operator": "Gt", "value": "1"})),
            &odd
        ));
    }

    #[test]
    fn only_no_schedule_and_no_execute_block() {
        let taints = vec![
            taint("soft", "", "PreferNoSchedule"),
            taint("hard", "x", "NoSchedule"),
            taint("evict", "", "NoExecute"),
        ];
        let blocking = untolerated(
            &taints,
            &[toleration(json!({"key": "evict", "operator": "Exists"}))],
        );
        assert_eq!(blocking.len(), 1);
        assert_eq!(blocking[0].key, "hard");
    }

    #[test]
    fn toleration_yaml_uses_exists_for_valueless_taints() {
        let yaml = toleration_yaml(&[
            taint_ref(&taint("dedicated", "gpu", "NoSchedule")),
            taint_ref(&taint(
                "node-role.kubernetes.io/control-plane",
                "",
                "NoSchedule",
            )),
        ]);
        assert_eq!(
            yaml,
            "tolerations:\n- key: \"dedicated\"\n  operator: \"Equal\"\n  value: \"gpu\"\n  effect: \"NoSchedule\"\n\
             - key: \"node-role.kubernetes.io/control-plane\"\n  operator: \"Exists\"\n  effect: \"NoSchedule\"\n"
        );
    }

    #[test]
    fn rejection_names_the_taint_and_offers_the_toleration() {
        use crate::fit::index::Snapshot;
        use crate::fit::testing::{node_from, pod_with_spec};
        let nodes = [node_from(json!({
            "metadata": {"name": "gpu-1"},
            "spec": {"taints": [
                {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"},
                {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"},
            ]},
        }))];
        let snapshot = Snapshot::new(&nodes, &[]);
        let pod = pod_with_spec(json!({"containers": []}));
        let rejection = check(&PodContext::new(&pod), &snapshot.nodes[0]).unwrap();
        assert_eq!(rejection.reason, "node(s) had untolerated taint(s)");
        assert_eq!(rejection.code, Code::UnschedulableAndUnresolvable);
        assert!(
            rejection
                .explanation
                .contains("nvidia.com/gpu=present:NoSchedule")
        );
        assert_eq!(
            rejection.evidence[0],
            "untolerated taints: nvidia.com/gpu=present:NoSchedule, node.kubernetes.io/not-ready:NoExecute"
        );
        assert!(
            rejection
                .fix_yaml
                .unwrap()
                .contains("key: \"nvidia.com/gpu\"")
        );

        let not_ready = pod_with_spec(
            json!({"containers": [], "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists"}]}),
        );
        let rejection = check(&PodContext::new(&not_ready), &snapshot.nodes[0]).unwrap();
        assert!(rejection.explanation.contains("the node is NotReady"));
        assert!(
            rejection.fix_yaml.is_none(),
            "a node problem is not tolerated away"
        );
    }

    #[test]
    fn decimal_integers_reject_leading_zeros() {
        assert_eq!(decimal_integer("950"), Some(950));
        assert_eq!(decimal_integer("-3"), Some(-3));
        assert_eq!(decimal_integer("0"), Some(0));
        assert_eq!(decimal_integer("0950"), None);
        assert_eq!(decimal_integer(""), None);
        assert_eq!(decimal_integer("1e3"), None);
    }
}
