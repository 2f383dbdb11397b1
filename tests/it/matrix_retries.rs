//! The Matrix client against a homeserver that throttles and fails (a stand-in on loopback,
//! no Synapse needed): a send is retried on 5xx, a proxy's error page and `M_LIMIT_EXCEEDED`
//! (waiting its `retry_after_ms`) under the same transaction id, so the room gets it once; a
//! request that is not safe to repeat (a POST that creates a room) is not retried on a 5xx.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use atlasbot::platform::http::{serve, Answer, Handler, Limits};
use bytes::Bytes;
use http_body_util::Full;
use serde_json::{json, Value};

/// A homeserver that answers each request from a script of (status, body) before it answers
/// as a homeserver does, and keeps sent events by transaction id, as the spec says it must.
#[derive(Default)]
struct Homeserver {
    script: Mutex<VecDeque<(u16, String)>>,
    seen: Mutex<Vec<(String, String, Instant)>>,
    events: Mutex<HashMap<String, String>>,
}

impl Homeserver {
    async fn start(script: Vec<(u16, &str)>) -> (Arc<Homeserver>, String) {
        let hs = Arc::new(Homeserver {
            script: Mutex::new(
                script
                    .into_iter()
                    .map(|(s, b)| (s, b.to_string()))
                    .collect(),
            ),
            ..Homeserver::default()
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        // Served by the bot's own HTTP server until the test ends (the sender kept by the task).
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        let server = hs.clone();
        tokio::spawn(async move {
            let _stop = stop;
            serve(listener, Limits::default(), server, shutdown).await;
        });
        (hs, base)
    }

    fn answer(&self, req: &hyper::Request<hyper::body::Incoming>) -> hyper::Response<Full<Bytes>> {
        let (method, path) = (req.method().to_string(), req.uri().path().to_string());
        self.seen
            .lock()
            .unwrap()
            .push((method, path.clone(), Instant::now()));
        let (status, body) = match self.script.lock().unwrap().pop_front() {
            Some(scripted) => scripted,
            None => (200, self.accept(&path).to_string()),
        };
        let mut r = hyper::Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
        r
    }

    /// A send is kept once per transaction id; the same id answers the same event.
    fn accept(&self, path: &str) -> Value {
        let Some(txn) = path.rsplit('/').next().filter(|_| path.contains("/send/")) else {
            return json!({"room_id": "!new:x"});
        };
        let mut events = self.events.lock().unwrap();
        let n = events.len();
        let id = events
            .entry(txn.to_string())
            .or_insert_with(|| format!("$event{n}"));
        json!({"event_id": id})
    }
}

impl Handler for Homeserver {
    fn handle(
        &self,
        req: hyper::Request<hyper::body::Incoming>,
        _: std::net::IpAddr,
    ) -> Answer<'_> {
        let answer = self.answer(&req);
        Box::pin(async move { answer })
    }
}

#[tokio::test]
async fn a_send_the_homeserver_fails_is_retried_under_its_transaction_id_and_lands_once() {
    let (hs, base) = Homeserver::start(vec![
        (502, "<html>Bad gateway</html>"),
        (
            500,
            r#"{"errcode":"M_UNKNOWN","error":"database is locked"}"#,
        ),
        (
            429,
            r#"{"errcode":"M_LIMIT_EXCEEDED","error":"Too many","retry_after_ms":300}"#,
        ),
    ])
    .await;
    let client = atlasbot::platform::matrix::client::Client::new(&base)
        .unwrap()
        .with_token("token".into());
    let content = json!({"msgtype": "m.notice", "body": "Reminder: Study session"});
    let started = Instant::now();
    let id = client
        .send("!room:x", "m.room.message", "reminder-key-1", &content)
        .await
        .expect("delivered after the failures");
    // Sent again later (the scheduler retrying the reminder): the same event, not a second.
    let again = client
        .send("!room:x", "m.room.message", "reminder-key-1", &content)
        .await
        .unwrap();
    assert_eq!(id, again);
    let seen = hs.seen.lock().unwrap().clone();
    assert_eq!(
        seen.len(),
        5,
        "three failures, the send, the repeat: {seen:?}"
    );
    assert!(
        seen.iter()
            .all(|(m, p, _)| m == "PUT" && p.ends_with("/send/m.room.message/reminder-key-1")),
        "every try under the same transaction id: {seen:?}"
    );
    assert_eq!(hs.events.lock().unwrap().len(), 1, "the room has it once");
    // The 429's retry_after_ms was waited out before the try that followed it.
    assert!(seen[3].2 - seen[2].2 >= Duration::from_millis(300));
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn a_request_that_is_not_safe_to_repeat_is_not_retried_on_a_server_error() {
    let (hs, base) = Homeserver::start(vec![(500, r#"{"errcode":"M_UNKNOWN"}"#)]).await;
    let client = atlasbot::platform::matrix::client::Client::new(&base)
        .unwrap()
        .with_token("token".into());
    let created = client.create_direct_room("@ann:x", false).await;
    assert_eq!(created.unwrap_err().status(), Some(500));
    assert_eq!(hs.seen.lock().unwrap().len(), 1, "one POST, not repeated");
}

/// Reminders due together in many rooms, through the scheduler and the Matrix client, to a
/// homeserver that throttles the account (`M_LIMIT_EXCEEDED`) and fails one send in five —
/// half before keeping the event, half after (the answer lost): every reminder arrives, once.
#[tokio::test(flavor = "multi_thread")]
async fn reminders_through_a_throttling_failing_homeserver_arrive_once_each() {
    use atlasbot::bench::delivery_matrix::{measure, MatrixShape};
    use atlasbot::bench::fake_matrix::Trouble;
    let shape = MatrixShape {
        rooms: 12,
        reminders: 60,
        trouble: Trouble {
            latency: Duration::from_millis(10),
            per_second: 30,
            fail_one_in: 5,
        },
        lanes: atlasbot::scheduler::LANES,
    };
    let o = measure(&shape).await.unwrap();
    assert_eq!(o.lags.len(), 60, "every reminder arrived: {o:?}");
    assert_eq!(o.twice, 0, "none twice: {o:?}");
    assert!(o.limited > 0, "the homeserver did throttle: {o:?}");
    assert!(o.failed > 0, "the homeserver did fail: {o:?}");
    assert!(
        o.repeated > 0,
        "a lost answer was retried into the kept event: {o:?}"
    );
}
