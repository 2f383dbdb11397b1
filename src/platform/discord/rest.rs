//! Discord's REST API, for what the bot sends on its own: reminders (channel messages and
//! direct messages), interaction responses and follow-ups, command registration, and where
//! the gateway is (`GET /gateway/bot`).
//!
//! Why not serenity's `Http` for these: its rate limiter is what honours `retry_after`, and it
//! must be switched off to point `Http` at another address (a proxy or a test server) — and
//! then a 429 comes back as an error that no longer carries `retry_after`. Owning these few
//! calls keeps one code path, tested over real HTTP against a fake API on loopback: a 429
//! waits what Discord says (`retry_after`, global or per route), 5xx are retried with backoff,
//! and no request leaves before Discord's limits allow it (`limits`: the global 50 a second,
//! each route's bucket as Discord's answers describe it).
//! Every request passes the invalid-request budget first (`budget`): what Discord refused is
//! not asked again until something changes, and refusals never near the count at which
//! Discord bans the bot's address.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value};

use super::budget::{Budget, Held, Priority};
use super::limits::{Limits, Ticket};

/// Discord's API, version 10 (the default of DISCORD_API_BASE, kept with the settings).
pub const DEFAULT_BASE: &str = crate::config::DISCORD_API_DEFAULT;
/// Tries per request (429 and 5xx are tried again, other errors are not).
const ATTEMPTS: u32 = 4;
/// The longest `retry_after` waited in place; longer ones go back to the caller.
const MAX_WAIT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum RestError {
    #[error("cannot reach Discord: {0}")]
    Network(String),
    #[error("Discord answered {status} (code {code}): {message}")]
    Status {
        status: u16,
        code: i64,
        message: String,
    },
    #[error("rate limited by Discord for {0:?}")]
    RateLimited(Duration),
    #[error("Discord's answer was not understood: {0}")]
    Decode(String),
    /// Not sent: too many requests were refused lately (`budget`), this one can wait.
    #[error("held back: {0} requests refused by Discord in the last 10 minutes")]
    Held(usize),
    /// Not sent: Discord refused the bot's token; the process stops.
    #[error("Discord refused the bot's token (401): it was reset or revoked; set DISCORD_TOKEN to the current one")]
    Revoked,
}

impl RestError {
    pub fn status(&self) -> Option<u16> {
        match self {
            RestError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn code(&self) -> Option<i64> {
        match self {
            RestError::Status { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// A file sent with a message (multipart).
#[derive(Debug, Clone)]
pub struct File {
    pub name: String,
    pub media_type: String,
    pub content: Vec<u8>,
}

/// Discord's answer to one attempt: its status, its JSON (Null when it had none), and the
/// `Retry-After` header's seconds, if any.
struct Answer {
    status: reqwest::StatusCode,
    value: Value,
    header_wait: Option<f64>,
}

#[derive(Debug)]
pub struct Rest {
    http: reqwest::Client,
    base: String,
    token: Option<crate::config::Secret>,
    /// Discord's rate limits, kept before each request leaves (`limits`).
    limits: Limits,
    /// Invalid answers lately, and what Discord refused (`budget`).
    budget: Mutex<Budget>,
    /// Turns true when Discord refuses the token: the platform stops.
    revoked: tokio::sync::watch::Sender<bool>,
    /// Told when a permission may have changed (refusals forgotten): the mirror tries again.
    permissions: tokio::sync::Notify,
    /// Each user's direct-message channel, once opened (it never changes).
    dm_channels: Mutex<HashMap<String, String>>,
    /// When each guild's refusals were last forgotten (`permissions_changed_in`).
    forgotten: Mutex<HashMap<String, tokio::time::Instant>>,
}

/// The least time between two forgettings of one guild's refusals.
const FORGET_EVERY: Duration = Duration::from_secs(600);

/// Direct-message channels remembered at most.
const MAX_DM_CHANNELS: usize = 10_000;

impl Rest {
    pub fn new(base: &str, token: Option<String>) -> Rest {
        Rest {
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .timeout(Duration::from_secs(30))
                .user_agent(concat!(
                    "DiscordBot (https://github.com/atlasbot, ",
                    env!("CARGO_PKG_VERSION"),
                    ")"
                ))
                .build()
                .expect("a TLS backend is compiled in"),
            base: base.trim_end_matches('/').to_string(),
            token: token.map(crate::config::Secret::new),
            limits: Limits::default(),
            budget: Mutex::new(Budget::default()),
            revoked: tokio::sync::watch::channel(false).0,
            permissions: tokio::sync::Notify::new(),
            dm_channels: Mutex::new(HashMap::new()),
            forgotten: Mutex::new(HashMap::new()),
        }
    }

    /// Turns true when Discord refuses the bot's token (a 401 on a call made with it).
    pub fn revoked(&self) -> tokio::sync::watch::Receiver<bool> {
        self.revoked.subscribe()
    }

    /// A permission may have changed in `guild` (the gateway saw its guild, a role or the
    /// bot's member updated; a moderator ran /settings there), and in `channel` if one is
    /// named: what Discord refused there may be allowed now, and is asked again — once per
    /// guild per `FORGET_EVERY` at most, so a busy server's stream of role and channel
    /// updates (or a moderator's repeated commands) cannot turn into a stream of refusals.
    pub fn permissions_changed_in(&self, guild: &str, channel: Option<&str>) {
        {
            let mut last = self.forgotten.lock().unwrap_or_else(|e| e.into_inner());
            let now = tokio::time::Instant::now();
            if last
                .get(guild)
                .is_some_and(|t| now.duration_since(*t) < FORGET_EVERY)
            {
                return;
            }
            if last.len() >= MAX_DM_CHANNELS {
                last.clear();
            }
            last.insert(guild.to_string(), now);
        }
        let in_guild = format!("/guilds/{guild}/");
        let in_channel = channel.map(|c| format!("/channels/{c}/"));
        self.budget
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .forget_refusals(|route| {
                route.contains(&in_guild)
                    || in_channel.as_deref().is_some_and(|c| route.contains(c))
            });
        self.permissions.notify_waiters();
    }

    /// Completes at the next `permissions_changed_in`.
    pub async fn permissions_change(&self) {
        self.permissions.notified().await;
    }

    /// Whether Discord refused `method path` lately (and it is not asked again yet).
    pub fn is_refused(&self, method: &reqwest::Method, path: &str) -> bool {
        self.budget
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_refused(&route_of(method, path), tokio::time::Instant::now())
    }

    /// Invalid answers (401, 403, 429) within the last 10 minutes.
    pub fn invalid_lately(&self) -> usize {
        self.budget
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .invalid_in_window(tokio::time::Instant::now())
    }

    /// Lets a request on `route` go, or says why not (as the error the caller gets).
    fn admit(&self, route: &str, priority: Priority) -> Result<(), RestError> {
        let held = self.budget.lock().unwrap_or_else(|e| e.into_inner()).admit(
            route,
            priority,
            tokio::time::Instant::now(),
        );
        held.map_err(|h| match h {
            Held::Budget { invalid } => RestError::Held(invalid),
            Held::Refused { status, code } => RestError::Status {
                status,
                code,
                message: "refused before; not asked again until a permission changes".into(),
            },
            Held::Revoked => RestError::Revoked,
        })
    }

    /// Records the answer to an admitted request (None: it got none).
    fn settle(&self, route: &str, answer: Option<(u16, i64)>) {
        // A 401 is the bot's token only where the token was sent and the path has no token of
        // its own (an interaction's token expires after 15 minutes; the bot's does not).
        let token_route = self.token.is_some()
            && !route.contains(" /webhooks/")
            && !route.contains(" /interactions/");
        let revoked = {
            let mut b = self.budget.lock().unwrap_or_else(|e| e.into_inner());
            let was = b.revoked();
            b.settle(
                route,
                answer,
                true,
                token_route,
                tokio::time::Instant::now(),
            );
            !was && b.revoked()
        };
        if revoked {
            tracing::error!("{}", RestError::Revoked);
            let _ = self.revoked.send(true);
        }
    }

    /// One call with retries, essential (`Priority::Essential`).
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        file: Option<&File>,
    ) -> Result<Value, RestError> {
        self.call_as(Priority::Essential, method, path, body, file)
            .await
    }

    /// One call with retries. `path` starts with `/`; ids in it are Discord snowflakes or
    /// interaction tokens, never user text. Each attempt passes the budget first.
    async fn call_as(
        &self,
        priority: Priority,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        file: Option<&File>,
    ) -> Result<Value, RestError> {
        let route = route_of(&method, path);
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.admit(&route, priority)?;
            let req = self.request(method.clone(), path, body, file)?;
            let ticket = self.limits.admit(&route).await;
            let answer = self.send_once(&route, ticket, req).await?;
            if answer.status.is_success() {
                return Ok(answer.value);
            }
            let wait = self.retry_wait(&route, &answer, attempt)?;
            tokio::time::sleep(wait).await;
        }
    }

    /// The request for one attempt: the bot's token, and the body as JSON — or, with a file,
    /// as multipart (`payload_json` naming the attachment, then the file).
    fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        file: Option<&File>,
    ) -> Result<reqwest::RequestBuilder, RestError> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.header(
                reqwest::header::AUTHORIZATION,
                format!("Bot {}", t.expose()),
            );
        }
        Ok(match (body, file) {
            (Some(b), Some(f)) => {
                let part = reqwest::multipart::Part::bytes(f.content.clone())
                    .file_name(f.name.clone())
                    .mime_str(&f.media_type)
                    .map_err(|e| RestError::Decode(e.to_string()))?;
                let mut payload = b.clone();
                payload["attachments"] = json!([{"id": 0, "filename": f.name}]);
                req.multipart(
                    reqwest::multipart::Form::new()
                        .text("payload_json", payload.to_string())
                        .part("files[0]", part),
                )
            }
            (Some(b), None) => req.json(b),
            _ => req,
        })
    }

    /// Sends one attempt and reads Discord's answer, noting its rate-limit bucket and
    /// settling it with the budget. A request that got no (whole) answer is an error.
    async fn send_once(
        &self,
        route: &str,
        ticket: Ticket,
        req: reqwest::RequestBuilder,
    ) -> Result<Answer, RestError> {
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                self.limits.answered(ticket, None);
                self.settle(route, None);
                return Err(RestError::Network(e.without_url().to_string()));
            }
        };
        let status = resp.status();
        self.limits.answered(ticket, Some(resp.headers()));
        let header_wait = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<f64>().ok());
        let bytes = resp.bytes().await;
        let value: Value = bytes
            .as_ref()
            .ok()
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or(Value::Null);
        let code = status.as_u16();
        self.settle(route, Some((code, value["code"].as_i64().unwrap_or(0))));
        if let Err(e) = bytes {
            return Err(RestError::Network(e.without_url().to_string()));
        }
        Ok(Answer {
            status,
            value,
            header_wait,
        })
    }

    /// How long to wait before trying a refused request again — a 429 what Discord says, a
    /// server error a growing backoff — or the error to give up with.
    fn retry_wait(
        &self,
        route: &str,
        answer: &Answer,
        attempt: u32,
    ) -> Result<Duration, RestError> {
        let (status, value) = (answer.status, &answer.value);
        let code = status.as_u16();
        if code == 429 {
            let secs = value["retry_after"]
                .as_f64()
                .or(answer.header_wait)
                .unwrap_or(1.0);
            let wait = Duration::from_secs_f64(secs.max(0.0));
            if value["global"].as_bool() == Some(true) {
                self.limits.globally_limited(wait);
            }
            if attempt >= ATTEMPTS || wait > MAX_WAIT {
                return Err(RestError::RateLimited(wait));
            }
            tracing::info!(%route, wait_ms = wait.as_millis() as u64, "rate limited by Discord");
            return Ok(wait);
        }
        if status.is_server_error() && attempt < ATTEMPTS {
            let wait = Duration::from_millis(250 << attempt);
            tracing::warn!(%route, status = code, "Discord server error; retrying");
            return Ok(wait);
        }
        Err(RestError::Status {
            status: code,
            code: value["code"].as_i64().unwrap_or(0),
            message: value["message"]
                .as_str()
                .unwrap_or("")
                .chars()
                .take(300)
                .collect(),
        })
    }

    /// Posts a message in a channel. The nonce with `enforce_nonce` makes Discord keep only
    /// the first of two sends with the same nonce (a retry after a crash).
    pub async fn send_message(
        &self,
        channel: &str,
        message: &Value,
        nonce: &str,
    ) -> Result<Value, RestError> {
        let mut body = message.clone();
        body["nonce"] = json!(nonce);
        body["enforce_nonce"] = json!(true);
        // Nobody is pinged by what a message says: only users a message names one by one in
        // its allowed_mentions (people who asked to be reminded), never roles or @everyone.
        let users: Vec<&str> = message["allowed_mentions"]["users"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|u| snowflake(u).is_ok())
            .take(100)
            .collect();
        body["allowed_mentions"] = if users.is_empty() {
            json!({"parse": []})
        } else {
            json!({"parse": [], "users": users})
        };
        self.call(
            reqwest::Method::POST,
            &format!("/channels/{}/messages", snowflake(channel)?),
            Some(&body),
            None,
        )
        .await
    }

    /// The direct-message channel with a user (opened once, then remembered).
    pub async fn create_dm(&self, user: &str) -> Result<String, RestError> {
        if let Some(c) = self
            .dm_channels
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(user)
        {
            return Ok(c.clone());
        }
        let channel = self.open_dm(user).await?;
        let mut all = self.dm_channels.lock().unwrap_or_else(|e| e.into_inner());
        if all.len() >= MAX_DM_CHANNELS {
            all.clear();
        }
        all.insert(user.to_string(), channel.clone());
        Ok(channel)
    }

    async fn open_dm(&self, user: &str) -> Result<String, RestError> {
        let v = self
            .call(
                reqwest::Method::POST,
                "/users/@me/channels",
                Some(&json!({"recipient_id": snowflake(user)?})),
                None,
            )
            .await?;
        v["id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| RestError::Decode("no channel id".into()))
    }

    /// The guild's system channel, if it has one (where moderators' notices go).
    pub async fn system_channel(&self, guild: &str) -> Result<Option<String>, RestError> {
        let v = self
            .call(
                reqwest::Method::GET,
                &format!("/guilds/{}", snowflake(guild)?),
                None,
                None,
            )
            .await?;
        Ok(v["system_channel_id"].as_str().map(str::to_string))
    }

    /// The guild's Scheduled Events (its Events tab).
    pub async fn scheduled_events(&self, guild: &str) -> Result<Vec<Value>, RestError> {
        let v = self
            .call_as(
                Priority::Background,
                reqwest::Method::GET,
                &format!("/guilds/{}/scheduled-events", snowflake(guild)?),
                None,
                None,
            )
            .await?;
        Ok(v.as_array().cloned().unwrap_or_default())
    }

    /// Creates a Scheduled Event; returns its id.
    pub async fn create_scheduled_event(
        &self,
        guild: &str,
        body: &Value,
    ) -> Result<String, RestError> {
        let v = self
            .call_as(
                Priority::Background,
                reqwest::Method::POST,
                &format!("/guilds/{}/scheduled-events", snowflake(guild)?),
                Some(body),
                None,
            )
            .await?;
        Ok(v["id"].as_str().unwrap_or_default().to_string())
    }

    /// Changes a Scheduled Event (its fields, or its status: 4 cancels it).
    pub async fn modify_scheduled_event(
        &self,
        guild: &str,
        id: &str,
        body: &Value,
    ) -> Result<(), RestError> {
        self.call_as(
            Priority::Background,
            reqwest::Method::PATCH,
            &format!(
                "/guilds/{}/scheduled-events/{}",
                snowflake(guild)?,
                snowflake(id)?
            ),
            Some(body),
            None,
        )
        .await
        .map(drop)
    }

    /// The people who marked a Scheduled Event "Interested", up to `max` (100 per page).
    pub async fn interested(
        &self,
        guild: &str,
        id: &str,
        max: usize,
    ) -> Result<Vec<String>, RestError> {
        let mut users: Vec<String> = Vec::new();
        loop {
            let after = users
                .last()
                .map(|u| format!("&after={u}"))
                .unwrap_or_default();
            let v = self
                .call_as(
                    Priority::Background,
                    reqwest::Method::GET,
                    &format!(
                        "/guilds/{}/scheduled-events/{}/users?limit=100{after}",
                        snowflake(guild)?,
                        snowflake(id)?
                    ),
                    None,
                    None,
                )
                .await?;
            let page: Vec<String> = v
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|u| u["user"]["id"].as_str().map(str::to_string))
                .filter(|id| snowflake(id).is_ok())
                .collect();
            let last_page = page.len() < 100;
            users.extend(page);
            if last_page || users.len() >= max {
                users.truncate(max);
                return Ok(users);
            }
        }
    }

    /// Answers an interaction received over the gateway.
    pub async fn respond(&self, id: &str, token: &str, response: &Value) -> Result<(), RestError> {
        self.call(
            reqwest::Method::POST,
            &format!(
                "/interactions/{}/{}/callback",
                snowflake(id)?,
                path_token(token)?
            ),
            Some(response),
            None,
        )
        .await
        .map(drop)
    }

    /// A follow-up message to a deferred interaction, with an optional file.
    pub async fn follow_up(
        &self,
        application: &str,
        token: &str,
        message: &Value,
        file: Option<&File>,
    ) -> Result<(), RestError> {
        self.call(
            reqwest::Method::POST,
            &format!(
                "/webhooks/{}/{}",
                snowflake(application)?,
                path_token(token)?
            ),
            Some(message),
            file,
        )
        .await
        .map(drop)
    }

    /// Replaces all of the application's commands (in one guild, or globally).
    pub async fn overwrite_commands(
        &self,
        application: &str,
        guild: Option<&str>,
        commands: &Value,
    ) -> Result<Value, RestError> {
        let path = match guild {
            Some(g) => format!(
                "/applications/{}/guilds/{}/commands",
                snowflake(application)?,
                snowflake(g)?
            ),
            None => format!("/applications/{}/commands", snowflake(application)?),
        };
        self.call(reqwest::Method::PUT, &path, Some(commands), None)
            .await
    }

    /// A file Discord stores (an attachment's URL from a signed interaction), at most `max`
    /// bytes — refused as soon as it is known to be bigger.
    pub async fn download(&self, url: &str, max: usize) -> Result<Vec<u8>, RestError> {
        let mut resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| RestError::Network(e.without_url().to_string()))?;
        if !resp.status().is_success() {
            return Err(RestError::Status {
                status: resp.status().as_u16(),
                code: 0,
                message: "the file could not be fetched".into(),
            });
        }
        let mut out = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| RestError::Network(e.without_url().to_string()))?
        {
            out.extend_from_slice(&chunk);
            if out.len() > max {
                return Err(RestError::Decode(format!(
                    "the file is over {} KB",
                    max / 1000
                )));
            }
        }
        Ok(out)
    }

    /// Where to connect the gateway, and how many shards Discord recommends.
    pub async fn gateway_bot(&self) -> Result<GatewayInfo, RestError> {
        let v = self
            .call(reqwest::Method::GET, "/gateway/bot", None, None)
            .await?;
        GatewayInfo::from_json(&v)
            .ok_or_else(|| RestError::Decode("no gateway URL or shard count".into()))
    }

    /// The application's id, from its token.
    pub async fn application_id(&self) -> Result<String, RestError> {
        let v = self
            .call(reqwest::Method::GET, "/oauth2/applications/@me", None, None)
            .await?;
        v["id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| RestError::Decode("no application id".into()))
    }
}

/// The budget's and rate limits' name for a request: method and path, without the query
/// string (`?limit=100&after=…` is the same route).
fn route_of(method: &reqwest::Method, path: &str) -> String {
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    format!("{method} {path}")
}

/// What `GET /gateway/bot` says.
#[derive(Debug, Clone)]
pub struct GatewayInfo {
    pub url: String,
    pub shards: u32,
    /// The budget of session starts, when Discord says it.
    pub start_limit: Option<super::sessions::StartLimit>,
}

impl GatewayInfo {
    pub fn from_json(v: &Value) -> Option<GatewayInfo> {
        Some(GatewayInfo {
            url: v["url"].as_str()?.to_string(),
            shards: v["shards"].as_u64().and_then(|n| u32::try_from(n).ok())?,
            start_limit: super::sessions::StartLimit::from_json(&v["session_start_limit"]),
        })
    }
}

/// Ids go into URL paths: only digits are accepted, so no text can change the path.
pub fn snowflake(id: &str) -> Result<&str, RestError> {
    if !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(id)
    } else {
        Err(RestError::Decode(format!(
            "not a Discord id: {:?}",
            id.chars().take(30).collect::<String>()
        )))
    }
}

/// Interaction tokens are URL-safe by construction; anything else is refused.
fn path_token(token: &str) -> Result<&str, RestError> {
    if !token.is_empty()
        && token.len() <= 500
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        Ok(token)
    } else {
        Err(RestError::Decode("not an interaction token".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gateway_info_is_read_from_discords_answer() {
        let info = GatewayInfo::from_json(&json!({"url": "wss://gateway.discord.gg", "shards": 3,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 1, "max_concurrency": 1}}))
        .unwrap();
        assert_eq!(info.url, "wss://gateway.discord.gg");
        assert_eq!(info.shards, 3);
        assert!(GatewayInfo::from_json(&json!({"url": "x", "shards": -1})).is_none());
    }

    #[test]
    fn only_snowflakes_and_tokens_go_into_paths() {
        assert!(snowflake("123456789012345678").is_ok());
        assert!(snowflake("../../users/@me").is_err());
        assert!(snowflake("").is_err());
        assert!(path_token("aW50ZXJhY3Rpb246MTIz.abc-_").is_ok());
        assert!(path_token("a/b").is_err());
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let r = Rest::new(DEFAULT_BASE, Some("MTIz.secret".into()));
        assert!(!format!("{r:?}").contains("secret"));
    }
}
