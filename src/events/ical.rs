//! iCalendar (RFC 5545) export and import of a space's events, through the `icalendar` crate.
//! Export writes one VEVENT per event with its zone (DTSTART;TZID=…), RRULE and cancelled
//! occurrences (EXDATE, UTC). Import reads the same back, reporting every event it skips and
//! why; a file that is malformed or too large is rejected whole. Pure: no database.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use icalendar::{
    Calendar, CalendarComponent, CalendarDateTime, Component, DatePerhapsTime, Event as IcsEvent,
    EventLike,
};

use super::text::{ical_text, identifier, multi_line, one_line};
use super::Recurrence;

/// Largest .ics file accepted, and most events in it.
pub const MAX_BYTES: usize = 1_000_000;
pub const MAX_EVENTS: usize = 500;
/// Deepest nesting of components a file may have: VCALENDAR › VEVENT › VALARM, or
/// VCALENDAR › VTIMEZONE › STANDARD, is three. The parser recurses per level, so a file of a
/// few thousand nested BEGIN lines would otherwise overflow the stack and kill the process.
pub const MAX_DEPTH: usize = 4;
/// Most components (of any kind) in one file.
pub const MAX_COMPONENTS: usize = 5_000;

/// Longest event duration accepted, in minutes (a week).
pub const MAX_DURATION_MIN: i64 = 7 * 24 * 60;

/// What to say about a file over `MAX_BYTES`, wherever it is noticed.
pub fn too_big(bytes: usize) -> String {
    format!(
        "The file is {} KB; at most {} KB is accepted. Nothing was imported.",
        bytes / 1000,
        MAX_BYTES / 1000
    )
}

/// An event as exchanged in iCalendar.
#[derive(Debug, Clone, PartialEq)]
pub struct IcsItem {
    pub uid: String,
    pub title: String,
    pub description: Option<String>,
    pub place: Option<String>,
    pub start: NaiveDateTime,
    pub tz: String,
    pub duration_min: Option<i64>,
    pub rrule: Option<String>,
    pub exdates: Vec<DateTime<Utc>>,
    /// How the event changed since it was made, for calendars that keep a copy: SEQUENCE
    /// counts its revisions, LAST-MODIFIED (and DTSTAMP) is its last change. Not read back
    /// from a file (an import is a change of ours).
    pub revision: Revision,
    /// Cancelled as a whole (STATUS:CANCELLED): a subscribed calendar removes it.
    pub cancelled: bool,
    /// Where to read about it (the space's events page).
    pub url: Option<String>,
}

/// When an event was made and last changed, and how many times it changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Revision {
    pub sequence: u32,
    pub created: Option<DateTime<Utc>>,
    pub modified: Option<DateTime<Utc>>,
}

pub fn export(items: &[IcsItem]) -> String {
    let mut cal = Calendar::new();
    cal.name("atlasbot events");
    for it in items {
        let mut e = IcsEvent::new();
        // Every TEXT value cleaned as it leaves, whatever the database holds (`events::text`).
        e.uid(&identifier(&it.uid))
            .summary(&one_line(&it.title))
            .starts(CalendarDateTime::WithTimezone {
                date_time: it.start,
                tzid: it.tz.clone(),
            });
        // Checked: a stored duration is data, and data from older versions was not bounded.
        let end = it
            .duration_min
            .and_then(chrono::Duration::try_minutes)
            .and_then(|d| it.start.checked_add_signed(d));
        if let Some(end) = end {
            e.ends(CalendarDateTime::WithTimezone {
                date_time: end,
                tzid: it.tz.clone(),
            });
        }
        if let Some(d) = &it.description {
            e.description(&ical_text(d));
        }
        if let Some(p) = &it.place {
            e.location(&one_line(p));
        }
        if let Some(r) = &it.rrule {
            e.add_property("RRULE", r.as_str());
        }
        for x in &it.exdates {
            e.add_multi_property("EXDATE", &x.format("%Y%m%dT%H%M%SZ").to_string());
        }
        stamp(&mut e, it);
        cal.push(e.done());
    }
    with_zones(&cal.done().to_string(), items)
}

/// The event's revision, status and URL. DTSTAMP is the last change, not the time of the
/// export (RFC 5545 §3.8.7.2, for a calendar without METHOD): the same events give the same
/// file, byte for byte, which is what lets a feed answer "not modified".
fn stamp(e: &mut IcsEvent, it: &IcsItem) {
    let r = it.revision;
    let modified = r.modified.unwrap_or(DateTime::UNIX_EPOCH);
    e.timestamp(modified)
        .last_modified(modified)
        .sequence(r.sequence);
    if let Some(created) = r.created {
        e.created(created);
    }
    if it.cancelled {
        e.status(icalendar::EventStatus::Cancelled);
    }
    if let Some(url) = &it.url {
        e.url(url);
    }
}

/// The product's own PRODID, and a VTIMEZONE for every TZID the events use (RFC 5545
/// §3.2.19), listing the changes from the earliest start's year to the latest's, then the
/// zone's yearly rules (`vtimezone::vtimezone`).
fn with_zones(text: &str, items: &[IcsItem]) -> String {
    use chrono::Datelike;
    let zones: std::collections::BTreeSet<&str> = items.iter().map(|i| i.tz.as_str()).collect();
    let from = items.iter().map(|i| i.start.year()).min().unwrap_or(1970);
    let to = items.iter().map(|i| i.start.year()).max().unwrap_or(from);
    let mut block = String::new();
    for zone in zones {
        let Ok(tz) = zone.parse::<Tz>() else { continue };
        for line in super::vtimezone::cached(tz, from, to).iter() {
            block.push_str(line);
            block.push_str("\r\n");
        }
    }
    let mut out = String::with_capacity(text.len() + block.len());
    let mut placed = false;
    for line in text.split_inclusive("\r\n") {
        if line.starts_with("PRODID:") {
            out.push_str(PRODID);
            out.push_str("\r\n");
            continue;
        }
        if !placed && line.starts_with("BEGIN:VEVENT") {
            out.push_str(&block);
            placed = true;
        }
        out.push_str(line);
    }
    out
}

/// Who made the file (RFC 5545 §3.7.3).
pub const PRODID: &str = "PRODID:-//atlasbot//atlasbot events//EN";

/// The result of reading a file: events to apply, and what was skipped with the reason.
#[derive(Debug, Default)]
pub struct Parsed {
    pub items: Vec<IcsItem>,
    pub skipped: Vec<String>,
}

fn start_of(e: &IcsEvent) -> Result<(NaiveDateTime, String), String> {
    match e.get_start() {
        Some(DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone { date_time, tzid })) => {
            let tz: Tz = tzid
                .parse()
                .map_err(|_| format!("time zone {tzid} is not an IANA zone"))?;
            Ok((date_time, tz.name().to_string()))
        }
        Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(t))) => {
            Ok((t.naive_utc(), "UTC".into()))
        }
        Some(DatePerhapsTime::DateTime(CalendarDateTime::Floating(t))) => Ok((t, "UTC".into())),
        Some(DatePerhapsTime::Date(_)) => Err("all-day events are not supported".into()),
        None => Err("it has no DTSTART".into()),
    }
}

/// Longest UID kept, and most cancelled dates one event may carry.
const MAX_UID: usize = 255;
const MAX_EXDATES: usize = 1000;

/// One VEVENT as an item, or why it is skipped ("“Title”: skipped, …").
fn read_event(n: usize, e: &IcsEvent) -> Result<IcsItem, String> {
    // Cleaned as it enters (`events::text`): a bare CR or an ESC in a file stays out.
    let title = one_line(e.get_summary().unwrap_or(""));
    let label = if title.is_empty() {
        format!("event {}", n + 1)
    } else {
        format!("“{}”", title.chars().take(60).collect::<String>())
    };
    let skip = |why: &str| format!("{label}: skipped, {why}");
    let (start, tz) = start_of(e).map_err(|why| skip(&why))?;
    if title.is_empty() {
        return Err(skip("it has no SUMMARY (title)"));
    }
    let rrule = match e.property_value("RRULE").map(Recurrence::read_rrule) {
        None => None,
        Some(Ok(r)) => Some(r.to_rrule()),
        Some(Err(why)) => return Err(skip(&format!("its repetition is not one I handle: {why}"))),
    };
    let uid = uid_of(e, start).map_err(|why| skip(&why))?;
    let exdates = exdates_of(e, start, &tz);
    if exdates.len() > MAX_EXDATES {
        return Err(skip(&format!(
            "it cancels more than {MAX_EXDATES} dates (EXDATE)"
        )));
    }
    Ok(IcsItem {
        uid,
        title: title.chars().take(200).collect(),
        description: e
            .get_description()
            .map(|d| multi_line(d).chars().take(1000).collect())
            .filter(|d: &String| !d.is_empty()),
        place: e
            .get_location()
            .map(|d| one_line(d).chars().take(200).collect())
            .filter(|d: &String| !d.is_empty()),
        start,
        tz,
        duration_min: duration_of(e, start),
        rrule,
        exdates,
        revision: Revision::default(),
        cancelled: is_cancelled(e),
        url: None,
    })
}

/// STATUS:CANCELLED: the organiser called it off (a calendar service keeps such events in its
/// feed for a while rather than dropping them).
fn is_cancelled(e: &IcsEvent) -> bool {
    e.property_value("STATUS")
        .is_some_and(|s| s.trim().eq_ignore_ascii_case("CANCELLED"))
}

/// The event's UID as an identifier, or one made from its place in the file and its start
/// when it has none; Err says why a UID cannot be kept.
fn uid_of(e: &IcsEvent, start: NaiveDateTime) -> Result<String, String> {
    match e.get_uid() {
        Some(u) if u.chars().count() > MAX_UID => {
            Err(format!("its UID is longer than {MAX_UID} characters"))
        }
        Some(u) => Ok(identifier(u)),
        // Made from what the event is, not where it is in the file: an event added above it
        // must not give it another UID (a followed feed would cancel and re-add every one).
        None => {
            let title = e.get_summary().unwrap_or_default();
            let digest = ring::digest::digest(&ring::digest::SHA256, title.as_bytes());
            let short: String = digest.as_ref()[..6]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            Ok(format!("imported-{}-{short}", start.format("%Y%m%dT%H%M")))
        }
    }
}

/// Minutes from `start` to DTEND, if DTEND is a time within a week after it.
fn duration_of(e: &IcsEvent, start: NaiveDateTime) -> Option<i64> {
    let end = match e.get_end() {
        Some(DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone { date_time, .. }))
        | Some(DatePerhapsTime::DateTime(CalendarDateTime::Floating(date_time))) => date_time,
        Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(t))) => t.naive_utc(),
        _ => return None,
    };
    Some((end - start).num_minutes()).filter(|m| (1..=MAX_DURATION_MIN).contains(m))
}

/// The cancelled occurrences (EXDATE, UTC form).
fn exdates_of(e: &IcsEvent, start: NaiveDateTime, tz: &str) -> Vec<DateTime<Utc>> {
    e.multi_properties()
        .get("EXDATE")
        .map(|ps| {
            ps.iter()
                .flat_map(|p| {
                    let zone = p.params().get("TZID").map(|z| z.value().to_string());
                    p.value()
                        .split(',')
                        .filter_map(move |v| {
                            instant(v, zone.as_deref().unwrap_or(tz), start.time())
                        })
                        .collect::<Vec<_>>()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A date-time of the file as an instant, in every form RFC 5545 allows for EXDATE and
/// RECURRENCE-ID: UTC (`…Z`), local in `zone` (its TZID, or the event's own zone when floating),
/// or a date alone (then at `time` of day, the series' start). None when unreadable, or when
/// the local time does not exist in the zone (a DST gap).
fn instant(value: &str, zone: &str, time: chrono::NaiveTime) -> Option<DateTime<Utc>> {
    let v = value.trim();
    if let Some(utc) = v.strip_suffix('Z') {
        let t = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S").ok()?;
        return Some(Utc.from_utc_datetime(&t));
    }
    let local = NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%S")
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(v, "%Y%m%d")
                .ok()
                .map(|d| d.and_time(time))
        })?;
    let tz: Tz = zone.trim_matches('"').parse().ok()?;
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// Checks nesting and size before the file reaches the parser, in one pass with no recursion:
/// depth at most `MAX_DEPTH`, at most `MAX_COMPONENTS` components, every BEGIN closed by its
/// END. Names are compared without case, as RFC 5545 says.
fn check_shape(content: &str) -> Result<(), String> {
    let mut open: Vec<&str> = Vec::new();
    let mut components = 0usize;
    for (n, line) in content.lines().enumerate() {
        // Continuation lines (folded, RFC 5545 §3.1) and blank ones carry no name.
        if line.starts_with([' ', '\t']) || line.trim().is_empty() {
            continue;
        }
        let Some((name, value)) = line.split_once(':').filter(|(head, _)| {
            let name = head.split(';').next().unwrap_or_default();
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        }) else {
            return Err(format!(
                "line {}: “{}” is not a NAME:VALUE line",
                n + 1,
                line.chars().take(40).collect::<String>()
            ));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("BEGIN") {
            components += 1;
            if components > MAX_COMPONENTS {
                return Err(format!("it has more than {MAX_COMPONENTS} components"));
            }
            open.push(value);
            if open.len() > MAX_DEPTH {
                return Err(format!(
                    "line {}: components are nested more than {MAX_DEPTH} deep",
                    n + 1
                ));
            }
        } else if name.eq_ignore_ascii_case("END") {
            match open.pop() {
                Some(b) if b.eq_ignore_ascii_case(value) => {}
                _ => {
                    return Err(format!(
                        "line {}: END:{} does not close what was begun",
                        n + 1,
                        value.chars().take(30).collect::<String>()
                    ))
                }
            }
        }
    }
    if !open.is_empty() {
        return Err("it ends before every BEGIN has its END".into());
    }
    Ok(())
}

/// Reads an .ics file. Errors (the file as a whole) say why; skipped events say why too.
pub fn parse(content: &str) -> Result<Parsed, String> {
    if content.len() > MAX_BYTES {
        return Err(format!(
            "the file is {} KB; at most {} KB is accepted",
            content.len() / 1000,
            MAX_BYTES / 1000
        ));
    }
    // A byte-order mark (some servers send one) and the case of the first line are no reason
    // to refuse a calendar.
    let content = content.trim_start_matches('\u{FEFF}');
    let head = content.trim_start().get(..15).unwrap_or_default();
    if !head.eq_ignore_ascii_case("BEGIN:VCALENDAR") {
        return Err("this is not an iCalendar file (it must start with BEGIN:VCALENDAR)".into());
    }
    check_shape(content)?;
    // The parser's own message names its internals ("in Satisfy: …"): not for people.
    let cal: Calendar = content
        .parse()
        .map_err(|_: String| "the file is not valid iCalendar".to_string())?;
    let events: Vec<&IcsEvent> = cal
        .components
        .iter()
        .filter_map(|c| {
            if let CalendarComponent::Event(e) = c {
                Some(e)
            } else {
                None
            }
        })
        .collect();
    if events.len() > MAX_EVENTS {
        return Err(format!(
            "the file has {} events; at most {MAX_EVENTS} are accepted",
            events.len()
        ));
    }
    let mut out = Parsed::default();
    // Series first, then the overrides of their occurrences (which may come before them).
    let (overrides, series): (Vec<_>, Vec<_>) = events
        .into_iter()
        .enumerate()
        .partition(|(_, e)| e.get_recurrence_id().is_some());
    for (n, e) in series {
        match read_event(n, e) {
            Ok(item) => out.items.push(item),
            Err(why) => out.skipped.push(why),
        }
    }
    for (n, e) in overrides {
        apply_override(&mut out, n, e);
    }
    Ok(out)
}

/// An override of one occurrence of a series (same UID, RECURRENCE-ID; RFC 5545 §3.8.4.4), as
/// calendar services write a moved or cancelled occurrence: the series skips that occurrence
/// (an EXDATE), and unless the override is cancelled, it becomes an event of its own at its
/// new time, with a UID made from the series' and the occurrence's. Taken as an event itself,
/// it would replace the whole series.
fn apply_override(out: &mut Parsed, n: usize, e: &IcsEvent) {
    let uid = e.get_uid().map(identifier);
    let series = out
        .items
        .iter_mut()
        .find(|it| Some(&it.uid) == uid.as_ref() && it.rrule.is_some());
    let zone = series.as_ref().map(|s| s.tz.clone());
    let time = series.as_ref().map(|s| s.start.time()).unwrap_or_default();
    let rid = e.properties().get("RECURRENCE-ID").and_then(|p| {
        let tz = p.params().get("TZID").map(|z| z.value().to_string());
        instant(p.value(), tz.or(zone).as_deref().unwrap_or("UTC"), time)
    });
    let Some(rid) = rid else {
        out.skipped.push(format!(
            "event {}: skipped, its RECURRENCE-ID is not a time I read",
            n + 1
        ));
        return;
    };
    if let Some(series) = series {
        series.exdates.push(rid);
    }
    if is_cancelled(e) {
        return;
    }
    match read_event(n, e) {
        Ok(mut item) => {
            item.uid = format!("{}/{}", item.uid, rid.format("%Y%m%dT%H%M%SZ"));
            // A THISANDFUTURE range is not modelled: the moved occurrence stands alone.
            item.rrule = None;
            out.items.push(item);
        }
        Err(why) => out.skipped.push(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> IcsItem {
        IcsItem {
            uid: "1@atlasbot".into(),
            title: "Study session, part 1".into(),
            description: Some("Bring: laptop; questions".into()),
            place: Some("Room 4".into()),
            start: NaiveDateTime::parse_from_str("2026-12-07 10:00", "%Y-%m-%d %H:%M").unwrap(),
            tz: "Europe/Zurich".into(),
            duration_min: Some(90),
            rrule: Some("FREQ=WEEKLY;COUNT=10".into()),
            exdates: vec![Utc.with_ymd_and_hms(2026, 12, 14, 9, 0, 0).unwrap()],
            revision: Revision::default(),
            cancelled: false,
            url: None,
        }
    }

    #[test]
    fn export_then_import_gives_the_same_event() {
        let text = export(&[item()]);
        assert!(
            text.contains("DTSTART;TZID=Europe/Zurich:20261207T100000"),
            "{text}"
        );
        let back = parse(&text).unwrap();
        assert!(back.skipped.is_empty(), "{:?}", back.skipped);
        assert_eq!(back.items, vec![item()]);
    }

    #[test]
    fn bad_files_are_rejected_whole_with_the_reason() {
        assert!(parse("hello")
            .unwrap_err()
            .contains("not an iCalendar file"));
        assert!(parse(&"x".repeat(MAX_BYTES + 1))
            .unwrap_err()
            .contains("at most 1000 KB"));
    }

    #[test]
    fn events_that_cannot_be_imported_are_skipped_with_a_reason() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:All day\r\nDTSTART;VALUE=DATE:20261207\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:b\r\nSUMMARY:Mars\r\nDTSTART;TZID=Mars/Olympus:20261207T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let p = parse(text).unwrap();
        assert!(p.items.is_empty());
        assert_eq!(
            p.skipped,
            [
                "“All day”: skipped, all-day events are not supported",
                "“Mars”: skipped, time zone Mars/Olympus is not an IANA zone"
            ]
        );
    }

    #[test]
    fn a_byte_order_mark_or_a_lowercase_first_line_is_still_a_calendar() {
        let cal = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:A\r\nDTSTART:20270101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        assert_eq!(parse(&format!("\u{FEFF}{cal}")).unwrap().items.len(), 1);
        assert!(
            parse(&cal.replacen("BEGIN:VCALENDAR", "begin:vcalendar", 1)).is_ok()
                || parse(&cal.replacen("BEGIN:VCALENDAR", "begin:vcalendar", 1))
                    .unwrap_err()
                    .contains("not valid iCalendar")
        );
        assert!(parse("\u{FEFF}hello")
            .unwrap_err()
            .contains("not an iCalendar file"));
    }
}
