//! Recurrence (§8): the RRULE subset a recurring operation may carry, and the
//! pure computation of its occurrences. Occurrences are in UTC with no time
//! zones: `recurrence_start` + k × INTERVAL units (k ≥ 0); MONTHLY keeps the
//! day of month and time of day and skips months that lack that day (RFC 5545).

use super::time_text::{civil_from_days, days_from_civil};
use crate::error::{Error, Result};

/// How often a series recurs (`FREQ`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freq {
    /// Every INTERVAL minutes.
    Minutely,
    /// Every INTERVAL hours.
    Hourly,
    /// Every INTERVAL days.
    Daily,
    /// Every INTERVAL weeks (7 days).
    Weekly,
    /// Every INTERVAL months, on the start's day of month.
    Monthly,
}

/// A parsed recurrence pattern: `FREQ` and `INTERVAL` (default 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pattern {
    /// The unit.
    pub freq: Freq,
    /// Units between occurrences, at least 1.
    pub interval: u32,
}

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;

impl Pattern {
    /// Parses a pattern: `;`-separated `KEY=VALUE` parts, an optional trailing
    /// `;`, keys and values case-insensitive; `FREQ` exactly once, `INTERVAL`
    /// at most once (a positive 32-bit integer). `None` for an empty pattern
    /// (a one-shot operation). Anything else is `InvalidArgument`.
    pub fn parse(text: &str) -> Result<Option<Pattern>> {
        let bad =
            |why: String| Error::InvalidArgument(format!("recurrence pattern {text:?}: {why}"));
        if text.trim().is_empty() {
            return Ok(None);
        }
        let body = text.strip_suffix(';').unwrap_or(text);
        let mut freq = None;
        let mut interval = None;
        for part in body.split(';') {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| bad(format!("part {part:?} is not KEY=VALUE")))?;
            match key.trim().to_ascii_uppercase().as_str() {
                "FREQ" if freq.is_some() => return Err(bad("FREQ is given twice".into())),
                "FREQ" => {
                    freq = Some(match value.trim().to_ascii_uppercase().as_str() {
                        "MINUTELY" => Freq::Minutely,
                        "HOURLY" => Freq::Hourly,
                        "DAILY" => Freq::Daily,
                        "WEEKLY" => Freq::Weekly,
                        "MONTHLY" => Freq::Monthly,
                        other => {
                            return Err(bad(format!(
                                "FREQ must be MINUTELY, HOURLY, DAILY, WEEKLY or MONTHLY, got {other:?}"
                            )));
                        }
                    });
                }
                "INTERVAL" if interval.is_some() => {
                    return Err(bad("INTERVAL is given twice".into()));
                }
                "INTERVAL" => {
                    let n: u32 = value
                        .trim()
                        .parse()
                        .ok()
                        .filter(|n| (1..=i32::MAX as u32).contains(n))
                        .ok_or_else(|| {
                            bad(format!(
                                "INTERVAL must be a positive 32-bit integer, got {value:?}"
                            ))
                        })?;
                    interval = Some(n);
                }
                other => {
                    return Err(bad(format!(
                        "{other} is not supported (only FREQ and INTERVAL)"
                    )));
                }
            }
        }
        let freq = freq.ok_or_else(|| bad("FREQ is required".into()))?;
        Ok(Some(Pattern {
            freq,
            interval: interval.unwrap_or(1),
        }))
    }

    /// The first occurrence of the series starting at `start` that is strictly
    /// later than `after` (UTC ms); `None` when there is none before the year
    /// 9999 (the interval is too large for the calendar).
    pub fn next_after(&self, start: i64, after: i64) -> Option<i64> {
        if after < start {
            return Some(start);
        }
        let unit = match self.freq {
            Freq::Minutely => MINUTE_MS,
            Freq::Hourly => 60 * MINUTE_MS,
            Freq::Daily => DAY_MS,
            Freq::Weekly => 7 * DAY_MS,
            Freq::Monthly => return next_monthly(start, after, i64::from(self.interval)),
        };
        let step = unit.checked_mul(i64::from(self.interval))?;
        let k = (after - start) / step + 1;
        let next = start.checked_add(k.checked_mul(step)?)?;
        (next <= MAX_MS).then_some(next)
    }
}

/// 9999-12-31T23:59:59.999Z: occurrences past it do not exist.
const MAX_MS: i64 = 253_402_300_799_999;

/// MONTHLY: the start's day of month and time of day, every `interval`
/// months, months without that day skipped.
fn next_monthly(start: i64, after: i64, interval: i64) -> Option<i64> {
    let day_ms = start.rem_euclid(DAY_MS);
    let (y, m, d) = civil_from_days(start.div_euclid(DAY_MS));
    let (ay, am, _) = civil_from_days(after.div_euclid(DAY_MS));
    let start_month = y * 12 + (m - 1);
    let months_after = (ay * 12 + (am - 1)) - start_month;
    // The first k whose month is not before `after`'s month.
    let mut k = (months_after / interval).max(0);
    loop {
        let month = start_month.checked_add(k.checked_mul(interval)?)?;
        let (year, month0) = (month.div_euclid(12), month.rem_euclid(12));
        if year > 9999 {
            return None;
        }
        if d <= days_in_month(year, month0 + 1) {
            let at = days_from_civil(year, month0 + 1, d) * DAY_MS + day_ms;
            if at > after {
                return Some(at);
            }
        }
        k += 1;
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// UTC ms of a date and time, written out so the expectations are read
    /// from the calendar, not computed by the code under test.
    fn at(y: i64, m: i64, d: i64, h: i64, min: i64) -> i64 {
        days_from_civil(y, m, d) * DAY_MS + (h * 60 + min) * MINUTE_MS
    }

    fn p(text: &str) -> Pattern {
        Pattern::parse(text).unwrap().unwrap()
    }

    #[test]
    fn the_calendar_matches_known_dates() {
        assert_eq!(at(1970, 1, 1, 0, 0), 0);
        assert_eq!(at(2000, 3, 1, 0, 0), 951_868_800_000);
        assert_eq!(at(2024, 2, 29, 12, 0), 1_709_208_000_000);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn patterns_parse_as_the_model_says() {
        assert_eq!(Pattern::parse("").unwrap(), None);
        assert_eq!(
            p("FREQ=DAILY;"),
            Pattern {
                freq: Freq::Daily,
                interval: 1
            }
        );
        assert_eq!(
            p("freq=weekly;interval=3"),
            Pattern {
                freq: Freq::Weekly,
                interval: 3
            }
        );
        assert_eq!(p("INTERVAL=2;FREQ=MONTHLY;").interval, 2);
        assert_eq!(
            p("FREQ=MINUTELY;INTERVAL=2147483647").interval,
            2_147_483_647
        );
        for bad in [
            ";",
            "DAILY",
            "FREQ=YEARLY",
            "FREQ=DAILY;FREQ=DAILY",
            "FREQ=DAILY;INTERVAL=0",
            "FREQ=DAILY;INTERVAL=-1",
            "FREQ=DAILY;INTERVAL=2147483648",
            "FREQ=DAILY;INTERVAL=1;INTERVAL=2",
            "FREQ=DAILY;COUNT=3",
            "FREQ=WEEKLY;BYDAY=MO",
            "INTERVAL=2",
            "FREQ=DAILY;;",
        ] {
            assert!(
                matches!(Pattern::parse(bad), Err(Error::InvalidArgument(_))),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn fixed_units_step_from_the_start() {
        let start = at(2026, 1, 1, 9, 30);
        let daily = p("FREQ=DAILY;INTERVAL=3");
        assert_eq!(daily.next_after(start, start - 1), Some(start));
        assert_eq!(daily.next_after(start, start), Some(at(2026, 1, 4, 9, 30)));
        // Missed occurrences are skipped: the first one strictly after `after`.
        assert_eq!(
            daily.next_after(start, at(2026, 1, 20, 0, 0)),
            Some(at(2026, 1, 22, 9, 30))
        );
        assert_eq!(
            daily.next_after(start, at(2026, 1, 22, 9, 30)),
            Some(at(2026, 1, 25, 9, 30))
        );
        let minutely = p("FREQ=MINUTELY;INTERVAL=7");
        assert_eq!(
            minutely.next_after(start, start + 1),
            Some(at(2026, 1, 1, 9, 37))
        );
        let hourly = p("FREQ=HOURLY");
        assert_eq!(
            hourly.next_after(start, at(2026, 3, 29, 1, 45)),
            Some(at(2026, 3, 29, 2, 30))
        );
        let weekly = p("FREQ=WEEKLY;INTERVAL=2");
        assert_eq!(
            weekly.next_after(start, at(2026, 1, 10, 0, 0)),
            Some(at(2026, 1, 15, 9, 30))
        );
        // Across a leap day: UTC days, no time zones.
        let start = at(2024, 2, 27, 23, 0);
        assert_eq!(
            p("FREQ=DAILY;INTERVAL=2").next_after(start, start),
            Some(at(2024, 2, 29, 23, 0))
        );
    }

    #[test]
    fn monthly_keeps_the_day_and_skips_months_without_it() {
        let start = at(2026, 1, 31, 8, 0);
        let monthly = p("FREQ=MONTHLY");
        // February, April, June, September and November have no 31st.
        assert_eq!(
            monthly.next_after(start, start),
            Some(at(2026, 3, 31, 8, 0))
        );
        assert_eq!(
            monthly.next_after(start, at(2026, 3, 31, 8, 0)),
            Some(at(2026, 5, 31, 8, 0))
        );
        assert_eq!(
            monthly.next_after(start, at(2026, 7, 31, 8, 0)),
            Some(at(2026, 8, 31, 8, 0))
        );
        assert_eq!(
            monthly.next_after(start, at(2026, 8, 31, 8, 0)),
            Some(at(2026, 10, 31, 8, 0))
        );
        // Same day, earlier time: that month's occurrence still counts.
        assert_eq!(
            monthly.next_after(start, at(2026, 5, 31, 7, 59)),
            Some(at(2026, 5, 31, 8, 0))
        );
        // The 30th: every month but February.
        let start = at(2026, 1, 30, 0, 0);
        assert_eq!(
            monthly.next_after(start, at(2026, 2, 1, 0, 0)),
            Some(at(2026, 3, 30, 0, 0))
        );
        // The 29th: February only in leap years.
        let start = at(2027, 1, 29, 0, 0);
        assert_eq!(
            monthly.next_after(start, at(2027, 1, 29, 0, 0)),
            Some(at(2027, 3, 29, 0, 0))
        );
        assert_eq!(
            monthly.next_after(start, at(2028, 1, 29, 0, 0)),
            Some(at(2028, 2, 29, 0, 0))
        );
        // Every 2 months from 31 January: March, May and July have a 31st;
        // September and November do not, so after July comes January.
        let start = at(2026, 1, 31, 0, 0);
        let bimonthly = p("FREQ=MONTHLY;INTERVAL=2");
        assert_eq!(
            bimonthly.next_after(start, at(2026, 7, 31, 0, 0)),
            Some(at(2027, 1, 31, 0, 0))
        );
    }

    #[test]
    fn leap_days_over_centuries() {
        // Yearly on 29 February (12 months): only leap years; 2100 is not one.
        let start = at(2096, 2, 29, 6, 0);
        let yearly = p("FREQ=MONTHLY;INTERVAL=12");
        assert_eq!(yearly.next_after(start, start), Some(at(2104, 2, 29, 6, 0)));
        // Every 100 years from 2000-02-29: 2100, 2200, 2300 are not leap; 2400 is.
        let start = at(2000, 2, 29, 0, 0);
        let century = p("FREQ=MONTHLY;INTERVAL=1200");
        assert_eq!(
            century.next_after(start, start),
            Some(at(2400, 2, 29, 0, 0))
        );
    }

    #[test]
    fn large_intervals_end_before_the_year_9999_or_never() {
        let start = at(2026, 6, 1, 0, 0);
        let max = p("FREQ=WEEKLY;INTERVAL=2147483647");
        assert_eq!(max.next_after(start, start), None);
        let minutes = p("FREQ=MINUTELY;INTERVAL=2147483647");
        // 2^31 - 1 minutes is about 4,083 years.
        let next = minutes.next_after(start, start).unwrap();
        assert_eq!(next - start, 2_147_483_647 * MINUTE_MS);
        assert_eq!(minutes.next_after(start, next), None);
        let months = p("FREQ=MONTHLY;INTERVAL=2147483647");
        assert_eq!(months.next_after(start, start), None);
        // Far in the past: the start still comes first.
        assert_eq!(max.next_after(start, i64::MIN), Some(start));
    }
}
