//! The store: the only module that speaks SQL. A SQLite file (WAL mode) opened through sqlx and
//! migrated on open. It holds the atlas as written by the importer (read back whole into the
//! in-memory read model, `atlas::Atlas`) and the runtime state.
//!
//! Queries are written with `sqlx::query` and bound parameters rather than the compile-time
//! `query!` macros: the atlas loader is table-driven (one bulk-insert routine for every atlas
//! table), FTS5 virtual tables are not understood by the macros' SQLite analysis, and the
//! integration tests run every query against a real database built by the real importer.

/// A row struct and its `FromRow` for SQLite and PostgreSQL: each field read from the column of its name.
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

        impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for $name {
            fn from_row(row: &'r sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
                use sqlx::Row;
                Ok($name { $($field: row.try_get(stringify!($field))?),* })
            }
        }
    };
}

pub mod agenda;
pub mod atlas;
pub mod claims;
pub mod dialect;
pub mod discord;
pub mod events;
pub mod follows;
pub mod matrix;
#[cfg(feature = "matrix")]
pub mod matrix_crypto;
pub mod migrations;
pub mod postgres;
pub mod rsvps;
pub mod subscriptions;
pub mod syncs;
pub mod types;

pub use types::{EventId, Platform, ReminderState, SpaceId, Target};

use std::path::{Path, PathBuf};
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
    /// The database setting itself is wrong: one line naming the setting and what is wrong.
    #[error("{0}")]
    Setting(String),
    /// A write that cannot be made as asked (a unique name already taken): a bug upstream.
    #[error("conflict: {0}")]
    Conflict(String),
}

/// Where a process keeps its state (`--db` / `ATLASBOT_DB`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// One SQLite file: the atlas and the runtime state (the zero-setup default).
    File(PathBuf),
    /// The runtime state on a PostgreSQL server, shared by every process; the atlas in a
    /// SQLite file of this process's own (`--atlas`), so lookups never cross the network.
    Postgres { url: String, atlas: PathBuf },
}

/// The atlas file beside a PostgreSQL runtime, unless `--atlas` says otherwise.
pub const DEFAULT_ATLAS_FILE: &str = "atlasbot-atlas.db";

impl Location {
    /// `db` as given: a `postgres://` (or `postgresql://`) URL, else a file path.
    pub fn parse(db: &str, atlas: Option<PathBuf>) -> Location {
        if db.starts_with("postgres://") || db.starts_with("postgresql://") {
            Location::Postgres {
                url: db.to_string(),
                atlas: atlas.unwrap_or_else(|| PathBuf::from(DEFAULT_ATLAS_FILE)),
            }
        } else {
            Location::File(PathBuf::from(db))
        }
    }

    /// The SQLite file holding the atlas.
    pub fn atlas_file(&self) -> &Path {
        match self {
            Location::File(path) => path,
            Location::Postgres { atlas, .. } => atlas,
        }
    }

    /// Where, for messages: the file, or the server and database without user or password.
    pub fn describe(&self) -> String {
        match self {
            Location::File(path) => path.display().to_string(),
            Location::Postgres { url, .. } => postgres_place(url),
        }
    }
}

impl From<&Path> for Location {
    fn from(path: &Path) -> Location {
        Location::File(path.to_path_buf())
    }
}

impl From<&PathBuf> for Location {
    fn from(path: &PathBuf) -> Location {
        Location::File(path.clone())
    }
}

/// "PostgreSQL at host:port/db" — never the user or password a URL may carry.
pub(crate) fn postgres_place(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!(
            "PostgreSQL at {}:{}{}",
            u.host_str().unwrap_or("localhost"),
            u.port().unwrap_or(5432),
            u.path()
        ),
        Err(_) => "PostgreSQL (a URL that does not parse)".into(),
    }
}

#[derive(Clone, Debug)]
pub struct Store {
    /// The SQLite file: the atlas, and the runtime state unless `pg` is set.
    pool: SqlitePool,
    /// The runtime state on PostgreSQL, when the location says so.
    pg: Option<postgres::PgRuntime>,
    /// Counts this process's writes that change what falls due, for `ChangeWatch`.
    changes: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
    /// A test's clock standing in for the database's (`with_lease_clock`); None in use.
    lease_clock: Option<crate::clock::Clock>,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and applies migrations. Filling the
    /// atlas is the caller's decision (`database::open_store`), never a side effect of opening.
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_at(&Location::File(path.to_path_buf())).await
    }

    /// Opens the store at `location`: the SQLite file (atlas, and runtime state unless on
    /// PostgreSQL) and, for a URL, the PostgreSQL runtime, each migrated. A wrong setting is
    /// one line naming `ATLASBOT_DB` and what is wrong, before anything is written.
    pub async fn open_at(location: &Location) -> Result<Store, StoreError> {
        let pg = match location {
            Location::File(_) => None,
            Location::Postgres { url, .. } => Some(postgres::open(url).await?),
        };
        let pool = open_sqlite(location.atlas_file()).await?;
        migrations::atlas().await?.run(&pool).await?;
        if pg.is_none() {
            migrations::runtime().await?.run(&pool).await?;
        }
        let (changes, _) = tokio::sync::watch::channel(0);
        Ok(Store {
            pool,
            pg,
            changes: std::sync::Arc::new(changes),
            lease_clock: None,
        })
    }
}

/// The SQLite file at `path`, created if missing (its directory too).
async fn open_sqlite(path: &Path) -> Result<SqlitePool, StoreError> {
    if path.is_dir() {
        return Err(StoreError::Setting(format!(
            "ATLASBOT_DB (--db): {} is a directory, not a database file",
            path.display()
        )));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Setting(format!(
                "ATLASBOT_DB (--db): cannot create the directory {}: {e}",
                dir.display()
            ))
        })?;
    }
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    Ok(SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await?)
}

/// The lead of a Matrix account's sync loop (`Store::lead_matrix_sync`), held while alive.
pub enum SyncLead {
    /// On SQLite there is one machine, and one process per database is the documented setup.
    Alone,
    Cluster(postgres::Leadership),
}

impl SyncLead {
    /// Whether this process still leads (false: stop syncing, another may have taken over).
    pub async fn holds(&mut self) -> bool {
        match self {
            SyncLead::Alone => true,
            SyncLead::Cluster(l) => l.holds().await,
        }
    }
}

impl Store {
    /// Waits until this process may run `user`'s Matrix sync loop: on PostgreSQL, the one
    /// process of the cluster that does (the others wait here and take over when it dies);
    /// on SQLite, at once.
    pub async fn lead_matrix_sync(&self, user: &str) -> Result<SyncLead, StoreError> {
        match &self.pg {
            Some(pg) => Ok(SyncLead::Cluster(pg.lead_matrix_sync(user).await?)),
            None => Ok(SyncLead::Alone),
        }
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A write transaction on the SQLite file, holding the write lock from its first
    /// statement (`BEGIN IMMEDIATE`): a deferred transaction that reads and then writes cannot
    /// upgrade its lock while another writes, and fails at once instead of waiting — the busy
    /// timeout covers waiting for the lock, not upgrading it. Every read-then-write uses this.
    pub(crate) async fn write_tx(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
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

    /// Whether processes on other hosts may share this store (PostgreSQL): then nothing about
    /// a process can be judged from this host alone.
    pub fn shared_by_hosts(&self) -> bool {
        self.pg.is_some()
    }

    /// Whether an interaction id is seen for the first time by any process sharing this store
    /// (always true on SQLite, where the endpoint's own memory is the record).
    pub async fn first_sight_of_interaction(
        &self,
        id: &str,
        now: chrono::DateTime<chrono::Utc>,
        forget_before: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError> {
        match &self.pg {
            Some(pg) => pg.first_sight_of_interaction(id, now, forget_before).await,
            None => Ok(true),
        }
    }

    pub async fn close(self) {
        self.pool.close().await;
        if let Some(pg) = self.pg {
            pg.pool.close().await;
        }
    }
}

/// Notices changes to what falls due: this process's writes at once (the store announces them
/// itself, so no caller has to remember to), and other processes' — on SQLite, commits to the
/// database file within a second (`data_version`, read on a connection of its own: the
/// counter is per connection; a counter, not a scan); on PostgreSQL, at once, by `LISTEN` on
/// the channel its writes `NOTIFY` (its own writes arrive the same way).
pub struct ChangeWatch {
    local: tokio::sync::watch::Receiver<u64>,
    /// Keeps `local` open even when every `Store` handle is dropped.
    _announcer: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
    others: Others,
}

enum Others {
    Sqlite {
        connection: Option<sqlx::pool::PoolConnection<sqlx::Sqlite>>,
        version: i64,
        /// When to look next. Kept here, not in `next`, so that a caller that cancels `next`
        /// (a `select!` with a shorter sleep) still gets its looks.
        next_look: tokio::time::Instant,
    },
    Postgres(Option<sqlx::postgres::PgListener>),
}

/// How often another process's commits are looked for (SQLite).
const LOOK_EVERY: Duration = Duration::from_secs(1);

impl Store {
    pub async fn watch_changes(&self) -> ChangeWatch {
        let others = match &self.pg {
            Some(pg) => Others::Postgres(listen(&pg.pool).await),
            None => self.watch_file().await,
        };
        ChangeWatch {
            local: self.changes.subscribe(),
            _announcer: self.changes.clone(),
            others,
        }
    }

    async fn watch_file(&self) -> Others {
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
        Others::Sqlite {
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

    /// Tells the schedulers that what falls due changed: on SQLite this process's, at once;
    /// on PostgreSQL every process's, this one's included, by `NOTIFY` (after the commit, so
    /// that they read the change).
    pub(crate) async fn changed(&self) -> Result<(), StoreError> {
        match &self.pg {
            Some(pg) => {
                sqlx::query("SELECT pg_notify($1, '')")
                    .bind(postgres::CHANGES)
                    .execute(&pg.pool)
                    .await?;
            }
            None => self.announce(),
        }
        Ok(())
    }
}

/// A listener on the change channel; None (every second counts as a change) if it fails.
async fn listen(pool: &sqlx::PgPool) -> Option<sqlx::postgres::PgListener> {
    let mut listener = match sqlx::postgres::PgListener::connect_with(pool).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for changes; every second will count as one");
            return None;
        }
    };
    match listener.listen(postgres::CHANGES).await {
        Ok(()) => Some(listener),
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for changes; every second will count as one");
            None
        }
    }
}

impl ChangeWatch {
    /// Returns when something changed since the last return: a write in this process, or
    /// another process's (see `ChangeWatch`).
    pub async fn next(&mut self) {
        loop {
            let heard = match &mut self.others {
                Others::Postgres(listener) => tokio::select! {
                    _ = self.local.changed() => return,
                    heard = notified(listener) => heard,
                },
                Others::Sqlite {
                    connection,
                    version,
                    next_look,
                } => tokio::select! {
                    _ = self.local.changed() => return,
                    _ = tokio::time::sleep_until(*next_look) => {
                        *next_look = tokio::time::Instant::now() + LOOK_EVERY;
                        committed(connection, version).await
                    }
                },
            };
            if heard {
                return;
            }
        }
    }
}

/// Waits for a notification (cancel-safe). A lost listener reconnects on the next call;
/// meanwhile each second counts as a change, so nothing waits on a dead connection.
async fn notified(listener: &mut Option<sqlx::postgres::PgListener>) -> bool {
    if let Some(l) = listener {
        match l.recv().await {
            Ok(_) => return true,
            Err(e) => tracing::warn!(error = %e, "the change listener failed; it reconnects"),
        }
    }
    tokio::time::sleep(LOOK_EVERY).await;
    true
}

/// Whether another connection committed since the last look (true when it cannot tell).
async fn committed(
    connection: &mut Option<sqlx::pool::PoolConnection<sqlx::Sqlite>>,
    version: &mut i64,
) -> bool {
    let Some(c) = connection.as_mut() else {
        return true;
    };
    match data_version(c).await {
        Ok(v) if v != *version => {
            *version = v;
            true
        }
        Ok(_) => false,
        Err(_) => true,
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
