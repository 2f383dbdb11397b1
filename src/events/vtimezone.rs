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

/// The VTIMEZONE of `tz` for years `from..=to`, as content lines (CRLF-joined by the caller):
/// the observance in effect when the range starts, then one per change of offset.
pub fn vtimezone(tz: Tz, from: i32, to: i32) -> Vec<String> {
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
    lines.push("END:VTIMEZONE".to_string());
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
