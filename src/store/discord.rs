//! Runtime data of the Discord adapter: the Scheduled Events that mirror events (so that a
//! restart never creates one twice), and notices a space is given once. Written once for
//! both databases (`dialect::on_runtime!`).

use chrono::{DateTime, Utc};

use super::dialect::{execute, fetch};
use super::events::ts;
use super::types::{EventId, SpaceId};
use super::{Store, StoreError};

row! {
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorRow {
    pub event_id: EventId,
    pub occurrence_utc: String,
    pub discord_id: Option<String>,
    /// A fingerprint of what the Discord copy says.
    pub shown: i64,
    pub claimed_at: String,
}
}

impl Store {
    /// The Scheduled Events of a guild the bot keeps (created, or being created).
    pub async fn mirrors_of_guild(&self, guild: &str) -> Result<Vec<MirrorRow>, StoreError> {
        let sql = "SELECT event_id, occurrence_utc, discord_id, shown, claimed_at
             FROM discord_scheduled_events WHERE guild = $1 ORDER BY occurrence_utc, event_id";
        Ok(fetch!(self, query_as.fetch_all, sql, guild))
    }

    /// Guilds with mirrored events (some may have no live event left to mirror).
    pub async fn guilds_with_mirrors(&self) -> Result<Vec<String>, StoreError> {
        let sql = "SELECT DISTINCT guild FROM discord_scheduled_events ORDER BY guild";
        Ok(fetch!(self, query_scalar.fetch_all, sql))
    }

    /// Claims the creation of one occurrence's Scheduled Event: false if another process (or
    /// an earlier run) already has.
    pub async fn claim_mirror(
        &self,
        event_id: EventId,
        occurrence: DateTime<Utc>,
        guild: &str,
        shown: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let sql = "INSERT INTO discord_scheduled_events (event_id, occurrence_utc, guild, shown, claimed_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";
        let added = execute!(self, sql, event_id, ts(occurrence), guild, shown, ts(now));
        Ok(added == 1)
    }

    /// Records what Discord calls the occurrence's Scheduled Event, and the fingerprint of what it says.
    pub async fn set_mirror(
        &self,
        event_id: EventId,
        occurrence_utc: &str,
        discord_id: &str,
        shown: i64,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE discord_scheduled_events SET discord_id = $1, shown = $2
             WHERE event_id = $3 AND occurrence_utc = $4";
        execute!(self, sql, discord_id, shown, event_id, occurrence_utc);
        Ok(())
    }

    pub async fn forget_mirror(
        &self,
        event_id: EventId,
        occurrence_utc: &str,
    ) -> Result<(), StoreError> {
        let sql =
            "DELETE FROM discord_scheduled_events WHERE event_id = $1 AND occurrence_utc = $2";
        execute!(self, sql, event_id, occurrence_utc);
        Ok(())
    }

    /// Spaces of `platform` with live events.
    pub async fn spaces_with_events(
        &self,
        platform: crate::domain::Platform,
    ) -> Result<Vec<SpaceId>, StoreError> {
        let sql =
            "SELECT DISTINCT space FROM events WHERE NOT cancelled AND space LIKE $1 ORDER BY space";
        let rows: Vec<(SpaceId,)> = fetch!(
            self,
            query_as.fetch_all,
            sql,
            super::events::platform_pattern(platform)
        );
        Ok(rows.into_iter().map(|(s,)| s).collect())
    }

    /// Whether this is the first time `space` is to be told `what` (recording that it is).
    pub async fn first_notice(
        &self,
        space: &SpaceId,
        what: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let sql = "INSERT INTO notices_sent (space, what, sent_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
        let added = execute!(self, sql, space, what, ts(now));
        Ok(added == 1)
    }
}
