//! The scenario files of `examples/` and which plugin commands the demo runs on each.

use std::{cell::OnceCell, path::Path};

/// One example file, applied in a namespace of its own.
pub struct Scenario {
    pub file: String,
    /// The namespace prefix (the file name without extension).
    pub namespace: String,
    /// The namespace actually created.
    pub namespace_name: OnceCell<String>,
    /// The file's leading comment: what is broken.
    pub description: String,
    pub yaml: String,
}

/// Every scenario file except the nodes, in name order.
pub fn load_scenarios(dir: &Path) -> Vec<Scenario> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("00-"))
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let yaml = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let file = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let description = yaml
                .lines()
                .take_while(|l| l.starts_with('#'))
                .map(|l| l.trim_start_matches('#').trim())
                .collect::<Vec<_>>()
                .join(" ");
            Scenario {
                namespace: file.trim_end_matches(".yaml").to_string(),
                namespace_name: OnceCell::new(),
                file,
                description,
                yaml,
            }
        })
        .collect()
}

impl Scenario {
    /// The kubectl commands (without `kubectl`) that explain this scenario.
    pub fn commands(&self) -> Vec<Vec<String>> {
        let ns = self.namespace_name.get().cloned().unwrap_or_default();
        let plugin = self.file.split('-').take(2).collect::<Vec<_>>().join("-");
        let with_ns = |args: Vec<&str>| {
            let mut words: Vec<String> = args.into_iter().map(str::to_string).collect();
            words.extend(["-n".to_string(), ns.clone()]);
            words
        };
        match plugin.as_str() {
            "safe-drain" => vec![with_ns(vec!["safe-drain", "demo-general-a", "--plan"])],
            "why-pending" | "svc-check" | "unstick" => vec![with_ns(vec![&plugin])],
            _ => Vec::new(),
        }
    }
}
