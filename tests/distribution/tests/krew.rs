//! The krew release, proven on this machine: the archives krew/release.sh builds, the manifests
//! checked by krew's own validator, every plugin installed by krew (from its manifest, and from
//! this repository used as a krew index) and run through kubectl against the local control
//! plane, with kubectl's argument completion through `kubectl_complete-<plugin>`.

mod steps;

use std::{path::Path, process::Command};

use kube_runbooks_distribution::{KrewUser, Output, PLUGINS, Release, executable};
use kube_runbooks_harness::{Binaries, ControlPlane, FakeNode};
use steps::{commands, completion, manifests};

/// A pod no node can take, and a Service: what the real commands and completions look at.
const PENDING_POD_AND_SERVICE: &str = "
apiVersion: v1
kind: Pod
metadata: {name: stuck, labels: {app: web}}
spec:
  nodeSelector: {kube-runbooks.test/pool: no-such-pool}
  containers: [{name: app, image: registry.k8s.io/pause:3.10}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
";

/// The release, built once for this test binary under cargo's scratch directory.
fn release() -> &'static Release {
    Release::get(&Path::new(env!("CARGO_TARGET_TMPDIR")).join("distribution"))
}

#[test]
fn archives_hold_the_binary_its_completion_entry_and_the_license() {
    let release = release();
    for platform in Release::platforms() {
        for plugin in PLUGINS {
            let archive = release.archive(plugin, &platform.target);
            let completion = format!("kubectl_complete-{}", plugin.replace('-', "_"));
            let mut expected = match platform.os.as_str() {
                "windows" => vec![
                    format!("{}.exe", executable(plugin)),
                    format!("{completion}.cmd"),
                ],
                _ => vec![executable(plugin), completion],
            };
            expected.push("LICENSE".into());
            expected.sort();
            assert_eq!(entries(&archive), expected, "{}", archive.display());
        }
    }
    for plugin in PLUGINS {
        let archive = release.host_archive(plugin);
        let size = std::fs::metadata(&archive)
            .map(|m| m.len())
            .unwrap_or_default();
        println!("{} {:.1} MiB", archive.display(), size as f64 / 1048576.0);
        assert_eq!(
            entries(&archive),
            entries(&release.linux_amd64_archive(plugin)),
            "the release layout is the one built here"
        );
    }
    let script =
        std::fs::read_to_string(release.host_binaries().join("kubectl_complete-why_pending"))
            .expect("the completion entry is extracted");
    assert_eq!(
        script,
        "#!/bin/sh\nexec kubectl-why_pending __complete \"$@\"\n"
    );
}

#[test]
fn no_openssl_is_linked() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let tree = Command::new(cargo)
        .current_dir(Release::root())
        .args([
            "tree",
            "--workspace",
            "--target",
            "all",
            "-e",
            "normal",
            "-i",
            "openssl-sys",
        ])
        .output()
        .expect("cannot run cargo tree");
    let stderr = String::from_utf8_lossy(&tree.stderr);
    assert!(
        !tree.status.success() && stderr.contains("did not match any packages"),
        "openssl-sys is in the dependency graph:\n{}{stderr}",
        String::from_utf8_lossy(&tree.stdout)
    );
    let release = release();
    for plugin in PLUGINS {
        let binary = release.host_binaries().join(executable(plugin));
        let ldd = Command::new("ldd")
            .arg(&binary)
            .output()
            .expect("cannot run ldd");
        let libraries = String::from_utf8_lossy(&ldd.stdout);
        println!("$ ldd {}\n{libraries}", binary.display());
        assert!(
            !libraries.contains("libssl") && !libraries.contains("libcrypto"),
            "{libraries}"
        );
    }
}

#[test]
fn the_release_workflow_passes_actionlint() {
    let workflow =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.github/workflows/release.yml");
    // actionlint runs shellcheck on every `run:` script when it is on PATH (.ci/run installs it).
    let output = Command::new(Binaries::locate().bin("actionlint"))
        .arg(&workflow)
        .output()
        .unwrap_or_else(|e| panic!("cannot run actionlint: {e}"));
    assert!(
        output.status.success(),
        "actionlint {}:\n{}{}",
        workflow.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn every_manifest_passes_krews_validator() {
    let release = release();
    let user = KrewUser::new(Binaries::locate());
    let platforms = Release::platforms().len();
    for plugin in PLUGINS {
        let released = release.released_manifest(plugin);
        let text = std::fs::read_to_string(&released).expect("the manifest is written");
        let uri = format!(
            "uri: https://github.com/kube-runbooks/kube-runbooks/releases/download/v{0}/kubectl-{plugin}-v{0}-",
            release.version
        );
        assert_eq!(text.matches(&uri).count(), platforms, "{text}");
        assert!(
            text.contains(&format!("version: v{}\n", release.version)),
            "{text}"
        );

        let structure = validate(&user, &released, &["-skip-install"]);
        for step in [
            "structural validation OK",
            "all spec.platform[] items are used",
            "no overlapping",
        ] {
            assert!(structure.stderr.contains(step), "{plugin}: {structure}");
        }
        let installs = validate(&user, &release.local_manifest(plugin), &[]);
        let all_installed = format!("all {platforms} spec.platforms installed fine");
        assert!(
            installs.stderr.contains(&all_installed),
            "{plugin}: {installs}"
        );
        println!(
            "{plugin}: structure OK (released manifest); {all_installed} (served from {})",
            release.server_url()
        );
    }
}

#[test]
fn manifests_describe_in_one_line_and_caveat_the_write_permissions() {
    let release = release();
    for plugin in PLUGINS {
        let (short, _) = manifests::description_and_caveats(&release.released_manifest(plugin));
        assert!(
            !short.trim().is_empty() && !short.contains('\n'),
            "{plugin}: shortDescription {short:?}"
        );
    }
    for (plugin, permissions) in manifests::WRITE_PERMISSIONS {
        let (_, caveats) = manifests::description_and_caveats(&release.released_manifest(plugin));
        let caveats = manifests::one_spaced(&caveats);
        for permission in permissions {
            assert!(
                caveats.contains(permission),
                "{plugin}'s caveats do not name {permission:?}: {caveats}"
            );
        }
    }
}

fn validate(user: &KrewUser, manifest: &Path, flags: &[&str]) -> Output {
    let manifest = manifest.display().to_string();
    let args = [&["-manifest", manifest.as_str()][..], flags].concat();
    let output = user.run("validate-krew-manifest", &args);
    assert!(
        output.success(),
        "validate-krew-manifest {}: {output}",
        args.join(" ")
    );
    output
}

#[tokio::test]
async fn krew_installs_every_plugin_and_kubectl_runs_and_completes_it() {
    let release = release();
    let cp = ControlPlane::shared().await;
    let mut user = KrewUser::new(Binaries::locate());
    user.set_env("KUBECONFIG", &cp.admin_kubeconfig().display().to_string());

    for plugin in PLUGINS {
        let manifest = release.released_manifest(plugin).display().to_string();
        let archive = release.linux_amd64_archive(plugin).display().to_string();
        let installed = user.run(
            "kubectl",
            &[
                "krew",
                "install",
                &format!("--manifest={manifest}"),
                &format!("--archive={archive}"),
            ],
        );
        assert!(installed.success(), "{installed}");
        let said = format!("{}{}", installed.stdout, installed.stderr);
        assert!(
            said.contains(&format!("Installed plugin: {plugin}")),
            "{said}"
        );
        let link = format!("ln -sf {} ", executable(plugin));
        assert!(
            said.contains(&link),
            "the caveats say how to enable completion: {said}"
        );
    }

    let list = user.run("kubectl", &["plugin", "list"]);
    println!("$ kubectl plugin list\n{}{}", list.stdout, list.stderr);
    assert!(list.success(), "{list}");
    assert!(
        !format!("{}{}", list.stdout, list.stderr).contains("arning"),
        "{list}"
    );
    for plugin in PLUGINS {
        let linked = user
            .krew_bin()
            .join(executable(plugin))
            .display()
            .to_string();
        assert!(
            list.stdout.lines().any(|l| l == linked),
            "{plugin} not listed: {list}"
        );
    }

    let commit = built_commit();
    for plugin in PLUGINS {
        let help = user.run("kubectl", &[plugin, "--help"]);
        assert!(help.success(), "{help}");
        assert!(
            help.stdout.contains(&format!("Usage: kubectl {plugin}")),
            "{help}"
        );
        let version = user.run("kubectl", &[plugin, "--version"]);
        let expected = format!("kubectl {plugin} {} ({commit})\n", release.version);
        assert!(
            version.success() && version.stdout == expected,
            "expected {expected:?}: {version}"
        );
        println!("$ kubectl {plugin} --version\n{}", version.stdout);
    }

    cp.add_node(FakeNode::new("dist-a").cpu("4").memory("8Gi"))
        .await;
    let ns = cp.namespace("dist").await;
    ns.apply_yaml(PENDING_POD_AND_SERVICE).await;
    ns.wait_event("stuck", "FailedScheduling").await;
    let diagnosis = user.run("kubectl", &["why-pending", "-n", ns.name()]);
    println!(
        "$ kubectl why-pending -n {}\n{}{}",
        ns.name(),
        diagnosis.stdout,
        diagnosis.stderr
    );
    assert_eq!(
        diagnosis.code,
        Some(1),
        "a pod that cannot run is a problem found: {diagnosis}"
    );
    assert!(diagnosis.stdout.contains("stuck"), "{diagnosis}");

    completion::link_completion_entry(&user, "why-pending");
    let pods = complete(&user, &["why-pending", "-n", ns.name(), ""]);
    assert!(pods.contains(&"stuck\tPending".to_string()), "{pods:?}");
    assert!(
        pods.contains(&"deploy/\tDeployment".to_string()),
        "{pods:?}"
    );
    assert_eq!(pods.last().map(String::as_str), Some(":4"), "{pods:?}");
    let owners = complete(&user, &["why-pending", "-n", ns.name(), "dep"]);
    assert_eq!(owners, ["deploy/\tDeployment", ":6"]);

    // The completion entry shipped in the archive (a script calling `__complete`), on PATH.
    let scripts = user.scratch("completion-scripts");
    let store = user
        .krew_root()
        .join("store/svc-check")
        .join(format!("v{}", release.version));
    std::fs::copy(
        store.join("kubectl_complete-svc_check"),
        scripts.join("kubectl_complete-svc_check"),
    )
    .expect("the archive's completion script is installed in krew's store");
    user.prepend_path(&scripts);
    let services = complete(&user, &["svc-check", "-n", ns.name(), "w"]);
    assert_eq!(services, ["web", ":4"]);
    completion::namespaces_are_offered(&user, &ns);

    commands::safe_drain_plans_without_cordoning(&user, cp, &ns).await;
    commands::svc_check_gives_the_verdict(&user, &ns);
    commands::unstick_lists_what_is_stuck(&user, &ns).await;
    completion::safe_drain_offers_the_nodes(&user, &["dist-a", commands::DRAIN_NODE]);
    completion::unstick_offers_types_then_names(&user, &ns);
}

/// The commit shared/build.rs records: KUBE_RUNBOOKS_COMMIT if set, else this checkout's HEAD
/// (so `unknown`, printed when git cannot tell, fails the test).
fn built_commit() -> String {
    if let Ok(commit) = std::env::var("KUBE_RUNBOOKS_COMMIT") {
        return commit;
    }
    let head = Command::new("git")
        .current_dir(Release::root())
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .expect("cannot run git");
    assert!(
        head.status.success(),
        "the test runs in a git checkout: {}",
        String::from_utf8_lossy(&head.stderr)
    );
    String::from_utf8_lossy(&head.stdout).trim().to_string()
}

/// `kubectl __complete WORDS...` (what the shell scripts of kubectl call), one line each.
fn complete(user: &KrewUser, words: &[&str]) -> Vec<String> {
    let args = [&["__complete"][..], words].concat();
    let output = user.run("kubectl", &args);
    println!("$ kubectl {}\n{}", args.join(" "), output.stdout);
    assert!(output.success(), "{output}");
    output.stdout.lines().map(str::to_string).collect()
}

#[test]
fn this_repository_is_a_krew_index() {
    let release = release();
    let user = KrewUser::new(Binaries::locate());
    // Laid out like the repository: plugins/<name>.yaml beside the plugins/<name>/ crates.
    let repository = user.scratch("index-repository");
    let plugins = repository.join("plugins");
    for plugin in PLUGINS {
        std::fs::create_dir_all(plugins.join(plugin)).expect("cannot create a crate directory");
        std::fs::write(plugins.join(plugin).join("Cargo.toml"), "[package]\n")
            .expect("cannot write");
        std::fs::copy(
            release.local_manifest(plugin),
            plugins.join(format!("{plugin}.yaml")),
        )
        .expect("cannot copy a manifest");
    }
    let repo = repository.display().to_string();
    for git in [
        &["init", "-q", &repo][..],
        &["-C", &repo, "add", "."],
        &[
            "-C",
            &repo,
            "-c",
            "user.name=test",
            "-c",
            "user.email=test@localhost",
            "commit",
            "-q",
            "-m",
            "index",
        ],
    ] {
        let output = user.run("git", git);
        assert!(output.success(), "git {}: {output}", git.join(" "));
    }

    let added = user.run("kubectl", &["krew", "index", "add", "kube-runbooks", &repo]);
    assert!(added.success(), "{added}");
    let search = user.run("kubectl", &["krew", "search"]);
    for plugin in PLUGINS {
        assert!(
            search.stdout.contains(&format!("kube-runbooks/{plugin} ")),
            "{search}"
        );
    }
    let installed = user.run("kubectl", &["krew", "install", "kube-runbooks/why-pending"]);
    assert!(installed.success(), "{installed}");
    let list = user.run("kubectl", &["krew", "list"]);
    assert!(list.stdout.contains("kube-runbooks/why-pending"), "{list}");
    let version = user.run("kubectl", &["why-pending", "--version"]);
    assert!(version.success(), "{version}");
    println!("$ kubectl krew list\n{}", list.stdout);
}

/// The file names in an archive, sorted.
fn entries(archive: &Path) -> Vec<String> {
    let name = archive.display().to_string();
    let output = if name.ends_with(".zip") {
        Command::new("unzip").args(["-Z1", &name]).output()
    } else {
        Command::new("tar").args(["-tzf", &name]).output()
    }
    .expect("cannot list an archive");
    assert!(output.status.success(), "cannot list {name}");
    let mut names: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    names.sort();
    names
}
