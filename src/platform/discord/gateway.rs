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
        let value = match to_json(&interaction) {
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

/// Discord's JSON for an interaction received as serenity's model, as the endpoint gets it.
/// Serenity serialises each kind without its `type`, which is put back from the variant.
pub fn to_json(interaction: &Interaction) -> Result<serde_json::Value, serde_json::Error> {
    let mut v = serde_json::to_value(interaction)?;
    let kind = match interaction {
        Interaction::Ping(_) => 1,
        Interaction::Command(_) => 2,
        Interaction::Component(_) => 3,
        Interaction::Autocomplete(_) => 4,
        Interaction::Modal(_) => 5,
        _ => 0,
    };
    v["type"] = serde_json::json!(kind);
    Ok(v)
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

#[cfg(test)]
mod round_trip {
    use serde_json::json;

    /// The gateway hands us serenity's model; `handle` reads Discord's JSON. Serialising the
    /// model must give back what `handle` reads.
    #[test]
    fn a_gateway_interaction_serialises_back_to_discords_json() {
        let raw = json!({
            "id": "300000000000000003", "application_id": "456000000000000456", "type": 2,
            "token": "dG9rZW4", "version": 1, "guild_id": "100000000000000001",
            "channel_id": "111000000000000111", "locale": "en-GB", "guild_locale": "en-US",
            "app_permissions": "0", "entitlements": [], "attachment_size_limit": 10485760, "authorizing_integration_owners": {},
            "member": {"user": {"id": "200000000000000002", "username": "m", "discriminator": "0", "global_name": null, "avatar": null},
                       "roles": ["555000000000000555"], "permissions": "8589934592", "joined_at": "2024-01-01T00:00:00+00:00",
                       "deaf": false, "mute": false, "flags": 0},
            "data": {"id": "1", "name": "event", "type": 1, "options": [
                {"name": "add", "type": 1, "options": [{"name": "title", "type": 3, "value": "Standup"}]}]}
        });
        let model: serenity::all::Interaction = serde_json::from_value(raw).unwrap();
        let back = super::to_json(&model).unwrap();
        assert_eq!(back["type"], 2);
        assert_eq!(back["id"], "300000000000000003");
        assert_eq!(back["token"], "dG9rZW4");
        assert_eq!(back["guild_id"], "100000000000000001");
        assert_eq!(back["channel_id"], "111000000000000111");
        assert_eq!(back["member"]["user"]["id"], "200000000000000002");
        assert_eq!(back["member"]["roles"][0], "555000000000000555");
        assert_eq!(back["member"]["permissions"], "8589934592");
        assert_eq!(back["data"]["name"], "event");
        assert_eq!(back["data"]["options"][0]["type"], 1);
        assert_eq!(back["data"]["options"][0]["options"][0]["value"], "Standup");

        let mut auto = raw_base();
        auto["type"] = json!(4);
        auto["data"] = json!({"id": "1", "name": "actor", "type": 1, "options": [
            {"name": "name", "type": 3, "value": "WI", "focused": true}]});
        let model: serenity::all::Interaction = serde_json::from_value(auto).unwrap();
        let back = super::to_json(&model).unwrap();
        assert_eq!(back["type"], 4);
        assert_eq!(back["data"]["options"][0]["value"], "WI");
        assert_eq!(back["data"]["options"][0]["focused"], true);

        let mut click = raw_base();
        click["type"] = json!(3);
        click["message"] = json!({"id": "5", "channel_id": "111000000000000111", "author": {"id": "456000000000000456", "username": "bot", "discriminator": "0", "global_name": null, "avatar": null},
            "content": "", "timestamp": "2026-11-23T10:00:00+00:00", "edited_timestamp": null, "tts": false, "mention_everyone": false,
            "mentions": [], "mention_roles": [], "attachments": [], "embeds": [], "pinned": false, "type": 0});
        click["data"] = json!({"custom_id": "page:/who-works-on AI page:2", "component_type": 2});
        let model: serenity::all::Interaction = serde_json::from_value(click).unwrap();
        let back = super::to_json(&model).unwrap();
        assert_eq!(back["type"], 3);
        assert_eq!(back["data"]["custom_id"], "page:/who-works-on AI page:2");
    }

    fn raw_base() -> serde_json::Value {
        json!({
            "id": "300000000000000003", "application_id": "456000000000000456",
            "token": "dG9rZW4", "version": 1, "guild_id": "100000000000000001",
            "channel_id": "111000000000000111", "locale": "en-GB",
            "app_permissions": "0", "entitlements": [], "attachment_size_limit": 10485760,
            "authorizing_integration_owners": {},
            "member": {"user": {"id": "200000000000000002", "username": "m", "discriminator": "0", "global_name": null, "avatar": null},
                       "roles": [], "permissions": "0", "joined_at": "2024-01-01T00:00:00+00:00",
                       "deaf": false, "mute": false, "flags": 0},
        })
    }
}
