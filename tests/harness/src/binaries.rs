//! Locates the control-plane binaries built by `tests/controlplane/build.sh`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Environment variable naming a ready directory of binaries (skips running `build.sh`).
pub const CP_DIR_ENV: &str = "KUBE_RUNBOOKS_CP_DIR";

/// The directory produced by `build.sh`: `bin/<name>` and `stages/default.yaml`.
#[derive(Debug, Clone)]
pub struct Binaries {
    dir: PathBuf,
}

impl Binaries {
    /// Finds the binaries once per process: `$KUBE_RUNBOOKS_CP_DIR` if set, else the last stdout
    /// line of `tests/controlplane/build.sh` (which builds them on first use, cached afterwards).
    /// Blocks; panics with the script's output if it fails.
    pub fn locate() -> &'static Binaries {
        static FOUND: OnceLock<Binaries> = OnceLock::new();
        FOUND.get_or_init(|| {
            let dir = match std::env::var_os(CP_DIR_ENV) {
                Some(dir) if !dir.is_empty() => PathBuf::from(dir),
                _ => run_build_script(),
            };
            let found = Binaries { dir };
            for name in [
                "etcd",
                "kube-apiserver",
                "kube-controller-manager",
                "kube-scheduler",
                "kwok",
            ] {
                let bin = found.bin(name);
                assert!(
                    bin.is_file(),
                    "control-plane binary {} is missing",
                    bin.display()
                );
            }
            found
        })
    }

    /// The directory holding `bin/` and `stages/`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `DIR/bin`, holding etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl,
    /// kwok and krew.
    pub fn bin_dir(&self) -> PathBuf {
        self.dir.join("bin")
    }

    /// The path of one binary, e.g. `bin("kubectl")`.
    pub fn bin(&self, name: &str) -> PathBuf {
        self.bin_dir().join(name)
    }

    /// kwok's default stages (node-initialize, heartbeat-with-lease, pod ready/complete/delete).
    pub fn stages(&self) -> PathBuf {
        self.dir.join("stages").join("default.yaml")
    }
}

fn run_build_script() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../controlplane/build.sh");
    let output = Command::new("bash")
        .arg(&script)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{} failed ({}):\n{stdout}\n{stderr}",
        script.display(),
        output.status
    );
    let last = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_else(|| panic!("{} printed no directory:\n{stderr}", script.display()));
    PathBuf::from(last.trim())
}
