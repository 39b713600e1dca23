//! `--request-timeout` in kubectl's syntax: a Go duration, a bare number of seconds, or 0 for none.

use std::time::Duration;

use crate::Error;

/// Parses `--request-timeout`; `Ok(None)` means wait forever, as kubectl's "0" does.
pub fn parse_request_timeout(text: &str) -> Result<Option<Duration>, Error> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok((seconds > 0).then(|| Duration::from_secs(seconds)));
    }
    let parsed: kube::core::Duration = text.parse().map_err(|_| {
        Error::Usage(format!(
            "invalid --request-timeout \"{text}\": use a duration such as 30s, 1m or 0 (no timeout)"
        ))
    })?;
    if parsed.is_negative() {
        return Err(Error::Usage(format!(
            "invalid --request-timeout \"{text}\": it must not be negative"
        )));
    }
    let duration: Duration = parsed.into();
    Ok((!duration.is_zero()).then_some(duration))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_kubectl_forms() {
        assert_eq!(
            parse_request_timeout("30s").unwrap(),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_request_timeout("1m30s").unwrap(),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            parse_request_timeout("5").unwrap(),
            Some(Duration::from_secs(5))
        );
        assert_eq!(parse_request_timeout("0").unwrap(), None);
        assert_eq!(
            parse_request_timeout("250ms").unwrap(),
            Some(Duration::from_millis(250))
        );
    }

    #[test]
    fn rejects_garbage_with_a_usage_error() {
        let err = parse_request_timeout("soon").unwrap_err();
        assert!(
            err.to_string()
                .contains("invalid --request-timeout \"soon\"")
        );
        assert!(parse_request_timeout("-5s").is_err());
    }
}
