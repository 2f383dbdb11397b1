//! `atlasbot discord`: the gateway client (serenity). Interactions arrive over the gateway
//! and are answered through the same `handle` as the HTTP endpoint. No privileged intents —
//! in fact no intents at all: interactions are delivered regardless.
//!
//! Sharding: by default serenity asks Discord how many shards to run and runs them all here.
//! Large deployments run ranges in several processes (`--shards 0-3 --shard-total 8` here,
//! `--shards 4-7 --shard-total 8` elsewhere); reminders are claimed atomically in the shared
//! database, so whichever process claims one sends it, once.

use std::sync::Arc;

use serenity::all::{EventHandler, GatewayIntents, Interaction, Ready};

use super::rest::Rest;
use crate::commands::Context;

struct Handler {
    ctx: Context,
    rest: Arc<Rest>,
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn interaction_create(&self, _: serenity::all::Context, interaction: Interaction) {
        let value = match serde_json::to_value(&interaction) {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(error = %e, "cannot read an interaction");
                return;
            }
        };
        let handled = super::handle(&self.ctx, &value).await;
        let id = value["id"].as_str().unwrap_or_default();
        let token = value["token"].as_str().unwrap_or_default();
        if let Err(e) = self.rest.respond(id, token, &handled.response).await {
            tracing::warn!(error = %e, "cannot answer an interaction");
            return;
        }
        if let Some(f) = handled.follow_up {
            super::follow_up(&self.ctx, &self.rest, f).await;
        }
    }

    // Only logs: the scheduler was started once before connecting, and "ready" fires again
    // on every reconnect.
    async fn ready(&self, _: serenity::all::Context, ready: Ready) {
        tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), shard = ?ready.shard, "connected to Discord");
    }
}

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

pub async fn run(ctx: Context, rest: Arc<Rest>, token: &str, shards: Shards) -> Result<(), String> {
    let mut client = serenity::Client::builder(token, GatewayIntents::empty())
        .event_handler(Handler { ctx, rest })
        .await
        .map_err(|e| format!("cannot create the Discord client: {e}"))?;
    let manager = client.shard_manager.clone();
    tokio::spawn(async move {
        super::super::shutdown_signal().await;
        manager.shutdown_all().await;
    });
    let started = match shards {
        Shards::Auto => client.start_autosharded().await,
        Shards::Range { first, last, total } => {
            client.start_shard_range(first..last + 1, total).await
        }
    };
    started.map_err(|e| format!("the Discord gateway connection failed: {e}"))
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
}
