//! Services without a selector: someone else must write their EndpointSlices.

use crate::cluster::{first_line, scenario};

const SERVICE: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: legacy-db}\nspec:\n  ports: [{name: sql, port: 5432}]\n";

fn slice(port_name: &str) -> String {
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
endpoints:
- addresses: ["192.0.2.10"]
  conditions: {{ready: true}}
"#
    )
}

#[tokio::test]
async fn manual_endpoints_missing_misnamed_and_right() {
    let s = scenario("manual").await;
    s.apply(SERVICE).await;
    let out = s.check(&["legacy-db"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        first_line(&out)
            .ends_with("it has no selector and no EndpointSlice: nothing to send traffic to"),
        "{out}"
    );

    s.apply(&slice("postgres")).await;
    let out = s.check(&["legacy-db"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        first_line(&out).ends_with(
            "port sql 5432/TCP: no EndpointSlice port is named \"sql\" with protocol TCP"
        ),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("EndpointSlice ports: \"postgres\" 5432/TCP"),
        "{out}"
    );

    s.apply(&slice("sql")).await;
    let out = s.check(&["legacy-db"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        first_line(&out).ends_with("traffic reaches 1 ready backend"),
        "{out}"
    );
}
