//! A test that panics with a running control plane leaves no component process behind: this test
//! binary runs itself in a child process whose (ignored) test starts the control plane, records
//! the component PIDs and panics; every one of those processes must then be gone.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use kube_runbooks_harness::ControlPlane;

/// Where the child writes `<name> <pid>` lines; its presence marks the child's run.
const PID_FILE_ENV: &str = "KUBE_RUNBOOKS_HARNESS_PID_FILE";
const CHILD_TEST: &str = "child_starts_the_control_plane_and_panics";
const COMPONENTS: [&str; 5] = [
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
];
const DELIBERATE_PANIC: &str = "deliberate panic with the control plane running";
/// Covers a cold start that builds nothing but waits for every component to be healthy.
const CHILD_TIMEOUT: Duration = Duration::from_secs(300);
const EXIT_TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::test]
#[ignore = "run in a child process by a_panicking_test_leaves_no_component_process_behind"]
async fn child_starts_the_control_plane_and_panics() {
    // Only the parent test's child run panics: `cargo test -- --include-ignored` passes here.
    let Ok(pid_file) = std::env::var(PID_FILE_ENV) else {
        return;
    };
    let cp = ControlPlane::shared().await;
    let lines: String = cp
        .component_pids()
        .iter()
        .map(|(name, pid)| format!("{name} {pid}\n"))
        .collect();
    std::fs::write(&pid_file, lines).unwrap_or_else(|e| panic!("cannot write {pid_file}: {e}"));
    panic!("{DELIBERATE_PANIC}");
}

#[test]
fn a_panicking_test_leaves_no_component_process_behind() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("no-process-left-behind-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {dir:?}: {e}"));
    let pid_file = dir.join("pids");
    let log = dir.join("child.log");
    let _ = std::fs::remove_file(&pid_file);

    let status = run_child(&pid_file, &log);
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!status.success(), "the child test passed:\n{output}");
    assert!(
        output.contains(DELIBERATE_PANIC),
        "the child did not reach its deliberate panic ({status}):\n{output}"
    );

    let pids = read_pids(&pid_file);
    let names: Vec<&str> = pids.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, COMPONENTS, "components recorded by the child");

    let began = Instant::now();
    let mut survivors = alive(&pids);
    while !survivors.is_empty() && began.elapsed() < EXIT_TIMEOUT {
        std::thread::sleep(Duration::from_millis(100));
        survivors = alive(&pids);
    }
    assert!(
        survivors.is_empty(),
        "still running {EXIT_TIMEOUT:?} after the child test binary exited: {}",
        survivors.join(", ")
    );
}

/// Runs this test binary's ignored child test, killing it after `CHILD_TIMEOUT`.
fn run_child(pid_file: &Path, log: &Path) -> ExitStatus {
    let out = std::fs::File::create(log).unwrap_or_else(|e| panic!("cannot create {log:?}: {e}"));
    let err = out
        .try_clone()
        .unwrap_or_else(|e| panic!("cannot duplicate {log:?}: {e}"));
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("no current exe: {e}"));
    let mut child = Command::new(exe)
        .args(["--ignored", "--exact", CHILD_TEST, "--test-threads=1"])
        .env(PID_FILE_ENV, pid_file)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the child test: {e}"));
    wait_bounded(&mut child, log)
}

fn wait_bounded(child: &mut Child, log: &Path) -> ExitStatus {
    let began = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("waiting for the child test") {
            return status;
        }
        if began.elapsed() > CHILD_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            let output = std::fs::read_to_string(log).unwrap_or_default();
            panic!("the child test ran longer than {CHILD_TIMEOUT:?}:\n{output}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn read_pids(path: &Path) -> Vec<(String, u32)> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("the child wrote no PID file {path:?}: {e}"));
    text.lines()
        .map(|line| {
            let (name, pid) = line
                .split_once(' ')
                .unwrap_or_else(|| panic!("bad PID line {line:?}"));
            let pid = pid
                .parse()
                .unwrap_or_else(|e| panic!("bad PID in {line:?}: {e}"));
            (name.to_string(), pid)
        })
        .collect()
}

/// `name (pid N)` of each process that still runs; a zombie has already died.
fn alive(pids: &[(String, u32)]) -> Vec<String> {
    pids.iter()
        .filter(|(_, pid)| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| !is_zombie(&stat))
        })
        .map(|(name, pid)| format!("{name} (pid {pid})"))
        .collect()
}

/// The state field follows the parenthesised command name in `/proc/<pid>/stat`.
fn is_zombie(stat: &str) -> bool {
    stat.rsplit_once(')')
        .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X']))
}
