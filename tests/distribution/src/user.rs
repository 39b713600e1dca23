//! A krew user's environment, isolated from the machine's: its own HOME and KREW_ROOT, and a
//! PATH of krew's bin directory, `kubectl-krew` (krew as a kubectl plugin), the control-plane
//! binaries (kubectl, validate-krew-manifest) and the system directories.

use std::{
    fmt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::mpsc,
    thread,
    time::Duration,
};

use kube_runbooks_harness::Binaries;
use tempfile::TempDir;

/// How long one command may run.
const TIMEOUT: Duration = Duration::from_secs(180);

/// What a finished command printed and how it ended.
#[derive(Debug, Clone)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub code: Option<i32>,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exit code {:?}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// A user who has krew: `kubectl krew ...` works, installed plugins are on PATH.
pub struct KrewUser {
    dir: TempDir,
    path: Vec<PathBuf>,
    env: Vec<(String, String)>,
}

impl KrewUser {
    /// A fresh user with an empty KREW_ROOT.
    pub fn new(binaries: &Binaries) -> KrewUser {
        let dir = tempfile::tempdir().expect("cannot create a temporary directory");
        let shims = dir.path().join("shims");
        for sub in [&shims, &dir.path().join("home")] {
            std::fs::create_dir_all(sub).expect("cannot create the user's directories");
        }
        std::os::unix::fs::symlink(binaries.bin("krew"), shims.join("kubectl-krew"))
            .expect("cannot link kubectl-krew");
        let krew_bin = dir.path().join("krew").join("bin");
        let system = ["/usr/local/bin", "/usr/bin", "/bin"].map(PathBuf::from);
        let path = [vec![krew_bin, shims, binaries.bin_dir()], system.to_vec()].concat();
        KrewUser {
            dir,
            path,
            env: Vec::new(),
        }
    }

    /// KREW_ROOT.
    pub fn krew_root(&self) -> PathBuf {
        self.dir.path().join("krew")
    }

    /// Where krew links the installed plugins (first on PATH).
    pub fn krew_bin(&self) -> PathBuf {
        self.krew_root().join("bin")
    }

    /// A directory of this user's own, for files a step needs.
    pub fn scratch(&self, name: &str) -> PathBuf {
        let dir = self.dir.path().join(name);
        std::fs::create_dir_all(&dir).expect("cannot create a scratch directory");
        dir
    }

    /// Puts `dir` first on PATH.
    pub fn prepend_path(&mut self, dir: &Path) {
        self.path.insert(0, dir.to_path_buf());
    }

    /// Sets an environment variable for every later command (e.g. KUBECONFIG).
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.push((key.into(), value.into()));
    }

    /// Runs `program args...` (looked up on this user's PATH) and waits for it.
    pub fn run(&self, program: &str, args: &[&str]) -> Output {
        let path = std::env::join_paths(&self.path).expect("cannot build PATH");
        let mut command = Command::new(program);
        command
            .args(args)
            .env_clear()
            .env("PATH", &path)
            .env("HOME", self.dir.path().join("home"))
            .env("KREW_ROOT", self.krew_root())
            .env("KREW_NO_UPGRADE_CHECK", "1")
            .env("NO_COLOR", "1")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let shown = format!("{program} {}", args.join(" "));
        run_with_timeout(command, &shown)
    }
}

fn run_with_timeout(mut command: Command, shown: &str) -> Output {
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    let pid = child.id();
    let (done, finished) = mpsc::channel();
    thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match finished.recv_timeout(TIMEOUT) {
        Ok(Ok(output)) => Output {
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            code: output.status.code(),
        },
        Ok(Err(e)) => panic!("waiting for {shown} failed: {e}"),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("{shown} did not finish within {TIMEOUT:?}");
        }
    }
}
