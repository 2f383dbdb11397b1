//! The runtime state on PostgreSQL: the same typed API as the SQLite runtime (`events.rs`,
//! `matrix.rs`), the same tables (`migrations/postgres/`), this backend's SQL. What differs
//! besides placeholders: claims take rows with `FOR UPDATE SKIP LOCKED`, so that schedulers in
//! several processes claim disjoint batches without waiting on each other; and writes that
//! change what falls due `NOTIFY` the other processes (`CHANGES`), which their `ChangeWatch`
//! hears at once instead of polling.

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnection, PgPool};

use super::events::{
    parse_ts, ts, EventInput, EventRow, Imported, PlanWrite, ReminderRow, SpaceRow, SubscriptionRow,
};
use super::matrix::MatrixAccount;
use super::types::{EventId, Platform, ReminderState, SpaceId, Target};
use super::StoreError;
use crate::events::Planned;

/// The channel every process listens on for changes to what falls due.
pub const CHANGES: &str = "atlasbot_changes";

pub(crate) const EVENT_COLUMNS: &str = "id, uid, space, title, description, starts_local, tz, duration_min, place, organiser, topics, actors, inferred, rrule, cancelled, created_by, created_at, updated_at, revision";
const REMINDER_COLUMNS: &str =
    "key, event_id, space, occurrence_utc, offset_min, target, due_utc, state, attempts";

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

/// `platform`'s spaces: "<platform>" itself or "<platform>:<id>" (no LIKE wildcard can occur
/// in a platform's name).
fn platform_pattern(platform: Platform) -> String {
    format!("{platform}:%")
}

pub(crate) async fn notify(conn: &mut PgConnection) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(CHANGES)
        .execute(conn)
        .await?;
    Ok(())
}

async fn insert_event_on(
    conn: &mut PgConnection,
    e: &EventInput,
    uid: &str,
    source_uid: &str,
    now: DateTime<Utc>,
) -> Result<Option<EventId>, StoreError> {
    let id: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO events (uid, space, title, description, starts_local, tz, duration_min, place, organiser, topics, actors, inferred, rrule, created_by, created_at, updated_at, source_uid)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16)
         ON CONFLICT (uid) DO NOTHING RETURNING id",
    )
    .bind(uid)
    .bind(&e.space)
    .bind(&e.title)
    .bind(&e.description)
    .bind(e.starts_local.format("%Y-%m-%dT%H:%M:%S").to_string())
    .bind(&e.tz)
    .bind(e.duration_min)
    .bind(&e.place)
    .bind(&e.organiser)
    .bind(&e.topics)
    .bind(&e.actors)
    .bind(e.inferred)
    .bind(&e.rrule)
    .bind(&e.created_by)
    .bind(ts(now))
    .bind(source_uid)
    .fetch_optional(conn)
    .await?;
    Ok(id.map(|(id,)| EventId(id)))
}

/// As in SQLite: a key seen before keeps its row unless it was cancelled.
async fn insert_planned(
    conn: &mut PgConnection,
    space: &SpaceId,
    planned: &[Planned],
) -> Result<(), StoreError> {
    for chunk in planned.chunks(500) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                let b = i * 7;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, 'pending')",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO reminders (key, event_id, space, occurrence_utc, offset_min, target, due_utc, state)
             VALUES {}
             ON CONFLICT (key) DO UPDATE SET state = 'pending', due_utc = excluded.due_utc,
                 attempts = 0, error = NULL, done_at = NULL, claimed_by = NULL, lease_until = NULL
             WHERE reminders.state = 'cancelled'",
            rows.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(&*sql));
        for p in chunk {
            q = q
                .bind(&p.key)
                .bind(p.event_id)
                .bind(space)
                .bind(ts(p.occurrence))
                .bind(p.offset_min)
                .bind(&p.target)
                .bind(ts(p.due));
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The first write of a plan: moves the event's mark (when given) only if the event is still
/// at `revision`. The row lock it takes makes a concurrent change wait for this plan, and a
/// change committed first makes it match nothing (READ COMMITTED re-checks the newest row).
async fn still_at_revision(
    conn: &mut PgConnection,
    event_id: EventId,
    revision: i64,
    until: Option<DateTime<Utc>>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE events SET planned_until = COALESCE($1, planned_until) WHERE id = $2 AND revision = $3",
    )
    .bind(until.map(ts))
    .bind(event_id)
    .bind(revision)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Counts a change to what an event owes (see `EventRow::revision`).
async fn bump_revision(conn: &mut PgConnection, id: EventId) -> Result<(), StoreError> {
    sqlx::query("UPDATE events SET revision = revision + 1 WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

async fn upsert_imported(
    conn: &mut PgConnection,
    uid: &str,
    e: &EventInput,
    now: DateTime<Utc>,
) -> Result<(EventId, bool), StoreError> {
    let existing: Option<(EventId,)> =
        sqlx::query_as("SELECT id FROM events WHERE space = $1 AND source_uid = $2")
            .bind(&e.space)
            .bind(uid)
            .fetch_optional(&mut *conn)
            .await?;
    if let Some((id,)) = existing {
        sqlx::query("UPDATE events SET title = $1, description = $2, starts_local = $3, tz = $4, duration_min = $5, place = $6, rrule = $7, cancelled = FALSE, updated_at = $8, revision = revision + 1,
                topics = CASE WHEN inferred OR topics IS NULL THEN $10 ELSE topics END,
                actors = CASE WHEN inferred OR topics IS NULL THEN $11 ELSE actors END,
                inferred = CASE WHEN inferred OR topics IS NULL THEN $12 ELSE inferred END
             WHERE id = $9")
            .bind(&e.title)
            .bind(&e.description)
            .bind(e.starts_local.format("%Y-%m-%dT%H:%M:%S").to_string())
            .bind(&e.tz)
            .bind(e.duration_min)
            .bind(&e.place)
            .bind(&e.rrule)
            .bind(ts(now))
            .bind(id)
            .bind(&e.topics)
            .bind(&e.actors)
            .bind(e.inferred)
            .execute(&mut *conn)
            .await?;
        return Ok((id, false));
    }
    for candidate in super::events::uid_candidates(uid, &e.space) {
        if let Some(id) = insert_event_on(conn, e, &candidate, uid, now).await? {
            return Ok((id, true));
        }
    }
    Err(StoreError::Conflict(format!(
        "no free UID for an imported event of {}",
        e.space
    )))
}

async fn replace_exdates(
    conn: &mut PgConnection,
    id: EventId,
    exdates: &[DateTime<Utc>],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM event_exdates WHERE event_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for x in exdates {
        sqlx::query("INSERT INTO event_exdates (event_id, occurrence_utc) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(id)
            .bind(ts(*x))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

impl PgRuntime {
    pub async fn space(&self, id: &SpaceId) -> Result<SpaceRow, StoreError> {
        let row = sqlx::query_as("SELECT id, timezone, reminder_target, offsets, moderator_role, moderator_power, interested FROM spaces WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.unwrap_or_else(|| SpaceRow::defaults(id.clone())))
    }

    pub async fn update_space(&self, s: &SpaceRow, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO spaces (id, timezone, reminder_target, offsets, moderator_role, moderator_power, updated_at, interested)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (id) DO UPDATE SET timezone = $2, reminder_target = $3, offsets = $4,
                 moderator_role = $5, moderator_power = $6, updated_at = $7, interested = $8",
        )
        .bind(&s.id)
        .bind(&s.timezone)
        .bind(&s.reminder_target)
        .bind(&s.offsets)
        .bind(&s.moderator_role)
        .bind(s.moderator_power)
        .bind(ts(now))
        .bind(&s.interested)
        .execute(&mut *tx)
        .await?;
        // The offsets are part of what every event of the space owes.
        sqlx::query("UPDATE events SET revision = revision + 1 WHERE space = $1")
            .bind(&s.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn insert_event(
        &self,
        e: &EventInput,
        uid: &str,
        now: DateTime<Utc>,
    ) -> Result<EventId, StoreError> {
        let mut conn = self.pool.acquire().await?;
        insert_event_on(&mut conn, e, uid, uid, now)
            .await?
            .ok_or_else(|| StoreError::Conflict(format!("the event UID {uid} is taken")))
    }

    pub async fn update_event(
        &self,
        id: EventId,
        e: &EventInput,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE events SET title = $1, description = $2, starts_local = $3, tz = $4, duration_min = $5, place = $6, organiser = $7, topics = $8, rrule = $9, updated_at = $10, revision = revision + 1, actors = $12, inferred = $13 WHERE id = $11",
        )
        .bind(&e.title)
        .bind(&e.description)
        .bind(e.starts_local.format("%Y-%m-%dT%H:%M:%S").to_string())
        .bind(&e.tz)
        .bind(e.duration_min)
        .bind(&e.place)
        .bind(&e.organiser)
        .bind(&e.topics)
        .bind(&e.rrule)
        .bind(ts(now))
        .bind(id)
        .bind(&e.actors)
        .bind(e.inferred)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn cancel_event(&self, id: EventId, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE events SET cancelled = TRUE, updated_at = $1, revision = revision + 1 WHERE id = $2")
            .bind(ts(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE reminders SET state = 'cancelled', done_at = $1 WHERE event_id = $2 AND state = 'pending'")
            .bind(ts(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        notify(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn cancel_occurrence(
        &self,
        id: EventId,
        occurrence: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        bump_revision(&mut tx, id).await?;
        // A cancelled occurrence changes the event as calendars see it (LAST-MODIFIED).
        sqlx::query("UPDATE events SET updated_at = $1 WHERE id = $2")
            .bind(ts(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO event_exdates (event_id, occurrence_utc) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(id)
            .bind(ts(occurrence))
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE reminders SET state = 'cancelled', done_at = $1 WHERE event_id = $2 AND occurrence_utc = $3 AND state = 'pending'")
            .bind(ts(now))
            .bind(id)
            .bind(ts(occurrence))
            .execute(&mut *tx)
            .await?;
        notify(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn import_events(
        &self,
        items: &[(String, EventInput, Vec<DateTime<Utc>>)],
        now: DateTime<Utc>,
        max_live: i64,
    ) -> Result<Imported, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut out = Vec::new();
        for (uid, e, exdates) in items {
            let (id, added) = upsert_imported(&mut tx, uid, e, now).await?;
            replace_exdates(&mut tx, id, exdates).await?;
            out.push((id, added));
        }
        let space = items.first().map_or("", |(_, e, _)| e.space.as_str());
        let (live,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM events WHERE space = $1 AND NOT cancelled")
                .bind(space)
                .fetch_one(&mut *tx)
                .await?;
        if live > max_live {
            let adding = out.iter().filter(|(_, added)| *added).count() as i64;
            return Ok(Imported::TooMany {
                existing: live - adding,
                adding,
            });
        }
        tx.commit().await?;
        Ok(Imported::Done(out))
    }

    pub async fn exdates(&self, id: EventId) -> Result<Vec<DateTime<Utc>>, StoreError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT occurrence_utc FROM event_exdates WHERE event_id = $1")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.iter().filter_map(|(s,)| parse_ts(s)).collect())
    }

    pub async fn event(&self, id: EventId) -> Result<Option<EventRow>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn events_of_space(&self, space: &SpaceId) -> Result<Vec<EventRow>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE space = $1 AND NOT cancelled ORDER BY id"
        )))
        .bind(space)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn count_events(&self, space: &SpaceId) -> Result<i64, StoreError> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM events WHERE space = $1 AND NOT cancelled")
                .bind(space)
                .fetch_one(&self.pool)
                .await?;
        Ok(n)
    }

    pub async fn subscriptions_of_event(
        &self,
        event_id: EventId,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT user_id, offset_min FROM subscriptions WHERE event_id = $1 ORDER BY id",
        )
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn subscriptions(
        &self,
        space: &SpaceId,
        user: Option<&str>,
    ) -> Result<Vec<SubscriptionRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT s.id, s.event_id, e.title, s.user_id, s.offset_min FROM subscriptions s JOIN events e ON e.id = s.event_id
             WHERE s.space = $1 AND ($2::TEXT IS NULL OR s.user_id = $2) AND NOT e.cancelled ORDER BY s.id",
        )
        .bind(space)
        .bind(user)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn unsubscribe(
        &self,
        id: i64,
        user: &str,
        any: bool,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row: Option<(EventId, String, i64)> = sqlx::query_as(
            "SELECT event_id, user_id, offset_min FROM subscriptions WHERE id = $1 FOR UPDATE",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((event_id, owner, offset)) = row else {
            return Ok(false);
        };
        if owner != user && !any {
            return Ok(false);
        }
        bump_revision(&mut tx, event_id).await?;
        sqlx::query("DELETE FROM subscriptions WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE reminders SET state = 'cancelled', done_at = $1 WHERE event_id = $2 AND target = $3 AND offset_min = $4 AND state = 'pending'")
            .bind(ts(now))
            .bind(event_id)
            .bind(Target::User(owner))
            .bind(offset)
            .execute(&mut *tx)
            .await?;
        notify(&mut tx).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn replan(
        &self,
        event: &EventRow,
        planned: &[Planned],
        planned_until: DateTime<Utc>,
    ) -> Result<PlanWrite, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Notes (`events::NOTE_OFFSET`) and snoozes (`events::is_snooze`) are not part of a
        // plan: a replan leaves them be (stale snoozes are dropped by `plan_event`).
        if !still_at_revision(&mut tx, event.id, event.revision, Some(planned_until)).await? {
            return Ok(PlanWrite::EventChanged);
        }
        sqlx::query(
            "DELETE FROM reminders WHERE event_id = $1 AND state = 'pending' AND offset_min >= 0 AND key NOT LIKE '%+snooze%'",
        )
        .bind(event.id)
        .execute(&mut *tx)
        .await?;
        insert_planned(&mut tx, &event.space, planned).await?;
        notify(&mut tx).await?;
        tx.commit().await?;
        Ok(PlanWrite::Written)
    }

    pub async fn add_planned(
        &self,
        event: &EventRow,
        planned: &[Planned],
        planned_until: Option<DateTime<Utc>>,
    ) -> Result<PlanWrite, StoreError> {
        let mut tx = self.pool.begin().await?;
        if !still_at_revision(&mut tx, event.id, event.revision, planned_until).await? {
            return Ok(PlanWrite::EventChanged);
        }
        insert_planned(&mut tx, &event.space, planned).await?;
        notify(&mut tx).await?;
        tx.commit().await?;
        Ok(PlanWrite::Written)
    }

    pub async fn events_to_plan(
        &self,
        platform: Platform,
        before: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<(EventId, Option<DateTime<Utc>>)>, StoreError> {
        let rows: Vec<(EventId, Option<String>)> = sqlx::query_as(
            "SELECT id, planned_until FROM events
             WHERE NOT cancelled AND (planned_until IS NULL OR planned_until < $1)
               AND (space = $2 OR space LIKE $3)
             ORDER BY planned_until NULLS FIRST LIMIT $4",
        )
        .bind(ts(before))
        .bind(platform)
        .bind(platform_pattern(platform))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, until)| (id, until.as_deref().and_then(parse_ts)))
            .collect())
    }

    pub async fn plan_mark(&self, event_id: EventId) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT planned_until FROM events WHERE id = $1")
                .bind(event_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|(t,)| t).as_deref().and_then(parse_ts))
    }

    pub async fn earliest_plan_mark(
        &self,
        platform: Platform,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row: Option<(Option<String>,)> = sqlx::query_as(
            "SELECT planned_until FROM events WHERE NOT cancelled AND (space = $1 OR space LIKE $2)
             ORDER BY planned_until NULLS FIRST LIMIT 1",
        )
        .bind(platform)
        .bind(platform_pattern(platform))
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            None => None,
            Some((None,)) => Some(DateTime::<Utc>::MIN_UTC),
            Some((Some(t),)) => parse_ts(&t),
        })
    }

    pub async fn next_due(&self, platform: Platform) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT due_utc FROM reminders WHERE state = 'pending' AND (space = $1 OR space LIKE $2)
             ORDER BY due_utc LIMIT 1",
        )
        .bind(platform)
        .bind(platform_pattern(platform))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.and_then(|(s,)| parse_ts(&s)))
    }

    /// Claims due reminders. `SKIP LOCKED`: rows another process is claiming right now are
    /// passed over, not waited for — each process takes a disjoint batch.
    pub async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: i64,
        platform: Platform,
        owner: &str,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<ReminderRow>, StoreError> {
        let mut rows: Vec<ReminderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE reminders SET state = 'claimed', claimed_at = $1, attempts = attempts + 1,
                                  claimed_by = $5, lease_until = $6
             WHERE key IN (SELECT key FROM reminders WHERE state = 'pending' AND due_utc <= $1
                           AND (space = $3 OR space LIKE $4) ORDER BY due_utc LIMIT $2
                           FOR UPDATE SKIP LOCKED)
             RETURNING {REMINDER_COLUMNS}"
        )))
        .bind(ts(now))
        .bind(limit)
        .bind(platform)
        .bind(platform_pattern(platform))
        .bind(owner)
        .bind(ts(lease_until))
        .fetch_all(&self.pool)
        .await?;
        rows.sort_by(|a, b| a.due_utc.cmp(&b.due_utc));
        Ok(rows)
    }

    pub async fn claim_owners(&self, platform: Platform) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(Option<String>,)> = sqlx::query_as(
            "SELECT DISTINCT claimed_by FROM reminders WHERE state = 'claimed'
             AND (space = $1 OR space LIKE $2)",
        )
        .bind(platform)
        .bind(platform_pattern(platform))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().filter_map(|(o,)| o).collect())
    }

    pub async fn reclaim(
        &self,
        platform: Platform,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        dead: &[String],
    ) -> Result<Vec<ReminderRow>, StoreError> {
        let mut rows: Vec<ReminderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE reminders SET claimed_by = $1, lease_until = $2
             WHERE key IN (SELECT key FROM reminders
                           WHERE state = 'claimed' AND (space = $3 OR space LIKE $4)
                             AND (claimed_by IS NULL OR lease_until IS NULL OR lease_until < $5
                                  OR claimed_by = ANY($6))
                           FOR UPDATE SKIP LOCKED)
             RETURNING {REMINDER_COLUMNS}"
        )))
        .bind(owner)
        .bind(ts(lease_until))
        .bind(platform)
        .bind(platform_pattern(platform))
        .bind(ts(now))
        .bind(dead)
        .fetch_all(&self.pool)
        .await?;
        rows.sort_by(|a, b| a.due_utc.cmp(&b.due_utc));
        Ok(rows)
    }

    pub async fn finish_reminder(
        &self,
        key: &str,
        state: ReminderState,
        late: bool,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE reminders SET state = $1, late = $2, error = $3, done_at = $4 WHERE key = $5",
        )
        .bind(state)
        .bind(late)
        .bind(error)
        .bind(ts(now))
        .bind(key)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn finish_sent(
        &self,
        sent: &[(String, bool)],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for late in [false, true] {
            let keys: Vec<&str> = sent
                .iter()
                .filter(|(_, l)| *l == late)
                .map(|(k, _)| k.as_str())
                .collect();
            if keys.is_empty() {
                continue;
            }
            sqlx::query("UPDATE reminders SET state = 'sent', late = $1, error = NULL, done_at = $2 WHERE key = ANY($3)")
                .bind(late)
                .bind(ts(now))
                .bind(&keys)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    pub async fn reminder_states(
        &self,
        event_id: EventId,
    ) -> Result<Vec<(String, ReminderState)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT key, state FROM reminders WHERE event_id = $1 ORDER BY due_utc, key",
        )
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?)
    }

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

    pub async fn reminder_by_key(&self, key: &str) -> Result<Option<ReminderRow>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {REMINDER_COLUMNS} FROM reminders WHERE key = $1"
        )))
        .bind(key)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn disable_target(
        &self,
        space: &SpaceId,
        target: &Target,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO disabled_targets (space, target, reason, disabled_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (space, target) DO UPDATE SET reason = excluded.reason, disabled_at = excluded.disabled_at",
        )
        .bind(space)
        .bind(target)
        .bind(reason)
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn enable_target(&self, space: &SpaceId, target: &Target) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM disabled_targets WHERE space = $1 AND target = $2")
            .bind(space)
            .bind(target)
            .execute(&mut *tx)
            .await?;
        notify(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn disabled_targets(
        &self,
        space: &SpaceId,
    ) -> Result<std::collections::HashMap<Target, String>, StoreError> {
        let rows: Vec<(Target, String)> =
            sqlx::query_as("SELECT target, reason FROM disabled_targets WHERE space = $1")
                .bind(space)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().collect())
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
