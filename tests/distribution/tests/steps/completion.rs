//! kubectl completing safe-drain's and unstick's arguments, and `-n`, from the live cluster
//! through the completion entries linked as the caveats say.

use kube_runbooks_distribution::{KrewUser, executable};
use kube_runbooks_harness::TestNamespace;

use crate::complete;

/// Links `kubectl_complete-<plugin>` to krew's link of the plugin, as its caveats say.
pub fn link_completion_entry(user: &KrewUser, plugin: &str) {
    let entry = format!("kubectl_complete-{}", plugin.replace('-', "_"));
    std::os::unix::fs::symlink(executable(plugin), user.krew_bin().join(entry))
        .expect("cannot link the completion entry");
}

/// `kubectl safe-drain <TAB>`: the cluster's nodes with their status, and `uncordon`; a node
/// already typed is not offered again.
pub fn safe_drain_offers_the_nodes(user: &KrewUser, nodes: &[&str]) {
    link_completion_entry(user, "safe-drain");
    let offered = complete(user, &["safe-drain", ""]);
    for node in nodes {
        let line = format!("{node}\tReady");
        assert!(offered.contains(&line), "{line:?} missing: {offered:?}");
    }
    assert!(
        offered.iter().any(|l| l.starts_with("uncordon\t")),
        "{offered:?}"
    );
    assert_eq!(
        offered.last().map(String::as_str),
        Some(":4"),
        "{offered:?}"
    );
    let after_first = complete(user, &["safe-drain", nodes[0], ""]);
    assert!(
        !after_first
            .iter()
            .any(|l| l.starts_with(&format!("{}\t", nodes[0]))),
        "{after_first:?}"
    );
    assert!(
        after_first.contains(&format!("{}\tReady", nodes[1])),
        "{after_first:?}"
    );
}

/// `kubectl unstick <TAB>`: the types, then the names of a type, Terminating ones marked.
pub fn unstick_offers_types_then_names(user: &KrewUser, ns: &TestNamespace) {
    link_completion_entry(user, "unstick");
    let types = complete(user, &["unstick", "-n", ns.name(), ""]);
    for line in ["pod/\tPod", "cm/\tConfigMap", "ns/\tNamespace"] {
        assert!(
            types.contains(&line.to_string()),
            "{line:?} missing: {types:?}"
        );
    }
    assert_eq!(
        types.last().map(String::as_str),
        Some(":6"),
        "a type is a prefix: no space after it: {types:?}"
    );
    let pods = complete(user, &["unstick", "-n", ns.name(), "pod/"]);
    for line in ["pod/leaving\tTerminating", "pod/stuck\tPending"] {
        assert!(
            pods.contains(&line.to_string()),
            "{line:?} missing: {pods:?}"
        );
    }
    assert_eq!(pods.last().map(String::as_str), Some(":4"), "{pods:?}");
    let maps = complete(user, &["unstick", "-n", ns.name(), "cm/h"]);
    assert_eq!(maps, ["cm/held\tTerminating", ":4"]);
    let type_then_name = complete(user, &["unstick", "-n", ns.name(), "cm", "h"]);
    assert_eq!(type_then_name, ["held\tTerminating", ":4"]);
}

/// `kubectl svc-check -n <TAB>`: the cluster's namespaces.
pub fn namespaces_are_offered(user: &KrewUser, ns: &TestNamespace) {
    let namespaces = complete(user, &["svc-check", "-n", ""]);
    for name in [ns.name(), "default", "kube-system"] {
        assert!(
            namespaces.contains(&name.to_string()),
            "{name:?} missing: {namespaces:?}"
        );
    }
    assert_eq!(
        namespaces.last().map(String::as_str),
        Some(":4"),
        "{namespaces:?}"
    );
}
