//! The runtime state on PostgreSQL: connecting and migrating, and what only this backend
//! has. Every statement both databases run is written once, in the module of its concept
//! (`events.rs`, `follows.rs`, `discord.rs`, `matrix.rs`, `claims.rs`); what differs there is
//! a `dialect::Dialect`. Here: the change channel (writes that change what falls due `NOTIFY`
//! it, and every process's `ChangeWatch` hears at once), the interactions replicas share, and
//! the cluster-wide lead of a Matrix account's sync loop.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgPool;

use super::events::ts;
use super::StoreError;

/// The channel every process listens on for changes to what falls due.
pub const CHANGES: &str = "atlasbot_changes";

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
