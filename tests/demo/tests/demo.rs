//! The demo end to end: it starts the control plane, creates every example of `examples/`, runs
//! the plugins and exits 0; each example's section shows the verdict the example is meant to show.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What an example's section must show: its plugin's first line holds `first_line`'s fragments in
/// order, and some line of the section holds those of `also`.
struct Expected {
    file: &'static str,
    first_line: &'static [&'static str],
    also: &'static [&'static str],
}

const EXPECTED: [Expected; 7] = [
    Expected {
        file: "safe-drain-pdb-blocks.yaml",
        first_line: &[
            "Drain plan for node demo-general-",
            "(Ready, schedulable): ",
        ],
        also: &[
            "✗ PodDisruptionBudget ",
            "/payments: can never allow an eviction: minAvailable is 2 and it counts 2 pods",
        ],
    },
    Expected {
        file: "svc-check-selector-typo.yaml",
        first_line: &[
            "✗ Service ",
            "/checkout: traffic cannot reach a ready backend: the selector app=checkout-api matches no pod",
        ],
        also: &[],
    },
    Expected {
        file: "svc-check-wrong-target-port.yaml",
        first_line: &[
            "✗ Service ",
            "/catalog: traffic cannot reach a ready backend: port http 80/TCP: no backend pod declares a container port named \"web\"",
        ],
        also: &[],
    },
    Expected {
        file: "unstick-orphaned-finalizer.yaml",
        first_line: &["KIND", "NAME", "TERMINATING", "CAUSE"],
        also: &[
            "Backup",
            "nightly",
            "finalizer demo.kube-runbooks.io/upload-complete: no controller for demo.kube-runbooks.io appears to be running",
        ],
    },
    Expected {
        file: "why-pending-gpu-toleration.yaml",
        first_line: &[
            "✗ Pod ",
            "/trainer: no node can run it: 2 nodes lack enough nvidia.com/gpu; 1 node has a taint it does not tolerate",
        ],
        also: &[],
    },
    Expected {
        file: "why-pending-missing-claim.yaml",
        first_line: &[
            "✗ Pod ",
            "/ledger: it cannot be scheduled: persistentvolumeclaim \"ledger-data\" not found",
        ],
        also: &[],
    },
    Expected {
        file: "why-pending-too-big.yaml",
        first_line: &[
            "✗ Pod ",
            "/report-builder-",
            ": no node can run it: 2 nodes lack enough cpu; 1 node has a taint it does not tolerate",
        ],
        also: &[],
    },
];

/// The plugins' own exit code when they found what is broken.
const FOUND_A_PROBLEM: &str = "(exit code 1)";

#[test]
fn demo_shows_every_example_with_its_verdict() {
    build_plugins();
    let output = Command::new(env!("CARGO_BIN_EXE_kube-runbooks-demo"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run the demo: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = format!(
        "{}\n--- stdout:\n{stdout}\n--- stderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "the demo failed: {report}");

    let sections = sections(&stdout);
    let shown: BTreeSet<String> = sections.iter().map(|(f, _)| f.to_string()).collect();
    let expected: BTreeSet<String> = EXPECTED.iter().map(|e| e.file.to_string()).collect();
    assert_eq!(shown, example_files(), "examples shown by the demo");
    assert_eq!(expected, example_files(), "examples this test expects");

    for expected in &EXPECTED {
        let (_, lines) = sections
            .iter()
            .find(|(file, _)| *file == expected.file)
            .unwrap_or_else(|| panic!("no section for {}", expected.file));
        let section = lines.join("\n");
        let first = first_plugin_line(lines)
            .unwrap_or_else(|| panic!("{}: no plugin ran:\n{section}", expected.file));
        assert!(
            in_order(first, expected.first_line),
            "{}: first line {first:?} lacks {:?}:\n{section}",
            expected.file,
            expected.first_line
        );
        assert!(
            expected.also.is_empty() || lines.iter().any(|l| in_order(l, expected.also)),
            "{}: no line with {:?}:\n{section}",
            expected.file,
            expected.also
        );
        assert!(
            lines.contains(&FOUND_A_PROBLEM),
            "{}: the plugin did not exit with 1:\n{section}",
            expected.file
        );
    }
}

/// Builds the plugin binaries next to the demo's, where it looks for them.
fn build_plugins() {
    let root = workspace_root();
    let status = Command::new(env!("CARGO"))
        .current_dir(&root)
        .args(["build", "--quiet", "--bins"])
        .args(["-p", "kubectl-safe-drain", "-p", "kubectl-svc-check"])
        .args(["-p", "kubectl-unstick", "-p", "kubectl-why-pending"])
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo build: {e}"));
    assert!(status.success(), "building the plugins failed: {status}");
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The scenario files of `examples/` (every YAML file but the `00-` nodes).
fn example_files() -> BTreeSet<String> {
    let dir = workspace_root().join("examples");
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".yaml") && !name.starts_with("00-"))
        .collect()
}

/// The demo's sections: `━━ <file> ━━` and the lines up to the next header.
fn sections(stdout: &str) -> Vec<(&str, Vec<&str>)> {
    let mut sections: Vec<(&str, Vec<&str>)> = Vec::new();
    for line in stdout.lines() {
        let header = line
            .strip_prefix("━━ ")
            .and_then(|rest| rest.strip_suffix(" ━━"));
        match (header, sections.last_mut()) {
            (Some(file), _) => sections.push((file, Vec::new())),
            (None, Some((_, lines))) => lines.push(line),
            (None, None) => {}
        }
    }
    sections
}

/// The line after the first `$ kubectl ...` command of a section.
fn first_plugin_line<'a>(lines: &[&'a str]) -> Option<&'a str> {
    let command = lines.iter().position(|l| l.starts_with("$ kubectl "))?;
    lines.get(command + 1).copied()
}

fn in_order(line: &str, fragments: &[&str]) -> bool {
    let mut rest = line;
    fragments.iter().all(|fragment| match rest.find(fragment) {
        Some(at) => {
            rest = &rest[at + fragment.len()..];
            true
        }
        None => false,
    })
}
