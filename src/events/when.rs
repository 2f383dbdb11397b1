//! What time a person means: "2026-12-03 14:00", "3 Dec 14:00", "Dec 3 2pm", "tomorrow 9:30",
//! "in 2 hours", "next monday 10:00" — in a given IANA zone, relative to a given `now` (so
//! tests pass a fixed clock). Natural language is parsed by `interim`; the wall-clock result is
//! then placed in the zone by chrono-tz, so a time that does not exist (clocks go forward) or
//! happens twice (clocks go back) is explained, never guessed. Pure, no I/O.

use std::sync::LazyLock;

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use regex::Regex;

/// Examples that work, shown with every error.
pub const EXAMPLES: &str =
    "2026-12-03 14:00, 3 Dec 14:00, Dec 3 2pm, tomorrow 9:30, in 2 hours, next monday 10:00";

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WhenError {
    #[error("I could not read “{0}” as a time. Try for example: {EXAMPLES}.")]
    Unreadable(String),
    #[error("“{0}” could be read two ways (3/12: 3 December or 12 March?). Write it as 2026-12-03 or 3 Dec.")]
    AmbiguousDate(String),
    #[error("{when} is in the past ({zone}). Give a time from now on, e.g. tomorrow 9:30.")]
    Past { when: String, zone: String },
    #[error(
        "{when} does not exist in {zone}: the clocks go forward that night. Try {suggestion}."
    )]
    Gap {
        when: String,
        zone: String,
        suggestion: String,
    },
    #[error("{when} happens twice in {zone}: the clocks go back that night. Say which with tz: UTC, or pick another time such as {suggestion}.")]
    Ambiguous {
        when: String,
        zone: String,
        suggestion: String,
    },
    #[error("“{0}” is not a time zone I know. Use an IANA name such as Europe/Zurich, America/New_York or UTC.")]
    UnknownZone(String),
}

pub fn zone(name: &str) -> Result<Tz, WhenError> {
    let trimmed = name.trim();
    trimmed.parse::<Tz>().or_else(|_| {
        // Case-insensitive: people type europe/zurich.
        chrono_tz::TZ_VARIANTS
            .iter()
            .find(|z| z.name().eq_ignore_ascii_case(trimmed))
            .copied()
            .ok_or_else(|| WhenError::UnknownZone(short(trimmed)))
    })
}

fn short(s: &str) -> String {
    s.chars().take(40).collect()
}

static IN_DURATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^in\s+(\d{1,4})\s*(minute|minutes|min|mins|hour|hours|h|day|days|week|weeks)$")
        .unwrap()
});
static DAY_MONTH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\d{1,2})\s+([a-z]{3,9})\b(.*)$").unwrap());
static SLASHED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b\d{1,2}/\d{1,2}\b").unwrap());

static CLOCK_TIME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(\d{1,2}):(\d{2})\b").unwrap());
static AM_PM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(\d{1,2})(?::\d{2})?\s*(am|pm)\b").unwrap());

/// Refuses clock times that do not exist (25:00, 10:75, 13pm): the natural-language reader
/// would roll them over into another time ("tomorrow 25:00" → the day after, 01:00).
fn check_clock_times(text: &str) -> Result<(), ()> {
    for c in CLOCK_TIME.captures_iter(text) {
        let (h, m): (u32, u32) = (c[1].parse().map_err(drop)?, c[2].parse().map_err(drop)?);
        if h > 23 || m > 59 {
            return Err(());
        }
    }
    for c in AM_PM.captures_iter(text) {
        let h: u32 = c[1].parse().map_err(drop)?;
        if !(1..=12).contains(&h) {
            return Err(());
        }
    }
    Ok(())
}

/// "midnight" and "noon" as clock times the reader knows; "midnight" alone is the coming one.
fn midnight_and_noon(text: &str) -> String {
    if text == "midnight" {
        return "tomorrow 00:00".into();
    }
    if text == "noon" || text == "midday" {
        return "12:00".into();
    }
    text.split(' ')
        .map(|w| match w {
            "midnight" => "00:00",
            "noon" | "midday" => "12:00",
            w => w,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Formats a wall-clock time for messages: "Thu 3 Dec 2026 14:00".
pub fn wall(naive: NaiveDateTime) -> String {
    naive.format("%a %-d %b %Y %H:%M").to_string()
}

/// An instant for a reply, read in `tz` ("Thu 3 Dec 2026 14:00"): see `reply::Moment`.
pub fn moment(at: DateTime<Utc>, tz: Tz) -> crate::reply::Moment {
    crate::reply::Moment {
        at: at.timestamp(),
        local: wall(at.with_timezone(&tz).naive_local()),
        zone: None,
        relative: None,
    }
}

/// Places a wall-clock time in `tz`, explaining gaps and repeats.
pub fn resolve(naive: NaiveDateTime, tz: Tz) -> Result<DateTime<Utc>, WhenError> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(_, _) => Err(WhenError::Ambiguous {
            when: wall(naive),
            zone: tz.name().into(),
            suggestion: wall(naive + Duration::hours(2)),
        }),
        LocalResult::None => {
            // The first minute after the gap that exists.
            let mut later = naive;
            for _ in 0..180 {
                later += Duration::minutes(1);
                if matches!(tz.from_local_datetime(&later), LocalResult::Single(_)) {
                    break;
                }
            }
            Err(WhenError::Gap {
                when: wall(naive),
                zone: tz.name().into(),
                suggestion: wall(later),
            })
        }
    }
}

fn minute(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(t)
}

/// Parses `input` as a future instant in zone `tz`, as of `now`.
pub fn parse(input: &str, now: DateTime<Utc>, tz: Tz) -> Result<DateTime<Utc>, WhenError> {
    let text = crate::search::normalize::fold_typography(input).to_lowercase();
    let text = text.trim().trim_end_matches('.');
    if text.is_empty() || text.len() > 80 {
        return Err(WhenError::Unreadable(short(input)));
    }
    // A duration from now is an instant, not a wall-clock time: no DST question arises.
    if let Some(c) = IN_DURATION.captures(text) {
        let n: i64 = c[1]
            .parse()
            .map_err(|_| WhenError::Unreadable(short(input)))?;
        if n == 0 {
            return Err(WhenError::Past {
                when: "Now".into(),
                zone: tz.name().into(),
            });
        }
        let d = match &c[2][..1] {
            "m" => Duration::minutes(n),
            "h" => Duration::hours(n),
            "d" => Duration::days(n),
            _ => Duration::weeks(n),
        };
        // On the minute; with n ≥ 1 that is still after now.
        return Ok(minute(now + d));
    }
    check_clock_times(text).map_err(|_| WhenError::Unreadable(short(input)))?;
    let text = &midnight_and_noon(text);
    if SLASHED.is_match(text) {
        return Err(WhenError::AmbiguousDate(short(input)));
    }
    // "3 dec 14:00" → "dec 3 14:00", which interim reads.
    let rewritten = match DAY_MONTH.captures(text) {
        Some(c) => format!("{} {}{}", &c[2], &c[1], &c[3]),
        None => text.to_string(),
    };
    // interim works on one zone; give it the local wall clock dressed as UTC, and read the
    // wall-clock answer back, so that the zone's rules are applied once, by chrono-tz.
    let local_now = Utc.from_utc_datetime(&now.with_timezone(&tz).naive_local());
    let parsed = interim::parse_date_string(&rewritten, local_now, interim::Dialect::Us)
        .map_err(|_| WhenError::Unreadable(short(input)))?;
    // Events start on the minute.
    let mut naive = parsed
        .naive_utc()
        .with_second(0)
        .and_then(|n| n.with_nanosecond(0))
        .unwrap_or(parsed.naive_utc());
    // "next monday" said on a Monday means a week later, not later today (interim's reading).
    if rewritten.starts_with("next ") && naive.date() == local_now.naive_utc().date() {
        naive += Duration::days(7);
    }
    let at = resolve(naive, tz)?;
    if at < now {
        return Err(WhenError::Past {
            when: wall(naive),
            zone: tz.name().into(),
        });
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        // Monday 23 November 2026, 15:00 UTC = 16:00 in Geneva.
        Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap()
    }

    fn local(s: &str, tz: &str) -> String {
        let tz = zone(tz).unwrap();
        parse(s, now(), tz)
            .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string())
            .unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn common_forms_are_read_in_the_spaces_zone() {
        assert_eq!(
            local("2026-12-03 14:00", "Europe/Zurich"),
            "2026-12-03 14:00 CET"
        );
        assert_eq!(
            local("3 Dec 14:00", "Europe/Zurich"),
            "2026-12-03 14:00 CET"
        );
        assert_eq!(
            local("Dec 3 2pm", "America/New_York"),
            "2026-12-03 14:00 EST"
        );
        assert_eq!(
            local("tomorrow 9:30", "Europe/Zurich"),
            "2026-11-24 09:30 CET"
        );
        assert_eq!(local("in 2 hours", "Europe/Zurich"), "2026-11-23 18:00 CET");
        assert_eq!(local("next monday 10:00", "UTC"), "2026-11-30 10:00 UTC");
        assert_eq!(
            local("next monday 18:00", "UTC"),
            "2026-11-30 18:00 UTC",
            "said on a Monday: a week later"
        );
        assert_eq!(
            local("monday 18:00", "UTC"),
            "2026-11-23 18:00 UTC",
            "plain weekday: the coming one, today if still ahead"
        );
    }

    #[test]
    fn clock_times_that_do_not_exist_are_refused_not_rolled_over() {
        for bad in [
            "tomorrow 25:00",
            "tomorrow 10:75",
            "tomorrow 13pm",
            "tomorrow 0am",
        ] {
            assert!(
                local(bad, "UTC").starts_with("I could not read"),
                "{bad}: {}",
                local(bad, "UTC")
            );
        }
    }

    #[test]
    fn midnight_and_noon_are_the_times_they_say() {
        assert_eq!(local("midnight", "UTC"), "2026-11-24 00:00 UTC");
        assert_eq!(local("tomorrow midnight", "UTC"), "2026-11-24 00:00 UTC");
        assert_eq!(
            local("tomorrow noon", "Europe/Zurich"),
            "2026-11-24 12:00 CET"
        );
    }

    #[test]
    fn a_duration_from_now_is_never_in_the_past() {
        assert!(local("in 0 minutes", "UTC").contains("in the past"));
        let later = parse("in 1 minute", now() + Duration::seconds(30), Tz::UTC).unwrap();
        assert_eq!(
            later,
            now() + Duration::minutes(1),
            "on the minute, after now"
        );
    }

    #[test]
    fn the_past_is_refused_with_an_example() {
        assert_eq!(local("2026-11-01 10:00", "Europe/Zurich"), "Sun 1 Nov 2026 10:00 is in the past (Europe/Zurich). Give a time from now on, e.g. tomorrow 9:30.");
    }

    #[test]
    fn a_time_in_the_spring_gap_is_explained_not_guessed() {
        assert_eq!(
            local("2027-03-28 02:30", "Europe/Zurich"),
            "Sun 28 Mar 2027 02:30 does not exist in Europe/Zurich: the clocks go forward that night. Try Sun 28 Mar 2027 03:00."
        );
        assert!(local("2027-03-14 02:30", "America/New_York")
            .contains("does not exist in America/New_York"));
    }

    #[test]
    fn a_time_that_happens_twice_is_explained() {
        assert!(local("2027-10-31 02:30", "Europe/Zurich")
            .starts_with("Sun 31 Oct 2027 02:30 happens twice in Europe/Zurich"));
    }

    #[test]
    fn unreadable_and_ambiguous_input_gets_examples() {
        assert!(local("banana", "UTC")
            .starts_with("I could not read “banana” as a time. Try for example: 2026-12-03 14:00"));
        assert!(local("3/12 10:00", "UTC").contains("Write it as 2026-12-03 or 3 Dec"));
        assert_eq!(
            zone("mars/olympus"),
            Err(WhenError::UnknownZone("mars/olympus".into()))
        );
        assert_eq!(zone("europe/zurich").unwrap().name(), "Europe/Zurich");
    }
}
