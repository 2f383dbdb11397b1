//! Discord's rate limits, kept before a request leaves instead of learned from a 429: the
//! global limit (requests per second for the whole bot, interaction answers excepted) counted
//! over a sliding second, and each route's bucket as Discord describes it in its answers
//! (`X-RateLimit-Bucket`, `-Limit`, `-Remaining`, `-Reset-After`), shared by the routes Discord
//! says share it, per top-level resource (a channel, a guild, a webhook). A route not yet
//! described sends one request at a time until its first answer says what its bucket allows;
//! then as many at once as the bucket has left, so a burst of direct-message openings or of
//! messages to many channels is limited by Discord's numbers, not by one answer at a time.
//!
//! Why not twilight-http-ratelimiting (read, not measured: it would replace this module
//! whole): its actor lets one request per bucket be in flight at a time ("may never contain
//! more than one task per endpoint at once"), so one route such as opening direct messages
//! (`POST /users/@me/channels`, one bucket for the whole bot) goes at one request per answer —
//! 10 a second at 100 ms — where the global limit allows 50 (BENCHMARKS.md, delivery).
//!
//! It decides only when a request may leave; what a refusal means is `rest`'s.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// The global limit Discord gives a bot: 50 requests per second.
pub const GLOBAL_PER_SECOND: usize = 50;
/// The second the global limit is counted over, with room for the time a request takes to
/// reach Discord (which counts it when it arrives, not when it left).
const GLOBAL_WINDOW: Duration = Duration::from_millis(1050);
/// Most buckets remembered (routes with ids make many); the oldest are forgotten first.
const MAX_BUCKETS: usize = 20_000;

/// What one bucket allows until it resets.
#[derive(Debug, Default, Clone)]
struct Bucket {
    /// Whether an answer has described it yet.
    known: bool,
    limit: u32,
    /// What is left until `reset_at`, counting requests this process has sent since.
    remaining: u32,
    reset_at: Option<Instant>,
    /// How long its window lasts, as the last answer said: a window restarted here (after
    /// a reset, before any answer describes it) is believed to last as long, so a known
    /// bucket always has a reset to wait for.
    period: Duration,
    /// Requests sent and not yet answered.
    in_flight: u32,
}

#[derive(Debug, Default)]
struct State {
    /// When each request of the last global window left.
    recent: VecDeque<Instant>,
    /// No request before this (a global 429's `retry_after`).
    global_until: Option<Instant>,
    /// Route → the bucket Discord says it belongs to.
    bucket_of: HashMap<String, String>,
    buckets: HashMap<String, Bucket>,
}

/// The rate limits of one bot token.
#[derive(Debug)]
pub struct Limits {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    per_second: usize,
    state: Mutex<State>,
    /// Told whenever an answer may have made room.
    changed: tokio::sync::Notify,
}

impl Inner {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn settle(&self, ticket: &Ticket, described: Option<&Described>) {
        self.state().settle(ticket, described, Instant::now());
        self.changed.notify_waiters();
    }
}

/// Leave to send one request on a route; handed back with its answer (`Limits::answered`) —
/// or, if the request is dropped on its way (a timeout, a cancelled delivery), when it is
/// dropped, so that its place is never held for good.
#[derive(Debug)]
pub struct Ticket {
    key: String,
    route: String,
    limits: Option<Arc<Inner>>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Some(limits) = self.limits.take() {
            limits.settle(self, None);
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::new(GLOBAL_PER_SECOND)
    }
}

impl Limits {
    pub fn new(per_second: usize) -> Limits {
        Limits {
            inner: Arc::new(Inner {
                per_second: per_second.max(1),
                state: Mutex::new(State::default()),
                changed: tokio::sync::Notify::new(),
            }),
        }
    }

    #[cfg(test)]
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state()
    }

    /// Waits until `route` ("METHOD /path", no query) may send a request, and takes its place.
    pub async fn admit(&self, route: &str) -> Ticket {
        let route = template(route);
        loop {
            // Registered before looking, so that an answer between the look and the wait
            // still wakes this one.
            let changed = self.inner.changed.notified();
            let taken = self
                .inner
                .state()
                .take(&route, self.inner.per_second, Instant::now());
            let wait = match taken {
                Ok(key) => {
                    return Ticket {
                        key,
                        route,
                        limits: Some(self.inner.clone()),
                    }
                }
                Err(wait) => wait,
            };
            match wait {
                Some(until) => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(until) => {}
                        _ = changed => {}
                    }
                }
                None => changed.await,
            }
        }
    }

    /// Hands a ticket back with the answer's headers (None: no answer came).
    pub fn answered(&self, mut ticket: Ticket, headers: Option<&reqwest::header::HeaderMap>) {
        let described = headers.and_then(Described::read);
        if let Some(limits) = ticket.limits.take() {
            limits.settle(&ticket, described.as_ref());
        }
    }

    /// A global 429: nothing leaves for `wait`.
    pub fn globally_limited(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut s = self.inner.state();
        s.global_until = Some(s.global_until.map_or(until, |t| t.max(until)));
    }
}

/// What an answer says of its bucket.
#[derive(Debug, Clone, PartialEq)]
struct Described {
    bucket: String,
    limit: u32,
    remaining: u32,
    reset_after: Duration,
}

impl Described {
    fn read(headers: &reqwest::header::HeaderMap) -> Option<Described> {
        let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
        let number = |n: &str| header(n).and_then(|v| v.parse::<u32>().ok());
        let reset_after = header("x-ratelimit-reset-after")?.parse::<f64>().ok()?;
        Some(Described {
            bucket: header("x-ratelimit-bucket")?.chars().take(64).collect(),
            limit: number("x-ratelimit-limit").unwrap_or(1),
            remaining: number("x-ratelimit-remaining")?,
            reset_after: Duration::from_secs_f64(reset_after.clamp(0.0, 3600.0)),
        })
    }
}

impl State {
    /// Takes a place for `route` now, or says until when to wait (None: until an answer).
    fn take(
        &mut self,
        route: &str,
        per_second: usize,
        now: Instant,
    ) -> Result<String, Option<Instant>> {
        if is_interaction_answer(route) {
            // Answers to interactions are Discord's own to pace (one per interaction, within
            // its three seconds): never held back here.
            return Ok(String::new());
        }
        let key = self.key_of(route);
        let counted = counts_globally(route);
        if counted {
            self.global_room(per_second, now)?;
        }
        let bucket = self.buckets.entry(key.clone()).or_default();
        bucket.reset_if_due(now);
        if !bucket.known {
            // Undescribed: one request finds out what the bucket allows.
            if bucket.in_flight > 0 {
                return Err(None);
            }
        } else if bucket.remaining == 0 {
            return Err(bucket.reset_at.or(Some(now + Duration::from_millis(50))));
        } else {
            bucket.remaining -= 1;
        }
        bucket.in_flight += 1;
        if counted {
            self.recent.push_back(now);
        }
        Ok(key)
    }

    /// Whether the global limit has room now, or until when to wait.
    fn global_room(&mut self, per_second: usize, now: Instant) -> Result<(), Option<Instant>> {
        if let Some(until) = self.global_until.filter(|t| *t > now) {
            return Err(Some(until));
        }
        while self
            .recent
            .front()
            .is_some_and(|t| *t + GLOBAL_WINDOW <= now)
        {
            self.recent.pop_front();
        }
        match self.recent.front() {
            Some(first) if self.recent.len() >= per_second => Err(Some(*first + GLOBAL_WINDOW)),
            _ => Ok(()),
        }
    }

    /// The bucket a route counts against: Discord's, per top-level resource, once an answer
    /// named it; until then the route's own.
    fn key_of(&self, route: &str) -> String {
        match self.bucket_of.get(route) {
            Some(bucket) => format!("{bucket} {}", resource(route)),
            None => format!("route {route}"),
        }
    }

    /// Books an answer: the place it held is free, and its bucket is as the answer says.
    fn settle(&mut self, ticket: &Ticket, described: Option<&Described>, now: Instant) {
        if ticket.key.is_empty() {
            return;
        }
        if let Some(b) = self.buckets.get_mut(&ticket.key) {
            b.in_flight = b.in_flight.saturating_sub(1);
        }
        let Some(d) = described else {
            return;
        };
        if self.buckets.len() >= MAX_BUCKETS {
            // Forgotten: buckets at rest (nothing in flight, their window over).
            self.buckets
                .retain(|_, b| b.in_flight > 0 || b.reset_at.is_some_and(|t| t > now));
        }
        if self.bucket_of.len() >= MAX_BUCKETS {
            self.bucket_of.clear();
        }
        self.bucket_of
            .insert(ticket.route.clone(), d.bucket.clone());
        let key = self.key_of(&ticket.route);
        let bucket = self.buckets.entry(key).or_default();
        bucket.describe(d, now);
    }
}

impl Bucket {
    fn reset_if_due(&mut self, now: Instant) {
        if self.known && self.reset_at.is_none_or(|t| t <= now) {
            self.remaining = self.limit;
            self.reset_at = Some(now + self.period.max(Duration::from_millis(100)));
        }
    }

    /// What an answer says: a later reset is a new window (its count is the answer's); in the
    /// same window the lower count wins, since answers arrive in any order.
    fn describe(&mut self, d: &Described, now: Instant) {
        let reset_at = now + d.reset_after;
        let same_window = self
            .reset_at
            .is_some_and(|t| reset_at <= t + Duration::from_millis(100));
        self.remaining = if self.known && same_window {
            self.remaining.min(d.remaining)
        } else {
            d.remaining.saturating_sub(self.in_flight)
        };
        self.limit = d.limit.max(1);
        self.period = self.period.max(d.reset_after);
        self.reset_at = Some(if same_window {
            self.reset_at.unwrap_or(reset_at).max(reset_at)
        } else {
            reset_at
        });
        self.known = true;
    }
}

/// The path of a route ("METHOD /path").
fn path_of(route: &str) -> &str {
    route.split_once(' ').map_or(route, |(_, p)| p)
}

/// A route's path segments, and how many of them name the top-level resource within which
/// Discord counts a bucket: `channels/ID` and `guilds/ID` two, `webhooks/ID/TOKEN` three,
/// none for the others.
fn segments(route: &str) -> (Vec<&str>, usize) {
    let parts: Vec<&str> = path_of(route).trim_start_matches('/').split('/').collect();
    let major = match parts[0] {
        "channels" | "guilds" => 2,
        "webhooks" => 3,
        _ => 0,
    };
    (parts, major)
}

/// A route as its bucket sees it: the top-level resource kept (`channels/123`,
/// `webhooks/ID/TOKEN`), every other id a placeholder (`/channels/123/messages/:id`), so
/// that routes are few and a message id never makes one of its own.
fn template(route: &str) -> String {
    let method = route.split_once(' ').map_or("", |(m, _)| m);
    let (parts, major) = segments(route);
    let kept: Vec<&str> = parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            let id_like =
                part.len() >= 32 || (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
            if id_like && i >= major {
                ":id"
            } else {
                part
            }
        })
        .collect();
    format!("{method} /{}", kept.join("/"))
}

/// The top-level resource of a route (`segments`); empty for the others.
fn resource(route: &str) -> String {
    let (parts, major) = segments(route);
    parts[..major.min(parts.len())].join("/")
}

/// An interaction's answer (`POST /interactions/ID/TOKEN/callback`).
fn is_interaction_answer(route: &str) -> bool {
    path_of(route).starts_with("/interactions/")
}

/// Interaction follow-ups (webhooks) are not counted against the global limit. (Answers are
/// not held at all: `is_interaction_answer`.)
fn counts_globally(route: &str) -> bool {
    !path_of(route).starts_with("/webhooks/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn described(bucket: &str, limit: u32, remaining: u32, reset_ms: u64) -> Described {
        Described {
            bucket: bucket.into(),
            limit,
            remaining,
            reset_after: Duration::from_millis(reset_ms),
        }
    }

    fn answer(s: &mut State, key: String, route: &str, d: Option<Described>, now: Instant) {
        let ticket = Ticket {
            key,
            route: route.into(),
            limits: None,
        };
        s.settle(&ticket, d.as_ref(), now);
    }

    #[test]
    fn the_global_limit_is_kept_over_any_second() {
        let mut s = State::default();
        let now = Instant::now();
        for i in 0..50 {
            let route = format!("POST /channels/{i}/messages");
            assert!(s.take(&route, 50, now).is_ok(), "request {i}");
        }
        let wait = s.take("POST /channels/99/messages", 50, now).unwrap_err();
        assert_eq!(wait, Some(now + GLOBAL_WINDOW));
        assert!(s
            .take("POST /channels/99/messages", 50, now + GLOBAL_WINDOW)
            .is_ok());
    }

    #[test]
    fn interaction_answers_do_not_count_against_the_global_limit() {
        let mut s = State::default();
        let now = Instant::now();
        for i in 0..50 {
            s.take(&format!("POST /channels/{i}/messages"), 50, now)
                .unwrap();
        }
        assert!(s.take("POST /interactions/1/tok/callback", 50, now).is_ok());
        assert!(s
            .take("PATCH /webhooks/2/tok/messages/@original", 50, now)
            .is_ok());
    }

    #[test]
    fn an_undescribed_route_sends_one_request_until_its_answer_then_what_the_bucket_allows() {
        let mut s = State::default();
        let now = Instant::now();
        let route = "POST /users/@me/channels";
        let first = s.take(route, 50, now).unwrap();
        assert_eq!(s.take(route, 50, now), Err(None));
        answer(
            &mut s,
            first,
            route,
            Some(described("dm", 10, 9, 1000)),
            now,
        );
        for i in 0..9 {
            assert!(
                s.take(route, 50, now).is_ok(),
                "request {i} of the bucket's 9"
            );
        }
        assert_eq!(
            s.take(route, 50, now),
            Err(Some(now + Duration::from_secs(1)))
        );
        // At the reset the bucket is whole again.
        assert!(s.take(route, 50, now + Duration::from_secs(1)).is_ok());
    }

    #[test]
    fn a_bucket_is_counted_per_channel_and_its_query_is_not_part_of_the_route() {
        let mut s = State::default();
        let now = Instant::now();
        let a = "POST /channels/1/messages";
        let b = "POST /channels/2/messages";
        let t = s.take(a, 50, now).unwrap();
        answer(&mut s, t, a, Some(described("msg", 5, 0, 5000)), now);
        assert!(s.take(a, 50, now).is_err(), "channel 1 is spent");
        assert!(s.take(b, 50, now).is_ok(), "channel 2 is not");
        assert_eq!(
            resource("GET /guilds/7/scheduled-events/8/users"),
            "guilds/7"
        );
    }

    #[test]
    fn answers_in_any_order_never_raise_what_is_left_in_a_window() {
        let mut s = State::default();
        let now = Instant::now();
        let route = "POST /channels/1/messages";
        let t = s.take(route, 50, now).unwrap();
        answer(&mut s, t, route, Some(described("msg", 5, 4, 5000)), now);
        let (t1, t2) = (
            s.take(route, 50, now).unwrap(),
            s.take(route, 50, now).unwrap(),
        );
        answer(&mut s, t2, route, Some(described("msg", 5, 2, 5000)), now);
        answer(&mut s, t1, route, Some(described("msg", 5, 3, 5000)), now);
        let key = s.key_of(route);
        assert_eq!(s.buckets[&key].remaining, 2);
    }

    #[test]
    fn a_global_429_holds_every_request_until_it_ends() {
        let limits = Limits::default();
        limits.globally_limited(Duration::from_secs(2));
        let now = Instant::now();
        let wait = limits
            .state()
            .take("GET /gateway/bot", 50, now)
            .unwrap_err();
        assert!(wait.is_some_and(|t| t >= now + Duration::from_millis(1900)));
    }

    #[tokio::test]
    async fn a_request_dropped_on_its_way_gives_its_place_back() {
        let limits = Limits::default();
        let route = "POST /users/@me/channels";
        let first = limits.admit(route).await;
        drop(first); // a timeout, a cancelled delivery: no answer will come
        let second = tokio::time::timeout(Duration::from_secs(1), limits.admit(route)).await;
        assert!(
            second.is_ok(),
            "the route stayed held by a request that was dropped"
        );
    }

    #[test]
    fn a_bucket_spent_by_answers_without_headers_still_resets() {
        let mut s = State::default();
        let now = Instant::now();
        let route = "POST /channels/1/messages";
        let t = s.take(route, 50, now).unwrap();
        answer(&mut s, t, route, Some(described("msg", 2, 2, 1000)), now);
        let later = now + Duration::from_secs(2);
        for _ in 0..2 {
            let t = s.take(route, 50, later).unwrap();
            answer(&mut s, t, route, None, later); // a network error, a proxy's page
        }
        let wait = s.take(route, 50, later).unwrap_err();
        assert!(
            wait.is_some_and(|t| t <= later + Duration::from_secs(1)),
            "a spent bucket with no reset to wait for: {wait:?}"
        );
    }

    #[test]
    fn routes_keep_their_top_level_resource_and_lose_other_ids() {
        assert_eq!(
            template("POST /channels/123456789012345678/messages/223456789012345678/reactions"),
            "POST /channels/123456789012345678/messages/:id/reactions"
        );
        assert_eq!(
            template("PATCH /webhooks/42/aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OnRva2Vu/messages/@original"),
            "PATCH /webhooks/42/aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OnRva2Vu/messages/@original"
        );
        assert_eq!(
            template("GET /guilds/7/scheduled-events/823456789012345678/users"),
            "GET /guilds/7/scheduled-events/:id/users"
        );
    }

    #[test]
    fn interaction_answers_are_never_held_back() {
        let mut s = State::default();
        let now = Instant::now();
        let route = "POST /interactions/:id/:id/callback";
        for _ in 0..100 {
            assert!(s.take(route, 50, now).is_ok());
        }
        assert!(s.buckets.is_empty() && s.recent.is_empty());
    }
}
