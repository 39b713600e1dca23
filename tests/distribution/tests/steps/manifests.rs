//! What a released manifest tells the user: a one-line shortDescription, and caveats naming
//! every write permission the plugin's changes need.

use std::path::Path;

/// The write permissions each plugin's changes need (safe-drain's cordon, eviction and node
/// deletion; every step of unstick's ladders), as its caveats must name them.
pub const WRITE_PERMISSIONS: [(&str, &[&str]); 2] = [
    (
        "safe-drain",
        &["patch nodes", "create pods/eviction", "delete nodes"],
    ),
    (
        "unstick",
        &[
            "patch on the object's resource",
            "delete pods",
            "update namespaces/finalize",
            "patch nodes",
            "delete nodes",
            "delete persistentvolumeclaims",
            "delete apiservices",
            "patch statefulsets",
            "patch deployments",
        ],
    ),
];

/// `spec.shortDescription` and `spec.caveats` (empty when absent) of a krew manifest.
pub fn description_and_caveats(manifest: &Path) -> (String, String) {
    let text = std::fs::read_to_string(manifest).expect("the manifest is written");
    let value: serde_json::Value = serde_saphyr::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not YAML: {e}", manifest.display()));
    let field = |name: &str| value["spec"][name].as_str().unwrap_or_default().to_string();
    (field("shortDescription"), field("caveats"))
}

/// `text` with every run of whitespace (line breaks included) as one space.
pub fn one_spaced(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
