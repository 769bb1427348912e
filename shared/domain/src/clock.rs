//! Wall-clock time: epoch milliseconds for arithmetic, RFC 3339 UTC for storage and JSON.

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format as DateTimeFormat;

pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// RFC 3339 in UTC with millisecond precision, e.g. `2026-11-25T08:22:31.123Z`.
pub fn rfc3339(millis: i64) -> String {
    // The SDK's formatter trims trailing zeros of the fraction; a fixed width keeps
    // timestamps uniform for clients.
    let text = DateTime::from_millis(millis)
        .fmt(DateTimeFormat::DateTime)
        .unwrap_or_default();
    let base = text.trim_end_matches('Z');
    let (seconds, fraction) = base.split_once('.').unwrap_or((base, ""));
    format!("{seconds}.{:0<3}Z", &fraction[..fraction.len().min(3)])
}

pub fn now_rfc3339() -> String {
    rfc3339(now_millis())
}

/// Epoch milliseconds of an RFC 3339 timestamp (as [`rfc3339`] writes them).
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    DateTime::from_str(text, DateTimeFormat::DateTime)
        .ok()?
        .to_millis()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_fixed_milliseconds() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_764_058_951_120), "2025-11-25T08:22:31.120Z");
        assert_eq!(rfc3339(1_764_058_951_007), "2025-11-25T08:22:31.007Z");
        assert_eq!(
            parse_rfc3339("2025-11-25T08:22:31.007Z"),
            Some(1_764_058_951_007)
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
