//! Bad input gets clear errors and the documented exit codes: unknown Service (with near names),
//! unknown namespace, missing permissions, impossible requests, unreadable snapshots.

use std::path::Path;

use crate::cluster::{assert_culprit, first_line, scenario, service};

const USAGE: i32 = 2;
const FORBIDDEN: i32 = 6;
const NOT_FOUND: i32 = 7;
const BAD_INPUT: i32 = 8;

#[tokio::test]
async fn an_unknown_service_suggests_near_names() {
    let s = scenario("unknown-svc").await;
    s.apply(&service("checkout", "{app: checkout}", "8080"))
        .await;
    let out = s.check(&["chekout"]).await;
    assert_eq!(out.code, Some(NOT_FOUND), "{out}");
    assert!(
        out.stderr.contains(&format!(
            "service \"chekout\" not found in namespace \"{}\"",
            s.name()
        )),
        "{out}"
    );
    assert!(
        out.stderr.contains("hint: did you mean \"checkout\"?"),
        "{out}"
    );
}

#[tokio::test]
async fn an_unknown_namespace_is_not_found() {
    let s = scenario("unknown-ns").await;
    let out = s.check_raw(&["-n", "no-such-namespace"]).await;
    assert_eq!(out.code, Some(NOT_FOUND), "{out}");
    assert!(
        out.stderr
            .contains("namespace \"no-such-namespace\" not found"),
        "{out}"
    );
    let out = s.check_raw(&["web", "-n", &format!("{}x", s.name())]).await;
    assert_eq!(out.code, Some(NOT_FOUND), "{out}");
    assert!(out.stderr.contains("hint: did you mean"), "{out}");
    assert!(out.stderr.contains(&format!("\"{}\"", s.name())), "{out}");
}

/// A ClusterRole `name` listing what svc-check reads everywhere but Namespaces, bound to user
/// `name`; `get_namespaces` lets it get one namespace by name.
fn reader_without_namespace_list(name: &str, get_namespaces: bool) -> String {
    let get = if get_namespaces {
        "\n- {apiGroups: [\"\"], resources: [namespaces], verbs: [get]}"
    } else {
        ""
    };
    format!(
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {{name: {name}}}
rules:
- {{apiGroups: [""], resources: [services, pods, events, nodes], verbs: [list]}}{get}
- {{apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [list]}}
- {{apiGroups: [networking.k8s.io], resources: [networkpolicies], verbs: [list]}}
- {{apiGroups: [apps], resources: [daemonsets, deployments], verbs: [list]}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: {name}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {name}}}
subjects: [{{apiGroup: rbac.authorization.k8s.io, kind: User, name: {name}}}]
"#
    )
}

#[tokio::test]
async fn an_unknown_namespace_is_found_out_without_listing_namespaces() {
    let s = scenario("ns-unlisted").await;
    s.apply(&service("checkout", "{app: checkout}", "8080"))
        .await;
    let getter = format!("{}-get", s.name());
    let blind = format!("{}-blind", s.name());
    s.apply(&reader_without_namespace_list(&getter, true)).await;
    s.apply(&reader_without_namespace_list(&blind, false)).await;
    let typo = format!("{}x", s.name());
    let bin = Path::new(env!("CARGO_BIN_EXE_kubectl-svc_check"));
    let getter_config = s.cp.kubeconfig_for(&getter, &[]);
    let out =
        s.cp.run_with_kubeconfig(bin, &["-n", &typo], &getter_config)
            .await;
    assert_eq!(out.code, Some(NOT_FOUND), "{out}");
    assert!(
        out.stderr
            .contains(&format!("namespace \"{typo}\" not found")),
        "{out}"
    );
    assert!(
        out.stderr
            .contains(&format!("hint: did you mean \"{}\"?", s.name())),
        "{out}"
    );
    let blind_config = s.cp.kubeconfig_for(&blind, &[]);
    let out =
        s.cp.run_with_kubeconfig(bin, &["-n", &typo], &blind_config)
            .await;
    assert_eq!(out.code, Some(0), "{out}");
    assert_eq!(
        first_line(&out),
        format!(
            "✓ no Services in namespace {typo} (it may not exist: namespaces could not be listed)"
        ),
        "{out}"
    );
    let out =
        s.cp.run_with_kubeconfig(bin, &["-n", s.name()], &blind_config)
            .await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        first_line(&out).starts_with(&format!("✗ Service {}/checkout: ", s.name())),
        "{out}"
    );
}

#[tokio::test]
async fn missing_permissions_are_forbidden() {
    let s = scenario("forbidden").await;
    let nobody = s.cp.kubeconfig_for("svc-check-nobody", &[]);
    let bin = Path::new(env!("CARGO_BIN_EXE_kubectl-svc_check"));
    let out =
        s.cp.run_with_kubeconfig(bin, &["-n", s.name()], &nobody)
            .await;
    assert_eq!(out.code, Some(FORBIDDEN), "{out}");
    assert!(
        out.stderr.contains(&format!(
            "forbidden: User \"svc-check-nobody\" cannot list services in namespace \"{}\"",
            s.name()
        )),
        "{out}"
    );
}

#[tokio::test]
async fn a_viewer_gets_an_answer_and_what_was_not_checked() {
    let s = scenario("viewer").await;
    s.apply(&service("ghost", "{app: ghost}", "8080")).await;
    let bin = Path::new(env!("CARGO_BIN_EXE_kubectl-svc_check"));
    let out =
        s.cp.run_with_kubeconfig(bin, &["ghost", "-n", s.name()], s.cp.readonly_kubeconfig())
            .await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stdout.contains("matches no pod"), "{out}");
    assert!(
        out.stdout
            .contains("Not checked (the answer may be incomplete):"),
        "{out}"
    );
    assert!(out.stdout.contains("- nodes: forbidden"), "{out}");
}

#[tokio::test]
async fn impossible_requests_are_usage_errors() {
    let s = scenario("usage").await;
    let out = s.check_raw(&["web", "-A"]).await;
    assert_eq!(out.code, Some(USAGE), "{out}");
    assert!(
        out.stderr.contains("a Service name needs one namespace"),
        "{out}"
    );
    let out = s.check(&["deploy/web"]).await;
    assert_eq!(out.code, Some(USAGE), "{out}");
    let out = s.check(&["--from", "client"]).await;
    assert_eq!(out.code, Some(NOT_FOUND), "{out}");
    assert!(
        out.stderr.contains(&format!(
            "pod \"client\" not found in namespace \"{}\"",
            s.name()
        )),
        "{out}"
    );
}

#[tokio::test]
async fn unreadable_snapshots_are_bad_input() {
    let s = scenario("bad-snapshot").await;
    let dir = s.cp.work_dir().join(s.name());
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir: {e}"));
    let garbage = dir.join("garbage.yaml");
    std::fs::write(&garbage, "items: [unclosed\n  - {").unwrap_or_else(|e| panic!("write: {e}"));
    let pods_only = dir.join("pods.json");
    std::fs::write(
        &pods_only,
        r#"{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"}}]}"#,
    )
    .unwrap_or_else(|e| panic!("write: {e}"));
    let missing = dir.join("no-such-file.json");
    let cases = [
        (&missing, "cannot load snapshot"),
        (&garbage, "cannot load snapshot"),
        (&pods_only, "it holds no Services"),
    ];
    for (path, message) in cases {
        let path = path.display().to_string();
        let out = s.check_raw(&["web", "--snapshot", &path]).await;
        assert_eq!(out.code, Some(BAD_INPUT), "{out}");
        assert!(out.stderr.contains(message), "{out}");
        assert!(out.stderr.contains(&path), "{out}");
    }
}

#[tokio::test]
async fn unreadable_pods_leave_the_cause_unknown() {
    let s = scenario("no-pod-read").await;
    s.apply(&service("ghost", "{app: ghost}", "8080")).await;
    s.apply(
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: services-only}
rules:
- {apiGroups: [""], resources: [services], verbs: [get, list]}
- {apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: services-only}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: services-only}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: svc-check-services-only}]
"#,
    )
    .await;
    let user = s.cp.kubeconfig_for("svc-check-services-only", &[]);
    let bin = Path::new(env!("CARGO_BIN_EXE_kubectl-svc_check"));
    let out =
        s.cp.run_with_kubeconfig(bin, &["ghost", "-n", s.name()], &user)
            .await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        first_line(&out).ends_with("port 80/TCP has no ready endpoint"),
        "{out}"
    );
    assert_culprit(&out, "endpoints", "no-ready-endpoints");
    assert!(
        out.stdout.contains(&format!(
            "Its pods could not be read (namespace {}), so why is not known.",
            s.name()
        )),
        "{out}"
    );
    assert!(out.stdout.contains("targetPort 8080 ?"), "{out}");
    assert!(out.stdout.contains("- pods: forbidden"), "{out}");
}
