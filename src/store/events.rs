//! Runtime data: spaces and their settings, events, personal subscriptions, and the reminder
//! ledger the scheduler claims from. Instants are stored as UTC RFC 3339 text (sortable);
//! wall-clock starts as ISO local time beside their IANA zone.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use sqlx::FromRow;

use super::{Store, StoreError};
use crate::events::Planned;

pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[derive(Debug, Clone, FromRow)]
pub struct SpaceRow {
    pub id: String,
    pub timezone: String,
    pub reminder_target: Option<String>,
    pub offsets: String,
    pub moderator_role: Option<String>,
    pub moderator_power: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct EventRow {
    pub id: i64,
    pub uid: String,
    pub space: String,
    pub title: String,
    pub description: Option<String>,
    pub starts_local: String,
    pub tz: String,
    pub duration_min: Option<i64>,
    pub place: Option<String>,
    pub organiser: Option<String>,
    pub topics: Option<String>,
    pub rrule: Option<String>,
    pub cancelled: bool,
    pub created_by: String,
}

impl EventRow {
    pub fn start(&self) -> Option<NaiveDateTime> {
        NaiveDateTime::parse_from_str(&self.starts_local, "%Y-%m-%dT%H:%M:%S").ok()
    }
}

/// What a moderator gives to create or change an event.
#[derive(Debug, Clone)]
pub struct EventInput {
    pub space: String,
    pub title: String,
    pub description: Option<String>,
    pub starts_local: NaiveDateTime,
    pub tz: String,
    pub duration_min: Option<i64>,
    pub place: Option<String>,
    pub organiser: Option<String>,
    pub topics: Option<String>,
    pub rrule: Option<String>,
    pub created_by: String,
}

#[derive(Debug, Clone, FromRow)]
pub struct ReminderRow {
    pub key: String,
    pub event_id: i64,
    pub space: String,
    pub occurrence_utc: String,
    pub offset_min: i64,
    pub target: String,
    pub due_utc: String,
    pub state: String,
    pub attempts: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct SubscriptionRow {
    pub id: i64,
    pub event_id: i64,
    pub title: String,
    pub user_id: String,
    pub offset_min: i64,
}

/// Inserts an event on a connection or inside a transaction (the importer adds a whole file
/// in one).
async fn insert_event_on(
    conn: &mut sqlx::SqliteConnection,
    e: &EventInput,
    uid: &str,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let id = sqlx::query(
        "INSERT INTO events (uid, space, title, description, starts_local, tz, duration_min, place, organiser, topics, rrule, created_by, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
    .bind(&e.rrule)
    .bind(&e.created_by)
    .bind(ts(now))
    .bind(ts(now))
    .execute(conn)
    .await?
    .last_insert_rowid();
    Ok(id)
}

const EVENT_COLUMNS: &str = "id, uid, space, title, description, starts_local, tz, duration_min, place, organiser, topics, rrule, cancelled, created_by";
const REMINDER_COLUMNS: &str =
    "key, event_id, space, occurrence_utc, offset_min, target, due_utc, state, attempts";

impl Store {
    /// The settings of a space, created with defaults on first use.
    pub async fn space(&self, id: &str, now: DateTime<Utc>) -> Result<SpaceRow, StoreError> {
        sqlx::query("INSERT OR IGNORE INTO spaces (id, updated_at) VALUES (?, ?)")
            .bind(id)
            .bind(ts(now))
            .execute(&self.pool)
            .await?;
        Ok(sqlx::query_as("SELECT id, timezone, reminder_target, offsets, moderator_role, moderator_power FROM spaces WHERE id = ?").bind(id).fetch_one(&self.pool).await?)
    }

    pub async fn update_space(&self, s: &SpaceRow, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("UPDATE spaces SET timezone = ?, reminder_target = ?, offsets = ?, moderator_role = ?, moderator_power = ?, updated_at = ? WHERE id = ?")
            .bind(&s.timezone)
            .bind(&s.reminder_target)
            .bind(&s.offsets)
            .bind(&s.moderator_role)
            .bind(s.moderator_power)
            .bind(ts(now))
            .bind(&s.id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn insert_event(
        &self,
        e: &EventInput,
        uid: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let mut conn = self.pool.acquire().await?;
        insert_event_on(&mut conn, e, uid, now).await
    }

    pub async fn update_event(
        &self,
        id: i64,
        e: &EventInput,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE events SET title = ?, description = ?, starts_local = ?, tz = ?, duration_min = ?, place = ?, organiser = ?, topics = ?, rrule = ?, updated_at = ? WHERE id = ?",
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
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn cancel_event(&self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE events SET cancelled = 1, updated_at = ? WHERE id = ?")
            .bind(ts(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE reminders SET state = 'cancelled', done_at = ? WHERE event_id = ? AND state = 'pending'").bind(ts(now)).bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn cancel_occurrence(
        &self,
        id: i64,
        occurrence: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT OR IGNORE INTO event_exdates (event_id, occurrence_utc) VALUES (?, ?)")
            .bind(id)
            .bind(ts(occurrence))
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE reminders SET state = 'cancelled', done_at = ? WHERE event_id = ? AND occurrence_utc = ? AND state = 'pending'")
            .bind(ts(now))
            .bind(id)
            .bind(ts(occurrence))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds or updates (by UID, within the space) every event of an imported file, in one
    /// transaction: a file is imported whole or not at all. Returns (event id, added?).
    pub async fn import_events(
        &self,
        items: &[(String, EventInput, Vec<DateTime<Utc>>)],
        now: DateTime<Utc>,
    ) -> Result<Vec<(i64, bool)>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut out = Vec::new();
        for (uid, e, exdates) in items {
            // The UID as given, or the space-specific form a first import made of it.
            let existing: Option<(i64,)> = sqlx::query_as(
                "SELECT id FROM events WHERE space = ?1 AND (uid = ?2 OR uid = ?2 || '/' || ?1)",
            )
            .bind(&e.space)
            .bind(uid)
            .fetch_optional(&mut *tx)
            .await?;
            let start = e.starts_local.format("%Y-%m-%dT%H:%M:%S").to_string();
            let id = match existing {
                Some((id,)) => {
                    sqlx::query("UPDATE events SET title = ?, description = ?, starts_local = ?, tz = ?, duration_min = ?, place = ?, rrule = ?, cancelled = 0, updated_at = ? WHERE id = ?")
                        .bind(&e.title)
                        .bind(&e.description)
                        .bind(&start)
                        .bind(&e.tz)
                        .bind(e.duration_min)
                        .bind(&e.place)
                        .bind(&e.rrule)
                        .bind(ts(now))
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    out.push((id, false));
                    id
                }
                None => {
                    // A UID taken by another space gets a space-specific one.
                    let taken: Option<(i64,)> =
                        sqlx::query_as("SELECT id FROM events WHERE uid = ?")
                            .bind(uid)
                            .fetch_optional(&mut *tx)
                            .await?;
                    let uid = if taken.is_some() {
                        format!("{uid}/{}", e.space)
                    } else {
                        uid.clone()
                    };
                    let id = insert_event_on(&mut tx, e, &uid, now).await?;
                    out.push((id, true));
                    id
                }
            };
            sqlx::query("DELETE FROM event_exdates WHERE event_id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            for x in exdates {
                sqlx::query(
                    "INSERT OR IGNORE INTO event_exdates (event_id, occurrence_utc) VALUES (?, ?)",
                )
                .bind(id)
                .bind(ts(*x))
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    pub async fn exdates(&self, id: i64) -> Result<Vec<DateTime<Utc>>, StoreError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT occurrence_utc FROM event_exdates WHERE event_id = ?")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.iter().filter_map(|(s,)| parse_ts(s)).collect())
    }

    pub async fn event(&self, id: i64) -> Result<Option<EventRow>, StoreError> {
        Ok(
            sqlx::query_as(&format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = ?"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn events_of_space(&self, space: &str) -> Result<Vec<EventRow>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE space = ? AND cancelled = 0 ORDER BY id"
        ))
        .bind(space)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn subscribe(
        &self,
        event_id: i64,
        space: &str,
        user: &str,
        offset_min: i64,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        sqlx::query("INSERT OR IGNORE INTO subscriptions (event_id, space, user_id, offset_min, created_at) VALUES (?, ?, ?, ?, ?)")
            .bind(event_id)
            .bind(space)
            .bind(user)
            .bind(offset_min)
            .bind(ts(now))
            .execute(&self.pool)
            .await?;
        let (id,): (i64,) = sqlx::query_as(
            "SELECT id FROM subscriptions WHERE event_id = ? AND user_id = ? AND offset_min = ?",
        )
        .bind(event_id)
        .bind(user)
        .bind(offset_min)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    pub async fn subscriptions_of_event(
        &self,
        event_id: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT user_id, offset_min FROM subscriptions WHERE event_id = ? ORDER BY id",
        )
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Personal subscriptions in a space (one user's, or everyone's for moderators).
    pub async fn subscriptions(
        &self,
        space: &str,
        user: Option<&str>,
    ) -> Result<Vec<SubscriptionRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT s.id, s.event_id, e.title, s.user_id, s.offset_min FROM subscriptions s JOIN events e ON e.id = s.event_id
             WHERE s.space = ?1 AND (?2 IS NULL OR s.user_id = ?2) AND e.cancelled = 0 ORDER BY s.id",
        )
        .bind(space)
        .bind(user)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Removes a subscription (and its pending reminders). Returns false when it is not the
    /// caller's (unless `any` — moderators may remove anyone's).
    pub async fn unsubscribe(
        &self,
        id: i64,
        user: &str,
        any: bool,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let row: Option<(i64, String, i64)> =
            sqlx::query_as("SELECT event_id, user_id, offset_min FROM subscriptions WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let Some((event_id, owner, offset)) = row else {
            return Ok(false);
        };
        if owner != user && !any {
            return Ok(false);
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM subscriptions WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE reminders SET state = 'cancelled', done_at = ? WHERE event_id = ? AND target = ? AND offset_min = ? AND state = 'pending'")
            .bind(ts(now))
            .bind(event_id)
            .bind(format!("user:{owner}"))
            .bind(offset)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Replaces an event's pending reminders with `planned`. Reminders already claimed, sent,
    /// failed or missed keep their rows (their keys are ignored here), so a replan never
    /// sends twice.
    pub async fn replan(
        &self,
        event_id: i64,
        space: &str,
        planned: &[Planned],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM reminders WHERE event_id = ? AND state = 'pending'")
            .bind(event_id)
            .execute(&mut *tx)
            .await?;
        for chunk in planned.chunks(500) {
            let placeholders = vec!["(?, ?, ?, ?, ?, ?, ?, 'pending')"; chunk.len()].join(", ");
            let sql = format!("INSERT OR IGNORE INTO reminders (key, event_id, space, occurrence_utc, offset_min, target, due_utc, state) VALUES {placeholders}");
            let mut q = sqlx::query(&sql);
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
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// When the next pending reminder falls due (an index lookup, whatever the table's size).
    pub async fn next_due(&self, platform: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT due_utc FROM reminders WHERE state = 'pending' AND (space = ?1 OR space GLOB ?2)
             ORDER BY due_utc LIMIT 1",
        )
        .bind(platform)
        .bind(format!("{platform}:*"))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.and_then(|(s,)| parse_ts(&s)))
    }

    /// Claims every pending reminder of `platform`'s spaces due by `now`: pending → claimed,
    /// atomically. Only the claimer sends it; a second scheduler (or a restart) finds nothing
    /// left to claim. Spaces are "<platform>" or "<platform>:<id>"; each platform's process
    /// delivers only its own, so the console and Matrix can share one database.
    pub async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: i64,
        platform: &str,
    ) -> Result<Vec<ReminderRow>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "UPDATE reminders SET state = 'claimed', claimed_at = ?1, attempts = attempts + 1
             WHERE key IN (SELECT key FROM reminders WHERE state = 'pending' AND due_utc <= ?2
                           AND (space = ?4 OR space GLOB ?5) ORDER BY due_utc LIMIT ?3)
             RETURNING {REMINDER_COLUMNS}"
        ))
        .bind(ts(now))
        .bind(ts(now))
        .bind(limit)
        .bind(platform)
        .bind(format!("{platform}:*"))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Reminders claimed but never recorded as done: a crash happened between claim and
    /// record. They are sent again with the same key, which the platform deduplicates.
    pub async fn unfinished_claims(&self, platform: &str) -> Result<Vec<ReminderRow>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {REMINDER_COLUMNS} FROM reminders WHERE state = 'claimed'
             AND (space = ?1 OR space GLOB ?2) ORDER BY due_utc"
        ))
        .bind(platform)
        .bind(format!("{platform}:*"))
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn finish_reminder(
        &self,
        key: &str,
        state: &str,
        late: bool,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE reminders SET state = ?, late = ?, error = ?, done_at = ? WHERE key = ?",
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

    /// Records a batch of delivered reminders as sent: one statement per lateness flag (a
    /// statement per key would cost a round trip each, which is what limits a burst).
    pub async fn finish_sent(
        &self,
        sent: &[(String, bool)],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for late in [false, true] {
            let keys: Vec<&String> = sent
                .iter()
                .filter(|(_, l)| *l == late)
                .map(|(k, _)| k)
                .collect();
            for chunk in keys.chunks(900) {
                let sql = format!("UPDATE reminders SET state = 'sent', late = ?, error = NULL, done_at = ? WHERE key IN ({})", vec!["?"; chunk.len()].join(", "));
                let mut q = sqlx::query(&sql).bind(late).bind(ts(now));
                for k in chunk {
                    q = q.bind(*k);
                }
                q.execute(&self.pool).await?;
            }
        }
        Ok(())
    }

    /// A failed delivery goes back to pending, due again at `retry_at`.
    pub async fn retry_reminder(
        &self,
        key: &str,
        retry_at: DateTime<Utc>,
        error: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE reminders SET state = 'pending', due_utc = ?, error = ? WHERE key = ?")
            .bind(ts(retry_at))
            .bind(error)
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn reminder_states(
        &self,
        event_id: i64,
    ) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT key, state FROM reminders WHERE event_id = ? ORDER BY due_utc, key",
        )
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn disable_target(
        &self,
        space: &str,
        target: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT OR REPLACE INTO disabled_targets (space, target, reason, disabled_at) VALUES (?, ?, ?, ?)")
            .bind(space)
            .bind(target)
            .bind(reason)
            .bind(ts(now))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn enable_target(&self, space: &str, target: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM disabled_targets WHERE space = ? AND target = ?")
            .bind(space)
            .bind(target)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The disabled targets of a space, with the reason.
    pub async fn disabled_targets(
        &self,
        space: &str,
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT target, reason FROM disabled_targets WHERE space = ?")
                .bind(space)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().collect())
    }

    /// A number that changes whenever any connection (in any process) commits to the file:
    /// the scheduler's cheap check for events added by `atlasbot ask` in another process.
    pub async fn data_version(&self, conn: &mut sqlx::SqliteConnection) -> Result<i64, StoreError> {
        let (v,): (i64,) = sqlx::query_as("PRAGMA data_version")
            .fetch_one(conn)
            .await?;
        Ok(v)
    }
}
