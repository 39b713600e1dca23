//! The release, built once per test binary the way a developer or the release workflow builds
//! it: `krew/release.sh build` for this machine; then, with the binaries of those archives, an
//! archive in the layout of every platform of krew/targets (this machine builds linux/amd64 only,
//! see krew/README.md), and the manifests rendered from krew/templates twice: with the release's
//! URIs, and with URIs of a server on 127.0.0.1 that serves the archives.

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

use crate::serve::Server;

/// Every plugin of the suite, by its krew name.
pub const PLUGINS: [&str; 4] = ["why-pending", "safe-drain", "unstick", "svc-check"];

/// The executable kubectl runs for `kubectl <plugin>`: `kubectl-why_pending`.
pub fn executable(plugin: &str) -> String {
    format!("kubectl-{}", plugin.replace('-', "_"))
}

/// One row of krew/targets.
#[derive(Debug, Clone)]
pub struct Platform {
    pub target: String,
    pub os: String,
    pub arch: String,
}

/// The archives and manifests of one build of the release.
pub struct Release {
    pub version: String,
    work: PathBuf,
    host_target: String,
    server: Server,
}

impl Release {
    /// Builds the release in `work` (emptied first) on first use; later calls return it.
    /// Blocks; panics with release.sh's output on failure.
    pub fn get(work: &Path) -> &'static Release {
        static RELEASE: OnceLock<Release> = OnceLock::new();
        RELEASE.get_or_init(|| build(work))
    }

    /// The repository's root.
    pub fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    /// The platforms of krew/targets.
    pub fn platforms() -> Vec<Platform> {
        let table = std::fs::read_to_string(Self::root().join("krew/targets"))
            .expect("cannot read krew/targets");
        table
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|line| {
                let columns: Vec<&str> = line.split_whitespace().collect();
                Platform {
                    target: columns[0].into(),
                    os: columns[1].into(),
                    arch: columns[2].into(),
                }
            })
            .collect()
    }

    /// The archive `krew/release.sh build` made for this machine.
    pub fn host_archive(&self, plugin: &str) -> PathBuf {
        self.work
            .join("dist-host")
            .join(archive_name(&self.version, plugin, &self.host_target))
    }

    /// The binaries shipped in this machine's archives.
    pub fn host_binaries(&self) -> PathBuf {
        self.work.join("host-bin")
    }

    /// The archive of `plugin` for `target` (a row of krew/targets).
    pub fn archive(&self, plugin: &str, target: &str) -> PathBuf {
        self.dist()
            .join(archive_name(&self.version, plugin, target))
    }

    /// The archive installed on this machine: the linux/amd64 platform's.
    pub fn linux_amd64_archive(&self, plugin: &str) -> PathBuf {
        let platform = Self::platforms()
            .into_iter()
            .find(|p| p.os == "linux" && p.arch == "amd64")
            .expect("krew/targets has no linux/amd64 row");
        self.archive(plugin, &platform.target)
    }

    /// Every platform's archives.
    pub fn dist(&self) -> PathBuf {
        self.work.join("dist")
    }

    /// The manifest as released: URIs of the GitHub release.
    pub fn released_manifest(&self, plugin: &str) -> PathBuf {
        self.released_index()
            .join("plugins")
            .join(format!("{plugin}.yaml"))
    }

    /// A krew index (`plugins/<name>.yaml`) of the manifests as released.
    pub fn released_index(&self) -> PathBuf {
        self.work.join("index-released")
    }

    /// The manifest whose URIs point at the local server.
    pub fn local_manifest(&self, plugin: &str) -> PathBuf {
        self.local_index()
            .join("plugins")
            .join(format!("{plugin}.yaml"))
    }

    /// A krew index of the manifests pointing at the local server.
    pub fn local_index(&self) -> PathBuf {
        self.work.join("index-local")
    }

    /// The local server's base URL.
    pub fn server_url(&self) -> &str {
        self.server.url()
    }
}

fn archive_name(version: &str, plugin: &str, target: &str) -> String {
    let extension = if target.contains("-windows-") {
        "zip"
    } else {
        "tar.gz"
    };
    format!("kubectl-{plugin}-v{version}-{target}.{extension}")
}

fn build(work: &Path) -> Release {
    let work = work.to_path_buf();
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("cannot create the release work directory");
    let version = release_sh(&["version"], &work).trim().to_string();
    let built = release_sh(&["build"], &work.join("dist-host"));
    let host_target = host_target(&built, &version);
    let release = Release {
        server: Server::start(&work.join("dist")),
        version,
        work,
        host_target,
    };
    let binaries = release.host_binaries();
    let exe_binaries = release.work.join("host-bin-exe");
    for dir in [&binaries, &exe_binaries] {
        std::fs::create_dir_all(dir).expect("cannot create a binaries directory");
    }
    for plugin in PLUGINS {
        run(
            "tar",
            &[
                "-xzf",
                &path(&release.host_archive(plugin)),
                "-C",
                &path(&binaries),
            ],
        );
        let bin = executable(plugin);
        std::fs::copy(binaries.join(&bin), exe_binaries.join(format!("{bin}.exe")))
            .expect("cannot copy a binary");
    }
    let dist = release.dist();
    for platform in Release::platforms() {
        let from = if platform.os == "windows" {
            &exe_binaries
        } else {
            &binaries
        };
        release_sh(&["package", &platform.target, &path(from)], &dist);
    }
    release_sh(&["manifests", "", &path(&release.released_index())], &dist);
    release_sh(
        &[
            "manifests",
            release.server_url(),
            &path(&release.local_index()),
        ],
        &dist,
    );
    release
}

/// The target in the name of the first archive `release.sh build` printed.
fn host_target(printed: &str, version: &str) -> String {
    let first = printed
        .lines()
        .find(|l| l.ends_with(".tar.gz"))
        .unwrap_or_else(|| panic!("release.sh build printed no archive:\n{printed}"));
    let name = Path::new(first)
        .file_name()
        .unwrap_or_default()
        .to_string_lossy();
    let (_, rest) = name
        .split_once(&format!("-v{version}-"))
        .unwrap_or_else(|| panic!("unexpected archive name {name}"));
    rest.trim_end_matches(".tar.gz").to_string()
}

/// Runs `krew/release.sh args...` with DIST_DIR=`dist`; returns its stdout.
fn release_sh(args: &[&str], dist: &Path) -> String {
    let script = Release::root().join("krew/release.sh");
    let output = Command::new("bash")
        .arg(&script)
        .args(args)
        .env("DIST_DIR", dist)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "release.sh {} failed ({}):\n{stdout}\n{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn run(program: &str, args: &[&str]) {
    let status = Command::new(program)
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        status.success(),
        "{program} {} failed: {status}",
        args.join(" ")
    );
}

fn path(p: &Path) -> String {
    p.display().to_string()
}
