//! Runtime data: spaces and their settings, events, personal subscriptions, and the reminder
//! ledger the scheduler claims from. Instants are stored as UTC RFC 3339 text (sortable);
//! wall-clock starts as ISO local time beside their IANA zone.
//!
//! One implementation for both databases: every statement is written once with `$n`
//! placeholders (which SQLite accepts too) and run on whichever database holds the runtime
//! state (`dialect::on_runtime!`). Where the dialects really differ — how a read-then-write
//! transaction starts, row locks, `SKIP LOCKED` claims — the difference is a `Dialect` field.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};

use super::dialect::{execute, fetch, numbered_list, numbered_rows, on_runtime};
use super::types::{EventId, Platform, ReminderState, SpaceId, Target};
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

row! {
#[derive(Debug, Clone)]
pub struct SpaceRow {
    pub id: SpaceId,
    pub timezone: String,
    pub reminder_target: Option<String>,
    pub offsets: String,
    pub moderator_role: Option<String>,
    pub moderator_power: i64,
    /// How people "Interested" in a Discord Scheduled Event are reminded: "mention" or "dm".
    pub interested: String,
    /// When the coming period's events are posted (`events::agenda`): "weekly mon 09:00".
    pub agenda: Option<String>,
}
}

row! {
#[derive(Debug, Clone)]
pub struct EventRow {
    pub id: EventId,
    pub uid: String,
    pub space: SpaceId,
    pub title: String,
    pub description: Option<String>,
    pub starts_local: String,
    pub tz: String,
    pub duration_min: Option<i64>,
    pub place: Option<String>,
    pub organiser: Option<String>,
    pub topics: Option<String>,
    /// Atlas actors the event involves besides its organiser (comma-separated slugs).
    pub actors: Option<String>,
    /// Whether its topics and actors were inferred from its title and description.
    pub inferred: bool,
    pub rrule: Option<String>,
    pub cancelled: bool,
    pub created_by: String,
    pub created_at: String,
    /// Moved by every change of the event itself (not of its subscriptions): iCalendar's
    /// LAST-MODIFIED and DTSTAMP.
    pub updated_at: String,
    /// Counts every change to what the event owes (its times, its cancellations, its
    /// subscriptions, its space's offsets): a plan is written only for the revision it was
    /// computed from (`Store::replan`), so a planner that read an older one never wins.
    pub revision: i64,
    /// At most this many Going (beyond: the waitlist); None: no limit.
    pub capacity: Option<i64>,
    /// The card and /event show give counts only, no names.
    pub hide_names: bool,
    /// The followed calendar that owns it (`/event sync`): changed there, not here.
    pub sync_id: Option<i64>,
}
}

impl SpaceRow {
    /// A space nobody has set up: the schema's defaults (migration 0003).
    pub fn defaults(id: SpaceId) -> SpaceRow {
        SpaceRow {
            id,
            timezone: "UTC".into(),
            reminder_target: None,
            offsets: "1440,60".into(),
            moderator_role: None,
            moderator_power: 50,
            interested: "mention".into(),
            agenda: None,
        }
    }
}

/// How a wall-clock start is stored beside its zone (`starts_local`): ISO local time.
const STARTS_LOCAL: &str = "%Y-%m-%dT%H:%M:%S";

/// A wall-clock start as stored.
pub(crate) fn starts_text(t: &NaiveDateTime) -> String {
    t.format(STARTS_LOCAL).to_string()
}

impl EventRow {
    pub fn start(&self) -> Option<NaiveDateTime> {
        NaiveDateTime::parse_from_str(&self.starts_local, STARTS_LOCAL).ok()
    }
}

/// What a moderator gives to create or change an event.
#[derive(Debug, Clone)]
pub struct EventInput {
    pub space: SpaceId,
    pub title: String,
    pub description: Option<String>,
    pub starts_local: NaiveDateTime,
    pub tz: String,
    pub duration_min: Option<i64>,
    pub place: Option<String>,
    pub organiser: Option<String>,
    pub topics: Option<String>,
    pub actors: Option<String>,
    pub inferred: bool,
    pub rrule: Option<String>,
    pub created_by: String,
}

row! {
#[derive(Debug, Clone)]
pub struct ReminderRow {
    pub key: String,
    pub event_id: EventId,
    pub space: SpaceId,
    pub occurrence_utc: String,
    pub offset_min: i64,
    pub target: Target,
    pub due_utc: String,
    pub state: ReminderState,
    pub attempts: i64,
}
}

row! {
#[derive(Debug, Clone)]
pub struct SubscriptionRow {
    pub id: i64,
    pub event_id: EventId,
    pub title: String,
    pub user_id: String,
    pub offset_min: i64,
}
}

/// What importing a calendar file did: (event id, added?) for each event, or nothing because
/// the space would have too many events.
#[derive(Debug)]
pub enum Imported {
    /// (event, added?) for each event written, and the UIDs left alone because a followed
    /// calendar owns the event (it is changed there).
    Done(Vec<(EventId, bool)>, Vec<String>),
    TooMany {
        existing: i64,
        adding: i64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionCounts {
    pub mine_on_event: i64,
    pub all_on_event: i64,
    pub mine_in_space: i64,
}

// The statements below are written once and compiled for both databases: each helper is a
// macro over the connection or transaction of whichever database holds the runtime state
// (`dialect::on_runtime!`), with `$n` placeholders, which SQLite accepts too.

/// Inserts an event on a connection or inside a transaction (the importer adds a whole file
/// in one), published under `uid` if no event of any space has it yet: None when one has.
/// `source_uid` is the UID the event's calendar gave it (its own for an event made here).
macro_rules! insert_event_on {
    ($conn:expr, $e:expr, $uid:expr, $source_uid:expr, $now:expr) => {{
        let e: &EventInput = $e;
        let id: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO events (uid, space, title, description, starts_local, tz, duration_min, place, organiser, topics, actors, inferred, rrule, created_by, created_at, updated_at, source_uid)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16)
             ON CONFLICT (uid) DO NOTHING RETURNING id",
        )
        .bind($uid)
        .bind(&e.space)
        .bind(&e.title)
        .bind(&e.description)
        .bind(starts_text(&e.starts_local))
        .bind(&e.tz)
        .bind(e.duration_min)
        .bind(&e.place)
        .bind(&e.organiser)
        .bind(&e.topics)
        .bind(&e.actors)
        .bind(e.inferred)
        .bind(&e.rrule)
        .bind(&e.created_by)
        .bind(ts($now))
        .bind($source_uid)
        .fetch_optional($conn)
        .await?;
        id.map(|(id,)| EventId(id))
    }};
}

pub(crate) use insert_event_on;

/// Writes planned reminders. A key seen before keeps its row — sent, failed or missed
/// reminders are never planned again — unless it was cancelled (a person unsubscribed, then
/// subscribed again): then it is owed once more.
macro_rules! insert_planned {
    ($conn:expr, $space:expr, $planned:expr) => {{
        let planned: &[Planned] = $planned;
        for chunk in planned.chunks(500) {
            let sql = format!(
                "INSERT INTO reminders (key, event_id, space, occurrence_utc, offset_min, target, due_utc, state)
                 VALUES {}
                 ON CONFLICT (key) DO UPDATE SET state = 'pending', due_utc = excluded.due_utc,
                     attempts = 0, error = NULL, done_at = NULL, claimed_by = NULL, lease_until = NULL
                 WHERE reminders.state = 'cancelled'",
                numbered_rows(chunk.len(), 7, "'pending'")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for p in chunk {
                q = q
                    .bind(&p.key)
                    .bind(p.event_id)
                    .bind($space)
                    .bind(ts(p.occurrence))
                    .bind(p.offset_min)
                    .bind(&p.target)
                    .bind(ts(p.due));
            }
            q.execute(&mut *$conn).await?;
        }
    }};
}

/// The first write of a plan: moves the event's mark (when given) only if the event is still
/// at `revision`, which also takes the write lock before anything else is written. False:
/// the event changed since the plan was computed (write nothing).
macro_rules! still_at_revision {
    ($conn:expr, $event_id:expr, $revision:expr, $until:expr) => {{
        let until: Option<DateTime<Utc>> = $until;
        let done = sqlx::query(
            "UPDATE events SET planned_until = COALESCE($1, planned_until) WHERE id = $2 AND revision = $3",
        )
        .bind(until.map(ts))
        .bind($event_id)
        .bind($revision)
        .execute(&mut *$conn)
        .await?;
        done.rows_affected() == 1
    }};
}

/// Counts a change to what an event owes (see `EventRow::revision`).
macro_rules! bump_revision {
    ($conn:expr, $id:expr) => {
        sqlx::query("UPDATE events SET revision = revision + 1 WHERE id = $1")
            .bind($id)
            .execute(&mut *$conn)
            .await?
    };
}

/// Adds an imported event, or updates the one of the space with its UID (as given, or the
/// space-specific form a first import made of it). Evaluates to (id, added?).
macro_rules! upsert_imported {
    ($conn:expr, $uid:expr, $e:expr, $now:expr) => {{
        let (uid, e, now): (&str, &EventInput, DateTime<Utc>) = ($uid, $e, $now);
        let existing: Option<(EventId,)> =
            sqlx::query_as("SELECT id FROM events WHERE space = $1 AND source_uid = $2")
                .bind(&e.space)
                .bind(uid)
                .fetch_optional(&mut *$conn)
                .await?;
        match existing {
            Some((id,)) => {
                // What it is about follows the file only where the bot chose it (a
                // moderator's topics stay).
                sqlx::query("UPDATE events SET title = $1, description = $2, starts_local = $3, tz = $4, duration_min = $5, place = $6, rrule = $7, cancelled = FALSE, updated_at = $8, revision = revision + 1,
                        topics = CASE WHEN inferred OR topics IS NULL THEN $9 ELSE topics END,
                        actors = CASE WHEN inferred OR topics IS NULL THEN $10 ELSE actors END,
                        inferred = CASE WHEN inferred OR topics IS NULL THEN $11 ELSE inferred END
                     WHERE id = $12")
                    .bind(&e.title)
                    .bind(&e.description)
                    .bind(starts_text(&e.starts_local))
                    .bind(&e.tz)
                    .bind(e.duration_min)
                    .bind(&e.place)
                    .bind(&e.rrule)
                    .bind(ts(now))
                    .bind(&e.topics)
                    .bind(&e.actors)
                    .bind(e.inferred)
                    .bind(id)
                    .execute(&mut *$conn)
                    .await?;
                (id, false)
            }
            None => {
                // A UID published by another space: the next candidate, proven free by the
                // insert.
                let mut added = None;
                for candidate in uid_candidates(uid, &e.space) {
                    if let Some(id) = insert_event_on!(&mut *$conn, e, &candidate, uid, now) {
                        added = Some(id);
                        break;
                    }
                }
                match added {
                    Some(id) => (id, true),
                    None => {
                        return Err(StoreError::Conflict(format!(
                            "no free UID for an imported event of {}",
                            e.space
                        )))
                    }
                }
            }
        }
    }};
}

pub(crate) use upsert_imported;

/// Pending reminders of a cancelled event are cancelled with it.
macro_rules! cancel_pending {
    ($tx:expr, $event:expr, $now:expr) => {
        sqlx::query("UPDATE reminders SET state = 'cancelled', done_at = $1 WHERE event_id = $2 AND state = 'pending'")
            .bind($crate::store::events::ts($now))
            .bind($event)
            .execute(&mut *$tx)
            .await?;
    };
}
pub(crate) use cancel_pending;

/// Cancels an event (a change to what it owes) and its pending reminders, inside `$tx`.
macro_rules! cancel_event_on {
    ($tx:expr, $event:expr, $now:expr) => {
        sqlx::query("UPDATE events SET cancelled = TRUE, updated_at = $1, revision = revision + 1 WHERE id = $2")
            .bind($crate::store::events::ts($now))
            .bind($event)
            .execute(&mut *$tx)
            .await?;
        $crate::store::events::cancel_pending!($tx, $event, $now);
    };
}
pub(crate) use cancel_event_on;

/// An imported event's cancelled occurrences are the file's, no more and no less.
macro_rules! replace_exdates {
    ($conn:expr, $id:expr, $exdates:expr) => {{
        sqlx::query("DELETE FROM event_exdates WHERE event_id = $1")
            .bind($id)
            .execute(&mut *$conn)
            .await?;
        for x in $exdates {
            sqlx::query(
                "INSERT INTO event_exdates (event_id, occurrence_utc) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind($id)
            .bind(ts(*x))
            .execute(&mut *$conn)
            .await?;
        }
    }};
}

pub(crate) use replace_exdates;

/// `platform`'s spaces: "<platform>" itself or "<platform>:<id>" (a LIKE pattern: no
/// wildcard can occur in a platform's name).
pub(crate) fn platform_pattern(platform: Platform) -> String {
    format!("{platform}:%")
}

/// The UIDs an imported event may be published under, in order: its own, the space-specific
/// form, then one nobody can have guessed — so that another space that took the first two
/// (importing the same public calendar first, or on purpose) cannot block this import.
pub(crate) fn uid_candidates(uid: &str, space: &SpaceId) -> [String; 3] {
    use ring::rand::SecureRandom;
    let mut nonce = [0u8; 12];
    // Never fails on a supported OS; a zero nonce then only makes the last form guessable.
    let _ = ring::rand::SystemRandom::new().fill(&mut nonce);
    let hex: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
    [
        uid.to_string(),
        format!("{uid}/{space}"),
        format!("{hex}/{space}@atlasbot"),
    ]
}

/// What came of writing a plan.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanWrite {
    Written,
    /// The event changed (another planner's writer got there first): nothing was written;
    /// plan again from what is stored now.
    EventChanged,
}

impl Store {
    /// The settings of a space: as stored, or the defaults for a space nobody has set up
    /// (a read never writes; `update_space` stores a space's first setting).
    pub async fn space(&self, id: &SpaceId) -> Result<SpaceRow, StoreError> {
        let sql = "SELECT id, timezone, reminder_target, offsets, moderator_role, moderator_power, interested, agenda FROM spaces WHERE id = $1";
        let row: Option<SpaceRow> = fetch!(self, query_as.fetch_optional, sql, id);
        Ok(row.unwrap_or_else(|| SpaceRow::defaults(id.clone())))
    }

    /// Stores a space's settings (creating its row the first time).
    pub async fn update_space(&self, s: &SpaceRow, now: DateTime<Utc>) -> Result<(), StoreError> {
        on_runtime!(self, |pool, begin| {
            let mut tx = pool.begin_with(begin).await?;
            sqlx::query(
                "INSERT INTO spaces (id, timezone, reminder_target, offsets, moderator_role, moderator_power, updated_at, interested, agenda)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (id) DO UPDATE SET timezone = $2, reminder_target = $3, offsets = $4,
                     moderator_role = $5, moderator_power = $6, updated_at = $7, interested = $8, agenda = $9",
            )
            .bind(&s.id)
            .bind(&s.timezone)
            .bind(&s.reminder_target)
            .bind(&s.offsets)
            .bind(&s.moderator_role)
            .bind(s.moderator_power)
            .bind(ts(now))
            .bind(&s.interested)
            .bind(&s.agenda)
            .execute(&mut *tx)
            .await?;
            // The offsets are part of what every event of the space owes.
            sqlx::query("UPDATE events SET revision = revision + 1 WHERE space = $1")
                .bind(&s.id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn insert_event(
        &self,
        e: &EventInput,
        uid: &str,
        now: DateTime<Utc>,
    ) -> Result<EventId, StoreError> {
        let id = on_runtime!(self, |pool| insert_event_on!(pool, e, uid, uid, now));
        id.ok_or_else(|| StoreError::Conflict(format!("the event UID {uid} is taken")))
    }

    pub async fn update_event(
        &self,
        id: EventId,
        e: &EventInput,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE events SET title = $1, description = $2, starts_local = $3, tz = $4, duration_min = $5, place = $6, organiser = $7, topics = $8, actors = $9, inferred = $10, rrule = $11, updated_at = $12, revision = revision + 1 WHERE id = $13";
        execute!(
            self,
            sql,
            &e.title,
            &e.description,
            starts_text(&e.starts_local),
            &e.tz,
            e.duration_min,
            &e.place,
            &e.organiser,
            &e.topics,
            &e.actors,
            e.inferred,
            &e.rrule,
            ts(now),
            id
        );
        // What it owes changes with the plan written after it (`replan` announces that).
        Ok(())
    }

    pub async fn cancel_event(&self, id: EventId, now: DateTime<Utc>) -> Result<(), StoreError> {
        on_runtime!(self, |pool, begin| {
            let mut tx = pool.begin_with(begin).await?;
            cancel_event_on!(tx, id, now);
            tx.commit().await?;
        });
        self.changed().await
    }

    pub async fn cancel_occurrence(
        &self,
        id: EventId,
        occurrence: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_runtime!(self, |pool, begin| {
            let mut tx = pool.begin_with(begin).await?;
            bump_revision!(tx, id);
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
            tx.commit().await?;
        });
        self.changed().await
    }

    /// Adds or updates (by UID, within the space) every event of an imported file, in one
    /// transaction: a file is imported whole or not at all. Returns (event id, added?).
    ///
    /// A space keeps at most `max_live` live events: a file that would add more changes
    /// nothing, and the answer says how many there are and how many it would add.
    pub async fn import_events(
        &self,
        items: &[(String, EventInput, Vec<DateTime<Utc>>)],
        now: DateTime<Utc>,
        max_live: i64,
    ) -> Result<Imported, StoreError> {
        let space = items.first().map_or("", |(_, e, _)| e.space.as_str());
        let imported = on_runtime!(self, |pool, begin| {
            let mut tx = pool.begin_with(begin).await?;
            let mut out = Vec::new();
            let mut followed = Vec::new();
            for (uid, e, exdates) in items {
                let owner: Option<Option<i64>> = sqlx::query_scalar(
                    "SELECT sync_id FROM events WHERE space = $1 AND source_uid = $2",
                )
                .bind(&e.space)
                .bind(uid)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(Some(_)) = owner {
                    followed.push(uid.clone());
                    continue;
                }
                let (id, added) = upsert_imported!(tx, uid, e, now);
                replace_exdates!(tx, id, exdates);
                out.push((id, added));
            }
            let (live,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM events WHERE space = $1 AND NOT cancelled")
                    .bind(space)
                    .fetch_one(&mut *tx)
                    .await?;
            if live > max_live {
                // Dropping the transaction rolls the whole file back.
                let adding = out.iter().filter(|(_, added)| *added).count() as i64;
                Imported::TooMany {
                    existing: live - adding,
                    adding,
                }
            } else {
                tx.commit().await?;
                Imported::Done(out, followed)
            }
        });
        // The plans written after it announce the change.
        Ok(imported)
    }

    pub async fn exdates(&self, id: EventId) -> Result<Vec<DateTime<Utc>>, StoreError> {
        let sql = "SELECT occurrence_utc FROM event_exdates WHERE event_id = $1";
        let rows: Vec<(String,)> = fetch!(self, query_as.fetch_all, sql, id);
        Ok(rows.iter().filter_map(|(s,)| parse_ts(s)).collect())
    }

    pub async fn event(&self, id: EventId) -> Result<Option<EventRow>, StoreError> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1");
        Ok(on_runtime!(self, |pool| sqlx::query_as(
            sqlx::AssertSqlSafe(sql.clone())
        )
        .bind(id)
        .fetch_optional(pool)
        .await?))
    }

    pub async fn events_of_space(&self, space: &SpaceId) -> Result<Vec<EventRow>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE space = $1 AND NOT cancelled ORDER BY id"
        );
        Ok(on_runtime!(self, |pool| sqlx::query_as(
            sqlx::AssertSqlSafe(sql.clone())
        )
        .bind(space)
        .fetch_all(pool)
        .await?))
    }

    /// How many live events a space has (the cap on events per space).
    pub async fn count_events(&self, space: &SpaceId) -> Result<i64, StoreError> {
        let sql = "SELECT COUNT(*) FROM events WHERE space = $1 AND NOT cancelled";
        let (n,): (i64,) = fetch!(self, query_as.fetch_one, sql, space);
        Ok(n)
    }

    pub async fn subscriptions_of_event(
        &self,
        event_id: EventId,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let sql = "SELECT user_id, offset_min FROM subscriptions WHERE event_id = $1 ORDER BY id";
        Ok(fetch!(self, query_as.fetch_all, sql, event_id))
    }

    /// Personal subscriptions in a space (one user's, or everyone's for moderators).
    pub async fn subscriptions(
        &self,
        space: &SpaceId,
        user: Option<&str>,
    ) -> Result<Vec<SubscriptionRow>, StoreError> {
        let sql = "SELECT s.id, s.event_id, e.title, s.user_id, s.offset_min FROM subscriptions s JOIN events e ON e.id = s.event_id
             WHERE s.space = $1 AND (CAST($2 AS TEXT) IS NULL OR s.user_id = $2) AND NOT e.cancelled ORDER BY s.id";
        Ok(fetch!(self, query_as.fetch_all, sql, space, user))
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
        let removed = on_runtime!(
            self,
            dialect | pool,
            d | {
                let mut tx = pool.begin_with(d.begin).await?;
                let sql = format!(
                    "SELECT event_id, user_id, offset_min FROM subscriptions WHERE id = $1{}",
                    d.for_update
                );
                let row: Option<(EventId, String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                match row {
                    Some((event_id, owner, offset)) if owner == user || any => {
                        bump_revision!(tx, event_id);
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
                        tx.commit().await?;
                        true
                    }
                    _ => false,
                }
            }
        );
        if removed {
            self.changed().await?;
        }
        Ok(removed)
    }

    /// Replaces the pending reminders of `event` (as read at its revision) with `planned`,
    /// and records that everything it owes falling due before `planned_until` is now
    /// planned. Reminders already claimed, sent, failed or missed keep their rows, so a
    /// replan never sends twice. Writes nothing if the event changed since (`PlanWrite`).
    pub async fn replan(
        &self,
        event: &EventRow,
        planned: &[Planned],
        planned_until: DateTime<Utc>,
    ) -> Result<PlanWrite, StoreError> {
        self.write_plan(event, planned, Some(planned_until), true)
            .await
    }

    /// Adds reminders to the plan of `event` (as read at its revision: a new subscription,
    /// or the plan moving forward), keeping what is there; with `planned_until`, moves the
    /// event's mark to it. Writes nothing if the event changed since (`PlanWrite`).
    pub async fn add_planned(
        &self,
        event: &EventRow,
        planned: &[Planned],
        planned_until: Option<DateTime<Utc>>,
    ) -> Result<PlanWrite, StoreError> {
        self.write_plan(event, planned, planned_until, false).await
    }

    /// Writes a plan in one transaction, first proving the event still at the revision it
    /// was computed from; `replace`: its pending plan goes first. Notes
    /// (`events::NOTE_OFFSET`) and snoozes (`events::is_snooze`) are not part of a plan: a
    /// replan leaves them be (stale snoozes are dropped by `plan_event`).
    async fn write_plan(
        &self,
        event: &EventRow,
        planned: &[Planned],
        planned_until: Option<DateTime<Utc>>,
        replace: bool,
    ) -> Result<PlanWrite, StoreError> {
        let written = on_runtime!(self, |pool, begin| {
            let mut tx = pool.begin_with(begin).await?;
            if still_at_revision!(tx, event.id, event.revision, planned_until) {
                if replace {
                    sqlx::query(
                        "DELETE FROM reminders WHERE event_id = $1 AND state = 'pending' AND offset_min >= 0 AND key NOT LIKE '%+snooze%'",
                    )
                    .bind(event.id)
                    .execute(&mut *tx)
                    .await?;
                }
                insert_planned!(tx, &event.space, planned);
                tx.commit().await?;
                PlanWrite::Written
            } else {
                PlanWrite::EventChanged
            }
        });
        if written == PlanWrite::Written {
            self.changed().await?;
        }
        Ok(written)
    }

    /// Up to `limit` events of `platform`'s spaces whose plan ends before `before` (or that
    /// were never planned), with their mark: the ones the scheduler must plan further.
    pub async fn events_to_plan(
        &self,
        platform: Platform,
        before: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<(EventId, Option<DateTime<Utc>>)>, StoreError> {
        let sql = "SELECT id, planned_until FROM events
             WHERE NOT cancelled AND (planned_until IS NULL OR planned_until < $1)
               AND (space = $2 OR space LIKE $3)
             ORDER BY planned_until NULLS FIRST LIMIT $4";
        let rows: Vec<(EventId, Option<String>)> = fetch!(
            self,
            query_as.fetch_all,
            sql,
            ts(before),
            platform,
            platform_pattern(platform),
            limit
        );
        Ok(rows
            .into_iter()
            .map(|(id, until)| (id, until.as_deref().and_then(parse_ts)))
            .collect())
    }

    /// How far an event's reminders are planned (None: never planned).
    pub async fn plan_mark(&self, event_id: EventId) -> Result<Option<DateTime<Utc>>, StoreError> {
        let sql = "SELECT planned_until FROM events WHERE id = $1";
        let row: Option<(Option<String>,)> = fetch!(self, query_as.fetch_optional, sql, event_id);
        Ok(row.and_then(|(t,)| t).as_deref().and_then(parse_ts))
    }

    /// The earliest plan mark among `platform`'s live events (None: nothing to plan).
    pub async fn earliest_plan_mark(
        &self,
        platform: Platform,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let sql =
            "SELECT planned_until FROM events WHERE NOT cancelled AND (space = $1 OR space LIKE $2)
             ORDER BY planned_until NULLS FIRST LIMIT 1";
        let row: Option<(Option<String>,)> = fetch!(
            self,
            query_as.fetch_optional,
            sql,
            platform,
            platform_pattern(platform)
        );
        Ok(match row {
            None => None,
            // Never planned: due for planning now.
            Some((None,)) => Some(DateTime::<Utc>::MIN_UTC),
            Some((Some(t),)) => parse_ts(&t),
        })
    }

    /// When the next pending reminder falls due (an index lookup, whatever the table's size).
    pub async fn next_due(&self, platform: Platform) -> Result<Option<DateTime<Utc>>, StoreError> {
        let sql = "SELECT due_utc FROM reminders WHERE state = 'pending' AND (space = $1 OR space LIKE $2)
             ORDER BY due_utc LIMIT 1";
        let row: Option<(String,)> = fetch!(
            self,
            query_as.fetch_optional,
            sql,
            platform,
            platform_pattern(platform)
        );
        Ok(row.and_then(|(s,)| parse_ts(&s)))
    }

    /// Claims every pending reminder of `platform`'s spaces due by `now`: pending → claimed,
    /// atomically, by `owner` until `lease_until`. Only the claimer sends it; another
    /// scheduler finds nothing left to claim, and takes a claim over only when its lease has
    /// run out or its owner is dead (`reclaim`). Spaces are "<platform>" or
    /// "<platform>:<id>"; each platform's process delivers only its own. On PostgreSQL,
    /// rows another process is claiming right now are passed over, not waited for.
    pub async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: i64,
        platform: Platform,
        owner: &str,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<ReminderRow>, StoreError> {
        let mut rows: Vec<ReminderRow> = on_runtime!(
            self,
            dialect | pool,
            d | sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "UPDATE reminders SET state = 'claimed', claimed_at = $1, attempts = attempts + 1,
                                      claimed_by = $5, lease_until = $6
                 WHERE key IN (SELECT key FROM reminders WHERE state = 'pending' AND due_utc <= $1
                               AND (space = $3 OR space LIKE $4) ORDER BY due_utc LIMIT $2{})
                 RETURNING {REMINDER_COLUMNS}",
                d.skip_locked
            )))
            .bind(ts(now))
            .bind(limit)
            .bind(platform)
            .bind(platform_pattern(platform))
            .bind(owner)
            .bind(ts(lease_until))
            .fetch_all(pool)
            .await?
        );
        rows.sort_by(|a, b| a.due_utc.cmp(&b.due_utc));
        Ok(rows)
    }

    /// Who holds claims in `platform`'s spaces (to find the dead among them).
    pub async fn claim_owners(&self, platform: Platform) -> Result<Vec<String>, StoreError> {
        let sql = "SELECT DISTINCT claimed_by FROM reminders WHERE state = 'claimed'
             AND (space = $1 OR space LIKE $2)";
        let rows: Vec<(Option<String>,)> = fetch!(
            self,
            query_as.fetch_all,
            sql,
            platform,
            platform_pattern(platform)
        );
        Ok(rows.into_iter().filter_map(|(o,)| o).collect())
    }

    /// Takes over claims that nobody is delivering any more — their lease ran out by `now`,
    /// they have no owner (claimed before leases existed), or their owner is in `dead` — for
    /// `owner` until `lease_until`. Atomic: of two processes reclaiming at once, one gets each.
    /// They are sent again with the same key, which the platforms deduplicate.
    pub async fn reclaim(
        &self,
        platform: Platform,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        dead: &[String],
    ) -> Result<Vec<ReminderRow>, StoreError> {
        // Owners are few (one per process); the list is bound, never spliced in.
        let dead_list = if dead.is_empty() {
            "NULL".to_string()
        } else {
            numbered_list(6, dead.len())
        };
        let mut rows: Vec<ReminderRow> = on_runtime!(
            self,
            dialect | pool,
            d | {
                let sql = format!(
                    "UPDATE reminders SET claimed_by = $1, lease_until = $2
                 WHERE key IN (SELECT key FROM reminders
                               WHERE state = 'claimed' AND (space = $3 OR space LIKE $4)
                                 AND (claimed_by IS NULL OR lease_until IS NULL OR lease_until < $5
                                      OR claimed_by IN ({dead_list})){}) 
                 RETURNING {REMINDER_COLUMNS}",
                    d.skip_locked
                );
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(owner)
                    .bind(ts(lease_until))
                    .bind(platform)
                    .bind(platform_pattern(platform))
                    .bind(ts(now));
                for dead_owner in dead {
                    q = q.bind(dead_owner);
                }
                q.fetch_all(pool).await?
            }
        );
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
        let sql =
            "UPDATE reminders SET state = $1, late = $2, error = $3, done_at = $4 WHERE key = $5";
        execute!(self, sql, state, late, error, ts(now), key);
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
                let sql = format!(
                    "UPDATE reminders SET state = 'sent', late = $1, error = NULL, done_at = $2 WHERE key IN ({})",
                    numbered_list(3, chunk.len())
                );
                on_runtime!(self, |pool| {
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                        .bind(late)
                        .bind(ts(now));
                    for k in chunk {
                        q = q.bind(*k);
                    }
                    q.execute(pool).await?.rows_affected()
                });
            }
        }
        Ok(())
    }

    pub async fn reminder_states(
        &self,
        event_id: EventId,
    ) -> Result<Vec<(String, ReminderState)>, StoreError> {
        let sql = "SELECT key, state FROM reminders WHERE event_id = $1 ORDER BY due_utc, key";
        Ok(fetch!(self, query_as.fetch_all, sql, event_id))
    }

    /// The pending snoozes of an event: (key, occurrence).
    pub async fn pending_snoozes(
        &self,
        event_id: EventId,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let sql = "SELECT key, occurrence_utc FROM reminders WHERE event_id = $1 AND state = 'pending' AND key LIKE '%+snooze%'";
        Ok(fetch!(self, query_as.fetch_all, sql, event_id))
    }

    /// One reminder by its key (a button names it).
    pub async fn reminder_by_key(&self, key: &str) -> Result<Option<ReminderRow>, StoreError> {
        let sql = format!("SELECT {REMINDER_COLUMNS} FROM reminders WHERE key = $1");
        Ok(on_runtime!(self, |pool| sqlx::query_as(
            sqlx::AssertSqlSafe(sql.clone())
        )
        .bind(key)
        .fetch_optional(pool)
        .await?))
    }

    /// Removes every personal reminder `user` has for an event (and their pending sends).
    /// Returns how many there were.
    pub async fn unsubscribe_all(
        &self,
        event_id: EventId,
        space: &SpaceId,
        user: &str,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let ids: Vec<i64> = self
            .subscriptions(space, Some(user))
            .await?
            .into_iter()
            .filter(|s| s.event_id == event_id)
            .map(|s| s.id)
            .collect();
        let mut removed = 0;
        for id in ids {
            if self.unsubscribe(id, user, false, now).await? {
                removed += 1;
            }
        }
        Ok(removed)
    }

    pub async fn disable_target(
        &self,
        space: &SpaceId,
        target: &Target,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO disabled_targets (space, target, reason, disabled_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (space, target) DO UPDATE SET reason = excluded.reason, disabled_at = excluded.disabled_at";
        execute!(self, sql, space, target, reason, ts(now));
        Ok(())
    }

    pub async fn enable_target(&self, space: &SpaceId, target: &Target) -> Result<(), StoreError> {
        let sql = "DELETE FROM disabled_targets WHERE space = $1 AND target = $2";
        execute!(self, sql, space, target);
        self.changed().await
    }

    /// The disabled targets of a space, with the reason.
    pub async fn disabled_targets(
        &self,
        space: &SpaceId,
    ) -> Result<std::collections::HashMap<Target, String>, StoreError> {
        let sql = "SELECT target, reason FROM disabled_targets WHERE space = $1";
        let rows: Vec<(Target, String)> = fetch!(self, query_as.fetch_all, sql, space);
        Ok(rows.into_iter().collect())
    }
}

pub(crate) const EVENT_COLUMNS: &str = "id, uid, space, title, description, starts_local, tz, duration_min, place, organiser, topics, actors, inferred, rrule, cancelled, created_by, created_at, updated_at, revision, capacity, hide_names, sync_id";
const REMINDER_COLUMNS: &str =
    "key, event_id, space, occurrence_utc, offset_min, target, due_utc, state, attempts";
