//! A stand-in for Discord's REST API on loopback, for `bench delivery`: it answers after a set
//! latency and enforces Discord's limits the way Discord does — a global limit of requests per
//! second for the whole bot, and per-route buckets (messages per channel, direct-message
//! openings) — with Discord's headers (`X-RateLimit-*`, `Retry-After`) and 429 bodies. It counts
//! every message by its nonce, so a reminder sent twice is seen, and when each arrived, so the
//! bench measures lag from the due time to the message reaching Discord.
//!
//! It must not be kind: limits are counted when a request arrives (as Discord counts them),
//! whatever the client believed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};

/// The limits the stand-in enforces.
#[derive(Debug, Clone)]
pub struct Limits {
    /// How long every answer takes (Discord answers in about 50–300 ms).
    pub latency: Duration,
    /// Requests per second for the whole bot (Discord: 50).
    pub global_per_second: u32,
    /// Messages per channel per window (Discord: 5 per 5 s).
    pub channel_messages: (u32, Duration),
    /// Direct-message channels opened per window (one bucket for the route).
    pub dm_opens: (u32, Duration),
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            latency: Duration::from_millis(100),
            global_per_second: 50,
            channel_messages: (5, Duration::from_secs(5)),
            dm_opens: (50, Duration::from_secs(1)),
        }
    }
}

/// What the stand-in saw.
#[derive(Debug, Default, Clone)]
pub struct Counts {
    pub requests: u64,
    /// Messages accepted, by nonce: when the first one was answered.
    pub messages: HashMap<String, Instant>,
    /// Messages accepted under a nonce already seen (a reminder sent twice).
    pub duplicates: u64,
    /// 429s for the global limit, with when each was answered.
    pub global_429: Vec<Instant>,
    /// 429s for a route's bucket.
    pub route_429: u64,
    pub dm_opens: u64,
}

/// One bucket: when it resets, and how many requests it has left until then.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    reset_at: Instant,
    remaining: u32,
}

#[derive(Default)]
struct State {
    /// The current global second: when it started, and requests in it.
    second: Option<(Instant, u32)>,
    buckets: HashMap<String, Bucket>,
    counts: Counts,
    /// Who is Interested in each Scheduled Event (by id).
    interested: HashMap<String, Vec<String>>,
}

/// The stand-in server; `base` is what `DISCORD_API_BASE` would be.
pub struct FakeDiscord {
    limits: Limits,
    state: Mutex<State>,
    pub base: String,
}

/// How a request fared against the limits.
enum Verdict {
    Pass(Option<(String, Bucket, u32)>),
    Global(Duration),
    Route(String, Duration),
}

impl FakeDiscord {
    /// Starts serving on a loopback port of its own.
    pub async fn start(limits: Limits) -> std::io::Result<Arc<FakeDiscord>> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}/api/v10", listener.local_addr()?);
        let fake = Arc::new(FakeDiscord {
            limits,
            state: Mutex::new(State::default()),
            base,
        });
        super::serve_stand_in(listener, fake.clone());
        Ok(fake)
    }

    /// Says who is Interested in Scheduled Event `id`.
    pub fn set_interested(&self, id: &str, users: Vec<String>) {
        self.state().interested.insert(id.to_string(), users);
    }

    pub fn counts(&self) -> Counts {
        self.state().counts.clone()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn answer(
        &self,
        req: hyper::Request<hyper::body::Incoming>,
    ) -> hyper::Response<Full<Bytes>> {
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let body = match req.into_body().collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => Bytes::new(),
        };
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let verdict = self.judge(&method, &path);
        tokio::time::sleep(self.limits.latency).await;
        match verdict {
            Verdict::Global(wait) => self.too_many(true, None, wait),
            Verdict::Route(hash, wait) => self.too_many(false, Some(hash), wait),
            Verdict::Pass(bucket) => {
                let answer = self.act(&method, &path, &body);
                with_bucket(json_response(200, &answer), bucket)
            }
        }
    }

    /// Counts the request against the global second and its route's bucket.
    fn judge(&self, method: &hyper::Method, path: &str) -> Verdict {
        let now = Instant::now();
        let mut s = self.state();
        s.counts.requests += 1;
        let (start, used) = match s.second {
            Some((start, used)) if now < start + Duration::from_secs(1) => (start, used),
            _ => (now, 0),
        };
        if used >= self.limits.global_per_second {
            return Verdict::Global(start + Duration::from_secs(1) - now);
        }
        s.second = Some((start, used + 1));
        let Some((key, hash, (limit, per))) = self.route(method, path) else {
            return Verdict::Pass(None);
        };
        let bucket = s.buckets.entry(key).or_insert(Bucket {
            reset_at: now + per,
            remaining: limit,
        });
        if now >= bucket.reset_at {
            *bucket = Bucket {
                reset_at: now + per,
                remaining: limit,
            };
        }
        if bucket.remaining == 0 {
            return Verdict::Route(hash, bucket.reset_at - now);
        }
        bucket.remaining -= 1;
        Verdict::Pass(Some((hash, *bucket, limit)))
    }

    /// The bucket a request counts against: (key, Discord's bucket hash, limit).
    fn route(
        &self,
        method: &hyper::Method,
        path: &str,
    ) -> Option<(String, String, (u32, Duration))> {
        let rest = path.strip_prefix("/api/v10")?;
        if method == hyper::Method::POST && rest == "/users/@me/channels" {
            return Some(("dm".into(), "b0dm".into(), self.limits.dm_opens));
        }
        let channel = rest.strip_prefix("/channels/")?.strip_suffix("/messages")?;
        (method == hyper::Method::POST).then(|| {
            (
                format!("messages:{channel}"),
                "b1messages".into(),
                self.limits.channel_messages,
            )
        })
    }

    /// What an accepted request does and answers.
    fn act(&self, method: &hyper::Method, path: &str, body: &Value) -> Value {
        let mut s = self.state();
        if path.ends_with("/users/@me/channels") {
            s.counts.dm_opens += 1;
            let user: u64 = body["recipient_id"]
                .as_str()
                .and_then(|u| u.parse().ok())
                .unwrap_or(0);
            return json!({"id": (user % 100_000_000_000_000_000 + 800_000_000_000_000_000).to_string(), "type": 1});
        }
        if method == hyper::Method::POST && path.ends_with("/messages") {
            let nonce = body["nonce"].as_str().unwrap_or_default().to_string();
            match s.counts.messages.entry(nonce) {
                std::collections::hash_map::Entry::Occupied(_) => s.counts.duplicates += 1,
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(Instant::now());
                }
            }
            return json!({"id": "999000000000000999"});
        }
        if let Some(event) = path
            .strip_suffix("/users")
            .and_then(|p| p.rsplit('/').next())
        {
            let users = s.interested.get(event).cloned().unwrap_or_default();
            return Value::Array(
                users
                    .into_iter()
                    .map(|u| json!({"user": {"id": u}}))
                    .collect(),
            );
        }
        json!({})
    }

    /// Discord's 429: its body, `Retry-After` and the scope of the limit.
    fn too_many(
        &self,
        global: bool,
        hash: Option<String>,
        wait: Duration,
    ) -> hyper::Response<Full<Bytes>> {
        let mut s = self.state();
        if global {
            s.counts.global_429.push(Instant::now());
        } else {
            s.counts.route_429 += 1;
        }
        let body = json!({"message": "You are being rate limited.", "retry_after": wait.as_secs_f64(), "global": global});
        let mut r = json_response(429, &body);
        let h = r.headers_mut();
        h.insert(
            "retry-after",
            header(&wait.as_secs_f64().ceil().to_string()),
        );
        h.insert(
            "x-ratelimit-scope",
            header(if global { "global" } else { "user" }),
        );
        if global {
            h.insert("x-ratelimit-global", header("true"));
        }
        if let Some(hash) = hash {
            h.insert("x-ratelimit-bucket", header(&hash));
            h.insert("x-ratelimit-remaining", header("0"));
            h.insert(
                "x-ratelimit-reset-after",
                header(&format!("{:.3}", wait.as_secs_f64())),
            );
        }
        r
    }
}

/// A route's headers on an accepted request: Discord's, from the bucket as it stands.
fn with_bucket(
    mut r: hyper::Response<Full<Bytes>>,
    bucket: Option<(String, Bucket, u32)>,
) -> hyper::Response<Full<Bytes>> {
    let Some((hash, bucket, limit)) = bucket else {
        return r;
    };
    let after = bucket.reset_at.saturating_duration_since(Instant::now());
    let epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        + after;
    let h = r.headers_mut();
    h.insert("x-ratelimit-bucket", header(&hash));
    h.insert("x-ratelimit-limit", header(&limit.to_string()));
    h.insert(
        "x-ratelimit-remaining",
        header(&bucket.remaining.to_string()),
    );
    h.insert(
        "x-ratelimit-reset",
        header(&format!("{:.3}", epoch.as_secs_f64())),
    );
    h.insert(
        "x-ratelimit-reset-after",
        header(&format!("{:.3}", after.as_secs_f64())),
    );
    r
}

fn header(v: &str) -> hyper::header::HeaderValue {
    hyper::header::HeaderValue::from_str(v).unwrap_or(hyper::header::HeaderValue::from_static(""))
}

fn json_response(status: u16, body: &Value) -> hyper::Response<Full<Bytes>> {
    let mut r = hyper::Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    r.headers_mut()
        .insert(hyper::header::CONTENT_TYPE, header("application/json"));
    r
}

impl crate::platform::http::Handler for FakeDiscord {
    fn handle(
        &self,
        req: hyper::Request<hyper::body::Incoming>,
        _: std::net::IpAddr,
    ) -> crate::platform::http::Answer<'_> {
        Box::pin(self.answer(req))
    }
}
