//! The interactions endpoint (`atlasbot discord-http`): Discord POSTs each interaction here,
//! signed. Every request is checked before anything else is read: the Ed25519 signature over
//! timestamp + body (`Verifier`, strict Ed25519 through ed25519-dalek), and the timestamp's
//! age — a signature alone says nothing of when, and without that check a captured request
//! could be replayed forever; and a signed request seen before (by interaction id, within that
//! age) is not acted on twice. Any failure is a 401 with no detail.
//!
//! Connections are bounded too, since no signature is needed to open one: headers must
//! arrive within `Limits::header_timeout` (which also closes idle keep-alive connections),
//! a body within `body_timeout`, and at most `max_connections` are open at once, at most
//! `max_per_address` from one address; beyond that a new connection is closed at once.
//!
//! A lookup's rendered answer is kept (`Answers`) and given again to the same question while
//! the atlas is the same: the signature is still checked and the interaction id still
//! recorded for every request; only the work of answering is saved.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use tokio::net::TcpListener;

use super::rest::Rest;
use crate::commands::Context;
pub use crate::platform::http::Limits;

/// Requests older (or newer) than this are refused.
pub const MAX_AGE: Duration = Duration::from_secs(5 * 60);
/// Interactions are small; anything bigger is not one.
const MAX_BODY: usize = 256 * 1024;

pub struct Endpoint {
    pub ctx: Context,
    pub verifier: Verifier,
    /// For follow-ups after deferred answers.
    pub rest: Arc<Rest>,
    pub limits: Limits,
    seen: std::sync::Mutex<Seen>,
    answers: std::sync::Mutex<Answers>,
    /// Whether lookups' answers are kept (on unless a benchmark measures the work itself).
    pub keep_answers: bool,
    /// Calendar feeds and pages, served on the same listener when the bot has a public URL.
    pub calendars: Option<Arc<crate::platform::web::Calendars>>,
    /// Follow-ups of deferred answers still being worked on: finished at shutdown, within
    /// the listener's grace, so that nobody is left with "thinking…".
    follow_ups: std::sync::Mutex<tokio::task::JoinSet<()>>,
}

/// Rendered answers to lookups (`discord::lookup_line`), for the atlas they came from.
#[derive(Default)]
struct Answers {
    /// Held, not just compared by address, so that its address cannot be reused by another.
    atlas: Option<Arc<crate::atlas::Atlas>>,
    bytes: std::collections::HashMap<String, Bytes>,
    size: usize,
}

/// At most this many bytes of answers are kept (a full card is ~4 KB); when full, the cache
/// starts again empty — simpler than eviction order, and a popular question comes back at once.
const MAX_KEPT_BYTES: usize = 8 * 1024 * 1024;

impl Answers {
    fn get(&mut self, atlas: &Arc<crate::atlas::Atlas>, line: &str) -> Option<Bytes> {
        if !self.atlas.as_ref().is_some_and(|a| Arc::ptr_eq(a, atlas)) {
            *self = Answers {
                atlas: Some(atlas.clone()),
                ..Answers::default()
            };
            return None;
        }
        self.bytes.get(line).cloned()
    }

    fn keep(&mut self, atlas: &Arc<crate::atlas::Atlas>, line: String, body: Bytes) {
        if !self.atlas.as_ref().is_some_and(|a| Arc::ptr_eq(a, atlas)) {
            return;
        }
        if self.size + body.len() + line.len() > MAX_KEPT_BYTES {
            self.bytes.clear();
            self.size = 0;
        }
        self.size += body.len() + line.len();
        self.bytes.insert(line, body);
    }
}

/// Interaction ids answered within the freshness window: a replayed request (same id, valid
/// signature, still fresh) is refused. Bounded: ids older than `MAX_AGE` are forgotten, and
/// at most `MAX_SEEN` are kept (past that, the oldest go first).
#[derive(Default)]
struct Seen {
    order: std::collections::VecDeque<(std::time::Instant, String)>,
    ids: std::collections::HashSet<String>,
}

const MAX_SEEN: usize = 200_000;

impl Seen {
    /// Records `id`; false when it was seen within `MAX_AGE`.
    fn first_time(&mut self, id: &str, now: std::time::Instant) -> bool {
        while let Some((at, old)) = self.order.front() {
            if now.duration_since(*at) <= MAX_AGE && self.order.len() < MAX_SEEN {
                break;
            }
            self.ids.remove(old);
            self.order.pop_front();
        }
        if !self.ids.insert(id.to_string()) {
            return false;
        }
        self.order.push_back((now, id.to_string()));
        true
    }
}

impl Endpoint {
    pub fn new(ctx: Context, verifier: Verifier, rest: Arc<Rest>) -> Endpoint {
        Endpoint {
            ctx,
            verifier,
            rest,
            limits: Limits::default(),
            seen: std::sync::Mutex::new(Seen::default()),
            answers: std::sync::Mutex::new(Answers::default()),
            keep_answers: true,
            calendars: None,
            follow_ups: std::sync::Mutex::default(),
        }
    }

    /// Works on a deferred answer's follow-up beside the request that deferred it.
    fn follow_up(&self, f: super::FollowUp) {
        let (ctx, rest) = (self.ctx.clone(), self.rest.clone());
        let mut tasks = self.follow_ups.lock().expect("not poisoned");
        while tasks.try_join_next().is_some() {}
        tasks.spawn(async move { super::follow_up(&ctx, &rest, f).await });
    }

    /// Waits for the follow-ups in progress, at most `SHUTDOWN_GRACE`.
    async fn finish_follow_ups(&self) {
        let mut tasks = std::mem::take(&mut *self.follow_ups.lock().expect("not poisoned"));
        let all = async { while tasks.join_next().await.is_some() {} };
        let grace = crate::platform::http::SHUTDOWN_GRACE;
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!(
                "follow-ups still unfinished {} s after shutdown",
                grace.as_secs()
            );
        }
    }
}

/// Checks Discord's signature: Ed25519 over the timestamp header followed by the body.
pub struct Verifier(ed25519_dalek::VerifyingKey);

impl Verifier {
    /// Whether `signature_hex` (128 hex digits) signs `timestamp` + `body`. Strict
    /// verification: no malleable or small-order signatures.
    pub fn verify(&self, signature_hex: &str, timestamp: &str, body: &[u8]) -> bool {
        let Some(signature) = from_hex::<64>(signature_hex) else {
            return false;
        };
        let mut message = Vec::with_capacity(timestamp.len() + body.len());
        message.extend_from_slice(timestamp.as_bytes());
        message.extend_from_slice(body);
        self.0
            .verify_strict(&message, &ed25519_dalek::Signature::from_bytes(&signature))
            .is_ok()
    }
}

/// Exactly `N` bytes written as 2N hex digits.
fn from_hex<const N: usize>(hex: &str) -> Option<[u8; N]> {
    let hex = hex.as_bytes();
    if hex.len() != 2 * N || !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(out)
}

/// The verifier for a public key given as 64 hex digits (DISCORD_PUBLIC_KEY).
pub fn verifier(public_key_hex: &str) -> Result<Verifier, String> {
    let key = from_hex::<32>(public_key_hex.trim()).ok_or_else(|| {
        "DISCORD_PUBLIC_KEY must be 64 hex digits (the application's public key)".to_string()
    })?;
    ed25519_dalek::VerifyingKey::from_bytes(&key)
        .map(Verifier)
        .map_err(|e| format!("DISCORD_PUBLIC_KEY is not a valid key: {e}"))
}

fn respond(status: StatusCode, body: impl Into<Bytes>, json: bool) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    if json {
        r.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
    }
    r
}

fn unauthorized() -> Response<Full<Bytes>> {
    respond(StatusCode::UNAUTHORIZED, "invalid request signature", false)
}

/// Whether the signed timestamp (Unix seconds) is within `MAX_AGE` of now.
pub fn fresh(timestamp: &str, now: chrono::DateTime<chrono::Utc>) -> bool {
    timestamp
        .parse::<i64>()
        .is_ok_and(|t| (now.timestamp() - t).unsigned_abs() <= MAX_AGE.as_secs())
}

impl Endpoint {
    async fn answer(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let interaction = match self.signed_interaction(req).await {
            Ok(interaction) => interaction,
            Err(refused) => return refused,
        };
        let id = interaction["id"].as_str().unwrap_or_default();
        let first = self
            .seen
            .lock()
            .expect("not poisoned")
            .first_time(id, std::time::Instant::now());
        if !first || !self.first_in_cluster(id).await {
            tracing::warn!(interaction = id, "a replayed interaction was refused");
            return respond(StatusCode::CONFLICT, "already answered", false);
        }
        let kept = self.kept_answer(&interaction).await;
        if let Some((_, _, Some(body))) = kept {
            return respond(StatusCode::OK, body, true);
        }
        super::note_moderator_action(&self.rest, &interaction);
        let handled = super::handle(&self.ctx, &interaction).await;
        if let Some(f) = handled.follow_up {
            self.follow_up(f);
        }
        let body = Bytes::from(handled.response.to_string());
        if let (Some((atlas, line, None)), true) = (kept, handled.reusable) {
            let mut answers = self.answers.lock().expect("not poisoned");
            answers.keep(&atlas, line, body.clone());
        }
        respond(StatusCode::OK, body, true)
    }

    /// The interaction a request carries, once it is proven Discord's and recent: a POST,
    /// signed, within `MAX_BODY` and `body_timeout`, fresh, JSON. Otherwise the refusal.
    async fn signed_interaction(
        &self,
        req: Request<Incoming>,
    ) -> Result<serde_json::Value, Response<Full<Bytes>>> {
        if req.method() != hyper::Method::POST {
            return Err(respond(
                StatusCode::METHOD_NOT_ALLOWED,
                "POST interactions here",
                false,
            ));
        }
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let (Some(signature), Some(timestamp)) = (
            header("x-signature-ed25519"),
            header("x-signature-timestamp"),
        ) else {
            return Err(unauthorized());
        };
        let body = Limited::new(req.into_body(), MAX_BODY).collect();
        let body = match tokio::time::timeout(self.limits.body_timeout, body).await {
            Ok(Ok(b)) => b.to_bytes(),
            Ok(Err(_)) => return Err(respond(StatusCode::PAYLOAD_TOO_LARGE, "too large", false)),
            Err(_) => return Err(respond(StatusCode::REQUEST_TIMEOUT, "too slow", false)),
        };
        if !fresh(&timestamp, self.ctx.clock.now())
            || !self.verifier.verify(&signature, &timestamp, &body)
        {
            return Err(unauthorized());
        }
        serde_json::from_slice::<serde_json::Value>(&body)
            .map_err(|_| respond(StatusCode::BAD_REQUEST, "not JSON", false))
    }

    /// Whether no replica sharing this store has seen the interaction (replicas behind a load
    /// balancer share the runtime store on PostgreSQL). A store that cannot tell refuses
    /// nothing: the signature and freshness checks still hold.
    async fn first_in_cluster(&self, id: &str) -> bool {
        if !self.ctx.store.shared_by_hosts() {
            return true;
        }
        let now = self.ctx.clock.now();
        let window = chrono::Duration::from_std(MAX_AGE * 2).unwrap_or_default();
        match self
            .ctx
            .store
            .first_sight_of_interaction(id, now, now - window)
            .await
        {
            Ok(first) => first,
            Err(e) => {
                tracing::error!(error = %e, "cannot record an interaction id");
                true
            }
        }
    }

    /// For a lookup: the atlas it is answered from, its line, and the answer given to the
    /// same line before, if any. Read before answering: should a newer atlas arrive in
    /// between, the answer is kept under the older one, and the next request, seeing the
    /// newer atlas, empties the cache.
    async fn kept_answer(
        &self,
        interaction: &serde_json::Value,
    ) -> Option<(Arc<crate::atlas::Atlas>, String, Option<Bytes>)> {
        if !self.keep_answers {
            return None;
        }
        let line = super::lookup_line(interaction)?;
        let atlas = self.ctx.atlas().await.ok()?;
        let kept = self
            .answers
            .lock()
            .expect("not poisoned")
            .get(&atlas, &line);
        Some((atlas, line, kept))
    }
}

/// Serves until `shutdown` turns true. HTTP/1.1 with keep-alive (Discord reuses connections);
/// with calendars, their pages and feeds on the same listener (`platform::web`).
pub async fn serve(
    listener: TcpListener,
    endpoint: Arc<Endpoint>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let limits = endpoint.limits.clone();
    crate::platform::http::serve(listener, limits, endpoint.clone(), shutdown).await;
    endpoint.finish_follow_ups().await;
}

impl crate::platform::http::Handler for Endpoint {
    fn handle(
        &self,
        req: Request<Incoming>,
        peer: std::net::IpAddr,
    ) -> crate::platform::http::Answer<'_> {
        Box::pin(async move {
            match &self.calendars {
                Some(c) if req.uri().path().starts_with(crate::platform::web::PREFIX) => {
                    c.answer(&req, peer).await
                }
                _ => self.answer(req).await,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_older_or_newer_than_five_minutes_are_stale() {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        assert!(fresh("1800000000", now));
        assert!(fresh("1799999700", now));
        assert!(!fresh("1799999699", now));
        assert!(!fresh("1800000301", now));
        assert!(!fresh("yesterday", now));
        assert!(!fresh("", now));
    }

    #[test]
    fn an_interaction_id_is_acted_on_once_within_the_freshness_window() {
        let mut seen = Seen::default();
        let t0 = std::time::Instant::now();
        assert!(seen.first_time("1", t0));
        assert!(!seen.first_time("1", t0 + Duration::from_secs(60)));
        assert!(seen.first_time("2", t0 + Duration::from_secs(61)));
        // Past the window, the id is forgotten (a stale request fails the age check anyway).
        assert!(seen.first_time("1", t0 + MAX_AGE + Duration::from_secs(1)));
        assert!(seen.ids.len() <= 2, "old ids are dropped");
    }

    #[test]
    fn public_keys_are_checked_with_a_clear_message() {
        assert!(verifier("xyz").err().unwrap().contains("64 hex digits"));
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let hex: String = key
            .verifying_key()
            .to_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(verifier(&hex).is_ok());
    }
}
