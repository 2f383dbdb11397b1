//! Following external calendars (`/event sync`), against a real HTTP server on loopback that
//! serves a feed as a calendar service does (ETag, Last-Modified, 304s, VTIMEZONE, overrides
//! of one occurrence) and changes it between polls. What the bot mirrors is compared with what
//! Python's icalendar and recurring-ical-events expand from the same feed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use atlasbot::commands::{self, Caller, Context};
use atlasbot::domain::{Platform, SpaceId, Target};
use atlasbot::render::plain;
use atlasbot::scheduler::Clock;
use atlasbot::sync::fetch::{Fetcher, Policy};
use atlasbot::sync::poll::poll_due;
use chrono::{DateTime, Duration, Utc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{Recorder, TempDb};

/// What the calendar service serves now, and what it saw.
struct Feed {
    body: String,
    version: u32,
    status: u16,
    redirect: Option<String>,
    huge: bool,
    hits: usize,
    not_modified: usize,
}

/// A calendar service on loopback: one feed at /cal.ics.
struct Service {
    url: String,
    feed: Arc<Mutex<Feed>>,
}

impl Service {
    async fn start(body: &str) -> Service {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/cal.ics", listener.local_addr().unwrap());
        let feed = Arc::new(Mutex::new(Feed {
            body: body.into(),
            version: 1,
            status: 200,
            redirect: None,
            huge: false,
            hits: 0,
            not_modified: 0,
        }));
        let shared = feed.clone();
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                tokio::spawn(answer(conn, shared.clone()));
            }
        });
        Service { url, feed }
    }

    /// The feed changes: a new body under a new ETag.
    fn change(&self, body: &str) {
        let mut f = self.feed.lock().unwrap();
        f.body = body.into();
        f.version += 1;
    }

    fn with<R>(&self, f: impl FnOnce(&mut Feed) -> R) -> R {
        f(&mut self.feed.lock().unwrap())
    }
}

/// Answers one request as a calendar service would.
async fn answer(mut conn: tokio::net::TcpStream, feed: Arc<Mutex<Feed>>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).to_lowercase();
    let response = {
        let mut f = feed.lock().unwrap();
        f.hits += 1;
        let etag = format!("\"v{}\"", f.version);
        if let Some(to) = &f.redirect {
            format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        } else if f.status != 200 {
            format!(
                "HTTP/1.1 {} Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                f.status
            )
        } else if f.huge {
            "HTTP/1.1 200 OK\r\nContent-Type: text/calendar\r\nConnection: close\r\n\r\n".into()
        } else if head.contains(&format!("if-none-match: {etag}")) {
            f.not_modified += 1;
            format!("HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nConnection: close\r\n\r\n")
        } else {
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/calendar; charset=utf-8\r\nETag: {etag}\r\nLast-Modified: Mon, 04 Jan 2027 08:00:00 GMT\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                f.body.len(),
                f.body
            )
        }
    };
    let huge = feed.lock().unwrap().huge;
    if conn.write_all(response.as_bytes()).await.is_err() || !huge {
        return;
    }
    // 50 MB of events, for as long as the client reads.
    let chunk = "BEGIN:VEVENT\r\nUID:x\r\nSUMMARY:padding\r\nEND:VEVENT\r\n".repeat(1500);
    let mut sent = 0usize;
    while sent < 50_000_000 {
        if conn.write_all(chunk.as_bytes()).await.is_err() {
            return;
        }
        sent += chunk.len();
    }
}

/// The titles of what the moderators were told.
fn told_moderators(outbox: &Recorder) -> Vec<String> {
    outbox
        .deliveries()
        .into_iter()
        .filter(|d| d.target == Target::Moderators)
        .filter_map(|d| d.reply.title)
        .collect()
}

const ZURICH: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Zurich\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n";

fn vevent(lines: &[&str]) -> String {
    format!("BEGIN:VEVENT\r\n{}\r\nEND:VEVENT\r\n", lines.join("\r\n"))
}

fn calendar(events: &[String]) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example Service//Calendar//EN\r\n{ZURICH}{}END:VCALENDAR\r\n",
        events.concat()
    )
}

/// The weekly study group: eight Tuesdays, one moved an hour later (an override with
/// RECURRENCE-ID), one skipped (EXDATE in the zone), one cancelled by an override.
fn study_group() -> Vec<String> {
    vec![
        vevent(&[
            "UID:weekly@example.org",
            "SUMMARY:Study group",
            "DTSTART;TZID=Europe/Zurich:20270105T180000",
            "DTEND;TZID=Europe/Zurich:20270105T193000",
            "RRULE:FREQ=WEEKLY;COUNT=8",
            "EXDATE;TZID=Europe/Zurich:20270119T180000",
        ]),
        vevent(&[
            "UID:weekly@example.org",
            "RECURRENCE-ID;TZID=Europe/Zurich:20270112T180000",
            "SUMMARY:Study group (room change)",
            "DTSTART;TZID=Europe/Zurich:20270112T190000",
            "DTEND;TZID=Europe/Zurich:20270112T203000",
        ]),
        vevent(&[
            "UID:weekly@example.org",
            "RECURRENCE-ID;TZID=Europe/Zurich:20270202T180000",
            "SUMMARY:Study group",
            "STATUS:CANCELLED",
            "DTSTART;TZID=Europe/Zurich:20270202T180000",
        ]),
    ]
}

fn first_feed() -> String {
    let mut events = study_group();
    events.extend([
        vevent(&[
            "UID:kickoff@example.org",
            "SUMMARY:Kick-off",
            "DTSTART;TZID=Europe/Zurich:20270111T100000",
            "DTEND;TZID=Europe/Zurich:20270111T110000",
        ]),
        vevent(&[
            "UID:lecture@example.org",
            "SUMMARY:Guest lecture on cybersecurity",
            "DTSTART;TZID=Europe/Zurich:20270113T140000",
        ]),
        vevent(&[
            "UID:lab@example.org",
            "SUMMARY:Lab visit",
            "DTSTART:20270115T090000Z",
        ]),
        vevent(&[
            "UID:past@example.org",
            "SUMMARY:Last year's meeting",
            "DTSTART:20261201T090000Z",
        ]),
        vevent(&[
            "UID:mine@example.org",
            "SUMMARY:The feed's copy of a moderator's event",
            "DTSTART:20270120T100000Z",
        ]),
    ]);
    calendar(&events)
}

/// The next version: the kick-off moved a day, the lecture cancelled (STATUS:CANCELLED), the
/// lab visit gone, a panel added; the study group as it was.
fn second_feed() -> String {
    let mut events = study_group();
    events.extend([
        vevent(&[
            "UID:kickoff@example.org",
            "SUMMARY:Kick-off",
            "DTSTART;TZID=Europe/Zurich:20270112T100000",
            "DTEND;TZID=Europe/Zurich:20270112T110000",
        ]),
        vevent(&[
            "UID:lecture@example.org",
            "SUMMARY:Guest lecture on cybersecurity",
            "STATUS:CANCELLED",
            "DTSTART;TZID=Europe/Zurich:20270113T140000",
        ]),
        vevent(&[
            "UID:panel@example.org",
            "SUMMARY:Panel",
            "DTSTART;TZID=Europe/Zurich:20270127T170000",
        ]),
        vevent(&[
            "UID:past@example.org",
            "SUMMARY:Last year's meeting",
            "DTSTART:20261201T090000Z",
        ]),
        vevent(&[
            "UID:mine@example.org",
            "SUMMARY:The feed's copy of a moderator's event",
            "DTSTART:20270120T100000Z",
        ]),
    ]);
    calendar(&events)
}

const FROM: &str = "2027-01-04T08:00:00Z";
const TO: &str = "2027-03-31T00:00:00Z";

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

struct World {
    _db: TempDb,
    ctx: Context,
    moderator: Caller,
    outbox: Recorder,
}

impl World {
    async fn new(policy: Policy) -> World {
        let db = TempDb::new();
        let ctx = db.context().await;
        World::on(db, ctx, Clock::fixed(utc(FROM)), policy)
    }

    /// A world on `ctx` (its store wherever it is), at `clock`, fetching under `policy`.
    fn on(db: TempDb, mut ctx: Context, clock: Clock, policy: Policy) -> World {
        ctx.set_clock(clock);
        ctx.sync_policy = policy;
        World {
            _db: db,
            ctx,
            moderator: Caller {
                platform: Platform::Console,
                space: SpaceId::parse("console:course").unwrap(),
                user: "mod".into(),
                moderator: true,
                channel: None,
            },
            outbox: Recorder::default(),
        }
    }

    async fn say(&self, line: &str) -> String {
        plain::render(&commands::answer(&self.ctx, &self.moderator, line).await)
    }

    /// `/event import` of a file holding `events`, as the console's moderator: the answer.
    async fn import(&self, events: &[String]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("import.ics");
        std::fs::write(&file, calendar(events)).unwrap();
        let line = format!("/event import file:{}", file.display());
        plain::render(
            &atlasbot::platform::console::answer_line(&self.ctx, &self.moderator, &line).await,
        )
    }

    /// How many "new event" notes the space's events owe or sent.
    async fn new_event_notes(&self) -> usize {
        let mut notes = 0;
        for e in self
            .ctx
            .store
            .events_of_space(&self.moderator.space)
            .await
            .unwrap()
        {
            let states = self.ctx.store.reminder_states(e.id).await.unwrap();
            notes += states.iter().filter(|(k, _)| k.contains("-new-")).count();
        }
        notes
    }

    /// One pass of the poller as `owner`: how many feeds it polled.
    async fn poll(&self, owner: &str) -> usize {
        let fetcher = Fetcher::new(self.ctx.sync_policy.clone());
        poll_due(&self.ctx, Platform::Console, owner, &fetcher, &self.outbox)
            .await
            .unwrap()
    }

    fn later(&self, minutes: i64) {
        self.ctx
            .clock
            .set(self.ctx.clock.now() + Duration::minutes(minutes));
    }

    /// What `/events 90` lists (the space's zone is UTC), as `TITLE|START`, but the
    /// moderator's own event: what a member sees.
    async fn events_listed(&self) -> Vec<String> {
        let shown = self.say("/events 90").await;
        let mut out: Vec<String> = shown
            .lines()
            .filter_map(|l| l.trim().strip_prefix("• "))
            .filter_map(|l| {
                let (title, rest) = l.rsplit_once(" — ")?;
                let when = rest.split(" (").next()?;
                let at = chrono::NaiveDateTime::parse_from_str(when, "%a %-d %b %Y %H:%M").ok()?;
                Some(format!("{title}|{}", at.format("%Y-%m-%dT%H:%M:%SZ")))
            })
            .filter(|l| !l.starts_with("My own event"))
            .collect();
        out.sort();
        out
    }

    /// Every occurrence of the space's live events in [FROM, TO) as `TITLE|START`, but the
    /// moderator's own event.
    async fn occurrences(&self) -> Vec<String> {
        let mut out = Vec::new();
        for e in self
            .ctx
            .store
            .events_of_space(&self.moderator.space)
            .await
            .unwrap()
        {
            if e.title == "My own event" {
                continue;
            }
            for at in atlasbot::scheduler::occurrences_of(&self.ctx.store, &e, utc(FROM), utc(TO))
                .await
                .unwrap()
            {
                out.push(format!("{}|{}", e.title, at.format("%Y-%m-%dT%H:%M:%SZ")));
            }
        }
        out.sort();
        out
    }
}

/// What Python's icalendar + recurring-ical-events expand from `feed` in [FROM, TO): the
/// occurrences that are not cancelled, but the feed's copy of the moderator's event.
fn expanded_by_python(feed: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("feed.ics");
    std::fs::write(&file, feed).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(root.join("target/calendar-venv/bin/python"))
        .arg(root.join("tests/it/calendar_check.py"))
        .args([file.to_str().unwrap(), FROM, TO, "summary"])
        .output()
        .expect("python runs: scripts/calendars install");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty() && !l.ends_with("|CANCELLED"))
        .filter(|l| !l.starts_with("The feed's copy"))
        .map(|l| l.rsplit_once('|').unwrap().0.to_string())
        .collect();
    lines.sort();
    lines
}

#[tokio::test]
async fn a_followed_calendar_is_mirrored_and_kept_in_step_with_its_changes() {
    let w = World::new(Policy::permissive()).await;
    let service = Service::start(&first_feed()).await;
    // A moderator's own event, imported earlier with a UID the feed uses too.
    let imported = w
        .import(&[vevent(&[
            "UID:mine@example.org",
            "SUMMARY:My own event",
            "DTSTART:20270121T100000Z",
        ])])
        .await;
    assert!(imported.contains("1 added"), "{imported}");

    let added = w
        .say(&format!("/event sync add url:{} every:15", service.url))
        .await;
    assert!(added.contains("Following calendar"), "{added}");
    assert_eq!(w.poll("process-a").await, 1);
    assert_eq!(w.occurrences().await, expanded_by_python(&first_feed()));
    // And as a member reads it: /events lists what the libraries expand.
    assert_eq!(w.events_listed().await, expanded_by_python(&first_feed()));

    // Nothing changed: the next poll costs a 304 and rewrites nothing.
    let before = w
        .ctx
        .store
        .events_of_space(&w.moderator.space)
        .await
        .unwrap();
    w.later(10);
    assert_eq!(w.poll("process-a").await, 0, "not due before its interval");
    w.later(5);
    assert_eq!(w.poll("process-a").await, 1);
    assert_eq!(
        service.with(|f| f.not_modified),
        1,
        "an unchanged feed is a 304"
    );
    let after = w
        .ctx
        .store
        .events_of_space(&w.moderator.space)
        .await
        .unwrap();
    let revisions = |es: &[atlasbot::store::events::EventRow]| {
        es.iter().map(|e| (e.id, e.revision)).collect::<Vec<_>>()
    };
    assert_eq!(revisions(&before), revisions(&after));

    // The feed changes: moved, cancelled, removed, added — mirrored as the libraries read it.
    service.change(&second_feed());
    w.later(15);
    assert_eq!(w.poll("process-a").await, 1);
    assert_eq!(w.occurrences().await, expanded_by_python(&second_feed()));
    assert_eq!(w.events_listed().await, expanded_by_python(&second_feed()));

    // The moderator's own event was never touched.
    let events = w
        .ctx
        .store
        .events_of_space(&w.moderator.space)
        .await
        .unwrap();
    let mine: Vec<_> = events
        .iter()
        .filter(|e| e.title == "My own event")
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].starts_local, "2027-01-21T10:00:00");

    let listed = w.say("/event sync list").await;
    assert!(listed.contains(&service.url), "{listed}");
    assert!(
        listed.contains("last success: 2027-01-04T08:30"),
        "{listed}"
    );
    assert!(
        told_moderators(&w.outbox).is_empty(),
        "a healthy feed is not news"
    );

    // Removing the feed cancels what it brought, and nothing else.
    let removed = w.say("/event sync remove 1").await;
    assert!(
        removed.contains("Stopped following calendar 1"),
        "{removed}"
    );
    let left = w
        .ctx
        .store
        .events_of_space(&w.moderator.space)
        .await
        .unwrap();
    assert_eq!(
        left.iter().map(|e| e.title.as_str()).collect::<Vec<_>>(),
        ["My own event"]
    );
}

#[tokio::test]
async fn a_failing_feed_is_told_once_when_it_fails_once_when_it_recovers_and_paused_after_a_week() {
    let w = World::new(Policy::permissive()).await;
    let service = Service::start(&first_feed()).await;
    w.say(&format!("/event sync add url:{}", service.url)).await;
    assert_eq!(w.poll("p").await, 1);
    let mirrored = w.occurrences().await;

    service.with(|f| f.status = 500);
    for _ in 0..4 {
        w.later(15);
        assert_eq!(w.poll("p").await, 1);
    }
    assert_eq!(
        told_moderators(&w.outbox),
        ["A followed calendar is failing"]
    );
    assert_eq!(
        w.occurrences().await,
        mirrored,
        "a failing feed changes nothing"
    );
    let listed = w.say("/event sync list").await;
    assert!(
        listed.contains("failing since") && listed.contains("500"),
        "{listed}"
    );

    service.with(|f| f.status = 200);
    w.later(15);
    assert_eq!(w.poll("p").await, 1);
    w.later(15);
    assert_eq!(w.poll("p").await, 1);
    assert_eq!(
        told_moderators(&w.outbox),
        [
            "A followed calendar is failing",
            "A followed calendar works again"
        ]
    );

    // A week of failures pauses it: no more polls, one more notice.
    service.with(|f| f.status = 503);
    for _ in 0..(7 * 24 * 4 + 1) {
        w.later(15);
        w.poll("p").await;
    }
    let hits = service.with(|f| f.hits);
    w.later(15);
    assert_eq!(w.poll("p").await, 0, "a paused feed is not polled");
    assert_eq!(service.with(|f| f.hits), hits);
    assert_eq!(
        told_moderators(&w.outbox),
        [
            "A followed calendar is failing",
            "A followed calendar works again",
            "A followed calendar is failing",
            "A followed calendar is paused"
        ]
    );
    assert!(w.say("/event sync list").await.contains("paused"));
    // Adding it again resumes it.
    service.with(|f| f.status = 200);
    w.say(&format!("/event sync add url:{}", service.url)).await;
    assert_eq!(w.poll("p").await, 1);
    assert!(!w.say("/event sync list").await.contains("paused"));
}

#[tokio::test]
async fn hostile_feeds_and_addresses_are_refused_and_change_nothing() {
    // The operator allows a calendar server on this machine, nothing else private.
    let policy = Policy {
        allow_loopback: true,
        allow_http: true,
        ..Policy::default()
    };
    let w = World::new(policy).await;
    let service = Service::start(&first_feed()).await;
    w.say(&format!("/event sync add url:{}", service.url)).await;
    assert_eq!(w.poll("p").await, 1);
    let mirrored = w.occurrences().await;
    assert!(!mirrored.is_empty());

    // A 50 MB answer is cut off at the size limit; a redirect to a private or metadata
    // address is not followed.
    type Change = Box<dyn Fn(&mut Feed)>;
    let cases: [(&str, Change); 3] = [
        ("50 MB", Box::new(|f: &mut Feed| f.huge = true)),
        (
            "private",
            Box::new(|f: &mut Feed| {
                f.huge = false;
                f.redirect = Some("http://10.0.0.7/cal.ics".into())
            }),
        ),
        (
            "metadata",
            Box::new(|f: &mut Feed| {
                f.redirect = Some("http://169.254.169.254/latest/meta-data/".into())
            }),
        ),
    ];
    for (what, set) in cases {
        service.with(|f| set(f));
        w.later(15);
        let started = std::time::Instant::now();
        assert_eq!(w.poll("p").await, 1, "{what}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{what}"
        );
        assert_eq!(w.occurrences().await, mirrored, "{what} changed the events");
        let listed = w.say("/event sync list").await;
        assert!(listed.contains("failing since"), "{what}: {listed}");
        // A refused address pauses the feed at once (retrying cannot help); adding it again
        // resumes it.
        assert_eq!(
            listed.contains("paused"),
            what != "50 MB",
            "{what}: {listed}"
        );
        w.say(&format!("/event sync add url:{}", service.url)).await;
    }

    // Addresses refused as they enter: not https, private, userinfo, not a URL at all.
    let strict = World::new(Policy::default()).await;
    for url in [
        "http://calendar.example.org/cal.ics",
        "https://127.0.0.1/cal.ics",
        "https://10.1.2.3/cal.ics",
        "https://[::1]/cal.ics",
        "https://169.254.169.254/latest",
        "https://user:pass@calendar.example.org/cal.ics",
        "not a url",
        "file:///etc/passwd",
    ] {
        let out = strict.say(&format!("/event sync add url:\"{url}\"")).await;
        assert!(out.contains("I cannot follow that address"), "{url}: {out}");
    }
    assert!(strict
        .say("/event sync list")
        .await
        .contains("follows no external calendar"));
}

#[tokio::test]
async fn only_moderators_follow_calendars_and_bounds_hold() {
    let w = World::new(Policy::permissive()).await;
    let member = Caller {
        moderator: false,
        user: "ana".into(),
        ..w.moderator.clone()
    };
    let out = plain::render(
        &commands::answer(
            &w.ctx,
            &member,
            "/event sync add url:https://example.org/c.ics",
        )
        .await,
    );
    assert!(out.starts_with("Only moderators"), "{out}");
    let out = w
        .say("/event sync add url:https://example.org/c.ics every:1")
        .await;
    assert!(
        out.contains("5"),
        "every: below its minimum is explained: {out}"
    );
    for n in 0..10 {
        let out = w
            .say(&format!("/event sync add url:https://example.org/{n}.ics"))
            .await;
        assert!(out.contains("Following calendar"), "{out}");
    }
    let out = w
        .say("/event sync add url:https://example.org/11.ics")
        .await;
    assert!(out.contains("the most it can"), "{out}");
    let out = w.say("/event sync frobnicate").await;
    assert!(out.contains("add, list or remove"), "{out}");
    let out = w.say("/event sync remove 99").await;
    assert!(out.contains("follows no calendar"), "{out}");
}

/// Three processes share one PostgreSQL store and poll together at every interval: the
/// feed is fetched once per interval, not once per process.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_processes_on_postgresql_poll_each_feed_once_per_interval() {
    let url = crate::support::fresh_postgres_database("t_sync_three");
    let service = Service::start(&first_feed()).await;
    let clock = Clock::fixed(utc(FROM));
    let mut worlds = Vec::new();
    for _ in 0..3 {
        let db = TempDb::sharing_postgres(&url);
        let ctx = db.context().await;
        worlds.push(World::on(db, ctx, clock.clone(), Policy::permissive()));
    }
    worlds[0]
        .say(&format!("/event sync add url:{}", service.url))
        .await;
    let worlds = Arc::new(worlds);
    let mut polls_per_round = HashMap::new();
    for round in 0..6 {
        let before = service.with(|f| f.hits);
        let tasks: Vec<_> = (0..3)
            .map(|i| {
                let worlds = worlds.clone();
                tokio::spawn(async move { worlds[i].poll(&format!("process-{i}")).await })
            })
            .collect();
        let mut polled = 0;
        for t in tasks {
            polled += t.await.unwrap();
        }
        assert_eq!(polled, 1, "round {round}: one process polls");
        polls_per_round.insert(round, service.with(|f| f.hits) - before);
        clock.set(clock.now() + Duration::minutes(15));
    }
    assert!(
        polls_per_round.values().all(|n| *n == 1),
        "fetches per interval: {polls_per_round:?}"
    );
    // No moderator's event here: the feed's copy of one is mirrored like the rest.
    let mirrored: Vec<String> = worlds[1]
        .occurrences()
        .await
        .into_iter()
        .filter(|o| !o.starts_with("The feed's copy"))
        .collect();
    assert_eq!(mirrored, expanded_by_python(&first_feed()));
}

/// What a hostile review found, one test per class: a feed removed and added again, a
/// flapping feed, a resumed feed that fails once more, an address refused at fetch time, a
/// feed with a UID twice, moderators' changes to a mirrored event.
#[tokio::test]
async fn a_feed_added_again_flapping_or_refused_behaves_and_mirrored_events_are_changed_at_the_source(
) {
    let w = World::new(Policy::permissive()).await;
    let service = Service::start(&first_feed()).await;
    w.say(&format!("/event sync add url:{}", service.url)).await;
    assert_eq!(w.poll("p").await, 1);
    let mirrored = w.occurrences().await;

    // Edited, cancelled or imported over here, a mirrored event would be undone by the feed:
    // refused, with where to change it.
    let kickoff = w
        .ctx
        .store
        .events_of_space(&w.moderator.space)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.title == "Kick-off")
        .unwrap();
    for line in [
        format!("/event edit {} when:\"2027-01-20 10:00\"", kickoff.id),
        format!("/event cancel {}", kickoff.id),
    ] {
        let out = w.say(&line).await;
        assert!(
            out.contains("comes from followed calendar 1"),
            "{line}: {out}"
        );
    }
    let out = w
        .import(&[vevent(&[
            "UID:kickoff@example.org",
            "SUMMARY:Hijacked",
            "DTSTART:20270125T100000Z",
        ])])
        .await;
    assert!(out.contains("a followed calendar owns that event"), "{out}");
    assert_eq!(w.occurrences().await, mirrored);

    // Removed and added again: its events come back.
    w.say("/event sync remove 1").await;
    assert!(w.occurrences().await.is_empty());
    w.say(&format!("/event sync add url:{}", service.url)).await;
    w.later(1);
    assert_eq!(w.poll("p").await, 1);
    assert_eq!(
        w.occurrences().await,
        mirrored,
        "the same feed, followed again"
    );

    // Flapping (one failure, then fine, again and again) is not news.
    for k in 0..8 {
        service.with(|f| f.status = if k % 2 == 0 { 500 } else { 200 });
        w.later(15);
        assert_eq!(w.poll("p").await, 1);
    }
    assert!(
        told_moderators(&w.outbox).is_empty(),
        "{:?}",
        told_moderators(&w.outbox)
    );

    // A UID given twice is taken once, and an unchanged feed rewrites nothing.
    let mut twice = first_feed();
    twice = twice.replace(
        "END:VCALENDAR",
        &format!(
            "{}END:VCALENDAR",
            vevent(&[
                "UID:kickoff@example.org",
                "SUMMARY:Kick-off (copy)",
                "DTSTART:20270126T100000Z"
            ])
        ),
    );
    service.with(|f| f.status = 200);
    service.change(&twice);
    let revisions = || async {
        w.ctx
            .store
            .events_of_space(&w.moderator.space)
            .await
            .unwrap()
            .iter()
            .map(|e| (e.id, e.revision))
            .collect::<Vec<_>>()
    };
    w.later(15);
    w.poll("p").await;
    let before = revisions().await;
    for _ in 0..3 {
        service.change(&twice); // a new ETag, the same events
        w.later(15);
        w.poll("p").await;
    }
    assert_eq!(revisions().await, before, "rewritten at every poll");
    assert_eq!(w.occurrences().await, mirrored);
}

#[tokio::test]
async fn an_address_refused_when_fetched_pauses_at_once_and_a_resumed_feed_is_not_paused_by_one_failure(
) {
    // https only is off, private addresses refused: `localhost` passes the check at add (its
    // name is not resolved then) and is refused on the connection.
    let policy = Policy {
        allow_http: true,
        ..Policy::default()
    };
    let w = World::new(policy).await;
    let service = Service::start(&first_feed()).await;
    let local = service.url.replace("127.0.0.1", "localhost");
    let added = w.say(&format!("/event sync add url:{local}")).await;
    assert!(added.contains("Following calendar"), "{added}");
    assert_eq!(w.poll("p").await, 1);
    assert_eq!(
        service.with(|f| f.hits),
        0,
        "nothing reached the private address"
    );
    assert_eq!(
        told_moderators(&w.outbox),
        ["A followed calendar is paused"]
    );
    assert!(w.say("/event sync list").await.contains("paused"));

    // A feed paused after a week of failures and resumed is not paused again by one failure.
    let w = World::new(Policy::permissive()).await;
    w.say(&format!("/event sync add url:{}", service.url)).await;
    service.with(|f| f.status = 500);
    for _ in 0..(7 * 24 * 4 + 2) {
        w.later(15);
        w.poll("p").await;
    }
    assert!(w.say("/event sync list").await.contains("paused"));
    w.say(&format!("/event sync add url:{}", service.url)).await;
    w.later(1);
    assert_eq!(w.poll("p").await, 1);
    assert!(!w.say("/event sync list").await.contains("paused"));
}

/// A feed whose events have no UID, or new ones at every change: followers are not flooded,
/// and an event added above another does not renew it.
#[tokio::test]
async fn a_feed_that_renews_its_uids_floods_no_one() {
    let w = World::new(Policy::permissive()).await;
    let member = Caller {
        moderator: false,
        user: "ana".into(),
        ..w.moderator.clone()
    };
    commands::answer(&w.ctx, &member, "/follow cybersecurity").await;
    let talks = |n: usize, tag: &str| {
        calendar(
            &(0..n)
                .map(|k| {
                    vevent(&[
                        &format!("UID:{tag}-{k}@example.org"),
                        "SUMMARY:Cybersecurity talk",
                        &format!("DTSTART:202701{:02}T100000Z", 10 + k),
                    ])
                })
                .collect::<Vec<_>>(),
        )
    };
    let service = Service::start(&talks(12, "a")).await;
    w.say(&format!("/event sync add url:{}", service.url)).await;
    w.poll("p").await;
    for tag in ["b", "c"] {
        service.change(&talks(12, tag));
        w.later(15);
        w.poll("p").await;
    }
    let notes = w.new_event_notes().await;
    assert_eq!(
        notes, 0,
        "a whole calendar at once, or renewed, is not a note each"
    );
    // Renewed UIDs on a small feed too: still no one told.
    for tag in ["d", "e", "f"] {
        service.change(&talks(2, tag));
        w.later(15);
        w.poll("p").await;
    }
    let notes = w.new_event_notes().await;
    assert_eq!(
        notes, 0,
        "a small feed renewing its UIDs is not news either"
    );

    // No UIDs at all: an event added at the top does not renew the others.
    let no_uids = |events: &[(&str, u32)]| {
        calendar(
            &events
                .iter()
                .map(|(t, day)| {
                    vevent(&[
                        &format!("SUMMARY:{t}"),
                        &format!("DTSTART:202702{day:02}T100000Z"),
                    ])
                })
                .collect::<Vec<_>>(),
        )
    };
    service.change(&no_uids(&[("One", 15), ("Two", 16)]));
    w.later(15);
    w.poll("p").await;
    let ids = |es: Vec<atlasbot::store::events::EventRow>| {
        let mut v: Vec<_> = es.into_iter().map(|e| (e.title, e.id)).collect();
        v.sort();
        v
    };
    let before = ids(w
        .ctx
        .store
        .events_of_space(&w.moderator.space)
        .await
        .unwrap());
    service.change(&no_uids(&[("Zero", 14), ("One", 15), ("Two", 16)]));
    w.later(15);
    w.poll("p").await;
    let after = ids(w
        .ctx
        .store
        .events_of_space(&w.moderator.space)
        .await
        .unwrap());
    for kept in &before {
        assert!(after.contains(kept), "{kept:?} was renewed: {after:?}");
    }
}

/// A calendar that publishes a rolling window lets past events go: they happened, and are not
/// cancelled here when they leave the feed.
#[tokio::test]
async fn an_event_that_is_over_and_leaves_the_feed_is_not_cancelled() {
    let w = World::new(Policy::permissive()).await;
    let service = Service::start(&first_feed()).await;
    w.say(&format!("/event sync add url:{}", service.url)).await;
    w.poll("p").await;
    let lab = |w: &World| {
        let ctx = w.ctx.clone();
        let space = w.moderator.space.clone();
        async move {
            ctx.store
                .events_of_space(&space)
                .await
                .unwrap()
                .into_iter()
                .any(|e| e.title == "Lab visit")
        }
    };
    assert!(lab(&w).await);
    // After the lab visit (15 January), the feed drops it.
    w.ctx.clock.set(utc("2027-01-20T08:00:00Z"));
    let without_lab = first_feed()
        .replace("UID:lab@example.org", "UID:lab-gone@example.org")
        .replace("SUMMARY:Lab visit", "SUMMARY:Lab visit (old)");
    service.change(&without_lab);
    w.poll("p").await;
    assert!(
        lab(&w).await,
        "an event that is over is not cancelled when it leaves the feed"
    );
}
