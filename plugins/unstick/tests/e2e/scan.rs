//! `kubectl unstick -A` on a cluster where three kinds are stuck in one namespace: a ConfigMap and
//! a custom resource held by finalizers nobody removes, and a claim a running pod still uses.
//! The scan is a table, one row per object (NAMESPACE, KIND, NAME, TERMINATING, CAUSE), the
//! longest terminating first; other tests' rows may sit between ours.

use std::time::Duration;

use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use kube::{
    Api,
    api::{DeleteParams, DynamicObject},
};
use kube_runbooks_harness::{ControlPlane, FakeNode, poll_until};

use crate::{
    common::{discovery_lock, gizmo_type, terminating_config_map, unstick},
    volumes::bound_claim,
};

/// Long enough for deletion timestamps (whole seconds) to order the rows.
const BETWEEN_DELETIONS: Duration = Duration::from_secs(2);

#[tokio::test]
async fn scanning_every_namespace_lists_each_stuck_object_longest_first() {
    let cp = ControlPlane::shared().await;
    let _shared = discovery_lock().read().await;
    let ns = cp.namespace("unstick-scan").await;
    let group = format!("{}.scan.test", ns.name());
    let finalizer = format!("{group}/hold");
    let node = format!("{}-node", ns.name());
    cp.add_node(FakeNode::new(&node).label("unstick-e2e", &node))
        .await;
    let resource = gizmo_type(cp, &ns, &group).await;
    ns.apply_yaml(&format!(
        "apiVersion: {group}/v1\nkind: Gizmo\nmetadata: {{name: g1, finalizers: [{finalizer}]}}\n"
    ))
    .await;
    bound_claim(cp, &ns).await;
    ns.apply_yaml(&format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: user}}\n\
         spec: {{nodeName: {node}, containers: [{{name: app, image: registry.example/app:1}}], \
         volumes: [{{name: data, persistentVolumeClaim: {{claimName: data}}}}]}}\n"
    ))
    .await;
    ns.wait_pod_phase("user", "Running").await;

    terminating_config_map(&ns, "held", &[&finalizer]).await;
    tokio::time::sleep(BETWEEN_DELETIONS).await;
    let gizmos: Api<DynamicObject> = Api::namespaced_with(ns.client(), ns.name(), &resource);
    gizmos
        .delete("g1", &DeleteParams::default())
        .await
        .expect("delete g1");
    tokio::time::sleep(BETWEEN_DELETIONS).await;
    let claims: Api<PersistentVolumeClaim> = ns.api();
    claims
        .delete("data", &DeleteParams::default())
        .await
        .expect("delete claim");
    poll_until(
        Duration::from_secs(30),
        "claim data terminating",
        || async {
            match claims.get("data").await {
                Ok(c) if c.metadata.deletion_timestamp.is_some() => Ok(()),
                other => Err(format!(
                    "{:?}",
                    other.map(|c| c.metadata.deletion_timestamp)
                )),
            }
        },
    )
    .await;

    let scan = unstick(cp, &["-A"]).await;
    eprintln!("--- scan:\n{}", scan.stdout);
    assert_eq!(scan.code, Some(1), "{scan}");
    let lines: Vec<&str> = scan.stdout.lines().collect();
    let header = lines[0];
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        vec!["NAMESPACE", "KIND", "NAME", "TERMINATING", "CAUSE"],
        "{scan}"
    );
    let cause_at = header.find("CAUSE").expect("a CAUSE column");
    let ours: Vec<(Vec<&str>, &str)> = lines[1..]
        .iter()
        .filter(|line| line.starts_with(&format!("{} ", ns.name())))
        .map(|line| {
            let columns: Vec<&str> = line[..cause_at].split_whitespace().collect();
            (columns, &line[cause_at..])
        })
        .collect();
    let rows: Vec<(&str, &str)> = ours.iter().map(|(c, _)| (c[1], c[2])).collect();
    assert_eq!(
        rows,
        vec![
            ("ConfigMap", "held"),
            ("Gizmo", "g1"),
            ("PersistentVolumeClaim", "data")
        ],
        "the longest terminating first:\n{scan}"
    );
    let seconds: Vec<u64> = ours
        .iter()
        .map(|(c, _)| {
            c[3].strip_suffix('s')
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("TERMINATING {:?} is not in seconds:\n{scan}", c[3]))
        })
        .collect();
    assert!(
        seconds.windows(2).all(|pair| pair[0] > pair[1]),
        "{seconds:?}"
    );
    assert!(
        ours[0]
            .1
            .starts_with(&format!("finalizer {finalizer}: no controller for {group}")),
        "{scan}"
    );
    assert!(
        ours[1]
            .1
            .starts_with(&format!("finalizer {finalizer}: no controller for {group}")),
        "{scan}"
    );
    assert!(ours[2].1.starts_with("still used by pod user"), "{scan}");
    assert!(
        scan.stdout
            .contains("For the evidence and the way out of one: kubectl unstick TYPE/NAME"),
        "{scan}"
    );
}
