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

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use crate::commands::Context;
use crate::domain::{EventId, SpaceId, Subject};
use crate::feeds::{self, Listed};
use crate::render::html::escape;

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
            Route::Event { secret, id } => {
                let Some(space) = store.feed_space(&secret).await? else {
                    return Ok(not_found());
                };
                let page = feeds::links(&self.base, &secret, None).page;
                match feeds::one_event(store, &space, id, Some(&page)).await? {
                    Some(body) => Ok(content(
                        req,
                        body,
                        "text/calendar; charset=utf-8",
                        &[(
                            header::CONTENT_DISPOSITION,
                            HeaderValue::from_static("attachment; filename=\"event.ics\""),
                        )],
                    )),
                    None => Ok(not_found()),
                }
            }
        }
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
        let event_link = |id: EventId| format!("{}{PREFIX}{secret}/event/{id}.ics", self.base,);
        Ok(render_page(&heading, &zone, &listed, &links, &event_link))
    }
}

/// The page's one script: each time in the viewer's own zone (the server cannot know it),
/// the space's zone kept beside it. Without it, times read in the space's zone.
const SCRIPT: &str = "document.querySelectorAll('time[datetime]').forEach(function(t){var f=new Intl.DateTimeFormat(undefined,{weekday:'short',day:'numeric',month:'short',year:'numeric',hour:'2-digit',minute:'2-digit',timeZoneName:'short'});t.textContent=f.format(new Date(t.getAttribute('datetime')));});var z=document.getElementById('viewer-zone');if(z){z.textContent=Intl.DateTimeFormat().resolvedOptions().timeZone;}";

/// Only the page's own style and script run; nothing is loaded from elsewhere.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a;background:#fff}h1{font-size:1.6rem}ol{list-style:none;padding:0}li{border-top:1px solid #ccc;padding:.8rem 0}h2{font-size:1.15rem;margin:0}.when{font-weight:600}.zone,.note{color:#555}a{color:#0645ad}";

fn render_page(
    heading: &str,
    zone: &str,
    listed: &[Listed],
    links: &feeds::Links,
    event_link: &dyn Fn(EventId) -> String,
) -> String {
    let mut items = String::new();
    let mut anchored = std::collections::HashSet::new();
    for l in listed {
        let e = &l.event;
        // The first occurrence of each event carries its anchor (feeds link to it).
        let id = if anchored.insert(e.id) {
            format!(" id=\"{}\"", feeds::event_anchor(e.id))
        } else {
            String::new()
        };
        let local = l.at.with_timezone(&l.tz);
        items.push_str(&format!(
            "<li{id}><article><h2>{title}</h2><p class=\"when\"><time datetime=\"{utc}\">{space_time}</time> <span class=\"zone\">({local} {tz})</span></p>{place}{about}<p><a href=\"{add}\" download aria-label=\"Add {title} to your calendar\">Add to calendar</a></p></article></li>\n",
            title = escape(&e.title),
            utc = l.at.format("%Y-%m-%dT%H:%M:%SZ"),
            space_time = local.format("%a %-d %b %Y, %H:%M"),
            local = local.format("%H:%M"),
            tz = escape(l.tz.name()),
            place = e.place.as_deref().map(|p| format!("<p>{}</p>", escape(p))).unwrap_or_default(),
            about = e.description.as_deref().map(|d| format!("<p>{}</p>", escape(d))).unwrap_or_default(),
            add = escape(&event_link(e.id)),
        ));
    }
    if listed.is_empty() {
        items.push_str("<li>No upcoming events.</li>\n");
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"referrer\" content=\"no-referrer\"><title>{title}</title><style>{STYLE}</style></head>\n<body><main><h1>{title}</h1><p class=\"note\">Times are shown in your time zone (<span id=\"viewer-zone\">{zone}</span>); in brackets, the event's own zone. This space's zone is {zone}.</p><p><a href=\"{webcal}\">Subscribe in your calendar app</a> · <a href=\"{https}\">iCalendar feed</a></p><ol>\n{items}</ol></main><script>{SCRIPT}</script></body></html>\n",
        title = escape(heading),
        zone = escape(zone),
        webcal = escape(&links.webcal),
        https = escape(&links.https),
    )
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
