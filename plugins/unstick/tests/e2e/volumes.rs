//! Storage for the tests: a Retain hostPath volume statically bound to a ReadWriteOnce claim.

use std::time::Duration;

use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use kube::Api;
use kube_runbooks_harness::{ControlPlane, TestNamespace, poll_until};

/// Creates PersistentVolume `<namespace>-pv` (Retain) and claim `data` bound to it; waits until
/// the PV controller binds them and returns the volume's name.
pub async fn bound_claim(cp: &ControlPlane, ns: &TestNamespace) -> String {
    let pv = format!("{}-pv", ns.name());
    cp.apply_yaml(
        ns.name(),
        &format!(
            "apiVersion: v1\nkind: PersistentVolume\nmetadata: {{name: {pv}}}\n\
             spec: {{capacity: {{storage: 1Gi}}, accessModes: [ReadWriteOnce], persistentVolumeReclaimPolicy: Retain, \
             storageClassName: '', hostPath: {{path: /tmp/{pv}}}}}\n"
        ),
    )
    .await;
    ns.apply_yaml(&format!(
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: data}}\n\
         spec: {{accessModes: [ReadWriteOnce], storageClassName: '', volumeName: {pv}, resources: {{requests: {{storage: 1Gi}}}}}}\n"
    ))
    .await;
    let claims: Api<PersistentVolumeClaim> = ns.api();
    poll_until(Duration::from_secs(60), "claim data bound", || async {
        let claim = claims.get("data").await.map_err(|e| e.to_string())?;
        let phase = claim.status.and_then(|s| s.phase).unwrap_or_default();
        (phase == "Bound").then_some(()).ok_or(phase)
    })
    .await;
    pv
}
