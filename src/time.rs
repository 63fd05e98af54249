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

/// `2026-11-24 10:30:05` in China Standard Time.
pub fn format_cst(time_ms: i64) -> String {
    zoned(time_ms).map_or_else(
        || format!("{time_ms} ms"),
        |z| z.strftime("%Y-%m-%d %H:%M:%S").to_string(),
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
