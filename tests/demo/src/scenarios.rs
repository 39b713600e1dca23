//! The scenario files of `examples/` and which plugin commands the demo runs on each.

use std::{cell::OnceCell, path::Path};

/// The plugins the demo runs; an example file's name starts with the plugin it is for.
pub const PLUGINS: [&str; 4] = ["safe-drain", "svc-check", "unstick", "why-pending"];

/// One example file, applied in a namespace of its own.
pub struct Scenario {
    pub file: String,
    /// The namespace prefix (the file name without extension).
    pub namespace: String,
    /// The namespace actually created.
    pub namespace_name: OnceCell<String>,
    /// The node `safe-drain` plans to drain: the one running the scenario's pods.
    pub drain_node: OnceCell<String>,
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
                drain_node: OnceCell::new(),
                file,
                description,
                yaml,
            }
        })
        .collect()
}

impl Scenario {
    /// The plugin this scenario is for.
    pub fn plugin(&self) -> Option<&'static str> {
        PLUGINS
            .into_iter()
            .find(|p| self.file.starts_with(&format!("{p}-")))
    }

    /// The namespace created for the scenario (empty before it is created).
    pub fn namespace(&self) -> &str {
        self.namespace_name.get().map_or("", String::as_str)
    }

    /// The kubectl commands (without `kubectl`) that explain this scenario.
    pub fn commands(&self) -> Vec<Vec<String>> {
        let with_ns = |args: Vec<&str>| {
            let mut words: Vec<String> = args.into_iter().map(str::to_string).collect();
            words.extend(["-n".to_string(), self.namespace().to_string()]);
            words
        };
        match self.plugin() {
            Some("safe-drain") => {
                let node = self
                    .drain_node
                    .get()
                    .map_or("demo-general-a", String::as_str);
                vec![with_ns(vec!["safe-drain", node, "--plan"])]
            }
            Some(plugin) => vec![with_ns(vec![plugin])],
            None => Vec::new(),
        }
    }

    /// `kind/name` of every object of the file but its CustomResourceDefinitions: what an unstick
    /// scenario deletes to leave it Terminating.
    pub fn custom_objects(&self) -> Vec<String> {
        self.yaml
            .split("\n---")
            .filter(|doc| !doc.contains("kind: CustomResourceDefinition"))
            .filter_map(|doc| {
                let kind = doc.lines().find_map(|l| l.strip_prefix("kind: "))?;
                let name = doc.lines().find_map(|l| l.trim().strip_prefix("name: "))?;
                Some(format!("{}/{}", kind.to_lowercase(), name))
            })
            .collect()
    }
}
