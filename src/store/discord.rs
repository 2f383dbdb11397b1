//! Runtime data of the Discord adapter: the Scheduled Events that mirror events (so that a
//! restart never creates one twice), and notices a space is given once.

use chrono::{DateTime, Utc};

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
        if let Some(pg) = &self.pg {
            return pg.mirrors_of_guild(guild).await;
        }
        Ok(sqlx::query_as(
            "SELECT event_id, occurrence_utc, discord_id, shown, claimed_at
             FROM discord_scheduled_events WHERE guild = ? ORDER BY occurrence_utc, event_id",
        )
        .bind(guild)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Guilds with mirrored events (some may have no live event left to mirror).
    pub async fn guilds_with_mirrors(&self) -> Result<Vec<String>, StoreError> {
        if let Some(pg) = &self.pg {
            return pg.guilds_with_mirrors().await;
        }
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT DISTINCT guild FROM discord_scheduled_events ORDER BY guild")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(g,)| g).collect())
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
        if let Some(pg) = &self.pg {
            return pg
                .claim_mirror(event_id, occurrence, guild, shown, now)
                .await;
        }
        let done = sqlx::query(
            "INSERT OR IGNORE INTO discord_scheduled_events (event_id, occurrence_utc, guild, shown, claimed_at)
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(event_id)
        .bind(ts(occurrence))
        .bind(guild)
        .bind(shown)
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records what Discord calls the occurrence's Scheduled Event, and the fingerprint of what it says.
    pub async fn set_mirror(
        &self,
        event_id: EventId,
        occurrence_utc: &str,
        discord_id: &str,
        shown: i64,
    ) -> Result<(), StoreError> {
        if let Some(pg) = &self.pg {
            return pg
                .set_mirror(event_id, occurrence_utc, discord_id, shown)
                .await;
        }
        sqlx::query(
            "UPDATE discord_scheduled_events SET discord_id = ?, shown = ?
             WHERE event_id = ? AND occurrence_utc = ?",
        )
        .bind(discord_id)
        .bind(shown)
        .bind(event_id)
        .bind(occurrence_utc)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn forget_mirror(
        &self,
        event_id: EventId,
        occurrence_utc: &str,
    ) -> Result<(), StoreError> {
        if let Some(pg) = &self.pg {
            return pg.forget_mirror(event_id, occurrence_utc).await;
        }
        sqlx::query(
            "DELETE FROM discord_scheduled_events WHERE event_id = ? AND occurrence_utc = ?",
        )
        .bind(event_id)
        .bind(occurrence_utc)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Spaces of `platform` with live events.
    pub async fn spaces_with_events(
        &self,
        platform: crate::domain::Platform,
    ) -> Result<Vec<SpaceId>, StoreError> {
        if let Some(pg) = &self.pg {
            return pg.spaces_with_events(platform).await;
        }
        let rows: Vec<(SpaceId,)> = sqlx::query_as(
            "SELECT DISTINCT space FROM events WHERE cancelled = 0 AND space GLOB ? ORDER BY space",
        )
        .bind(format!("{platform}:*"))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(s,)| s).collect())
    }

    /// Whether this is the first time `space` is to be told `what` (recording that it is).
    pub async fn first_notice(
        &self,
        space: &SpaceId,
        what: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        if let Some(pg) = &self.pg {
            return pg.first_notice(space, what, now).await;
        }
        let done = sqlx::query(
            "INSERT OR IGNORE INTO notices_sent (space, what, sent_at) VALUES (?, ?, ?)",
        )
        .bind(space)
        .bind(what)
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
