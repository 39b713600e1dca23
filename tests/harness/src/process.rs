//! Long-lived component processes that never outlive the test binary.
//!
//! Every component is spawned from one dedicated, never-ending std thread with
//! `prctl(PR_SET_PDEATHSIG, SIGKILL)` set in the child. Linux sends that signal when the thread
//! that forked the child exits, so spawning from a tokio worker or a test thread (which end
//! before the test binary does) would kill components early. Because the spawner thread only
//! ends with the process, components die exactly when the test binary exits, panics or is killed.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Sender};
use std::sync::{Mutex, OnceLock};

type SpawnRequest = (Command, Sender<io::Result<Child>>);

/// A running component: its child process and the file holding its stdout and stderr.
#[derive(Debug)]
pub struct Component {
    name: String,
    log: PathBuf,
    child: Mutex<Child>,
}

impl Component {
    /// Spawns `program args...` with stdout and stderr appended to `log`.
    pub fn spawn(name: &str, program: &Path, args: &[String], log: PathBuf) -> Component {
        let out = open_log(&log);
        let err = out
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot duplicate log {}: {e}", log.display()));
        let mut cmd = Command::new(program);
        cmd.args(args).stdin(Stdio::null()).stdout(out).stderr(err);
        die_with_parent(&mut cmd);
        let child = spawn_from_dedicated_thread(cmd)
            .unwrap_or_else(|e| panic!("cannot start {name} ({}): {e}", program.display()));
        Component {
            name: name.to_string(),
            log,
            child: Mutex::new(child),
        }
    }

    /// The component's name, e.g. `kube-apiserver`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.lock().id()
    }

    /// The log file (stdout and stderr).
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// `Some(status)` once the process has exited.
    pub fn exited(&self) -> Option<ExitStatus> {
        self.lock().try_wait().ok().flatten()
    }

    /// Kills the process (SIGKILL) and reaps it.
    pub fn kill(&self) {
        let mut child = self.lock();
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Panics with the last lines of the log if the process has exited.
    pub fn assert_running(&self) {
        if let Some(status) = self.exited() {
            panic!("{}", self.death_report(status));
        }
    }

    /// A description of an exited component with the tail of its log.
    pub fn death_report(&self, status: ExitStatus) -> String {
        format!(
            "{} exited early ({status}); last lines of {}:\n{}",
            self.name,
            self.log.display(),
            self.log_tail(40)
        )
    }

    /// The last `lines` lines of the log.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Child> {
        self.child
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn open_log(path: &Path) -> File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("cannot open log {}: {e}", path.display()))
}

/// Makes the child receive SIGKILL when its spawning thread exits; refuses to start it if the
/// parent already died between fork and prctl.
pub fn die_with_parent(cmd: &mut Command) {
    let parent = std::process::id();
    // pre_exec is unsafe: the hook runs between fork and exec, and only calls the
    // async-signal-safe prctl and getppid.
    #[allow(unsafe_code)]
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::getppid() as u32 != parent {
                return Err(io::Error::other("parent exited before the child started"));
            }
            Ok(())
        });
    }
}

/// Runs `cmd.spawn()` on the dedicated spawner thread (started on first use, never ends).
fn spawn_from_dedicated_thread(cmd: Command) -> io::Result<Child> {
    static SPAWNER: OnceLock<Mutex<Sender<SpawnRequest>>> = OnceLock::new();
    let sender = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("harness-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .unwrap_or_else(|e| panic!("cannot start the spawner thread: {e}"));
        Mutex::new(tx)
    });
    let (reply_tx, reply_rx) = mpsc::channel();
    sender
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .send((cmd, reply_tx))
        .map_err(|_| io::Error::other("the spawner thread is gone"))?;
    reply_rx
        .recv()
        .map_err(|_| io::Error::other("the spawner thread did not answer"))?
}
