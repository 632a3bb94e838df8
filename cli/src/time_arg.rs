//! Times on the command line: ISO 8601 in and out (UTC), durations like `10m`.

use asyncop::transition::time_text::days_from_civil;
pub use asyncop::transition::time_text::iso_utc;

const DAY_MS: i64 = 86_400_000;

/// An optional time as ISO 8601 UTC, or `-`.
pub fn opt_iso(ms: Option<i64>) -> String {
    ms.map_or_else(|| "-".to_owned(), iso_utc)
}

fn number(text: &str, what: &str, range: std::ops::RangeInclusive<i64>) -> Result<i64, String> {
    let n: i64 = text
        .parse()
        .map_err(|_| format!("{what} {text:?} is not a number"))?;
    if range.contains(&n) {
        Ok(n)
    } else {
        Err(format!("{what} {n} is out of range"))
    }
}

/// `YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|±HH:MM]` as UTC ms; no offset means UTC.
pub fn parse_iso(text: &str) -> Result<i64, String> {
    let bad =
        || format!("{text:?} is not an ISO 8601 time (e.g. 2026-12-05T10:00:00Z or 2026-12-05)");
    let t = text.trim();
    let (date, time) = match t.split_once(['T', 't', ' ']) {
        Some((d, rest)) => (d, Some(rest)),
        None => (t, None),
    };
    let mut parts = date.split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let y = number(y, "year", 1970..=9999)?;
    let m = number(m, "month", 1..=12)?;
    let d = number(d, "day", 1..=31)?;
    let mut ms = days_from_civil(y, m, d) * DAY_MS;
    if let Some(time) = time {
        let (clock, offset_ms) = split_offset(time).ok_or_else(bad)?;
        let mut fields = clock.split(':');
        let h = number(fields.next().ok_or_else(bad)?, "hour", 0..=23)?;
        let min = number(fields.next().ok_or_else(bad)?, "minute", 0..=59)?;
        let (s, milli) = match fields.next() {
            Some(sec) => match sec.split_once('.') {
                Some((s, frac)) => {
                    let frac: String = frac.chars().chain("000".chars()).take(3).collect();
                    (
                        number(s, "second", 0..=59)?,
                        number(&frac, "fraction", 0..=999)?,
                    )
                }
                None => (number(sec, "second", 0..=59)?, 0),
            },
            None => (0, 0),
        };
        if fields.next().is_some() {
            return Err(bad());
        }
        ms += h * 3_600_000 + min * 60_000 + s * 1_000 + milli - offset_ms;
    }
    Ok(ms)
}

/// Splits `HH:MM:SS.fff` from a trailing `Z` or `±HH:MM` (ms to subtract).
fn split_offset(time: &str) -> Option<(&str, i64)> {
    if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        return Some((clock, 0));
    }
    match time.rfind(['+', '-']) {
        Some(i) => {
            let sign = if time[i..].starts_with('-') { -1 } else { 1 };
            let (h, m) = time[i + 1..]
                .split_once(':')
                .unwrap_or((&time[i + 1..], "0"));
            let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
            Some((&time[..i], sign * (h * 3_600_000 + m * 60_000)))
        }
        None => Some((time, 0)),
    }
}

/// `90s`, `10m`, `2h`, `1d`, `500ms` or a sum like `1h30m`, in ms (> 0).
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let bad = || format!("{text:?} is not a duration (e.g. 90s, 10m, 2h, 1d, 1h30m)");
    let mut total: i64 = 0;
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let n: i64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => DAY_MS,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
    }
    if total > 0 { Ok(total) } else { Err(bad()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times_and_durations_parse() {
        assert_eq!(parse_iso("1970-01-01").unwrap(), 0);
        assert_eq!(
            parse_iso("2026-12-04T23:53:57.123Z").unwrap(),
            1_796_428_437_123
        );
        assert_eq!(
            parse_iso("2026-12-05T00:53:57.123+01:00").unwrap(),
            1_796_428_437_123
        );
        assert_eq!(parse_iso("2026-12-04T23:53").unwrap(), 1_796_428_380_000);
        assert!(parse_iso("tomorrow").is_err());
        assert!(parse_iso("2026-13-01").is_err());
        assert_eq!(parse_duration("10m").unwrap(), 600_000);
        assert_eq!(parse_duration("1h30m").unwrap(), 5_400_000);
        assert_eq!(parse_duration("500ms").unwrap(), 500);
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("m").is_err());
    }
}
