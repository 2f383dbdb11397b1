//! The runtime state on PostgreSQL: the same typed API as the SQLite runtime (`events.rs`,
//! `matrix.rs`), the same tables (`migrations/postgres/`), this backend's SQL. What differs
//! besides placeholders: claims take rows with `FOR UPDATE SKIP LOCKED`, so that schedulers in
//! several processes claim disjoint batches without waiting on each other; and writes that
//! change what falls due `NOTIFY` the other processes (`CHANGES`), which their `ChangeWatch`
//! hears at once instead of polling.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgPool;

use super::events::ts;
use super::matrix::MatrixAccount;
use super::types::{EventId, Platform, SpaceId};
use super::StoreError;

/// The channel every process listens on for changes to what falls due.
pub const CHANGES: &str = "atlasbot_changes";

pub(crate) const EVENT_COLUMNS: &str = "id, uid, space, title, description, starts_local, tz, duration_min, place, organiser, topics, actors, inferred, rrule, cancelled, created_by, created_at, updated_at, revision";

#[derive(Clone, Debug)]
pub struct PgRuntime {
    pub pool: PgPool,
}

/// Connects to the server at `url` and applies the runtime migrations (sqlx holds an
/// advisory lock meanwhile, so processes starting together migrate once). Every failure is
/// one line naming the setting; the URL itself (which may carry a password) is never shown.
pub async fn open(url: &str) -> Result<PgRuntime, StoreError> {
    let setting = |what: String| StoreError::Setting(format!("ATLASBOT_DB (--db): {what}"));
    let place = super::postgres_place(url);
    let options: sqlx::postgres::PgConnectOptions = url
        .parse()
        .map_err(|_| setting("not a valid postgres:// URL".into()))?;
    // One connection first, for its own error: a pool that cannot connect only says it
    // timed out.
    use sqlx::{ConnectOptions, Connection};
    let first = tokio::time::timeout(CONNECT_TIMEOUT, options.connect())
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)
        .and_then(|r| r)
        .map_err(|e| setting(format!("cannot use {place}: {}", connect_error(&e))))?;
    first.close().await.ok();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(|e| setting(format!("cannot use {place}: {}", connect_error(&e))))?;
    super::migrations::postgres()
        .await?
        .run(&pool)
        .await
        .map_err(|e| setting(format!("cannot migrate {place}: {e}")))?;
    Ok(PgRuntime { pool })
}

const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// What went wrong connecting, in words a person can act on.
fn connect_error(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Io(io) => format!("the server cannot be reached ({io})"),
        sqlx::Error::PoolTimedOut => "the server did not answer within 5 s".into(),
        sqlx::Error::Database(db) => db.message().to_string(),
        sqlx::Error::Tls(t) => format!("TLS failed ({t})"),
        other => other.to_string(),
    }
}

impl PgRuntime {
    pub async fn mirrors_of_guild(
        &self,
        guild: &str,
    ) -> Result<Vec<super::discord::MirrorRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT event_id, occurrence_utc, discord_id, shown, claimed_at
             FROM discord_scheduled_events WHERE guild = $1 ORDER BY occurrence_utc, event_id",
        )
        .bind(guild)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn guilds_with_mirrors(&self) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT DISTINCT guild FROM discord_scheduled_events ORDER BY guild")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(g,)| g).collect())
    }

    pub async fn claim_mirror(
        &self,
        event_id: EventId,
        occurrence: DateTime<Utc>,
        guild: &str,
        shown: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO discord_scheduled_events (event_id, occurrence_utc, guild, shown, claimed_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
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

    pub async fn set_mirror(
        &self,
        event_id: EventId,
        occurrence_utc: &str,
        discord_id: &str,
        shown: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE discord_scheduled_events SET discord_id = $1, shown = $2
             WHERE event_id = $3 AND occurrence_utc = $4",
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
        sqlx::query(
            "DELETE FROM discord_scheduled_events WHERE event_id = $1 AND occurrence_utc = $2",
        )
        .bind(event_id)
        .bind(occurrence_utc)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn spaces_with_events(&self, platform: Platform) -> Result<Vec<SpaceId>, StoreError> {
        let rows: Vec<(SpaceId,)> = sqlx::query_as(
            "SELECT DISTINCT space FROM events WHERE NOT cancelled AND space LIKE $1 ORDER BY space",
        )
        .bind(format!("{platform}:%"))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(s,)| s).collect())
    }

    pub async fn first_notice(
        &self,
        space: &SpaceId,
        what: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO notices_sent (space, what, sent_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(space)
        .bind(what)
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records an interaction id; false if any process recorded it since `forget_before`
    /// (older ids are deleted first: past the freshness window a replay is refused anyway).
    pub async fn first_sight_of_interaction(
        &self,
        id: &str,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        sqlx::query("DELETE FROM seen_interactions WHERE seen_at < $1")
            .bind(ts(forget_before))
            .execute(&self.pool)
            .await?;
        let done = sqlx::query(
            "INSERT INTO seen_interactions (id, seen_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    // The Matrix adapter's state.

    pub async fn matrix_account(&self, user: &str) -> Result<MatrixAccount, StoreError> {
        Ok(
            sqlx::query_as("SELECT device_id, next_batch FROM matrix_accounts WHERE user_id = $1")
                .bind(user)
                .fetch_optional(&self.pool)
                .await?
                .unwrap_or_default(),
        )
    }

    pub async fn set_matrix_device(
        &self,
        user: &str,
        device: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO matrix_accounts (user_id, device_id, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (user_id) DO UPDATE SET device_id = excluded.device_id, updated_at = excluded.updated_at",
        )
        .bind(user)
        .bind(device)
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn set_matrix_next_batch(
        &self,
        user: &str,
        next_batch: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO matrix_accounts (user_id, next_batch, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (user_id) DO UPDATE SET next_batch = excluded.next_batch, updated_at = excluded.updated_at",
        )
        .bind(user)
        .bind(next_batch)
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn add_matrix_room(
        &self,
        user: &str,
        room: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO matrix_rooms (user_id, room_id, joined_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(user)
        .bind(room)
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn matrix_rooms(&self, user: &str) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT room_id FROM matrix_rooms WHERE user_id = $1 ORDER BY room_id",
        )
        .bind(user)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn remove_matrix_room(&self, user: &str, room: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM matrix_rooms WHERE user_id = $1 AND room_id = $2")
            .bind(user)
            .bind(room)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn add_matrix_reaction(
        &self,
        user: &str,
        reaction: &str,
        person: &str,
        event: EventId,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO matrix_reactions (user_id, reaction_id, person, event_id)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(user)
        .bind(reaction)
        .bind(person)
        .bind(event.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn take_matrix_reaction(
        &self,
        user: &str,
        reaction: &str,
    ) -> Result<Option<(String, EventId)>, StoreError> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "DELETE FROM matrix_reactions WHERE user_id = $1 AND reaction_id = $2
             RETURNING person, event_id",
        )
        .bind(user)
        .bind(reaction)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(p, e)| (p, EventId(e))))
    }

    pub async fn claim_undecryptable_notice(
        &self,
        user: &str,
        sender: &str,
        session: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO matrix_undecryptable_notices (user_id, sender, session_id)
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(user)
        .bind(sender)
        .bind(session)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn matrix_direct_room(
        &self,
        user: &str,
        person: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT room_id FROM matrix_direct_rooms WHERE user_id = $1 AND person = $2",
        )
        .bind(user)
        .bind(person)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn matrix_direct_person(
        &self,
        user: &str,
        room: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT person FROM matrix_direct_rooms WHERE user_id = $1 AND room_id = $2",
        )
        .bind(user)
        .bind(room)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn set_matrix_direct_room(
        &self,
        user: &str,
        person: &str,
        room: Option<&str>,
    ) -> Result<(), StoreError> {
        match room {
            Some(room) => sqlx::query(
                "INSERT INTO matrix_direct_rooms (user_id, person, room_id) VALUES ($1, $2, $3)
                 ON CONFLICT (user_id, person) DO UPDATE SET room_id = excluded.room_id",
            )
            .bind(user)
            .bind(person)
            .bind(room),
            None => {
                sqlx::query("DELETE FROM matrix_direct_rooms WHERE user_id = $1 AND person = $2")
                    .bind(user)
                    .bind(person)
            }
        }
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// Holds the cluster-wide lead of one Matrix account's sync loop: a session advisory lock on
/// a connection of its own. PostgreSQL releases it when that session ends — a crashed or
/// killed holder's connection closes — so a waiting process takes over.
pub struct Leadership {
    connection: sqlx::pool::PoolConnection<sqlx::Postgres>,
}

impl PgRuntime {
    /// Waits until this process leads `user`'s sync loop.
    pub async fn lead_matrix_sync(&self, user: &str) -> Result<Leadership, StoreError> {
        let mut connection = self.pool.acquire().await?;
        // Keep the lock's session out of the pool's reuse: it ends with the process.
        connection.close_on_drop();
        sqlx::query("SELECT pg_advisory_lock(hashtextextended($1, 0))")
            .bind(format!("atlasbot matrix sync {user}"))
            .execute(&mut *connection)
            .await?;
        Ok(Leadership { connection })
    }
}

impl Leadership {
    /// Whether the lock's session is still alive (if not, another process may lead now).
    pub async fn holds(&mut self) -> bool {
        sqlx::query("SELECT 1")
            .execute(&mut *self.connection)
            .await
            .is_ok()
    }
}
