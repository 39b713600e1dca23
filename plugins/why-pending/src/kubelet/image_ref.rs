//! Image references read the way the container runtime reads them (the docker reference rules):
//! the registry defaults to docker.io, one-part Docker Hub names get `library/`, no tag means
//! `latest`.

use serde::Serialize;

pub const DOCKER_HUB: &str = "docker.io";
const MAX_NAME_LENGTH: usize = 255;
const MAX_TAG_LENGTH: usize = 128;

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageRef {
    pub registry: String,
    pub repository: String,
    /// The tag as written; `latest` is implied when neither tag nor digest is given.
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parses `reference`; the error says what the runtime would reject.
    pub fn parse(reference: &str) -> Result<ImageRef, String> {
        if reference.is_empty() {
            return Err("the image reference is empty".into());
        }
        let (name_and_tag, digest) = match reference.split_once('@') {
            Some((name, digest)) => (name, Some(validate_digest(digest)?)),
            None => (reference, None),
        };
        let (name, tag) = split_tag(name_and_tag)?;
        if name.len() > MAX_NAME_LENGTH {
            return Err(format!(
                "the repository name is longer than {MAX_NAME_LENGTH} characters"
            ));
        }
        let (registry, path) = split_registry(name);
        validate_registry(registry)?;
        validate_path(path)?;
        let registry = if registry == "index.docker.io" {
            DOCKER_HUB
        } else {
            registry
        };
        let repository = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_string()
        };
        Ok(ImageRef {
            registry: registry.to_string(),
            repository,
            tag: tag.map(str::to_string),
            digest,
        })
    }

    /// The tag the runtime pulls: the one written, else `latest` unless pinned by digest.
    pub fn effective_tag(&self) -> Option<&str> {
        match (&self.tag, &self.digest) {
            (Some(tag), _) => Some(tag),
            (None, Some(_)) => None,
            (None, None) => Some("latest"),
        }
    }

    pub fn is_docker_hub(&self) -> bool {
        self.registry == DOCKER_HUB
    }

    /// The fully qualified reference, e.g. `docker.io/library/nginx:latest`.
    pub fn qualified(&self) -> String {
        let mut out = format!("{}/{}", self.registry, self.repository);
        if let Some(tag) = self.effective_tag() {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(digest);
        }
        out
    }

    /// The server to give `kubectl create secret docker-registry --docker-server`.
    pub fn credential_server(&self) -> &str {
        if self.is_docker_hub() {
            "https://index.docker.io/v1/"
        } else {
            &self.registry
        }
    }
}

/// Splits `name:tag` at a colon after the last slash (a colon before it is a registry port).
fn split_tag(name: &str) -> Result<(&str, Option<&str>), String> {
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    let Some(colon) = name[last_slash..].rfind(':').map(|i| i + last_slash) else {
        return Ok((name, None));
    };
    let tag = &name[colon + 1..];
    let valid = !tag.is_empty()
        && tag.len() <= MAX_TAG_LENGTH
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && !tag.starts_with(['.', '-']);
    if valid {
        Ok((&name[..colon], Some(tag)))
    } else {
        Err(format!(
            "the tag {tag:?} is invalid (letters, digits, '_', '.', '-'; at most {MAX_TAG_LENGTH})"
        ))
    }
}

/// The first component is a registry when it has a dot or port, is `localhost`, or has capitals.
fn split_registry(name: &str) -> (&str, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            (first, rest)
        }
        _ => (DOCKER_HUB, name),
    }
}

fn validate_registry(registry: &str) -> Result<(), String> {
    if registry.starts_with('[') {
        return Ok(()); // an IPv6 literal: left to the runtime
    }
    let (host, port) = match registry.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (registry, None),
    };
    if let Some(port) = port
        && (port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(format!("the registry port {port:?} is not a number"));
    }
    let host_ok = host.split('.').all(|label| {
        !label.is_empty()
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    });
    if host_ok {
        Ok(())
    } else {
        Err(format!(
            "the registry host {host:?} is not a valid host name"
        ))
    }
}

/// Path components: lowercase letters and digits, joined by `.`, `_`, `__` or runs of `-`.
fn validate_path(path: &str) -> Result<(), String> {
    if path.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(format!("the repository name {path:?} must be lowercase"));
    }
    if path.len() == 64 && path.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(
            "a 64-character hexadecimal string is an image ID, not a repository name".into(),
        );
    }
    if path.split('/').all(valid_component) {
        Ok(())
    } else {
        Err(format!(
            "the repository name {path:?} is not valid (invalid reference format)"
        ))
    }
}

fn valid_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !alnum(first) || !alnum(last) {
        return false;
    }
    let mut separators = component.split(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit());
    separators.all(|sep| {
        sep.is_empty() || sep == "." || sep == "_" || sep == "__" || sep.chars().all(|c| c == '-')
    })
}

fn validate_digest(digest: &str) -> Result<String, String> {
    let invalid = || {
        format!(
            "the digest {digest:?} is invalid (expected algorithm:hex, e.g. sha256:<64 hex digits>)"
        )
    };
    let (algorithm, hex) = digest.split_once(':').ok_or_else(invalid)?;
    let algorithm_ok = algorithm
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && algorithm
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '_' | '-'));
    let hex_ok = hex.len() >= 32 && hex.chars().all(|c| c.is_ascii_hexdigit());
    let length_ok = algorithm != "sha256" || hex.len() == 64;
    if algorithm_ok && hex_ok && length_ok {
        Ok(digest.to_string())
    } else {
        Err(invalid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(reference: &str) -> (String, String, Option<String>, Option<String>) {
        let r = ImageRef::parse(reference).unwrap();
        (r.registry, r.repository, r.tag, r.digest)
    }

    #[test]
    fn docker_hub_defaults() {
        assert_eq!(
            parts("nginx"),
            ("docker.io".into(), "library/nginx".into(), None, None)
        );
        let nginx = ImageRef::parse("nginx").unwrap();
        assert_eq!(nginx.effective_tag(), Some("latest"));
        assert_eq!(nginx.qualified(), "docker.io/library/nginx:latest");
        assert_eq!(
            parts("bitnami/redis:7.2"),
            (
                "docker.io".into(),
                "bitnami/redis".into(),
                Some("7.2".into()),
                None
            )
        );
        assert_eq!(parts("index.docker.io/nginx:1").1, "library/nginx");
        assert_eq!(nginx.credential_server(), "https://index.docker.io/v1/");
    }

    #[test]
    fn registries_ports_and_digests() {
        assert_eq!(
            parts("registry.example:5000/team/app:v1"),
            (
                "registry.example:5000".into(),
                "team/app".into(),
                Some("v1".into()),
                None
            )
        );
        assert_eq!(parts("localhost/app").0, "localhost");
        let digest = format!("sha256:{}", "a".repeat(64));
        let r = ImageRef::parse(&format!("ghcr.io/org/app@{digest}")).unwrap();
        assert_eq!(
            (r.tag.as_deref(), r.digest.as_deref(), r.effective_tag()),
            (None, Some(digest.as_str()), None)
        );
        assert_eq!(r.credential_server(), "ghcr.io");
    }

    #[test]
    fn rejects_what_the_runtime_rejects() {
        for bad in [
            "",
            "Nginx",
            "nginx:",
            "nginx:-x",
            "app@sha256:abc",
            "re..po/x",
            "-a/b",
            "a//b",
            "host:port/x",
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad:?} should be invalid");
        }
        assert!(
            ImageRef::parse("MyRegistry/app").is_ok(),
            "a capitalised first part is a registry host"
        );
        assert!(ImageRef::parse("my_org/my-app__x:1.0").is_ok());
    }
}
