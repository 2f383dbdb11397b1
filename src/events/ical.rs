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

use super::Recurrence;

/// Largest .ics file accepted, and most events in it.
pub const MAX_BYTES: usize = 1_000_000;
pub const MAX_EVENTS: usize = 500;

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
}

pub fn export(items: &[IcsItem]) -> String {
    let mut cal = Calendar::new();
    cal.name("atlasbot events");
    for it in items {
        let mut e = IcsEvent::new();
        e.uid(&it.uid)
            .summary(&it.title)
            .starts(CalendarDateTime::WithTimezone {
                date_time: it.start,
                tzid: it.tz.clone(),
            });
        if let Some(d) = it.duration_min {
            e.ends(CalendarDateTime::WithTimezone {
                date_time: it.start + chrono::Duration::minutes(d),
                tzid: it.tz.clone(),
            });
        }
        if let Some(d) = &it.description {
            e.description(d);
        }
        if let Some(p) = &it.place {
            e.location(p);
        }
        if let Some(r) = &it.rrule {
            e.add_property("RRULE", r.as_str());
        }
        for x in &it.exdates {
            e.add_multi_property("EXDATE", &x.format("%Y%m%dT%H%M%SZ").to_string());
        }
        cal.push(e.done());
    }
    cal.done().to_string()
}

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

/// Reads an .ics file. Errors (the file as a whole) say why; skipped events say why too.
pub fn parse(content: &str) -> Result<Parsed, String> {
    if content.len() > MAX_BYTES {
        return Err(format!(
            "the file is {} KB; at most {} KB is accepted",
            content.len() / 1000,
            MAX_BYTES / 1000
        ));
    }
    if !content.trim_start().starts_with("BEGIN:VCALENDAR") {
        return Err("this is not an iCalendar file (it must start with BEGIN:VCALENDAR)".into());
    }
    let cal: Calendar = content.parse().map_err(|e: String| {
        format!(
            "the file is not valid iCalendar: {}",
            e.lines().next().unwrap_or("parse error")
        )
    })?;
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
    for (n, e) in events.into_iter().enumerate() {
        let title = e.get_summary().unwrap_or("").trim().to_string();
        let label = if title.is_empty() {
            format!("event {}", n + 1)
        } else {
            format!("“{}”", title.chars().take(60).collect::<String>())
        };
        let (start, tz) = match start_of(e) {
            Ok(s) => s,
            Err(why) => {
                out.skipped.push(format!("{label}: skipped, {why}"));
                continue;
            }
        };
        if title.is_empty() {
            out.skipped
                .push(format!("{label}: skipped, it has no SUMMARY (title)"));
            continue;
        }
        let rrule = e.property_value("RRULE").map(str::to_string);
        if let Some(r) = &rrule {
            if Recurrence::from_rrule(r).is_none() {
                out.skipped.push(format!(
                    "{label}: skipped, its repetition ({r}) is not one I handle"
                ));
                continue;
            }
        }
        let duration_min = match e.get_end() {
            Some(DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone {
                date_time, ..
            }))
            | Some(DatePerhapsTime::DateTime(CalendarDateTime::Floating(date_time))) => {
                Some((date_time - start).num_minutes())
            }
            Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(t))) => {
                Some((t.naive_utc() - start).num_minutes())
            }
            _ => None,
        }
        .filter(|m| *m > 0);
        let exdates = e
            .multi_properties()
            .get("EXDATE")
            .map(|ps| {
                ps.iter()
                    .flat_map(|p| p.value().split(','))
                    .filter_map(|v| NaiveDateTime::parse_from_str(v.trim(), "%Y%m%dT%H%M%SZ").ok())
                    .map(|n| Utc.from_utc_datetime(&n))
                    .collect()
            })
            .unwrap_or_default();
        out.items.push(IcsItem {
            uid: e
                .get_uid()
                .map(str::to_string)
                .unwrap_or_else(|| format!("imported-{}-{n}", start.format("%Y%m%dT%H%M"))),
            title: title.chars().take(200).collect(),
            description: e.get_description().map(|d| d.chars().take(1000).collect()),
            place: e.get_location().map(|d| d.chars().take(200).collect()),
            start,
            tz,
            duration_min,
            rrule,
            exdates,
        });
    }
    Ok(out)
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
}
