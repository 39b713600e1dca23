//! The kubelet eviction manager's messages (pkg/kubelet/eviction), read back into their parts.

/// Why the kubelet evicted a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvictionCause {
    /// `The node was low on resource: R. Threshold quantity: Q, available: A. Container C was using U, ...`
    NodeLow {
        resource: String,
        threshold: Option<String>,
        available: Option<String>,
        /// (container, usage, request) of the containers using more than they requested.
        containers: Vec<(String, String, String)>,
    },
    /// `The node had condition: [DiskPressure].` (refused at admission under pressure)
    NodeCondition {
        conditions: String,
    },
    /// `Pod ephemeral local storage usage exceeds the total limit of containers L.`
    PodStorageLimit {
        limit: String,
    },
    /// `Container C exceeded its local ephemeral storage limit "L".`
    ContainerStorageLimit {
        container: String,
        limit: String,
    },
    /// `Usage of EmptyDir volume "V" exceeds the limit "L".`
    EmptyDirLimit {
        volume: String,
        limit: String,
    },
    Unrecognised,
}

pub fn parse(message: &str) -> EvictionCause {
    if let Some(rest) = after(message, "The node was low on resource: ") {
        return node_low(rest);
    }
    if let Some(rest) = after(message, "The node had condition: ") {
        return EvictionCause::NodeCondition {
            conditions: until_sentence_end(rest),
        };
    }
    if let Some(rest) = after(
        message,
        "Pod ephemeral local storage usage exceeds the total limit of containers ",
    ) {
        return EvictionCause::PodStorageLimit {
            limit: until_sentence_end(rest),
        };
    }
    if let Some(rest) = after(message, "Usage of EmptyDir volume ") {
        let (volume, rest) = quoted(rest);
        let limit = after(rest, "exceeds the limit ")
            .map(|r| quoted(r).0)
            .unwrap_or_default();
        return EvictionCause::EmptyDirLimit { volume, limit };
    }
    if let Some(start) = message.find(" exceeded its local ephemeral storage limit ") {
        let container = message[..start]
            .rsplit("Container ")
            .next()
            .unwrap_or("")
            .to_string();
        let rest = &message[start + " exceeded its local ephemeral storage limit ".len()..];
        return EvictionCause::ContainerStorageLimit {
            container,
            limit: quoted(rest).0,
        };
    }
    EvictionCause::Unrecognised
}

fn node_low(rest: &str) -> EvictionCause {
    let resource = until_sentence_end(rest);
    let threshold = after(rest, "Threshold quantity: ")
        .map(|r| r.split(',').next().unwrap_or("").trim().to_string());
    let available = after(rest, "available: ").map(until_sentence_end);
    let containers = rest
        .split("Container ")
        .skip(1)
        .filter_map(|part| {
            let (name, part) = part.split_once(" was using ")?;
            let (usage, part) = part.split_once(", ")?;
            let request = part
                .strip_prefix("request is ")
                .or_else(|| part.strip_prefix("which exceeds its request of "))?;
            Some((
                name.to_string(),
                usage.to_string(),
                until_sentence_end(request.split(',').next().unwrap_or("")),
            ))
        })
        .collect();
    EvictionCause::NodeLow {
        resource,
        threshold,
        available,
        containers,
    }
}

fn after<'a>(text: &'a str, marker: &str) -> Option<&'a str> {
    text.find(marker).map(|i| &text[i + marker.len()..])
}

/// Text up to `. ` or the end, without the final period.
fn until_sentence_end(text: &str) -> String {
    let end = text.find(". ").unwrap_or(text.len());
    text[..end].trim().trim_end_matches('.').to_string()
}

/// A leading `"..."` and the text after it (unquoted text runs to the next space).
fn quoted(text: &str) -> (String, &str) {
    match text.strip_prefix('"').and_then(|t| t.split_once('"')) {
        Some((inside, rest)) => (inside.to_string(), rest.trim_start()),
        None => {
            let (word, rest) = text.split_once(' ').unwrap_or((text, ""));
            (word.trim_end_matches('.').to_string(), rest)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_pressure_current_and_old_wording() {
        let current = parse(
            "The node was low on resource: ephemeral-storage. Threshold quantity: 10Gi, available: 9Gi. Container web was using 12Gi, request is 0, has larger consumption of ephemeral-storage. ",
        );
        assert_eq!(
            current,
            EvictionCause::NodeLow {
                resource: "ephemeral-storage".into(),
                threshold: Some("10Gi".into()),
                available: Some("9Gi".into()),
                containers: vec![("web".into(), "12Gi".into(), "0".into())],
            }
        );
        let old = parse(
            "The node was low on resource: ephemeral-storage. Container codis-proxy was using 10619440Ki, which exceeds its request of 0.",
        );
        let EvictionCause::NodeLow {
            containers,
            threshold,
            ..
        } = old
        else {
            panic!("{old:?}")
        };
        assert_eq!(
            containers,
            vec![("codis-proxy".into(), "10619440Ki".into(), "0".into())]
        );
        assert_eq!(threshold, None);
    }

    #[test]
    fn limits_and_admission() {
        assert_eq!(
            parse("Pod ephemeral local storage usage exceeds the total limit of containers 2Gi. "),
            EvictionCause::PodStorageLimit {
                limit: "2Gi".into()
            }
        );
        assert_eq!(
            parse("Container app exceeded its local ephemeral storage limit \"1Gi\". "),
            EvictionCause::ContainerStorageLimit {
                container: "app".into(),
                limit: "1Gi".into()
            }
        );
        assert_eq!(
            parse("Usage of EmptyDir volume \"scratch\" exceeds the limit \"500Mi\". "),
            EvictionCause::EmptyDirLimit {
                volume: "scratch".into(),
                limit: "500Mi".into()
            }
        );
        assert_eq!(
            parse("Pod The node had condition: [DiskPressure]. "),
            EvictionCause::NodeCondition {
                conditions: "[DiskPressure]".into()
            }
        );
        assert_eq!(parse("evicted for reasons"), EvictionCause::Unrecognised);
    }
}
