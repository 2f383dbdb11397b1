//! A thin client for the part of the Matrix client-server API the bot uses (spec v1.11+):
//! login, whoami, sync, join/leave, send, room state, room creation, media upload.
//!
//! Why not matrix-sdk: the bot needs a dozen endpoints, and for end-to-end encryption only the
//! crypto state machine (matrix-sdk-crypto), whose requests this client sends (`send_ruma`);
//! the SDK would add minutes of build, a second HTTP and TLS stack and a state store we would
//! not use (BENCHMARKS.md, "Matrix encryption: what it costs to build").
//! What the SDK would give us and we do by hand: rate limits (429 with `retry_after_ms` is
//! waited out, a few times), percent-encoded path segments (room and event ids carry `!`, `$`,
//! `/`, `+`), transaction ids for idempotent sends, and typed errors with the `errcode`.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};

/// How often a rate-limited request is tried again before giving up.
const RATE_LIMIT_RETRIES: u32 = 4;
/// Tries of a repeatable request that meets server errors or network failures.
const TRANSIENT_TRIES: u32 = 4;
/// The longest wait we accept from a `retry_after_ms`.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    #[error("cannot reach the homeserver: {0}")]
    Network(String),
    #[error("the homeserver answered {status} {errcode}: {message}")]
    Api {
        status: u16,
        errcode: String,
        message: String,
    },
    #[error("the homeserver's answer was not understood: {0}")]
    Decode(String),
    #[error("end-to-end encryption failed: {0}")]
    Crypto(String),
}

impl MatrixError {
    /// The same error with `secret` blotted out of every text in it: a homeserver's error
    /// message is its own text, and one that echoed the request would otherwise carry the
    /// password into the logs.
    pub fn redacting(self, secret: &str) -> MatrixError {
        if secret.is_empty() {
            return self;
        }
        let clean = |t: String| t.replace(secret, "****");
        match self {
            MatrixError::Network(t) => MatrixError::Network(clean(t)),
            MatrixError::Api {
                status,
                errcode,
                message,
            } => MatrixError::Api {
                status,
                errcode: clean(errcode),
                message: clean(message),
            },
            MatrixError::Decode(t) => MatrixError::Decode(clean(t)),
            MatrixError::Crypto(t) => MatrixError::Crypto(clean(t)),
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            MatrixError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn errcode(&self) -> Option<&str> {
        match self {
            MatrixError::Api { errcode, .. } => Some(errcode),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    base: url::Url,
    token: Option<crate::config::Secret>,
}

#[derive(Debug, Deserialize)]
pub struct Login {
    pub user_id: String,
    pub access_token: String,
    pub device_id: String,
}

#[derive(Debug, Deserialize)]
pub struct WhoAmI {
    pub user_id: String,
    #[serde(default)]
    pub device_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Sync {
    pub next_batch: String,
    #[serde(default)]
    pub rooms: Rooms,
    /// What end-to-end encryption needs from a sync: to-device messages (room keys), whose
    /// devices changed, and how many one-time keys the server still holds for us.
    #[serde(default)]
    pub to_device: Events,
    #[serde(default)]
    pub device_lists: ruma::api::client::sync::sync_events::DeviceLists,
    #[serde(default)]
    pub device_one_time_keys_count:
        std::collections::BTreeMap<ruma::OneTimeKeyAlgorithm, ruma::UInt>,
    #[serde(default)]
    pub device_unused_fallback_key_types: Option<Vec<ruma::OneTimeKeyAlgorithm>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Rooms {
    #[serde(default)]
    pub join: std::collections::BTreeMap<String, JoinedRoom>,
    #[serde(default)]
    pub invite: std::collections::BTreeMap<String, InvitedRoom>,
    #[serde(default)]
    pub leave: std::collections::BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
pub struct JoinedRoom {
    #[serde(default)]
    pub state: Events,
    #[serde(default)]
    pub timeline: Events,
}

#[derive(Debug, Default, Deserialize)]
pub struct InvitedRoom {
    #[serde(default)]
    pub invite_state: Events,
}

#[derive(Debug, Default, Deserialize)]
pub struct Events {
    #[serde(default)]
    pub events: Vec<Event>,
    /// A timeline with a gap before its events (some were left out).
    #[serde(default)]
    pub limited: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Event {
    pub kind: String,
    pub sender: String,
    pub event_id: String,
    pub state_key: Option<String>,
    pub content: Value,
    pub unsigned: Value,
    /// `redacts` of a redaction (top level before room version 11, in the content after).
    pub redacts: Option<String>,
    /// The event as the server sent it: what decryption reads.
    pub raw: Value,
}

/// A room message from `sender` with `content`, as a sync would bring it (unit tests).
#[cfg(test)]
pub(crate) fn test_message(sender: &str, content: serde_json::Value) -> Event {
    Event {
        kind: "m.room.message".into(),
        sender: sender.into(),
        event_id: "$e".into(),
        content,
        ..Event::default()
    }
}

#[derive(Deserialize)]
struct EventFields {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    sender: String,
    #[serde(default)]
    event_id: String,
    #[serde(default)]
    state_key: Option<String>,
    #[serde(default)]
    content: Value,
    #[serde(default)]
    unsigned: Value,
    #[serde(default)]
    redacts: Option<String>,
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Event, D::Error> {
        let raw = Value::deserialize(d)?;
        let f: EventFields =
            serde_json::from_value(raw.clone()).map_err(serde::de::Error::custom)?;
        let redacts = f
            .redacts
            .or_else(|| f.content["redacts"].as_str().map(str::to_string));
        Ok(Event {
            kind: f.kind,
            sender: f.sender,
            event_id: f.event_id,
            state_key: f.state_key,
            content: f.content,
            unsigned: f.unsigned,
            redacts,
            raw,
        })
    }
}

impl Client {
    pub fn new(homeserver: &str) -> Result<Client, MatrixError> {
        let mut base = url::Url::parse(homeserver.trim())
            .map_err(|e| MatrixError::Network(format!("MATRIX_HOMESERVER is not a URL: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(MatrixError::Network(
                "MATRIX_HOMESERVER must start with https:// (or http:// for a local server)".into(),
            ));
        }
        base.set_query(None);
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("atlasbot/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| MatrixError::Network(e.to_string()))?;
        Ok(Client {
            http,
            base,
            token: None,
        })
    }

    pub fn with_token(mut self, token: String) -> Client {
        self.token = Some(crate::config::Secret::new(token));
        self
    }

    /// `/_matrix/client/v3/<segments…>`, each segment percent-encoded.
    fn url(&self, api: &str, segments: &[&str]) -> url::Url {
        let mut url = self.base.clone();
        {
            let mut path = url.path_segments_mut().expect("http URLs have paths");
            path.pop_if_empty();
            path.extend(api.split('/'));
            path.extend(segments);
        }
        url
    }

    /// Sends a request and decodes the JSON answer or the Matrix error. A 429 is tried again
    /// after its `retry_after_ms`; a server error (5xx) or a network failure only when the
    /// request is safe to repeat — a GET, or a PUT, whose path names what it writes (a
    /// message's transaction id: the homeserver keeps the first and answers the same event for
    /// the others, so a retry is never a second message) — after a growing, jittered wait.
    async fn call(
        &self,
        method: reqwest::Method,
        url: url::Url,
        body: Option<&Value>,
        timeout: Duration,
    ) -> Result<Value, MatrixError> {
        let repeatable = method == reqwest::Method::GET || method == reqwest::Method::PUT;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let answer = self
                .attempt(method.clone(), url.clone(), body, timeout)
                .await;
            let wait = match answer {
                Ok(value) => return Ok(value),
                Err(e) if e.status() == Some(429) && attempt <= RATE_LIMIT_RETRIES => {
                    let Failure { wait, .. } = e;
                    tracing::info!(
                        wait_ms = wait.as_millis() as u64,
                        "rate limited by the homeserver"
                    );
                    wait
                }
                Err(e) if repeatable && e.is_transient() && attempt < TRANSIENT_TRIES => {
                    tracing::warn!(error = %e.error, attempt, "the homeserver failed; trying again");
                    transient_wait(attempt)
                }
                Err(e) => return Err(e.error),
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// One attempt: the answer's JSON, or what went wrong and how long a 429 asks to wait.
    async fn attempt(
        &self,
        method: reqwest::Method,
        url: url::Url,
        body: Option<&Value>,
        timeout: Duration,
    ) -> Result<Value, Failure> {
        let resp = self
            .request(method, url, body, timeout)
            .send()
            .await
            .map_err(|e| Failure::from(MatrixError::Network(e.without_url().to_string())))?;
        let (status, header_wait, value) = read_answer(resp).await.map_err(Failure::from)?;
        if status.is_success() {
            return Ok(value);
        }
        Err(Failure {
            wait: retry_wait(&value, header_wait),
            error: MatrixError::Api {
                status: status.as_u16(),
                errcode: value["errcode"].as_str().unwrap_or("M_UNKNOWN").to_string(),
                message: value["error"].as_str().unwrap_or("").to_string(),
            },
        })
    }

    /// One attempt's request: authenticated with the token, if any, and carrying the body.
    fn request(
        &self,
        method: reqwest::Method,
        url: url::Url,
        body: Option<&Value>,
        timeout: Duration,
    ) -> reqwest::RequestBuilder {
        let mut req = self.http.request(method, url).timeout(timeout);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t.expose());
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        req
    }

    async fn get(&self, url: url::Url) -> Result<Value, MatrixError> {
        self.call(reqwest::Method::GET, url, None, Duration::from_secs(30))
            .await
    }

    async fn post(&self, url: url::Url, body: &Value) -> Result<Value, MatrixError> {
        self.call(
            reqwest::Method::POST,
            url,
            Some(body),
            Duration::from_secs(30),
        )
        .await
    }

    async fn put(&self, url: url::Url, body: &Value) -> Result<Value, MatrixError> {
        self.call(
            reqwest::Method::PUT,
            url,
            Some(body),
            Duration::from_secs(30),
        )
        .await
    }

    fn decode<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, MatrixError> {
        serde_json::from_value(v).map_err(|e| MatrixError::Decode(e.to_string()))
    }

    /// Password login as `user`, on `device` if we have one (so transaction ids, scoped to the
    /// device, keep deduplicating across restarts).
    pub async fn login(
        &self,
        user: &str,
        password: &str,
        device: Option<&str>,
    ) -> Result<Login, MatrixError> {
        let mut body = json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user},
            "password": password,
            "initial_device_display_name": "atlasbot",
        });
        if let Some(d) = device {
            body["device_id"] = json!(d);
        }
        self.post(self.url("_matrix/client/v3/login", &[]), &body)
            .await
            .and_then(Self::decode)
            .map_err(|e| e.redacting(password))
    }

    pub async fn whoami(&self) -> Result<WhoAmI, MatrixError> {
        Self::decode(
            self.get(self.url("_matrix/client/v3/account/whoami", &[]))
                .await?,
        )
    }

    /// One long poll. `filter` is a filter definition as JSON text.
    pub async fn sync(
        &self,
        since: Option<&str>,
        timeout: Duration,
        filter: &str,
    ) -> Result<Sync, MatrixError> {
        let mut url = self.url("_matrix/client/v3/sync", &[]);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("timeout", &timeout.as_millis().to_string());
            q.append_pair("filter", filter);
            if let Some(s) = since {
                q.append_pair("since", s);
            }
        }
        let v = self
            .call(
                reqwest::Method::GET,
                url,
                None,
                timeout + Duration::from_secs(30),
            )
            .await?;
        Self::decode(v)
    }

    pub async fn join(&self, room: &str) -> Result<(), MatrixError> {
        self.post(self.url("_matrix/client/v3/join", &[room]), &json!({}))
            .await
            .map(drop)
    }

    pub async fn leave(&self, room: &str) -> Result<(), MatrixError> {
        self.post(
            self.url("_matrix/client/v3/rooms", &[room, "leave"]),
            &json!({}),
        )
        .await
        .map(drop)
    }

    /// Sends a message event. The same `txn` from the same device sends it once, however
    /// often it is called (the homeserver answers with the first event's id).
    pub async fn send(
        &self,
        room: &str,
        event_type: &str,
        txn: &str,
        content: &Value,
    ) -> Result<String, MatrixError> {
        let v = self
            .put(
                self.url("_matrix/client/v3/rooms", &[room, "send", event_type, txn]),
                content,
            )
            .await?;
        v["event_id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| MatrixError::Decode("no event_id in the send answer".into()))
    }

    /// Sends a request the crypto state machine made (key upload, query and claim, to-device
    /// messages, signatures) and decodes its answer, with our token and rate-limit waits.
    pub async fn send_ruma<R>(&self, request: R) -> Result<R::IncomingResponse, MatrixError>
    where
        R: ruma::api::OutgoingRequest<
            Authentication = ruma::api::auth_scheme::AccessToken,
            PathBuilder = ruma::api::path_builder::VersionHistory,
        >,
    {
        let token = self.token.as_ref().map(|t| t.expose()).unwrap_or_default();
        let versions = ruma::api::SupportedVersions {
            versions: [ruma::api::MatrixVersion::V1_11].into(),
            features: Default::default(),
        };
        let http_request = request
            .try_into_http_request::<Vec<u8>>(
                self.base.as_str().trim_end_matches('/'),
                ruma::api::auth_scheme::SendAccessToken::Always(token),
                std::borrow::Cow::Owned(versions),
            )
            .map_err(|e| MatrixError::Decode(format!("cannot build the request: {e}")))?;
        let url = url::Url::parse(&http_request.uri().to_string())
            .map_err(|e| MatrixError::Decode(e.to_string()))?;
        let method = reqwest::Method::from_bytes(http_request.method().as_str().as_bytes())
            .map_err(|e| MatrixError::Decode(e.to_string()))?;
        let body = http_request.body();
        let body: Option<Value> = if body.is_empty() {
            None
        } else {
            Some(serde_json::from_slice(body).map_err(|e| MatrixError::Decode(e.to_string()))?)
        };
        let answer = self
            .call(method, url, body.as_ref(), Duration::from_secs(30))
            .await?;
        let bytes = serde_json::to_vec(&answer).map_err(|e| MatrixError::Decode(e.to_string()))?;
        let response = http::Response::builder()
            .status(200)
            .body(bytes)
            .map_err(|e| MatrixError::Decode(e.to_string()))?;
        <R::IncomingResponse as ruma::api::IncomingResponse>::try_from_http_response(response)
            .map_err(|e| MatrixError::Decode(e.to_string()))
    }

    /// The joined and invited members of a room: who an encrypted message is encrypted for.
    pub async fn members(&self, room: &str) -> Result<Vec<String>, MatrixError> {
        let v = self
            .get(self.url("_matrix/client/v3/rooms", &[room, "members"]))
            .await?;
        Ok(v["chunk"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| matches!(e["content"]["membership"].as_str(), Some("join" | "invite")))
            .filter_map(|e| e["state_key"].as_str().map(str::to_string))
            .collect())
    }

    /// A room's state event of `kind` (with an empty state key), or None if it has none.
    pub async fn state_event(&self, room: &str, kind: &str) -> Result<Option<Value>, MatrixError> {
        match self
            .get(self.url("_matrix/client/v3/rooms", &[room, "state", kind, ""]))
            .await
        {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One event of a room, as the server holds it.
    pub async fn event(&self, room: &str, event_id: &str) -> Result<Event, MatrixError> {
        Self::decode(
            self.get(self.url("_matrix/client/v3/rooms", &[room, "event", event_id]))
                .await?,
        )
    }

    /// The bot's own account data of `kind`, or None.
    pub async fn account_data(&self, user: &str, kind: &str) -> Result<Option<Value>, MatrixError> {
        match self
            .get(self.url("_matrix/client/v3/user", &[user, "account_data", kind]))
            .await
        {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn set_account_data(
        &self,
        user: &str,
        kind: &str,
        content: &Value,
    ) -> Result<(), MatrixError> {
        self.put(
            self.url("_matrix/client/v3/user", &[user, "account_data", kind]),
            content,
        )
        .await
        .map(drop)
    }

    /// Publishes the account's cross-signing keys (`body`: master, self-signing, user-signing).
    /// Servers ask for the password (user-interactive auth) unless the account has none yet;
    /// with `password`, it is given when asked.
    pub async fn upload_signing_keys(
        &self,
        user: &str,
        body: &Value,
        password: Option<&str>,
    ) -> Result<(), MatrixError> {
        let url = self.url("_matrix/client/v3/keys/device_signing/upload", &[]);
        let mut body = body.clone();
        let first = self.post(url.clone(), &body).await;
        let Err(MatrixError::Api { status: 401, .. }) = &first else {
            return first.map(drop);
        };
        let Some(password) = password else {
            return Err(MatrixError::Crypto(
                "the homeserver asks for the password to publish cross-signing keys: set MATRIX_PASSWORD".into(),
            ));
        };
        // The session of the auth flow comes with the 401's body, which `call` does not keep.
        let mut req = self.http.post(url.clone()).json(&body);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t.expose());
        }
        let flow: Value = req
            .send()
            .await
            .map_err(|e| MatrixError::Network(e.without_url().to_string()))?
            .json()
            .await
            .map_err(|e| MatrixError::Decode(e.to_string()))?;
        body["auth"] = json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user},
            "password": password,
            "session": flow["session"],
        });
        self.post(url, &body)
            .await
            .map(drop)
            .map_err(|e| e.redacting(password))
    }

    /// The room an alias (#name:server) points to.
    pub async fn resolve_alias(&self, alias: &str) -> Result<String, MatrixError> {
        let v = self
            .get(self.url("_matrix/client/v3/directory/room", &[alias]))
            .await?;
        v["room_id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| MatrixError::Decode("no room_id for the alias".into()))
    }

    /// Every state event of a room, as full events (with their senders).
    pub async fn room_state(&self, room: &str) -> Result<Vec<Event>, MatrixError> {
        Self::decode(
            self.get(self.url("_matrix/client/v3/rooms", &[room, "state"]))
                .await?,
        )
    }

    /// Opens a direct room with `person` (invited), encrypted if `encrypted`.
    pub async fn create_direct_room(
        &self,
        person: &str,
        encrypted: bool,
    ) -> Result<String, MatrixError> {
        let mut body = json!({
            "is_direct": true,
            "preset": "trusted_private_chat",
            "invite": [person],
            "name": "atlasbot reminders",
        });
        if encrypted {
            body["initial_state"] = json!([{
                "type": "m.room.encryption",
                "state_key": "",
                "content": {"algorithm": "m.megolm.v1.aes-sha2"},
            }]);
        }
        let v = self
            .post(self.url("_matrix/client/v3/createRoom", &[]), &body)
            .await?;
        v["room_id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| MatrixError::Decode("no room_id in the createRoom answer".into()))
    }

    /// Uploads a file to the media repository; returns its `mxc://` URI.
    pub async fn upload(
        &self,
        filename: &str,
        media_type: &str,
        content: Vec<u8>,
    ) -> Result<String, MatrixError> {
        let mut url = self.url("_matrix/media/v3/upload", &[]);
        url.query_pairs_mut().append_pair("filename", filename);
        let mut req = self
            .http
            .post(url)
            .timeout(Duration::from_secs(60))
            .header(reqwest::header::CONTENT_TYPE, media_type)
            .body(content);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t.expose());
        }
        let resp = req
            .send()
            .await
            .map_err(|e| MatrixError::Network(e.without_url().to_string()))?;
        let status = resp.status();
        let v: Value = resp
            .json()
            .await
            .map_err(|e| MatrixError::Decode(e.to_string()))?;
        if !status.is_success() {
            return Err(MatrixError::Api {
                status: status.as_u16(),
                errcode: v["errcode"].as_str().unwrap_or("M_UNKNOWN").to_string(),
                message: v["error"].as_str().unwrap_or("").to_string(),
            });
        }
        v["content_uri"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| MatrixError::Decode("no content_uri in the upload answer".into()))
    }
}

/// An answer's status, its `Retry-After` header (in seconds) and its JSON body (`{}` if empty).
async fn read_answer(
    resp: reqwest::Response,
) -> Result<(reqwest::StatusCode, Option<Duration>, Value), MatrixError> {
    let status = resp.status();
    let header_wait = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_secs);
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| MatrixError::Network(e.without_url().to_string()))?;
    let value: Value = if bytes.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            // A proxy's error page in front of the homeserver: the status says what happened.
            Err(_) if !status.is_success() => json!({"error": "an answer that is not JSON"}),
            Err(e) => return Err(MatrixError::Decode(format!("{status}: {e} (not JSON)"))),
        }
    };
    Ok((status, header_wait, value))
}

/// A failed attempt: the error, and how long its answer asked to wait (for a 429).
#[derive(Debug)]
struct Failure {
    error: MatrixError,
    wait: Duration,
}

impl From<MatrixError> for Failure {
    fn from(error: MatrixError) -> Failure {
        Failure {
            error,
            wait: Duration::from_secs(1),
        }
    }
}

impl Failure {
    fn status(&self) -> Option<u16> {
        self.error.status()
    }

    /// A server error or no (whole) answer: worth another try. (A 4xx is an answer.)
    fn is_transient(&self) -> bool {
        match &self.error {
            MatrixError::Network(_) => true,
            MatrixError::Api { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// The wait before try `attempt + 1` after a transient failure: 0.5 s, 1 s, 2 s …, each
/// between half and all of it, so that clients that failed together do not return together.
fn transient_wait(attempt: u32) -> Duration {
    crate::platform::jittered(Duration::from_millis(500) * (1 << attempt.saturating_sub(1).min(6)))
}

/// How long a rate-limited request waits: the answer's `retry_after_ms`, else its header,
/// else a second — never more than `MAX_RETRY_AFTER`.
fn retry_wait(value: &Value, header_wait: Option<Duration>) -> Duration {
    value["retry_after_ms"]
        .as_u64()
        .map(Duration::from_millis)
        .or(header_wait)
        .unwrap_or(Duration::from_secs(1))
        .min(MAX_RETRY_AFTER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_error_never_carries_the_password() {
        let e = MatrixError::Api {
            status: 400,
            errcode: "M_BAD_JSON".into(),
            message: r#"bad request {"password": "hunter2-secret"}"#.into(),
        }
        .redacting("hunter2-secret");
        assert!(!e.to_string().contains("hunter2-secret"), "{e}");
        assert!(e.to_string().contains("****"));
    }

    #[test]
    fn ids_are_percent_encoded_in_paths() {
        let c = Client::new("https://matrix.example.org/").unwrap();
        let u = c.url(
            "_matrix/client/v3/rooms",
            &["!abc:example.org", "send", "m.room.message", "ev1-x/y+z?#"],
        );
        assert_eq!(
            u.as_str(),
            "https://matrix.example.org/_matrix/client/v3/rooms/!abc:example.org/send/m.room.message/ev1-x%2Fy+z%3F%23"
        );
    }

    #[test]
    fn a_homeserver_must_be_a_web_address() {
        assert!(Client::new("matrix.example.org").is_err());
        assert!(Client::new("ftp://matrix.example.org").is_err());
        assert!(Client::new("http://127.0.0.1:8008").is_ok());
    }

    #[test]
    fn redactions_name_their_target_in_either_room_version() {
        let old: Event = serde_json::from_value(
            json!({"type": "m.room.redaction", "sender": "@a:x", "event_id": "$r", "redacts": "$t", "content": {}}),
        )
        .unwrap();
        let new: Event = serde_json::from_value(
            json!({"type": "m.room.redaction", "sender": "@a:x", "event_id": "$r", "content": {"redacts": "$t"}}),
        )
        .unwrap();
        assert_eq!(old.redacts.as_deref(), Some("$t"));
        assert_eq!(new.redacts.as_deref(), Some("$t"));
        assert_eq!(
            new.raw["content"]["redacts"], "$t",
            "the raw event is kept whole"
        );
    }

    proptest::proptest! {
        /// Whatever a homeserver (or anyone in a room) sends, reading it as an event is an
        /// answer or an error, never a panic.
        #[test]
        fn any_json_reads_as_an_event_or_an_error(text in "\\PC{0,200}", kind in "[a-z.]{0,20}") {
            let _ = serde_json::from_str::<Event>(&text);
            let _ = serde_json::from_value::<Event>(json!({"type": kind, "content": text, "redacts": 5}));
            let _ = serde_json::from_value::<Sync>(json!({"next_batch": text, "to_device": {"events": [{"type": kind}]}, "device_one_time_keys_count": {"signed_curve25519": 3}}));
        }
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let c = Client::new("https://m.example.org")
            .unwrap()
            .with_token("syt_secret".into());
        assert!(!format!("{c:?}").contains("syt_secret"));
    }
}
