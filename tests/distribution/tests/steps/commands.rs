//! One real command of safe-drain, svc-check and unstick through kubectl, each against objects
//! made for it in the test's namespace.

use kube_runbooks_distribution::{KrewUser, Output};
use kube_runbooks_harness::{ControlPlane, FakeNode, TestNamespace};

/// The node whose drain is planned.
pub const DRAIN_NODE: &str = "dist-drain";

/// Pods bound to [`DRAIN_NODE`] that nothing recreates, so the plan blocks them.
const UNMANAGED_PODS: [&str; 2] = ["debug-1", "debug-2"];

/// Objects a finalizer keeps Terminating once deleted; the pod is one no node can take.
const HELD_OBJECTS: &str = "
apiVersion: v1
kind: ConfigMap
metadata: {name: held, finalizers: [kube-runbooks.test/hold]}
data: {k: v}
---
apiVersion: v1
kind: Pod
metadata: {name: leaving, finalizers: [kube-runbooks.test/hold]}
spec:
  nodeSelector: {kube-runbooks.test/pool: no-such-pool}
  containers: [{name: app, image: registry.k8s.io/pause:3.10}]
";

/// `kubectl ARGS...` as the user, printed as a transcript.
pub fn kubectl(user: &KrewUser, args: &[&str]) -> Output {
    let output = user.run("kubectl", args);
    println!(
        "$ kubectl {}\n{}{}",
        args.join(" "),
        output.stdout,
        output.stderr
    );
    output
}

/// `kubectl safe-drain NODE --plan` names every pod of the node and leaves it schedulable.
pub async fn safe_drain_plans_without_cordoning(
    user: &KrewUser,
    cp: &ControlPlane,
    ns: &TestNamespace,
) {
    cp.add_node(FakeNode::new(DRAIN_NODE).cpu("4").memory("8Gi"))
        .await;
    for pod in UNMANAGED_PODS {
        ns.apply_yaml(&format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {pod}}}\nspec: {{nodeName: {DRAIN_NODE}, containers: [{{name: app, image: registry.k8s.io/pause:3.10}}]}}\n"
        ))
        .await;
        ns.wait_pod_phase(pod, "Running").await;
    }
    let plan = kubectl(user, &["safe-drain", DRAIN_NODE, "--plan"]);
    assert_eq!(
        plan.code,
        Some(1),
        "pods nothing recreates block the drain: {plan}"
    );
    let heading = format!(
        "Drain plan for node {DRAIN_NODE} (Ready, schedulable): 0 to evict, 0 skipped, 2 blocked"
    );
    assert!(plan.stdout.contains(&heading), "{plan}");
    for pod in UNMANAGED_PODS {
        let row = format!("BLOCKED  {}/{pod}", ns.name());
        assert!(plan.stdout.contains(&row), "{row:?} missing: {plan}");
    }
    let cordon = kubectl(
        user,
        &[
            "get",
            "node",
            DRAIN_NODE,
            "-o",
            "jsonpath={.spec.unschedulable}",
        ],
    );
    assert!(
        cordon.success() && cordon.stdout.is_empty(),
        "--plan cordoned the node: {cordon}"
    );
}

/// `kubectl svc-check -n NS web`: its only pod is Pending, so no traffic gets through.
pub fn svc_check_gives_the_verdict(user: &KrewUser, ns: &TestNamespace) {
    let check = kubectl(user, &["svc-check", "-n", ns.name(), "web"]);
    assert_eq!(
        check.code,
        Some(1),
        "a Service without a ready backend is a problem found: {check}"
    );
    let verdict = check.stdout.lines().next().unwrap_or_default();
    assert!(
        verdict.starts_with(&format!("✗ Service {}/web: ", ns.name()))
            && verdict.ends_with("the selector matches 1 pod, none of them running (1 Pending)"),
        "{check}"
    );
}

/// `kubectl unstick -n NS` lists the deleted ConfigMap and pod their finalizer holds.
pub async fn unstick_lists_what_is_stuck(user: &KrewUser, ns: &TestNamespace) {
    ns.apply_yaml(HELD_OBJECTS).await;
    let deleted = kubectl(
        user,
        &[
            "delete",
            "-n",
            ns.name(),
            "configmap/held",
            "pod/leaving",
            "--wait=false",
        ],
    );
    assert!(deleted.success(), "{deleted}");
    let scan = kubectl(user, &["unstick", "-n", ns.name()]);
    assert_eq!(
        scan.code,
        Some(1),
        "something stuck is a problem found: {scan}"
    );
    assert!(
        scan.stdout.starts_with("KIND ")
            && scan
                .stdout
                .lines()
                .next()
                .is_some_and(|h| h.contains("TERMINATING")),
        "a table of what is stuck: {scan}"
    );
    for (kind, name) in [("ConfigMap", "held"), ("Pod", "leaving")] {
        let row = scan.stdout.lines().find(|line| {
            let columns: Vec<&str> = line.split_whitespace().collect();
            columns.first() == Some(&kind) && columns.get(1) == Some(&name)
        });
        assert!(
            row.is_some_and(|r| r.contains("finalizer kube-runbooks.test/hold")),
            "a row for {kind} {name} naming its finalizer: {scan}"
        );
    }
}
