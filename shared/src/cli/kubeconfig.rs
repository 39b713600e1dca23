//! Finding and merging kubeconfig files the way kubectl does: --kubeconfig, then every existing
//! file in KUBECONFIG (missing ones skipped), then ~/.kube/config.

use std::path::{Path, PathBuf};

use kube::config::Kubeconfig;

use crate::Error;

/// Where the configuration comes from.
#[derive(Debug, Clone)]
pub enum KubeconfigSource {
    /// Merged from these files, first file winning on conflicts.
    Files(Vec<PathBuf>, Box<Kubeconfig>),
    /// The service account of the pod this runs in.
    InCluster,
}

/// Resolves the kubeconfig from an explicit path, the KUBECONFIG value and the home directory.
pub fn resolve_kubeconfig(
    explicit: Option<&str>,
    env_value: Option<&str>,
    home: Option<&Path>,
    in_cluster: bool,
) -> Result<KubeconfigSource, Error> {
    if let Some(path) = explicit {
        let path = PathBuf::from(path);
        if !path.is_file() {
            return Err(Error::BadKubeconfig {
                path: path.display().to_string(),
                reason: "no such file".into(),
            });
        }
        return read_merged(vec![path]);
    }
    let mut searched = Vec::new();
    if let Some(list) = env_value.filter(|v| !v.is_empty()) {
        let paths: Vec<PathBuf> = std::env::split_paths(list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        searched.extend(paths.iter().map(|p| p.display().to_string()));
        let existing: Vec<PathBuf> = paths.into_iter().filter(|p| is_non_empty_file(p)).collect();
        if !existing.is_empty() {
            return read_merged(existing);
        }
    } else if let Some(home) = home {
        let default = home.join(".kube").join("config");
        searched.push(default.display().to_string());
        if is_non_empty_file(&default) {
            return read_merged(vec![default]);
        }
    }
    if in_cluster {
        return Ok(KubeconfigSource::InCluster);
    }
    Err(Error::NoKubeconfig {
        searched: if searched.is_empty() {
            "(no path given)".into()
        } else {
            searched.join(", ")
        },
    })
}

fn is_non_empty_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() > 0)
}

fn read_merged(paths: Vec<PathBuf>) -> Result<KubeconfigSource, Error> {
    let mut merged: Option<Kubeconfig> = None;
    for path in &paths {
        let next = Kubeconfig::read_from(path).map_err(|e| Error::BadKubeconfig {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        merged = Some(match merged {
            None => next,
            Some(acc) => acc.merge(next).map_err(|e| Error::BadKubeconfig {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?,
        });
    }
    let merged = merged.unwrap_or_default();
    Ok(KubeconfigSource::Files(paths, Box::new(merged)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG_A: &str = "apiVersion: v1\nkind: Config\ncurrent-context: a\nclusters:\n- name: a\n  cluster: {server: 'https://127.0.0.1:1'}\ncontexts:\n- name: a\n  context: {cluster: a, user: a}\nusers:\n- name: a\n  user: {token: t}\n";
    const CONFIG_B: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: b\n  cluster: {server: 'https://127.0.0.1:2'}\ncontexts:\n- name: b\n  context: {cluster: b, user: b}\nusers:\n- name: b\n  user: {token: u}\n";

    fn contexts(source: &KubeconfigSource) -> Vec<String> {
        match source {
            KubeconfigSource::Files(_, k) => k.contexts.iter().map(|c| c.name.clone()).collect(),
            KubeconfigSource::InCluster => vec![],
        }
    }

    #[test]
    fn merges_kubeconfig_list_skipping_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, CONFIG_A).unwrap();
        std::fs::write(&b, CONFIG_B).unwrap();
        let missing = dir.path().join("missing");
        let list = std::env::join_paths([&missing, &a, &b]).unwrap();
        let source = resolve_kubeconfig(None, list.to_str(), None, false).unwrap();
        assert_eq!(contexts(&source), vec!["a", "b"]);
    }

    #[test]
    fn explicit_missing_file_is_an_error() {
        let err =
            resolve_kubeconfig(Some("/nonexistent/kubeconfig"), None, None, false).unwrap_err();
        assert!(
            err.to_string()
                .contains("/nonexistent/kubeconfig: no such file"),
            "{err}"
        );
    }

    #[test]
    fn nothing_found_names_what_was_searched() {
        let dir = tempfile::tempdir().unwrap();
        let err = resolve_kubeconfig(None, None, Some(dir.path()), false).unwrap_err();
        assert!(
            err.to_string().starts_with("no kubeconfig: none of"),
            "{err}"
        );
        assert_eq!(err.exit_code(), crate::exit_code::CONFIG);
        assert!(matches!(
            resolve_kubeconfig(None, None, Some(dir.path()), true),
            Ok(KubeconfigSource::InCluster)
        ));
    }

    #[test]
    fn garbage_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, "{{{ not yaml").unwrap();
        let err = resolve_kubeconfig(path.to_str(), None, None, false).unwrap_err();
        assert!(
            err.to_string().starts_with("cannot read kubeconfig"),
            "{err}"
        );
    }
}
