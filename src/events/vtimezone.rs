//! VTIMEZONE components (RFC 5545 §3.6.5) for the IANA zones an export uses: §3.2.19 requires
//! one for every TZID, and strict clients reject a file without. Built from chrono-tz's own
//! data, so a file says exactly what the bot computes with: every change of offset in the
//! years the file covers, found by scanning and pinned to the second. Pure and bounded: at
//! most `MAX_YEARS` years are scanned, a day at a time.

use chrono::{DateTime, Duration, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};

/// Most years one VTIMEZONE covers.
pub const MAX_YEARS: i32 = 60;

/// One change of offset: the instant, the offsets either side, the name after, and whether
/// daylight-saving time is in effect after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub at: DateTime<Utc>,
    pub from_secs: i32,
    pub to_secs: i32,
    pub name: String,
    pub daylight: bool,
}

fn offset_at(tz: Tz, t: DateTime<Utc>) -> i32 {
    tz.offset_from_utc_datetime(&t.naive_utc())
        .fix()
        .local_minus_utc()
}

/// The first whole second after `lo` at which the offset is no longer `lo`'s, in (lo, hi].
fn pin(tz: Tz, lo: DateTime<Utc>, hi: DateTime<Utc>) -> DateTime<Utc> {
    let before = offset_at(tz, lo);
    let (mut lo, mut hi) = (lo.timestamp(), hi.timestamp());
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        let t = DateTime::from_timestamp(mid, 0).unwrap_or_default();
        if offset_at(tz, t) == before {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    DateTime::from_timestamp(hi, 0).unwrap_or_default()
}

/// Every change of `tz`'s offset from the start of year `from` to the end of year `to`.
pub fn transitions(tz: Tz, from: i32, to: i32) -> Vec<Transition> {
    let to = to.min(from.saturating_add(MAX_YEARS - 1));
    let (Some(start), Some(end)) = (
        NaiveDate::from_ymd_opt(from, 1, 1),
        NaiveDate::from_ymd_opt(to.saturating_add(1), 1, 1),
    ) else {
        return Vec::new();
    };
    let mut t = start.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let end = end.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let mut out = Vec::new();
    while t < end {
        let next = t + Duration::days(1);
        let (a, b) = (offset_at(tz, t), offset_at(tz, next));
        if a != b {
            let at = pin(tz, t, next);
            let after = tz.offset_from_utc_datetime(&at.naive_utc());
            out.push(Transition {
                at,
                from_secs: a,
                to_secs: b,
                name: after.abbreviation().unwrap_or("").to_string(),
                daylight: !after.dst_offset().is_zero(),
            });
        }
        t = next;
    }
    out
}

fn offset_text(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let s = secs.unsigned_abs();
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    if sec == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{sec:02}")
    }
}

/// Years after the listed ones over which a yearly rule must give exactly what chrono-tz
/// gives before it is written as the zone's rule from then on.
const RULE_CHECKED_YEARS: i32 = 30;
/// Years listed one change at a time after the last start, when no yearly rule fits.
const LISTED_YEARS: i32 = 20;

/// The weekday codes of RFC 5545 (BYDAY).
fn day_code(d: chrono::Weekday) -> &'static str {
    ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][d.num_days_from_monday() as usize]
}

/// The `nth` (1–4, or -1 for the last) `weekday` of a month.
fn nth_weekday(year: i32, month: u32, weekday: chrono::Weekday, nth: i32) -> Option<NaiveDate> {
    use chrono::Datelike;
    if nth > 0 {
        NaiveDate::from_weekday_of_month_opt(year, month, weekday, nth as u8)
    } else {
        let next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)
        }?;
        let last = next.pred_opt()?;
        let back = (7 + last.weekday().num_days_from_monday() - weekday.num_days_from_monday()) % 7;
        last.checked_sub_signed(Duration::days(i64::from(back)))
    }
}

/// A change of offset as wall-clock time in the offset before it (how VTIMEZONE writes it).
fn local_of(t: &Transition) -> chrono::NaiveDateTime {
    t.at.naive_utc() + Duration::seconds(i64::from(t.from_secs))
}

/// One observance that repeats yearly: from its first change, on the `nth` weekday of its
/// month at the same wall-clock time.
struct YearlyRule {
    first: Transition,
    nth: i32,
}

impl YearlyRule {
    fn rrule(&self) -> String {
        use chrono::Datelike;
        let local = local_of(&self.first);
        format!(
            "FREQ=YEARLY;BYMONTH={};BYDAY={}{}",
            local.month(),
            self.nth,
            day_code(local.weekday())
        )
    }

    /// Whether the rule gives `t` (same date and time, same offsets, same name).
    fn gives(&self, t: &Transition) -> bool {
        use chrono::Datelike;
        let (want, got) = (local_of(&self.first), local_of(t));
        nth_weekday(got.year(), want.month(), want.weekday(), self.nth) == Some(got.date())
            && got.time() == want.time()
            && (t.from_secs, t.to_secs, t.daylight)
                == (
                    self.first.from_secs,
                    self.first.to_secs,
                    self.first.daylight,
                )
            && t.name == self.first.name
    }
}

/// The zone's changes from year `from` on as yearly rules, if rules fit: every change of
/// the year `from` is the nth (or last) weekday of its month at a fixed time, and those rules
/// give exactly chrono-tz's changes for the `RULE_CHECKED_YEARS` after. None for a zone
/// without changes, or with irregular ones.
fn yearly_rules(tz: Tz, from: i32) -> Option<Vec<YearlyRule>> {
    use chrono::Datelike;
    let first_year = transitions(tz, from, from);
    if first_year.is_empty() {
        return None;
    }
    let later = transitions(tz, from + 1, from + RULE_CHECKED_YEARS);
    let mut rules = Vec::new();
    for t in first_year {
        let day = local_of(&t).day() as i32;
        // The 4th and the last of a month can be the same day: the later years decide.
        let candidates = [(day - 1) / 7 + 1, -1];
        let fits = candidates
            .into_iter()
            .map(|nth| YearlyRule {
                first: t.clone(),
                nth,
            })
            .find(|rule| {
                let same_month: Vec<&Transition> = later
                    .iter()
                    .filter(|l| local_of(l).month() == local_of(&rule.first).month())
                    .collect();
                same_month.len() == RULE_CHECKED_YEARS as usize
                    && same_month.iter().all(|l| rule.gives(l))
            });
        rules.push(fits?);
    }
    let covered = later.iter().all(|l| rules.iter().any(|r| r.gives(l)));
    covered.then_some(rules)
}

/// The VTIMEZONE of `tz` for an export whose events start in years `from..=to`, as content
/// lines (CRLF-joined by the caller): the observance in effect when the range starts, one per
/// change of offset up to `to`, then the zone's yearly rules from the year after — checked
/// against chrono-tz's own data — so that a series running for decades is read with the
/// right offsets. A zone whose changes fit no yearly rule is listed `LISTED_YEARS` further.
pub fn vtimezone(tz: Tz, from: i32, to: i32) -> Vec<String> {
    let to = to.clamp(from, from.saturating_add(MAX_YEARS - 1));
    let rules = to.checked_add(1).and_then(|next| yearly_rules(tz, next));
    let listed_to = if rules.is_some() {
        to
    } else {
        to.saturating_add(LISTED_YEARS)
    };
    let mut lines = listed(tz, from, listed_to);
    for rule in rules.unwrap_or_default() {
        let t = &rule.first;
        lines.push(format!(
            "BEGIN:{}",
            if t.daylight { "DAYLIGHT" } else { "STANDARD" }
        ));
        lines.push(format!("DTSTART:{}", local_of(t).format("%Y%m%dT%H%M%S")));
        lines.push(format!("RRULE:{}", rule.rrule()));
        lines.push(format!("TZOFFSETFROM:{}", offset_text(t.from_secs)));
        lines.push(format!("TZOFFSETTO:{}", offset_text(t.to_secs)));
        if !t.name.is_empty() {
            lines.push(format!("TZNAME:{}", t.name));
        }
        lines.push(format!(
            "END:{}",
            if t.daylight { "DAYLIGHT" } else { "STANDARD" }
        ));
    }
    lines.push("END:VTIMEZONE".to_string());
    lines
}

/// Most VTIMEZONEs kept (`cached`); past that the cache starts again empty.
const CACHED: usize = 512;

/// `vtimezone`, computed once per (zone, years): a feed is read often and a VTIMEZONE costs
/// about a millisecond to build (a day-by-day scan of decades), once per zone it uses.
pub fn cached(tz: Tz, from: i32, to: i32) -> std::sync::Arc<Vec<String>> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    type Cache = Mutex<HashMap<(Tz, i32, i32), Arc<Vec<String>>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Cache::default);
    if let Some(v) = cache
        .lock()
        .ok()
        .and_then(|c| c.get(&(tz, from, to)).cloned())
    {
        return v;
    }
    let made = Arc::new(vtimezone(tz, from, to));
    if let Ok(mut c) = cache.lock() {
        if c.len() >= CACHED {
            c.clear();
        }
        c.insert((tz, from, to), made.clone());
    }
    made
}

/// The opening lines of a VTIMEZONE: the observance at the start of year `from`, then every
/// change of offset up to the end of year `to`, one by one.
fn listed(tz: Tz, from: i32, to: i32) -> Vec<String> {
    let mut lines = vec!["BEGIN:VTIMEZONE".to_string(), format!("TZID:{}", tz.name())];
    let start = NaiveDate::from_ymd_opt(from, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default();
    let first = tz.offset_from_utc_datetime(&start);
    let first_secs = first.fix().local_minus_utc();
    let mut observe = |kind: &str, local_start: String, from: i32, to: i32, name: &str| {
        lines.push(format!("BEGIN:{kind}"));
        lines.push(format!("DTSTART:{local_start}"));
        lines.push(format!("TZOFFSETFROM:{}", offset_text(from)));
        lines.push(format!("TZOFFSETTO:{}", offset_text(to)));
        if !name.is_empty() {
            lines.push(format!("TZNAME:{name}"));
        }
        lines.push(format!("END:{kind}"));
    };
    let kind = |daylight: bool| if daylight { "DAYLIGHT" } else { "STANDARD" };
    observe(
        kind(!first.dst_offset().is_zero()),
        start.format("%Y%m%dT%H%M%S").to_string(),
        first_secs,
        first_secs,
        first.abbreviation().unwrap_or(""),
    );
    for t in transitions(tz, from, to) {
        // DTSTART is the wall-clock time of the change as read in the offset before it.
        let local = t.at.naive_utc() + Duration::seconds(i64::from(t.from_secs));
        observe(
            kind(t.daylight),
            local.format("%Y%m%dT%H%M%S").to_string(),
            t.from_secs,
            t.to_secs,
            &t.name,
        );
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zurich_changes_twice_a_year_at_one_utc() {
        let tz: Tz = "Europe/Zurich".parse().unwrap();
        let t = transitions(tz, 2027, 2027);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].at.to_rfc3339(), "2027-03-28T01:00:00+00:00");
        assert!(t[0].daylight);
        assert_eq!((t[0].from_secs, t[0].to_secs), (3600, 7200));
        assert_eq!(t[1].at.to_rfc3339(), "2027-10-31T01:00:00+00:00");
        assert!(!t[1].daylight);
    }

    #[test]
    fn a_zone_without_changes_has_one_observance() {
        let lines = vtimezone("UTC".parse().unwrap(), 2027, 2030);
        assert_eq!(lines.iter().filter(|l| l.starts_with("BEGIN:")).count(), 2);
        assert!(lines.contains(&"TZOFFSETTO:+0000".to_string()));
    }

    #[test]
    fn the_local_start_of_a_change_is_read_in_the_offset_before_it() {
        let lines = vtimezone("America/New_York".parse().unwrap(), 2027, 2027);
        assert!(
            lines.contains(&"DTSTART:20270314T020000".to_string()),
            "{lines:?}"
        );
        assert!(
            lines.contains(&"DTSTART:20271107T020000".to_string()),
            "{lines:?}"
        );
    }

    #[test]
    fn the_scan_is_bounded() {
        let t = transitions("Europe/Zurich".parse().unwrap(), 1900, i32::MAX);
        assert!(t.len() <= 2 * MAX_YEARS as usize + 10);
    }
}
