//! The shared control plane of a test binary and its accessors (start-up is in `startup.rs`).

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use futures::FutureExt as _;
use tokio::sync::OnceCell;

use crate::binaries::Binaries;
use crate::components::Layout;
use crate::pki::Pki;
use crate::process::Component;

static SHARED: OnceCell<ControlPlane> = OnceCell::const_new();
static START_FAILURE: OnceLock<String> = OnceLock::new();

/// A running local control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler
/// and kwok, all real, on free 127.0.0.1 ports. Get it with [`ControlPlane::shared`].
pub struct ControlPlane {
    pub(crate) layout: Layout,
    pub(crate) pki: Pki,
    pub(crate) binaries: &'static Binaries,
    pub(crate) user_seq: AtomicU64,
    pub(crate) server_url: String,
    pub(crate) readonly_kubeconfig: PathBuf,
    pub(crate) admin_config: kube::Config,
    pub(crate) components: Vec<Component>,
    pub(crate) start_duration: Duration,
}

impl ControlPlane {
    /// The control plane of this test binary, started on first use (about ten seconds; building
    /// the binaries first if `build.sh` has not yet). Every later call, from any test or runtime,
    /// returns the same one. If the start failed, every call panics with the same reason.
    pub async fn shared() -> &'static ControlPlane {
        if let Some(reason) = START_FAILURE.get() {
            panic!("the control plane failed to start earlier: {reason}");
        }
        SHARED
            .get_or_init(|| async {
                // A test that waited while another one's start failed must not start again.
                if let Some(reason) = START_FAILURE.get() {
                    panic!("the control plane failed to start earlier: {reason}");
                }
                match AssertUnwindSafe(ControlPlane::start()).catch_unwind().await {
                    Ok(cp) => cp,
                    Err(panic) => {
                        let reason = panic_text(&*panic);
                        let _ = START_FAILURE.set(reason.clone());
                        panic!("the control plane failed to start: {reason}");
                    }
                }
            })
            .await
    }

    /// The control plane if it was already started in this process.
    pub(crate) fn if_started() -> Option<&'static ControlPlane> {
        SHARED.get()
    }

    /// `https://127.0.0.1:<port>` of the apiserver.
    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    /// Kubeconfig of a cluster admin (client certificate in group `system:masters`).
    pub fn admin_kubeconfig(&self) -> &Path {
        &self.layout.admin_kubeconfig
    }

    /// Kubeconfig of user `viewer`, bound to the built-in ClusterRole `view` (read-only, no
    /// Secrets, no cluster-scoped objects such as Nodes).
    pub fn readonly_kubeconfig(&self) -> &Path {
        &self.readonly_kubeconfig
    }

    /// A fresh admin client. Each call builds a new one, so it is safe to use from any test's
    /// tokio runtime (a client's connection pool is tied to the runtime that first used it).
    pub fn client(&self) -> kube::Client {
        kube::Client::try_from(self.admin_config.clone())
            .unwrap_or_else(|e| panic!("cannot build the admin client: {e}"))
    }

    /// The directory holding kubectl, krew, kwok and the control-plane binaries.
    pub fn bin_dir(&self) -> PathBuf {
        self.binaries.bin_dir()
    }

    /// The located binaries (`bin_dir`, `bin(name)`, kwok stages).
    pub fn binaries(&self) -> &'static Binaries {
        self.binaries
    }

    /// The work dir: kubeconfigs, PKI, etcd data and one `<component>.log` per component.
    pub fn work_dir(&self) -> &Path {
        &self.layout.dir
    }

    /// How long the start took (excluding locating or building the binaries).
    pub fn start_duration(&self) -> Duration {
        self.start_duration
    }

    /// `(name, pid)` of every component process, in start order.
    pub fn component_pids(&self) -> Vec<(String, u32)> {
        self.components
            .iter()
            .map(|c| (c.name().to_string(), c.pid()))
            .collect()
    }

    /// Panics with the tail of its log if any component has exited.
    pub fn assert_running(&self) {
        for component in &self.components {
            component.assert_running();
        }
    }

    /// Kills component `name` (`etcd`, `kube-apiserver`, `kube-controller-manager`,
    /// `kube-scheduler` or `kwok`), e.g. to test "no active scheduler" (its Lease
    /// `kube-system/kube-scheduler` then expires after 10s). It stays dead for the rest of the
    /// test binary, so such a test needs a test binary of its own.
    pub fn kill_component(&self, name: &str) {
        let component = self
            .components
            .iter()
            .find(|c| c.name() == name)
            .unwrap_or_else(|| panic!("no component named {name}"));
        component.kill();
    }

    /// A report of exited components, if any (used in timeout messages).
    pub(crate) fn dead_components(&self) -> Option<String> {
        let dead: Vec<String> = self
            .components
            .iter()
            .filter_map(|c| c.exited().map(|status| c.death_report(status)))
            .collect();
        (!dead.is_empty()).then(|| dead.join("\n\n"))
    }
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".to_string())
}
