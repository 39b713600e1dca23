//! Records the git commit the suite was built from, for `--version`.

use std::{path::Path, process::Command};

fn main() {
    let commit = std::env::var("KUBE_RUNBOOKS_COMMIT")
        .ok()
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]));
    println!(
        "cargo:rustc-env=KUBE_RUNBOOKS_COMMIT={}",
        commit.unwrap_or_else(|| "unknown".into())
    );
    println!("cargo:rerun-if-env-changed=KUBE_RUNBOOKS_COMMIT");
    // Asked of git, so that a worktree (whose .git is a file) or a source tarball (no git at all)
    // does not rebuild on every run by watching paths that do not exist.
    for name in ["HEAD", "refs/heads", "packed-refs"] {
        if let Some(path) = git(&["rev-parse", "--path-format=absolute", "--git-path", name])
            && Path::new(&path).exists()
        {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
