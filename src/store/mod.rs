//! The store: the only module that speaks SQL. A SQLite file (WAL mode) opened through sqlx and
//! migrated on open. It holds the atlas as written by the importer (read back whole into the
//! in-memory read model, `atlas::Atlas`) and the runtime state.
//!
//! Queries are written with `sqlx::query` and bound parameters rather than the compile-time
//! `query!` macros: the atlas loader is table-driven (one bulk-insert routine for every atlas
//! table), FTS5 virtual tables are not understood by the macros' SQLite analysis, and the
//! integration tests run every query against a real database built by the real importer.

/// A row struct and its `FromRow` for SQLite: each field read from the column of its name.
/// A dozen lines instead of sqlx's derive, which needs its proc-macro crate — and with it a
/// second build of sqlx and SQLite for the compiler (see `migrations`).
macro_rules! row {
    ($(#[$meta:meta])* $vis:vis struct $name:ident {
        $($(#[$fmeta:meta])* $fvis:vis $field:ident : $ty:ty),* $(,)?
    }) => {
        $(#[$meta])* $vis struct $name { $($(#[$fmeta])* $fvis $field: $ty),* }

        impl<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> for $name {
            fn from_row(row: &'r sqlx::sqlite::SqliteRow) -> Result<Self, sqlx::Error> {
                use sqlx::Row;
                Ok($name { $($field: row.try_get(stringify!($field))?),* })
            }
        }
    };
}

pub mod atlas;
pub mod events;
pub mod matrix;
pub mod migrations;
pub mod types;

pub use types::{EventId, Platform, ReminderState, SpaceId, Target};

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
    /// Counts this process's writes that change what falls due, for `ChangeWatch`.
    changes: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and applies migrations. Filling the
    /// atlas is the caller's decision (`database::open_store`), never a side effect of opening.
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Sql(sqlx::Error::Io(e)))?;
        }
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        migrations::atlas().await?.run(&pool).await?;
        migrations::runtime().await?.run(&pool).await?;
        let (changes, _) = tokio::sync::watch::channel(0);
        Ok(Store {
            pool,
            changes: std::sync::Arc::new(changes),
        })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The stored atlas's version (its data hash), if any atlas is stored.
    pub async fn atlas_version(&self) -> Result<Option<String>, StoreError> {
        self.meta("data_hash").await
    }

    /// Where the stored atlas came from: "bundled", a data directory, or `None`.
    pub async fn atlas_origin(&self) -> Result<Option<String>, StoreError> {
        self.meta("origin").await
    }

    async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let v: Option<(String,)> = sqlx::query_as("SELECT value FROM atlas_meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(v.map(|(v,)| v))
    }

    pub async fn close(self) {
        self.pool.close().await;
    }
}

/// Notices changes to what falls due: this process's writes at once (the store announces them
/// itself, so no caller has to remember to), and commits by other processes to the database
/// file within a second — SQLite's `data_version`, read on a connection of its own (the
/// counter is per connection). A counter, not a scan.
pub struct ChangeWatch {
    local: tokio::sync::watch::Receiver<u64>,
    /// Keeps `local` open even when every `Store` handle is dropped.
    _announcer: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
    connection: Option<sqlx::pool::PoolConnection<sqlx::Sqlite>>,
    version: i64,
    /// When to look for other processes' commits next. Kept here, not in `next`, so that a
    /// caller that cancels `next` (a `select!` with a shorter sleep) still gets its looks.
    next_look: tokio::time::Instant,
}

/// How often another process's commits are looked for.
const LOOK_EVERY: Duration = Duration::from_secs(1);

impl Store {
    pub async fn watch_changes(&self) -> ChangeWatch {
        let mut connection = match self.pool.acquire().await {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::error!(error = %e, "no connection for change checks; every look will count as a change");
                None
            }
        };
        let version = match connection.as_mut() {
            Some(c) => data_version(c).await.unwrap_or(0),
            None => 0,
        };
        ChangeWatch {
            local: self.changes.subscribe(),
            _announcer: self.changes.clone(),
            connection,
            version,
            next_look: tokio::time::Instant::now() + LOOK_EVERY,
        }
    }

    /// Announces a write that may change what falls due (an event, a subscription, a
    /// setting): schedulers in this process re-read the schedule.
    fn announce(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }
}

impl ChangeWatch {
    /// Returns when something changed since the last return: a write in this process, or
    /// another process's commit (seen within `LOOK_EVERY`).
    pub async fn next(&mut self) {
        loop {
            tokio::select! {
                _ = self.local.changed() => return,
                _ = tokio::time::sleep_until(self.next_look) => {
                    self.next_look = tokio::time::Instant::now() + LOOK_EVERY;
                    if self.other_process_committed().await {
                        return;
                    }
                }
            }
        }
    }

    /// Whether another connection committed since the last look (true when it cannot tell).
    async fn other_process_committed(&mut self) -> bool {
        let Some(c) = self.connection.as_mut() else {
            return true;
        };
        match data_version(c).await {
            Ok(v) if v != self.version => {
                self.version = v;
                true
            }
            Ok(_) => false,
            Err(_) => true,
        }
    }
}

async fn data_version(conn: &mut sqlx::SqliteConnection) -> Result<i64, StoreError> {
    let (v,): (i64,) = sqlx::query_as("PRAGMA data_version")
        .fetch_one(conn)
        .await?;
    Ok(v)
}

impl Store {
    /// One raw FTS5 BM25 query for a word over the atlas's passages, best first: (passage id,
    /// bm25). The floor `atlasbot bench commands` measures in-memory answers against, and the
    /// reference the in-memory index is tested against. `word` is bound, never spliced.
    pub async fn fts5_query(&self, word: &str, limit: i64) -> Result<Vec<(i64, f64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT rowid, bm25(passages_fts) AS r FROM passages_fts WHERE passages_fts MATCH ? ORDER BY r LIMIT ?",
        )
        .bind(format!("\"{}\"", word.replace('"', "")))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}
