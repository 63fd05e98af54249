//! Stream times as people read them: China Standard Time (UTC+8, no daylight
//! saving), parsed and formatted by `jiff`. Stream times are milliseconds
//! since the Unix epoch everywhere else.

use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};
use jiff::{Timestamp, Zoned};

fn cst() -> TimeZone {
    TimeZone::fixed(Offset::constant(8))
}

fn zoned(time_ms: i64) -> Option<Zoned> {
    Timestamp::from_millisecond(time_ms)
        .ok()
        .map(|t| t.to_zoned(cst()))
}

/// Parses `YYYY-MM-DDTHH:MM[:SS]` (or with a space for the `T`) in China
/// Standard Time to ms since the Unix epoch.
/// The wall clock in milliseconds since the Unix epoch (0 before 1970).
pub fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub fn parse_cst(text: &str) -> Result<i64, String> {
    let bad = |why: String| {
        format!("{text:?} should look like 2026-11-24T18:00 (China Standard Time): {why}")
    };
    let civil: DateTime = text
        .trim()
        .replacen(' ', "T", 1)
        .parse()
        .map_err(|e: jiff::Error| bad(e.to_string()))?;
    let zoned = civil
        .to_zoned(cst())
        .map_err(|e: jiff::Error| bad(e.to_string()))?;
    Ok(zoned.timestamp().as_millisecond())
}

/// Parses an ISO 8601 date (`2007-01-01`, midnight) or date-time, with an
/// offset (`…+08:00`, `…Z`) or without one (China Standard Time).
pub fn parse_iso(text: &str) -> Result<i64, String> {
    let t = text.trim();
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Ok(ts.as_millisecond());
    }
    if let Ok(date) = t.parse::<jiff::civil::Date>() {
        return date
            .to_zoned(cst())
            .map(|z| z.timestamp().as_millisecond())
            .map_err(|e| format!("{t:?}: {e}"));
    }
    parse_cst(t).map_err(|_| {
        format!("{t:?} is not an ISO 8601 date or date-time (e.g. 2007-01-01 or 2023-10-09T06:30:00+08:00)")
    })
}

/// `2026-11-24 10:30:05` in China Standard Time.
pub fn format_cst(time_ms: i64) -> String {
    zoned(time_ms).map_or_else(
        || format!("{time_ms} ms"),
        |z| z.strftime("%Y-%m-%d %H:%M:%S").to_string(),
    )
}

/// `11-24 10:30` in China Standard Time.
pub fn day_clock_cst(time_ms: i64) -> String {
    zoned(time_ms).map_or_else(
        || "--".to_owned(),
        |z| z.strftime("%m-%d %H:%M").to_string(),
    )
}

/// `10:30` in China Standard Time.
pub fn clock_cst(time_ms: i64) -> String {
    zoned(time_ms).map_or_else(|| "--:--".to_owned(), |z| z.strftime("%H:%M").to_string())
}

/// `10:30:05` in China Standard Time.
pub fn clock_secs_cst(time_ms: i64) -> String {
    zoned(time_ms).map_or_else(
        || "--:--:--".to_owned(),
        |z| z.strftime("%H:%M:%S").to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_and_times_with_and_without_offsets() {
        let midnight = parse_iso("2007-01-01").expect("a date");
        assert_eq!(format_cst(midnight), "2007-01-01 00:00:00");
        assert_eq!(parse_iso("2007-01-01T00:00:00+08:00"), Ok(midnight));
        assert_eq!(parse_iso("2006-12-31T16:00:00Z"), Ok(midnight));
        assert_eq!(parse_iso("2007-01-01 00:00"), Ok(midnight));
        assert!(parse_iso("01/02/2007").is_err());
    }

    #[test]
    fn cst_round_trips_and_refuses_nonsense() {
        // The demo scenario starts 2026-11-24 08:00 CST.
        assert_eq!(parse_cst("2026-11-24T08:00"), Ok(1_795_478_400_000));
        assert_eq!(parse_cst("2026-11-24 08:00:30"), Ok(1_795_478_430_000));
        assert_eq!(format_cst(1_795_478_400_000), "2026-11-24 08:00:00");
        assert_eq!(clock_cst(1_795_478_400_000 + 90 * 60_000), "09:30");
        assert_eq!(clock_secs_cst(1_795_478_405_000), "08:00:05");
        // Midnight CST is 16:00 UTC the day before.
        assert_eq!(
            format_cst(parse_cst("2026-11-25T00:00").expect("parses")),
            "2026-11-25 00:00:00"
        );
        assert_eq!(
            parse_cst("2026-11-24"),
            Ok(1_795_478_400_000 - 8 * 3_600_000),
            "a date is its midnight"
        );
        for bad in ["2026-13-01T00:00", "yesterday", "2026-02-30T10:00", "10:30"] {
            let err = parse_cst(bad).expect_err(bad);
            assert!(err.contains(bad), "{err}");
        }
    }
}
