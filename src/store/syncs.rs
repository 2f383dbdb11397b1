//! Followed calendars (`/event sync`): the feeds a space follows, the claim of a poll (one
//! process per poll, as reminders are claimed), its recorded outcome, and the mirror of a
//! feed's events — written once for both databases.
//!
//! A mirrored event is an ordinary event (`events`) that carries the sync that owns it
//! (`sync_id`) and a digest of what the feed last said of it (`sync_hash`): a poll adds,
//! rewrites (only when the digest changed) and cancels only the events its sync owns, so a
//! moderator's own events — even one imported earlier with the same UID — are never touched.

use chrono::{DateTime, Duration, Utc};

use super::dialect::{execute, fetch, on_runtime};
use super::events::{
    cancel_event_on, cancel_pending, insert_event_on, platform_pattern, replace_exdates,
    starts_text, ts, uid_candidates, upsert_imported, EventInput,
};
use super::{EventId, Platform, SpaceId, Store, StoreError};

/// Most feeds one space follows.
pub const MAX_SYNCS_PER_SPACE: i64 = 10;
/// A feed failing this long is paused (its moderators add it again to resume).
pub const PAUSE_AFTER_DAYS: i64 = 7;
/// Events one feed may have made here in a week, cancelled ones included: a feed whose events
/// change their UIDs at every poll would otherwise add rows for ever (a calendar that adds a
/// few events a week, and lets old ones go, never comes near).
pub const MAX_ROWS_PER_SYNC: i64 = 1000;

row! {
/// A followed feed as stored.
#[derive(Debug, Clone)]
pub struct SyncRow {
    pub id: i64,
    pub space: SpaceId,
    pub url: String,
    pub topics: Option<String>,
    pub interval_min: i64,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub next_poll: String,
    pub last_ok: Option<String>,
    pub last_error: Option<String>,
    pub failing_since: Option<String>,
    pub told_failing: Option<String>,
    pub told_at: Option<String>,
    pub paused: bool,
    pub events: i64,
    pub skipped: i64,
    pub created_at: String,
}
}

const SYNC_COLUMNS: &str = "id, space, url, topics, interval_min, etag, last_modified, next_poll, last_ok, last_error, failing_since, told_failing, told_at, paused, events, skipped, created_at";

/// What `/event sync add` came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncAdded {
    Added(i64),
    /// The space follows this address already (a paused one is resumed and polled now).
    Already(i64),
    TooMany,
}

/// How a poll ended, as recorded.
#[derive(Debug, Clone)]
pub enum PollOutcome {
    /// 200 with a feed that was mirrored (`events` live events, `skipped` not taken), or a 304
    /// (`mirrored` None).
    Ok {
        etag: Option<String>,
        last_modified: Option<String>,
        mirrored: Option<(i64, i64)>,
    },
    /// The poll failed, saying why; `permanent` when retrying cannot help (the address is
    /// refused): the feed is paused at once.
    Failed { why: String, permanent: bool },
}

/// One event of a feed as it is to be mirrored: its UID in the feed, the event, its cancelled
/// occurrences, and its digest.
#[derive(Debug, Clone)]
pub struct Mirrored {
    pub source_uid: String,
    pub input: EventInput,
    pub exdates: Vec<DateTime<Utc>>,
    pub digest: String,
}

/// What a mirror changed: the events to plan again, those that are new (followers hear of
/// them), and the UIDs it would not take (a moderator's own event has them).
#[derive(Debug, Default)]
pub struct MirrorResult {
    pub changed: Vec<EventId>,
    pub added: Vec<EventId>,
    pub cancelled: Vec<EventId>,
    pub not_owned: Vec<String>,
    /// The space would pass its cap of live events: nothing was written.
    pub too_many: bool,
    /// The feed would pass `MAX_ROWS_PER_SYNC` events made: nothing was written.
    pub too_many_rows: bool,
}

/// Adds or rewrites each item the sync may own (see `Store::mirror_sync`).
macro_rules! mirror_items {
    ($tx:expr, $sync:expr, $items:expr, $now:expr, $out:expr) => {
        for m in $items {
            let existing: Option<(EventId, Option<i64>, Option<String>, bool)> = sqlx::query_as(
                "SELECT id, sync_id, sync_hash, cancelled FROM events WHERE space = $1 AND source_uid = $2",
            )
            .bind(&$sync.space)
            .bind(&m.source_uid)
            .fetch_optional(&mut *$tx)
            .await?;
            match existing {
                Some((_, owner, _, _)) if owner != Some($sync.id) => {
                    $out.not_owned.push(m.source_uid.clone())
                }
                Some((_, _, digest, false)) if digest.as_deref() == Some(m.digest.as_str()) => {}
                _ => {
                    let (id, added) = upsert_imported!($tx, &m.source_uid, &m.input, $now);
                    replace_exdates!($tx, id, &m.exdates);
                    sqlx::query("UPDATE events SET sync_id = $1, sync_hash = $2 WHERE id = $3")
                        .bind($sync.id)
                        .bind(&m.digest)
                        .bind(id)
                        .execute(&mut *$tx)
                        .await?;
                    $out.changed.push(id);
                    if added {
                        $out.added.push(id);
                    }
                }
            }
        }
    };
}

/// Cancels the sync's live events whose UID the feed no longer carries (`$present`: the UIDs
/// it carries, past events included — over is not cancelled).
macro_rules! cancel_gone {
    ($tx:expr, $sync:expr, $present:expr, $now:expr, $out:expr) => {
        let live: Vec<(EventId, String)> = sqlx::query_as(
            "SELECT id, source_uid FROM events WHERE sync_id = $1 AND NOT cancelled",
        )
        .bind($sync.id)
        .fetch_all(&mut *$tx)
        .await?;
        for (id, uid) in live {
            if $present.contains(&uid) {
                continue;
            }
            cancel_event_on!($tx, id, $now);
            $out.cancelled.push(id);
        }
    };
}

impl Store {
    /// Makes `space` follow `url`, polled first at `now`.
    pub async fn add_sync(
        &self,
        space: &SpaceId,
        url: &str,
        topics: Option<&str>,
        interval_min: i64,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<SyncAdded, StoreError> {
        let find = "SELECT id FROM calendar_syncs WHERE space = $1 AND url = $2";
        if let Some(id) = fetch!(self, query_scalar.fetch_optional, find, space, url) {
            let resume = "UPDATE calendar_syncs SET paused = FALSE, next_poll = $1, interval_min = $2, topics = $3,
                              failing_since = NULL, last_error = NULL, told_failing = NULL WHERE id = $4";
            execute!(self, resume, ts(now), interval_min, topics, id);
            return Ok(SyncAdded::Already(id));
        }
        let count = "SELECT COUNT(*) FROM calendar_syncs WHERE space = $1";
        let n: i64 = fetch!(self, query_scalar.fetch_one, count, space);
        if n >= MAX_SYNCS_PER_SPACE {
            return Ok(SyncAdded::TooMany);
        }
        let insert = "INSERT INTO calendar_syncs (space, url, topics, interval_min, next_poll, created_by, created_at)
                      VALUES ($1, $2, $3, $4, $5, $6, $5) ON CONFLICT (space, url) DO NOTHING RETURNING id";
        let id: Option<i64> = fetch!(
            self,
            query_scalar.fetch_optional,
            insert,
            space,
            url,
            topics,
            interval_min,
            ts(now),
            by
        );
        // A twin request that inserted first: the same feed, followed once.
        Ok(match id {
            Some(id) => SyncAdded::Added(id),
            None => SyncAdded::Already(fetch!(self, query_scalar.fetch_one, find, space, url)),
        })
    }

    /// The feeds `space` follows, oldest first.
    pub async fn syncs_of_space(&self, space: &SpaceId) -> Result<Vec<SyncRow>, StoreError> {
        let sql = format!("SELECT {SYNC_COLUMNS} FROM calendar_syncs WHERE space = $1 ORDER BY id");
        Ok(fetch!(
            self,
            query_as.fetch_all,
            sqlx::AssertSqlSafe(sql),
            space
        ))
    }

    /// Stops following feed `id` of `space`: the events it mirrored are cancelled (nobody
    /// keeps them up to date any more) and kept as cancelled, detached from it. The ids of
    /// those events, or None when the space has no such feed.
    pub async fn remove_sync(
        &self,
        space: &SpaceId,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<EventId>>, StoreError> {
        let removed = on_runtime!(self, |pool, begin| {
            let mut tx = pool.begin_with(begin).await?;
            let owned: Vec<EventId> = sqlx::query_scalar(
                // Detached whole (its source UID too): the same feed added again, or another
                // one with the same UIDs, makes its events anew instead of finding these.
                "UPDATE events SET cancelled = TRUE, updated_at = $1, revision = revision + 1, sync_id = NULL,
                        source_uid = NULL
                 WHERE sync_id = $2 AND space = $3 RETURNING id",
            )
            .bind(ts(now))
            .bind(id)
            .bind(space)
            .fetch_all(&mut *tx)
            .await?;
            for event in &owned {
                cancel_pending!(tx, *event, now);
            }
            let gone = sqlx::query("DELETE FROM calendar_syncs WHERE id = $1 AND space = $2")
                .bind(id)
                .bind(space)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            (gone == 1).then_some(owned)
        });
        if removed.is_some() {
            self.changed().await?;
        }
        Ok(removed)
    }

    /// Claims one feed of `platform`'s spaces that is due: nobody else polls it until
    /// `lease_until` (on PostgreSQL, a feed another process is claiming right now is passed
    /// over). `now` is the lease clock's (`lease_now`).
    pub async fn claim_due_sync(
        &self,
        platform: Platform,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<SyncRow>, StoreError> {
        let due = "NOT paused AND next_poll <= $1 AND (lease_until IS NULL OR lease_until < $1)";
        Ok(on_runtime!(
            self,
            dialect | pool,
            d | sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "UPDATE calendar_syncs SET claimed_by = $2, lease_until = $3
                 WHERE {due} AND id = (SELECT id FROM calendar_syncs
                     WHERE {due} AND (space = $4 OR space LIKE $5) ORDER BY next_poll LIMIT 1{})
                 RETURNING {SYNC_COLUMNS}",
                d.skip_locked
            )))
            .bind(ts(now))
            .bind(owner)
            .bind(ts(lease_until))
            .bind(platform)
            .bind(platform_pattern(platform))
            .fetch_optional(pool)
            .await?
        ))
    }

    /// When the next feed of `platform`'s spaces falls due (None: none followed).
    pub async fn next_sync_due(
        &self,
        platform: Platform,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let sql = "SELECT MIN(next_poll) FROM calendar_syncs
                   WHERE NOT paused AND (space = $1 OR space LIKE $2)";
        let next: Option<String> = fetch!(
            self,
            query_scalar.fetch_one,
            sql,
            platform,
            platform_pattern(platform)
        );
        Ok(next.as_deref().and_then(super::events::parse_ts))
    }

    /// Records how `owner`'s poll of `sync` ended, and releases it until its next interval.
    /// False when the claim is no longer `owner`'s (the feed was removed, or the poll outlasted
    /// its lease): then nothing is written and nobody is told anything.
    pub async fn record_poll(
        &self,
        sync: &SyncRow,
        owner: &str,
        outcome: &PollOutcome,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let next = ts(now + Duration::minutes(sync.interval_min));
        let done = match outcome {
            PollOutcome::Ok {
                etag,
                last_modified,
                mirrored,
            } => {
                let (events, skipped) = mirrored.unwrap_or((sync.events, sync.skipped));
                let sql = "UPDATE calendar_syncs SET last_ok = $1, last_error = NULL, failing_since = NULL, told_failing = NULL,
                               etag = COALESCE($2, etag), last_modified = COALESCE($3, last_modified),
                               events = $4, skipped = $5, next_poll = $6, claimed_by = NULL, lease_until = NULL
                           WHERE id = $7 AND claimed_by = $8";
                execute!(
                    self,
                    sql,
                    ts(now),
                    etag,
                    last_modified,
                    events,
                    skipped,
                    next,
                    sync.id,
                    owner
                )
            }
            PollOutcome::Failed { why, permanent } => {
                let since = sync.failing_since.clone().unwrap_or_else(|| ts(now));
                let paused = *permanent
                    || super::events::parse_ts(&since)
                        .is_some_and(|s| now - s >= Duration::days(PAUSE_AFTER_DAYS));
                let sql =
                    "UPDATE calendar_syncs SET last_error = $1, failing_since = $2, paused = $3,
                               next_poll = $4, claimed_by = NULL, lease_until = NULL
                           WHERE id = $5 AND claimed_by = $6";
                execute!(self, sql, why, since, paused, next, sync.id, owner)
            }
        };
        Ok(done == 1)
    }

    /// The live events sync `id` owns: (event, its UID in the feed).
    pub async fn synced_live(&self, id: i64) -> Result<Vec<(EventId, String)>, StoreError> {
        let sql = "SELECT id, source_uid FROM events
                   WHERE sync_id = $1 AND NOT cancelled AND source_uid IS NOT NULL";
        Ok(fetch!(self, query_as.fetch_all, sql, id))
    }

    /// Remembers that the moderators were told of the run of failures since `since`.
    pub async fn mark_told(
        &self,
        sync: i64,
        since: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE calendar_syncs SET told_failing = $1, told_at = $2 WHERE id = $3";
        execute!(self, sql, since, ts(now), sync);
        Ok(())
    }

    /// Mirrors a feed's events into its space, in one transaction, while `owner` still holds
    /// the poll's claim: adds the new, rewrites those whose digest changed, cancels the
    /// sync's events the feed no longer has (or has as cancelled: not in `present`). A UID that belongs to an
    /// event the sync does not own is left alone and reported. The space keeps at most
    /// `max_live` live events: a feed that would pass it changes nothing.
    pub async fn mirror_sync(
        &self,
        sync: &SyncRow,
        owner: &str,
        items: &[Mirrored],
        present: &std::collections::HashSet<String>,
        now: DateTime<Utc>,
        max_live: i64,
    ) -> Result<Option<MirrorResult>, StoreError> {
        let result = on_runtime!(self, |pool, begin| {
            let mut tx = pool.begin_with(begin).await?;
            // The fence: a poll that lost its claim (or whose feed was removed) writes nothing.
            let ours: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM calendar_syncs WHERE id = $1 AND claimed_by = $2",
            )
            .bind(sync.id)
            .bind(owner)
            .fetch_optional(&mut *tx)
            .await?;
            if ours.is_none() {
                None
            } else {
                let mut out = MirrorResult::default();
                mirror_items!(tx, sync, items, now, out);
                cancel_gone!(tx, sync, present, now, out);
                let live: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM events WHERE space = $1 AND NOT cancelled",
                )
                .bind(&sync.space)
                .fetch_one(&mut *tx)
                .await?;
                let made: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM events WHERE sync_id = $1 AND created_at >= $2",
                )
                .bind(sync.id)
                .bind(ts(now - Duration::days(7)))
                .fetch_one(&mut *tx)
                .await?;
                if live > max_live && !out.added.is_empty() {
                    // Dropping the transaction rolls the whole feed back.
                    out = MirrorResult {
                        too_many: true,
                        ..MirrorResult::default()
                    };
                } else if made > MAX_ROWS_PER_SYNC && !out.added.is_empty() {
                    out = MirrorResult {
                        too_many_rows: true,
                        ..MirrorResult::default()
                    };
                } else {
                    tx.commit().await?;
                }
                Some(out)
            }
        });
        Ok(result)
    }
}
