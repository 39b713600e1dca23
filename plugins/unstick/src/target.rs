//! The object the user named: `TYPE/NAME` or `TYPE NAME`, with TYPE resolved against the served
//! resource types the way kubectl does (plural, singular, short name or kind, optionally `.group`).

use std::sync::Arc;

use kube_runbook::Error;

use crate::resources::ResourceType;

/// What the user typed, before the type is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSpec {
    pub type_name: String,
    pub name: String,
}

/// Parses the positional words: none, `TYPE/NAME`, or `TYPE NAME`.
pub fn parse_object(words: &[String]) -> Result<Option<ObjectSpec>, Error> {
    let (type_name, name) = match words {
        [] => return Ok(None),
        [one] => one.split_once('/').ok_or_else(|| {
            Error::Usage(format!(
                "expected TYPE/NAME (e.g. pod/web-0, ns/shop, pvc/data), got \"{one}\""
            ))
        })?,
        [type_name, name] if !type_name.contains('/') && !name.contains('/') => {
            (type_name.as_str(), name.as_str())
        }
        _ => {
            return Err(Error::Usage(format!(
                "expected TYPE/NAME or TYPE NAME, got \"{}\"",
                words.join(" ")
            )));
        }
    };
    if type_name.is_empty() || name.is_empty() || name.contains('/') {
        return Err(Error::Usage(format!(
            "expected TYPE/NAME (e.g. pod/web-0), got \"{type_name}/{name}\""
        )));
    }
    Ok(Some(ObjectSpec {
        type_name: type_name.to_string(),
        name: name.to_string(),
    }))
}

/// The served type `wanted` names. Types come in discovery order (core group first), so an
/// ambiguous name resolves like kubectl: the core group, then the first group that serves it.
pub fn resolve_type(types: &[Arc<ResourceType>], wanted: &str) -> Result<Arc<ResourceType>, Error> {
    let wanted_lower = wanted.to_lowercase();
    let (resource, group) = match wanted_lower.split_once('.') {
        Some((resource, group)) => (resource, Some(group)),
        None => (wanted_lower.as_str(), None),
    };
    let matches_group = |t: &ResourceType| match group {
        None => true,
        Some(group) => t.group == group || format!("{}.{}", t.version, t.group) == group,
    };
    types
        .iter()
        .find(|t| names_of(t).any(|n| n == resource) && matches_group(t))
        .cloned()
        .ok_or_else(|| {
            let candidates: Vec<String> = types
                .iter()
                .flat_map(|t| names_of(t).chain([t.qualified()]).collect::<Vec<_>>())
                .collect();
            Error::not_found(
                "resource type",
                wanted,
                None,
                candidates.iter().map(String::as_str),
            )
        })
}

fn names_of(t: &ResourceType) -> impl Iterator<Item = String> + '_ {
    [t.plural.clone(), t.singular.clone(), t.kind.to_lowercase()]
        .into_iter()
        .chain(t.short_names.iter().cloned())
        .filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use kube_runbook::exit_code;

    use super::*;

    fn widget() -> ResourceType {
        ResourceType {
            group: "example.com".into(),
            version: "v1".into(),
            kind: "Widget".into(),
            plural: "widgets".into(),
            singular: "widget".into(),
            short_names: vec!["wd".into()],
            namespaced: true,
            verbs: vec!["list".into(), "delete".into()],
        }
    }

    fn types() -> Vec<Arc<ResourceType>> {
        let mut types: Vec<Arc<ResourceType>> =
            ResourceType::builtins().into_iter().map(Arc::new).collect();
        types.push(Arc::new(widget()));
        types
    }

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_both_forms() {
        let want = ObjectSpec {
            type_name: "pod".into(),
            name: "web-0".into(),
        };
        assert_eq!(
            parse_object(&words(&["pod/web-0"])).unwrap(),
            Some(want.clone())
        );
        assert_eq!(parse_object(&words(&["pod", "web-0"])).unwrap(), Some(want));
        assert_eq!(parse_object(&[]).unwrap(), None);
    }

    #[test]
    fn bad_forms_are_usage_errors() {
        for bad in [
            &["web-0"][..],
            &["pod/"],
            &["/x"],
            &["pod", "a/b"],
            &["a/b/c"],
        ] {
            let err = parse_object(&words(bad)).unwrap_err();
            assert_eq!(err.exit_code(), exit_code::USAGE, "{bad:?}: {err}");
        }
    }

    #[test]
    fn resolves_kubectl_names() {
        let types = types();
        for (wanted, kind) in [
            ("po", "Pod"),
            ("pods", "Pod"),
            ("Pod", "Pod"),
            ("ns", "Namespace"),
            ("pvc", "PersistentVolumeClaim"),
            ("pv", "PersistentVolume"),
            ("sts", "StatefulSet"),
            ("statefulsets.apps", "StatefulSet"),
            ("deployment.v1.apps", "Deployment"),
            ("widgets.example.com", "Widget"),
            ("wd", "Widget"),
            ("widget", "Widget"),
            ("apiservice", "APIService"),
            ("crd", "CustomResourceDefinition"),
        ] {
            assert_eq!(resolve_type(&types, wanted).unwrap().kind, kind, "{wanted}");
        }
    }

    #[test]
    fn unknown_type_suggests_near_names() {
        let err = resolve_type(&types(), "widgetz").unwrap_err();
        assert_eq!(err.exit_code(), exit_code::NOT_FOUND);
        assert!(err.to_string().contains("\"widgets\""), "{err}");
        let wrong_group = resolve_type(&types(), "widgets.other.io").unwrap_err();
        assert_eq!(wrong_group.exit_code(), exit_code::NOT_FOUND);
        assert!(resolve_type(&types(), "pods.apps").is_err());
    }
}
