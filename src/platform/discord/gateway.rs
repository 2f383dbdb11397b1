//! `atlasbot discord`: the gateway connection, one websocket per shard. Interactions arrive as
//! `INTERACTION_CREATE` dispatches — the same JSON the HTTP endpoint receives — and are answered
//! through the same `handle`, over REST. Intents (none privileged, see `INTENTS`): guild, role
//! and member updates say that a permission may have changed, so that what Discord refused is
//! asked again (`Rest::permissions_changed_in`); a message that mentions the bot, or a direct
//! message, is a question (`/ask`). Interactions are delivered regardless.
//!
//! Why our own client instead of serenity's: the bot needs five opcodes of the gateway (hello,
//! identify, heartbeat, resume, dispatch) and none of serenity's model, cache or framework, yet
//! compiling serenity was a third of a clean build (BENCHMARKS.md). This file speaks the
//! documented protocol (https://discord.com/developers/docs/events/gateway) over
//! tokio-tungstenite with the rustls stack reqwest already brings, and is tested against a
//! stand-in gateway on loopback (tests/it/discord.rs): identify, dispatch, heartbeats, a
//! zombied connection, reconnect with resume, an invalid session, a refused token. When to
//! connect again and when an IDENTIFY may be spent is `sessions`' to decide.
//!
//! Sharding: by default Discord says how many shards to run (`GET /gateway/bot`) and all run
//! here. Large deployments run ranges in several processes (`--shards 0-3 --shard-total 8`
//! here, `--shards 4-7 --shard-total 8` elsewhere); reminders are claimed in the shared
//! database, so whichever process claims one sends it, once.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;

use self::stream::MaybeTls;
use super::rest::Rest;
use super::sessions::{keep_connected, Connection, Ended, Recount, StartLimit, Starts};
use crate::commands::Context;

/// Gateway opcodes used here.
mod op {
    pub const DISPATCH: u64 = 0;
    pub const HEARTBEAT: u64 = 1;
    pub const IDENTIFY: u64 = 2;
    pub const RESUME: u64 = 6;
    pub const RECONNECT: u64 = 7;
    pub const INVALID_SESSION: u64 = 9;
    pub const HELLO: u64 = 10;
    pub const HEARTBEAT_ACK: u64 = 11;
}

/// The largest gateway message read. READY lists every guild's id, which stays far below this
/// even for large bots; anything bigger is not Discord.
const MAX_MESSAGE: usize = 16 << 20;
/// A silent connection (no HELLO) is given up after this long.
const HELLO_TIMEOUT: Duration = Duration::from_secs(30);

/// Which shards this process runs: all (autosharded), or FIRST-LAST of TOTAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shards {
    Auto,
    Range { first: u32, last: u32, total: u32 },
}

impl Shards {
    /// `--shards 0-3 --shard-total 8`; both or neither.
    pub fn parse(range: Option<&str>, total: Option<u32>) -> Result<Shards, String> {
        match (range, total) {
            (None, None) => Ok(Shards::Auto),
            (Some(r), Some(total)) => {
                let (a, b) = r.split_once('-').unwrap_or((r, r));
                let first: u32 = a
                    .trim()
                    .parse()
                    .map_err(|_| format!("--shards {r}: use FIRST-LAST, e.g. 0-3"))?;
                let last: u32 = b
                    .trim()
                    .parse()
                    .map_err(|_| format!("--shards {r}: use FIRST-LAST, e.g. 0-3"))?;
                if first > last || last >= total {
                    return Err(format!("--shards {r} does not fit in --shard-total {total} (shards are numbered 0 to {})", total.saturating_sub(1)));
                }
                Ok(Shards::Range { first, last, total })
            }
            _ => Err("give --shards FIRST-LAST together with --shard-total N".into()),
        }
    }
}

/// A resumable session: what RESUME needs.
#[derive(Debug, Clone)]
struct Session {
    id: String,
    resume_url: String,
}

/// One shard's connection state across reconnects.
struct Shard {
    id: u32,
    total: u32,
    token: crate::config::Secret,
    url: String,
    session: Option<Session>,
    /// The bot's own user id (from READY): messages that mention it are questions.
    me: Option<String>,
    /// The last dispatch sequence number: sent with heartbeats and RESUME.
    seq: Option<u64>,
    ctx: Context,
    rest: Arc<Rest>,
    /// The bot's session starts, shared by this process's shards.
    starts: Arc<Starts<Arc<Rest>>>,
}

/// Runs shards until `shutdown` turns true (Ok) or Discord refuses the bot (Err).
pub async fn run(
    ctx: Context,
    rest: Arc<Rest>,
    token: &str,
    shards: Shards,
    shutdown: watch::Receiver<bool>,
) -> Result<(), String> {
    let info = rest
        .gateway_bot()
        .await
        .map_err(|e| format!("cannot reach the Discord gateway: {e}"))?;
    let (first, last, total) = match shards {
        Shards::Auto => (0, info.shards.max(1) - 1, info.shards.max(1)),
        Shards::Range { first, last, total } => (first, last, total),
    };
    let limit = info.start_limit.unwrap_or(StartLimit {
        total: 1000,
        remaining: 1000,
        reset_after: Duration::from_secs(86_400),
        max_concurrency: 1,
    });
    let starts = Arc::new(Starts::new(limit, rest.clone()));
    let mut tasks = tokio::task::JoinSet::new();
    for id in first..=last {
        let shard = Shard {
            id,
            total,
            token: crate::config::Secret::new(token.to_string()),
            url: info.url.clone(),
            session: None,
            me: None,
            seq: None,
            ctx: ctx.clone(),
            rest: rest.clone(),
            starts: starts.clone(),
        };
        tasks.spawn(shard.run(shutdown.clone()));
    }
    // The first fatal error stops the process; otherwise every shard ends at shutdown.
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(e) => return Err(format!("a gateway shard failed: {e}")),
        }
    }
    Ok(())
}

impl Connection for Shard {
    async fn connect(&mut self, shutdown: &mut watch::Receiver<bool>) -> Result<Ended, String> {
        self.connect_once(shutdown).await
    }

    fn forget_session(&mut self) {
        self.session = None;
        self.seq = None;
    }

    fn id(&self) -> u32 {
        self.id
    }
}

impl Recount for Arc<Rest> {
    async fn recount(&self) -> Option<StartLimit> {
        self.gateway_bot().await.ok().and_then(|i| i.start_limit)
    }
}

impl Shard {
    async fn run(mut self, shutdown: watch::Receiver<bool>) -> Result<(), String> {
        keep_connected(&mut self, shutdown).await
    }

    /// One websocket connection, from HELLO until it ends.
    async fn connect_once(
        &mut self,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Ended, String> {
        if self.session.is_none() {
            // The turn to identify is taken before connecting: waiting for it (spacing, or a
            // spent budget's reset) holds no socket open, and gives way to a shutdown.
            let starts = self.starts.clone();
            tokio::select! {
                () = starts.identify_turn() => {}
                _ = shutdown.changed() => return Ok(Ended::Shutdown),
            }
        }
        let base = self
            .session
            .as_ref()
            .map_or(self.url.clone(), |s| s.resume_url.clone());
        let mut ws = connect(&base).await?;
        let interval = match tokio::time::timeout(HELLO_TIMEOUT, next_payload(&mut ws)).await {
            Ok(Ok(Some(hello))) if hello["op"] == op::HELLO => hello["d"]["heartbeat_interval"]
                .as_u64()
                .filter(|ms| *ms > 0)
                .ok_or("HELLO without a heartbeat interval")?,
            Ok(Ok(Some(other))) => return Err(format!("expected HELLO, got op {}", other["op"])),
            Ok(Ok(None)) => return Err("the gateway closed before HELLO".into()),
            Ok(Err(ended)) => return Ok(ended),
            Err(_) => return Err("no HELLO from the gateway".into()),
        };
        let greeting = match &self.session {
            Some(s) => json!({"op": op::RESUME, "d": {
                "token": self.token.expose(), "session_id": s.id, "seq": self.seq}}),
            None => {
                json!({"op": op::IDENTIFY, "d": {
                    "token": self.token.expose(),
                    "intents": INTENTS,
                    "shard": [self.id, self.total],
                    "properties": {"os": std::env::consts::OS, "browser": "atlasbot", "device": "atlasbot"},
                }})
            }
        };
        send(&mut ws, &greeting).await?;
        self.serve(&mut ws, Duration::from_millis(interval), shutdown)
            .await
    }

    /// Heartbeats and dispatches until the connection ends.
    async fn serve<S>(
        &mut self,
        ws: &mut tokio_tungstenite::WebSocketStream<S>,
        interval: Duration,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Ended, String>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        // The first heartbeat comes after a random fraction of the interval (Discord asks
        // for jitter so that reconnecting shards do not beat in step).
        let jitter = interval.mul_f64(crate::platform::rand_fraction());
        let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + jitter, interval);
        let mut acked = true;
        loop {
            tokio::select! {
                _ = beat.tick() => {
                    if !acked {
                        // No ACK since the last beat: the connection is a zombie.
                        let _ = ws.close(Some(close_frame(4000, "zombied"))).await;
                        return Ok(Ended::Resume);
                    }
                    acked = false;
                    send(ws, &json!({"op": op::HEARTBEAT, "d": self.seq})).await?;
                }
                payload = next_payload(ws) => {
                    let payload = match payload {
                        Ok(Some(p)) => p,
                        Ok(None) => return Ok(Ended::Resume),
                        Err(ended) => return Ok(ended),
                    };
                    match payload["op"].as_u64() {
                        Some(op::DISPATCH) => self.dispatch(payload),
                        Some(op::HEARTBEAT) => {
                            send(ws, &json!({"op": op::HEARTBEAT, "d": self.seq})).await?;
                        }
                        Some(op::HEARTBEAT_ACK) => acked = true,
                        Some(op::RECONNECT) => {
                            let _ = ws.close(Some(close_frame(4000, "reconnect"))).await;
                            return Ok(Ended::Resume);
                        }
                        Some(op::INVALID_SESSION) => {
                            let _ = ws.close(Some(close_frame(4000, "invalid session"))).await;
                            return Ok(if payload["d"] == true { Ended::Resume } else { Ended::Identify });
                        }
                        _ => {}
                    }
                }
                _ = shutdown.changed() => {
                    // 1000 ends the session: Discord shows the bot offline at once.
                    let _ = ws.close(Some(close_frame(1000, "shutting down"))).await;
                    return Ok(Ended::Shutdown);
                }
            }
        }
    }

    /// A dispatch: remember its sequence number; answer interactions in their own task, so
    /// that a slow command never delays heartbeats.
    fn dispatch(&mut self, mut payload: Value) {
        if let Some(s) = payload["s"].as_u64() {
            self.seq = Some(s);
        }
        let event = payload["t"].as_str().unwrap_or_default().to_string();
        match event.as_str() {
            "READY" => self.ready(&payload["d"]),
            "RESUMED" => tracing::info!(shard = self.id, "resumed the Discord session"),
            // The bot's permissions may have changed (a role granted or edited, the bot added
            // back): what Discord refused before is asked again once.
            "GUILD_CREATE"
            | "GUILD_UPDATE"
            | "GUILD_ROLE_CREATE"
            | "GUILD_ROLE_UPDATE"
            | "GUILD_ROLE_DELETE"
            | "GUILD_MEMBER_UPDATE"
            | "CHANNEL_UPDATE" => self.permissions_may_have_changed(&event, &payload["d"]),
            // A message that mentions the bot, or a direct message: a question in plain words.
            // Discord gives the content of exactly these without the privileged Message
            // Content intent.
            "MESSAGE_CREATE" => self.message_created(&payload["d"]),
            "INTERACTION_CREATE" => {
                let (ctx, rest) = (self.ctx.clone(), self.rest.clone());
                let interaction = payload["d"].take();
                tokio::spawn(async move { answer(&ctx, &rest, interaction).await });
            }
            _ => {}
        }
    }

    /// READY: the session to resume later, and who the bot is.
    fn ready(&mut self, d: &Value) {
        if let (Some(id), Some(url)) = (d["session_id"].as_str(), d["resume_gateway_url"].as_str())
        {
            self.session = Some(Session {
                id: id.to_string(),
                resume_url: url.to_string(),
            });
        }
        self.me = d["user"]["id"].as_str().map(str::to_string);
        tracing::info!(
            shard = self.id,
            guilds = d["guilds"].as_array().map_or(0, Vec::len),
            "connected to Discord"
        );
    }

    /// A guild, role, member or channel changed: the guild (and channel) whose refusals are
    /// asked again.
    fn permissions_may_have_changed(&self, event: &str, d: &Value) {
        // GUILD_UPDATE and GUILD_CREATE carry the guild as `id`, the others as
        // `guild_id`; CHANNEL_UPDATE names its channel.
        let guild = d["guild_id"].as_str().or(d["id"]
            .as_str()
            .filter(|_| matches!(event, "GUILD_CREATE" | "GUILD_UPDATE")));
        let channel = (event == "CHANNEL_UPDATE")
            .then(|| d["id"].as_str())
            .flatten();
        if let Some(guild) = guild {
            self.rest.permissions_changed_in(guild, channel);
        }
    }

    /// A message the bot can read: answered in its own task if it asks the bot something.
    fn message_created(&self, d: &Value) {
        let Some(me) = self.me.clone() else { return };
        if let Some(question) = super::question_in(d, &me) {
            let (ctx, rest) = (self.ctx.clone(), self.rest.clone());
            let message = d.clone();
            tokio::spawn(
                async move { super::answer_question(&ctx, &rest, &message, &question).await },
            );
        }
    }
}

/// The intents: `GUILDS` (guild, role and channel events, to hear of permission changes),
/// `GUILD_MESSAGES` and `DIRECT_MESSAGES` (messages, whose content Discord shows the bot only
/// when they mention it or are sent to it; no privileged intent is asked for).
const INTENTS: u64 = GUILDS | GUILD_MESSAGES | DIRECT_MESSAGES;
const GUILDS: u64 = 1;
const GUILD_MESSAGES: u64 = 1 << 9;
const DIRECT_MESSAGES: u64 = 1 << 12;

/// Answers one interaction over REST (the gateway only delivers it).
async fn answer(ctx: &Context, rest: &Rest, interaction: Value) {
    super::note_moderator_action(rest, &interaction);
    let handled = super::handle(ctx, &interaction).await;
    let id = interaction["id"].as_str().unwrap_or_default();
    let token = interaction["token"].as_str().unwrap_or_default();
    if let Err(e) = rest.respond(id, token, &handled.response).await {
        tracing::warn!(error = %e, "cannot answer an interaction");
        return;
    }
    if let Some(f) = handled.follow_up {
        super::follow_up(ctx, rest, f).await;
    }
}

fn close_frame(code: u16, reason: &'static str) -> CloseFrame {
    CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    }
}

/// The close codes after which reconnecting cannot help.
fn fatal_close(code: u16) -> Option<&'static str> {
    Some(match code {
        4004 => "Discord refused the token (close code 4004): check DISCORD_TOKEN",
        4010 => "Discord refused the shard number (close code 4010): check --shards",
        4011 => {
            "Discord requires more shards (close code 4011): run without --shards, or with more"
        }
        4012 => "Discord refused the gateway version (close code 4012)",
        4013 | 4014 => "Discord refused the intents (close code 4013/4014)",
        _ => return None,
    })
}

/// The next JSON payload; `Ok(None)` when the stream ends, `Err` with what to do when
/// Discord closed the connection with a code.
async fn next_payload<S>(
    ws: &mut tokio_tungstenite::WebSocketStream<S>,
) -> Result<Option<Value>, Ended>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        let message = match ws.next().await {
            None | Some(Err(_)) => return Ok(None),
            Some(Ok(m)) => m,
        };
        match message {
            Message::Text(text) => {
                if let Ok(v) = serde_json::from_str::<Value>(text.as_str()) {
                    return Ok(Some(v));
                }
                tracing::warn!("a gateway message that is not JSON was ignored");
            }
            Message::Close(frame) => {
                let code = frame.map_or(1000, |f| u16::from(f.code));
                return Err(match (fatal_close(code), code) {
                    (Some(why), _) => Ended::Fatal(why.to_string()),
                    // Invalid sequence or session timed out: a new session is needed.
                    (None, 4007 | 4009) => Ended::Identify,
                    _ => Ended::Resume,
                });
            }
            _ => {}
        }
    }
}

async fn send<S>(ws: &mut tokio_tungstenite::WebSocketStream<S>, v: &Value) -> Result<(), String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    ws.send(Message::text(v.to_string()))
        .await
        .map_err(|e| format!("cannot send to the gateway: {e}"))
}

mod stream {
    //! One stream type for `ws://` (the stand-in gateway in tests) and `wss://` (Discord).
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
    use tokio::net::TcpStream;

    pub enum MaybeTls {
        Plain(TcpStream),
        Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    }

    impl AsyncRead for MaybeTls {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            match self.get_mut() {
                MaybeTls::Plain(s) => Pin::new(s).poll_read(cx, buf),
                MaybeTls::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            }
        }
    }

    impl AsyncWrite for MaybeTls {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<std::io::Result<usize>> {
            match self.get_mut() {
                MaybeTls::Plain(s) => Pin::new(s).poll_write(cx, buf),
                MaybeTls::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            }
        }

        fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            match self.get_mut() {
                MaybeTls::Plain(s) => Pin::new(s).poll_flush(cx),
                MaybeTls::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            }
        }

        fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            match self.get_mut() {
                MaybeTls::Plain(s) => Pin::new(s).poll_shutdown(cx),
                MaybeTls::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            }
        }
    }
}

/// Opens the websocket at `base` (`wss://gateway.discord.gg` or a `ws://` stand-in), asking
/// for API version 10 in JSON without compression.
async fn connect(base: &str) -> Result<tokio_tungstenite::WebSocketStream<MaybeTls>, String> {
    let url = url::Url::parse(&format!(
        "{}/?v=10&encoding=json",
        base.trim_end_matches('/')
    ))
    .map_err(|e| format!("bad gateway URL {base}: {e}"))?;
    let host = url
        .host_str()
        .ok_or("the gateway URL has no host")?
        .to_string();
    let tls = match url.scheme() {
        "wss" => true,
        "ws" => false,
        other => return Err(format!("the gateway URL has scheme {other}")),
    };
    let port = url.port().unwrap_or(if tls { 443 } else { 80 });
    let tcp = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::net::TcpStream::connect((host.as_str(), port)),
    )
    .await
    .map_err(|_| format!("connecting to {host} timed out"))?
    .map_err(|e| format!("cannot connect to {host}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let stream = if tls {
        let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.clone())
            .map_err(|e| format!("bad gateway host {host}: {e}"))?;
        let tls = tls_connector()
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS with {host} failed: {e}"))?;
        MaybeTls::Tls(Box::new(tls))
    } else {
        MaybeTls::Plain(tcp)
    };
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let (ws, _) = tokio_tungstenite::client_async_with_config(url.as_str(), stream, Some(config))
        .await
        .map_err(|e| format!("websocket handshake with {host} failed: {e}"))?;
    Ok(ws)
}

/// TLS with the Mozilla roots compiled in (as reqwest's `rustls-tls-webpki-roots`).
fn tls_connector() -> tokio_rustls::TlsConnector {
    let roots = tokio_rustls::rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports the default protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_ranges_are_checked() {
        assert_eq!(Shards::parse(None, None), Ok(Shards::Auto));
        assert_eq!(
            Shards::parse(Some("4-7"), Some(8)),
            Ok(Shards::Range {
                first: 4,
                last: 7,
                total: 8
            })
        );
        assert_eq!(
            Shards::parse(Some("2"), Some(4)),
            Ok(Shards::Range {
                first: 2,
                last: 2,
                total: 4
            })
        );
        assert!(Shards::parse(Some("4-8"), Some(8)).is_err());
        assert!(Shards::parse(Some("3-1"), Some(8)).is_err());
        assert!(Shards::parse(Some("0-3"), None).is_err());
    }

    #[test]
    fn refusals_stop_the_bot_and_other_closes_reconnect() {
        assert!(fatal_close(4004).unwrap().contains("DISCORD_TOKEN"));
        assert!(fatal_close(4014).is_some());
        assert_eq!(fatal_close(4000), None);
        assert_eq!(fatal_close(1001), None);
    }
}
