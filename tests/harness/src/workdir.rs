//! The control plane's scratch directory under the system temp dir, and removal of the ones that
//! earlier (now dead) test processes left behind.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

const PREFIX: &str = "kube-runbooks-harness-";

/// Creates `<tmp>/kube-runbooks-harness-<pid>-<nanos>` after removing stale dirs of dead pids.
pub fn create() -> PathBuf {
    let base = std::env::temp_dir();
    remove_stale(&base);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = base.join(format!("{PREFIX}{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create work dir {}: {e}", dir.display()));
    dir
}

/// Removes work dirs whose owning pid no longer runs. Errors are ignored: another process may be
/// removing the same dir.
fn remove_stale(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
