//! Discord without Discord: the interactions endpoint over real HTTP on loopback, signed with a
//! test Ed25519 key, and the REST side (reminders, follow-ups, registration) against a small
//! fake Discord API on loopback that records what it receives and answers as told.

use atlasbot::domain::{Platform, SpaceId};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use atlasbot::commands::{self, spec, Caller, CommandName, Context};
use atlasbot::platform::discord::{self, endpoint, rest::Rest, DiscordOutbox};
use atlasbot::render::discord::check_limits;
use atlasbot::scheduler::{Clock, Scheduler};
use bytes::Bytes;
use ed25519_dalek::{Signer, SigningKey};
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};

use crate::support::{self, TempDb};

// ---------------------------------------------------------------------------------------------
// A fake Discord REST API.

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    authorization: Option<String>,
    content_type: String,
    body: String,
    at: Instant,
}

impl Seen {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// Answers to give, in order, to requests whose path contains the key.
type Script = Vec<(String, VecDeque<(u16, Value)>)>;

/// Records every request; answers from a queue of (status, body) per path, else 200.
#[derive(Default)]
struct FakeDiscord {
    seen: Mutex<Vec<Seen>>,
    scripted: Mutex<Script>,
}

impl FakeDiscord {
    async fn start() -> (Arc<FakeDiscord>, String) {
        let fake = Arc::new(FakeDiscord::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/api/v10", listener.local_addr().unwrap());
        let server = fake.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let server = server.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let server = server.clone();
                        async move { Ok::<_, Infallible>(server.answer(req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        (fake, base)
    }

    /// The next requests to paths containing `path` get these answers, in order.
    fn script(&self, path: &str, answers: Vec<(u16, Value)>) {
        self.scripted
            .lock()
            .unwrap()
            .push((path.to_string(), answers.into()));
    }

    /// Forgets what was scripted for `path` (Discord answers normally again).
    fn unscript(&self, path: &str) {
        self.scripted.lock().unwrap().retain(|(p, _)| p != path);
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn seen_at(&self, path: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.path.contains(path))
            .collect()
    }

    async fn answer(
        &self,
        req: hyper::Request<hyper::body::Incoming>,
    ) -> hyper::Response<Full<Bytes>> {
        let method = req.method().to_string();
        let path = req.uri().path().to_string();
        let header = |n: &str| {
            req.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let authorization = header("authorization");
        let content_type = header("content-type").unwrap_or_default();
        let body = req.into_body().collect().await.unwrap().to_bytes();
        self.seen.lock().unwrap().push(Seen {
            method: method.clone(),
            path: path.clone(),
            authorization,
            content_type,
            body: String::from_utf8_lossy(&body).into_owned(),
            at: Instant::now(),
        });
        let scripted = {
            let mut all = self.scripted.lock().unwrap();
            all.iter_mut()
                .find(|(p, q)| path.contains(p.as_str()) && !q.is_empty())
                .and_then(|(_, q)| q.pop_front())
        };
        let (status, body) = scripted.unwrap_or_else(|| {
            let body = if path.ends_with("/users/@me/channels") {
                json!({"id": "333000000000000333", "type": 1})
            } else if path.contains("/commands") {
                serde_json::from_slice::<Value>(&body).unwrap_or(json!([]))
            } else {
                json!({"id": "999000000000000999"})
            };
            (200, body)
        });
        // A string is sent as it is (a file); anything else as JSON.
        let text = match &body {
            Value::String(raw) => raw.clone(),
            other => other.to_string(),
        };
        let mut r = hyper::Response::new(Full::new(Bytes::from(text)));
        *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
        r.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
        r
    }
}

// ---------------------------------------------------------------------------------------------
// The endpoint, in this process, over real HTTP.

const GUILD: &str = "100000000000000001";
const CHANNEL: &str = "111000000000000111";
const APP: &str = "456000000000000456";
const MEMBER: &str = "200000000000000002";
const MANAGE_EVENTS: u64 = 1 << 33;

fn key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

struct Endpoint {
    url: String,
    http: reqwest::Client,
    fake: Arc<FakeDiscord>,
    fake_base: String,
    ctx: Context,
    _db: TempDb,
}

impl Endpoint {
    async fn start() -> Endpoint {
        Endpoint::start_with(endpoint::Limits::default()).await
    }

    async fn start_with(limits: endpoint::Limits) -> Endpoint {
        let db = TempDb::new();
        let ctx = db.context().await;
        Endpoint::start_on(db, ctx, limits).await
    }

    /// An endpoint answering from `ctx` (whose store may be shared with other endpoints).
    async fn start_on(db: TempDb, ctx: Context, limits: endpoint::Limits) -> Endpoint {
        let (fake, base) = FakeDiscord::start().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/interactions", listener.local_addr().unwrap());
        let mut ep = endpoint::Endpoint::new(
            ctx.clone(),
            endpoint::verifier(&hex(key().verifying_key().as_bytes())).unwrap(),
            Arc::new(Rest::new(&base, None)),
        );
        ep.limits = limits;
        let ep = Arc::new(ep);
        let fake_base = base.clone();
        let (_stop, stopped) = tokio::sync::watch::channel(false);
        std::mem::forget(_stop);
        tokio::spawn(endpoint::serve(listener, ep, stopped));
        Endpoint {
            url,
            http: reqwest::Client::new(),
            fake,
            fake_base,
            ctx,
            _db: db,
        }
    }

    /// Posts `body` signed by `signer` with the given timestamp.
    async fn post_signed(&self, body: &str, signer: &SigningKey, timestamp: i64) -> (u16, Value) {
        let ts = timestamp.to_string();
        let signature = signer.sign(format!("{ts}{body}").as_bytes());
        let resp = self
            .http
            .post(&self.url)
            .header("X-Signature-Ed25519", hex(&signature.to_bytes()))
            .header("X-Signature-Timestamp", ts)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, interaction: &Value) -> Value {
        let (status, v) = self
            .post_signed(
                &interaction.to_string(),
                &key(),
                self.ctx.clock.now().timestamp(),
            )
            .await;
        assert_eq!(status, 200, "{v}");
        if let Some(data) = v.get("data") {
            if data.get("embeds").is_some() {
                check_limits(data).unwrap_or_else(|e| panic!("{e}: {data:#}"));
            }
        }
        v
    }
}

fn member(permissions: u64) -> Value {
    json!({"user": {"id": MEMBER, "username": "member"}, "roles": [], "permissions": permissions.to_string()})
}

/// A new interaction id each time, as Discord gives (the endpoint refuses a replayed one).
fn next_id() -> String {
    static NEXT: std::sync::atomic::AtomicU64 =
        std::sync::atomic::AtomicU64::new(300_000_000_000_000_003);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        .to_string()
}

fn interaction(kind: u64, data: Value, permissions: u64) -> Value {
    json!({
        "id": next_id(),
        "application_id": APP,
        "type": kind,
        "token": "aW50ZXJhY3Rpb24tdG9rZW4",
        "version": 1,
        "guild_id": GUILD,
        "channel_id": CHANNEL,
        "member": member(permissions),
        "data": data,
    })
}

/// A command interaction for a typed line, built from its bound options as Discord would.
fn command_from_line(line: &str, permissions: u64) -> Value {
    let inv = commands::invocation::parse(line).unwrap();
    let manifest = spec::manifest(inv.command);
    let args = commands::invocation::bind(manifest, &inv).unwrap();
    let option_specs = match &args.subcommand {
        Some(s) => &manifest.subcommand(s).unwrap().options,
        None => &manifest.options,
    };
    let mut options: Vec<Value> = option_specs
        .iter()
        .filter_map(|o| {
            args.get(&o.name).map(|v| match o.kind {
                spec::OptionKind::Integer => {
                    json!({"name": o.name, "type": 4, "value": v.parse::<i64>().unwrap()})
                }
                _ => json!({"name": o.name, "type": 3, "value": v}),
            })
        })
        .collect();
    if let Some(s) = &args.subcommand {
        options = vec![json!({"name": s, "type": 1, "options": options})];
    }
    interaction(
        2,
        json!({"id": "1", "name": manifest.name, "type": 1, "options": options}),
        permissions,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_endpoint_accepts_only_fresh_requests_signed_with_the_applications_key() {
    let ep = Endpoint::start().await;
    let ping = json!({"id": "1", "application_id": APP, "type": 1, "token": "t", "version": 1})
        .to_string();
    let now = chrono::Utc::now().timestamp();

    assert_eq!(
        ep.post_signed(&ping, &key(), now).await,
        (200, json!({"type": 1}))
    );
    let forger = SigningKey::from_bytes(&[8; 32]);
    assert_eq!(ep.post_signed(&ping, &forger, now).await.0, 401, "forged");
    // Well outside the 5-minute window (one second off the edge, a clock tick between `now`
    // and the endpoint's own reading would make them fresh: the edge is unit-tested in
    // `endpoint::fresh`).
    assert_eq!(
        ep.post_signed(&ping, &key(), now - 400).await.0,
        401,
        "stale"
    );
    assert_eq!(
        ep.post_signed(&ping, &key(), now + 400).await.0,
        401,
        "from the future"
    );
    // Another interaction (each has its own id): the same one again would be a replay.
    let another = ping.replace("\"id\":\"1\"", "\"id\":\"2\"");
    assert_ne!(another, ping);
    assert_eq!(
        ep.post_signed(&another, &key(), now - 290).await.0,
        200,
        "old but fresh"
    );
    assert_eq!(
        ep.post_signed(&another, &key(), now - 290).await.0,
        409,
        "replayed"
    );

    // Signed, then altered in transit.
    let ts = now.to_string();
    let signature = key().sign(format!("{ts}{ping}").as_bytes());
    let altered = ping.replace("\"type\":1", "\"type\":2");
    let resp = ep
        .http
        .post(&ep.url)
        .header("X-Signature-Ed25519", hex(&signature.to_bytes()))
        .header("X-Signature-Timestamp", &ts)
        .body(altered)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401, "altered body");

    for (sig, time) in [
        (None, Some(ts.clone())),
        (Some(hex(&signature.to_bytes())), None),
        (Some("zz".to_string()), Some(ts.clone())),
    ] {
        let mut req = ep.http.post(&ep.url).body(ping.clone());
        if let Some(s) = sig {
            req = req.header("X-Signature-Ed25519", s);
        }
        if let Some(t) = time {
            req = req.header("X-Signature-Timestamp", t);
        }
        assert_eq!(
            req.send().await.unwrap().status().as_u16(),
            401,
            "missing or malformed"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_command_example_answers_within_discords_limits() {
    let ep = Endpoint::start().await;
    // A moderator, so that moderator examples run too; the channel becomes the reminder one.
    for (command, manifest) in spec::manifests() {
        for example in &manifest.examples {
            if example.starts_with("/event import") {
                continue; // files on the server's disk are for the console only
            }
            let v = ep.post(&command_from_line(example, MANAGE_EVENTS)).await;
            let kind = v["type"].as_u64().unwrap();
            if command == CommandName::Event && example.starts_with("/event export") {
                assert_eq!(kind, 5, "{example}: deferred, answered by a follow-up");
                continue;
            }
            assert_eq!(kind, 4, "{example}: {v}");
            let embeds = v["data"]["embeds"].as_array().unwrap();
            assert!(!embeds.is_empty(), "{example}: {v}");
            assert_eq!(
                v["data"]["allowed_mentions"],
                json!({"parse": []}),
                "{example}"
            );
        }
    }
    // The deferred export's follow-up: the .ics file, as multipart, to the interaction's webhook.
    let start = Instant::now();
    while ep.fake.seen_at("/webhooks/").is_empty() && start.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let follow = ep.fake.seen_at("/webhooks/");
    assert!(!follow.is_empty(), "no follow-up");
    assert_eq!(
        follow[0].path,
        format!("/api/v10/webhooks/{APP}/aW50ZXJhY3Rpb24tdG9rZW4")
    );
    assert!(
        follow[0].content_type.starts_with("multipart/form-data"),
        "{}",
        follow[0].content_type
    );
    assert!(
        follow[0].body.contains("BEGIN:VCALENDAR"),
        "{}",
        follow[0].body
    );
    assert!(follow[0]
        .body
        .contains("\"allowed_mentions\":{\"parse\":[]}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_attached_calendar_is_imported_after_a_deferred_answer() {
    let ep = Endpoint::start().await;
    let base = ep.fake_base.clone();
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:town-hall-1@test\r\nDTSTAMP:20261101T000000Z\r\nDTSTART;TZID=Europe/Zurich:20271203T140000\r\nSUMMARY:Town hall on AI\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    ep.fake.script(
        "/attachments/cal.ics",
        vec![(200, Value::String(ics.into()))],
    );
    let mut i = interaction(
        2,
        json!({"id": "1", "name": "event", "type": 1,
               "options": [{"name": "import", "type": 1, "options": [{"name": "file", "type": 11, "value": "900"}]}],
               "resolved": {"attachments": {"900": {"id": "900", "filename": "cal.ics", "size": ics.len(), "url": format!("{base}/attachments/cal.ics")}}}}),
        MANAGE_EVENTS,
    );
    i["id"] = json!("300000000000000004");
    let v = ep.post(&i).await;
    assert_eq!(v["type"], 5, "deferred: {v}");
    assert_eq!(v["data"]["flags"], 64);
    let start = Instant::now();
    while ep.fake.seen_at("/webhooks/").is_empty() && start.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let follow = ep.fake.seen_at("/webhooks/");
    assert_eq!(follow.len(), 1, "{:#?}", ep.fake.seen());
    assert!(
        follow[0].body.contains("1 added, 0 updated, 0 skipped."),
        "{}",
        follow[0].body
    );
    check_limits(&follow[0].json()).unwrap();
    let out = atlasbot::render::plain::render(
        &commands::answer(
            &ep.ctx,
            &Caller {
                platform: Platform::Discord,
                space: SpaceId::discord(GUILD),
                user: MEMBER.into(),
                moderator: false,
                channel: None,
            },
            "/event show Town hall",
        )
        .await,
    );
    assert!(out.contains("Town hall on AI"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn answers_are_escaped_private_when_they_should_be_and_never_ping() {
    let ep = Endpoint::start().await;
    let v = ep.post(&command_from_line("/actor WIPO", 0)).await;
    let embed = &v["data"]["embeds"][0];
    assert_eq!(
        embed["title"],
        "World Intellectual Property Organization (WIPO)"
    );
    assert_eq!(embed["url"], "https://www.wipo.int/");
    assert!(v["data"].get("flags").is_none(), "an answer is public");

    let v = ep
        .post(&command_from_line("/actor Zzyzx Foundation", 0))
        .await;
    assert_eq!(v["data"]["flags"], 64, "not found: only the asker sees it");

    let v = ep.post(&command_from_line("/help", 0)).await;
    assert_eq!(v["data"]["flags"], 64, "help is private");

    // A moderator schedules an event whose title tries to ping everyone.
    let v = ep
        .post(&command_from_line(
            "/event add title:\"@everyone **party**\" when:\"tomorrow 10:00\"",
            MANAGE_EVENTS,
        ))
        .await;
    let title = v["data"]["embeds"][0]["title"].as_str().unwrap();
    assert!(!title.contains("@everyone"), "{title}");
    assert_eq!(v["data"]["allowed_mentions"], json!({"parse": []}));
    let reminders = v["data"]["embeds"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["name"] == "Reminders");
    assert!(
        reminders,
        "the first event adopts this channel for reminders: {v}"
    );
    let space = ep.ctx.store.space(&SpaceId::discord(GUILD)).await.unwrap();
    assert_eq!(space.reminder_target.as_deref(), Some(CHANNEL));
}

#[tokio::test(flavor = "multi_thread")]
async fn in_a_direct_message_the_person_has_a_space_of_their_own() {
    let ep = Endpoint::start().await;
    let dm = |line: &str| {
        let mut i = command_from_line(line, 0);
        let o = i.as_object_mut().unwrap();
        o.remove("guild_id");
        o.remove("member");
        o.insert(
            "user".into(),
            json!({"id": "700000000000000007", "username": "someone"}),
        );
        o.insert("channel_id".into(), json!("800000000000000008"));
        i
    };
    let v = ep.post(&dm("/actor ITU")).await;
    assert!(
        v["data"]["embeds"][0]["title"]
            .as_str()
            .unwrap()
            .contains("ITU"),
        "{v}"
    );
    let v = ep
        .post(&dm(
            "/event add title:\"My study session\" when:\"tomorrow 18:00\"",
        ))
        .await;
    assert!(
        v["data"]["embeds"][0]["title"]
            .as_str()
            .unwrap()
            .starts_with("Scheduled"),
        "{v}"
    );
    let space = ep
        .ctx
        .store
        .space(&SpaceId::discord("dm-700000000000000007"))
        .await
        .unwrap();
    assert_eq!(space.reminder_target.as_deref(), Some("800000000000000008"));
}

#[tokio::test(flavor = "multi_thread")]
async fn moderator_commands_check_the_members_permissions_not_the_ui() {
    let ep = Endpoint::start().await;
    let line = "/event add title:Standup when:\"tomorrow 09:00\"";
    let v = ep.post(&command_from_line(line, 0)).await;
    assert_eq!(v["data"]["flags"], 64);
    let text = v["data"]["embeds"][0]["description"].as_str().unwrap();
    assert!(
        text.starts_with("Only moderators of this space can use /event add"),
        "{text}"
    );

    for permissions in [MANAGE_EVENTS, 1 << 5, 1 << 3] {
        let v = ep.post(&command_from_line(line, permissions)).await;
        let title = v["data"]["embeds"][0]["title"].as_str().unwrap();
        assert!(
            title.starts_with("Scheduled: Standup"),
            "{permissions}: {v}"
        );
    }

    // The configured role counts too.
    ep.post(&command_from_line(
        "/settings moderators role:555000000000000555",
        MANAGE_EVENTS,
    ))
    .await;
    let mut with_role = command_from_line(line, 0);
    with_role["member"]["roles"] = json!(["555000000000000555"]);
    let v = ep.post(&with_role).await;
    assert!(
        v["data"]["embeds"][0]["title"]
            .as_str()
            .unwrap()
            .starts_with("Scheduled"),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn autocomplete_suggests_and_paging_buttons_work_from_their_custom_id() {
    let ep = Endpoint::start().await;
    let v = ep
        .post(&interaction(
            4,
            json!({"id": "1", "name": "actor", "type": 1, "options": [{"name": "name", "type": 3, "value": "WI", "focused": true}]}),
            0,
        ))
        .await;
    assert_eq!(v["type"], 8);
    let choices = v["data"]["choices"].as_array().unwrap();
    assert!(!choices.is_empty() && choices.len() <= 25);
    assert!(choices
        .iter()
        .all(|c| c["name"].as_str().unwrap().chars().count() <= 100));
    assert!(
        choices
            .iter()
            .any(|c| c["value"].as_str().unwrap().contains("WIPO")),
        "{choices:?}"
    );

    // A long list: the first page has a Next button whose custom_id is the command for page 2.
    let v = ep
        .post(&command_from_line("/who-works-on cybersecurity", 0))
        .await;
    let buttons = v["data"]["components"][0]["components"].as_array().unwrap();
    let next = buttons.iter().find(|b| b["label"] == "Next ▶").unwrap();
    let id = next["custom_id"].as_str().unwrap();
    assert!(id.chars().count() <= 100);
    let v = ep
        .post(&interaction(
            3,
            json!({"custom_id": id, "component_type": 2}),
            0,
        ))
        .await;
    assert_eq!(v["type"], 7, "the message is updated in place");
    assert!(
        v["data"].get("flags").is_none(),
        "an update keeps the message's visibility"
    );
    let footer = v["data"]["embeds"][0]["footer"]["text"].as_str().unwrap();
    assert!(footer.starts_with("Page 2 of"), "{footer}");
}

// ---------------------------------------------------------------------------------------------
// The REST side: reminders, registration.

struct Reminders {
    ctx: Context,
    fake: Arc<FakeDiscord>,
    outbox: DiscordOutbox,
    /// The interactions endpoint on the same state and clock (for clicks on reminders).
    ep: Endpoint,
}

impl Reminders {
    async fn new() -> Reminders {
        let db = TempDb::new();
        let mut ctx = db.context().await;
        ctx.set_clock(Clock::fixed("2026-12-01T09:00:00Z".parse().unwrap()));
        let (fake, base) = FakeDiscord::start().await;
        let outbox = DiscordOutbox {
            ctx: ctx.clone(),
            rest: Arc::new(Rest::new(&base, Some("test-token".into()))),
        };
        let ep = Endpoint::start_on(db, ctx.clone(), endpoint::Limits::default()).await;
        Reminders {
            ctx,
            fake,
            outbox,
            ep,
        }
    }

    async fn moderator_says(&self, line: &str) -> String {
        let caller = Caller {
            platform: Platform::Discord,
            space: SpaceId::discord(GUILD),
            user: MEMBER.into(),
            moderator: true,
            channel: Some(CHANNEL.into()),
        };
        atlasbot::render::plain::render(&commands::answer(&self.ctx, &caller, line).await)
    }

    /// An event at 10:00 with a reminder due at 09:00 (the fixed "now").
    async fn event_due_now(&self) {
        self.moderator_says("/settings offsets 1h").await;
        let out = self
            .moderator_says("/event add title:\"@here Standup\" when:\"2026-12-01 10:00\"")
            .await;
        assert!(out.starts_with("Scheduled:"), "{out}");
    }

    async fn tick(&self) -> usize {
        let s = Scheduler::new(
            Platform::Discord,
            self.ctx.store.clone(),
            self.ctx.clock.clone(),
            self.ctx.grace,
        );
        s.tick(&self.outbox).await.unwrap()
    }

    fn messages_to(&self, channel: &str) -> Vec<Seen> {
        self.fake.seen_at(&format!("/channels/{channel}/messages"))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn reminders_post_with_a_nonce_no_mentions_and_the_bot_token() {
    let r = Reminders::new().await;
    r.event_due_now().await;
    assert_eq!(r.tick().await, 1);
    let sent = r.messages_to(CHANNEL);
    assert_eq!(sent.len(), 1);
    let body = sent[0].json();
    assert_eq!(sent[0].method, "POST");
    assert_eq!(sent[0].authorization.as_deref(), Some("Bot test-token"));
    assert_eq!(body["enforce_nonce"], true);
    let nonce = body["nonce"].as_str().unwrap();
    assert!(nonce.len() <= 25 && !nonce.is_empty());
    assert_eq!(body["allowed_mentions"], json!({"parse": []}));
    let title = body["embeds"][0]["title"].as_str().unwrap();
    assert!(
        title.starts_with("Reminder: @\u{200B}here Standup"),
        "{title}"
    );
    check_limits(&body).unwrap();
    assert_eq!(r.tick().await, 0, "sent once");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_waits_retry_after_and_a_500_is_retried() {
    let r = Reminders::new().await;
    r.fake.script(
        "/messages",
        vec![
            (429, json!({"message": "You are being rate limited.", "retry_after": 0.4, "global": false})),
            (500, json!({"message": "oops"})),
        ],
    );
    r.event_due_now().await;
    assert_eq!(r.tick().await, 1);
    let sent = r.messages_to(CHANNEL);
    assert_eq!(sent.len(), 3, "429, 500, then 200");
    let waited = sent[1].at - sent[0].at;
    assert!(
        waited >= Duration::from_millis(400),
        "waited only {waited:?} after a 429"
    );
    assert_eq!(
        sent[0].json()["nonce"],
        sent[2].json()["nonce"],
        "the same nonce each time"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_403_disables_the_channel_and_tells_the_moderators() {
    let r = Reminders::new().await;
    r.fake.script(
        &format!("/channels/{CHANNEL}/messages"),
        vec![(403, json!({"message": "Missing Access", "code": 50001}))],
    );
    r.fake.script(
        &format!("/guilds/{GUILD}"),
        vec![(
            200,
            json!({"id": GUILD, "system_channel_id": "222000000000000222"}),
        )],
    );
    r.event_due_now().await;
    assert_eq!(r.tick().await, 0);
    assert_eq!(r.messages_to(CHANNEL).len(), 1, "not retried");
    let told = r.messages_to("222000000000000222");
    assert_eq!(told.len(), 1, "{:#?}", r.fake.seen());
    let body = told[0].json();
    assert!(
        body["embeds"][0]["title"]
            .as_str()
            .unwrap()
            .contains("was not sent"),
        "{body}"
    );
    let out = r.moderator_says("/settings").await;
    assert!(
        out.contains("off") || out.contains("gone") || out.contains("disabled"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn personal_reminders_come_by_direct_message() {
    let r = Reminders::new().await;
    r.event_due_now().await;
    r.moderator_says("/settings offsets 1d").await; // the channel's reminder is not due now
    let caller = Caller {
        platform: Platform::Discord,
        space: SpaceId::discord(GUILD),
        user: "700000000000000007".into(),
        moderator: false,
        channel: Some(CHANNEL.into()),
    };
    let out = atlasbot::render::plain::render(
        &commands::answer(&r.ctx, &caller, "/remind me 1 before:1h").await,
    );
    assert!(!out.starts_with("Only"), "{out}");
    assert_eq!(r.tick().await, 1);
    let dm = r.fake.seen_at("/users/@me/channels");
    assert_eq!(dm.len(), 1);
    assert_eq!(dm[0].json(), json!({"recipient_id": "700000000000000007"}));
    assert_eq!(r.messages_to("333000000000000333").len(), 1);
    assert!(r.messages_to(CHANNEL).is_empty());
}

#[test]
fn register_overwrites_the_commands_in_one_request() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (fake, base) = rt.block_on(FakeDiscord::start());
    let db = TempDb::new();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_atlasbot"))
        .args([
            "--db",
            db.path.to_str().unwrap(),
            "discord",
            "--api-base",
            &base,
            "register",
            "--guild",
            GUILD,
            "--application-id",
            APP,
        ])
        .env("DISCORD_TOKEN", "register-token")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", support::stderr(&out));
    assert!(support::stdout(&out).contains(&format!("commands in guild {GUILD}")));
    let seen = fake.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "PUT");
    assert_eq!(
        seen[0].path,
        format!("/api/v10/applications/{APP}/guilds/{GUILD}/commands")
    );
    assert_eq!(seen[0].authorization.as_deref(), Some("Bot register-token"));
    assert_eq!(seen[0].json(), discord::register::commands());
    // The token never shows in what the bot prints.
    assert!(!support::stderr(&out).contains("register-token"));
    assert!(!support::stdout(&out).contains("register-token"));
}

#[test]
fn discord_http_serves_signed_pings_and_stops_on_sigterm() {
    let db = TempDb::new();
    // The endpoint binds port 0 itself and says where it listens: no port picked and released
    // beforehand for another test to take.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_atlasbot"))
        .args([
            "--db",
            db.path.to_str().unwrap(),
            "discord-http",
            "--listen",
            "127.0.0.1:0",
        ])
        .env("DISCORD_PUBLIC_KEY", hex(key().verifying_key().as_bytes()))
        .env("DISCORD_APPLICATION_ID", APP)
        .env_remove("DISCORD_TOKEN")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let address = announced_address(child.stderr.take().unwrap());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let url = format!("http://{address}/");
        let http = reqwest::Client::new();
        let ping = json!({"id": "1", "application_id": APP, "type": 1, "token": "t", "version": 1})
            .to_string();
        let ts = chrono::Utc::now().timestamp().to_string();
        let signature = key().sign(format!("{ts}{ping}").as_bytes());
        let resp = http
            .post(&url)
            .header("X-Signature-Ed25519", hex(&signature.to_bytes()))
            .header("X-Signature-Timestamp", &ts)
            .body(ping.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        assert_eq!(resp.json::<Value>().await.unwrap(), json!({"type": 1}));
        let unsigned = http.post(&url).body(ping).send().await.unwrap();
        assert_eq!(unsigned.status().as_u16(), 401);
    });
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "still running after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // A key that is not one is a clear error at start-up, not a panic.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_atlasbot"))
        .args(["--db", db.path.to_str().unwrap(), "discord-http"])
        .env("DISCORD_PUBLIC_KEY", "not-a-key")
        .env("DISCORD_APPLICATION_ID", APP)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        support::stderr(&out).contains("DISCORD_PUBLIC_KEY must be 64 hex digits"),
        "{}",
        support::stderr(&out)
    );
}

/// The address a `discord-http` process announces on stderr once it listens ("… on
/// http://127.0.0.1:PORT"); the rest of stderr is drained in the background.
fn announced_address(stderr: std::process::ChildStderr) -> String {
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(stderr).lines();
    let address = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.split_once("endpoint on http://")
                .map(|(_, a)| a.to_string())
        })
        .expect("the endpoint announces where it listens");
    std::thread::spawn(move || lines.for_each(drop));
    address
}

// ---------------------------------------------------------------------------------------------
// The gateway, against a stand-in gateway on loopback (websocket, JSON, Discord's opcodes).

type GatewaySocket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// Accepts the bot's next websocket connection.
async fn accept_gateway(listener: &tokio::net::TcpListener) -> GatewaySocket {
    let (tcp, _) = tokio::time::timeout(Duration::from_secs(20), listener.accept())
        .await
        .expect("the bot connects to the gateway")
        .unwrap();
    tokio_tungstenite::accept_async(tcp).await.unwrap()
}

async fn gw_send(ws: &mut GatewaySocket, v: Value) {
    use futures_util::SinkExt;
    ws.send(tokio_tungstenite::tungstenite::Message::text(v.to_string()))
        .await
        .unwrap();
}

/// The next JSON payload the bot sends (its close frame, if it closes, as `{"close": code}`).
async fn gw_recv(ws: &mut GatewaySocket) -> Value {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let message = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("the bot says something")
            .expect("the connection is open")
            .unwrap();
        match message {
            Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
            Message::Close(f) => return json!({"close": f.map(|f| u16::from(f.code))}),
            _ => {}
        }
    }
}

fn hello(interval_ms: u64) -> Value {
    json!({"op": 10, "d": {"heartbeat_interval": interval_ms}, "s": null, "t": null})
}

fn dispatch(seq: u64, kind: &str, d: Value) -> Value {
    json!({"op": 0, "s": seq, "t": kind, "d": d})
}

/// Waits until the stand-in REST API has seen `n` interaction callbacks.
async fn callbacks(fake: &FakeDiscord, n: usize) -> Vec<Seen> {
    let start = Instant::now();
    loop {
        let seen = fake.seen_at("/callback");
        if seen.len() >= n {
            return seen;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{} callbacks",
            seen.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A bot on the gateway: a stand-in REST API pointing it at a stand-in gateway on loopback,
/// and the bot's `gateway::run` in a task of its own.
struct OnGateway {
    fake: Arc<FakeDiscord>,
    gateway: tokio::net::TcpListener,
    url: String,
    stop: tokio::sync::watch::Sender<bool>,
    bot: tokio::task::JoinHandle<Result<(), String>>,
    _db: TempDb,
}

impl OnGateway {
    async fn start(token: &'static str) -> OnGateway {
        let db = TempDb::new();
        let ctx = db.context().await;
        let (fake, base) = FakeDiscord::start().await;
        let gateway = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}", gateway.local_addr().unwrap());
        fake.script(
            "/gateway/bot",
            vec![(200, json!({"url": url, "shards": 1,
                "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}}))],
        );
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let bot = tokio::spawn(atlasbot::platform::discord::gateway::run(
            ctx,
            Arc::new(Rest::new(&base, Some(token.into()))),
            token,
            atlasbot::platform::discord::gateway::Shards::Auto,
            stopped,
        ));
        OnGateway {
            fake,
            gateway,
            url,
            stop,
            bot,
            _db: db,
        }
    }

    /// Accepts the bot's next connection and says HELLO with this heartbeat interval.
    async fn connection(&self, heartbeat_ms: u64) -> GatewaySocket {
        let mut ws = accept_gateway(&self.gateway).await;
        gw_send(&mut ws, hello(heartbeat_ms)).await;
        ws
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_gateway_identifies_answers_dispatched_commands_beats_and_resumes() {
    let on = OnGateway::start("gateway-token").await;
    let (fake, gateway_url) = (&on.fake, on.url.clone());

    // HELLO, then IDENTIFY with the token, the GUILDS intent (to hear of permission changes)
    // and the message intents (no privileged one: no Message Content), shard 0 of 1.
    let mut ws = on.connection(45_000).await;
    let identify = gw_recv(&mut ws).await;
    assert_eq!(identify["op"], 2, "{identify}");
    assert_eq!(identify["d"]["token"], "gateway-token");
    assert_eq!(identify["d"]["intents"], 1 | 1 << 9 | 1 << 12);
    assert_eq!(identify["d"]["intents"].as_u64().unwrap() & 1 << 15, 0);
    assert_eq!(identify["d"]["shard"], json!([0, 1]));
    gw_send(
        &mut ws,
        dispatch(
            1,
            "READY",
            json!({"session_id": "s-1", "resume_gateway_url": gateway_url, "guilds": []}),
        ),
    )
    .await;

    // A command arrives as a dispatch and is answered over REST, like the endpoint's.
    let mut ask = command_from_line("/actor WIPO", 0);
    ask["id"] = json!("700000000000000001");
    gw_send(&mut ws, dispatch(2, "INTERACTION_CREATE", ask)).await;
    let answered = callbacks(fake, 1).await;
    assert_eq!(
        answered[0].path,
        "/api/v10/interactions/700000000000000001/aW50ZXJhY3Rpb24tdG9rZW4/callback"
    );
    let body = answered[0].json();
    assert_eq!(body["type"], 4);
    assert!(
        body["data"]["embeds"][0]["title"]
            .as_str()
            .unwrap()
            .contains("World Intellectual Property Organization"),
        "{body}"
    );

    // Discord asks for a heartbeat: the bot beats at once with the last sequence number.
    gw_send(&mut ws, json!({"op": 1, "d": null})).await;
    assert_eq!(gw_recv(&mut ws).await, json!({"op": 1, "d": 2}));

    // Discord asks the bot to reconnect: it comes back and RESUMEs where it was.
    gw_send(&mut ws, json!({"op": 7, "d": null})).await;
    assert_eq!(gw_recv(&mut ws).await["close"], 4000);
    let mut ws = on.connection(45_000).await;
    let resume = gw_recv(&mut ws).await;
    assert_eq!(
        resume,
        json!({"op": 6, "d": {"token": "gateway-token", "session_id": "s-1", "seq": 2}})
    );
    gw_send(&mut ws, dispatch(3, "RESUMED", json!({}))).await;
    let mut again = command_from_line("/define OEWG", 0);
    again["id"] = json!("700000000000000002");
    gw_send(&mut ws, dispatch(4, "INTERACTION_CREATE", again)).await;
    assert!(callbacks(fake, 2).await[1]
        .path
        .contains("/700000000000000002/"));

    // The session is not resumable any more: the next connection identifies afresh.
    gw_send(&mut ws, json!({"op": 9, "d": false})).await;
    assert_eq!(gw_recv(&mut ws).await["close"], 4000);
    let mut ws = on.connection(45_000).await;
    assert_eq!(gw_recv(&mut ws).await["op"], 2, "identify again");

    // Shutdown closes with 1000 and ends the run without error.
    on.stop.send(true).unwrap();
    assert_eq!(gw_recv(&mut ws).await["close"], 1000);
    assert_eq!(on.bot.await.unwrap(), Ok(()));
}

/// Waits until the stand-in REST API has seen `n` messages posted.
async fn posted(fake: &FakeDiscord, n: usize) -> Vec<Seen> {
    let start = Instant::now();
    loop {
        let seen: Vec<Seen> = fake
            .seen_at("/messages")
            .into_iter()
            .filter(|s| s.method == "POST")
            .collect();
        if seen.len() >= n || start.elapsed() > Duration::from_secs(10) {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_that_mentions_the_bot_or_a_direct_message_is_answered_as_a_question() {
    let on = OnGateway::start("gateway-token").await;
    let mut ws = on.connection(45_000).await;
    let _identify = gw_recv(&mut ws).await;
    let me = "900000000000000009";
    gw_send(
        &mut ws,
        dispatch(
            1,
            "READY",
            json!({"session_id": "s-1", "resume_gateway_url": on.url, "guilds": [],
                "user": {"id": me, "username": "atlasbot", "bot": true}}),
        ),
    )
    .await;
    let message = |id: &str, guild: Option<&str>, content: &str, mentions: Value| {
        let mut m = json!({"id": id, "channel_id": "800000000000000001", "type": 0,
            "author": {"id": "100000000000000001", "username": "ana"},
            "content": content, "mentions": mentions});
        if let Some(g) = guild {
            m["guild_id"] = json!(g);
        }
        m
    };
    // Said among people in a guild: not for the bot (Discord would not even show the text).
    gw_send(
        &mut ws,
        dispatch(
            2,
            "MESSAGE_CREATE",
            message(
                "700000000000000010",
                Some("600000000000000001"),
                "what is WIPO?",
                json!([]),
            ),
        ),
    )
    .await;
    // A mention: answered with a reply to it, the command it ran shown, nobody pinged.
    gw_send(
        &mut ws,
        dispatch(
            3,
            "MESSAGE_CREATE",
            message(
                "700000000000000011",
                Some("600000000000000001"),
                &format!("<@{me}> who works on kids safety online?"),
                json!([{"id": me}]),
            ),
        ),
    )
    .await;
    let sent = posted(&on.fake, 1).await;
    assert_eq!(sent.len(), 1, "only the mention is answered");
    assert_eq!(
        sent[0].path,
        "/api/v10/channels/800000000000000001/messages"
    );
    let body = sent[0].json();
    assert_eq!(
        body["message_reference"]["message_id"],
        "700000000000000011"
    );
    assert_eq!(body["allowed_mentions"], json!({"parse": []}));
    let text = body.to_string();
    assert!(
        text.contains("children") && text.contains("/who-works-on"),
        "{text}"
    );
    // A direct message needs no mention; another bot's message is never answered.
    gw_send(
        &mut ws,
        dispatch(
            4,
            "MESSAGE_CREATE",
            message("700000000000000012", None, "what is WIPO?", json!([])),
        ),
    )
    .await;
    let mut from_a_bot = message("700000000000000013", None, "what is WIPO?", json!([]));
    from_a_bot["author"]["bot"] = json!(true);
    gw_send(&mut ws, dispatch(5, "MESSAGE_CREATE", from_a_bot)).await;
    let sent = posted(&on.fake, 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent_after: Vec<Seen> = on
        .fake
        .seen_at("/messages")
        .into_iter()
        .filter(|s| s.method == "POST")
        .collect();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent_after.len(), 2, "a bot's message is not answered");
    assert!(
        sent[1]
            .body
            .contains("World Intellectual Property Organization"),
        "{}",
        sent[1].body
    );
    on.stop.send(true).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_that_stops_acknowledging_heartbeats_is_left_and_resumed() {
    let on = OnGateway::start("t").await;
    let gateway_url = on.url.clone();
    let mut ws = on.connection(100).await;
    assert_eq!(gw_recv(&mut ws).await["op"], 2);
    gw_send(
        &mut ws,
        dispatch(
            1,
            "READY",
            json!({"session_id": "s-9", "resume_gateway_url": gateway_url}),
        ),
    )
    .await;
    // One heartbeat (with the last sequence number, or none if it came before READY — its
    // first beat is at a random point of the interval), never acknowledged: at the next beat
    // the bot gives up on this connection.
    let beat = gw_recv(&mut ws).await;
    assert_eq!(beat["op"], 1, "{beat}");
    assert!(beat["d"] == 1 || beat["d"].is_null(), "{beat}");
    assert_eq!(gw_recv(&mut ws).await["close"], 4000);
    let mut ws = on.connection(45_000).await;
    assert_eq!(gw_recv(&mut ws).await["d"]["session_id"], "s-9");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_token_stops_the_gateway_with_a_clear_error() {
    let on = OnGateway::start("wrong").await;
    let mut ws = on.connection(45_000).await;
    assert_eq!(gw_recv(&mut ws).await["op"], 2);
    use futures_util::SinkExt;
    ws.send(tokio_tungstenite::tungstenite::Message::Close(Some(
        tokio_tungstenite::tungstenite::protocol::CloseFrame {
            code: 4004.into(),
            reason: "Authentication failed.".into(),
        },
    )))
    .await
    .unwrap();
    let result = tokio::time::timeout(Duration::from_secs(20), on.bot)
        .await
        .unwrap()
        .unwrap();
    assert!(result.unwrap_err().contains("DISCORD_TOKEN"));
}

// ---------------------------------------------------------------------------------------------
// The endpoint under load: idle and slow connections must not starve signed requests.

/// A connection from `source` (a loopback address of its own) that sends `sent` and waits.
async fn hold_open(
    source: &str,
    target: std::net::SocketAddr,
    sent: &[u8],
) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    let mut stream = socket.connect(target).await.unwrap();
    stream.write_all(sent).await.unwrap();
    stream
}

/// Whether the server closed `stream` (EOF or reset) within `within`.
async fn closed_within(stream: &mut tokio::net::TcpStream, within: Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 512];
    loop {
        match tokio::time::timeout(within, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_and_slow_connections_do_not_starve_signed_requests() {
    let ep = Endpoint::start_with(endpoint::Limits {
        header_timeout: Duration::from_secs(2),
        body_timeout: Duration::from_secs(2),
        max_connections: 1024,
        max_per_address: 40,
    })
    .await;
    let target: std::net::SocketAddr = ep
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/interactions")
        .parse()
        .unwrap();
    // An attacker's idle sockets (no request at all) and slow ones (headers never finished,
    // a body promised and never sent), from addresses of their own.
    let mut idle = Vec::new();
    for _ in 0..60 {
        idle.push(hold_open("127.0.0.2", target, b"").await);
    }
    let mut slow = Vec::new();
    for _ in 0..20 {
        slow.push(
            hold_open(
                "127.0.0.3",
                target,
                b"POST /interactions HTTP/1.1\r\nHost: x\r\nX-Slow: ",
            )
            .await,
        );
        slow.push(
            hold_open(
                "127.0.0.3",
                target,
                b"POST /interactions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{",
            )
            .await,
        );
    }
    // Meanwhile Discord's signed requests keep being answered, each in good time.
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    for n in 0..50 {
        let ping = json!({"id": format!("9{n}"), "application_id": APP, "type": 1, "token": "t", "version": 1}).to_string();
        let ts = chrono::Utc::now().timestamp().to_string();
        let signature = key().sign(format!("{ts}{ping}").as_bytes());
        let resp = http
            .post(&ep.url)
            .header("X-Signature-Ed25519", hex(&signature.to_bytes()))
            .header("X-Signature-Timestamp", &ts)
            .body(ping)
            .send()
            .await
            .unwrap_or_else(|e| panic!("request {n} starved: {e}"));
        assert_eq!(resp.status().as_u16(), 200);
    }
    // Past the cap from one address, connections are closed at once; the rest once their
    // time to send a request runs out.
    let mut refused = 0;
    for s in idle.iter_mut().skip(40) {
        refused += closed_within(s, Duration::from_millis(500)).await as usize;
    }
    assert_eq!(
        refused, 20,
        "connections over the per-address cap are closed at once"
    );
    for s in idle.iter_mut().take(40).chain(slow.iter_mut()) {
        assert!(
            closed_within(s, Duration::from_secs(10)).await,
            "an idle or slow connection is closed after its timeout"
        );
    }
}

/// Regression: behind the documented reverse proxy every client is 127.0.0.1, so the
/// per-address cap became one cap for everybody together, Discord's requests included. From
/// the local proxy, the cap counts each forwarded client's requests in flight instead; the
/// global bound on connections stays.
#[tokio::test(flavor = "multi_thread")]
async fn behind_a_local_proxy_the_per_address_cap_is_per_client() {
    let ep = Endpoint::start_with(endpoint::Limits {
        header_timeout: Duration::from_secs(5),
        body_timeout: Duration::from_secs(5),
        max_connections: 1024,
        max_per_address: 10,
    })
    .await;
    let target: std::net::SocketAddr = ep
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/interactions")
        .parse()
        .unwrap();
    // The proxy's idle upstream connections: more than the per-address cap, none refused.
    let mut pool = Vec::new();
    for _ in 0..25 {
        pool.push(hold_open("127.0.0.1", target, b"").await);
    }
    // One client behind it with ten slow requests in flight (a body promised, not sent).
    let slow = |client: &str| {
        format!(
            "POST /interactions HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: {client}\r\nX-Signature-Ed25519: 00\r\nX-Signature-Timestamp: 0\r\nContent-Length: 1000\r\n\r\n{{"
        )
    };
    let mut hog = Vec::new();
    for _ in 0..10 {
        hog.push(hold_open("127.0.0.1", target, slow("203.0.113.9").as_bytes()).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for s in pool.iter_mut() {
        assert!(
            !closed_within(s, Duration::from_millis(50)).await,
            "a proxy's connection was refused as if it were one client's"
        );
    }
    // Its eleventh is refused at once; another client's signed request goes through.
    let mut eleventh = hold_open("127.0.0.1", target, slow("203.0.113.9").as_bytes()).await;
    let answer = read_some(&mut eleventh).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    let ping = json!({"id": "77", "application_id": APP, "type": 1, "token": "t", "version": 1})
        .to_string();
    let ts = chrono::Utc::now().timestamp().to_string();
    let signature = key().sign(format!("{ts}{ping}").as_bytes());
    let resp = reqwest::Client::new()
        .post(&ep.url)
        .header("X-Forwarded-For", "198.51.100.7")
        .header("X-Signature-Ed25519", hex(&signature.to_bytes()))
        .header("X-Signature-Timestamp", &ts)
        .body(ping)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}

/// What the server answers first on `stream` (up to 512 bytes, within 5 s).
async fn read_some(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 512];
    match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await {
        Ok(Ok(n)) => String::from_utf8_lossy(&buf[..n]).to_string(),
        other => format!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replayed_signed_interaction_is_not_acted_on_twice() {
    let ep = Endpoint::start().await;
    let add = command_from_line(
        "/event add title:\"Replayed\" when:\"2030-12-01 10:00\"",
        MANAGE_EVENTS,
    );
    let body = add.to_string();
    let now = chrono::Utc::now().timestamp();
    let (first, _) = ep.post_signed(&body, &key(), now).await;
    assert_eq!(first, 200);
    let (again, _) = ep.post_signed(&body, &key(), now).await;
    assert_eq!(
        again, 409,
        "the same signed request, captured and sent again"
    );
    let events = ep
        .ctx
        .store
        .events_of_space(&SpaceId::discord(GUILD))
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeated_lookup_is_answered_alike_until_the_atlas_changes() {
    let ep = Endpoint::start().await;
    let ask = |line: &str| command_from_line(line, 0);
    let first = ep.post(&ask("/define OEWG")).await;
    assert_eq!(ep.post(&ask("/define OEWG")).await, first);
    // (Markdown escapes the hyphen: compare the words around it.)
    let expansion = |v: &Value| v["data"]["embeds"].to_string();
    assert!(expansion(&first).contains("United Nations Open"), "{first}");

    // Another process imports an atlas whose glossary says otherwise.
    let data = support::data_copy();
    support::edit(
        &data.path().join("glossary.toml"),
        "term = \"OEWG\"\nexpansion = \"United Nations Open-Ended Working Group\"",
        "term = \"OEWG\"\nexpansion = \"Open-Ended Working Group\"",
    );
    let out = support::atlasbot(&ep._db.path, &["import", data.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", support::stderr(&out));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let after = ep.post(&ask("/define OEWG")).await;
    assert!(
        !expansion(&after).contains("United Nations"),
        "an answer kept from the old atlas: {after}"
    );
    assert!(expansion(&after).contains("Ended Working Group"), "{after}");

    // What is not a lookup is never given again: the list changes when an event is added.
    let events = ep.post(&command_from_line("/events", 0)).await;
    let soon = (chrono::Utc::now() + chrono::Duration::days(3)).format("%Y-%m-%d 10:00");
    ep.post(&command_from_line(
        &format!("/event add title:\"Kept?\" when:\"{soon}\""),
        MANAGE_EVENTS,
    ))
    .await;
    let events_after = ep.post(&command_from_line("/events", 0)).await;
    assert_ne!(events_after, events);
    assert!(events_after.to_string().contains("Kept?"), "{events_after}");
}

#[tokio::test(flavor = "multi_thread")]
async fn replicas_sharing_a_postgres_store_refuse_a_request_another_replica_answered() {
    // Two replicas of the endpoint behind a load balancer, their runtime state on one server.
    let url = support::fresh_postgres_database("t_replicas");
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let db = TempDb::sharing_postgres(&url);
        let ctx = db.context().await;
        replicas.push(Endpoint::start_on(db, ctx, endpoint::Limits::default()).await);
    }
    let body = command_from_line(
        "/event add title:\"Once\" when:\"2030-12-01 10:00\"",
        MANAGE_EVENTS,
    )
    .to_string();
    let now = chrono::Utc::now().timestamp();
    let (first, _) = replicas[0].post_signed(&body, &key(), now).await;
    assert_eq!(first, 200);
    let (again, _) = replicas[1].post_signed(&body, &key(), now).await;
    assert_eq!(
        again, 409,
        "the same signed request, replayed to the other replica"
    );
    let events = replicas[1]
        .ctx
        .store
        .events_of_space(&SpaceId::discord(GUILD))
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
}

/// The message menu's "Look up in atlas", used by someone who installed the app to their own
/// account, in a group DM the bot is not in: the message's names answered only for them.
#[tokio::test(flavor = "multi_thread")]
async fn look_up_in_atlas_on_a_message_answers_privately_wherever_the_app_is_installed() {
    let ep = Endpoint::start().await;
    let target = "900000000000000009";
    let look_up = |content: &str| {
        json!({
            "id": next_id(),
            "application_id": APP,
            "type": 2,
            "token": "aW50ZXJhY3Rpb24tdG9rZW4",
            "version": 1,
            "context": 2,
            "authorizing_integration_owners": {"1": "700000000000000007"},
            "channel_id": "800000000000000008",
            "user": {"id": "700000000000000007", "username": "someone"},
            "data": {
                "id": "2",
                "type": 3,
                "name": discord::LOOK_UP_MESSAGE,
                "target_id": target,
                "resolved": {"messages": {target: {
                    "id": target,
                    "content": content,
                    "author": {"id": "700000000000000001", "username": "friend"},
                }}},
            },
        })
    };
    let v = ep
        .post(&look_up(
            "Reading up on WIPO and IEC 62443 before @everyone meets",
        ))
        .await;
    assert_eq!(v["type"], 4);
    assert_eq!(v["data"]["flags"], 64, "only the asker sees it: {v}");
    assert_eq!(v["data"]["allowed_mentions"], json!({"parse": []}));
    let embed = v["data"].to_string();
    assert!(embed.contains("/actor WIPO"), "{embed}");
    assert!(embed.contains("62443"), "{embed}");

    let v = ep.post(&look_up("see you all tomorrow")).await;
    assert_eq!(v["data"]["flags"], 64);
    assert!(
        v["data"]["embeds"][0]
            .to_string()
            .contains("names no actor"),
        "{v}"
    );
}

/// A click on a button of a message: as `who` (a member of the guild, or someone in a DM).
fn click(custom_id: &str, who: Option<&str>) -> Value {
    let mut i = interaction(3, json!({"custom_id": custom_id, "component_type": 2}), 0);
    if let Some(user) = who {
        let o = i.as_object_mut().unwrap();
        o.remove("guild_id");
        o.remove("member");
        o.insert("user".into(), json!({"id": user, "username": "someone"}));
        o.insert("channel_id".into(), json!("333000000000000333"));
    }
    i
}

/// The custom_ids of a message's buttons, by label.
fn buttons(message: &Value) -> Vec<(String, String)> {
    message["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .map(|b| {
            (
                b["label"].as_str().unwrap_or_default().to_string(),
                b["custom_id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn button(message: &Value, label: &str) -> String {
    buttons(message)
        .into_iter()
        .find(|(l, _)| l == label)
        .unwrap_or_else(|| panic!("no {label} button: {message:#}"))
        .1
}

/// An event's card carries "Remind me" / "Stop reminding me": each acts for whoever clicks,
/// answers them alone, leaves the shared card as it was, and keeps working after a restart
/// (what a button does is in its custom_id).
#[tokio::test(flavor = "multi_thread")]
async fn event_cards_have_remind_me_buttons_that_work_for_whoever_clicks_after_a_restart() {
    let ep = Endpoint::start().await;
    let card = ep
        .post(&command_from_line(
            "/event add title:\"Study group\" when:\"2030-03-04 18:00\" repeat:weekly",
            MANAGE_EVENTS,
        ))
        .await;
    let remind = button(&card["data"], "Remind me");
    let stop = button(&card["data"], "Stop reminding me");
    // Its times: the space's reading, and Discord's markup for each reader's own zone.
    let next = card["data"]["embeds"][0]["fields"][0]["value"]
        .as_str()
        .unwrap();
    assert!(
        next.starts_with("Mon 4 Mar 2030 18:00 UTC · <t:1898877600:F> (<t:1898877600:R>)"),
        "{next}"
    );

    let v = ep.post(&click(&remind, None)).await;
    assert_eq!(v["type"], 4, "a new message, not an update of the card");
    assert_eq!(v["data"]["flags"], 64, "for the clicker alone");
    assert!(v.to_string().contains("I will remind you"), "{v}");
    let mine = ep
        .ctx
        .store
        .subscriptions(&SpaceId::discord(GUILD), Some(MEMBER))
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);

    // Another process on the same database (a restart): the button still works.
    let restarted = ep._db.context().await;
    let v = atlasbot::platform::discord::handle(&restarted, &click(&stop, None)).await;
    assert_eq!(v.response["data"]["flags"], 64);
    assert!(
        v.response.to_string().contains("No more reminders"),
        "{}",
        v.response
    );
    assert!(ep
        .ctx
        .store
        .subscriptions(&SpaceId::discord(GUILD), Some(MEMBER))
        .await
        .unwrap()
        .is_empty());
    let again = ep.post(&click(&stop, None)).await;
    assert!(
        again.to_string().contains("You had no personal reminder"),
        "{again}"
    );
}

/// Going / Maybe / Can't on a card: the click updates the card in place for everyone (its
/// counts and who is going) and tells the clicker alone where they stand, in a follow-up.
#[tokio::test(flavor = "multi_thread")]
async fn rsvp_buttons_update_the_card_for_everyone_and_answer_the_clicker_alone() {
    let ep = Endpoint::start().await;
    let card = ep
        .post(&command_from_line(
            "/event add title:\"Study group\" when:\"2030-03-04 18:00\" capacity:1",
            MANAGE_EVENTS,
        ))
        .await;
    let going = button(&card["data"], "Going");
    assert!(button(&card["data"], "Maybe").contains("/rsvp"));
    assert!(button(&card["data"], "Can't go").contains("/rsvp"));
    // Discord sends the message the button is on with the click.
    let on_card = |who: Option<&str>| {
        let mut i = click(&going, who);
        i["message"] = card["data"].clone();
        i
    };
    let v = ep.post(&on_card(None)).await;
    assert_eq!(v["type"], 7, "the card itself is updated: {v}");
    let counts = v["data"]["embeds"][0].to_string();
    assert!(
        counts.contains("1 going · 0 maybe · 0 can't · 1 place (full)"),
        "{counts}"
    );
    let names = v["data"]["embeds"].to_string();
    assert!(
        names.contains(&format!("<@{MEMBER}>")),
        "who is going, named: {names}"
    );
    check_limits(&v["data"]).unwrap();
    let start = std::time::Instant::now();
    while ep.fake.seen_at("/webhooks/").is_empty() && start.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let follow = ep.fake.seen_at("/webhooks/");
    assert_eq!(follow.len(), 1, "{:#?}", ep.fake.seen());
    assert!(
        follow[0].body.contains("Going: Study group"),
        "{}",
        follow[0].body
    );
    assert_eq!(follow[0].json()["flags"], 64, "for the clicker alone");
    check_limits(&follow[0].json()).unwrap();
    // The same button without its card (a forwarded click): answered alone, nothing updated.
    let v = ep.post(&click(&going, None)).await;
    assert_eq!(v["type"], 4);
    assert_eq!(v["data"]["flags"], 64);
}

/// Reminders carry buttons: the channel's "Remind me" / "Stop reminding me", a personal one's
/// "Snooze 15 min / 1 h" — which sends it again once, later, only for its own person.
#[tokio::test(flavor = "multi_thread")]
async fn reminders_carry_buttons_and_a_personal_one_snoozes_once_for_its_person_only() {
    const ALICE: &str = "700000000000000007";
    const DM: &str = "333000000000000333";
    let r = Reminders::new().await;
    r.event_due_now().await;
    let alice = Caller {
        platform: Platform::Discord,
        space: SpaceId::discord(GUILD),
        user: ALICE.into(),
        moderator: false,
        channel: Some(CHANNEL.into()),
    };
    commands::answer(&r.ctx, &alice, "/remind me 1 before:1h").await;
    assert_eq!(r.tick().await, 2);
    let in_channel = r.messages_to(CHANNEL)[0].json();
    assert_eq!(button(&in_channel, "Remind me"), "run:/remind me 1");
    assert_eq!(button(&in_channel, "Stop reminding me"), "stop:1");
    assert!(buttons(&in_channel)
        .iter()
        .all(|(l, _)| !l.starts_with("Snooze")));
    let personal = r.messages_to(DM)[0].json();
    let snooze = button(&personal, "Snooze 15 min");
    assert!(buttons(&personal).iter().any(|(l, _)| l == "Snooze 1 h"));

    // Clicked twice by Alice (in her DM), once by someone else.
    let v = r.ep.post(&click(&snooze, Some(ALICE))).await;
    assert_eq!(v["data"]["flags"], 64);
    assert!(v.to_string().contains("again in 15 minutes"), "{v}");
    r.ep.post(&click(&snooze, Some(ALICE))).await;
    let other = r.ep.post(&click(&snooze, Some("700000000000000099"))).await;
    assert!(other.to_string().contains("not yours"), "{other}");

    r.ctx.clock.set("2026-12-01T09:14:00Z".parse().unwrap());
    assert_eq!(r.tick().await, 0, "not before its time");
    r.ctx.clock.set("2026-12-01T09:15:00Z".parse().unwrap());
    assert_eq!(r.tick().await, 1, "once, however often it was clicked");
    assert_eq!(r.tick().await, 0);
    let again = r.messages_to(DM);
    assert_eq!(again.len(), 2);
    let text = again[1].json().to_string();
    assert!(text.contains("starts in 45 minutes"), "{text}");
    assert!(
        r.messages_to(CHANNEL).len() == 1,
        "the channel is not reminded again"
    );
}

/// `/event add` with no options opens a form (Discord's modal, classic text fields); what the
/// moderator fills in schedules the event as typed options would. A member who may not add
/// events is told so at once, not after filling the form.
#[tokio::test(flavor = "multi_thread")]
async fn event_add_alone_opens_a_form_whose_answers_schedule_the_event() {
    let ep = Endpoint::start().await;
    let bare = |permissions| {
        interaction(
            2,
            json!({"id": "1", "name": "event", "type": 1,
                "options": [{"name": "add", "type": 1, "options": []}]}),
            permissions,
        )
    };
    let v = ep.post(&bare(MANAGE_EVENTS)).await;
    assert_eq!(v["type"], 9, "a modal: {v}");
    let form = &v["data"];
    assert_eq!(form["custom_id"], "form:event add");
    assert!(form["title"].as_str().unwrap().chars().count() <= 45);
    let fields: Vec<&Value> = form["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| &row["components"][0])
        .collect();
    let names: Vec<&str> = fields
        .iter()
        .map(|f| f["custom_id"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["title", "when", "repeat", "place", "description"]);
    for f in &fields {
        assert_eq!(f["type"], 4, "classic text inputs");
        assert!(f["label"].as_str().unwrap().chars().count() <= 45);
    }
    assert_eq!(fields[0]["required"], true);
    assert_eq!(fields[2]["required"], false);
    assert_eq!(fields[4]["style"], 2, "the description is a paragraph");

    let refused = ep.post(&bare(0)).await;
    assert_eq!(
        refused["type"], 4,
        "no form for someone who may not add: {refused}"
    );
    assert_eq!(refused["data"]["flags"], 64);

    let field = |name: &str, value: &str| json!({"type": 1, "components": [{"type": 4, "custom_id": name, "value": value}]});
    let submit = interaction(
        5,
        json!({"custom_id": "form:event add", "components": [
            field("title", "Reading group"),
            field("when", "2030-05-06 17:30"),
            field("repeat", "weekly"),
            field("place", "Room 4"),
            field("description", ""),
        ]}),
        MANAGE_EVENTS,
    );
    let v = ep.post(&submit).await;
    assert_eq!(v["type"], 4);
    assert_eq!(
        v["data"]["embeds"][0]["title"], "Scheduled: Reading group",
        "{v}"
    );
    let events = ep
        .ctx
        .store
        .events_of_space(&SpaceId::discord(GUILD))
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].place.as_deref(), Some("Room 4"));
    assert!(events[0].rrule.as_deref().unwrap().contains("WEEKLY"));
    assert_eq!(events[0].description, None, "an empty field is no value");

    // A form missing what the event needs gets the usual usage answer.
    let v = ep
        .post(&interaction(
            5,
            json!({"custom_id": "form:event add", "components": [field("title", "No time")]}),
            MANAGE_EVENTS,
        ))
        .await;
    assert_eq!(v["data"]["flags"], 64, "{v}");
}

// ---------------------------------------------------------------------------------------------
// The server's Events tab: Scheduled Events mirroring the events.

fn scheduled_requests(r: &Reminders, method: &str) -> Vec<Seen> {
    r.fake
        .seen_at(&format!("/guilds/{GUILD}/scheduled-events"))
        .into_iter()
        .filter(|s| s.method == method)
        .collect()
}

async fn mirror(r: &Reminders) -> usize {
    discord::mirror::sync_guild(&r.ctx, &r.outbox.rest, &r.outbox, GUILD)
        .await
        .unwrap()
}

/// Adding, editing and cancelling keep the Events tab in step — the next three occurrences as
/// external events with the place as location — and a pass after a restart changes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn the_events_tab_follows_adds_edits_and_cancellations_and_never_duplicates() {
    let r = Reminders::new().await;
    r.moderator_says(
        "/event add title:\"Reading group\" when:\"2026-12-02 18:00\" repeat:weekly place:\"Room 4\" duration:90",
    )
    .await;
    assert_eq!(mirror(&r).await, 3);
    let created = scheduled_requests(&r, "POST");
    assert_eq!(created.len(), 3);
    let first = created[0].json();
    assert_eq!(first["entity_type"], 3, "external");
    assert_eq!(first["entity_metadata"]["location"], "Room 4");
    assert_eq!(first["name"], "Reading group");
    assert_eq!(first["privacy_level"], 2);
    assert_eq!(first["scheduled_start_time"], "2026-12-02T18:00:00Z");
    assert_eq!(first["scheduled_end_time"], "2026-12-02T19:30:00Z");
    let starts: Vec<String> = created
        .iter()
        .map(|s| {
            s.json()["scheduled_start_time"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        starts,
        [
            "2026-12-02T18:00:00Z",
            "2026-12-09T18:00:00Z",
            "2026-12-16T18:00:00Z"
        ]
    );

    // Again, and from another process on the same database (a restart): nothing to do.
    assert_eq!(mirror(&r).await, 0);
    let restarted = r.ep._db.context().await;
    let mut restarted_ctx = restarted;
    restarted_ctx.clock = r.ctx.clock.clone();
    assert_eq!(
        discord::mirror::sync_guild(&restarted_ctx, &r.outbox.rest, &r.outbox, GUILD)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        scheduled_requests(&r, "POST").len(),
        3,
        "never created twice"
    );

    r.moderator_says("/event edit 1 title:\"Reading circle\"")
        .await;
    assert_eq!(mirror(&r).await, 3);
    let updated = scheduled_requests(&r, "PATCH");
    assert_eq!(updated.len(), 3);
    assert!(updated.iter().all(|s| s.json()["name"] == "Reading circle"));

    r.moderator_says("/event cancel 1 occurrence:\"2026-12-09 18:00\"")
        .await;
    assert_eq!(mirror(&r).await, 2, "one cancelled, the next one added");
    let patches = scheduled_requests(&r, "PATCH");
    assert_eq!(patches.last().unwrap().json(), json!({"status": 4}));
    let posts = scheduled_requests(&r, "POST");
    assert_eq!(posts.len(), 4);
    assert_eq!(
        posts[3].json()["scheduled_start_time"],
        "2026-12-23T18:00:00Z"
    );

    r.moderator_says("/event cancel 1").await;
    assert_eq!(mirror(&r).await, 3);
    let cancels = scheduled_requests(&r, "PATCH")
        .into_iter()
        .filter(|s| s.json() == json!({"status": 4}))
        .count();
    assert_eq!(cancels, 4);
    assert_eq!(mirror(&r).await, 0);
}

/// A process that created a Scheduled Event and died before recording it: the next pass finds
/// it on Discord by its marker and adopts it instead of creating another.
#[tokio::test(flavor = "multi_thread")]
async fn a_scheduled_event_created_just_before_a_crash_is_adopted_not_duplicated() {
    let r = Reminders::new().await;
    r.moderator_says("/event add title:Seminar when:\"2026-12-03 14:00\"")
        .await;
    let event = r
        .ctx
        .store
        .event(atlasbot::domain::EventId(1))
        .await
        .unwrap()
        .unwrap();
    let occurrence: chrono::DateTime<chrono::Utc> = "2026-12-03T14:00:00Z".parse().unwrap();
    // The crashed process's claim, five minutes old, with no id recorded.
    let then = r.ctx.clock.now() - chrono::Duration::minutes(5);
    assert!(r
        .ctx
        .store
        .claim_mirror(event.id, occurrence, GUILD, event.revision, then)
        .await
        .unwrap());
    r.fake.script(
        &format!("/guilds/{GUILD}/scheduled-events"),
        vec![(
            200,
            json!([{"id": "555000000000000555", "guild_id": GUILD,
                "description": "atlasbot event 1 · 2026-12-03T14:00:00Z"}]),
        )],
    );
    mirror(&r).await;
    assert!(
        scheduled_requests(&r, "POST").is_empty(),
        "{:#?}",
        r.fake.seen()
    );
    let kept = r.ctx.store.mirrors_of_guild(GUILD).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].discord_id.as_deref(), Some("555000000000000555"));
}

/// Without Manage Events the events still work; the moderators are told once, not per pass.
#[tokio::test(flavor = "multi_thread")]
async fn without_manage_events_the_moderators_are_told_once_and_reminders_still_go_out() {
    let r = Reminders::new().await;
    let refused = (
        403,
        json!({"message": "Missing Permissions", "code": 50013}),
    );
    r.fake.script(
        &format!("/guilds/{GUILD}/scheduled-events"),
        vec![refused.clone(), refused],
    );
    r.fake.script(
        &format!("/guilds/{GUILD}"),
        vec![(
            200,
            json!({"id": GUILD, "system_channel_id": "222000000000000222"}),
        )],
    );
    r.event_due_now().await;
    assert_eq!(mirror(&r).await, 0);
    assert_eq!(mirror(&r).await, 0);
    let told = r.messages_to("222000000000000222");
    assert_eq!(told.len(), 1, "once: {:#?}", r.fake.seen());
    assert!(
        told[0].json().to_string().contains("Manage Events"),
        "{}",
        told[0].body
    );
    assert!(r
        .ctx
        .store
        .mirrors_of_guild(GUILD)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(r.tick().await, 1, "the reminder goes out as before");
}

/// "Interested" means remind me: at reminder time the people Interested in that occurrence's
/// Scheduled Event are named in the space's reminder — allowed_mentions naming exactly them —
/// or, where the space prefers, sent a direct message each (not twice to someone who has a
/// personal reminder). Someone Interested in two occurrences is reminded of each, once.
#[tokio::test(flavor = "multi_thread")]
async fn people_interested_in_an_occurrence_are_reminded_with_it_by_mention_or_dm() {
    const ALICE: &str = "700000000000000007";
    const BOB: &str = "700000000000000008";
    let r = Reminders::new().await;
    r.moderator_says("/settings offsets 1h").await;
    r.moderator_says("/event add title:\"Weekly call\" when:\"2026-12-01 10:00\" repeat:weekly")
        .await;
    assert_eq!(mirror(&r).await, 3);
    let users = json!([{"user": {"id": ALICE}}, {"user": {"id": BOB}}]);
    r.fake.script(
        "/scheduled-events/999000000000000999/users",
        vec![(200, users.clone()), (200, users.clone()), (200, users)],
    );

    for (n, day) in [(1, "2026-12-01T09:00:00Z"), (2, "2026-12-08T09:00:00Z")] {
        r.ctx.clock.set(day.parse().unwrap());
        assert_eq!(r.tick().await, 1, "{day}");
        let sent = r.messages_to(CHANNEL);
        assert_eq!(sent.len(), n, "one reminder per occurrence");
        let body = sent[n - 1].json();
        assert_eq!(body["content"], format!("Interested: <@{ALICE}> <@{BOB}>"));
        assert_eq!(
            body["allowed_mentions"],
            json!({"parse": [], "users": [ALICE, BOB]}),
            "exactly them, nobody else"
        );
    }
    assert_eq!(r.tick().await, 0);

    // The space prefers direct messages; Bob has a personal reminder of his own.
    let out = r.moderator_says("/settings interested dm").await;
    assert!(out.contains("sent a direct message each"), "{out}");
    let bob = Caller {
        platform: Platform::Discord,
        space: SpaceId::discord(GUILD),
        user: BOB.into(),
        moderator: false,
        channel: Some(CHANNEL.into()),
    };
    commands::answer(&r.ctx, &bob, "/remind me 1 before:1h").await;
    r.ctx.clock.set("2026-12-15T09:00:00Z".parse().unwrap());
    assert_eq!(r.tick().await, 2, "the space's reminder and Bob's own");
    let third = r.messages_to(CHANNEL)[2].json();
    assert!(third.get("content").is_none(), "{third}");
    assert_eq!(third["allowed_mentions"], json!({"parse": []}));
    let opened: Vec<Value> = r
        .fake
        .seen_at("/users/@me/channels")
        .iter()
        .map(Seen::json)
        .collect();
    assert_eq!(
        opened.iter().filter(|b| b["recipient_id"] == ALICE).count(),
        1,
        "Alice by direct message: {opened:?}"
    );
    assert_eq!(
        opened.iter().filter(|b| b["recipient_id"] == BOB).count(),
        1,
        "Bob once (his own reminder), not twice: {opened:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_member_follows_a_topic_privately_and_hears_of_a_new_event_by_direct_message() {
    let r = Reminders::new().await;
    r.moderator_says("/settings offsets 1d").await;
    let v =
        r.ep.post(&command_from_line("/follow topic:cybersecurity", 0))
            .await;
    assert_eq!(v["data"]["flags"], 64, "what one follows is private: {v}");
    assert_eq!(v["data"]["embeds"][0]["title"], "Following Cybersecurity");
    // Another moderator schedules an event on it, a day ahead.
    let other = Caller {
        platform: Platform::Discord,
        space: SpaceId::discord(GUILD),
        user: "300000000000000003".into(),
        moderator: true,
        channel: Some(CHANNEL.into()),
    };
    let out = atlasbot::render::plain::render(
        &commands::answer(
            &r.ctx,
            &other,
            "/event add title:\"Cybersecurity clinic\" when:\"2026-12-02 10:00\"",
        )
        .await,
    );
    assert!(out.starts_with("Scheduled:"), "{out}");
    assert_eq!(r.tick().await, 1, "the note, and nothing else yet");
    let dm = r.fake.seen_at("/users/@me/channels");
    assert_eq!(dm[0].json(), json!({"recipient_id": MEMBER}));
    let notes = r.messages_to("333000000000000333");
    assert_eq!(notes.len(), 1);
    let note = notes[0].json();
    assert_eq!(
        note["embeds"][0]["title"],
        "New event: Cybersecurity clinic"
    );
    assert_eq!(note["allowed_mentions"], json!({"parse": []}));
    assert_eq!(r.tick().await, 0, "told once");
    // An hour before it, the follower's reminder comes the same way.
    r.ctx.clock.set("2026-12-02T09:00:00Z".parse().unwrap());
    assert_eq!(r.tick().await, 1);
    assert_eq!(r.messages_to("333000000000000333").len(), 2);
}

/// Regression: a Snooze pressed *after* its occurrence was moved (or that occurrence
/// cancelled, or the event) was accepted and later reminded of the old, false time.
#[tokio::test(flavor = "multi_thread")]
async fn a_snooze_pressed_after_its_occurrence_moved_or_was_cancelled_is_refused() {
    const ALICE: &str = "700000000000000007";
    const DM: &str = "333000000000000333";
    for change in ["/event edit 1 when:\"2026-12-01 12:00\"", "/event cancel 1"] {
        let r = Reminders::new().await;
        r.event_due_now().await;
        let alice = Caller {
            platform: Platform::Discord,
            space: SpaceId::discord(GUILD),
            user: ALICE.into(),
            moderator: false,
            channel: Some(CHANNEL.into()),
        };
        commands::answer(&r.ctx, &alice, "/remind me 1 before:1h").await;
        assert_eq!(r.tick().await, 2);
        let snooze = button(&r.messages_to(DM)[0].json(), "Snooze 15 min");
        r.moderator_says(change).await;
        let v = r.ep.post(&click(&snooze, Some(ALICE))).await;
        let text = v.to_string();
        assert!(
            text.contains("moved or cancelled") || text.contains("was cancelled"),
            "{change}: {text}"
        );
        assert!(!text.contains("again in"), "{change}: {text}");
        r.ctx.clock.set("2026-12-01T09:15:00Z".parse().unwrap());
        r.tick().await;
        assert!(
            r.messages_to(DM)
                .iter()
                .skip(1)
                .all(|m| !m.json().to_string().contains("10:00")),
            "{change}: no reminder of the old time"
        );
    }
}

/// Regression: a forged "Stop reminding me" custom id named another server's event (its title
/// could be read by id). A button is honoured from the event's own space, or from a direct
/// message the bot sent that person about it.
#[tokio::test(flavor = "multi_thread")]
async fn a_forged_stop_button_does_not_name_another_spaces_event() {
    const MALLORY: &str = "700000000000000666";
    let r = Reminders::new().await;
    r.moderator_says("/event add title:\"Secret board meeting\" when:\"2026-12-03 10:00\"")
        .await;
    // From a direct message with the bot, by someone it never reminded of it.
    let v = r.ep.post(&click("stop:1", Some(MALLORY))).await;
    let text = v.to_string();
    assert!(!text.contains("Secret board meeting"), "{text}");
    assert!(text.contains("no longer works"), "{text}");
    // From another server.
    let mut other = click("stop:1", None);
    other["guild_id"] = json!("999999999999999999");
    let text = r.ep.post(&other).await.to_string();
    assert!(!text.contains("Secret board meeting"), "{text}");
    // From its own server it still works (nothing to stop, but it is theirs to ask).
    let own = r.ep.post(&click("stop:1", None)).await.to_string();
    assert!(own.contains("Secret board meeting"), "{own}");
}

/// A snooze is a person's own reminder: it outlives a replan of its event (new offsets for
/// the space, someone following, an edit), and goes only when its occurrence has moved.
#[tokio::test(flavor = "multi_thread")]
async fn a_snooze_survives_a_replan_and_goes_with_its_occurrence() {
    const ALICE: &str = "700000000000000007";
    const DM: &str = "333000000000000333";
    let r = Reminders::new().await;
    r.event_due_now().await;
    let alice = Caller {
        platform: Platform::Discord,
        space: SpaceId::discord(GUILD),
        user: ALICE.into(),
        moderator: false,
        channel: Some(CHANNEL.into()),
    };
    commands::answer(&r.ctx, &alice, "/remind me 1 before:1h").await;
    assert_eq!(r.tick().await, 2);
    let snooze = button(&r.messages_to(DM)[0].json(), "Snooze 15 min");
    r.ep.post(&click(&snooze, Some(ALICE))).await;
    // The space's offsets change: every event of the space is planned afresh.
    r.moderator_says("/settings offsets 1h,30m").await;
    r.ctx.clock.set("2026-12-01T09:15:00Z".parse().unwrap());
    assert_eq!(r.tick().await, 1, "the snooze outlived the replan");
    assert!(r.messages_to(DM)[1]
        .json()
        .to_string()
        .contains("starts in 45 minutes"));
    // Snoozed again, then the event moves: that occurrence is gone, and so is the snooze.
    let snooze = button(&r.messages_to(DM)[1].json(), "Snooze 15 min");
    r.ep.post(&click(&snooze, Some(ALICE))).await;
    r.moderator_says("/event edit 1 when:\"2026-12-01 12:00\"")
        .await;
    r.ctx.clock.set("2026-12-01T09:30:00Z".parse().unwrap());
    r.tick().await;
    let stale = r
        .messages_to(DM)
        .iter()
        .filter(|m| m.json().to_string().contains("10:00"))
        .count();
    assert_eq!(stale, 2, "no reminder for the old time after the move");
}

// ---------------------------------------------------------------------------------------------
// The invalid-request budget: what Discord refused is not asked again.

/// Regression: in a server where the bot lacks Manage Events, the Events-tab mirror retried
/// the refused creation about once a second, forever (each failure written to the database
/// woke the next pass) — ~3 600 refused requests an hour per server, and Discord bans an
/// address at 10 000 in 10 minutes. Six servers, three without Manage Events, a member whose
/// DMs are closed; an hour of reminders, driven by the real scheduler and mirror loops.
#[tokio::test(flavor = "multi_thread")]
async fn refused_requests_stay_a_handful_per_server_and_reminders_go_on() {
    let db = TempDb::new();
    let mut ctx = db.context().await;
    let nine = chrono::DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    ctx.set_clock(Clock::fixed(nine));
    let (fake, base) = FakeDiscord::start().await;
    let guild = |k: usize| format!("10000000000000001{k}");
    let channel = |k: usize| format!("11100000000000011{k}");
    const CLOSED: &str = "700000000000000042";
    const DM: &str = "333000000000000333";
    for k in 1..=3 {
        let refused = (0..10_000)
            .map(|_| {
                (
                    403,
                    json!({"code": 50013, "message": "Missing Permissions"}),
                )
            })
            .collect();
        fake.script(&format!("/guilds/{}/scheduled-events", guild(k)), refused);
    }
    let closed = (0..1_000)
        .map(|_| {
            (
                403,
                json!({"code": 50007, "message": "Cannot send messages to this user"}),
            )
        })
        .collect();
    fake.script(&format!("/channels/{DM}/messages"), closed);
    for k in 1..=6 {
        let moderator = Caller {
            platform: Platform::Discord,
            space: SpaceId::discord(&guild(k)),
            user: MEMBER.into(),
            moderator: true,
            channel: Some(channel(k)),
        };
        commands::answer(&ctx, &moderator, "/settings offsets 10m").await;
        for at in ["09:20", "09:40", "10:00"] {
            let line = format!("/event add title:\"Session {k} {at}\" when:\"2026-12-01 {at}\"");
            let r = commands::answer(&ctx, &moderator, &line).await;
            assert_eq!(
                r.tone,
                atlasbot::reply::Tone::Answer,
                "{}",
                atlasbot::render::plain::render(&r)
            );
        }
    }
    let member = Caller {
        platform: Platform::Discord,
        space: SpaceId::discord(&guild(4)),
        user: CLOSED.into(),
        moderator: false,
        channel: Some(channel(4)),
    };
    for event in ["10", "11", "12"] {
        commands::answer(&ctx, &member, &format!("/remind me {event} before:10m")).await;
    }
    let rest = Arc::new(Rest::new(&base, Some("test-token".into())));
    let loops = discord::start_reminders(&ctx, rest.clone());
    // An hour, ten minutes at a time; the loops run on their own meanwhile.
    for minutes in (0..=60).step_by(10) {
        ctx.clock.set(nine + chrono::Duration::minutes(minutes));
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    let posts_to = |path: &str| {
        fake.seen_at(path)
            .into_iter()
            .filter(|s| s.method == "POST")
            .count()
    };
    for k in 1..=3 {
        let tried = posts_to(&format!("/guilds/{}/scheduled-events", guild(k)));
        assert!(
            (1..=2).contains(&tried),
            "server {k}: {tried} refused creations in an hour"
        );
    }
    assert!(
        posts_to(&format!("/channels/{DM}/messages")) <= 2,
        "DMs to a closed inbox"
    );
    for k in 1..=6 {
        let reminders: Vec<Seen> = fake
            .seen_at(&format!("/channels/{}/messages", channel(k)))
            .into_iter()
            .filter(|s| s.body.contains("Reminder: Session"))
            .collect();
        assert_eq!(reminders.len(), 3, "server {k}: every reminder of the hour");
        assert!(
            reminders.iter().all(|m| !m.body.contains("Sent late")),
            "server {k}: on time"
        );
    }
    assert!(rest.invalid_lately() <= 8, "{}", rest.invalid_lately());
    // Manage Events granted in server 1: the gateway sees the role change.
    fake.unscript(&format!("/guilds/{}/scheduled-events", guild(1)));
    rest.permissions_changed_in(&guild(1), None);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let created = posts_to(&format!("/guilds/{}/scheduled-events", guild(1)));
    assert!(
        created >= 2,
        "picked up after the permission change: {created}"
    );
    loops.finish().await;
}

/// Regression (sibling): a revoked token made every request fail with 401, each counted
/// against the address. The first 401 stops everything, and the process says why.
#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_token_stops_every_request_after_the_first() {
    let (fake, base) = FakeDiscord::start().await;
    fake.script(
        "/channels/",
        (0..100)
            .map(|_| (401, json!({"code": 0, "message": "401: Unauthorized"})))
            .collect(),
    );
    let rest = Rest::new(&base, Some("revoked-token".into()));
    let revoked = rest.revoked();
    for _ in 0..5 {
        let e = rest
            .send_message(CHANNEL, &json!({"content": "hi"}), "n1")
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("401") || e.to_string().contains("token"),
            "{e}"
        );
    }
    assert_eq!(
        fake.seen_at("/channels/").len(),
        1,
        "only the first went out"
    );
    assert!(*revoked.borrow());
    // An expired interaction token is not the bot's: a 401 on a follow-up stops nothing.
    let (fake, base) = FakeDiscord::start().await;
    fake.script(
        "/webhooks/",
        vec![(
            401,
            json!({"code": 50027, "message": "Invalid Webhook Token"}),
        )],
    );
    let rest = Rest::new(&base, Some("good-token".into()));
    let _ = rest
        .follow_up(APP, "expired-token", &json!({"content": "late"}), None)
        .await;
    assert!(!*rest.revoked().borrow());
    rest.send_message(CHANNEL, &json!({"content": "hi"}), "n2")
        .await
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Regressions found by a hostile review (#26, #31): each named after what went wrong.

fn member_of(guild: &str, user: &str) -> Caller {
    Caller {
        platform: Platform::Discord,
        space: SpaceId::discord(guild),
        user: user.into(),
        moderator: false,
        channel: Some(CHANNEL.into()),
    }
}

/// A person whose DMs were closed when one reminder fell due never gets a personal reminder
/// in that server again, even with DMs open and a new Rest (after the 6 h refusal).
#[tokio::test(flavor = "multi_thread")]
async fn hostile_a_closed_inbox_once_disables_a_person_for_good() {
    let r = Reminders::new().await;
    r.event_due_now().await;
    r.moderator_says("/settings offsets 1d").await;
    let ana = member_of(GUILD, "700000000000000007");
    commands::answer(&r.ctx, &ana, "/remind me 1 before:1h").await;
    r.fake.script(
        "/channels/333000000000000333/messages",
        vec![(
            403,
            json!({"code": 50007, "message": "Cannot send messages to this user"}),
        )],
    );
    assert_eq!(r.tick().await, 0);
    // She opens her DMs; a new event, a new personal reminder; hours later, a new process.
    r.moderator_says("/event add title:\"Later\" when:\"2026-12-01 11:00\"")
        .await;
    let out = atlasbot::render::plain::render(
        &commands::answer(&r.ctx, &ana, "/remind me 2 before:1h").await,
    );
    eprintln!("{out}");
    r.ctx.clock.set("2026-12-01T10:00:00Z".parse().unwrap());
    // Whatever was refused is forgotten (a permission change anywhere, or 6 h later).
    r.outbox
        .rest
        .permissions_changed_in(GUILD, Some("333000000000000333"));
    let before = r.messages_to("333000000000000333").len();
    r.tick().await;
    let after = r.messages_to("333000000000000333").len();
    let states = r
        .ctx
        .store
        .reminder_states(atlasbot::domain::EventId(2))
        .await
        .unwrap();
    eprintln!("{states:?}");
    assert_eq!(
        after - before,
        1,
        "her reminder for event 2 was not even tried: {states:?}"
    );
}

/// One person Discord will not open a DM with (404 Unknown User on POST /users/@me/channels,
/// a deleted account) makes that route "refused" for 6 h: every other person's personal
/// reminder is then not even tried, recorded as gone, and their target disabled.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_one_refused_dm_opening_blocks_every_dm() {
    let r = Reminders::new().await;
    r.event_due_now().await;
    r.moderator_says("/settings offsets 1d").await;
    for user in ["700000000000000001", "700000000000000002"] {
        commands::answer(&r.ctx, &member_of(GUILD, user), "/remind me 1 before:1h").await;
    }
    r.fake.script(
        "/users/@me/channels",
        vec![(404, json!({"code": 10013, "message": "Unknown User"}))],
    );
    r.tick().await;
    let opened = r.fake.seen_at("/users/@me/channels");
    let states = r
        .ctx
        .store
        .reminder_states(atlasbot::domain::EventId(1))
        .await
        .unwrap();
    eprintln!("DM openings tried: {}, states: {states:?}", opened.len());
    assert_eq!(
        opened.len(),
        2,
        "the second person's DM was never asked for: {states:?}"
    );
}

/// Refusals are forgotten globally: any GUILD_ROLE_UPDATE / CHANNEL_UPDATE / GUILD_CREATE in
/// any server, or any moderator's /event in any server, makes the mirror ask again, at once,
/// in every server that lacks Manage Events.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_activity_in_other_servers_repeats_refused_creations() {
    let db = TempDb::new();
    let mut ctx = db.context().await;
    let nine = chrono::DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    ctx.set_clock(Clock::fixed(nine));
    let (fake, base) = FakeDiscord::start().await;
    let refused_guild = "100000000000000011";
    fake.script(
        &format!("/guilds/{refused_guild}/scheduled-events"),
        (0..10_000)
            .map(|_| {
                (
                    403,
                    json!({"code": 50013, "message": "Missing Permissions"}),
                )
            })
            .collect(),
    );
    let moderator = Caller {
        platform: Platform::Discord,
        space: SpaceId::discord(refused_guild),
        user: MEMBER.into(),
        moderator: true,
        channel: Some(CHANNEL.into()),
    };
    commands::answer(
        &ctx,
        &moderator,
        "/event add title:\"Session\" when:\"2026-12-03 10:00\"",
    )
    .await;
    let rest = Arc::new(Rest::new(&base, Some("test-token".into())));
    let loops = discord::start_reminders(&ctx, rest.clone());
    tokio::time::sleep(Duration::from_millis(1000)).await;
    // An hour in another, busy server: a channel edited or a role changed every minute
    // (60 gateway events), simulated here 50 ms apart.
    for _ in 0..60 {
        rest.permissions_changed_in("100000000000000099", None);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let tried = fake
        .seen_at(&format!("/guilds/{refused_guild}/scheduled-events"))
        .into_iter()
        .filter(|s| s.method == "POST")
        .count();
    loops.finish().await;
    assert!(
        tried <= 2,
        "{tried} refused creations in a server that changed nothing"
    );
}

/// A creation Discord refuses with 400 (Invalid Form Body) or 5xx: the claim and its
/// forgetting are writes, which on SQLite wake the mirror within a second — retried forever.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_a_400_on_creation_is_retried_every_second() {
    let db = TempDb::new();
    let mut ctx = db.context().await;
    let nine = chrono::DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    ctx.set_clock(Clock::fixed(nine));
    let (fake, base) = FakeDiscord::start().await;
    let g = "100000000000000011";
    fake.script(
        &format!("/guilds/{g}/scheduled-events"),
        (0..10_000)
            .map(|_| (400, json!({"code": 50035, "message": "Invalid Form Body"})))
            .collect(),
    );
    let moderator = Caller {
        platform: Platform::Discord,
        space: SpaceId::discord(g),
        user: MEMBER.into(),
        moderator: true,
        channel: Some(CHANNEL.into()),
    };
    commands::answer(
        &ctx,
        &moderator,
        "/event add title:\"Session\" when:\"2026-12-03 10:00\"",
    )
    .await;
    let rest = Arc::new(Rest::new(&base, Some("test-token".into())));
    let loops = discord::start_reminders(&ctx, rest.clone());
    tokio::time::sleep(Duration::from_secs(10)).await;
    let tried = fake
        .seen_at(&format!("/guilds/{g}/scheduled-events"))
        .into_iter()
        .filter(|s| s.method == "POST")
        .count();
    loops.finish().await;
    assert!(tried <= 2, "{tried} refused creations in 10 idle seconds");
}

/// Delivery at Discord's scale (#29): reminders due together — to many channels, and by
/// direct message to the people Interested in some events — go out through the scheduler and
/// the real client to a stand-in Discord that keeps Discord's limits (50 requests a second,
/// 5 messages per channel per 5 s, with its headers and 429s). The client keeps the limits
/// before sending, so Discord refuses nothing — 32 lanes at 40 ms an answer would otherwise
/// ask 800 times a second — and every message arrives once. (How long it takes against the
/// floor the limits set is `atlasbot bench delivery`'s to measure, not a test's.)
#[tokio::test(flavor = "multi_thread")]
async fn reminders_due_together_keep_discords_limits_and_go_out_once_each() {
    use atlasbot::bench::delivery::{measure, Shape};
    let shape = Shape {
        channel_reminders: 60,
        channels: 20,
        direct: 90,
        per_event: 30,
        latency: Duration::from_millis(40),
        lanes: atlasbot::scheduler::LANES,
    };
    let o = measure(&shape).await.unwrap();
    assert_eq!(
        o.expected, 150,
        "60 channel messages and 90 direct ones owed"
    );
    assert_eq!(o.lags.len(), o.expected, "none lost");
    assert_eq!(o.duplicates, 0, "none twice");
    assert_eq!(o.global_429, 0, "the global limit was kept before sending");
    assert_eq!(
        o.route_429, 0,
        "each channel's bucket was kept before sending"
    );
    assert_eq!(
        o.requests as usize, o.needed,
        "no request beyond those needed"
    );
}

/// The waitlist on Discord: a full event's card takes a second member onto the waitlist; when
/// the first clicks Can't go, the card is updated and the second, let in, is told once by
/// direct message through Discord's REST API.
#[tokio::test(flavor = "multi_thread")]
async fn a_member_who_drops_out_lets_the_first_waiting_in_who_is_told_by_direct_message() {
    const OTHER: &str = "700000000000000042";
    let r = Reminders::new().await;
    let card =
        r.ep.post(&command_from_line(
            "/event add title:\"Workshop\" when:\"2026-12-03 10:00\" capacity:1",
            MANAGE_EVENTS,
        ))
        .await;
    let press = |label: &str, who: &str| {
        let mut i = click(&button(&card["data"], label), None);
        i["member"]["user"]["id"] = json!(who);
        i["message"] = card["data"].clone();
        i
    };
    let first = r.ep.post(&press("Going", MEMBER)).await;
    assert_eq!(first["type"], 7);
    let second = r.ep.post(&press("Going", OTHER)).await;
    let shown = second["data"]["embeds"].to_string();
    assert!(
        shown.contains("1 going · 0 maybe · 0 can't · 1 place (full) · 1 waiting"),
        "{shown}"
    );
    let dropped = r.ep.post(&press("Can't go", MEMBER)).await;
    let shown = dropped["data"]["embeds"].to_string();
    assert!(shown.contains("1 going · 0 maybe · 1 can't"), "{shown}");
    assert!(shown.contains(&format!("<@{OTHER}>")), "{shown}");
    // The promotion note goes out through the reminder ledger, once.
    r.tick().await;
    r.tick().await;
    let told: Vec<_> = r
        .fake
        .seen()
        .into_iter()
        .filter(|s| s.path.contains("/messages") && s.body.contains("You're in: Workshop"))
        .collect();
    assert_eq!(told.len(), 1, "{:#?}", r.fake.seen());
    let opened = r.fake.seen_at("/users/@me/channels");
    assert!(opened.iter().any(|s| s.body.contains(OTHER)), "{opened:#?}");
}
