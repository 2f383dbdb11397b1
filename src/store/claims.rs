//! Who may send a claimed reminder, proven right before it leaves: the lease clock, the fence
//! and the owner-conditional records of a claim's outcome. Written once for both databases
//! (sqlx takes `$1` placeholders on SQLite too); only reading the clock differs.
//!
//! A claim is `(key, claimed_by, lease_until)` with `state = 'claimed'`. Another process may
//! take it over once `lease_until` has passed (`reclaim`), so a process that stalled past its
//! lease must not send what it claimed: `fence_many` proves, in one conditional update, that the
//! claims are still this owner's and extends their leases for the send. Leases are measured by one
//! clock for every process: the database server's on PostgreSQL (hosts' clocks disagree), the
//! host's on SQLite (one host), a test's when one is set.

use chrono::{DateTime, Utc};

use super::dialect::{execute, fetch, on_runtime};
use super::events::ts;
use super::types::ReminderState;
use super::{Store, StoreError};
use crate::clock::Clock;

/// Adds `rows` to the reminder ledger as pending, for `space`, inside the transaction `tx`
/// (either database's); a key already in the ledger keeps its row.
macro_rules! insert_pending {
    ($tx:expr, $space:expr, $rows:expr) => {
        for p in $rows {
            sqlx::query(
                "INSERT INTO reminders (key, event_id, space, occurrence_utc, offset_min, target, due_utc, state)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending') ON CONFLICT (key) DO NOTHING",
            )
            .bind(&p.key)
            .bind(p.event_id)
            .bind($space)
            .bind($crate::store::events::ts(p.occurrence))
            .bind(p.offset_min)
            .bind(&p.target)
            .bind($crate::store::events::ts(p.due))
            .execute(&mut *$tx)
            .await?;
        }
    };
}
pub(crate) use insert_pending;

impl Store {
    /// This store with `clock` standing in for the database's clock (tests that move time):
    /// leases are then measured by it, as they would be by a server's.
    pub fn with_lease_clock(mut self, clock: Clock) -> Store {
        self.lease_clock = Some(clock);
        self
    }

    /// "Now" by the clock every process measures leases with: the test's, else the
    /// PostgreSQL server's, else this host's (SQLite: every process is on this host).
    pub async fn lease_now(&self) -> Result<DateTime<Utc>, StoreError> {
        if let Some(clock) = &self.lease_clock {
            return Ok(clock.now());
        }
        let Some(pg) = &self.pg else {
            return Ok(Utc::now());
        };
        let (ms,): (i64,) =
            sqlx::query_as("SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)")
                .fetch_one(&pg.pool)
                .await?;
        DateTime::from_timestamp_millis(ms)
            .ok_or_else(|| StoreError::Setting(format!("the database's clock reads {ms} ms")))
    }

    /// The fence (one statement for several claims): those of `keys` still claimed by `owner`,
    /// their leases extended to `lease_until`; a key left out was lost (taken over, or
    /// finished by someone else), and the caller must not send it. Also how a delivery in
    /// progress renews the leases it holds.
    pub async fn fence_many(
        &self,
        keys: &[String],
        owner: &str,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        // Dynamic only in how many placeholders: every key is bound.
        let list = super::dialect::numbered_list(3, keys.len());
        let sql = format!(
            "UPDATE reminders SET lease_until = $1
             WHERE state = 'claimed' AND claimed_by = $2 AND key IN ({list}) RETURNING key"
        );
        let rows: Vec<(String,)> = on_runtime!(self, |pool| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(ts(lease_until))
                .bind(owner);
            for k in keys {
                q = q.bind(k);
            }
            q.fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(|(k,)| k).collect())
    }

    /// Records how a claim ended (missed, cancelled, failed) — only while it is still
    /// `owner`'s: a process that lost a claim must not overwrite what its new owner does.
    pub async fn finish_claim(
        &self,
        key: &str,
        owner: &str,
        state: ReminderState,
        late: bool,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE reminders SET state = $1, late = $2, error = $3, done_at = $4
                   WHERE key = $5 AND state = 'claimed' AND claimed_by = $6";
        let done = execute!(self, sql, state, late, error, ts(now), key, owner);
        Ok(done == 1)
    }

    /// A failed delivery of `owner`'s claim goes back to pending, due again at `retry_at`
    /// (nothing happens to a claim `owner` no longer holds).
    pub async fn retry_claim(
        &self,
        key: &str,
        owner: &str,
        retry_at: DateTime<Utc>,
        error: &str,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE reminders SET state = 'pending', due_utc = $1, error = $2,
                          claimed_by = NULL, lease_until = NULL
                   WHERE key = $3 AND state = 'claimed' AND claimed_by = $4";
        let done = execute!(self, sql, ts(retry_at), error, key, owner);
        // Not announced: a write made because a delivery failed must not wake the loop that
        // made it (it sleeps until the next due time, which it reads anyway).
        Ok(done == 1)
    }

    /// Whether the ledger holds a reminder (or note) about `event` for `target`: the bot sent
    /// them something about it, or owes them something — so a button about it is theirs.
    pub async fn was_reminded(
        &self,
        event: super::types::EventId,
        target: &super::types::Target,
    ) -> Result<bool, StoreError> {
        let sql = "SELECT COUNT(*) FROM reminders WHERE event_id = $1 AND target = $2";
        let (n,): (i64,) = fetch!(self, query_as.fetch_one, sql, event, target);
        Ok(n > 0)
    }

    /// Replaces `owner`'s claim of a stand-in reminder (`Target::Followers`) with `rows`, due
    /// as they say, in one transaction: false (nothing written) when the claim is no longer
    /// `owner`'s. Keys already in the ledger keep their row.
    pub async fn expand_claim(
        &self,
        key: &str,
        owner: &str,
        space: &super::types::SpaceId,
        rows: &[crate::events::Planned],
    ) -> Result<bool, StoreError> {
        let delete =
            "DELETE FROM reminders WHERE key = $1 AND state = 'claimed' AND claimed_by = $2";
        let expanded = on_runtime!(self, |pool, begin| {
            let mut tx = pool.begin_with(begin).await?;
            let gone = sqlx::query(delete)
                .bind(key)
                .bind(owner)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if gone == 1 {
                insert_pending!(tx, space, rows);
                tx.commit().await?;
            }
            gone == 1
        });
        Ok(expanded)
    }

    /// How many snoozed reminders `target` has waiting in `space`.
    pub async fn pending_snoozes_of(
        &self,
        space: &super::types::SpaceId,
        target: &super::types::Target,
    ) -> Result<i64, StoreError> {
        let sql = "SELECT COUNT(*) FROM reminders
                   WHERE space = $1 AND target = $2 AND state = 'pending' AND key LIKE $3";
        let like = format!("%{}%", crate::events::SNOOZE_MARK);
        let (n,): (i64,) = fetch!(self, query_as.fetch_one, sql, space, target, &like);
        Ok(n)
    }
}
