//! Loading a saved cluster: a `kubectl cluster-info dump --output-directory` tree, or a file with
//! a List (or a stream of objects) in JSON or YAML, as `kubectl get pods,nodes -A -o yaml` writes.

use std::path::{Path, PathBuf};

use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use super::{
    cluster_state::{ClusterState, Origin, Unavailable, store_json},
    kind::Kind,
};
use crate::Error;

/// Loads `kinds` from the snapshot at `path`, keeping namespaced objects of `namespace` only
/// when given. A kind the snapshot does not contain is recorded as unavailable.
pub fn load_snapshot(
    path: &Path,
    kinds: &[Kind],
    namespace: Option<&str>,
) -> Result<ClusterState, Error> {
    let bad = |reason: String| Error::BadSnapshot {
        path: path.to_path_buf(),
        reason,
    };
    let files = snapshot_files(path).map_err(|e| bad(e.to_string()))?;
    let mut documents = Vec::new();
    for file in &files {
        let text =
            std::fs::read_to_string(file).map_err(|e| bad(format!("{}: {e}", file.display())))?;
        documents
            .extend(parse_documents(&text).map_err(|e| bad(format!("{}: {e}", file.display())))?);
    }
    let mut state = ClusterState::new(
        Origin::Snapshot {
            path: path.display().to_string(),
        },
        Timestamp::UNIX_EPOCH,
    );
    let mut seen_any = false;
    let mut latest = None;
    for document in documents {
        for (kind_name, object) in objects_of(document) {
            if kind_name.is_empty() {
                continue;
            }
            seen_any = true;
            let Some(kind) = Kind::from_kind_name(&kind_name) else {
                continue;
            };
            state.loaded.insert(kind);
            let Some(object) = object else { continue };
            latest = latest.max(latest_time(&object));
            if !kinds.contains(&kind) || !in_namespace(&object, kind, namespace) {
                continue;
            }
            let name = object
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string();
            store_json(&mut state, kind, object)
                .map_err(|e| bad(format!("{kind_name} \"{name}\": {e}")))?;
        }
    }
    if !seen_any {
        return Err(bad(
            "no Kubernetes objects found (expected a List, objects, or a cluster-info dump)".into(),
        ));
    }
    state.loaded.retain(|k| kinds.contains(k));
    for &kind in kinds {
        if !state.loaded.contains(&kind) {
            state.unavailable.push(Unavailable {
                kind,
                reason: format!("the snapshot has no {}", kind.resource()),
            });
        }
    }
    state.observed_at = latest.unwrap_or(Timestamp::UNIX_EPOCH);
    Ok(state)
}

/// The files of a snapshot: the path itself, or every JSON/YAML file below a directory.
fn snapshot_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path)?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut pending = vec![path.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let entry_path = entry.path();
            if entry.file_type()?.is_dir() {
                pending.push(entry_path);
            } else if matches!(
                entry_path.extension().and_then(|e| e.to_str()),
                Some("json" | "yaml" | "yml")
            ) {
                files.push(entry_path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// One file's documents: a JSON value, a stream of JSON values, or multi-document YAML.
fn parse_documents(text: &str) -> Result<Vec<Value>, String> {
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return serde_json::Deserializer::from_str(text)
            .into_iter::<Value>()
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("invalid JSON: {e}"));
    }
    serde_saphyr::from_multiple::<Value>(text).map_err(|e| format!("invalid YAML: {e}"))
}

/// The objects in a document with their kind names. A typed list (`PodList`) names its items'
/// kind once; its items may lack a `kind`. An empty typed list still says the kind was dumped,
/// hence the `None` object.
fn objects_of(document: Value) -> Vec<(String, Option<Value>)> {
    let Value::Object(mut map) = document else {
        return Vec::new();
    };
    let kind = map
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    match (kind.strip_suffix("List"), map.remove("items")) {
        (Some(item_kind), Some(Value::Array(items))) => {
            let mut out: Vec<(String, Option<Value>)> = Vec::new();
            if !item_kind.is_empty() {
                out.push((item_kind.to_string(), None));
            }
            for item in items {
                let item_kind = item.get("kind").and_then(Value::as_str).map(str::to_string);
                let item_kind = item_kind.unwrap_or_else(|| item_kind_default(&kind));
                out.extend(objects_of_item(item_kind, item));
            }
            out
        }
        (_, items) => {
            if let Some(items) = items {
                map.insert("items".into(), items);
            }
            vec![(kind, Some(Value::Object(map)))]
        }
    }
}

fn item_kind_default(list_kind: &str) -> String {
    list_kind
        .strip_suffix("List")
        .unwrap_or_default()
        .to_string()
}

fn objects_of_item(kind: String, item: Value) -> Vec<(String, Option<Value>)> {
    if kind.ends_with("List") {
        objects_of(item)
    } else {
        vec![(kind, Some(item))]
    }
}

fn in_namespace(object: &Value, kind: Kind, namespace: Option<&str>) -> bool {
    match namespace {
        Some(ns) if kind.namespaced() => {
            object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                == Some(ns)
        }
        _ => true,
    }
}

/// The latest moment recorded in an object (events, heartbeats, lease renewals, conditions):
/// a snapshot is judged as of then, so ages stay meaningful long after it was taken.
fn latest_time(object: &Value) -> Option<Timestamp> {
    const TIME_FIELDS: [&str; 8] = [
        "creationTimestamp",
        "lastTimestamp",
        "eventTime",
        "lastHeartbeatTime",
        "lastTransitionTime",
        "renewTime",
        "startedAt",
        "finishedAt",
    ];
    match object {
        Value::Object(map) => map
            .iter()
            .filter_map(|(key, value)| match value {
                Value::String(text) if TIME_FIELDS.contains(&key.as_str()) => {
                    text.parse::<Timestamp>().ok()
                }
                Value::Object(_) | Value::Array(_) => latest_time(value),
                _ => None,
            })
            .max(),
        Value::Array(values) => values.iter().filter_map(latest_time).max(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, text).unwrap();
        path
    }

    const POD_YAML: &str = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: web, namespace: shop, creationTimestamp: '2026-01-02T03:04:05Z'}\n  spec: {containers: [{name: c, image: nginx}]}\n- apiVersion: v1\n  kind: Node\n  metadata: {name: n1}\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: other, namespace: kube-system}\n  spec: {containers: [{name: c, image: x}]}\n";

    #[test]
    fn loads_a_yaml_list_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "snap.yaml", POD_YAML);
        let state = load_snapshot(&file, &[Kind::Pod, Kind::Node, Kind::Event], None).unwrap();
        assert_eq!(state.pods.len(), 2);
        assert_eq!(state.nodes.len(), 1);
        assert!(state.has(Kind::Pod) && state.has(Kind::Node) && !state.has(Kind::Event));
        assert_eq!(
            state.unavailable_reason(Kind::Event),
            Some("the snapshot has no events")
        );
        assert_eq!(state.observed_at.to_string(), "2026-01-02T03:04:05Z");
    }

    #[test]
    fn filters_by_namespace() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "snap.yaml", POD_YAML);
        let state = load_snapshot(&file, &[Kind::Pod, Kind::Node], Some("shop")).unwrap();
        assert_eq!(state.pods.len(), 1);
        assert_eq!(state.nodes.len(), 1, "cluster-scoped kinds are kept");
    }

    #[test]
    fn loads_a_cluster_info_dump_directory_with_typed_lists() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "nodes.json",
            r#"{"kind":"NodeList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"n1"}}]}"#,
        );
        write(
            dir.path(),
            "shop/pods.json",
            r#"{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"web","namespace":"shop"},"spec":{"containers":[]}}]}"#,
        );
        write(
            dir.path(),
            "shop/events.json",
            r#"{"kind":"EventList","apiVersion":"v1","metadata":{},"items":[]}"#,
        );
        write(dir.path(), "shop/web/logs.txt", "log line");
        let state = load_snapshot(dir.path(), &[Kind::Pod, Kind::Node, Kind::Event], None).unwrap();
        assert_eq!(
            (state.pods.len(), state.nodes.len(), state.events.len()),
            (1, 1, 0)
        );
        assert!(
            state.has(Kind::Event),
            "an empty typed list means there are none"
        );
    }

    #[test]
    fn loads_a_stream_of_json_lists() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            dir.path(),
            "dump.json",
            "{\"kind\":\"NodeList\",\"items\":[{\"metadata\":{\"name\":\"a\"}}]}\n{\"kind\":\"PodList\",\"items\":[]}\n",
        );
        let state = load_snapshot(&file, &[Kind::Pod, Kind::Node], None).unwrap();
        assert_eq!(state.nodes.len(), 1);
        assert!(state.has(Kind::Pod));
    }

    #[test]
    fn malformed_snapshots_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let broken = write(
            dir.path(),
            "broken.json",
            "{\"kind\": \"PodList\", \"items\": [",
        );
        let err = load_snapshot(&broken, &[Kind::Pod], None).unwrap_err();
        assert!(err.to_string().contains("invalid JSON"), "{err}");
        assert_eq!(err.exit_code(), crate::exit_code::BAD_INPUT);

        let wrong_shape = write(
            dir.path(),
            "shape.yaml",
            "kind: Pod\nmetadata: {name: x}\nspec: {containers: 5}\n",
        );
        let err = load_snapshot(&wrong_shape, &[Kind::Pod], None).unwrap_err();
        assert!(err.to_string().contains("Pod \"x\""), "{err}");

        let empty = write(dir.path(), "empty.yaml", "just: text\n");
        assert!(
            load_snapshot(&empty, &[Kind::Pod], None)
                .unwrap_err()
                .to_string()
                .contains("no Kubernetes objects")
        );

        let missing = load_snapshot(&dir.path().join("nope"), &[Kind::Pod], None).unwrap_err();
        assert!(
            missing.to_string().starts_with("cannot load snapshot"),
            "{missing}"
        );
    }
}
