//! Shared bits of generated objects: timestamps, quantities, owner references.

use serde_json::{Value, json};

/// Generated objects are created between this instant and a few days later (2026-01-05T00:00Z).
pub const BASE_EPOCH: i64 = 1_767_571_200;

/// RFC 3339 UTC timestamp of `BASE_EPOCH + offset_seconds`.
pub fn timestamp(offset_seconds: i64) -> String {
    let t = BASE_EPOCH + offset_seconds;
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Millicores as a Kubernetes quantity (`250m`, `2`).
pub fn cpu(millis: u64) -> String {
    if millis % 1000 == 0 {
        (millis / 1000).to_string()
    } else {
        format!("{millis}m")
    }
}

/// Bytes as a Kubernetes quantity (`512Mi`, `2Gi`).
pub fn memory(bytes: u64) -> String {
    const MI: u64 = 1 << 20;
    if bytes % (1 << 30) == 0 {
        format!("{}Gi", bytes >> 30)
    } else {
        format!("{}Mi", bytes / MI)
    }
}

/// A controller owner reference.
pub fn owner(api_version: &str, kind: &str, name: &str, uid: &str) -> Value {
    json!({
        "apiVersion": api_version,
        "kind": kind,
        "name": name,
        "uid": uid,
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_and_quantities() {
        assert_eq!(super::timestamp(0), "2026-01-05T00:00:00Z");
        assert_eq!(super::timestamp(86_400 * 60 + 3661), "2026-03-06T01:01:01Z");
        assert_eq!(super::cpu(250), "250m");
        assert_eq!(super::cpu(2000), "2");
        assert_eq!(super::memory(512 << 20), "512Mi");
        assert_eq!(super::memory(2 << 30), "2Gi");
    }
}
