//! Matrix: the bot in rooms. Text commands (`!actor WIPO`, or `/actor WIPO` sent as text) go
//! to the same core as the console; answers are `m.notice` replies with HTML; reminders are
//! `m.text` sent with the reminder's key as transaction id. In end-to-end encrypted rooms
//! commands are decrypted and everything the bot says is encrypted (`crypto`); a 👍 on an
//! event card or reminder subscribes to personal reminders, removing it unsubscribes.
//!
//! What a restart must not do, and how it is prevented:
//! - replay commands: the sync position is stored after each handled batch, and replies are
//!   sent with a transaction id derived from the command's event id — a batch handled twice
//!   (a crash before the position was stored) answers once;
//! - answer history: in a room's timeline, everything up to the bot's own join is skipped,
//!   and on the very first sync (no stored position) nothing is answered at all;
//! - send a reminder twice: the scheduler's key is the transaction id, and the device (to
//!   which homeservers scope transaction ids) is stored and reused.

pub mod client;
pub mod crypto;

use crate::domain::{Platform, SpaceId, Target};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::{json, Value};

use self::client::{Client, Event, JoinedRoom, MatrixError, Sync};
use crate::commands::{self, Caller, Context};
use crate::render;
use crate::reply::{Reply, Text, Tone};
use crate::scheduler::{Delivery, DeliveryError, Outbox};
use crate::store::Store;

/// What `atlasbot matrix` needs to know (read by `config`, secrets from the environment).
pub struct Settings {
    pub homeserver: String,
    pub user: String,
    pub password: Option<String>,
    pub access_token: Option<String>,
    /// Servers whose users may invite the bot; empty: any.
    pub allowed_servers: Vec<String>,
    /// The end-to-end encryption store's directory, and its passphrase (a secret).
    pub crypto_store: std::path::PathBuf,
    pub crypto_passphrase: Option<String>,
    /// The account's recovery key (a secret): with it the bot cross-signs its own device.
    pub recovery_key: Option<String>,
}

/// Only what the bot reacts to: no presence, receipts, typing or account data; state and
/// timeline limited to the event types it reads.
const FILTER: &str = r#"{"presence":{"types":[]},"account_data":{"types":[]},"room":{"ephemeral":{"types":[]},"account_data":{"types":[]},"state":{"types":["m.room.create","m.room.power_levels","m.room.encryption"]},"timeline":{"limit":50,"types":["m.room.message","m.room.member","m.room.encrypted","m.room.encryption","m.room.power_levels","m.room.create","m.reaction","m.room.redaction"]}}}"#;
const SYNC_TIMEOUT: Duration = Duration::from_secs(30);
/// Bytes of plain body a message may carry (with the HTML, well under Matrix's 64 KiB).
const MAX_BODY: usize = 24_000;

/// How long an encrypted message waits for its room key (which may come in a later sync than
/// the message) before the bot says it cannot read it.
const KEY_WAIT: Duration = Duration::from_secs(10);
/// How often the sync returns while messages wait for their keys.
const KEY_WAIT_SYNC: Duration = Duration::from_secs(2);
/// Messages waiting for keys, at most (older ones are explained at once beyond this).
const MAX_WAITING: usize = 256;
/// The key, in a message's content, of the event a card or reminder is about (what a 👍 on
/// it subscribes to). Inside the encryption, like the rest of the content.
const EVENT_MARKER: &str = "org.atlasbot.event";

/// A room's power facts: its power levels and, from room version 12 on, its creators (who
/// outrank every power level and are not listed in it).
#[derive(Debug, Clone, Default)]
struct RoomPower {
    levels: Option<Value>,
    creators: Option<Vec<String>>,
}

impl RoomPower {
    fn level_of(&self, user: &str) -> i64 {
        if self
            .creators
            .as_ref()
            .is_some_and(|c| c.iter().any(|u| u == user))
        {
            return i64::MAX;
        }
        let Some(levels) = &self.levels else {
            return 0;
        };
        // Old rooms may carry levels as strings; both forms are read.
        let number = |v: &Value| v.as_i64().or_else(|| v.as_str()?.trim().parse().ok());
        levels["users"]
            .get(user)
            .and_then(number)
            .or_else(|| number(&levels["users_default"]))
            .unwrap_or(0)
    }
}

/// The creators who outrank power levels: the create event's sender and `additional_creators`,
/// in room versions with privileged creators (12 and later). Earlier versions: none.
fn privileged_creators(create: &Event) -> Vec<String> {
    let version = create.content["room_version"].as_str().unwrap_or("1");
    if version.parse::<u32>().map_or(true, |v| v < 12) {
        return vec![];
    }
    let mut creators = vec![create.sender.clone()];
    if let Some(more) = create.content["additional_creators"].as_array() {
        creators.extend(more.iter().filter_map(|v| v.as_str().map(str::to_string)));
    }
    creators
}

/// The command in a message, if it is one: a `m.text` (not a notice — other bots speak in
/// notices, and bots must not answer each other), not an edit, whose body (without a reply
/// quote) starts with `!` or `/` and a letter.
pub fn command_in(e: &Event, me: &str) -> Option<String> {
    if e.kind != "m.room.message" || e.sender == me {
        return None;
    }
    if e.content["msgtype"].as_str() != Some("m.text") {
        return None;
    }
    if e.content["m.relates_to"]["rel_type"].as_str() == Some("m.replace") {
        return None;
    }
    let full = e.content["body"].as_str()?;
    let body = strip_reply_fallback(full).trim();
    if is_command(body) {
        return Some(body.to_string());
    }
    // A message that mentions the bot or replies to it: a question in plain words.
    if !addresses(e, full, me) {
        return None;
    }
    let question: String = without_mention(body, me).chars().take(2000).collect();
    Some(if question.is_empty() {
        "/help".to_string()
    } else if is_command(&question) {
        question
    } else {
        format!("/ask {question}")
    })
}

fn is_command(body: &str) -> bool {
    let mut chars = body.chars();
    matches!((chars.next(), chars.next()), (Some('!' | '/'), Some(c)) if c.is_alphabetic())
}

/// Whether a message is addressed to the bot: its intentional mentions name it (clients put
/// the author of a message replied to there too), its text or link pill names it, or its
/// reply quote (older clients) quotes it.
fn addresses(e: &Event, full_body: &str, me: &str) -> bool {
    let listed = e.content["m.mentions"]["user_ids"]
        .as_array()
        .is_some_and(|ids| ids.iter().any(|u| u.as_str() == Some(me)));
    let pill = e.content["formatted_body"].as_str().is_some_and(|f| {
        f.contains(&format!("matrix.to/#/{me}"))
            || f.contains(&format!("matrix.to/#/{}", me.replacen('@', "%40", 1)))
    });
    listed || pill || full_body.contains(me) || full_body.starts_with(&format!("> <{me}>"))
}

/// The question without the bot's id and the "Name:" a client puts before a mention.
fn without_mention(body: &str, me: &str) -> String {
    let text = body.replace(me, " ");
    let text = text.trim_start();
    let text = match text.split_once(char::is_whitespace) {
        Some((first, rest)) if first.ends_with(':') && first.len() <= 64 => rest,
        _ if text.ends_with(':') && !text.contains(char::is_whitespace) => "",
        _ => text,
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Older clients quote the message replied to as `> ` lines and a blank line before the text.
fn strip_reply_fallback(body: &str) -> &str {
    if !body.starts_with("> ") {
        return body;
    }
    match body.find("\n\n") {
        Some(i) if body[..i].lines().all(|l| l.starts_with('>')) => &body[i + 2..],
        _ => body,
    }
}

/// Whether `e` is the bot joining (not a profile change of an existing member).
fn is_own_join(e: &Event, me: &str) -> bool {
    e.kind == "m.room.member"
        && e.state_key.as_deref() == Some(me)
        && e.content["membership"].as_str() == Some("join")
        && e.unsigned["prev_content"]["membership"].as_str() != Some("join")
}

/// The server part of a user id: `@alice:example.org` → `example.org`.
fn server_of(user: &str) -> Option<&str> {
    user.split_once(':').map(|(_, s)| s)
}

/// Whether an invitation from `inviter` is accepted: any, or only from the allowed servers.
fn may_invite(allowed_servers: &[String], inviter: &str) -> bool {
    allowed_servers.is_empty()
        || server_of(inviter)
            .is_some_and(|s| allowed_servers.iter().any(|a| a.eq_ignore_ascii_case(s)))
}

/// Cuts text to at most `max` bytes at a character boundary, marking the cut.
fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub(4);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n…", &s[..end])
}

/// A message from a `Reply`: a plain `body` and an HTML `formatted_body`, both escaped and
/// defanged, with `m.mentions` empty so that no name or `@room` in it notifies anyone. An
/// answer replies to its command — inside the command's thread, if it was asked in one.
pub fn message_content(reply: &Reply, msgtype: &str, in_reply_to: Option<&Event>) -> Value {
    let body = cut(
        &crate::reply::defang_mentions(&render::plain::render(reply)),
        MAX_BODY,
    );
    let mut content = json!({
        "msgtype": msgtype,
        "body": body.trim_end(),
        "format": "org.matrix.custom.html",
        "formatted_body": render::html::render(reply),
        "m.mentions": {},
    });
    if let Some(event) = remind_event(reply) {
        // Buttons, as Matrix has them: a reaction.
        content[EVENT_MARKER] = json!(event);
        let hint = "React 👍 to be reminded personally; remove it to stop.";
        content["body"] = json!(format!(
            "{}\n\n{hint}",
            content["body"].as_str().unwrap_or("")
        ));
        content["formatted_body"] = json!(format!(
            "{}<p><em>{hint}</em></p>",
            content["formatted_body"].as_str().unwrap_or("")
        ));
    }
    if let Some(command) = in_reply_to {
        let relates = &command.content["m.relates_to"];
        content["m.relates_to"] = match relates["event_id"].as_str() {
            Some(root) if relates["rel_type"] == "m.thread" => json!({
                "rel_type": "m.thread",
                "event_id": root,
                "is_falling_back": false,
                "m.in_reply_to": {"event_id": command.event_id},
            }),
            _ => json!({"m.in_reply_to": {"event_id": command.event_id}}),
        };
    }
    content
}

/// The event a reply offers personal reminders for (its "Remind me" buttons elsewhere).
fn remind_event(reply: &Reply) -> Option<i64> {
    reply.actions.iter().find_map(|a| match a {
        crate::reply::Action::StopReminding { event, .. } => Some(*event),
        _ => None,
    })
}

/// 👍 in any skin tone or presentation.
fn is_thumbs_up(key: &str) -> bool {
    key.starts_with('\u{1F44D}')
}

/// An encrypted message waiting for its room key.
struct Waiting {
    room: String,
    event: Event,
    since: std::time::Instant,
}

/// The client, replaced after a re-login; shared by the sync loop and the outbox.
#[derive(Clone)]
struct Shared(Arc<RwLock<Client>>);

impl Shared {
    fn get(&self) -> Client {
        self.0.read().expect("not poisoned").clone()
    }

    fn set(&self, c: Client) {
        *self.0.write().expect("not poisoned") = c;
    }
}

struct Bot {
    ctx: Context,
    client: Shared,
    me: String,
    allowed_servers: Vec<String>,
    power: tokio::sync::Mutex<HashMap<String, RoomPower>>,
    /// Rooms recorded in the database by this process (so a busy room costs no query per sync).
    recorded: std::sync::Mutex<std::collections::HashSet<String>>,
    crypto: Arc<crypto::Crypto>,
    /// Whether each room seen is encrypted (once encrypted, a room stays so).
    encrypted: std::sync::Mutex<HashMap<String, bool>>,
    waiting: std::sync::Mutex<Vec<Waiting>>,
}

/// Logs in on `keyed`, the device whose keys the crypto store holds, if it holds any: with
/// the access token (checked against MATRIX_USER and that device), or with the password. A
/// store without keys logs in on the stored device unless that device already has keys on
/// the server (another store's: they would clash), then on a new one. The device is stored;
/// the token is not. Returns the client and its device.
async fn connect(
    store: &Store,
    s: &Settings,
    keyed: Option<&str>,
) -> Result<(Client, String), String> {
    if !s.user.starts_with('@') || server_of(&s.user).is_none() {
        return Err(format!(
            "MATRIX_USER must be a full user id such as @atlasbot:example.org, not {:?}",
            s.user
        ));
    }
    let client = Client::new(&s.homeserver).map_err(|e| e.to_string())?;
    let now = chrono::Utc::now();
    if let Some(token) = &s.access_token {
        let client = client.with_token(token.clone());
        let who = client
            .whoami()
            .await
            .map_err(|e| format!("MATRIX_ACCESS_TOKEN was not accepted: {e}"))?;
        if who.user_id != s.user {
            return Err(format!(
                "MATRIX_ACCESS_TOKEN belongs to {}, not to MATRIX_USER {}",
                who.user_id, s.user
            ));
        }
        let device = who.device_id.ok_or(
            "MATRIX_ACCESS_TOKEN is not a device's token (end-to-end encryption needs one)",
        )?;
        if let Some(k) = keyed.filter(|k| *k != device) {
            return Err(format!(
                "MATRIX_CRYPTO_STORE holds the keys of device {k}, but MATRIX_ACCESS_TOKEN is for device {device}: use a token of {k}, or another MATRIX_CRYPTO_STORE"
            ));
        }
        if keyed.is_none() && crypto::device_has_keys(&client, &s.user, &device).await {
            // New keys for a device others know would look like an attack to their clients.
            return Err(format!(
                "MATRIX_ACCESS_TOKEN is for device {device}, which already has encryption keys that are not in MATRIX_CRYPTO_STORE (another client's, or a lost store): give the bot a token of its own device, or use MATRIX_PASSWORD"
            ));
        }
        store
            .set_matrix_device(&s.user, &device, now)
            .await
            .map_err(|e| e.to_string())?;
        return Ok((client, device));
    }
    let Some(password) = &s.password else {
        return Err("set MATRIX_PASSWORD or MATRIX_ACCESS_TOKEN in the environment".into());
    };
    let remembered = store
        .matrix_account(&s.user)
        .await
        .map_err(|e| e.to_string())?
        .device_id;
    let mut login = log_in(&client, s, password, keyed.or(remembered.as_deref())).await?;
    if keyed.is_none() {
        let token = client.clone().with_token(login.access_token.clone());
        if crypto::device_has_keys(&token, &s.user, &login.device_id).await {
            tracing::info!(device = %login.device_id, "that device's keys are in another crypto store; logging in on a new device");
            login = log_in(&client, s, password, None).await?;
        }
    }
    store
        .set_matrix_device(&s.user, &login.device_id, now)
        .await
        .map_err(|e| e.to_string())?;
    Ok((client.with_token(login.access_token), login.device_id))
}

async fn log_in(
    client: &Client,
    s: &Settings,
    password: &str,
    device: Option<&str>,
) -> Result<client::Login, String> {
    let login = client
        .login(&s.user, password, device)
        .await
        .map_err(|e| format!("login as {} failed: {e}", s.user))?;
    if login.user_id != s.user {
        return Err(format!(
            "logged in as {}, but MATRIX_USER is {}",
            login.user_id, s.user
        ));
    }
    Ok(login)
}

/// Opens the crypto store, logs in on its device and brings the device's keys to the server.
async fn start(store: &Store, s: &Settings) -> Result<(Client, crypto::Crypto), String> {
    let keys = crypto::OpenStore::open(&s.crypto_store, s.crypto_passphrase.as_deref()).await?;
    let keyed = keys.device().await?;
    let (client, device) = connect(store, s, keyed.as_deref()).await?;
    let crypto = crypto::Crypto::new(keys, &s.user, &device).await?;
    if let Err(e) = crypto.flush(&client).await {
        tracing::warn!(error = %e, "cannot upload the device's keys yet; retried at the next sync");
    }
    if let Some(key) = &s.recovery_key {
        crypto
            .cross_sign_own_device(&client, key, s.password.as_deref())
            .await
            .map_err(|e| format!("MATRIX_RECOVERY_KEY: {e}"))?;
    }
    tracing::info!(%device, key = %crypto.ed25519_key(), "end-to-end encryption ready");
    Ok((client, crypto))
}

/// `atlasbot matrix`: logs in, starts the scheduler once, then syncs until SIGINT/SIGTERM.
pub async fn run(ctx: Context, settings: Settings) -> ExitCode {
    let (client, crypto) = match start(&ctx.store, &settings).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("atlasbot matrix: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bot = Arc::new(Bot {
        ctx: ctx.clone(),
        client: Shared(Arc::new(RwLock::new(client))),
        me: settings.user.clone(),
        allowed_servers: settings.allowed_servers.clone(),
        power: Default::default(),
        recorded: Default::default(),
        crypto: Arc::new(crypto),
        encrypted: Default::default(),
        waiting: Default::default(),
    });
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(shutdown_on_signal(stop));
    // Started once, at start-up — not on a sync, not per room.
    let outbox = Arc::new(MatrixOutbox { bot: bot.clone() });
    let reminders = super::start_reminders(
        &ctx,
        crate::domain::Platform::Matrix,
        outbox,
        stopped.clone(),
    );
    tracing::info!(user = %bot.me, "connected to Matrix");
    let code = match lead(&ctx.store, &bot.me, stopped.clone()).await {
        Ok(Some(lead)) => bot.sync_loop(&settings, lead, stopped).await,
        Ok(None) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("atlasbot matrix: cannot take the lead of the sync loop: {e}");
            ExitCode::FAILURE
        }
    };
    super::finish_reminders(reminders).await;
    code
}

/// Waits to lead this account's sync loop (one process of a cluster does; the others deliver
/// reminders meanwhile and take over when it dies). None: shut down while waiting.
async fn lead(
    store: &crate::store::Store,
    me: &str,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) -> Result<Option<crate::store::SyncLead>, crate::store::StoreError> {
    let waiting = tokio::time::sleep(Duration::from_secs(1));
    tokio::pin!(waiting);
    let taking = store.lead_matrix_sync(me);
    tokio::pin!(taking);
    loop {
        tokio::select! {
            lead = &mut taking => {
                tracing::info!(user = %me, "leading the sync loop");
                return lead.map(Some);
            }
            _ = &mut waiting, if !waiting.is_elapsed() => {
                tracing::info!(user = %me, "another process syncs this account; waiting to take over");
            }
            _ = stopped.changed() => return Ok(None),
        }
    }
}

async fn shutdown_on_signal(stop: tokio::sync::watch::Sender<bool>) {
    super::shutdown_signal().await;
    let _ = stop.send(true);
}

impl Bot {
    async fn sync_loop(
        &self,
        settings: &Settings,
        mut lead: crate::store::SyncLead,
        mut stopped: tokio::sync::watch::Receiver<bool>,
    ) -> ExitCode {
        let store = &self.ctx.store;
        let mut since = match store.matrix_account(&self.me).await {
            Ok(a) => a.next_batch,
            Err(e) => {
                eprintln!("atlasbot matrix: cannot read the sync position: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut backoff = Duration::from_secs(1);
        self.crypto.set_syncing();
        loop {
            if *stopped.borrow() {
                return ExitCode::SUCCESS;
            }
            if !lead.holds().await {
                // Another process may be syncing now: handling the same batch twice would
                // answer twice. Exit, for a supervisor to restart us as a follower.
                eprintln!("atlasbot matrix: lost the lead of the sync loop (database connection); exiting");
                return ExitCode::FAILURE;
            }
            let first = since.is_none();
            let timeout = match (first, self.waiting.lock().expect("not poisoned").is_empty()) {
                (true, _) => Duration::ZERO,
                (false, true) => SYNC_TIMEOUT,
                (false, false) => KEY_WAIT_SYNC,
            };
            let client = self.client.get();
            let result = tokio::select! {
                r = client.sync(since.as_deref(), timeout, FILTER) => r,
                _ = stopped.changed() => return ExitCode::SUCCESS,
            };
            match result {
                Ok(batch) => {
                    backoff = Duration::from_secs(1);
                    self.handle(&batch, first).await;
                    if let Err(e) = store
                        .set_matrix_next_batch(&self.me, &batch.next_batch, chrono::Utc::now())
                        .await
                    {
                        tracing::error!(error = %e, "cannot store the sync position");
                    }
                    since = Some(batch.next_batch);
                }
                Err(e) if e.errcode() == Some("M_UNKNOWN_TOKEN") => {
                    if settings.password.is_none() {
                        eprintln!("atlasbot matrix: the access token is no longer valid ({e}); set a new MATRIX_ACCESS_TOKEN");
                        return ExitCode::FAILURE;
                    }
                    tracing::warn!("access token expired; logging in again");
                    match connect(store, settings, Some(self.crypto.device_id())).await {
                        Ok((c, _)) => self.client.set(c),
                        Err(err) => {
                            tracing::error!(error = %err, "login failed; retrying");
                            tokio::time::sleep(backoff).await;
                            backoff = (backoff * 2).min(Duration::from_secs(60));
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, wait_s = backoff.as_secs(), "sync failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stopped.changed() => return ExitCode::SUCCESS,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                }
            }
        }
    }

    /// One sync batch: keys first (a message's room key often comes with it), then
    /// invitations, each joined room, rooms left, and messages that waited for keys.
    async fn handle(&self, batch: &Sync, first: bool) {
        let client = self.client.get();
        if let Err(e) = self.crypto.receive(batch).await {
            tracing::error!(error = %e, "cannot take in the sync's keys");
        }
        if let Err(e) = self.crypto.flush(&client).await {
            tracing::warn!(error = %e, "encryption requests failed; retried at the next sync");
        }
        for (room, invited) in &batch.rooms.invite {
            self.on_invite(room, &invited.invite_state.events).await;
        }
        for (room, joined) in &batch.rooms.join {
            self.on_room(room, joined, first).await;
        }
        for room in batch.rooms.leave.keys() {
            tracing::info!(%room, "left the room");
            self.forget_room(room).await;
        }
        if !first {
            self.retry_waiting().await;
        }
    }

    async fn on_invite(&self, room: &str, state: &[Event]) {
        let inviter = state
            .iter()
            .find(|e| {
                e.kind == "m.room.member"
                    && e.state_key.as_deref() == Some(self.me.as_str())
                    && e.content["membership"].as_str() == Some("invite")
            })
            .map(|e| e.sender.clone())
            .unwrap_or_default();
        let client = self.client.get();
        if !may_invite(&self.allowed_servers, &inviter) {
            tracing::info!(%room, %inviter, "invitation declined: server not in MATRIX_ALLOWED_SERVERS");
            if let Err(e) = client.leave(room).await {
                tracing::warn!(%room, error = %e, "cannot decline the invitation");
            }
            return;
        }
        match client.join(room).await {
            Ok(()) => {
                tracing::info!(%room, %inviter, "joined");
                self.record_room(room).await;
                let mut hello = Reply::answer(
                    "Hello! I answer questions about the Geneva digital-policy ecosystem.",
                );
                hello.summary = Some(Text::plain(
                    "Try !actor WIPO, !standard 27001, !who-works-on cybercrime or !help. Moderators (power level 50 and up) can schedule events with !event add and send me away with !leave.",
                ));
                self.send(
                    room,
                    &format!("hello-{room}"),
                    &message_content(&hello, "m.notice", None),
                )
                .await;
            }
            Err(e) => tracing::warn!(%room, error = %e, "cannot join"),
        }
    }

    async fn on_room(&self, room: &str, joined: &JoinedRoom, first: bool) {
        let all = joined
            .state
            .events
            .iter()
            .chain(joined.timeline.events.iter());
        let mut encrypted = false;
        {
            let mut power = self.power.lock().await;
            for e in all {
                match e.kind.as_str() {
                    "m.room.power_levels" if e.state_key.as_deref() == Some("") => {
                        power.entry(room.to_string()).or_default().levels = Some(e.content.clone());
                    }
                    "m.room.create" if e.state_key.as_deref() == Some("") => {
                        power.entry(room.to_string()).or_default().creators =
                            Some(privileged_creators(e));
                    }
                    "m.room.encryption" | "m.room.encrypted" => encrypted = true,
                    _ => {}
                }
            }
        }
        if encrypted {
            self.encrypted
                .lock()
                .expect("not poisoned")
                .insert(room.to_string(), true);
        }
        self.record_room(room).await;
        self.on_direct_room_left(room, &joined.timeline.events)
            .await;
        if first {
            // The first sync of a new device is history: nothing in it is answered.
            return;
        }
        let events = &joined.timeline.events;
        let start = events
            .iter()
            .rposition(|e| is_own_join(e, &self.me))
            .map_or(0, |i| i + 1);
        for e in &events[start..] {
            self.on_event(room, e).await;
        }
    }

    /// One new event of a room's timeline, decrypted first if it is encrypted; one whose key
    /// has not come yet waits for it (`retry_waiting`).
    async fn on_event(&self, room: &str, e: &Event) {
        if e.kind != "m.room.encrypted" {
            return self.on_clear_event(room, e).await;
        }
        if e.sender == self.me {
            return;
        }
        match self.crypto.decrypt(room, e).await {
            Ok(clear) => self.on_clear_event(room, &clear).await,
            Err(why) => {
                tracing::info!(%room, event = %e.event_id, why = %why.why, "cannot decrypt yet; waiting for the key");
                let mut waiting = self.waiting.lock().expect("not poisoned");
                if waiting.len() >= MAX_WAITING {
                    // Bounded: the oldest is given up on (explained at the next retry).
                    waiting.remove(0);
                }
                waiting.push(Waiting {
                    room: room.to_string(),
                    event: e.clone(),
                    since: std::time::Instant::now(),
                });
            }
        }
    }

    async fn on_clear_event(&self, room: &str, e: &Event) {
        if let Some(line) = command_in(e, &self.me) {
            return self.on_command(room, e, &line).await;
        }
        if e.sender == self.me {
            return;
        }
        match e.kind.as_str() {
            "m.reaction" => self.on_reaction(room, e).await,
            "m.room.redaction" => self.on_redaction(e).await,
            _ => {}
        }
    }

    /// Messages that waited for their keys: decrypted and handled if the keys came, explained
    /// once (per sender and session) when they have waited long enough.
    async fn retry_waiting(&self) {
        let waiting = std::mem::take(&mut *self.waiting.lock().expect("not poisoned"));
        for w in waiting {
            match self.crypto.decrypt(&w.room, &w.event).await {
                Ok(clear) => self.on_clear_event(&w.room, &clear).await,
                Err(_) if w.since.elapsed() < KEY_WAIT => {
                    self.waiting.lock().expect("not poisoned").push(w);
                }
                Err(why) => self.explain_undecryptable(&w.room, &w.event, &why).await,
            }
        }
    }

    async fn explain_undecryptable(&self, room: &str, e: &Event, why: &crypto::Undecryptable) {
        tracing::warn!(%room, event = %e.event_id, sender = %e.sender, why = %why.why, "cannot decrypt");
        let first = self
            .ctx
            .store
            .claim_undecryptable_notice(&self.me, &e.sender, &why.session_id)
            .await
            .unwrap_or(false);
        if !first {
            return;
        }
        let mut r = Reply::new(Tone::Refusal);
        r.summary = Some(Text::plain(format!(
            "I could not decrypt a message from {} here: its key never reached me. If it was for me, please send it again. If this keeps happening, let your client share keys with my device (verify it, or allow unverified devices in this room).",
            e.sender
        )));
        let txn = format!("undecryptable-{}", e.event_id);
        self.send(room, &txn, &message_content(&r, "m.notice", Some(e)))
            .await;
    }

    /// A 👍 on the bot's event card or reminder: personal reminders for that event, for the
    /// person who reacted (told in their direct room, not in front of everyone).
    async fn on_reaction(&self, room: &str, e: &Event) {
        let relation = &e.content["m.relates_to"];
        if relation["rel_type"].as_str() != Some("m.annotation")
            || !relation["key"].as_str().is_some_and(is_thumbs_up)
        {
            return;
        }
        let Some(target) = relation["event_id"].as_str() else {
            return;
        };
        let Some(event) = self.card_event(room, target).await else {
            return;
        };
        let store = &self.ctx.store;
        let Ok(Some(row)) = store.event(event).await else {
            return;
        };
        let caller = Caller {
            platform: Platform::Matrix,
            space: row.space.clone(),
            user: e.sender.clone(),
            moderator: false,
            channel: None,
        };
        let line = format!("/remind me {}", event.0);
        let reply = commands::answer(&self.ctx, &caller, &line).await;
        if reply.tone == Tone::Answer {
            if let Err(err) = store
                .add_matrix_reaction(&self.me, &e.event_id, &e.sender, event)
                .await
            {
                tracing::error!(error = %err, "cannot remember a reaction");
            }
        }
        self.tell_privately(&e.sender, &format!("reaction-{}", e.event_id), &reply)
            .await;
    }

    /// A reaction taken back: no more personal reminders for that event.
    async fn on_redaction(&self, e: &Event) {
        let Some(target) = e.redacts.as_deref() else {
            return;
        };
        let Ok(Some((person, event))) = self.ctx.store.take_matrix_reaction(&self.me, target).await
        else {
            return;
        };
        let caller = Caller {
            platform: Platform::Matrix,
            space: SpaceId::matrix(""),
            user: person.clone(),
            moderator: false,
            channel: None,
        };
        let reply = commands::stop_reminding(&self.ctx, &caller, event).await;
        self.tell_privately(&person, &format!("unreaction-{}", e.event_id), &reply)
            .await;
    }

    /// The event a message of the bot's offers reminders for, if it is one.
    async fn card_event(&self, room: &str, message: &str) -> Option<crate::domain::EventId> {
        let client = self.client.get();
        let mut card = client.event(room, message).await.ok()?;
        if card.sender != self.me {
            return None;
        }
        if card.kind == "m.room.encrypted" {
            card = self.crypto.decrypt(room, &card).await.ok()?;
        }
        card.content[EVENT_MARKER]
            .as_i64()
            .map(crate::domain::EventId)
    }

    /// A reply for one person, in their direct room with the bot.
    async fn tell_privately(&self, person: &str, txn: &str, reply: &Reply) {
        let room = match self.direct_room(person, false).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(%person, error = ?e, "cannot open a direct room");
                return;
            }
        };
        self.send(&room, txn, &message_content(reply, "m.notice", None))
            .await;
    }

    /// Records a joined room in the database, once per process.
    async fn record_room(&self, room: &str) {
        if self.recorded.lock().expect("not poisoned").contains(room) {
            return;
        }
        match self
            .ctx
            .store
            .add_matrix_room(&self.me, room, chrono::Utc::now())
            .await
        {
            Ok(_) => {
                self.recorded
                    .lock()
                    .expect("not poisoned")
                    .insert(room.to_string());
            }
            Err(e) => tracing::error!(%room, error = %e, "cannot record a room"),
        }
    }

    /// Forgets a room the bot left (or was removed from).
    async fn forget_room(&self, room: &str) {
        self.power.lock().await.remove(room);
        self.recorded.lock().expect("not poisoned").remove(room);
        if let Err(e) = self.ctx.store.remove_matrix_room(&self.me, room).await {
            tracing::error!(%room, error = %e, "cannot forget a room");
        }
    }

    /// A person who leaves (or declines) the direct room the bot opened for their reminders
    /// would never see them there: the bot forgets the room and leaves it, and the next
    /// reminder opens a new one.
    async fn on_direct_room_left(&self, room: &str, events: &[Event]) {
        let left = events.iter().find(|e| {
            e.kind == "m.room.member"
                && e.state_key.as_deref().is_some_and(|k| k != self.me)
                && matches!(e.content["membership"].as_str(), Some("leave" | "ban"))
        });
        let Some(left) = left else {
            return;
        };
        let store = &self.ctx.store;
        let person = left.state_key.as_deref().unwrap_or_default();
        if store
            .matrix_direct_person(&self.me, room)
            .await
            .ok()
            .flatten()
            .as_deref()
            != Some(person)
        {
            return;
        }
        tracing::info!(%room, %person, "the direct room was left; a new one will be opened");
        let _ = store.set_matrix_direct_room(&self.me, person, None).await;
        if let Err(e) = self.client.get().leave(room).await {
            tracing::warn!(%room, error = %e, "cannot leave an abandoned direct room");
        }
        self.forget_room(room).await;
    }

    /// The room's power facts, read from the room's state when the sync has not shown them
    /// (after a restart, the sync resumes without repeating the state).
    async fn room_power(&self, room: &str) -> RoomPower {
        let known = self
            .power
            .lock()
            .await
            .get(room)
            .cloned()
            .unwrap_or_default();
        if known.levels.is_some() && known.creators.is_some() {
            return known;
        }
        let state = match self.client.get().room_state(room).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(%room, error = %e, "cannot read the room's power levels");
                return known;
            }
        };
        let mut fresh = RoomPower {
            levels: None,
            creators: Some(vec![]),
        };
        for e in state.iter().filter(|e| e.state_key.as_deref() == Some("")) {
            match e.kind.as_str() {
                "m.room.power_levels" => fresh.levels = Some(e.content.clone()),
                "m.room.create" => fresh.creators = Some(privileged_creators(e)),
                _ => {}
            }
        }
        self.power
            .lock()
            .await
            .insert(room.to_string(), fresh.clone());
        fresh
    }

    async fn is_moderator(&self, room: &str, user: &str) -> (bool, i64) {
        let space = match self.ctx.store.space(&SpaceId::matrix(room)).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the space's settings");
                return (false, 50);
            }
        };
        let level = self.room_power(room).await.level_of(user);
        (level >= space.moderator_power, space.moderator_power)
    }

    /// Answers a command; a bug that panics is answered with an incident id and leaves the
    /// sync loop running.
    async fn on_command(&self, room: &str, e: &Event, line: &str) {
        let answered = crate::error::contained(line, self.on_command_unguarded(room, e, line));
        if let Err(reply) = answered.await {
            let txn = format!("reply-{}", e.event_id);
            self.send(room, &txn, &message_content(&reply, "m.notice", Some(e)))
                .await;
        }
    }

    async fn on_command_unguarded(&self, room: &str, e: &Event, line: &str) {
        let word = line[1..]
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_lowercase();
        let (moderator, threshold) = self.is_moderator(room, &e.sender).await;
        tracing::debug!(%room, sender = %e.sender, moderator, "command");
        if word == "leave" {
            return self.on_leave(room, e, moderator, threshold).await;
        }
        let caller = Caller {
            platform: Platform::Matrix,
            space: SpaceId::matrix(room),
            user: e.sender.clone(),
            moderator,
            channel: None,
        };
        let reply = match matrix_cannot(line) {
            Some(refusal) => refusal,
            None => commands::answer(&self.ctx, &caller, line).await,
        };
        let txn = format!("reply-{}", e.event_id);
        self.send(room, &txn, &message_content(&reply, "m.notice", Some(e)))
            .await;
        if let Some(a) = &reply.attachment {
            self.send_file(room, &e.event_id, a).await;
        }
    }

    async fn on_leave(&self, room: &str, e: &Event, moderator: bool, threshold: i64) {
        let mut reply = Reply::new(if moderator {
            Tone::Answer
        } else {
            Tone::Refusal
        });
        reply.summary = Some(Text::plain(if moderator {
            "Leaving this room — invite me again any time.".to_string()
        } else {
            format!(
                "Only moderators of this room (power level {threshold} or more) can send me away."
            )
        }));
        let txn = format!("reply-{}", e.event_id);
        self.send(room, &txn, &message_content(&reply, "m.notice", Some(e)))
            .await;
        if moderator {
            tracing::info!(%room, by = %e.sender, "leaving on request");
            if let Err(err) = self.client.get().leave(room).await {
                tracing::warn!(%room, error = %err, "cannot leave");
            }
            self.forget_room(room).await;
        }
    }

    /// An attachment (an .ics export) as a file message after the answer.
    /// In an encrypted room the file is encrypted before upload, and its key travels in the
    /// (encrypted) message.
    async fn send_file(&self, room: &str, event_id: &str, a: &crate::reply::Attachment) {
        let client = self.client.get();
        let encrypted = self.is_encrypted(&client, room).await.unwrap_or(true);
        let (bytes, media_type, key) = if encrypted {
            match crypto::encrypt_attachment(a.content.as_bytes()) {
                Ok((bytes, key)) => (bytes, "application/octet-stream", Some(key)),
                Err(e) => {
                    tracing::warn!(%room, error = %e, "cannot encrypt the attachment");
                    return;
                }
            }
        } else {
            (a.content.as_bytes().to_vec(), a.media_type.as_str(), None)
        };
        let uri = match client.upload(&a.filename, media_type, bytes).await {
            Ok(u) => u,
            Err(e) => {
                tracing::warn!(%room, error = %e, "cannot upload the attachment");
                return;
            }
        };
        let mut content = json!({
            "msgtype": "m.file",
            "body": a.filename,
            "filename": a.filename,
            "info": {"mimetype": a.media_type, "size": a.content.len()},
            "m.relates_to": {"m.in_reply_to": {"event_id": event_id}},
            "m.mentions": {},
        });
        match key {
            Some(mut file) => {
                file["url"] = json!(uri);
                content["file"] = file;
            }
            None => content["url"] = json!(uri),
        }
        self.send(room, &format!("file-{event_id}"), &content).await;
    }

    /// Sends a message, logging failures (an answer that cannot be sent has no one else to go
    /// to).
    async fn send(&self, room: &str, txn: &str, content: &Value) {
        if let Err(e) = self.send_event(room, txn, content).await {
            tracing::warn!(%room, error = %e, "cannot send");
        }
    }

    /// Sends a message into a room: encrypted for its members' devices if the room is
    /// encrypted, as it is otherwise. The same `txn` sends it once however often it is called.
    async fn send_event(
        &self,
        room: &str,
        txn: &str,
        content: &Value,
    ) -> Result<String, MatrixError> {
        let client = self.client.get();
        if !self.is_encrypted(&client, room).await? {
            return client.send(room, "m.room.message", txn, content).await;
        }
        let encrypted = self
            .crypto
            .encrypt(&client, room, "m.room.message", content)
            .await?;
        client.send(room, "m.room.encrypted", txn, &encrypted).await
    }

    /// Whether a room is encrypted: seen in its sync, or else read from its state (after a
    /// restart the sync does not repeat the state).
    async fn is_encrypted(&self, client: &Client, room: &str) -> Result<bool, MatrixError> {
        if let Some(known) = self.encrypted.lock().expect("not poisoned").get(room) {
            return Ok(*known);
        }
        let encrypted = client
            .state_event(room, "m.room.encryption")
            .await?
            .is_some_and(|c| c["algorithm"].is_string());
        self.encrypted
            .lock()
            .expect("not poisoned")
            .insert(room.to_string(), encrypted);
        Ok(encrypted)
    }

    /// The room a personal reminder goes to: the direct room opened earlier, or a new one.
    async fn direct_room(&self, person: &str, fresh: bool) -> Result<String, DeliveryError> {
        let store = &self.ctx.store;
        if !fresh {
            if let Ok(Some(room)) = store.matrix_direct_room(&self.me, person).await {
                return Ok(room);
            }
        }
        let client = self.client.get();
        // Encrypted when the person's client encrypts (it has published device keys), as
        // their client would make a direct chat.
        let encrypted = crypto::devices_with_keys(&client, person)
            .await
            .map(|n| n > 0)
            .unwrap_or(false);
        let room = client
            .create_direct_room(person, encrypted)
            .await
            .map_err(delivery_error)?;
        store
            .set_matrix_direct_room(&self.me, person, Some(&room))
            .await
            .map_err(|e| DeliveryError::Temporary(e.to_string()))?;
        let _ = store
            .add_matrix_room(&self.me, &room, chrono::Utc::now())
            .await;
        Ok(room)
    }
}

/// Gone for "not allowed / no such room" (the bot was removed, the room is gone); temporary
/// for everything else, which the scheduler retries with backoff.
fn delivery_error(e: MatrixError) -> DeliveryError {
    match e.status() {
        Some(403 | 404) => DeliveryError::Gone(e.to_string()),
        _ => DeliveryError::Temporary(e.to_string()),
    }
}

struct MatrixOutbox {
    bot: Arc<Bot>,
}

/// What cannot be asked from Matrix, answered here rather than by the core: a file option
/// (a command line in a room carries no file), and a reminder channel that is not a room id
/// (!…) or alias (#…:server) — it would send reminders nowhere.
fn matrix_cannot(line: &str) -> Option<crate::reply::Reply> {
    let bound = commands::bind(line)?;
    let usage = |why: &str, example: String| {
        Some(crate::error::into_reply(
            crate::error::CommandError::usage(why.to_string(), example),
            line,
        ))
    };
    if let Some(option) = bound.file_options().first() {
        return usage(
            "That needs a file, which a Matrix message cannot carry here: use it on Discord (attach the .ics) or on the console.",
            bound.file_example(option),
        );
    }
    let channel = (bound.command == commands::CommandName::Settings
        && bound.subcommand.as_deref() == Some("channel"))
    .then(|| bound.value("channel").unwrap_or_default().trim());
    match channel {
        Some(c) if !(c.starts_with('!') || c.starts_with('#')) => usage(
            "Give the room's id (!…) or alias (#name:server) — and invite me there first.",
            "/settings channel #events:example.org".into(),
        ),
        _ => None,
    }
}

impl MatrixOutbox {
    async fn deliver_one(&self, d: &Delivery) -> Result<(), DeliveryError> {
        let bot = &self.bot;
        if d.space.platform() != Platform::Matrix {
            return Err(DeliveryError::Gone(format!(
                "{} is not a Matrix room",
                d.space
            )));
        }
        let space_room = d.space.local();
        let client = bot.client.get();
        if let Target::User(person) = &d.target {
            let content = message_content(&d.reply, "m.text", None);
            let room = bot.direct_room(person, false).await?;
            match bot.send_event(&room, &d.key, &content).await {
                Ok(_) => return Ok(()),
                // The person left the direct room: open a new one, once.
                Err(e) if matches!(e.status(), Some(403 | 404)) => {
                    let room = bot.direct_room(person, true).await?;
                    return bot
                        .send_event(&room, &d.key, &content)
                        .await
                        .map(drop)
                        .map_err(delivery_error);
                }
                Err(e) => return Err(delivery_error(e)),
            }
        }
        let (room, msgtype) = match &d.target {
            // Failure notices go to the room itself (there is no moderators' channel), quietly.
            Target::Moderators => (space_room.to_string(), "m.notice"),
            Target::Followers => {
                return Err(DeliveryError::Gone(crate::scheduler::NOT_SENT.into()))
            }
            Target::Space | Target::User(_) => {
                let space = bot
                    .ctx
                    .store
                    .space(&d.space)
                    .await
                    .map_err(|e| DeliveryError::Temporary(e.to_string()))?;
                let room = match space.reminder_target.as_deref() {
                    None | Some("") => space_room.to_string(),
                    Some(alias) if alias.starts_with('#') => {
                        client.resolve_alias(alias).await.map_err(delivery_error)?
                    }
                    Some(room) => room.to_string(),
                };
                (room, "m.text")
            }
        };
        bot.send_event(&room, &d.key, &message_content(&d.reply, msgtype, None))
            .await
            .map(drop)
            .map_err(delivery_error)
    }
}

impl Outbox for MatrixOutbox {
    fn deliver<'a>(
        &'a self,
        d: &'a Delivery,
    ) -> Pin<Box<dyn Future<Output = Result<(), DeliveryError>> + Send + 'a>> {
        Box::pin(self.deliver_one(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(sender: &str, content: Value) -> Event {
        Event {
            kind: "m.room.message".into(),
            sender: sender.into(),
            event_id: "$e".into(),
            content,
            ..Event::default()
        }
    }

    #[test]
    fn commands_are_text_messages_starting_with_bang_or_slash() {
        let me = "@bot:x";
        let text = |b: &str| message("@a:x", json!({"msgtype": "m.text", "body": b}));
        assert_eq!(
            command_in(&text("!actor WIPO"), me).as_deref(),
            Some("!actor WIPO")
        );
        assert_eq!(command_in(&text("  /help"), me).as_deref(), Some("/help"));
        assert_eq!(command_in(&text("hello !actor"), me), None);
        assert_eq!(command_in(&text("!!!"), me), None);
        assert_eq!(command_in(&text("/"), me), None);
        let notice = message(
            "@a:x",
            json!({"msgtype": "m.notice", "body": "!actor WIPO"}),
        );
        assert_eq!(command_in(&notice, me), None, "bots talk in notices");
        let own = message(me, json!({"msgtype": "m.text", "body": "!actor WIPO"}));
        assert_eq!(command_in(&own, me), None, "never its own messages");
        let edit = message(
            "@a:x",
            json!({"msgtype": "m.text", "body": "* !actor WIPO", "m.relates_to": {"rel_type": "m.replace", "event_id": "$x"}}),
        );
        assert_eq!(command_in(&edit, me), None, "edits are not new commands");
        let reply = text("> <@b:x> what is WIPO?\n\n!actor WIPO");
        assert_eq!(command_in(&reply, me).as_deref(), Some("!actor WIPO"));
    }

    #[test]
    fn a_message_that_mentions_or_replies_to_the_bot_is_a_question() {
        let me = "@bot:x";
        let said = |content: Value| command_in(&message("@a:x", content), me);
        // A mention pill: the display name and a colon in the body, the id in m.mentions.
        assert_eq!(
            said(
                json!({"msgtype": "m.text", "body": "atlasbot: what is WIPO?",
                "m.mentions": {"user_ids": ["@bot:x"]}})
            )
            .as_deref(),
            Some("/ask what is WIPO?")
        );
        assert_eq!(
            said(json!({"msgtype": "m.text", "body": "hey @bot:x who works on kids safety?"}))
                .as_deref(),
            Some("/ask hey who works on kids safety?")
        );
        // A reply to one of the bot's answers (older clients quote it).
        assert_eq!(
            said(json!({"msgtype": "m.text", "body": "> <@bot:x> WIPO\n\nand UNCTAD?"})).as_deref(),
            Some("/ask and UNCTAD?")
        );
        assert_eq!(
            said(json!({"msgtype": "m.text", "body": "atlasbot: /actor WIPO",
                "m.mentions": {"user_ids": ["@bot:x"]}}))
            .as_deref(),
            Some("/actor WIPO")
        );
        // Talk among people, or a mention of someone else, is not for the bot.
        assert_eq!(
            said(json!({"msgtype": "m.text", "body": "what is WIPO?"})),
            None
        );
        assert_eq!(
            said(json!({"msgtype": "m.text", "body": "carol: what is WIPO?",
                "m.mentions": {"user_ids": ["@carol:x"]}})),
            None
        );
        // Its own answers, and other bots' notices, never.
        let own = message(me, json!({"msgtype": "m.text", "body": "@bot:x hi"}));
        assert_eq!(command_in(&own, me), None);
        assert_eq!(
            said(json!({"msgtype": "m.notice", "body": "@bot:x what is WIPO?"})),
            None
        );
    }

    #[test]
    fn power_levels_decide_with_creators_above_all_in_new_rooms() {
        let mut p = RoomPower {
            levels: Some(json!({"users": {"@mod:x": 50, "@old:x": "75"}, "users_default": 0})),
            creators: Some(vec!["@creator:x".into()]),
        };
        assert_eq!(p.level_of("@mod:x"), 50);
        assert_eq!(p.level_of("@old:x"), 75);
        assert_eq!(p.level_of("@someone:x"), 0);
        assert_eq!(p.level_of("@creator:x"), i64::MAX);
        p.levels = Some(json!({"users_default": 10}));
        assert_eq!(p.level_of("@someone:x"), 10);
    }

    #[test]
    fn only_version_12_rooms_have_privileged_creators() {
        let create = |v: &str| Event {
            kind: "m.room.create".into(),
            sender: "@c:x".into(),
            content: json!({"room_version": v, "additional_creators": ["@d:x"]}),
            ..Event::default()
        };
        assert_eq!(privileged_creators(&create("10")), Vec::<String>::new());
        assert_eq!(privileged_creators(&create("12")), vec!["@c:x", "@d:x"]);
    }

    #[test]
    fn messages_never_mention_anyone_and_reply_to_the_command() {
        let mut r = Reply::answer("Party @room");
        r.summary = Some(Text::plain("for <everyone> & @everyone"));
        let command = message(
            "@a:x",
            json!({"msgtype": "m.text", "body": "!event add title:\"Party @room\""}),
        );
        let c = message_content(&r, "m.notice", Some(&command));
        assert_eq!(c["msgtype"], "m.notice");
        assert_eq!(c["m.mentions"], json!({}));
        assert_eq!(
            c["m.relates_to"],
            json!({"m.in_reply_to": {"event_id": "$e"}})
        );
        let body = c["body"].as_str().unwrap();
        let html = c["formatted_body"].as_str().unwrap();
        assert!(!body.contains("@room") && !html.contains("@room"));
        assert!(html.contains("&lt;everyone&gt; &amp;"));
    }

    #[test]
    fn invitations_are_accepted_from_allowed_servers_only() {
        assert!(may_invite(&[], "@anyone:anywhere.org"));
        let allowed = vec!["example.org".to_string(), "uni.example:8448".to_string()];
        assert!(may_invite(&allowed, "@alice:example.org"));
        assert!(may_invite(&allowed, "@alice:EXAMPLE.org"));
        assert!(may_invite(&allowed, "@bob:uni.example:8448"));
        assert!(!may_invite(&allowed, "@eve:example.org.evil.net"));
        assert!(!may_invite(&allowed, "@eve:evil.net"));
        assert!(
            !may_invite(&allowed, ""),
            "an invitation without an inviter"
        );
    }

    #[test]
    fn a_command_asked_in_a_thread_is_answered_in_that_thread() {
        let command = message(
            "@a:x",
            json!({"msgtype": "m.text", "body": "!help", "m.relates_to": {"rel_type": "m.thread", "event_id": "$root"}}),
        );
        let c = message_content(&Reply::answer("Help"), "m.notice", Some(&command));
        assert_eq!(
            c["m.relates_to"],
            json!({"rel_type": "m.thread", "event_id": "$root", "is_falling_back": false, "m.in_reply_to": {"event_id": "$e"}})
        );
    }

    #[test]
    fn cards_offering_reminders_say_how_to_react_and_carry_their_event() {
        let mut card = Reply::answer("Seminar");
        card.actions = crate::reply::Action::remind_buttons(7);
        let c = message_content(&card, "m.notice", None);
        assert_eq!(c[EVENT_MARKER], 7);
        assert!(c["body"]
            .as_str()
            .unwrap()
            .ends_with("React 👍 to be reminded personally; remove it to stop."));
        assert!(c["formatted_body"]
            .as_str()
            .unwrap()
            .contains("<em>React 👍"));
        let plain = message_content(&Reply::answer("WIPO"), "m.notice", None);
        assert!(plain.get(EVENT_MARKER).is_none());
        assert!(!plain["body"].as_str().unwrap().contains("👍"));
    }

    #[test]
    fn a_thumbs_up_is_one_in_any_skin_tone_or_presentation() {
        for key in ["👍", "👍️", "👍🏽", "👍🏿"] {
            assert!(is_thumbs_up(key), "{key}");
        }
        for key in ["👎", "+1", "", "❤️"] {
            assert!(!is_thumbs_up(key), "{key}");
        }
    }

    #[test]
    fn long_bodies_are_cut_at_a_character_boundary() {
        let s = "é".repeat(20_000);
        let c = cut(&s, MAX_BODY);
        assert!(c.len() <= MAX_BODY);
        assert!(c.ends_with('…'));
    }
}
