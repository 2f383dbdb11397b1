//! `atlasbot matrix` against a real Synapse on loopback (installed by `scripts/synapse
//! install`, which `scripts/test` runs). The tests act as people, over the client-server API:
//! they create rooms, invite the bot, type commands and read what arrives.

use atlasbot::domain::{EventId, ReminderState};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{self, TempDb};

/// A Synapse started for one test in its own directory and port; stopped when dropped.
struct Homeserver {
    dir: tempfile::TempDir,
    base: String,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/synapse")
}

fn venv() -> PathBuf {
    std::env::var_os("ATLASBOT_SYNAPSE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/synapse-venv"))
}

/// Starts Synapse in `dir` on a port the system just handed out, and returns it. Synapse
/// cannot report a port it chose itself, so a port is picked by binding port 0 and released
/// for Synapse: another process may take it in between (parallel tests), so a start that
/// fails is retried on a new port rather than failing the test.
fn start_on_some_port(dir: &std::path::Path) -> u16 {
    let mut failures = String::new();
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let out = Command::new(script())
            .args(["start", dir.to_str().unwrap(), &port.to_string()])
            .output()
            .unwrap();
        if out.status.success() {
            return port;
        }
        failures.push_str(&support::stderr(&out));
    }
    panic!("synapse start failed on five ports: {failures}");
}

impl Homeserver {
    fn start() -> Homeserver {
        assert!(
            venv().join("bin/python").exists(),
            "Synapse is not installed at {}: run scripts/synapse install (scripts/test does)",
            venv().display()
        );
        let dir = tempfile::tempdir().unwrap();
        let port = start_on_some_port(dir.path());
        let hs = Homeserver {
            dir,
            base: format!("http://127.0.0.1:{port}"),
        };
        for (user, password) in [
            ("atlasbot", "bot-pw"),
            ("alice", "alice-pw"),
            ("bob", "bob-pw"),
        ] {
            let out = Command::new(script())
                .args(["register", hs.dir.path().to_str().unwrap(), user, password])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "register {user}: {}",
                support::stderr(&out)
            );
        }
        hs
    }
}

impl Homeserver {
    /// Stops the server and starts it again on the same port, keeping its database.
    fn restart(&self) {
        let dir = self.dir.path().to_str().unwrap();
        let port = self.base.rsplit(':').next().unwrap();
        // `stop` returns once the process is gone, so the port is free again.
        let stop = Command::new(script()).args(["stop", dir]).status().unwrap();
        assert!(stop.success());
        let out = Command::new(script())
            .args(["start", dir, port])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "synapse restart: {}",
            support::stderr(&out)
        );
    }
}

impl Drop for Homeserver {
    fn drop(&mut self) {
        let _ = Command::new(script())
            .args(["stop", self.dir.path().to_str().unwrap()])
            .status();
    }
}

/// A person with a Matrix client: plain HTTP calls, as any client would make them.
struct Person {
    http: reqwest::Client,
    base: String,
    token: String,
    id: String,
    txn: std::sync::atomic::AtomicU64,
    device: String,
}

impl Person {
    async fn login(hs: &Homeserver, user: &str, password: &str) -> Person {
        let http = reqwest::Client::new();
        let v: Value = http
            .post(format!("{}/_matrix/client/v3/login", hs.base))
            .json(&json!({"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user}, "password": password}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Person {
            http,
            base: hs.base.clone(),
            token: v["access_token"].as_str().expect("logged in").to_string(),
            id: v["user_id"].as_str().unwrap().to_string(),
            txn: Default::default(),
            device: v["device_id"].as_str().unwrap().to_string(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/_matrix/client/v3/{path}", self.base)
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(json!({}));
        assert!(status.is_success(), "{path}: {status} {v}");
        v
    }

    async fn create_room(&self, body: Value) -> String {
        let v = self
            .call(reqwest::Method::POST, "createRoom", Some(body))
            .await;
        v["room_id"].as_str().unwrap().to_string()
    }

    async fn invite(&self, room: &str, user: &str) {
        self.call(
            reqwest::Method::POST,
            &format!("rooms/{room}/invite"),
            Some(json!({"user_id": user})),
        )
        .await;
    }

    async fn join(&self, room: &str) {
        self.call(
            reqwest::Method::POST,
            &format!("join/{room}"),
            Some(json!({})),
        )
        .await;
    }

    /// Sends a text message; returns its event id.
    async fn say(&self, room: &str, body: &str) -> String {
        self.send(room, json!({"msgtype": "m.text", "body": body}))
            .await
    }

    /// Sends a message with this content; returns its event id.
    async fn send(&self, room: &str, content: Value) -> String {
        let n = self.txn.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let v = self
            .call(
                reqwest::Method::PUT,
                &format!("rooms/{room}/send/m.room.message/t{n}"),
                Some(content),
            )
            .await;
        v["event_id"].as_str().unwrap().to_string()
    }

    /// The room's messages, oldest first.
    async fn messages(&self, room: &str) -> Vec<Value> {
        let v = self
            .call(
                reqwest::Method::GET,
                &format!("rooms/{room}/messages?dir=b&limit=500"),
                None,
            )
            .await;
        let mut all: Vec<Value> = v["chunk"].as_array().unwrap().clone();
        all.reverse();
        all.into_iter()
            .filter(|e| e["type"] == "m.room.message")
            .collect()
    }

    async fn members(&self, room: &str) -> Vec<String> {
        let v = self
            .call(
                reqwest::Method::GET,
                &format!("rooms/{room}/joined_members"),
                None,
            )
            .await;
        v["joined"].as_object().unwrap().keys().cloned().collect()
    }

    /// Rooms this person is invited to (from an initial sync). Synapse answers a repeated
    /// identical sync from a cache for two minutes, so each call's filter is made unique.
    async fn invites(&self) -> Vec<String> {
        let n = self.txn.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let filter =
            format!(r#"{{"room":{{"timeline":{{"limit":1,"not_types":["x.test.{n}"]}}}}}}"#);
        let v = self
            .call(
                reqwest::Method::GET,
                &format!(
                    "sync?timeout=0&filter={}",
                    url::form_urlencoded::byte_serialize(filter.as_bytes()).collect::<String>()
                ),
                None,
            )
            .await;
        v["rooms"]["invite"]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The bot's replies to the event `to`.
    async fn replies(&self, room: &str, to: &str) -> Vec<Value> {
        self.messages(room)
            .await
            .into_iter()
            .filter(|e| e["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == to)
            .collect()
    }

    /// Waits for the bot's reply to `to`.
    async fn reply_to(&self, room: &str, to: &str, bot: &Bot) -> Value {
        let start = Instant::now();
        loop {
            if let Some(r) = self.replies(room, to).await.into_iter().next() {
                return r;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no reply to {to}; bot log:\n{}",
                bot.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Asks and waits for the answer.
    async fn ask(&self, room: &str, line: &str, bot: &Bot) -> (String, Value) {
        let id = self.say(room, line).await;
        let reply = self.reply_to(room, &id, bot).await;
        (id, reply)
    }
}

/// A running `atlasbot matrix` process.
struct Bot {
    child: Child,
    log: PathBuf,
}

impl Bot {
    fn start(hs: &Homeserver, db: &TempDb, pause: Option<&str>) -> Bot {
        let state = ["--db".to_string(), db.path.display().to_string()];
        Bot::start_with(hs, db.dir.path(), &state, pause)
    }

    /// A bot whose state is where `state` says (`--db`, `--atlas`), logging into `dir`.
    fn start_with(
        hs: &Homeserver,
        dir: &std::path::Path,
        state: &[String],
        pause: Option<&str>,
    ) -> Bot {
        Bot::start_env(hs, dir, state, pause, &[])
    }

    /// As `start_with`, with more environment variables.
    fn start_env(
        hs: &Homeserver,
        dir: &std::path::Path,
        state: &[String],
        pause: Option<&str>,
        env: &[(&str, &str)],
    ) -> Bot {
        let log = dir.join(format!(
            "bot-{}.log",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_atlasbot"));
        cmd.args(state)
            .arg("matrix")
            .env("MATRIX_HOMESERVER", &hs.base)
            .env("MATRIX_USER", "@atlasbot:localhost")
            .env("MATRIX_PASSWORD", "bot-pw")
            .env_remove("MATRIX_ACCESS_TOKEN")
            .env_remove("MATRIX_ALLOWED_SERVERS")
            .env_remove("MATRIX_RECOVERY_KEY")
            .env_remove("MATRIX_CRYPTO_STORE")
            .envs(env.iter().copied())
            .env("ATLASBOT_LOG", "atlasbot=debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        match pause {
            Some(p) => cmd.env("ATLASBOT_TEST_PAUSE", p),
            None => cmd.env_remove("ATLASBOT_TEST_PAUSE"),
        };
        Bot {
            child: cmd.spawn().expect("the bot starts"),
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the bot's log says `line`.
    fn wait_log(&self, line: &str) {
        let start = Instant::now();
        while !self.log().contains(line) {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the bot never logged {line:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, as a service manager stops it: it must exit cleanly and soon.
    fn stop(mut self) {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "exit after SIGTERM: {status}\n{}",
                    self.log()
                );
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "still running 10 s after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: no goodbye.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn wait_until_member(person: &Person, room: &str, user: &str, bot: &Bot, present: bool) {
    let start = Instant::now();
    while person.members(room).await.iter().any(|m| m == user) != present {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{user} never {} {room}; bot log:\n{}",
            if present { "joined" } else { "left" },
            bot.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const BOT: &str = "@atlasbot:localhost";

#[tokio::test(flavor = "multi_thread")]
async fn matrix_rooms_get_the_same_answers_as_the_console_as_html_notices_replying_to_the_command()
{
    let hs = Homeserver::start();
    let db = TempDb::new();
    let alice = Person::login(&hs, "alice", "alice-pw").await;
    let bob = Person::login(&hs, "bob", "bob-pw").await;
    let room = alice.create_room(json!({"name": "Study group"})).await;
    // Said before the bot was there: history, never answered.
    let history = alice.say(&room, "!actor WIPO").await;

    let bot = Bot::start(&hs, &db, None);
    alice.invite(&room, BOT).await;
    wait_until_member(&alice, &room, BOT, &bot, true).await;

    // The answer: a notice, HTML and plain, replying to the command, mentioning no one —
    // and its plain body is exactly what the console says.
    let (ask_wipo, reply) = alice.ask(&room, "!actor WIPO", &bot).await;
    assert_eq!(reply["sender"], BOT);
    let content = &reply["content"];
    assert_eq!(content["msgtype"], "m.notice");
    assert_eq!(content["format"], "org.matrix.custom.html");
    assert_eq!(content["m.mentions"], json!({}));
    assert_eq!(
        content["m.relates_to"]["m.in_reply_to"]["event_id"],
        ask_wipo
    );
    let html = content["formatted_body"].as_str().unwrap();
    assert!(
        html.starts_with("<p><strong>World Intellectual Property Organization (WIPO)</strong>"),
        "{html}"
    );
    // A question in plain words that mentions the bot (as clients send a mention pill) is
    // asked with /ask, and the answer says which command it ran.
    let mention = alice
        .send(
            &room,
            json!({"msgtype": "m.text", "body": "atlasbot: who works on kids safety online?",
                "m.mentions": {"user_ids": [BOT]}}),
        )
        .await;
    let answer = alice.reply_to(&room, &mention, &bot).await;
    let body = answer["content"]["body"].as_str().unwrap();
    assert!(
        body.contains("children") && body.contains("/who-works-on"),
        "{body}"
    );
    assert!(
        html.contains("<a href=\"https://www.wipo.int/\">"),
        "{html}"
    );
    let console = support::atlasbot(&db.path, &["ask", "/actor WIPO"]);
    assert_eq!(
        content["body"].as_str().unwrap(),
        support::stdout(&console).trim_end()
    );

    // `/actor` sent as text works the same; what people type is escaped, never markup.
    let (_, reply) = alice
        .ask(
            &room,
            "/actor <img src=x onerror=alert(1)> & \"Wïpø\"",
            &bot,
        )
        .await;
    let html = reply["content"]["formatted_body"].as_str().unwrap();
    assert!(!html.contains("<img"), "{html}");
    assert!(html.contains("&lt;img src=x"), "{html}");

    // Moderator commands: bob (power level 0) is refused, alice (the room's creator) is not.
    alice.invite(&room, &bob.id).await;
    bob.join(&room).await;
    let (_, refusal) = bob
        .ask(
            &room,
            "!event add title:Party when:\"tomorrow 10:00\"",
            &bot,
        )
        .await;
    let body = refusal["content"]["body"].as_str().unwrap();
    assert!(
        body.starts_with("Only moderators of this space can use /event add"),
        "{body}"
    );
    let (_, refusal) = bob.ask(&room, "!leave", &bot).await;
    assert!(
        refusal["content"]["body"]
            .as_str()
            .unwrap()
            .contains("Only moderators of this room (power level 50 or more)"),
        "{refusal}"
    );
    // The threshold is the room's to set: at 0, bob moderates too.
    alice.ask(&room, "!settings moderators power:0", &bot).await;
    let (_, allowed) = bob
        .ask(
            &room,
            "!event add title:Party when:\"tomorrow 10:00\"",
            &bot,
        )
        .await;
    let body = allowed["content"]["body"].as_str().unwrap();
    assert!(body.starts_with("Scheduled: Party"), "{body}");
    alice
        .ask(&room, "!settings moderators power:50", &bot)
        .await;
    let (_, scheduled) = alice
        .ask(
            &room,
            "!event add title:\"@room party\" when:\"tomorrow 10:00\"",
            &bot,
        )
        .await;
    let body = scheduled["content"]["body"].as_str().unwrap();
    assert!(body.starts_with("Scheduled: @\u{200B}room party"), "{body}");

    // An export comes as the answer plus the calendar file, uploaded, replying to the command.
    let (export, _) = alice.ask(&room, "!event export", &bot).await;
    let start = Instant::now();
    let file = loop {
        let files: Vec<Value> = alice
            .replies(&room, &export)
            .await
            .into_iter()
            .filter(|e| e["content"]["msgtype"] == "m.file")
            .collect();
        if let Some(f) = files.into_iter().next() {
            break f;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no file; bot log:\n{}",
            bot.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(file["content"]["body"], "events.ics");
    assert!(
        file["content"]["url"]
            .as_str()
            .unwrap()
            .starts_with("mxc://"),
        "{file}"
    );

    // A reminder room must be a Matrix room, or reminders would go nowhere.
    let (_, usage) = alice.ask(&room, "!settings channel events", &bot).await;
    assert!(
        usage["content"]["body"]
            .as_str()
            .unwrap()
            .contains("Give the room's id (!…) or alias (#name:server)"),
        "{usage}"
    );

    // A restart replays nothing; the new process answers new commands.
    bot.stop();
    let bot = Bot::start(&hs, &db, None);
    let (ask_help, help) = alice.ask(&room, "!help", &bot).await;
    assert!(help["content"]["body"].as_str().unwrap().contains("/actor"));
    // No waiting needed: the bot handles a room's timeline in order, one event after the
    // other, so once it has answered !help it has already passed over the older messages.
    assert!(
        alice.replies(&room, &history).await.is_empty(),
        "history is not answered"
    );
    for asked in [&ask_wipo, &ask_help] {
        assert_eq!(
            alice.replies(&room, asked).await.len(),
            1,
            "one answer to {asked}"
        );
    }
    let notices = alice
        .messages(&room)
        .await
        .into_iter()
        .filter(|e| e["sender"] == BOT)
        .count();
    // hello + WIPO + the question by mention + escaped + 2 refusals + 2 settings + Party +
    // @room party + export (answer and file) + usage + help
    assert_eq!(notices, 14, "{:#?}", alice.messages(&room).await);

    // The homeserver goes away and comes back: the bot reconnects by itself.
    hs.restart();
    let (_, topics) = alice.ask(&room, "!topics", &bot).await;
    assert!(
        topics["content"]["body"]
            .as_str()
            .unwrap()
            .contains("Cybersecurity"),
        "{topics}"
    );

    // A moderator sends it away.
    let (_, bye) = alice.ask(&room, "!leave", &bot).await;
    assert!(bye["content"]["body"]
        .as_str()
        .unwrap()
        .starts_with("Leaving this room"));
    wait_until_member(&alice, &room, BOT, &bot, false).await;
    bot.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn matrix_reminders_arrive_exactly_once_even_when_the_bot_is_killed_after_sending() {
    let hs = Homeserver::start();
    let db = TempDb::new();
    let alice = Person::login(&hs, "alice", "alice-pw").await;
    let room = alice.create_room(json!({"invite": [BOT]})).await;
    // Pauses after each delivery, before recording it: the window a crash can hit.
    let bot = Bot::start(&hs, &db, Some("after-send:60000"));
    wait_until_member(&alice, &room, BOT, &bot, true).await;
    alice.ask(&room, "!settings offsets 2m", &bot).await;
    let (_, scheduled) = alice
        .ask(
            &room,
            "!event add title:Standup when:\"in 2 minutes\"",
            &bot,
        )
        .await;
    assert!(scheduled["content"]["body"]
        .as_str()
        .unwrap()
        .starts_with("Scheduled: Standup"));
    alice.ask(&room, "!remind me 1 before:2m", &bot).await;

    let is_reminder = |e: &Value| {
        e["sender"] == BOT
            && e["content"]["body"]
                .as_str()
                .is_some_and(|b| b.starts_with("Reminder: Standup"))
    };
    // The first of the two reminders (to the room, or to alice in a new direct room) is sent.
    let start = Instant::now();
    loop {
        let sent = alice.messages(&room).await;
        if sent.iter().any(is_reminder) || !alice.invites().await.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no reminder; bot log:\n{}",
            bot.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Sent, not yet recorded: killed now, the reminder stays claimed in the database.
    bot.kill();
    let store = db.store().await;
    let states = store.reminder_states(EventId(1)).await.unwrap();
    assert!(
        states.iter().any(|(_, s)| *s == ReminderState::Claimed),
        "{states:?}"
    );
    store.close().await;

    // The restarted bot sends the claimed reminder again under the same transaction id —
    // the homeserver keeps the first — and delivers the personal one to a direct room.
    let bot = Bot::start(&hs, &db, None);
    let start = Instant::now();
    loop {
        let store = db.store().await;
        let states = store.reminder_states(EventId(1)).await.unwrap();
        store.close().await;
        if states.iter().all(|(_, s)| *s == ReminderState::Sent) && states.len() == 2 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "not all sent: {states:?}; bot log:\n{}",
            bot.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let in_room: Vec<Value> = alice
        .messages(&room)
        .await
        .into_iter()
        .filter(|e| is_reminder(e))
        .collect();
    assert_eq!(
        in_room.len(),
        1,
        "exactly one reminder in the room: {in_room:#?}"
    );
    assert_eq!(
        in_room[0]["content"]["msgtype"], "m.text",
        "a reminder notifies"
    );
    assert_eq!(in_room[0]["content"]["m.mentions"], json!({}));

    let invites = alice.invites().await;
    assert_eq!(invites.len(), 1, "the bot opened one direct room");
    alice.join(&invites[0]).await;
    let personal: Vec<Value> = alice
        .messages(&invites[0])
        .await
        .into_iter()
        .filter(|e| is_reminder(e))
        .collect();
    assert_eq!(personal.len(), 1, "{personal:#?}");

    // Alice leaves that direct room: the bot forgets it, and her next reminder opens a new one.
    let dm = invites[0].clone();
    alice
        .call(
            reqwest::Method::POST,
            &format!("rooms/{dm}/leave"),
            Some(json!({})),
        )
        .await;
    let start = Instant::now();
    loop {
        let store = db.store().await;
        let known = store.matrix_direct_room(BOT, &alice.id).await.unwrap();
        store.close().await;
        if known.is_none() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the left room is still used; bot log:\n{}",
            bot.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    alice
        .ask(&room, "!event add title:Retro when:\"in 2 minutes\"", &bot)
        .await;
    let (_, subscribed) = alice.ask(&room, "!remind me 2 before:2m", &bot).await;
    let start = Instant::now();
    let fresh = loop {
        if let Some(r) = alice.invites().await.into_iter().find(|r| *r != dm) {
            break r;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no new direct room after {subscribed}; bot log:\n{}",
            bot.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    alice.join(&fresh).await;
    let start = Instant::now();
    while !alice.messages(&fresh).await.iter().any(|e| {
        e["content"]["body"]
            .as_str()
            .is_some_and(|b| b.starts_with("Reminder: Retro"))
    }) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no reminder in the new room"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bot.stop();
}

/// Runtime state on PostgreSQL, two bot processes for one account (two machines, as far as
/// they know): one leads the sync loop and answers, the other waits; when the leader is killed
/// the other takes over from the stored sync position — nothing is answered twice, nothing
/// said meanwhile is lost. (Needs the test PostgreSQL server as well as Synapse.)
#[tokio::test(flavor = "multi_thread")]
async fn two_bot_processes_share_an_account_one_answers_and_the_other_takes_over_when_it_is_killed()
{
    let hs = Homeserver::start();
    let db = TempDb::new();
    let url = support::fresh_postgres_database("t_matrix_two_bots");
    let state = |atlas: &str| {
        let file = db.dir.path().join(atlas);
        std::fs::copy(&db.path, &file).unwrap();
        vec![
            "--db".to_string(),
            url.clone(),
            "--atlas".into(),
            file.display().to_string(),
        ]
    };
    let leader = Bot::start_with(&hs, db.dir.path(), &state("a.db"), None);
    leader.wait_log("leading the sync loop");
    let standby = Bot::start_with(&hs, db.dir.path(), &state("b.db"), None);
    standby.wait_log("waiting to take over");

    let alice = Person::login(&hs, "alice", "alice-pw").await;
    let room = alice.create_room(json!({"invite": [BOT]})).await;
    wait_until_member(&alice, &room, BOT, &leader, true).await;
    let (first_question, _) = alice.ask(&room, "!actor WIPO", &leader).await;

    leader.kill();
    // Said while nobody syncs: answered by the new leader, not lost.
    let meanwhile = alice.say(&room, "!standard 62443").await;
    standby.wait_log("leading the sync loop");
    alice.reply_to(&room, &meanwhile, &standby).await;
    let (after, _) = alice.ask(&room, "!define WSIS", &standby).await;

    // Enough time for a replayed batch to have been answered again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for question in [&first_question, &meanwhile, &after] {
        assert_eq!(
            alice.replies(&room, question).await.len(),
            1,
            "one answer to {question}; standby log:\n{}",
            standby.log()
        );
    }
    assert!(
        !standby.log().contains("M_UNKNOWN_TOKEN"),
        "{}",
        standby.log()
    );
    standby.stop();
}

/// Encrypted rooms, with a person whose client encrypts.
#[path = "matrix_e2ee.rs"]
mod e2ee;

/// Following on Matrix: Bob follows a topic in the room; when Alice (who moderates it) adds an
/// event on it, Bob is told once in a direct room the bot opens for him.
#[tokio::test(flavor = "multi_thread")]
async fn a_follower_is_told_of_a_new_event_on_the_topic_in_a_direct_room() {
    let hs = Homeserver::start();
    let db = TempDb::new();
    let alice = Person::login(&hs, "alice", "alice-pw").await;
    let bob = Person::login(&hs, "bob", "bob-pw").await;
    let room = alice
        .create_room(json!({"invite": [BOT, bob.id.clone()]}))
        .await;
    bob.join(&room).await;
    let bot = Bot::start(&hs, &db, None);
    wait_until_member(&alice, &room, BOT, &bot, true).await;
    let (_, followed) = bob.ask(&room, "!follow cybersecurity", &bot).await;
    assert!(
        followed["content"]["body"]
            .as_str()
            .unwrap()
            .starts_with("Following Cybersecurity"),
        "{followed}"
    );
    let (_, scheduled) = alice
        .ask(
            &room,
            "!event add title:\"Cybersecurity clinic\" when:\"in 3 days\"",
            &bot,
        )
        .await;
    assert!(
        scheduled["content"]["body"]
            .as_str()
            .unwrap()
            .contains("Topics (inferred from the title and description): Cybersecurity"),
        "{scheduled}"
    );
    let start = Instant::now();
    let dm = loop {
        if let Some(r) = bob.invites().await.into_iter().next() {
            break r;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no direct room for the follower; bot log:\n{}",
            bot.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    bob.join(&dm).await;
    let is_note = |e: &Value| {
        e["sender"] == BOT
            && e["content"]["body"]
                .as_str()
                .is_some_and(|b| b.starts_with("New event: Cybersecurity clinic"))
    };
    let start = Instant::now();
    while !bob.messages(&dm).await.iter().any(is_note) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no note in the direct room; bot log:\n{}",
            bot.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        alice.invites().await.is_empty(),
        "the moderator who added it is not told"
    );
    bot.stop();
    let notes = bob.messages(&dm).await.into_iter().filter(is_note).count();
    assert_eq!(notes, 1, "told once");
}

/// #29 against a real Synapse: reminders due together in several rooms go out side by side
/// (lanes), and each room gets each of its reminders exactly once.
#[tokio::test(flavor = "multi_thread")]
async fn reminders_due_together_in_several_rooms_arrive_once_each() {
    use atlasbot::domain::{SpaceId, Target};
    let hs = Homeserver::start();
    let db = TempDb::new();
    let alice = Person::login(&hs, "alice", "alice-pw").await;
    let bot = Bot::start(&hs, &db, None);
    let mut rooms = Vec::new();
    for _ in 0..3 {
        let room = alice.create_room(json!({"invite": [BOT]})).await;
        wait_until_member(&alice, &room, BOT, &bot, true).await;
        rooms.push(room);
    }
    // Ten reminders per room, all due now, written by another process (the bot hears of them).
    let store = db.store().await;
    let now = chrono::Utc::now();
    let occurrence = now + chrono::Duration::minutes(30);
    let forever = chrono::DateTime::from_timestamp(253_402_214_400, 0).unwrap();
    for (r, room) in rooms.iter().enumerate() {
        for k in 0..10 {
            let mut input = support::event_input(&format!("Session {r}-{k}"), occurrence);
            input.space = SpaceId::matrix(room);
            let id = store
                .insert_event(&input, &format!("s{r}-{k}@test"), now)
                .await
                .unwrap();
            let owed = atlasbot::events::plan(id, &[occurrence], &[(30, Target::Space)]);
            let event = store.event(id).await.unwrap().unwrap();
            let planned: Vec<_> = owed
                .into_iter()
                .map(|p| atlasbot::events::Planned { due: now, ..p })
                .collect();
            let written = store.replan(&event, &planned, forever).await.unwrap();
            assert_eq!(written, atlasbot::store::events::PlanWrite::Written);
        }
    }
    store.close().await;
    let is_reminder = |e: &Value| {
        e["sender"] == BOT
            && e["content"]["body"]
                .as_str()
                .is_some_and(|b| b.starts_with("Reminder: Session"))
    };
    let start = Instant::now();
    loop {
        let mut arrived = 0;
        for room in &rooms {
            arrived += alice
                .messages(room)
                .await
                .iter()
                .filter(|e| is_reminder(e))
                .count();
        }
        if arrived >= 30 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{arrived} of 30 arrived; bot log:\n{}",
            bot.log()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    for (r, room) in rooms.iter().enumerate() {
        let bodies: Vec<String> = alice
            .messages(room)
            .await
            .iter()
            .filter(|e| is_reminder(e))
            .map(|e| {
                e["content"]["body"]
                    .as_str()
                    .unwrap()
                    .lines()
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect();
        for k in 0..10 {
            let title = format!("Reminder: Session {r}-{k}");
            let n = bodies.iter().filter(|b| b.starts_with(&title)).count();
            assert_eq!(n, 1, "{title} arrived {n} times in room {r}: {bodies:?}");
        }
    }
    bot.stop();
}
