//! What an image pull error message means, from the runtime's wording (containerd, CRI-O,
//! dockershim) as the kubelet relays it in `Failed to pull image "...": ...`.

/// The cause of a failed pull.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullFailure {
    /// The repository or tag does not exist (`not found`, `manifest unknown`).
    NotFound,
    /// The registry refused the credentials, or the repository is private (`401`, `denied`).
    Unauthorized,
    /// The registry could not be reached (`dial tcp`, `no such host`, `connection refused`).
    Unreachable,
    /// The pull started but did not finish in time (a huge image, a slow link).
    Timeout,
    /// The registry throttles pulls (`429`, `toomanyrequests`).
    RateLimited,
    /// The registry's certificate is not trusted (`x509`).
    Tls,
    /// The image has no build for the node's OS/architecture.
    Platform,
    /// Anything else, or no message.
    Unknown,
}

impl PullFailure {
    /// The finding code of this cause.
    pub fn code(self) -> &'static str {
        match self {
            PullFailure::NotFound => "image-not-found",
            PullFailure::Unauthorized => "image-pull-unauthorized",
            PullFailure::Unreachable => "image-registry-unreachable",
            PullFailure::Timeout => "image-pull-timeout",
            PullFailure::RateLimited => "image-pull-rate-limited",
            PullFailure::Tls => "image-registry-tls",
            PullFailure::Platform => "image-platform-mismatch",
            PullFailure::Unknown => "image-pull-failed",
        }
    }
}

const PLATFORM: [&str; 2] = ["no match for platform", "no matching manifest for"];
const RATE_LIMITED: [&str; 3] = ["toomanyrequests", "429 too many requests", "rate limit"];
const UNAUTHORIZED: [&str; 9] = [
    "unauthorized",
    "401",
    "403 forbidden",
    "denied",
    "insufficient_scope",
    "authorization failed",
    "authentication required",
    "failed to authorize",
    "no basic auth credentials",
];
const NOT_FOUND: [&str; 4] = ["not found", "manifest unknown", "name unknown", "404"];
const TLS: [&str; 3] = [
    "x509:",
    "certificate signed by unknown authority",
    "tls: failed to verify",
];
const UNREACHABLE: [&str; 7] = [
    "dial tcp",
    "no such host",
    "connection refused",
    "network is unreachable",
    "server misbehaving",
    "connection reset by peer",
    "no route to host",
];
const TIMEOUT: [&str; 6] = [
    "i/o timeout",
    "deadline exceeded",
    "context canceled",
    "no progress",
    "handshake timeout",
    "timeout",
];

/// Classifies a pull error. Order matters: `dial tcp ...: i/o timeout` is an unreachable
/// registry, not a slow pull; a platform mismatch also says `not found`.
pub fn classify(message: &str) -> PullFailure {
    let text = message.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| text.contains(n));
    if has(&PLATFORM) {
        PullFailure::Platform
    } else if has(&RATE_LIMITED) {
        PullFailure::RateLimited
    } else if has(&UNAUTHORIZED) {
        PullFailure::Unauthorized
    } else if has(&NOT_FOUND) {
        PullFailure::NotFound
    } else if has(&TLS) {
        PullFailure::Tls
    } else if has(&UNREACHABLE) {
        PullFailure::Unreachable
    } else if has(&TIMEOUT) {
        PullFailure::Timeout
    } else {
        PullFailure::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_runtime_messages() {
        let cases = [
            (
                r#"rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:nope": failed to resolve reference "docker.io/library/nginx:nope": docker.io/library/nginx:nope: not found"#,
                PullFailure::NotFound,
            ),
            (
                "manifest for registry.example/app:2 not found: manifest unknown: manifest unknown",
                PullFailure::NotFound,
            ),
            (
                r#"failed to resolve reference "docker.io/acme/private:1": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed"#,
                PullFailure::Unauthorized,
            ),
            (
                "failed to authorize: failed to fetch oauth token: unexpected status from GET request to https://registry.example/token: 401 Unauthorized",
                PullFailure::Unauthorized,
            ),
            (
                r#"failed to do request: Head "https://registry.example/v2/app/manifests/1": dial tcp 10.0.0.9:443: i/o timeout"#,
                PullFailure::Unreachable,
            ),
            (
                "dial tcp: lookup registry.example on 10.96.0.10:53: no such host",
                PullFailure::Unreachable,
            ),
            (
                r#"failed to pull and unpack image "docker.io/big/model:1": failed to copy: httpReadSeeker: failed open: context canceled"#,
                PullFailure::Timeout,
            ),
            (
                "cancel pulling image docker.io/big/model:1 because of no progress in 5m0s",
                PullFailure::Timeout,
            ),
            (
                "429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit.",
                PullFailure::RateLimited,
            ),
            (
                "x509: certificate signed by unknown authority",
                PullFailure::Tls,
            ),
            (
                r#"failed to unpack image "docker.io/x/y:1": no match for platform in manifest: not found"#,
                PullFailure::Platform,
            ),
            ("something odd happened", PullFailure::Unknown),
        ];
        for (message, want) in cases {
            assert_eq!(classify(message), want, "{message}");
        }
    }
}
