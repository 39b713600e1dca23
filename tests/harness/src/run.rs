//! Runs binaries (plugins, kubectl, krew) against the control plane.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt as _;

use crate::ControlPlane;

/// Default time a command may run before it is killed.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// What a finished command printed and how it ended.
#[derive(Debug, Clone)]
pub struct RunOutput {
    pub stdout: String,
    pub stderr: String,
    /// The exit code; `None` if killed by a signal.
    pub code: Option<i32>,
}

impl RunOutput {
    /// True for exit code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

impl fmt::Display for RunOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exit code {:?}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// A command to run with `KUBECONFIG` (admin by default), `NO_COLOR=1`, `KUBECACHEDIR` in the
/// work dir and the control-plane `bin/` prepended to `PATH` (so kubectl finds plugins put there
/// and plugins find kubectl). Killed after a timeout (60s by default), which panics.
#[derive(Debug, Clone)]
pub struct RunCommand {
    program: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    kubeconfig: PathBuf,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
    extra_path: Vec<PathBuf>,
}

impl RunCommand {
    /// `program args...` against `cp` as admin.
    pub fn new(cp: &ControlPlane, program: &Path, args: &[&str]) -> RunCommand {
        RunCommand {
            program: program.to_path_buf(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: vec![(
                "KUBECACHEDIR".into(),
                cp.work_dir().join("kubectl-cache").display().to_string(),
            )],
            kubeconfig: cp.admin_kubeconfig().to_path_buf(),
            stdin: None,
            timeout: RUN_TIMEOUT,
            extra_path: vec![cp.bin_dir()],
        }
    }

    /// Uses another kubeconfig.
    pub fn kubeconfig(mut self, path: &Path) -> Self {
        self.kubeconfig = path.to_path_buf();
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Prepends a directory to `PATH` (before the control-plane `bin/`).
    pub fn path_prepend(mut self, dir: &Path) -> Self {
        self.extra_path.insert(0, dir.to_path_buf());
        self
    }

    /// Feeds `input` on standard input (otherwise stdin is empty).
    pub fn stdin(mut self, input: &[u8]) -> Self {
        self.stdin = Some(input.to_vec());
        self
    }

    /// Changes the timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs the command to completion.
    pub async fn output(self) -> RunOutput {
        let mut path = self.extra_path.clone();
        if let Some(existing) = std::env::var_os("PATH") {
            path.extend(std::env::split_paths(&existing));
        }
        let path = std::env::join_paths(path)
            .unwrap_or_else(|e| panic!("cannot build PATH for {}: {e}", self.program.display()));
        let mut cmd = std::process::Command::new(&self.program);
        cmd.args(&self.args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("NO_COLOR", "1")
            .env("PATH", path)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        crate::process::die_with_parent(&mut cmd);
        let mut cmd = tokio::process::Command::from(cmd);
        cmd.kill_on_drop(true);
        let shown = format!("{} {}", self.program.display(), self.args.join(" "));
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
        if let (Some(input), Some(mut stdin)) = (self.stdin, child.stdin.take()) {
            stdin
                .write_all(&input)
                .await
                .unwrap_or_else(|e| panic!("cannot write stdin of {shown}: {e}"));
        }
        let output = tokio::time::timeout(self.timeout, child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("{shown} did not finish within {:?}", self.timeout))
            .unwrap_or_else(|e| panic!("waiting for {shown} failed: {e}"));
        RunOutput {
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            code: output.status.code(),
        }
    }
}

impl ControlPlane {
    /// Runs `bin args...` as admin (see [`RunCommand`] for the environment).
    pub async fn run(&self, bin: &Path, args: &[&str]) -> RunOutput {
        RunCommand::new(self, bin, args).output().await
    }

    /// Runs `bin args...` with `kubeconfig`.
    pub async fn run_with_kubeconfig(
        &self,
        bin: &Path,
        args: &[&str],
        kubeconfig: &Path,
    ) -> RunOutput {
        RunCommand::new(self, bin, args)
            .kubeconfig(kubeconfig)
            .output()
            .await
    }

    /// Runs the built kubectl as admin.
    pub async fn kubectl(&self, args: &[&str]) -> RunOutput {
        self.run(&self.binaries.bin("kubectl"), args).await
    }
}
