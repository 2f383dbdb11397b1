//! Hostile input, as an attacker or a careless moderator would send it: calendar files from
//! tests/hostile/, and property tests over every reader of what people type (times, offsets,
//! repetition rules, command lines, calendar files). Whatever comes in, the bot answers calmly,
//! never panics, and the work each input causes is bounded by construction.

use std::path::PathBuf;

use atlasbot::commands::{self, Caller, Context};
use atlasbot::events::{self, ical, when, Recurrence};
use atlasbot::render::plain;
use atlasbot::reply::Tone;
use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;

use crate::support::TempDb;

fn corpus(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/hostile")
        .join(name)
}

async fn import(ctx: &Context, file: &str) -> (Tone, String) {
    let line = format!("/event import file:{}", corpus(file).display());
    // Typed on the console: its adapter reads the file, the core checks what is in it.
    let r = atlasbot::platform::console::answer_line(ctx, &Caller::console(), &line).await;
    (r.tone, plain::render(&r))
}

#[tokio::test]
async fn hostile_calendar_files_get_a_calm_answer_and_bounded_work() {
    let db = TempDb::new();
    let ctx = db.context().await;
    for (file, tone, expected) in [
        ("nested-alarms.ics", Tone::Usage, "nested more than 4 deep"),
        (
            "unclosed.ics",
            Tone::Usage,
            "ends before every BEGIN has its END",
        ),
        ("garbage-lines.ics", Tone::Usage, "is not a NAME:VALUE line"),
        ("many-events.ics", Tone::Usage, "at most 500 are accepted"),
        (
            "every-second.ics",
            Tone::Answer,
            "BYHOUR (only FREQ, INTERVAL",
        ),
        (
            "mixed-case-minutely.ics",
            Tone::Answer,
            "FREQ=MINUTELY (only daily",
        ),
        (
            "interval-zero.ics",
            Tone::Answer,
            "INTERVAL=0 (it must be 1 to 52)",
        ),
        (
            "overflowing-numbers.ics",
            Tone::Answer,
            "INTERVAL=18446744073709551617",
        ),
        (
            "until-before-start.ics",
            Tone::Answer,
            "its repetition has ended",
        ),
        (
            "dst-gap.ics",
            Tone::Answer,
            "does not exist in its time zone",
        ),
        ("far-past.ics", Tone::Answer, "1 added"),
        ("far-future.ics", Tone::Answer, "1 added"),
    ] {
        let (got, text) = import(&ctx, file).await;
        assert_eq!(got, tone, "{file}: {text}");
        assert!(text.contains(expected), "{file}: {text}");
        assert!(
            !text.contains("Satisfy"),
            "{file}: parser internals shown: {text}"
        );
    }
    // What was added is listed and exported without trouble (no overflow on far dates).
    let events = commands::answer(&ctx, &Caller::console(), "/events 366").await;
    assert_ne!(events.tone, Tone::Failure, "{}", plain::render(&events));
    let export = commands::answer(&ctx, &Caller::console(), "/event export").await;
    assert_eq!(export.tone, Tone::Answer);
}

#[tokio::test]
async fn a_device_or_a_fifo_is_not_read_as_a_calendar() {
    let db = TempDb::new();
    let ctx = db.context().await;
    let fifo = db.dir.path().join("calendar.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    for path in ["/dev/zero".into(), fifo.display().to_string()] {
        let r = atlasbot::platform::console::answer_line(
            &ctx,
            &Caller::console(),
            &format!("/event import file:{path}"),
        )
        .await;
        assert_eq!(r.tone, Tone::Usage);
        assert!(
            plain::render(&r).contains("is not a regular file"),
            "{path}: {}",
            plain::render(&r)
        );
    }
}

#[tokio::test]
async fn a_panic_inside_a_command_becomes_an_answer_with_an_incident_id() {
    // The guard every command runs in, given a command that panics.
    let answered = commands::guarded(async { panic!("a bug in a command") }).await;
    let reply = atlasbot::error::into_reply(answered.unwrap_err(), "/actor WIPO");
    assert_eq!(reply.tone, Tone::Failure);
    let text = plain::render(&reply);
    assert!(
        text.contains("something went wrong on my side (ref "),
        "{text}"
    );
    assert!(
        !text.contains("a bug in a command"),
        "internals stay in the log"
    );
}

#[tokio::test]
async fn a_panic_in_an_adapters_work_ends_only_that_work() {
    // What the Discord handler, its follow-ups and the Matrix command handler run in.
    let done = atlasbot::error::contained("/actor WIPO", async { panic!("a bug in a renderer") });
    let reply = done.await.unwrap_err();
    assert_eq!(reply.tone, Tone::Failure);
    assert!(plain::render(&reply).contains("(ref "));
    let fine = atlasbot::error::contained("/help", async { 42 }).await;
    assert_eq!(fine.ok(), Some(42));
}

#[test]
fn control_characters_never_reach_a_terminal() {
    let shown = plain::terminal_safe("Title \u{1b}[31mred\u{1b}[0m\u{7}\u{9b}2J\nnext\tline");
    assert!(
        !shown
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'),
        "{shown:?}"
    );
    assert!(shown.contains("red") && shown.contains("\nnext\tline"));
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any text is read as a time or refused with an example; a time read is never past.
    #[test]
    fn the_time_reader_never_panics_and_never_returns_the_past(input in "\\PC{0,90}") {
        if let Ok(t) = when::parse(&input, now(), chrono_tz::Europe::Zurich) {
            prop_assert!(t >= now());
        }
    }

    #[test]
    fn the_time_reader_survives_numbers_at_every_edge(
        n in prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>()],
        unit in prop_oneof![Just("minutes"), Just("hours"), Just("days"), Just("weeks")],
        h in 0u32..100, m in 0u32..100,
    ) {
        let _ = when::parse(&format!("in {n} {unit}"), now(), chrono_tz::UTC);
        let _ = when::parse(&format!("tomorrow {h}:{m:02}"), now(), chrono_tz::UTC);
        let _ = when::parse(&format!("{n}-{h}-{m} {h}:{m}"), now(), chrono_tz::UTC);
    }

    /// Offsets: within 0–60 days, at most five, or a reason.
    #[test]
    fn offsets_are_bounded_or_refused(input in "[0-9a-z, ]{0,60}") {
        if let Ok(list) = events::parse_offsets(&input) {
            prop_assert!(!list.is_empty() && list.len() <= events::MAX_OFFSETS);
            prop_assert!(list.iter().all(|m| (0..=events::MAX_OFFSET_MIN).contains(m)));
        }
    }

    /// A rule is accepted only in the form the bot models, and expands to at most `limit`
    /// occurrences whatever its start.
    #[test]
    fn repetition_rules_are_modelled_or_refused(
        parts in proptest::collection::vec(
            (prop_oneof![Just("FREQ"), Just("freq"), Just("INTERVAL"), Just("BYDAY"),
                         Just("COUNT"), Just("UNTIL"), Just("BYHOUR"), Just("BYSECOND"),
                         Just("WKST"), Just("Bymonth")],
             prop_oneof![Just("DAILY".to_string()), Just("weekly".to_string()),
                         Just("MINUTELY".to_string()), Just("MO,TH".to_string()),
                         Just("0".to_string()), "[0-9]{1,20}", "[A-Z0-9,]{0,12}"]),
            0..6),
        year in 1i32..10000,
    ) {
        let rule: Vec<String> = parts.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let rule = rule.join(";");
        if let Ok(rec) = Recurrence::read_rrule(&rule) {
            prop_assert!((1..=52).contains(&rec.interval));
            prop_assert!(rec.count.is_none_or(|c| (1..=1000).contains(&c)));
            prop_assert_eq!(Recurrence::read_rrule(&rec.to_rrule()).ok(), Some(rec.clone()));
            if let Some(start) = chrono::NaiveDate::from_ymd_opt(year, 1, 5).and_then(|d| d.and_hms_opt(10, 0, 0)) {
                let got = events::occurrences(start, chrono_tz::Europe::Zurich, Some(&rec.to_rrule()),
                    now(), now() + chrono::Duration::days(400), 50);
                prop_assert!(got.len() <= 50);
                prop_assert!(got.iter().all(|t| *t >= now()));
            }
        }
    }

    /// Any line gets a reply from the core's parser: a request, or a usage error.
    #[test]
    fn the_command_line_parser_never_panics(line in "/?\\PC{0,120}") {
        let _ = commands::parse(&line);
    }

    #[test]
    fn command_lines_with_quotes_and_options_never_panic(
        command in prop_oneof![Just("/event add"), Just("/event edit 1"), Just("/remind me 1"),
                               Just("/search"), Just("/who-works-on"), Just("/settings offsets")],
        options in proptest::collection::vec(("[a-z]{1,8}", "[\"'“”:a-z0-9 ]{0,20}"), 0..6),
    ) {
        let opts: Vec<String> = options.iter().map(|(k, v)| format!("{k}:{v}")).collect();
        let _ = commands::parse(&format!("{command} {}", opts.join(" ")));
    }

    /// Calendar files: parsed or refused with a reason, never a panic, whatever the nesting.
    #[test]
    fn the_calendar_reader_never_panics(
        lines in proptest::collection::vec(prop_oneof![
            Just("BEGIN:VEVENT".to_string()), Just("END:VEVENT".to_string()),
            Just("BEGIN:VALARM".to_string()), Just("END:VALARM".to_string()),
            Just("SUMMARY:x".to_string()), Just("UID:u".to_string()),
            Just("DTSTART:20270105T100000Z".to_string()),
            Just("DTSTART;TZID=Europe/Zurich:20270328T023000".to_string()),
            Just("RRULE:FREQ=DAILY;COUNT=3".to_string()),
            "[A-Z;=:0-9]{0,30}",
        ], 0..40),
    ) {
        let text = format!("BEGIN:VCALENDAR\r\n{}\r\nEND:VCALENDAR\r\n", lines.join("\r\n"));
        if let Ok(parsed) = ical::parse(&text) {
            prop_assert!(parsed.items.len() <= ical::MAX_EVENTS);
        }
    }
}

/// The atlas the line completer reads, built once for all cases.
fn bundled() -> &'static atlasbot::atlas::Atlas {
    static ATLAS: std::sync::OnceLock<atlasbot::atlas::Atlas> = std::sync::OnceLock::new();
    ATLAS.get_or_init(|| {
        let rows = crate::support::bundled_atlas();
        atlasbot::atlas::Atlas::new(rows)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever is typed before a Tab, completion answers within bounds: at most 25 choices,
    /// replacing from a point inside the line, never a panic.
    #[test]
    fn completing_any_typed_line_is_bounded(
        head in prop_oneof![Just("/"), Just("!"), Just("/event add "), Just("/follow "), Just("/actor ")],
        rest in "\\PC{0,80}",
    ) {
        let line = format!("{head}{rest}");
        let c = atlasbot::commands::autocomplete::complete_line(bundled(), &line);
        prop_assert!(c.choices.len() <= 25);
        prop_assert!(c.start <= line.len() && line.is_char_boundary(c.start));
    }

    /// Any plain question — fact shapes with anything inside — is routed without a panic to
    /// a command line that parses (or nowhere), never back to /ask.
    #[test]
    fn any_question_routes_to_a_line_that_parses(
        head in prop_oneof![Just("when was "), Just("how many members does "), Just("what does "),
                            Just("where is "), Just("when did "), Just("combien de membres compte "),
                            Just("the headquarters of "), Just("qui a développé "), Just("")],
        middle in "\\PC{0,40}",
        tail in prop_oneof![Just(" founded"), Just(" have"), Just(" stand for"), Just(" based"),
                            Just(" take place"), Just("'s address"), Just("?"), Just("")],
    ) {
        let question = format!("{head}{middle}{tail}");
        if let atlasbot::commands::ask::Route::Line(line) = atlasbot::commands::ask::route(bundled(), &question) {
            prop_assert!(!line.starts_with("/ask"), "{line}");
            if !question.trim_start().starts_with('/') {
                prop_assert!(commands::parse(&line).is_ok(), "{question} → {line}");
            }
        }
    }
}

/// Regression: imported SUMMARY/DESCRIPTION/LOCATION kept bare CR, ESC, NUL, VT, FF, DEL (and
/// typed ones reached the text too), and feeds wrote them raw — a bare CR ends a line for some
/// calendar tools, so an imported file could smuggle a URL and an alarm into every
/// subscriber's calendar. Cleaned where text enters, and again where TEXT leaves.
#[tokio::test]
async fn control_characters_never_reach_a_calendar_feed() {
    let db = TempDb::new();
    let ctx = db.context().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("smuggle.ics");
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//evil//EN\r\nBEGIN:VEVENT\r\n\
        UID:smuggle-1@evil\r\nDTSTART:20270105T100000Z\r\n\
        SUMMARY:Budget\rURL:https://evil.example/\rBEGIN:VALARM\u{1b}[2J\u{0}\r\n\
        DESCRIPTION:line one\rline two\u{0b}three\u{0c}four\u{7f}\u{2028}five\r\n\
        LOCATION:Room\r1\u{1b}\r\n\
        END:VEVENT\r\nEND:VCALENDAR\r\n";
    std::fs::write(&file, ics).unwrap();
    let line = format!("/event import file:{}", file.display());
    let r = atlasbot::platform::console::answer_line(&ctx, &Caller::console(), &line).await;
    assert_eq!(r.tone, Tone::Answer, "{}", plain::render(&r));
    // Typed, as a moderator might paste it.
    let typed = commands::answer(
        &ctx,
        &Caller::console(),
        "/event add title:\"Typed\u{0b}\u{1b}]8;;x\u{7}\u{2028}title\" when:\"2027-01-06 10:00\" place:\"Hall\u{0c}B\" description:\"a\u{0}b\u{2029}c\"",
    )
    .await;
    assert_eq!(typed.tone, Tone::Answer, "{}", plain::render(&typed));
    let events = ctx
        .store
        .events_of_space(&atlasbot::domain::SpaceId::console())
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    for e in &events {
        for text in [Some(&e.title), e.place.as_ref(), e.description.as_ref()]
            .into_iter()
            .flatten()
        {
            assert!(
                !text
                    .chars()
                    .any(|c| (c.is_control() && c != '\n') || c == '\u{2028}' || c == '\u{2029}'),
                "stored: {text:?}"
            );
        }
    }
    let feed = ical::export(
        &atlasbot::feeds::live_items(&ctx.store, &atlasbot::domain::SpaceId::console())
            .await
            .unwrap(),
    );
    let body = feed.replace("\r\n", "");
    assert!(
        !body
            .chars()
            .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}'),
        "{feed:?}"
    );
    for line in feed.split("\r\n") {
        assert!(
            !line.starts_with("URL:https://evil") && !line.starts_with("BEGIN:VALARM"),
            "smuggled: {line:?}\n{feed}"
        );
    }
    assert!(
        feed.contains("DESCRIPTION:line one\\nline two\\nthree\\nfour\\nfive"),
        "{feed}"
    );
}
