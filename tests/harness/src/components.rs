//! Command lines of the control-plane components.

use std::path::{Path, PathBuf};

/// Service ClusterIP range (the apiserver's `--service-cluster-ip-range`).
pub const SERVICE_CIDR: &str = "10.96.0.0/16";
/// Pod IP range kwok hands out (`--cidr`); does not overlap `SERVICE_CIDR`.
pub const POD_CIDR: &str = "10.244.0.0/16";
/// The scheduler's leader-election lease (`kube-system/kube-scheduler`) duration.
pub const SCHEDULER_LEASE_SECONDS: u32 = 10;
/// How long a node may miss heartbeats before the node-lifecycle controller marks it Unknown.
pub const NODE_MONITOR_GRACE_SECONDS: u32 = 16;
/// kwok's node lease duration; kwok renews leases at a fraction of it.
pub const NODE_LEASE_SECONDS: u32 = 10;

/// Files and ports shared by the component command lines.
#[derive(Debug, Clone)]
pub struct Layout {
    pub dir: PathBuf,
    pub etcd_client_port: u16,
    pub etcd_peer_port: u16,
    pub apiserver_port: u16,
    pub controller_manager_port: u16,
    pub scheduler_port: u16,
    pub kwok_port: u16,
    pub admin_kubeconfig: PathBuf,
    /// kwok's own identity, so the stopped-kubelet policy can single out its writes.
    pub kwok_kubeconfig: PathBuf,
}

impl Layout {
    /// A file in the work dir.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn path(&self, name: &str) -> String {
        self.file(name).display().to_string()
    }
}

/// etcd, one member, no fsync (test data only).
pub fn etcd(l: &Layout) -> Vec<String> {
    let client = format!("http://127.0.0.1:{}", l.etcd_client_port);
    let peer = format!("http://127.0.0.1:{}", l.etcd_peer_port);
    vec![
        "--name=harness".into(),
        format!("--data-dir={}", l.path("etcd-data")),
        format!("--listen-client-urls={client}"),
        format!("--advertise-client-urls={client}"),
        format!("--listen-peer-urls={peer}"),
        format!("--initial-advertise-peer-urls={peer}"),
        format!("--initial-cluster=harness={peer}"),
        "--unsafe-no-fsync=true".into(),
        "--auto-compaction-retention=1".into(),
        "--quota-backend-bytes=8589934592".into(),
        "--log-level=warn".into(),
    ]
}

/// kube-apiserver serving on 127.0.0.1 with client-certificate authentication and Node,RBAC.
pub fn apiserver(l: &Layout) -> Vec<String> {
    vec![
        format!("--etcd-servers=http://127.0.0.1:{}", l.etcd_client_port),
        "--bind-address=127.0.0.1".into(),
        "--advertise-address=127.0.0.1".into(),
        format!("--secure-port={}", l.apiserver_port),
        format!("--cert-dir={}", l.path("apiserver-certs")),
        format!("--tls-cert-file={}", l.path("apiserver.crt")),
        format!("--tls-private-key-file={}", l.path("apiserver.key")),
        format!("--client-ca-file={}", l.path("ca.crt")),
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local".into(),
        format!("--service-account-key-file={}", l.path("sa.pub")),
        format!("--service-account-signing-key-file={}", l.path("sa.key")),
        format!("--service-cluster-ip-range={SERVICE_CIDR}"),
        "--authorization-mode=Node,RBAC".into(),
        "--allow-privileged=true".into(),
        "--endpoint-reconciler-type=none".into(),
        "--profiling=false".into(),
    ]
}

/// kube-controller-manager with all default controllers and a fast node lifecycle.
pub fn controller_manager(l: &Layout) -> Vec<String> {
    let kubeconfig = l.admin_kubeconfig.display().to_string();
    vec![
        format!("--kubeconfig={kubeconfig}"),
        format!("--authentication-kubeconfig={kubeconfig}"),
        format!("--authorization-kubeconfig={kubeconfig}"),
        "--bind-address=127.0.0.1".into(),
        format!("--secure-port={}", l.controller_manager_port),
        format!("--cert-dir={}", l.path("controller-manager-certs")),
        "--leader-elect=false".into(),
        "--controllers=*".into(),
        format!("--root-ca-file={}", l.path("ca.crt")),
        format!("--service-account-private-key-file={}", l.path("sa.key")),
        format!("--cluster-signing-cert-file={}", l.path("ca.crt")),
        format!("--cluster-signing-key-file={}", l.path("ca.key")),
        format!("--service-cluster-ip-range={SERVICE_CIDR}"),
        "--node-monitor-period=1s".into(),
        format!("--node-monitor-grace-period={NODE_MONITOR_GRACE_SECONDS}s"),
        "--kube-api-qps=1000".into(),
        "--kube-api-burst=2000".into(),
        "--profiling=false".into(),
    ]
}

/// kube-scheduler with leader election on short leases, so the `kube-system/kube-scheduler` Lease
/// shows whether a scheduler is active.
pub fn scheduler(l: &Layout) -> Vec<String> {
    let kubeconfig = l.admin_kubeconfig.display().to_string();
    vec![
        format!("--kubeconfig={kubeconfig}"),
        format!("--authentication-kubeconfig={kubeconfig}"),
        format!("--authorization-kubeconfig={kubeconfig}"),
        "--bind-address=127.0.0.1".into(),
        format!("--secure-port={}", l.scheduler_port),
        format!("--cert-dir={}", l.path("scheduler-certs")),
        "--leader-elect=true".into(),
        format!("--leader-elect-lease-duration={SCHEDULER_LEASE_SECONDS}s"),
        format!(
            "--leader-elect-renew-deadline={}s",
            SCHEDULER_LEASE_SECONDS * 4 / 5
        ),
        "--leader-elect-retry-period=1s".into(),
        "--kube-api-qps=1000".into(),
        "--kube-api-burst=2000".into(),
        "--profiling=false".into(),
    ]
}

/// kwok managing only nodes annotated `kwok.x-k8s.io/node=fake`, with the default stages.
pub fn kwok(l: &Layout, stages: &Path) -> Vec<String> {
    vec![
        format!("--kubeconfig={}", l.kwok_kubeconfig.display()),
        format!("--config={}", stages.display()),
        "--manage-all-nodes=false".into(),
        "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake".into(),
        format!("--cidr={POD_CIDR}"),
        "--node-ip=10.244.0.1".into(),
        format!("--node-lease-duration-seconds={NODE_LEASE_SECONDS}"),
        format!("--server-address=127.0.0.1:{}", l.kwok_port),
    ]
}
