//! Foreground deletion held by a dependent: the owner waits on `foregroundDeletion` for a child
//! that is itself held by a finalizer nobody removes. The diagnosis follows the chain; the fix
//! removes the child's finalizer (the deeper cause), and the garbage collector finishes the owner.
//! A snapshot of the same objects gives the diagnosis, and with --fix only the plan.

use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::{
    Api,
    api::{DeleteParams, PropagationPolicy},
};
use kube_runbooks_harness::{ControlPlane, poll_until};

use crate::common::{
    backup_dir, backups, codes, config_map, discovery_lock, fix_everything, report, unstick,
};

#[tokio::test]
async fn foreground_deletion_held_by_a_dependent() {
    let cp = ControlPlane::shared().await;
    let _shared = discovery_lock().read().await;
    let ns = cp.namespace("unstick-fg").await;
    let hold = format!("{}.hold.test/keep", ns.name());
    ns.apply_yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: parent}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: bystander}\n")
        .await;
    let maps: Api<ConfigMap> = ns.api();
    let parent_uid = maps
        .get("parent")
        .await
        .expect("parent")
        .metadata
        .uid
        .unwrap_or_default();
    ns.apply_yaml(&format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: child\n  finalizers: [{hold}]\n  ownerReferences:\n  - \
         {{apiVersion: v1, kind: ConfigMap, name: parent, uid: {parent_uid}, blockOwnerDeletion: true}}\n"
    ))
    .await;
    maps.delete(
        "parent",
        &DeleteParams {
            propagation_policy: Some(PropagationPolicy::Foreground),
            ..Default::default()
        },
    )
    .await
    .expect("delete parent");
    poll_until(
        Duration::from_secs(60),
        "the child deleted by the garbage collector",
        || async {
            match maps.get("child").await {
                Ok(child) if child.metadata.deletion_timestamp.is_some() => Ok(()),
                other => Err(format!(
                    "{:?}",
                    other.map(|c| c.metadata.deletion_timestamp)
                )),
            }
        },
    )
    .await;

    let text = unstick(cp, &["configmap/parent", "-n", ns.name()]).await;
    eprintln!("--- diagnosis:\n{}", text.stdout);
    assert_eq!(text.code, Some(1), "{text}");
    let out = unstick(cp, &["cm/parent", "-n", ns.name(), "-o", "json"]).await;
    let found = codes(&report(&out));
    assert!(
        found.contains(&"ConfigMap/parent foreground-deletion-waiting".to_string()),
        "{found:?}"
    );
    assert!(
        found.contains(&"ConfigMap/child finalizer-no-controller".to_string()),
        "{found:?}"
    );

    let snapshot = tempfile::NamedTempFile::new().expect("temp file");
    let dump = cp
        .kubectl(&["get", "configmaps", "-n", ns.name(), "-o", "yaml"])
        .await;
    assert!(dump.success(), "{dump}");
    std::fs::write(snapshot.path(), &dump.stdout).expect("write snapshot");
    let planned = unstick(
        cp,
        &[
            "cm/parent",
            "-n",
            ns.name(),
            "--snapshot",
            snapshot.path().to_str().unwrap(),
            "--fix",
        ],
    )
    .await;
    assert!(matches!(planned.code, Some(0 | 1)), "{planned}");
    assert!(
        planned
            .stdout
            .contains("foreground deletion waits for 1 dependent(s)"),
        "{planned}"
    );
    assert!(
        planned.stdout.contains("the snapshot has no deployments"),
        "{planned}"
    );
    assert!(
        planned
            .stderr
            .contains("Plan (not carried out: a snapshot cannot be changed)"),
        "{planned}"
    );
    assert!(
        planned.stderr.contains(&format!(
            "Remove finalizer {hold} from ConfigMap {}/child",
            ns.name()
        )),
        "{planned}"
    );
    assert!(
        config_map(&ns, "parent").await.is_some(),
        "a snapshot plan changes nothing"
    );

    let saved = backup_dir();
    let fixed = fix_everything(cp, None, "cm/parent", &["-n", ns.name()], saved.path()).await;
    eprintln!("--- fix:\n{}", fixed.stderr);
    assert_eq!(fixed.code, Some(0), "{fixed}");
    assert!(
        config_map(&ns, "child").await.is_none(),
        "the child should be gone"
    );
    assert!(
        config_map(&ns, "parent").await.is_none(),
        "the parent should be gone"
    );
    assert!(
        config_map(&ns, "bystander").await.is_some(),
        "unrelated objects stay"
    );
    let files = backups(saved.path());
    assert_eq!(files.len(), 1, "only the child was changed: {files:?}");
    assert!(files[0].to_string_lossy().contains("-child-"), "{files:?}");
}
