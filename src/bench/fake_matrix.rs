//! A stand-in Matrix homeserver on loopback, for `bench delivery --platform matrix` and the
//! tests: it answers after a set latency, throttles messages as a homeserver does (a rate per
//! second for the bot's account, refusals as `M_LIMIT_EXCEEDED` with `retry_after_ms`), fails
//! a share of sends with a 500 or a proxy's 502 page, and keeps each room's events by
//! transaction id as the specification says — so a retry is the same event, and what arrives
//! twice under two ids is counted. Rooms are unencrypted (their encryption state is 404).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};

/// How the stand-in misbehaves.
#[derive(Debug, Clone)]
pub struct Trouble {
    pub latency: Duration,
    /// Messages per second the account may send before `M_LIMIT_EXCEEDED`.
    pub per_second: u32,
    /// One send in this many fails (0: none): half with a 500 before the event is kept, half
    /// with a proxy's 502 page after it is (the answer lost on the way back).
    pub fail_one_in: u64,
}

/// What the stand-in saw.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    pub requests: u64,
    /// Events kept, by (room, transaction id): when the first was accepted, and its body.
    pub events: HashMap<(String, String), (Instant, String)>,
    /// Sends repeated under a transaction id already kept (retries: the same event).
    pub repeated: u64,
    pub limited: u64,
    pub failed: u64,
}

#[derive(Default)]
struct State {
    second: Option<(Instant, u32)>,
    sends: u64,
    seen: Seen,
}

pub struct FakeHomeserver {
    trouble: Trouble,
    state: Mutex<State>,
    pub base: String,
}

impl FakeHomeserver {
    pub async fn start(trouble: Trouble) -> std::io::Result<Arc<FakeHomeserver>> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let hs = Arc::new(FakeHomeserver {
            trouble,
            state: Mutex::default(),
            base,
        });
        super::serve_stand_in(listener, hs.clone());
        Ok(hs)
    }

    pub fn seen(&self) -> Seen {
        self.state().seen.clone()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn answer(&self, req: hyper::Request<hyper::body::Incoming>) -> (u16, String) {
        let path = req.uri().path().to_string();
        let body = req.into_body().collect().await.map(|b| b.to_bytes());
        let body: Value = body
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        self.state().seen.requests += 1;
        tokio::time::sleep(self.trouble.latency).await;
        if path.contains("/state/") {
            return (
                404,
                json!({"errcode": "M_NOT_FOUND", "error": "no such state"}).to_string(),
            );
        }
        match send_target(&path) {
            Some((room, txn)) => self.send(room, txn, &body),
            None => (200, "{}".into()),
        }
    }

    /// A message sent into a room: throttled, failed now and then, else kept once per id.
    fn send(&self, room: String, txn: String, body: &Value) -> (u16, String) {
        let now = Instant::now();
        let mut s = self.state();
        if s.seen.events.contains_key(&(room.clone(), txn.clone())) {
            s.seen.repeated += 1;
            return (200, json!({"event_id": format!("${txn}")}).to_string());
        }
        if let Some(wait) = self.throttled(&mut s, now) {
            s.seen.limited += 1;
            let body = json!({"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests", "retry_after_ms": wait.as_millis() as u64});
            return (429, body.to_string());
        }
        s.sends += 1;
        let one_in = self.trouble.fail_one_in;
        let fails = one_in > 0 && s.sends.is_multiple_of(one_in);
        if fails && !s.sends.is_multiple_of(2 * one_in) {
            s.seen.failed += 1;
            let body = json!({"errcode": "M_UNKNOWN", "error": "Internal server error"});
            return (500, body.to_string());
        }
        let text = body["body"].as_str().unwrap_or_default().to_string();
        s.seen.events.insert((room, txn.clone()), (now, text));
        if fails {
            // Kept, but the proxy in front lost the answer: the sender cannot tell, and tries
            // again — under the same transaction id, which finds the event kept.
            s.seen.failed += 1;
            return (502, "<html><body>502 Bad Gateway</body></html>".into());
        }
        (200, json!({"event_id": format!("${txn}")}).to_string())
    }

    /// Whether this second's messages are spent; if so, how long until the next.
    fn throttled(&self, s: &mut State, now: Instant) -> Option<Duration> {
        let (start, used) = match s.second {
            Some((start, used)) if now < start + Duration::from_secs(1) => (start, used),
            _ => (now, 0),
        };
        if used >= self.trouble.per_second {
            return Some(start + Duration::from_secs(1) - now);
        }
        s.second = Some((start, used + 1));
        None
    }
}

/// (room, transaction id) of `PUT …/rooms/{room}/send/{type}/{txn}`.
fn send_target(path: &str) -> Option<(String, String)> {
    let rest = path.split("/rooms/").nth(1)?;
    let mut parts = rest.split('/');
    let room = parts.next()?;
    (parts.next()? == "send").then_some(())?;
    let _kind = parts.next()?;
    let txn = parts.next()?;
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map_or_else(|| s.to_string(), |(_, v)| v.into_owned())
    };
    Some((decode(room), decode(txn)))
}

impl crate::platform::http::Handler for FakeHomeserver {
    fn handle(
        &self,
        req: hyper::Request<hyper::body::Incoming>,
        _: std::net::IpAddr,
    ) -> crate::platform::http::Answer<'_> {
        Box::pin(async move {
            let (status, body) = self.answer(req).await;
            let mut r = hyper::Response::new(Full::new(Bytes::from(body)));
            *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
            r
        })
    }
}
