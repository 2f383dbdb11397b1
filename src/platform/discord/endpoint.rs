//! The interactions endpoint (`atlasbot discord-http`): Discord POSTs each interaction here,
//! signed. Every request is checked before anything else is read: the Ed25519 signature over
//! timestamp + body (serenity's `Verifier`), and the timestamp's age — the verifier does not
//! look at it, and without that check a captured request could be replayed forever. Any
//! failure is a 401 with no detail.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serenity::interactions_endpoint::Verifier;
use tokio::net::TcpListener;

use super::rest::Rest;
use crate::commands::Context;

/// Requests older (or newer) than this are refused.
pub const MAX_AGE: Duration = Duration::from_secs(5 * 60);
/// Interactions are small; anything bigger is not one.
const MAX_BODY: usize = 256 * 1024;

pub struct Endpoint {
    pub ctx: Context,
    pub verifier: Verifier,
    /// For follow-ups after deferred answers.
    pub rest: Arc<Rest>,
}

/// The verifier for a public key given as 64 hex digits (DISCORD_PUBLIC_KEY).
pub fn verifier(public_key_hex: &str) -> Result<Verifier, String> {
    let hex = public_key_hex.trim();
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(
            "DISCORD_PUBLIC_KEY must be 64 hex digits (the application's public key)".into(),
        );
    }
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
    }
    Verifier::try_new(key).map_err(|e| format!("DISCORD_PUBLIC_KEY is not a valid key: {e}"))
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
        if req.method() != hyper::Method::POST {
            return respond(
                StatusCode::METHOD_NOT_ALLOWED,
                "POST interactions here",
                false,
            );
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
            return unauthorized();
        };
        let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return respond(StatusCode::PAYLOAD_TOO_LARGE, "too large", false),
        };
        if !fresh(&timestamp, self.ctx.clock.now())
            || self.verifier.verify(&signature, &timestamp, &body).is_err()
        {
            return unauthorized();
        }
        let Ok(interaction) = serde_json::from_slice::<serde_json::Value>(&body) else {
            return respond(StatusCode::BAD_REQUEST, "not JSON", false);
        };
        let handled = super::handle(&self.ctx, &interaction).await;
        if let Some(f) = handled.follow_up {
            let (ctx, rest) = (self.ctx.clone(), self.rest.clone());
            tokio::spawn(async move { super::follow_up(&ctx, &rest, f).await });
        }
        respond(StatusCode::OK, handled.response.to_string(), true)
    }
}

/// Serves until `shutdown` turns true. HTTP/1.1 with keep-alive (Discord reuses connections).
pub async fn serve(
    listener: TcpListener,
    endpoint: Arc<Endpoint>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let _ = stream.set_nodelay(true);
        let endpoint = endpoint.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let endpoint = endpoint.clone();
                async move { Ok::<_, Infallible>(endpoint.answer(req).await) }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
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
