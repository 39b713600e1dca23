//! A claim held by `kubernetes.io/pvc-protection` because a completed Job pod still lists it:
//! the diagnosis names the pod (Succeeded, Job) and warns that the retained volume keeps its
//! data (003 6.8.3); the fix deletes that pod only, and the claim goes. Job and PV stay.

use std::time::Duration;

use k8s_openapi::api::{
    batch::v1::Job,
    core::v1::{PersistentVolume, PersistentVolumeClaim, Pod},
};
use kube::{
    Api,
    api::{DeleteParams, ListParams},
};
use kube_runbooks_harness::{ControlPlane, FakeNode, poll_until};

use crate::{
    common::{backup_dir, backups, codes, finding, fix_everything, report, unstick},
    volumes::bound_claim,
};

#[tokio::test]
async fn claim_used_by_a_completed_pod() {
    let cp = ControlPlane::shared().await;
    let ns = cp.namespace("unstick-pvc").await;
    let node = format!("{}-node", ns.name());
    cp.add_node(FakeNode::new(&node).label("unstick-e2e", &node))
        .await;
    let pv = bound_claim(cp, &ns).await;
    let claims: Api<PersistentVolumeClaim> = ns.api();
    ns.apply_yaml(&format!(
        r#"
apiVersion: batch/v1
kind: Job
metadata: {{name: backup}}
spec:
  template:
    spec:
      restartPolicy: Never
      nodeSelector: {{unstick-e2e: {node}}}
      containers: [{{name: dump, image: registry.example/dump:1}}]
      volumes: [{{name: data, persistentVolumeClaim: {{claimName: data}}}}]
"#
    ))
    .await;
    let pods: Api<Pod> = ns.api();
    let pod_name = poll_until(Duration::from_secs(60), "the job pod Succeeded", || async {
        let list = pods
            .list(&ListParams::default().labels("job-name=backup"))
            .await
            .map_err(|e| e.to_string())?;
        list.items
            .into_iter()
            .find(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Succeeded"))
            .and_then(|p| p.metadata.name)
            .ok_or_else(|| "not yet".to_string())
    })
    .await;
    claims
        .delete("data", &DeleteParams::default())
        .await
        .expect("delete claim");

    let text = unstick(cp, &["pvc/data", "-n", ns.name()]).await;
    eprintln!("--- diagnosis:\n{}", text.stdout);
    assert_eq!(text.code, Some(1), "{text}");
    let out = unstick(cp, &["pvc/data", "-n", ns.name(), "-o", "json"]).await;
    let report = report(&out);
    let in_use = finding(&report, "pvc-in-use");
    assert_eq!(
        in_use["title"]
            .as_str()
            .unwrap_or_default()
            .split_once(": ")
            .map(|(_, t)| t),
        Some(format!("still used by pod {pod_name} (Succeeded, Job backup)").as_str()),
        "{in_use:#}"
    );
    assert!(
        codes(&report).contains(&"PersistentVolumeClaim/data pvc-data-retained".to_string()),
        "{report:#}"
    );

    let saved = backup_dir();
    let fixed = fix_everything(cp, None, "pvc/data", &["-n", ns.name()], saved.path()).await;
    eprintln!("--- fix:\n{}", fixed.stderr);
    assert_eq!(fixed.code, Some(0), "{fixed}");
    assert!(
        fixed
            .stderr
            .contains(&format!("Delete Pod {}/{pod_name}", ns.name())),
        "{fixed}"
    );
    assert!(
        claims.get_opt("data").await.expect("read claim").is_none(),
        "the claim should be gone"
    );
    let jobs: Api<Job> = ns.api();
    assert!(
        jobs.get_opt("backup").await.expect("read job").is_some(),
        "the Job is untouched"
    );
    let volumes: Api<PersistentVolume> = Api::all(cp.client());
    assert!(
        volumes.get_opt(&pv).await.expect("read pv").is_some(),
        "the retained PV stays"
    );
    let files = backups(saved.path());
    assert_eq!(files.len(), 1, "only the pod was changed: {files:?}");
    assert!(
        files[0]
            .to_string_lossy()
            .contains(&format!("unstick-backup-pod-{}-{pod_name}", ns.name()))
    );
}
