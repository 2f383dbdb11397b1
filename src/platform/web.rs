//! Calendar feeds and the events page over HTTP (`atlasbot serve`, and on `discord-http`'s
//! listener): `/calendar/{secret}` is a space's page in a browser and its feed for a calendar
//! app; `.ics` is always the feed; `/calendar/{secret}/topic/{slug}` (and `/actor/`) narrows
//! both to one topic or actor; `/calendar/{secret}/event/{id}.ics` is one event ("add to
//! calendar"). The secret is the only key: an unknown one, or an event of another space, is
//! a plain 404, the same as a path that does not exist.
//!
//! Feeds carry an ETag (a digest of the body: the same events give the same bytes, see
//! `ical::export`) and answer `If-None-Match` with 304; every address gets
//! `Limiter::PER_MINUTE` requests a minute, then 429 with Retry-After. The page is
//! server-rendered HTML with one small inline script that shows times in the viewer's zone.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use std::collections::HashMap;

use bytes::Bytes;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use crate::atlas::Atlas;
use crate::commands::Context;
use crate::domain::{EventId, SpaceId, Subject};
use crate::events::Recurrence;
use crate::feeds::{self, Listed};
use crate::render::html::escape;
use crate::store::events::EventRow;
use crate::store::rsvps::RsvpCounts;

/// Where calendars live under the bot's public URL.
pub const PREFIX: &str = "/calendar/";

/// Feeds and pages of every space, for one listener.
pub struct Calendars {
    ctx: Context,
    /// The bot's public URL (ATLASBOT_PUBLIC_URL), for links inside feeds and pages.
    base: String,
    limiter: Mutex<Limiter>,
    feeds: Mutex<Kept>,
}

/// Feeds as last rendered, by (secret, subject), with the version of the events they were
/// rendered from (`Store::feed_version`) and their ETag. At most `KEPT_BYTES` in all; when
/// full, it starts again empty.
#[derive(Default)]
struct Kept {
    feeds: std::collections::HashMap<(String, Option<Subject>), (String, Bytes, String)>,
    bytes: usize,
}

const KEPT_BYTES: usize = 32 * 1024 * 1024;

impl Kept {
    fn get(&self, key: &(String, Option<Subject>), version: &str) -> Option<(Bytes, String)> {
        let (v, body, tag) = self.feeds.get(key)?;
        (v == version).then(|| (body.clone(), tag.clone()))
    }

    fn keep(&mut self, key: (String, Option<Subject>), version: String, body: Bytes, tag: String) {
        if self.bytes + body.len() > KEPT_BYTES {
            self.feeds.clear();
            self.bytes = 0;
        }
        self.bytes += body.len();
        if let Some((_, old, _)) = self.feeds.insert(key, (version, body, tag)) {
            self.bytes -= old.len();
        }
    }
}

/// Requests per address and minute. Bounded: at most `MAX_ADDRESSES` addresses are counted
/// (past that the counts start again), so many addresses cannot grow it without end.
struct Limiter {
    window: Instant,
    counts: std::collections::HashMap<IpAddr, u32>,
    per_minute: u32,
}

const MAX_ADDRESSES: usize = 100_000;

impl Limiter {
    /// Calendar apps poll every few minutes to hours; a person reloads a page now and then.
    pub const PER_MINUTE: u32 = 60;

    /// Whether `ip` may have one more request now.
    fn allow(&mut self, ip: IpAddr, now: Instant) -> bool {
        if now.duration_since(self.window).as_secs() >= 60 || self.counts.len() >= MAX_ADDRESSES {
            self.window = now;
            self.counts.clear();
        }
        let n = self.counts.entry(ip).or_insert(0);
        *n += 1;
        *n <= self.per_minute
    }
}

/// What a path asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    /// A space's (or a subject's) events: the page or the feed.
    Events {
        secret: String,
        subject: Option<Subject>,
        ics: bool,
    },
    /// One event as a calendar file.
    Event { secret: String, id: EventId },
}

/// Reads a path under `PREFIX`; None for anything else.
fn route(path: &str) -> Option<Route> {
    let rest = path.strip_prefix(PREFIX)?;
    let parts: Vec<&str> = rest.split('/').collect();
    let (last, ics) = match parts.last()?.strip_suffix(".ics") {
        Some(stem) => (stem, true),
        None => (*parts.last()?, false),
    };
    let secret = |s: &str| feeds::is_secret_shaped(s).then(|| s.to_string());
    match parts.as_slice() {
        [_] => Some(Route::Events {
            secret: secret(last)?,
            subject: None,
            ics,
        }),
        [s, "event", _] if ics => Some(Route::Event {
            secret: secret(s)?,
            id: EventId(last.parse().ok()?),
        }),
        [s, kind, _] if !last.is_empty() && last.len() <= 100 => Some(Route::Events {
            secret: secret(s)?,
            subject: Some(Subject::from_parts(kind, last.to_string())?),
            ics,
        }),
        _ => None,
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn not_found() -> Response<Full<Bytes>> {
    plain(StatusCode::NOT_FOUND, "no such calendar")
}

/// A quoted strong ETag: the first 128 bits of the body's SHA-256.
fn etag(body: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, body);
    let hex: String = digest.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("\"{hex}\"")
}

/// Whether an If-None-Match header names `tag` (or is `*`).
fn matches(if_none_match: Option<&str>, tag: &str) -> bool {
    if_none_match.is_some_and(|v| {
        v.split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == tag || t == "*")
    })
}

/// A body with its type and ETag, or 304 when the client has it already. The secret is in
/// the URL, so no page may pass it on as a referrer.
fn content(
    req: &Request<Incoming>,
    body: String,
    media_type: &'static str,
    extra: &[(header::HeaderName, HeaderValue)],
) -> Response<Full<Bytes>> {
    let tag = etag(body.as_bytes());
    content_tagged(req, Bytes::from(body), &tag, media_type, extra)
}

/// `content` with the body's ETag computed already (a kept feed).
fn content_tagged(
    req: &Request<Incoming>,
    body: Bytes,
    tag: &str,
    media_type: &'static str,
    extra: &[(header::HeaderName, HeaderValue)],
) -> Response<Full<Bytes>> {
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    let mut r = if matches(if_none_match, tag) {
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else if req.method() == Method::HEAD {
        Response::new(Full::new(Bytes::new()))
    } else {
        Response::new(Full::new(body))
    };
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    if let Ok(v) = HeaderValue::from_str(tag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    for (k, v) in extra {
        h.insert(k.clone(), v.clone());
    }
    r
}

/// Whether a browser asks (a page), rather than a calendar app (a feed).
fn wants_html(req: &Request<Incoming>) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

impl Calendars {
    pub fn new(ctx: Context, base: &str) -> Calendars {
        Calendars {
            ctx,
            base: base.trim_end_matches('/').to_string(),
            limiter: Mutex::new(Limiter {
                window: Instant::now(),
                counts: Default::default(),
                per_minute: Limiter::PER_MINUTE,
            }),
            feeds: Mutex::new(Kept::default()),
        }
    }

    /// The same, allowing `per_minute` requests per address (tests, benchmarks).
    pub fn with_rate(ctx: Context, base: &str, per_minute: u32) -> Calendars {
        let c = Calendars::new(ctx, base);
        c.limiter.lock().expect("not poisoned").per_minute = per_minute;
        c
    }

    pub async fn answer(&self, req: &Request<Incoming>, peer: IpAddr) -> Response<Full<Bytes>> {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return plain(StatusCode::METHOD_NOT_ALLOWED, "GET calendars here");
        }
        // `peer` is the client already: behind a local proxy, the one it names
        // (`http::client_address`).
        let client = crate::platform::http::counted_as(peer);
        let allowed = self
            .limiter
            .lock()
            .expect("not poisoned")
            .allow(client, Instant::now());
        if !allowed {
            let mut r = plain(
                StatusCode::TOO_MANY_REQUESTS,
                "too many requests; try again in a minute",
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
            return r;
        }
        let Some(route) = route(req.uri().path()) else {
            return not_found();
        };
        match self.respond(req, route).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "a calendar could not be read");
                plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the calendar cannot be read just now",
                )
            }
        }
    }

    async fn respond(
        &self,
        req: &Request<Incoming>,
        route: Route,
    ) -> Result<Response<Full<Bytes>>, crate::store::StoreError> {
        let store = &self.ctx.store;
        let now = self.ctx.clock.now();
        match route {
            Route::Events {
                secret,
                subject,
                ics,
            } => {
                let Some(space) = store.feed_space(&secret).await? else {
                    return Ok(not_found());
                };
                // A topic or actor the atlas does not know has no page (nor a feed): the path
                // is not text to show back.
                if !self.knows(subject.as_ref()).await? {
                    return Ok(not_found());
                }
                let links = feeds::links(&self.base, &secret, subject.as_ref());
                if ics || !wants_html(req) {
                    let (body, tag) = self.feed(&space, &secret, subject, &links, now).await?;
                    return Ok(content_tagged(
                        req,
                        body,
                        &tag,
                        "text/calendar; charset=utf-8",
                        &[],
                    ));
                }
                let body = self.page(&space, &secret, subject.as_ref(), now).await?;
                Ok(content(
                    req,
                    body,
                    "text/html; charset=utf-8",
                    &[(
                        header::CONTENT_SECURITY_POLICY,
                        HeaderValue::from_static(PAGE_POLICY),
                    )],
                ))
            }
            Route::Event { secret, id } => self.one_event(req, &secret, id).await,
        }
    }

    /// `/calendar/{secret}/event/{id}.ics`: one event of the secret's space, as a file.
    async fn one_event(
        &self,
        req: &Request<Incoming>,
        secret: &str,
        id: EventId,
    ) -> Result<Response<Full<Bytes>>, crate::store::StoreError> {
        let store = &self.ctx.store;
        let Some(space) = store.feed_space(secret).await? else {
            return Ok(not_found());
        };
        let page = feeds::links(&self.base, secret, None).page;
        Ok(
            match feeds::one_event(store, &space, id, Some(&page)).await? {
                Some(body) => content(
                    req,
                    body,
                    "text/calendar; charset=utf-8",
                    &[(
                        header::CONTENT_DISPOSITION,
                        HeaderValue::from_static("attachment; filename=\"event.ics\""),
                    )],
                ),
                None => not_found(),
            },
        )
    }

    /// Whether the atlas has this topic or actor (no subject: the whole space, always).
    async fn knows(&self, subject: Option<&Subject>) -> Result<bool, crate::store::StoreError> {
        let atlas = self.ctx.atlas().await?;
        Ok(match subject {
            None => true,
            Some(Subject::Topic(slug)) => atlas.topics.iter().any(|t| &t.slug == slug),
            Some(Subject::Actor(slug)) => atlas.actor_by_slug(slug).is_some(),
        })
    }

    /// A feed and its ETag: as rendered for the events' current version if it was (calendar
    /// apps poll the same unchanged feed over and over), else rendered now and kept.
    async fn feed(
        &self,
        space: &SpaceId,
        secret: &str,
        subject: Option<Subject>,
        links: &feeds::Links,
        now: DateTime<Utc>,
    ) -> Result<(Bytes, String), crate::store::StoreError> {
        let version = self.ctx.store.feed_version(space, now).await?;
        let key = (secret.to_string(), subject);
        if let Some(kept) = self.feeds.lock().expect("not poisoned").get(&key, &version) {
            return Ok(kept);
        }
        let text = feeds::calendar(
            &self.ctx.store,
            space,
            key.1.as_ref(),
            Some(&links.page),
            now,
        )
        .await?;
        let tag = etag(text.as_bytes());
        let body = Bytes::from(text);
        self.feeds
            .lock()
            .expect("not poisoned")
            .keep(key, version, body.clone(), tag.clone());
        Ok((body, tag))
    }

    /// The events page: one entry per event (a series once, with its next dates), grouped by
    /// the week of its next occurrence in the space's zone, each with what it is about (from
    /// the atlas) and how many answered.
    async fn page(
        &self,
        space: &SpaceId,
        secret: &str,
        subject: Option<&Subject>,
        now: DateTime<Utc>,
    ) -> Result<String, crate::store::StoreError> {
        let zone = self.ctx.store.space(space).await?.timezone;
        let listed = feeds::upcoming(&self.ctx.store, space, subject, now).await?;
        let links = feeds::links(&self.base, secret, subject);
        let atlas = self.ctx.atlas().await?;
        let heading = match subject {
            None => "Upcoming events".to_string(),
            Some(s) => format!("Upcoming events on {}", atlas.subject_name(s)),
        };
        let entries = group_by_event(&listed);
        // One query for the answers of every event on the page, however many there are.
        let ids: Vec<EventId> = entries.iter().map(|e| e.event.id).collect();
        let counts = self.ctx.store.rsvp_counts(&ids).await?;
        // Weeks are the space's: a Sunday-evening meeting in its zone belongs to that week
        // even when it is Monday in UTC.
        let weeks = group_by_week(entries, zone.parse().unwrap_or(Tz::UTC), now);
        let event_link = |id: EventId| format!("{}{PREFIX}{secret}/event/{id}.ics", self.base);
        let shown = Shown {
            atlas: &atlas,
            counts: &counts,
            space_page: feeds::links(&self.base, secret, None).page,
            event_link: &event_link,
        };
        Ok(render_page(&heading, &zone, &weeks, &links, &shown))
    }
}

/// The page's one script: each time in the viewer's own zone (the server cannot know it),
/// the space's zone kept beside it. Without it, times read in the space's zone.
const SCRIPT: &str = "document.querySelectorAll('time[datetime]').forEach(function(t){var f=new Intl.DateTimeFormat(undefined,{weekday:'short',day:'numeric',month:'short',year:'numeric',hour:'2-digit',minute:'2-digit',timeZoneName:'short'});t.textContent=f.format(new Date(t.getAttribute('datetime')));});var z=document.getElementById('viewer-zone');if(z){z.textContent=Intl.DateTimeFormat().resolvedOptions().timeZone;}";

/// Only the page's own style and script run; nothing is loaded from elsewhere.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Greys are #555 or darker on white (7:1 and more), links #0645ad (8:1).
const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a;background:#fff}h1{font-size:1.6rem}h2{font-size:1.3rem;margin:2rem 0 .3rem}h3{font-size:1.1rem;margin:0}ol{list-style:none;padding:0;margin:0}ol>li{border-top:1px solid #ccc;padding:.8rem 0}p{margin:.3rem 0}.when{font-weight:600}.zone,.note{color:#555}.then{margin:.2rem 0;padding-left:1.2rem;color:#333}.answers{font-weight:600;color:#1a1a1a}a{color:#0645ad}";

/// How many dates after the next one an entry lists; the rest are counted ("and 4 more").
const THEN_SHOWN: usize = 5;

/// One event on the page: its occurrences there, soonest first (the first is its next).
struct Entry<'a> {
    event: &'a EventRow,
    tz: Tz,
    dates: Vec<DateTime<Utc>>,
    /// How many times it occurs within the page's window (`dates` are the first of them).
    in_window: usize,
}

/// What rendering needs besides the entries: the atlas for names, the answers counted, the
/// space's page (subject links hang below it) and each event's "add to calendar" link.
struct Shown<'a> {
    atlas: &'a Atlas,
    counts: &'a HashMap<EventId, RsvpCounts>,
    space_page: String,
    event_link: &'a dyn Fn(EventId) -> String,
}

/// Occurrences gathered under their event, so that a weekly series is one entry rather than
/// one per week. `listed` is soonest first, so entries come in order of their next
/// occurrence and each entry's dates stay in order. Bounded by `listed` (`feeds::PAGE_PER_EVENT`
/// per event).
fn group_by_event(listed: &[Listed]) -> Vec<Entry<'_>> {
    let mut index: HashMap<EventId, usize> = HashMap::new();
    let mut entries: Vec<Entry> = Vec::new();
    for l in listed {
        let i = *index.entry(l.event.id).or_insert_with(|| {
            entries.push(Entry {
                event: &l.event,
                tz: l.tz,
                dates: Vec::new(),
                in_window: l.in_window,
            });
            entries.len() - 1
        });
        entries[i].dates.push(l.at);
    }
    entries
}

/// The Monday that starts the week of `at` in `zone` (weeks as the space's members live them).
fn week_of(at: DateTime<Utc>, zone: Tz) -> NaiveDate {
    let day = at.with_timezone(&zone).date_naive();
    day - chrono::Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// Entries by the week of their next occurrence, weeks in order. Entries arrive soonest
/// first, so each week's entries are consecutive and one pass suffices.
fn group_by_week(entries: Vec<Entry<'_>>, zone: Tz, now: DateTime<Utc>) -> Vec<Week<'_>> {
    let this_week = week_of(now, zone);
    let mut weeks: Vec<Week> = Vec::new();
    for entry in entries {
        // Never before this week: an occurrence is listed only from now on.
        let monday = week_of(entry.dates[0], zone).max(this_week);
        match weeks.last_mut() {
            Some(w) if w.monday == monday => w.entries.push(entry),
            _ => weeks.push(Week {
                monday,
                heading: week_heading(monday, this_week),
                entries: vec![entry],
            }),
        }
    }
    weeks
}

/// A week's section on the page.
struct Week<'a> {
    monday: NaiveDate,
    heading: String,
    entries: Vec<Entry<'a>>,
}

/// "This week", "Next week", then "Week of 4 January" (with the year when it is not this
/// one's).
fn week_heading(monday: NaiveDate, this_week: NaiveDate) -> String {
    match (monday - this_week).num_days() / 7 {
        0 => "This week".into(),
        1 => "Next week".into(),
        _ if monday.year() == this_week.year() => format!("Week of {}", monday.format("%-d %B")),
        _ => format!("Week of {}", monday.format("%-d %B %Y")),
    }
}

fn render_page(
    heading: &str,
    zone: &str,
    weeks: &[Week],
    links: &feeds::Links,
    shown: &Shown,
) -> String {
    let mut sections: String = weeks.iter().map(|w| render_week(w, shown)).collect();
    if weeks.is_empty() {
        sections.push_str("<p>No upcoming events.</p>\n");
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"referrer\" content=\"no-referrer\"><title>{title}</title><style>{STYLE}</style></head>\n<body><main><h1>{title}</h1><p class=\"note\">Times are shown in your time zone (<span id=\"viewer-zone\">{zone}</span>); in brackets, the event's own zone. This space's zone is {zone}; its weeks start on Monday.</p><p><a href=\"{webcal}\" aria-label=\"Subscribe to these events in your calendar app\">Subscribe in your calendar app</a> · <a href=\"{https}\" aria-label=\"These events as an iCalendar feed\">iCalendar feed</a></p>\n{sections}</main><script>{SCRIPT}</script></body></html>\n",
        title = escape(heading),
        zone = escape(zone),
        webcal = escape(&links.webcal),
        https = escape(&links.https),
    )
}

/// A week: its heading (h2, naming the section) and its events as a list.
fn render_week(week: &Week, shown: &Shown) -> String {
    let id = format!("week-{}", week.monday.format("%Y-%m-%d"));
    let items: String = week
        .entries
        .iter()
        .map(|e| render_entry(e, shown))
        .collect();
    format!(
        "<section aria-labelledby=\"{id}\"><h2 id=\"{id}\">{heading}</h2><ol>\n{items}</ol></section>\n",
        heading = escape(&week.heading),
    )
}

/// One event: its title, next occurrence, how it repeats, where, what about, who answered,
/// its following dates and its "add to calendar" link. It carries the event's anchor, which
/// feeds link to.
fn render_entry(entry: &Entry, shown: &Shown) -> String {
    let e = entry.event;
    let title = escape(&e.title);
    let repeats = e
        .rrule
        .as_deref()
        .and_then(Recurrence::from_rrule)
        .map(|r| format!("<p class=\"note\">Repeats {}</p>", escape(&r.to_string())))
        .unwrap_or_default();
    let paragraph = |t: &Option<String>| {
        t.as_deref()
            .map(|t| format!("<p>{}</p>", escape(t)))
            .unwrap_or_default()
    };
    let answers = render_answers(
        shown.counts.get(&e.id).copied().unwrap_or_default(),
        e.capacity,
    );
    format!(
        "<li id=\"{anchor}\"><article><h3>{title}</h3>{next}{repeats}{place}{about}{subjects}{answers}{then}<p><a href=\"{add}\" download aria-label=\"Add {title} to your calendar\">Add to calendar</a></p></article></li>\n",
        anchor = feeds::event_anchor(e.id),
        next = render_next(entry),
        place = paragraph(&e.place),
        about = paragraph(&e.description),
        subjects = render_subjects(e, shown),
        then = render_then(entry),
        add = escape(&(shown.event_link)(e.id)),
    )
}

/// The next occurrence, prominent: in the event's zone until the script puts it in the
/// viewer's, the event's own wall-clock time kept beside it.
fn render_next(entry: &Entry) -> String {
    let at = entry.dates[0];
    let local = at.with_timezone(&entry.tz);
    format!(
        "<p class=\"when\">{time} <span class=\"zone\">({local} {tz})</span></p>",
        time = render_time(at, entry.tz),
        local = local.format("%H:%M"),
        tz = escape(entry.tz.name()),
    )
}

/// A `<time>` the script rewrites in the viewer's zone; its text reads in `tz` without it.
fn render_time(at: DateTime<Utc>, tz: Tz) -> String {
    format!(
        "<time datetime=\"{utc}\">{text}</time>",
        utc = at.format("%Y-%m-%dT%H:%M:%SZ"),
        text = at.with_timezone(&tz).format("%a %-d %b %Y, %H:%M"),
    )
}

/// The dates after the next: a few listed, the rest counted, so a long series stays short.
fn render_then(entry: &Entry) -> String {
    let later = &entry.dates[1..];
    if later.is_empty() {
        return String::new();
    }
    let items: String = later
        .iter()
        .take(THEN_SHOWN)
        .map(|at| format!("<li>{}</li>", render_time(*at, entry.tz)))
        .collect();
    let more = match entry
        .in_window
        .saturating_sub(1 + THEN_SHOWN.min(later.len()))
    {
        0 => String::new(),
        n => format!("<p class=\"note\">and {n} more</p>"),
    };
    format!("<p class=\"note\">Then:</p><ul class=\"then\" aria-label=\"Following dates\">{items}</ul>{more}")
}

/// Topics and actors by their atlas names, as `/event show` gives them (slugs the atlas no
/// longer knows are left out), each a link to the space's events on it. Topics the bot read
/// from the event's own words are said to be inferred, as on the card.
fn render_subjects(e: &EventRow, shown: &Shown) -> String {
    let slugs = |list: &Option<String>| -> Vec<String> {
        list.as_deref()
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    };
    let topics: Vec<(String, String)> = slugs(&e.topics)
        .into_iter()
        .filter_map(|s| {
            let name = shown
                .atlas
                .topics
                .iter()
                .find(|t| t.slug == s)?
                .name
                .clone();
            Some((s, name))
        })
        .collect();
    // The organiser first (an actor of the event as much as those it names), then the rest.
    let actors: Vec<(String, String)> = e
        .organiser
        .iter()
        .cloned()
        .chain(slugs(&e.actors))
        .filter_map(|s| shown.atlas.actor_by_slug(&s))
        .map(|a| (a.slug, a.acronym.unwrap_or(a.name)))
        .collect();
    let label = if e.inferred {
        "Topics (inferred from the title and description)"
    } else {
        "Topics"
    };
    let mut out = String::new();
    for (label, kind, named) in [(label, "topic", &topics), ("Actors", "actor", &actors)] {
        if !named.is_empty() {
            let links = subject_links(&shown.space_page, kind, named);
            out.push_str(&format!("<p class=\"about\">{label}: {links}</p>"));
        }
    }
    out
}

/// Names as links to the space's events on each (`/calendar/{secret}/{kind}/{slug}`).
fn subject_links(space_page: &str, kind: &str, named: &[(String, String)]) -> String {
    named
        .iter()
        .map(|(slug, name)| {
            let name = escape(name);
            format!(
                "<a href=\"{}/{kind}/{}\" aria-label=\"Events on {name}\">{name}</a>",
                escape(space_page),
                escape(slug)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// "3 going · 1 maybe · 2 waiting · 17 of 20 places left" (or "full"): counts only, never
/// names; nothing when nobody answered and there is no limit.
fn render_answers(c: RsvpCounts, capacity: Option<i64>) -> String {
    let mut parts = Vec::new();
    for (n, what) in [
        (c.going, "going"),
        (c.maybe, "maybe"),
        (c.waiting, "waiting"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    match capacity {
        Some(cap) if c.going >= cap => parts.push("full".into()),
        Some(cap) => parts.push(format!("{} of {cap} places left", cap - c.going)),
        None => {}
    }
    if parts.is_empty() {
        return String::new();
    }
    format!("<p class=\"answers\">{}</p>", parts.join(" · "))
}

impl crate::platform::http::Handler for Calendars {
    fn handle(&self, req: Request<Incoming>, peer: IpAddr) -> crate::platform::http::Answer<'_> {
        Box::pin(async move { self.answer(&req, peer).await })
    }
}

/// `atlasbot serve`: the calendars alone, until a shutdown signal.
pub async fn run(ctx: Context, listen: std::net::SocketAddr) -> Result<(), String> {
    let base = ctx.public_url.clone().ok_or_else(|| {
        "ATLASBOT_PUBLIC_URL (--public-url) is not set: the address people reach this server at, e.g. https://bot.example.org".to_string()
    })?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        super::shutdown_signal().await;
        let _ = stop.send(true);
    });
    eprintln!("atlasbot: calendars on http://{address} (public: {base})");
    let calendars = std::sync::Arc::new(Calendars::new(ctx, &base));
    crate::platform::http::serve(
        listener,
        crate::platform::http::Limits::default(),
        calendars,
        stopped,
    )
    .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn paths_are_read_strictly() {
        assert_eq!(
            route(&format!("/calendar/{SECRET}.ics")),
            Some(Route::Events {
                secret: SECRET.into(),
                subject: None,
                ics: true
            })
        );
        assert_eq!(
            route(&format!("/calendar/{SECRET}/topic/cybersecurity")),
            Some(Route::Events {
                secret: SECRET.into(),
                subject: Some(Subject::Topic("cybersecurity".into())),
                ics: false
            })
        );
        assert_eq!(
            route(&format!("/calendar/{SECRET}/event/12.ics")),
            Some(Route::Event {
                secret: SECRET.into(),
                id: EventId(12)
            })
        );
        for bad in [
            "/calendar/short.ics".to_string(),
            format!("/calendar/{}", SECRET.to_uppercase()),
            format!("/calendar/{SECRET}/weather/x"),
            format!("/calendar/{SECRET}/event/x.ics"),
            format!("/calendar/{SECRET}/a/b/c"),
            "/other".to_string(),
        ] {
            assert_eq!(route(&bad), None, "{bad}");
        }
    }

    proptest::proptest! {
        /// Any path is read or refused, never a panic; `/calendar/` paths with a secret, a kind
        /// and a slug read back as what they say.
        #[test]
        fn any_path_is_read_or_refused(path in "\\PC{0,300}") {
            let _ = route(&path);
            let _ = route(&format!("/calendar/{path}"));
        }

        #[test]
        fn well_formed_paths_read_back(
            secret in "[0-9a-f]{48}",
            slug in "[a-z0-9-]{1,100}",
            id in 1i64..i64::MAX,
        ) {
            proptest::prop_assert_eq!(
                route(&format!("/calendar/{secret}/actor/{slug}.ics")),
                Some(Route::Events { secret: secret.clone(), subject: Some(Subject::Actor(slug)), ics: true })
            );
            proptest::prop_assert_eq!(
                route(&format!("/calendar/{secret}/event/{id}.ics")),
                Some(Route::Event { secret, id: EventId(id) })
            );
        }
    }

    #[test]
    fn weeks_start_on_monday_in_the_spaces_zone() {
        let la: Tz = "America/Los_Angeles".parse().unwrap();
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // Monday 04:00 UTC is still Sunday evening in Los Angeles: the week before.
        assert_eq!(week_of(at("2026-11-30T04:00:00Z"), la), day("2026-11-23"));
        assert_eq!(
            week_of(at("2026-11-30T04:00:00Z"), Tz::UTC),
            day("2026-11-30")
        );
        let this = day("2026-12-28");
        assert_eq!(week_heading(this, this), "This week");
        assert_eq!(week_heading(day("2027-01-04"), this), "Next week");
        assert_eq!(
            week_heading(day("2027-01-11"), this),
            "Week of 11 January 2027"
        );
        assert_eq!(
            week_heading(day("2026-12-14"), day("2026-11-23")),
            "Week of 14 December"
        );
    }

    #[test]
    fn answers_are_counted_and_nothing_is_said_when_there_are_none() {
        let c = |going, maybe, waiting| RsvpCounts {
            going,
            maybe,
            cant: 4,
            waiting,
        };
        assert_eq!(render_answers(c(0, 0, 0), None), "");
        assert_eq!(
            render_answers(c(3, 1, 0), None),
            "<p class=\"answers\">3 going · 1 maybe</p>"
        );
        assert_eq!(
            render_answers(c(3, 0, 0), Some(20)),
            "<p class=\"answers\">3 going · 17 of 20 places left</p>"
        );
        assert_eq!(
            render_answers(c(2, 0, 2), Some(2)),
            "<p class=\"answers\">2 going · 2 waiting · full</p>"
        );
    }

    #[test]
    fn if_none_match_is_read_as_a_list() {
        assert!(matches(Some("\"a\", \"b\""), "\"b\""));
        assert!(matches(Some("W/\"b\""), "\"b\""));
        assert!(matches(Some("*"), "\"b\""));
        assert!(!matches(Some("\"a\""), "\"b\""));
        assert!(!matches(None, "\"b\""));
    }

    #[test]
    fn an_address_gets_its_requests_per_minute_then_waits() {
        let mut l = Limiter {
            window: Instant::now(),
            counts: Default::default(),
            per_minute: 3,
        };
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let t = Instant::now();
        assert!((0..3).all(|_| l.allow(a, t)));
        assert!(!l.allow(a, t));
        assert!(l.allow(b, t), "another address is not held back");
        assert!(l.allow(a, t + std::time::Duration::from_secs(61)));
    }
}
