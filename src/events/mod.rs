//! Events and the reminders they owe: recurrence (RFC 5545 RRULE through the `rrule` crate,
//! computed in the event's own IANA zone so that 10:00 Geneva stays 10:00 across DST),
//! occurrences in a window, reminder offsets, and the reminder plan with one unique key per
//! (occurrence, offset, target). Pure: callers pass `now`; SQL lives in `store::events`.

pub mod agenda;
pub mod ical;
pub mod text;
pub mod vtimezone;
pub mod when;

use crate::domain::{EventId, Target};
use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc, Weekday};
use chrono_tz::Tz;

/// How often an event repeats. Rendered to and parsed from an RRULE line (without DTSTART).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recurrence {
    pub freq: Freq,
    pub interval: u32,
    pub by_day: Vec<Weekday>,
    pub until: Option<NaiveDate>,
    pub count: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freq {
    Daily,
    Weekly,
    Monthly,
}

fn weekday(s: &str) -> Option<Weekday> {
    let s = s.trim().to_lowercase();
    Some(match s.get(..2)? {
        "mo" => Weekday::Mon,
        "tu" => Weekday::Tue,
        "we" => Weekday::Wed,
        "th" => Weekday::Thu,
        "fr" => Weekday::Fri,
        "sa" => Weekday::Sat,
        "su" => Weekday::Sun,
        _ => return None,
    })
}

fn ical_day(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

pub const REPEAT_EXAMPLES: &str = "daily, weekly, weekly on mon,thu, every 2 weeks, monthly";

/// How often and every how many: "daily", "every 2 weeks" (the part before " on ").
/// `repeat` is the whole text as typed, for the error.
fn frequency(head: &str, repeat: &str) -> Result<(Freq, u32), String> {
    let words: Vec<&str> = head.split_whitespace().collect();
    Ok(match words.as_slice() {
        ["daily"] | ["every", "day"] => (Freq::Daily, 1),
        ["weekly"] | ["every", "week"] => (Freq::Weekly, 1),
        ["monthly"] | ["every", "month"] => (Freq::Monthly, 1),
        ["every", n, unit] => {
            let n: u32 = n.parse().map_err(|_| {
                format!("“{repeat}” is not a repetition I know. Try: {REPEAT_EXAMPLES}.")
            })?;
            let f = match unit.trim_end_matches('s') {
                "day" => Freq::Daily,
                "week" => Freq::Weekly,
                "month" => Freq::Monthly,
                _ => {
                    return Err(format!(
                        "“{repeat}” is not a repetition I know. Try: {REPEAT_EXAMPLES}."
                    ))
                }
            };
            if n == 0 || n > 52 {
                return Err("The interval must be between 1 and 52.".into());
            }
            (f, n)
        }
        _ => {
            return Err(format!(
                "“{}” is not a repetition I know. Try: {REPEAT_EXAMPLES}.",
                repeat.chars().take(40).collect::<String>()
            ))
        }
    })
}

/// The weekdays after " on ": "mon,thu", "mon thu".
fn weekdays(days: &str) -> Result<Vec<Weekday>, String> {
    days.split([',', ' '])
        .filter(|s| !s.trim().is_empty())
        .map(|s| weekday(s).ok_or_else(|| format!("“{s}” is not a weekday (mon, tue, …).")))
        .collect()
}

impl Recurrence {
    /// Reads "daily", "weekly", "weekly on mon,thu", "every 2 weeks", "monthly".
    pub fn parse(
        repeat: &str,
        until: Option<NaiveDate>,
        count: Option<u32>,
    ) -> Result<Recurrence, String> {
        let r = repeat.trim().to_lowercase();
        let (head, days) = match r.split_once(" on ") {
            Some((h, d)) => (h.trim().to_string(), Some(d.to_string())),
            None => (r.clone(), None),
        };
        let (freq, interval) = frequency(&head, repeat)?;
        let by_day = match days {
            Some(d) => weekdays(&d)?,
            None => vec![],
        };
        if !by_day.is_empty() && freq != Freq::Weekly {
            return Err("Days (on mon,thu) go with weekly repetition.".into());
        }
        if let Some(c) = count {
            if c == 0 || c > 1000 {
                return Err("times must be between 1 and 1000.".into());
            }
        }
        Ok(Recurrence {
            freq,
            interval,
            by_day,
            until,
            count,
        })
    }

    /// The RRULE value (after "RRULE:"). UNTIL is the end of that day in UTC, as RFC 5545
    /// requires with a zoned DTSTART.
    pub fn to_rrule(&self) -> String {
        let mut r = format!(
            "FREQ={}",
            match self.freq {
                Freq::Daily => "DAILY",
                Freq::Weekly => "WEEKLY",
                Freq::Monthly => "MONTHLY",
            }
        );
        if self.interval > 1 {
            r.push_str(&format!(";INTERVAL={}", self.interval));
        }
        if !self.by_day.is_empty() {
            r.push_str(&format!(
                ";BYDAY={}",
                self.by_day
                    .iter()
                    .map(|d| ical_day(*d))
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
        if let Some(u) = self.until {
            r.push_str(&format!(";UNTIL={}T235959Z", u.format("%Y%m%d")));
        }
        if let Some(c) = self.count {
            r.push_str(&format!(";COUNT={c}"));
        }
        r
    }

    pub fn from_rrule(rule: &str) -> Option<Recurrence> {
        Recurrence::read_rrule(rule).ok()
    }

    /// Reads an RRULE value (from a calendar file, or stored) — only what the bot models:
    /// FREQ=DAILY|WEEKLY|MONTHLY, INTERVAL 1–52, BYDAY (plain weekdays, weekly only), UNTIL,
    /// COUNT 1–1000, WKST=MO; names and values in any case. Anything else is refused with
    /// the reason, never stored and half-understood: a rule with BYHOUR or FREQ=MINUTELY
    /// would otherwise be shown as "every week" and expanded at a cost no one bounded.
    pub fn read_rrule(rule: &str) -> Result<Recurrence, String> {
        let rule = rule.trim();
        let rule = rule
            .get(..6)
            .filter(|p| p.eq_ignore_ascii_case("RRULE:"))
            .map_or(rule, |_| &rule[6..]);
        if rule.len() > 2000 {
            return Err("the rule is too long".into());
        }
        let mut rec = Recurrence {
            freq: Freq::Weekly,
            interval: 1,
            by_day: vec![],
            until: None,
            count: None,
        };
        let mut freq = None;
        let mut seen = Vec::new();
        for part in rule.split(';').filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("“{}” is not NAME=VALUE", short(part)))?;
            let k = k.trim().to_ascii_uppercase();
            let v = v.trim().to_ascii_uppercase();
            if seen.contains(&k) {
                return Err(format!("{k} is given twice"));
            }
            if k == "FREQ" {
                freq = Some(read_freq(&v)?);
            } else {
                read_rule_part(&mut rec, &k, &v)?;
            }
            seen.push(k);
        }
        rec.freq = freq.ok_or("it has no FREQ")?;
        if !rec.by_day.is_empty() && rec.freq != Freq::Weekly {
            return Err("BYDAY goes only with FREQ=WEEKLY here".into());
        }
        if rec.until.is_some() && rec.count.is_some() {
            return Err("UNTIL and COUNT together (RFC 5545 allows one or the other)".into());
        }
        Ok(rec)
    }
}

fn read_freq(v: &str) -> Result<Freq, String> {
    match v {
        "DAILY" => Ok(Freq::Daily),
        "WEEKLY" => Ok(Freq::Weekly),
        "MONTHLY" => Ok(Freq::Monthly),
        other => Err(format!(
            "FREQ={} (only daily, weekly and monthly repetition is supported)",
            short(other)
        )),
    }
}

/// One NAME=VALUE of a rule other than FREQ, into `rec`; names and values upper-cased.
fn read_rule_part(rec: &mut Recurrence, k: &str, v: &str) -> Result<(), String> {
    match k {
        "INTERVAL" => {
            rec.interval = v
                .parse()
                .ok()
                .filter(|n| (1..=52).contains(n))
                .ok_or_else(|| format!("INTERVAL={} (it must be 1 to 52)", short(v)))?
        }
        "BYDAY" => {
            rec.by_day = v
                .split(',')
                .map(|d| {
                    weekday_code(d.trim()).ok_or_else(|| {
                        format!("BYDAY={} (only plain weekdays such as MO,TH)", short(v))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?
        }
        "UNTIL" => {
            rec.until = Some(
                v.get(..8)
                    .and_then(|d| NaiveDate::parse_from_str(d, "%Y%m%d").ok())
                    .ok_or_else(|| format!("UNTIL={} is not a date", short(v)))?,
            )
        }
        "COUNT" => {
            rec.count = Some(
                v.parse()
                    .ok()
                    .filter(|n| (1..=1000).contains(n))
                    .ok_or_else(|| format!("COUNT={} (it must be 1 to 1000)", short(v)))?,
            )
        }
        // Weeks start on Monday here, as the default: any other start changes which weeks
        // an INTERVAL counts, which is not modelled.
        "WKST" if v == "MO" => {}
        other => {
            return Err(format!(
                "{} (only FREQ, INTERVAL, BYDAY, UNTIL and COUNT are supported)",
                short(other)
            ))
        }
    }
    Ok(())
}

/// A two-letter iCalendar weekday code, exactly (MO … SU).
fn weekday_code(s: &str) -> Option<Weekday> {
    Some(match s {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return None,
    })
}

impl fmt::Display for Recurrence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.freq {
            Freq::Daily => "day",
            Freq::Weekly => "week",
            Freq::Monthly => "month",
        };
        if self.interval == 1 {
            write!(f, "every {unit}")?;
        } else {
            write!(f, "every {} {unit}s", self.interval)?;
        }
        if !self.by_day.is_empty() {
            write!(
                f,
                " on {}",
                self.by_day
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
        }
        if let Some(u) = self.until {
            write!(f, " until {}", u.format("%-d %b %Y"))?;
        }
        if let Some(c) = self.count {
            write!(f, ", {c} times")?;
        }
        Ok(())
    }
}

/// Occurrence starts (UTC) of an event starting at wall-clock `start` in `tz`, repeating by
/// `rrule` (None: once), within [from, to), at most `limit`. Wall-clock times that fall in a
/// DST gap are skipped by the RRULE engine.
///
/// Bounded work: only rules `Recurrence::read_rrule` accepts are expanded (at most 7
/// candidates per period), and a daily or weekly series without COUNT starts its expansion
/// at the last whole period before `from` instead of at its first occurrence years ago.
pub fn occurrences(
    start: NaiveDateTime,
    tz: Tz,
    rrule: Option<&str>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: u16,
) -> Vec<DateTime<Utc>> {
    let Some(rule) = rrule else {
        return when::resolve(start, tz)
            .ok()
            .filter(|t| *t >= from && *t < to)
            .into_iter()
            .collect();
    };
    let Ok(rec) = Recurrence::read_rrule(rule) else {
        return vec![];
    };
    let start = skip_whole_periods(&rec, start, from.with_timezone(&tz).naive_local());
    let text = format!(
        "DTSTART;TZID={}:{}\nRRULE:{}",
        tz.name(),
        start.format("%Y%m%dT%H%M%S"),
        rec.to_rrule()
    );
    let Ok(set) = text.parse::<rrule::RRuleSet>() else {
        return vec![];
    };
    let from_tz = from.with_timezone(&rrule::Tz::UTC);
    let to_tz = to.with_timezone(&rrule::Tz::UTC);
    // `after` is exclusive; step back one second so that an occurrence at `from` counts.
    set.after(from_tz - chrono::Duration::seconds(1))
        .before(to_tz)
        .all(limit)
        .dates
        .into_iter()
        .map(|d| d.with_timezone(&Utc))
        .filter(|d| *d >= from && *d < to)
        .collect()
}

/// The same series, started at the last whole period (interval × day or week) that begins at
/// least a period before `until_local`: the occurrences from there on are unchanged, and the
/// expansion no longer walks every period since the first. Series with COUNT are left as
/// they are (the count runs from the first occurrence; COUNT ≤ 1000 bounds them anyway), and
/// monthly ones too (twelve periods a year, and a month may lack the start's day).
fn skip_whole_periods(
    rec: &Recurrence,
    start: NaiveDateTime,
    until_local: NaiveDateTime,
) -> NaiveDateTime {
    let period_days = match rec.freq {
        Freq::Daily => i64::from(rec.interval),
        Freq::Weekly => 7 * i64::from(rec.interval),
        Freq::Monthly => return start,
    };
    if rec.count.is_some() || until_local <= start {
        return start;
    }
    let periods = (until_local - start).num_days() / period_days - 1;
    if periods <= 0 {
        return start;
    }
    // A weekly series with BYDAY may have occurrences earlier in the week than its start;
    // whole weeks keep them aligned.
    start
        .checked_add_signed(chrono::Duration::days(periods * period_days))
        .unwrap_or(start)
}

/// The longest reminder offset: 60 days, in minutes.
pub const MAX_OFFSET_MIN: i64 = 60 * 24 * 60;
/// Most offsets in one list.
pub const MAX_OFFSETS: usize = 5;

/// Reminder offsets: "1d,1h,15m" → minutes before the start, longest first, without repeats.
/// Numbers are read whole and multiplied with overflow checks: "1830034134296583w" is too
/// long, never wrapped to some number of minutes.
pub fn parse_offsets(s: &str) -> Result<Vec<i64>, String> {
    let parts: Vec<&str> = s
        .split([',', ' '])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() || parts.len() > MAX_OFFSETS {
        return Err("Give one to five offsets, like 1d,1h.".into());
    }
    let mut out = Vec::new();
    for part in parts {
        out.push(parse_offset(part)?);
    }
    out.sort_unstable_by(|a, b| b.cmp(a));
    out.dedup();
    Ok(out)
}

fn parse_offset(part: &str) -> Result<i64, String> {
    let bad = || {
        format!(
            "“{}” is not an offset. Write offsets like 1d, 1h, 15m.",
            short(part)
        )
    };
    let digits = part
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(part.len());
    let (n, unit) = part.split_at(digits);
    let per_unit = match unit {
        "m" | "min" | "" => 1,
        "h" => 60,
        "d" => 1440,
        "w" => 10080,
        _ => return Err(bad()),
    };
    let too_long = || "Offsets go from 0m to 60d.".to_string();
    let n: i64 = match n.parse() {
        Ok(n) => n,
        Err(e) if matches!(e.kind(), std::num::IntErrorKind::PosOverflow) => return Err(too_long()),
        Err(_) => return Err(bad()),
    };
    match n.checked_mul(per_unit) {
        Some(m) if (0..=MAX_OFFSET_MIN).contains(&m) => Ok(m),
        _ => Err(too_long()),
    }
}

fn short(s: &str) -> String {
    s.chars().take(40).collect()
}

pub fn describe_offset(minutes: i64) -> String {
    match minutes {
        0 => "at the start".into(),
        m if m % 10080 == 0 => plural(m / 10080, "week"),
        m if m % 1440 == 0 => plural(m / 1440, "day"),
        m if m % 60 == 0 => plural(m / 60, "hour"),
        m => plural(m, "minute"),
    }
}

/// A stretch of time, rounded to its largest sensible unit: "2 hours", "3 days", "40 minutes".
pub fn describe_span(minutes: i64) -> String {
    match minutes {
        m if m >= 2 * 1440 => plural((m + 720) / 1440, "day"),
        m if m >= 120 => plural((m + 30) / 60, "hour"),
        m => plural(m.max(1), "minute"),
    }
}

fn plural(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// A reminder owed: one per (occurrence, offset, target), with a key that is its identity in
/// the database and its idempotency handle on every platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub key: String,
    pub event_id: EventId,
    pub occurrence: DateTime<Utc>,
    pub offset_min: i64,
    pub target: Target,
    pub due: DateTime<Utc>,
}

/// How long before each occurrence a follower of a topic or actor is reminded (`/follow`).
pub const FOLLOW_OFFSET_MIN: i64 = 60;

/// The offset of a note (a new event, told to its followers) in the reminder ledger: not a
/// time before the occurrence, so no plan ever makes or replaces one, and the scheduler
/// renders it as a note. Due when it is added. Far below any snooze's offset (a snooze is due
/// at most a day after a reminder, which is sent at most the grace window late, so its
/// offset is above minus two days), and so far that a note is never "missed" after downtime.
pub const NOTE_OFFSET: i64 = -1_000_000;

/// Whether a reminder's key is a snooze's (`remind::snooze`): planned by a person's click,
/// not by the event's plan, so a replan keeps it while its occurrence stands.
pub fn is_snooze(key: &str) -> bool {
    key.contains(SNOOZE_MARK)
}

/// What a snooze's key adds to the key of the reminder snoozed.
pub const SNOOZE_MARK: &str = "+snooze";

/// A note to `user` that event `event_id` (first occurring at `first`) was added.
pub fn new_event_note(
    event_id: EventId,
    first: DateTime<Utc>,
    user: &str,
    now: DateTime<Utc>,
) -> Planned {
    note(event_id, first, user, now, "-new-")
}

/// A note to `user` about event `event_id`, due `now`, told with `first` as its occurrence:
/// its key is the event, `what` (what the note is about, the same for a retry) and the person.
fn note(
    event_id: EventId,
    first: DateTime<Utc>,
    user: &str,
    now: DateTime<Utc>,
    what: &str,
) -> Planned {
    let target = Target::User(user.to_string());
    Planned {
        key: format!("ev{event_id}{what}{target}"),
        event_id,
        occurrence: first,
        offset_min: NOTE_OFFSET,
        target,
        due: now,
    }
}

/// What the key of a note that someone left the waitlist carries.
pub const PROMOTED_MARK: &str = "-promoted-";

/// Whether a note is a waitlist promotion's (else it tells of a new event).
pub fn is_promotion(key: &str) -> bool {
    key.contains(PROMOTED_MARK)
}

/// A note to `user` that a place opened up for them at event `event_id` (next occurring at
/// `first`): once per promotion (its time is in the key — someone who drops out, waits and
/// is let in again is told again).
pub fn promoted_note(
    event_id: EventId,
    first: DateTime<Utc>,
    user: &str,
    now: DateTime<Utc>,
) -> Planned {
    let when = now.format("%Y%m%dT%H%M%S%.3f");
    note(
        event_id,
        first,
        user,
        now,
        &format!("{PROMOTED_MARK}{when}-"),
    )
}

pub fn reminder_key(
    event_id: EventId,
    occurrence: DateTime<Utc>,
    offset_min: i64,
    target: &Target,
) -> String {
    format!(
        "ev{event_id}-{}-{offset_min}m-{target}",
        occurrence.format("%Y%m%dT%H%MZ")
    )
}

/// The reminders an event owes for its occurrences, for each (offset, target) pair.
pub fn plan(
    event_id: EventId,
    occurrences: &[DateTime<Utc>],
    owed: &[(i64, Target)],
) -> Vec<Planned> {
    let mut out = Vec::new();
    for &occ in occurrences {
        for (offset, target) in owed {
            // Offsets are bounded where they enter; one stored by an older version that is
            // out of range is skipped rather than wrapped or panicked on.
            if !(0..=MAX_OFFSET_MIN).contains(offset) {
                continue;
            }
            out.push(Planned {
                key: reminder_key(event_id, occ, *offset, target),
                event_id,
                occurrence: occ,
                offset_min: *offset,
                target: target.clone(),
                due: occ - chrono::Duration::minutes(*offset),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn naive(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        Utc.from_utc_datetime(&naive(s))
    }

    #[test]
    fn weekly_10_00_zurich_stays_10_00_local_across_dst() {
        let tz: Tz = "Europe/Zurich".parse().unwrap();
        let rule = Recurrence::parse("weekly", None, Some(3))
            .unwrap()
            .to_rrule();
        let got = occurrences(
            naive("2026-10-19 10:00"),
            tz,
            Some(&rule),
            utc("2026-10-01 00:00"),
            utc("2027-01-01 00:00"),
            10,
        );
        // 19 Oct CEST (UTC+2), then 26 Oct and 2 Nov CET (UTC+1): the UTC hour moves, 10:00 local stays.
        assert_eq!(
            got,
            vec![
                utc("2026-10-19 08:00"),
                utc("2026-10-26 09:00"),
                utc("2026-11-02 09:00")
            ]
        );
    }

    #[test]
    fn new_york_keeps_its_local_hour_across_its_own_dst_change() {
        let tz: Tz = "America/New_York".parse().unwrap();
        let rule = Recurrence::parse(
            "weekly on mon",
            Some(NaiveDate::from_ymd_opt(2027, 3, 22).unwrap()),
            None,
        )
        .unwrap()
        .to_rrule();
        let got = occurrences(
            naive("2027-03-08 09:00"),
            tz,
            Some(&rule),
            utc("2027-03-01 00:00"),
            utc("2027-04-01 00:00"),
            10,
        );
        assert_eq!(
            got,
            vec![
                utc("2027-03-08 14:00"),
                utc("2027-03-15 13:00"),
                utc("2027-03-22 13:00")
            ],
            "until is inclusive"
        );
    }

    #[test]
    fn count_and_interval_limit_the_series() {
        let tz: Tz = "UTC".parse().unwrap();
        let rule = Recurrence::parse("every 2 weeks", None, Some(2)).unwrap();
        assert_eq!(rule.to_rrule(), "FREQ=WEEKLY;INTERVAL=2;COUNT=2");
        assert_eq!(rule.to_string(), "every 2 weeks, 2 times");
        let got = occurrences(
            naive("2026-12-01 10:00"),
            tz,
            Some(&rule.to_rrule()),
            utc("2026-11-01 00:00"),
            utc("2028-01-01 00:00"),
            50,
        );
        assert_eq!(got, vec![utc("2026-12-01 10:00"), utc("2026-12-15 10:00")]);
        assert_eq!(Recurrence::from_rrule(&rule.to_rrule()), Some(rule));
    }

    #[test]
    fn bad_repetitions_explain_what_works() {
        assert!(Recurrence::parse("fortnightly", None, None)
            .unwrap_err()
            .contains("Try: daily, weekly"));
        assert!(Recurrence::parse("weekly on funday", None, None)
            .unwrap_err()
            .contains("not a weekday"));
    }

    #[test]
    fn offsets_read_days_hours_minutes() {
        assert_eq!(parse_offsets("1h, 1d 15m"), Ok(vec![1440, 60, 15]));
        assert!(parse_offsets("soon").is_err());
        assert_eq!(describe_offset(1440), "1 day");
        assert_eq!(describe_offset(90), "90 minutes");
    }

    #[test]
    fn every_reminder_has_a_unique_key() {
        let occ = [utc("2026-12-01 10:00"), utc("2026-12-08 10:00")];
        let p = plan(
            EventId(7),
            &occ,
            &[
                (1440, Target::Space),
                (60, Target::Space),
                (60, Target::User("ana".into())),
            ],
        );
        let mut keys: Vec<&str> = p.iter().map(|r| r.key.as_str()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 6);
        assert_eq!(p[0].key, "ev7-20261201T1000Z-1440m-space");
        assert_eq!(p[0].due, utc("2026-11-30 10:00"));
        // The key format is what databases already hold: it must never change.
        assert!(keys.contains(&"ev7-20261208T1000Z-60m-user:ana"));
    }
}
