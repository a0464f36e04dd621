//! How Postern writes and reads times, with the `time` crate: RFC 3339 for
//! the APIs, `YYYY-MM-DD HH:MM UTC` for people, and a day typed into a
//! filter. Times are Unix seconds everywhere else.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

/// Unix seconds as an RFC 3339 UTC timestamp (`2026-11-23T17:22:01Z`).
pub fn rfc3339(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs).ok().and_then(|t| t.format(&Rfc3339).ok()).unwrap_or_default()
}

/// Time as the back office shows it: `2026-11-23 17:22 UTC`.
pub fn display(secs: i64) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    OffsetDateTime::from_unix_timestamp(secs).ok().and_then(|t| t.format(&format).ok()).unwrap_or_default()
}

/// Parses `YYYY-MM-DD` (1970 to 9999) into the Unix time of that day's
/// start (UTC).
pub fn parse_day(text: &str) -> Option<i64> {
    let day = Date::parse(text.trim(), format_description!("[year]-[month]-[day]")).ok()?;
    if !(1970..=9999).contains(&day.year()) {
        return None;
    }
    Some(day.midnight().assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_454_521), "2026-11-23T17:22:01Z");
    }

    #[test]
    fn people_read_minutes_in_utc() {
        assert_eq!(display(1_795_454_521), "2026-11-23 17:22 UTC");
    }

    #[test]
    fn days_parse_to_utc_midnight() {
        assert_eq!(parse_day("1970-01-01"), Some(0));
        assert_eq!(parse_day("2026-11-25"), Some(1_795_564_800));
        assert_eq!(parse_day(" 2024-02-29 "), Some(1_709_164_800));
        for bad in ["2025-02-29", "2026-13-01", "26-11-25", "yesterday", "2026-11-25T10:00", "", "1969-12-31"] {
            assert_eq!(parse_day(bad), None, "{bad}");
        }
    }
}
