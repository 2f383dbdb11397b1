//! People following topics and actors (`/follow`), which events concern them, and each
//! space's calendar-feed secret. A follow is not copied into subscriptions: the scheduler
//! asks, each time it plans an event, who follows what the event is about
//! (`followers_of_event`), so an event added, retagged or cancelled later is planned for its
//! followers like any other change. Written once for both databases (`dialect::on_runtime!`).

use chrono::{DateTime, Utc};

use super::dialect::{execute, fetch, on_runtime};
use super::events::{ts, EventRow, EVENT_COLUMNS};
use super::types::{EventId, SpaceId, Subject};
use super::{Store, StoreError};
use crate::events::Planned;

/// Most subjects one person follows in a space, and most followers one subject has there:
/// together they bound the reminders one event can owe its followers.
pub const MAX_FOLLOWS_PER_PERSON: i64 = 25;
pub const MAX_FOLLOWERS_PER_SUBJECT: i64 = 500;

/// What came of a follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Followed {
    /// Now followed. Nothing else changes: the events it concerns owe their followers one
    /// stand-in reminder per occurrence (`Target::Followers`), whoever they are when it falls due.
    New,
    Already,
    /// The person follows `MAX_FOLLOWS_PER_PERSON` subjects in the space already.
    TooManyOfYours,
    /// The subject has `MAX_FOLLOWERS_PER_SUBJECT` followers in the space already.
    TooManyFollowers,
}

/// Whether follow `f` concerns event `e`: a topic among the event's topics, an actor as its
/// organiser or among the actors it names. Lists are comma-separated slugs; `{find}` is the
/// database's position-of-substring function (`Dialect::find`).
fn concerns(find: &str) -> String {
    format!(
        "((f.kind = 'topic' AND {find}(',' || COALESCE(e.topics, '') || ',', ',' || f.slug || ',') > 0)
  OR (f.kind = 'actor' AND (e.organiser = f.slug OR {find}(',' || COALESCE(e.actors, '') || ',', ',' || f.slug || ',') > 0)))"
    )
}

/// A cancelled event stays in the feed this long, marked cancelled, so that subscribed
/// calendars drop it rather than keep a stale copy.
pub const CANCELLED_KEPT_DAYS: i64 = 30;
/// Most events one feed carries: a space's live events (at most 200) first, then as many
/// recently cancelled ones as fit.
pub const FEED_MAX: i64 = 1000;

fn subject_of(kind: String, slug: String) -> Option<Subject> {
    Subject::from_parts(&kind, slug)
}

impl Store {
    /// Follows `subject` for `user` in `space`, and counts the change against every live event
    /// it concerns (their revisions move, so a plan computed before is not written). Both caps
    /// are counted in the transaction that writes: on SQLite it holds the write lock; on
    /// PostgreSQL a lock on the person (their follows), then one on the subject (its
    /// followers) — always in that order, so two transactions never wait on each other in a
    /// circle. (Two keys per lock: the first says which kind, so a person and a subject never
    /// collide.)
    pub async fn follow(
        &self,
        space: &SpaceId,
        user: &str,
        subject: &Subject,
        now: DateTime<Utc>,
    ) -> Result<Followed, StoreError> {
        let lock_keys = self.pg.is_some();
        let followed = on_runtime!(self, |pool, begin| {
            let mut tx = pool.begin_with(begin).await?;
            if lock_keys {
                sqlx::query("SELECT pg_advisory_xact_lock(1, hashtext($1 || ':' || $2))")
                    .bind(space)
                    .bind(user)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "SELECT pg_advisory_xact_lock(2, hashtext($1 || ':' || $2 || ':' || $3))",
                )
                .bind(space)
                .bind(subject.kind())
                .bind(subject.slug())
                .execute(&mut *tx)
                .await?;
            }
            let (mine, followers): (i64, i64) = sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM follows WHERE space = $1 AND user_id = $2),
                        (SELECT COUNT(*) FROM follows WHERE space = $1 AND kind = $3 AND slug = $4)",
            )
            .bind(space)
            .bind(user)
            .bind(subject.kind())
            .bind(subject.slug())
            .fetch_one(&mut *tx)
            .await?;
            let inserted = sqlx::query(
                "INSERT INTO follows (space, user_id, kind, slug, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(space)
            .bind(user)
            .bind(subject.kind())
            .bind(subject.slug())
            .bind(ts(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            // Dropping the transaction undoes the insert when a cap says no.
            if inserted == 0 {
                Followed::Already
            } else if mine >= MAX_FOLLOWS_PER_PERSON {
                Followed::TooManyOfYours
            } else if followers >= MAX_FOLLOWERS_PER_SUBJECT {
                Followed::TooManyFollowers
            } else {
                tx.commit().await?;
                Followed::New
            }
        });
        Ok(followed)
    }

    /// Stops following: one row, whatever the events it concerns (their followers' reminders
    /// go to whoever follows when they fall due). False when `user` did not follow `subject`.
    pub async fn unfollow(
        &self,
        space: &SpaceId,
        user: &str,
        subject: &Subject,
    ) -> Result<bool, StoreError> {
        let sql =
            "DELETE FROM follows WHERE space = $1 AND user_id = $2 AND kind = $3 AND slug = $4";
        let deleted = execute!(self, sql, space, user, subject.kind(), subject.slug());
        Ok(deleted == 1)
    }

    /// What `user` follows in `space`, in the order they followed it.
    pub async fn follows(&self, space: &SpaceId, user: &str) -> Result<Vec<Subject>, StoreError> {
        let sql = "SELECT kind, slug FROM follows WHERE space = $1 AND user_id = $2 ORDER BY id";
        let rows: Vec<(String, String)> = fetch!(self, query_as.fetch_all, sql, space, user);
        Ok(rows
            .into_iter()
            .filter_map(|(k, s)| subject_of(k, s))
            .collect())
    }

    /// The people owed a follower's reminder for an event: they follow something it is about,
    /// have no personal reminder of their own for it (theirs wins) and have not stopped its
    /// reminders. At most `MAX_FOLLOWERS_PER_SUBJECT` per subject, by construction.
    pub async fn followers_of_event(&self, event_id: EventId) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = on_runtime!(self, dialect |pool, d| sqlx::query_as(
            sqlx::AssertSqlSafe(format!(
                "SELECT DISTINCT f.user_id FROM events e JOIN follows f ON f.space = e.space
                  WHERE e.id = $1 AND NOT e.cancelled AND {}
                    AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.event_id = e.id AND s.user_id = f.user_id)
                    AND NOT EXISTS (SELECT 1 FROM follow_muted m WHERE m.event_id = e.id AND m.user_id = f.user_id)
                  ORDER BY f.user_id",
                concerns(d.find)
            ))
        )
        .bind(event_id)
        .fetch_all(pool)
        .await?);
        Ok(rows.into_iter().map(|(u,)| u).collect())
    }

    /// A follower's "stop reminding me" for one event: true when they followed something it is
    /// about (and now get no follower's reminders for it).
    pub async fn mute_follow(&self, event_id: EventId, user: &str) -> Result<bool, StoreError> {
        let muted = on_runtime!(
            self,
            dialect | pool,
            d | {
                let mut tx = pool.begin_with(d.begin).await?;
                let muted = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO follow_muted (event_id, user_id)
                 SELECT $1, $2 WHERE EXISTS (
                    SELECT 1 FROM events e JOIN follows f ON f.space = e.space
                     WHERE e.id = $1 AND f.user_id = $2 AND {})
                 ON CONFLICT DO NOTHING",
                    concerns(d.find)
                )))
                .bind(event_id)
                .bind(user)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if muted > 0 {
                    sqlx::query("UPDATE events SET revision = revision + 1 WHERE id = $1")
                        .bind(event_id)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                }
                muted > 0
            }
        );
        Ok(muted)
    }

    /// Adds one-off notices to the reminder ledger (a new event, to its followers): sent by
    /// the scheduler like reminders, exactly once; a key seen before is never added again.
    pub async fn add_notes(&self, space: &SpaceId, notes: &[Planned]) -> Result<(), StoreError> {
        on_runtime!(self, |pool, begin| {
            let mut tx = pool.begin_with(begin).await?;
            super::claims::insert_pending!(tx, space, notes);
            tx.commit().await?;
        });
        self.changed().await
    }

    /// The secret of a space's calendar feed, if it has one.
    pub async fn feed_secret(&self, space: &SpaceId) -> Result<Option<String>, StoreError> {
        let sql = "SELECT secret FROM feeds WHERE space = $1";
        Ok(fetch!(self, query_scalar.fetch_optional, sql, space))
    }

    /// Gives a space's feed a new secret (the old link stops working), or its first one.
    pub async fn set_feed_secret(
        &self,
        space: &SpaceId,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO feeds (space, secret, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (space) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at";
        execute!(self, sql, space, secret, ts(now));
        Ok(())
    }

    /// Gives a space's feed `secret` unless it has one already (two people asking at once
    /// get the same link); then the secret it has.
    pub async fn first_feed_secret(
        &self,
        space: &SpaceId,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let sql = "INSERT INTO feeds (space, secret, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
        execute!(self, sql, space, secret, ts(now));
        self.feed_secret(space)
            .await?
            .ok_or_else(|| StoreError::Sql(sqlx::Error::RowNotFound))
    }

    /// The space whose feed has this secret.
    pub async fn feed_space(&self, secret: &str) -> Result<Option<SpaceId>, StoreError> {
        let sql = "SELECT space FROM feeds WHERE secret = $1";
        let row: Option<(SpaceId,)> = fetch!(self, query_as.fetch_optional, sql, secret);
        Ok(row.map(|(s,)| s))
    }

    /// The cancelled occurrences of every event of a space, by event (one query for a feed).
    pub async fn exdates_of_space(
        &self,
        space: &SpaceId,
    ) -> Result<std::collections::HashMap<EventId, Vec<DateTime<Utc>>>, StoreError> {
        let sql = "SELECT x.event_id, x.occurrence_utc FROM event_exdates x JOIN events e ON e.id = x.event_id WHERE e.space = $1";
        let rows: Vec<(EventId, String)> = fetch!(self, query_as.fetch_all, sql, space);
        let mut out: std::collections::HashMap<EventId, Vec<DateTime<Utc>>> = Default::default();
        for (id, at) in rows {
            if let Some(at) = super::events::parse_ts(&at) {
                out.entry(id).or_default().push(at);
            }
        }
        Ok(out)
    }

    /// What a space's feed is made of, in one value that changes whenever the feed would:
    /// how many events it shows, their last change and their revisions (a cancelled
    /// occurrence moves both). A feed rendered for one version is the feed while it holds.
    pub async fn feed_version(
        &self,
        space: &SpaceId,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let since = ts(now - chrono::Duration::days(CANCELLED_KEPT_DAYS));
        let sql = "SELECT COUNT(*), MAX(updated_at), CAST(SUM(revision) AS BIGINT) FROM events
             WHERE space = $1 AND (NOT cancelled OR updated_at >= $2)";
        let (n, last, revisions): (i64, Option<String>, Option<i64>) =
            fetch!(self, query_as.fetch_one, sql, space, &since);
        Ok(format!(
            "{n}/{}/{}",
            last.unwrap_or_default(),
            revisions.unwrap_or_default()
        ))
    }

    /// A space's events as its feed shows them: the live ones, and those cancelled within
    /// `CANCELLED_KEPT_DAYS` (marked cancelled).
    pub async fn feed_events(
        &self,
        space: &SpaceId,
        now: DateTime<Utc>,
    ) -> Result<Vec<EventRow>, StoreError> {
        let since = ts(now - chrono::Duration::days(CANCELLED_KEPT_DAYS));
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE space = $1 AND (NOT cancelled OR updated_at >= $2)
             ORDER BY cancelled, id LIMIT {FEED_MAX}"
        );
        Ok(on_runtime!(self, |pool| sqlx::query_as(
            sqlx::AssertSqlSafe(sql.clone())
        )
        .bind(space)
        .bind(&since)
        .fetch_all(pool)
        .await?))
    }
}
