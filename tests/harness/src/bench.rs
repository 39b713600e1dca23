//! Timing whole commands for live benchmarks: the wall time and peak memory of one run against
//! the control plane (peak RSS from GNU time, `/usr/bin/time`: Debian's `time` package).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::ControlPlane;

/// One run of a command.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub wall: Duration,
    pub peak_rss_kib: u64,
}

impl ControlPlane {
    /// Runs `program args` as admin (kubectl's cache in the work dir), its output discarded, and
    /// measures it; panics unless it exits with one of `expected_codes`.
    pub fn measure(&self, program: &Path, args: &[&str], expected_codes: &[i32]) -> Sample {
        let report = self.work_dir().join("bench-time.txt");
        let started = Instant::now();
        let out = Command::new("/usr/bin/time")
            .args(["-f", "%M", "-o"])
            .arg(&report)
            .arg(program)
            .args(args)
            .env("KUBECONFIG", self.admin_kubeconfig())
            .env("KUBECACHEDIR", self.work_dir().join("kubectl-cache"))
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .unwrap_or_else(|e| panic!("cannot run /usr/bin/time (apt-get install time): {e}"));
        let wall = started.elapsed();
        let code = out.status.code().unwrap_or(-1);
        assert!(
            expected_codes.contains(&code),
            "{} {args:?} exited with {code}: {}",
            program.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let written = std::fs::read_to_string(&report)
            .unwrap_or_else(|e| panic!("no report from /usr/bin/time: {e}"));
        let peak_rss_kib = written
            .lines()
            .last()
            .and_then(|line| line.trim().parse().ok())
            .unwrap_or_else(|| panic!("no peak RSS in: {written}"));
        Sample { wall, peak_rss_kib }
    }
}

/// The median of `samples` (the upper one of an even count).
pub fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

/// The 1, 5 and 15 minute load averages, as `/proc/loadavg` has them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_string())
}

/// A size or count from the environment variable `name`, else `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
