//! Calendar feeds and the events page, checked from outside: the feed is fetched over real
//! HTTP and read by two calendar libraries independent of the bot (Python's icalendar with
//! recurring-ical-events, and Mozilla's ical.js, which reads every time through the feed's
//! own VTIMEZONE); the page is opened in Debian's Chromium, headless, in another time zone.
//! `scripts/calendars install` (run by `scripts/test`) installs all three.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use atlasbot::commands::{self, Caller, Context};
use atlasbot::domain::{EventId, Platform, SpaceId};
use atlasbot::platform::{http, web};
use atlasbot::render::plain;
use atlasbot::scheduler::{occurrences_of, Clock};
use atlasbot::store::rsvps::Answer;
use chrono::{DateTime, TimeZone, Utc};

use crate::support::TempDb;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn caller(space: &str, user: &str, moderator: bool) -> Caller {
    Caller {
        platform: Platform::Console,
        space: SpaceId::parse(space).unwrap(),
        user: user.into(),
        moderator,
        channel: None,
    }
}

/// A store with two spaces' events, and the calendars served on a free port.
struct Served {
    _db: TempDb,
    ctx: Context,
    base: String,
    a: Caller,
    b: Caller,
    _stop: tokio::sync::watch::Sender<bool>,
}

impl Served {
    async fn start(per_minute: u32) -> Served {
        let db = TempDb::new();
        let mut ctx = db.context().await;
        ctx.set_clock(Clock::fixed(
            Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap(),
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        ctx.public_url = Some(base.clone());
        let calendars = Arc::new(web::Calendars::with_rate(ctx.clone(), &base, per_minute));
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(http::serve(
            listener,
            http::Limits::default(),
            calendars,
            stopped,
        ));
        Served {
            _db: db,
            ctx,
            base,
            a: caller("console:a", "mod-a", true),
            b: caller("console:b", "mod-b", true),
            _stop: stop,
        }
    }

    async fn say(&self, who: &Caller, line: &str) -> String {
        let out = plain::render(&commands::answer(&self.ctx, who, line).await);
        assert!(
            !out.contains("Usage") && !out.contains("I did not understand"),
            "{line}: {out}"
        );
        out
    }

    /// Space A: a weekly series across the spring clock change with one occurrence
    /// cancelled, a monthly New York series across both of its changes, a weekly series
    /// running twenty years (read through the VTIMEZONE's yearly rules), a cancelled one-off.
    /// Space B: one event that must never show in A's calendar.
    async fn with_events(per_minute: u32) -> Served {
        let s = Served::start(per_minute).await;
        for line in [
            "/settings timezone Europe/Zurich",
            "/event add title:\"Weekly seminar\" when:\"2027-03-15 10:00\" repeat:weekly times:10 description:\"On cybersecurity\"",
            "/event cancel 1 occurrence:\"2027-03-29 10:00\"",
            "/event add title:\"NY briefing\" when:\"2027-03-01 09:00\" tz:America/New_York repeat:monthly times:12",
            "/event add title:\"Long series\" when:\"2026-12-07 18:00\" repeat:weekly until:2046-12-31",
            "/event add title:\"Dropped\" when:\"2026-12-10 12:00\"",
            "/event cancel 4",
        ] {
            s.say(&s.a, line).await;
        }
        s.say(
            &s.b,
            "/event add title:\"Secret B meeting\" when:\"2026-12-08 10:00\"",
        )
        .await;
        s
    }

    async fn secret(&self, who: &Caller) -> String {
        let out = self.say(who, "/event subscribe").await;
        assert!(out.contains("webcal://"), "{out}");
        self.ctx
            .store
            .feed_secret(&who.space)
            .await
            .unwrap()
            .unwrap()
    }

    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut req = reqwest::Client::new().get(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap()
    }

    /// What the bot itself says occurs in [from, to): `UID START STATUS` lines, sorted.
    async fn expected(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<String> {
        let mut lines = Vec::new();
        for e in self
            .ctx
            .store
            .feed_events(&self.a.space, self.ctx.clock.now())
            .await
            .unwrap()
        {
            if e.cancelled {
                let start =
                    e.tz.parse::<chrono_tz::Tz>()
                        .unwrap()
                        .from_local_datetime(&e.start().unwrap())
                        .unwrap()
                        .with_timezone(&Utc);
                if start >= from && start < to {
                    lines.push(format!(
                        "{} {} CANCELLED",
                        e.uid,
                        start.format("%Y-%m-%dT%H:%M:%SZ")
                    ));
                }
                continue;
            }
            for at in occurrences_of(&self.ctx.store, &e, from, to).await.unwrap() {
                lines.push(format!(
                    "{} {} CONFIRMED",
                    e.uid,
                    at.format("%Y-%m-%dT%H:%M:%SZ")
                ));
            }
        }
        lines.sort();
        lines
    }
}

/// Occurrences in [from, to) as an independent library reads the file.
fn read_by(library: &str, file: &std::path::Path, from: &str, to: &str) -> Vec<String> {
    let output = match library {
        "python" => Command::new(root().join("target/calendar-venv/bin/python"))
            .arg(root().join("tests/it/calendar_check.py"))
            .args([file.to_str().unwrap(), from, to])
            .output(),
        _ => Command::new("node")
            .arg(root().join("tests/it/calendar_check.mjs"))
            .arg(root().join("target/calendar-js"))
            .args([file.to_str().unwrap(), from, to])
            .output(),
    }
    .unwrap_or_else(|e| panic!("{library} did not run ({e}): run scripts/calendars install"));
    assert!(
        output.status.success(),
        "{library} could not read the feed (scripts/calendars install?): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut lines: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    lines.sort();
    lines
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[tokio::test]
async fn two_independent_libraries_read_the_feed_as_the_bot_plans_it() {
    let s = Served::with_events(1000).await;
    let secret = s.secret(&s.a).await;
    let feed = s.get(&format!("/calendar/{secret}.ics"), &[]).await;
    assert_eq!(feed.status(), 200);
    assert!(feed.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/calendar"));
    let text = feed.text().await.unwrap();
    for needed in [
        "PRODID:-//atlasbot//atlasbot events//EN",
        "BEGIN:VTIMEZONE\r\nTZID:America/New_York",
        "BEGIN:VTIMEZONE\r\nTZID:Europe/Zurich",
        "STATUS:CANCELLED",
        "SEQUENCE:",
        "LAST-MODIFIED:",
        "DESCRIPTION:On cybersecurity",
        &format!("URL:{}", &s.base[..20]),
    ] {
        assert!(text.contains(needed), "{needed} missing:\n{text}");
    }
    assert!(
        !text.contains("Secret B meeting"),
        "another space's event leaked"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("feed.ics");
    std::fs::write(&file, &text).unwrap();
    // The first year and a half (both clock changes, the cancelled occurrence, the cancelled
    // event), then a year two decades on, read only through the zone's yearly rules.
    for (from, to) in [
        ("2026-11-23T00:00:00Z", "2028-06-01T00:00:00Z"),
        ("2046-01-01T00:00:00Z", "2047-01-01T00:00:00Z"),
    ] {
        let expected = s.expected(utc(from), utc(to)).await;
        assert!(expected.len() > 20, "{expected:?}");
        for library in ["python", "ical.js"] {
            let got = read_by(library, &file, from, to);
            assert_eq!(
                got, expected,
                "{library} reads other occurrences in {from}..{to}"
            );
        }
    }
    // The exported file is read alike (it has the live events only).
    let export = commands::answer(&s.ctx, &s.a, "/event export").await;
    let exported = dir.path().join("export.ics");
    std::fs::write(&exported, export.attachment.unwrap().content).unwrap();
    let (from, to) = ("2026-11-23T00:00:00Z", "2028-06-01T00:00:00Z");
    let live: Vec<String> = s
        .expected(utc(from), utc(to))
        .await
        .into_iter()
        .filter(|l| !l.ends_with("CANCELLED"))
        .collect();
    for library in ["python", "ical.js"] {
        assert_eq!(
            read_by(library, &exported, from, to),
            live,
            "{library} on the export"
        );
    }
}

#[tokio::test]
async fn feeds_revalidate_by_etag_change_with_the_event_and_die_with_rotation() {
    let s = Served::with_events(1000).await;
    let secret = s.secret(&s.a).await;
    let path = format!("/calendar/{secret}.ics");
    let first = s.get(&path, &[]).await;
    let tag = first.headers()["etag"].to_str().unwrap().to_string();
    let body = first.text().await.unwrap();
    let again = s.get(&path, &[("if-none-match", &tag)]).await;
    assert_eq!(again.status(), 304);
    assert!(again.text().await.unwrap().is_empty());
    // An edit changes the file (SEQUENCE, LAST-MODIFIED), so the tag no longer matches.
    s.ctx
        .clock
        .set(Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap());
    s.say(&s.a, "/event edit 2 place:\"Room 12\"").await;
    let changed = s.get(&path, &[("if-none-match", &tag)]).await;
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), tag);
    let text = changed.text().await.unwrap();
    assert!(text.contains("LOCATION:Room 12"), "{text}");
    assert!(text.contains("LAST-MODIFIED:20261124T080000Z"), "{text}");
    let sequence = |t: &str, title: &str| -> u32 {
        let event = t.split("BEGIN:VEVENT").find(|e| e.contains(title)).unwrap();
        let line = event.lines().find(|l| l.starts_with("SEQUENCE:")).unwrap();
        line["SEQUENCE:".len()..].trim().parse().unwrap()
    };
    assert!(
        sequence(&text, "SUMMARY:NY briefing") > sequence(&body, "SUMMARY:NY briefing"),
        "SEQUENCE must grow with an edit"
    );
    assert_ne!(text, body);
    // Kept feeds are kept only while the events are as they were: a cancelled occurrence
    // (another process's change, as far as the server knows) is in the next answer.
    let before = s.get(&path, &[]).await.text().await.unwrap();
    assert!(!before.contains("EXDATE:20270401T130000Z"));
    s.say(&s.a, "/event cancel 2 occurrence:\"2027-04-01 09:00\"")
        .await;
    let after = s.get(&path, &[]).await.text().await.unwrap();
    assert!(after.contains("EXDATE:20270401T130000Z"), "{after}");
    // One topic's feed: only the seminar is on cybersecurity (inferred from its words).
    let topic = s
        .get(&format!("/calendar/{secret}/topic/cybersecurity.ics"), &[])
        .await;
    let topic = topic.text().await.unwrap();
    assert!(
        topic.contains("Weekly seminar") && !topic.contains("NY briefing"),
        "{topic}"
    );
    // Rotation: the old link is gone at once, the new one works.
    let out = s.say(&s.a, "/event rotate-feed").await;
    assert!(out.contains("The old links no longer work"), "{out}");
    assert_eq!(s.get(&path, &[]).await.status(), 404);
    let fresh = s.ctx.store.feed_secret(&s.a.space).await.unwrap().unwrap();
    assert_ne!(fresh, secret);
    assert_eq!(
        s.get(&format!("/calendar/{fresh}.ics"), &[]).await.status(),
        200
    );
    // Members may subscribe, not rotate.
    let member = caller("console:a", "ana", false);
    let refused = plain::render(&commands::answer(&s.ctx, &member, "/event rotate-feed").await);
    assert!(refused.contains("Only moderators"), "{refused}");
}

#[tokio::test]
async fn no_calendar_shows_another_spaces_events_and_unknown_links_say_nothing() {
    let s = Served::with_events(1000).await;
    let a = s.secret(&s.a).await;
    let b = s.secret(&s.b).await;
    assert_ne!(a, b);
    // B's event (id 5) through A's secret: not found, exactly like a made-up id.
    assert_eq!(
        s.get(&format!("/calendar/{a}/event/5.ics"), &[])
            .await
            .status(),
        404
    );
    assert_eq!(
        s.get(&format!("/calendar/{a}/event/999.ics"), &[])
            .await
            .status(),
        404
    );
    let own = s.get(&format!("/calendar/{a}/event/1.ics"), &[]).await;
    assert_eq!(own.status(), 200);
    assert!(own.text().await.unwrap().contains("Weekly seminar"));
    let unknown = "0".repeat(48);
    for path in [
        format!("/calendar/{unknown}.ics"),
        format!("/calendar/{unknown}"),
        "/calendar/not-a-secret.ics".to_string(),
        format!("/calendar/{a}/weather/sunny.ics"),
    ] {
        assert_eq!(s.get(&path, &[]).await.status(), 404, "{path}");
    }
    let b_feed = s
        .get(&format!("/calendar/{b}.ics"), &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(b_feed.contains("Secret B meeting") && !b_feed.contains("Weekly seminar"));
}

#[tokio::test]
async fn one_address_is_held_to_its_requests_per_minute() {
    let s = Served::with_events(5).await;
    let secret = s.secret(&s.a).await;
    let path = format!("/calendar/{secret}.ics");
    for _ in 0..5 {
        assert_eq!(s.get(&path, &[]).await.status(), 200);
    }
    let held = s.get(&path, &[]).await;
    assert_eq!(held.status(), 429);
    assert_eq!(held.headers()["retry-after"], "60");
    // Behind a proxy on this machine, each client is counted by the address the proxy gives.
    let other = s.get(&path, &[("x-forwarded-for", "203.0.113.9")]).await;
    assert_eq!(
        other.status(),
        200,
        "another client behind the proxy is not held back"
    );
    for _ in 0..4 {
        s.get(&path, &[("x-forwarded-for", "198.51.100.1, 203.0.113.9")])
            .await;
    }
    let spoofed = s
        .get(&path, &[("x-forwarded-for", "198.51.100.7, 203.0.113.9")])
        .await;
    assert_eq!(spoofed.status(), 429, "only the proxy's own entry counts");
}

/// Debian's headless Chromium on `url`, the viewer in New York, with `how` (what to leave:
/// the DOM, a screenshot): what it printed.
async fn chromium(how: Vec<String>, url: String) -> Vec<u8> {
    let profile = tempfile::tempdir().unwrap();
    let run = tokio::task::spawn_blocking(move || {
        Command::new("chromium")
            .env("TZ", "America/New_York")
            .env("LANG", "en_US.UTF-8")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--lang=en-US",
                &format!("--user-data-dir={}", profile.path().display()),
            ])
            .args(&how)
            .arg(&url)
            .output()
    });
    run.await
        .unwrap()
        .expect("chromium did not run: scripts/calendars install")
        .stdout
}

/// The page at `url` as Chromium leaves it after its script ran.
async fn browse(url: String) -> String {
    String::from_utf8_lossy(&chromium(vec!["--dump-dom".into()], url).await).to_string()
}

#[tokio::test]
async fn the_events_page_lists_the_spaces_events_in_the_viewers_zone_in_a_real_browser() {
    let s = Served::with_events(1000).await;
    let secret = s.secret(&s.a).await;
    let url = format!("{}/calendar/{secret}", s.base);
    let dom = browse(url).await;
    assert!(dom.contains("<h1>Upcoming events</h1>"), "{dom}");
    for title in ["Weekly seminar", "NY briefing", "Long series"] {
        assert!(dom.contains(title), "{title} missing: {dom}");
        // Each series is one entry, however many of its weeks the page spans.
        let heading = format!("<h3>{title}</h3>");
        assert_eq!(dom.matches(&heading).count(), 1, "{title}: {dom}");
    }
    assert!(
        !dom.contains("Secret B meeting"),
        "another space's event on the page"
    );
    assert!(
        !dom.contains("Dropped"),
        "a cancelled event listed as upcoming"
    );
    // The script ran: the viewer's zone is named, and times are in it — the seminar's 10:00
    // in Zurich is 05:00 in New York (EDT) — beside the event's own zone.
    assert!(
        dom.contains("id=\"viewer-zone\">America/New_York<"),
        "{dom}"
    );
    assert!(dom.contains("05:00 AM EDT"), "{dom}");
    assert!(dom.contains("(10:00 Europe/Zurich)"), "{dom}");
    assert!(
        dom.contains(&format!("{secret}/event/1.ics")),
        "no add-to-calendar link"
    );
    // The same link without a browser's Accept header is the feed.
    let feed = s.get(&format!("/calendar/{secret}"), &[]).await;
    assert!(feed.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/calendar"));
}

/// The policy the page is served with: its own style and one inline script, nothing else.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// One event's entry on the page: from its heading to the end of its article.
fn entry<'a>(dom: &'a str, title: &str) -> &'a str {
    let start = dom
        .find(&format!("<h3>{title}</h3>"))
        .unwrap_or_else(|| panic!("no entry {title}: {dom}"));
    let end = start + dom[start..].find("</article>").unwrap();
    &dom[start..end]
}

/// The week heading (h2) an event's entry is under.
fn week_of<'a>(dom: &'a str, title: &str) -> &'a str {
    let at = dom.find(&format!("<h3>{title}</h3>")).unwrap();
    let h2 = dom[..at].rfind("<h2").expect("an entry outside any week");
    let text = h2 + dom[h2..].find('>').unwrap() + 1;
    &dom[text..text + dom[text..].find("</h2>").unwrap()]
}

async fn event_id(s: &Served, space: &SpaceId, title: &str) -> EventId {
    s.ctx
        .store
        .events_of_space(space)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.title == title)
        .unwrap_or_else(|| panic!("no event {title}"))
        .id
}

/// A space in Los Angeles (UTC-8 in November; the clock is Monday 23 November, 07:00 there):
/// a weekly series of ten, a Sunday-evening event that is Monday in UTC, one next Monday, a
/// briefing three weeks on naming an actor, a title that is markup; answers to two of them.
#[tokio::test]
async fn the_events_page_shows_each_series_once_by_week_with_its_subjects_and_answers() {
    let s = Served::start(1000).await;
    let c = caller("console:c", "mod-c", true);
    for line in [
        "/settings timezone America/Los_Angeles",
        "/event add title:\"Policy clinic\" when:\"2026-11-25 12:00\" repeat:weekly times:10 topics:cybersecurity",
        "/event add title:\"Sunday wrap-up\" when:\"2026-11-29 20:00\"",
        "/event add title:\"Monday kickoff\" when:\"2026-11-30 09:00\"",
        "/event add title:\"Briefing with WIPO\" when:\"2026-12-16 10:00\" description:\"On cybersecurity\"",
        "/event add title:\"<script>document.title='pwned'</script>\" when:\"2026-12-02 10:00\"",
    ] {
        s.say(&c, line).await;
    }
    let now = s.ctx.clock.now();
    let clinic = event_id(&s, &c.space, "Policy clinic").await;
    let kickoff = event_id(&s, &c.space, "Monday kickoff").await;
    for (event, user, answer) in [
        (clinic, "member-ana", Answer::Going),
        (clinic, "member-bo", Answer::Going),
        (clinic, "member-cy", Answer::Maybe),
        (kickoff, "member-ana", Answer::Going),
        (kickoff, "member-bo", Answer::Going),
    ] {
        if event == kickoff && user == "member-ana" {
            // One place: the second Going waits.
            s.ctx
                .store
                .set_attendance(kickoff, Some(1), false, now)
                .await
                .unwrap();
        }
        s.ctx
            .store
            .set_rsvp(event, &c.space, user, answer, now)
            .await
            .unwrap();
    }
    let secret = s.secret(&c).await;
    let page = format!("/calendar/{secret}");
    let served = s.get(&page, &[("accept", "text/html")]).await;
    assert_eq!(served.headers()["content-security-policy"], PAGE_POLICY);
    assert_eq!(served.headers()["referrer-policy"], "no-referrer");
    let html = served.text().await.unwrap();
    let dom = browse(format!("{}{page}", s.base)).await;
    // A screenshot for people to look at: target/test-output/events-page.png.
    let shot = screenshot(format!("{}{page}", s.base), "events-page.png").await;
    assert!(
        shot.starts_with(b"\x89PNG") && shot.len() > 10_000,
        "no screenshot of the page ({} bytes)",
        shot.len()
    );

    // The series is one entry: its title once as a heading (and once more only in its
    // link's spoken label), its next date, five more, the rest counted.
    assert_eq!(dom.matches("<h3>Policy clinic</h3>").count(), 1, "{dom}");
    assert_eq!(html.matches("Policy clinic").count(), 2, "{html}");
    let clinic_entry = entry(&dom, "Policy clinic");
    assert!(
        clinic_entry.contains("<time datetime=\"2026-11-25T20:00:00Z\">"),
        "{clinic_entry}"
    );
    assert!(
        clinic_entry.contains("(12:00 America/Los_Angeles)"),
        "{clinic_entry}"
    );
    assert!(
        clinic_entry.contains("03:00 PM EST"),
        "not in the viewer's zone: {clinic_entry}"
    );
    assert!(
        clinic_entry.contains("2026-12-30T20:00:00Z"),
        "{clinic_entry}"
    );
    assert!(
        !clinic_entry.contains("2027-01-06T20:00:00Z"),
        "{clinic_entry}"
    );
    assert_eq!(clinic_entry.matches("<time ").count(), 6, "{clinic_entry}");
    assert!(clinic_entry.contains("and 4 more"), "{clinic_entry}");
    assert!(
        clinic_entry.contains("Repeats every week, 10 times"),
        "{clinic_entry}"
    );
    assert!(
        dom.contains(&format!("<li id=\"event-{clinic}\">")),
        "no anchor: {dom}"
    );
    assert!(
        clinic_entry.contains(&format!("{secret}/event/{clinic}.ics")),
        "{clinic_entry}"
    );

    // Weeks are the space's, starting Monday: 20:00 on Sunday in Los Angeles is already
    // Monday in UTC, and still this week.
    assert!(
        dom.contains("<time datetime=\"2026-11-30T04:00:00Z\">"),
        "{dom}"
    );
    assert_eq!(week_of(&dom, "Policy clinic"), "This week");
    assert_eq!(week_of(&dom, "Sunday wrap-up"), "This week");
    assert_eq!(week_of(&dom, "Monday kickoff"), "Next week");
    assert_eq!(week_of(&dom, "Briefing with WIPO"), "Week of 14 December");
    let (this, next, later) = (
        dom.find(">This week</h2>").unwrap(),
        dom.find(">Next week</h2>").unwrap(),
        dom.find(">Week of 14 December</h2>").unwrap(),
    );
    assert!(dom.find("<h1>").unwrap() < this && this < next && next < later);
    assert!(dom.contains("<section aria-labelledby=\"week-2026-11-23\"><h2 id=\"week-2026-11-23\">This week</h2>"), "{dom}");

    // Topics and actors by the atlas's names, linked to the space's events on each.
    let atlas = s.ctx.atlas().await.unwrap();
    let cyber = &atlas
        .topics
        .iter()
        .find(|t| t.slug == "cybersecurity")
        .unwrap()
        .name;
    assert!(
        clinic_entry.contains(&format!("Topics: <a href=\"{}{page}/topic/cybersecurity\" aria-label=\"Events on {cyber}\">{cyber}</a>", s.base)),
        "{clinic_entry}"
    );
    let briefing = s
        .ctx
        .store
        .event(event_id(&s, &c.space, "Briefing with WIPO").await)
        .await
        .unwrap()
        .unwrap();
    let actor = atlas
        .actor_by_slug(
            briefing
                .actors
                .as_deref()
                .expect("WIPO is named")
                .split(',')
                .next()
                .unwrap(),
        )
        .unwrap();
    let actor_name = actor.acronym.clone().unwrap_or(actor.name.clone());
    let briefing_entry = entry(&dom, "Briefing with WIPO");
    assert!(
        briefing_entry.contains(&format!(
            "Actors: <a href=\"{}{page}/actor/{}\"",
            s.base, actor.slug
        )),
        "{briefing_entry}"
    );
    assert!(
        briefing_entry.contains(&format!(">{actor_name}</a>")),
        "{briefing_entry}"
    );
    assert!(
        briefing_entry.contains("Topics (inferred from the title and description): "),
        "{briefing_entry}"
    );
    assert!(
        briefing_entry.contains(&format!(">{cyber}</a>")),
        "{briefing_entry}"
    );

    // Answers counted, never named; nothing for an event nobody answered.
    assert!(
        clinic_entry.contains("<p class=\"answers\">2 going · 1 maybe</p>"),
        "{clinic_entry}"
    );
    assert!(
        entry(&dom, "Monday kickoff")
            .contains("<p class=\"answers\">1 going · 1 waiting · full</p>"),
        "{dom}"
    );
    assert!(!entry(&dom, "Sunday wrap-up").contains("answers"), "{dom}");
    assert!(!dom.contains("member-"), "a name on the page: {dom}");

    // A title that is markup is shown as text: served escaped, never run.
    assert!(
        html.contains("<h3>&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;</h3>"),
        "{html}"
    );
    assert!(!html.contains("<script>document.title"), "{html}");
    assert!(
        dom.contains("<title>Upcoming events</title>"),
        "the title's script ran: {dom}"
    );

    // A topic's page lists only that topic's events.
    let topic = s
        .get(
            &format!("{page}/topic/cybersecurity"),
            &[("accept", "text/html")],
        )
        .await;
    let topic = topic.text().await.unwrap();
    assert!(
        topic.contains("<h3>Policy clinic</h3>") && topic.contains("<h3>Briefing with WIPO</h3>"),
        "{topic}"
    );
    assert!(
        !topic.contains("Monday kickoff") && !topic.contains("Sunday wrap-up"),
        "{topic}"
    );
}

/// Every event of a space is on its page, however often the others occur: each lists its
/// next few dates and knows how many more fall in the page's window (a cap on occurrences
/// once dropped whole events behind two daily series).
#[tokio::test]
async fn the_page_lists_every_event_however_often_the_others_occur() {
    let db = TempDb::new();
    let mut ctx = db.context().await;
    let now: chrono::DateTime<chrono::Utc> = "2026-12-07T08:00:00Z".parse().unwrap();
    ctx.set_clock(atlasbot::scheduler::Clock::fixed(now));
    let moderator = Caller {
        platform: atlasbot::domain::Platform::Console,
        space: SpaceId::parse("console:page").unwrap(),
        user: "mod".into(),
        moderator: true,
        channel: None,
    };
    for line in [
        "/event add title:\"Daily A\" when:\"2026-12-08 09:00\" repeat:daily times:200",
        "/event add title:\"Daily B\" when:\"2026-12-08 10:00\" repeat:daily times:200",
        "/event add title:\"Far one-off\" when:\"2027-03-10 10:00\"",
    ] {
        let out = plain::render(&commands::answer(&ctx, &moderator, line).await);
        assert!(out.starts_with("Scheduled"), "{out}");
    }
    let listed = atlasbot::feeds::upcoming(&ctx.store, &moderator.space, None, now)
        .await
        .unwrap();
    let of = |title: &str| {
        listed
            .iter()
            .filter(|l| l.event.title == title)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        of("Far one-off").len(),
        1,
        "the one-off 93 days out is on the page"
    );
    let daily = of("Daily A");
    assert_eq!(daily.len(), atlasbot::feeds::PAGE_PER_EVENT);
    assert_eq!(
        daily[0].in_window, 119,
        "every date in the 120 days is counted"
    );
}

/// A screenshot of the page at `url` in headless Chromium (the viewer in New York), saved as
/// `target/test-output/{name}` for people to look at; its bytes.
async fn screenshot(url: String, name: &str) -> Vec<u8> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-output");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    let how = vec![
        "--hide-scrollbars".to_string(),
        "--window-size=1000,2400".to_string(),
        format!("--screenshot={}", path.display()),
    ];
    chromium(how, url).await;
    std::fs::read(&path).unwrap_or_default()
}
