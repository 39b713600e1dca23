//! Before any change, the object as it was goes to a file:
//! `unstick-backup-<kind>-[<namespace>-]<name>-<UTC time>.json` in the backup directory.

use std::path::{Path, PathBuf};

use k8s_openapi::jiff::Timestamp;
use kube_runbook::Error;
use serde_json::Value;

use crate::inventory::MetaObject;

/// The file name of a backup of `object` taken at `now`.
pub fn backup_name(object: &MetaObject, now: Timestamp) -> String {
    let stamp = now.strftime("%Y%m%dT%H%M%SZ").to_string();
    let place = match object.namespace() {
        Some(ns) => format!("{ns}-{}", object.name()),
        None => object.name().to_string(),
    };
    format!(
        "unstick-backup-{}-{place}-{stamp}.json",
        object.resource.kind.to_lowercase()
    )
}

/// Writes `current` (the object's JSON) to a new file in `dir`; returns its path.
pub fn write_backup(
    dir: &Path,
    object: &MetaObject,
    current: &Value,
    now: Timestamp,
) -> Result<PathBuf, Error> {
    let fail = |e: std::io::Error| {
        Error::Output(format!(
            "cannot write the backup of {} to {}: {e} (nothing was changed)",
            object.reference(),
            dir.display()
        ))
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let name = backup_name(object, now);
    let mut path = dir.join(&name);
    let mut n = 1;
    while path.exists() {
        n += 1;
        path = dir.join(name.replace(".json", &format!("-{n}.json")));
    }
    let text = serde_json::to_string_pretty(current).map_err(|e| Error::Output(e.to_string()))?;
    std::fs::write(&path, text + "\n").map_err(fail)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use kube_runbook::state::Kind;
    use serde_json::json;

    use super::*;

    #[test]
    fn names_and_writes_backups_without_overwriting() {
        let pod = MetaObject::of_kind(
            Kind::Pod,
            &serde_json::from_value(json!({"name": "web-0", "namespace": "shop"})).unwrap(),
        );
        let now: Timestamp = "2026-03-04T05:06:07Z".parse().unwrap();
        assert_eq!(
            backup_name(&pod, now),
            "unstick-backup-pod-shop-web-0-20260304T050607Z.json"
        );
        let dir = tempfile::tempdir().unwrap();
        let first = write_backup(dir.path(), &pod, &json!({"kind": "Pod"}), now).unwrap();
        let second = write_backup(dir.path(), &pod, &json!({"kind": "Pod"}), now).unwrap();
        assert_ne!(first, second);
        let saved: Value =
            serde_json::from_str(&std::fs::read_to_string(&second).unwrap()).unwrap();
        assert_eq!(saved, json!({"kind": "Pod"}));
    }
}
