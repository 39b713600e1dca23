//! Services without a selector: someone else must write their EndpointSlices, and they are
//! checked: present, not empty, port names matching, endpoints ready.

use crate::cluster::{assert_culprit, first_line, scenario};

const SERVICE: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: legacy-db}\nspec:\n  ports: [{name: sql, port: 5432}]\n";

/// The hand-written slice of legacy-db, its port named `port_name`, with `endpoints` (YAML).
fn slice(port_name: &str, endpoints: &str) -> String {
    format!(
        r#"
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: legacy-db-1
  labels:
    kubernetes.io/service-name: legacy-db
    endpointslice.kubernetes.io/managed-by: svc-check-e2e
addressType: IPv4
ports: [{{name: {port_name}, port: 5432, protocol: TCP}}]
endpoints: {endpoints}
"#
    )
}

const READY: &str = r#"[{addresses: ["192.0.2.10"], conditions: {ready: true}}]"#;
const NOT_READY: &str = r#"[{addresses: ["192.0.2.10"], conditions: {ready: false}}]"#;

#[tokio::test]
async fn manual_endpoints_missing_empty_misnamed_unready_and_right() {
    let s = scenario("manual").await;
    s.apply(SERVICE).await;
    let out = s.check(&["legacy-db"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        first_line(&out)
            .ends_with("it has no selector and no EndpointSlice: nothing to send traffic to"),
        "{out}"
    );
    assert_culprit(&out, "endpoints", "no-selector-no-endpoints");

    s.apply(&slice("sql", "[]")).await;
    let out = s.check(&["legacy-db"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        first_line(&out).ends_with("it has no selector and its 1 EndpointSlice list no address"),
        "{out}"
    );

    s.apply(&slice("postgres", READY)).await;
    let out = s.check(&["legacy-db"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        first_line(&out).ends_with(
            "port sql 5432/TCP: no EndpointSlice port is named \"sql\" with protocol TCP"
        ),
        "{out}"
    );
    assert_culprit(&out, "endpoints", "manual-endpoints-port-mismatch");
    assert!(
        out.stdout
            .contains("EndpointSlice ports: \"postgres\" 5432/TCP"),
        "{out}"
    );

    s.apply(&slice("sql", NOT_READY)).await;
    let out = s.check(&["legacy-db"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        first_line(&out)
            .ends_with("port sql 5432/TCP: every manually written endpoint is marked not ready"),
        "{out}"
    );
    assert_culprit(&out, "ready pod", "no-ready-backends");
    assert!(out.stdout.contains("endpoints: 192.0.2.10"), "{out}");

    s.apply(&slice("sql", READY)).await;
    let out = s.check(&["legacy-db"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        first_line(&out).ends_with("traffic reaches 1 ready backend"),
        "{out}"
    );
}
