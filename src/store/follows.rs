//! People following topics and actors (`/follow`), which events concern them, and each
//! space's calendar-feed secret. A follow is not copied into subscriptions: the scheduler
//! asks, each time it plans an event, who follows what the event is about
//! (`followers_of_event`), so an event added, retagged or cancelled later is planned for its
//! followers like any other change. SQLite here, PostgreSQL below (`impl PgRuntime`).

use chrono::{DateTime, Utc};

use super::events::{ts, EventRow, EVENT_COLUMNS};
use super::postgres::PgRuntime;
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

/// Whether follow `f` concerns event `e` (SQLite): a topic among the event's topics, an actor
/// as its organiser or among the actors it names. Lists are comma-separated slugs.
const CONCERNS: &str = "((f.kind = 'topic' AND instr(',' || COALESCE(e.topics, '') || ',', ',' || f.slug || ',') > 0)
  OR (f.kind = 'actor' AND (e.organiser = f.slug OR instr(',' || COALESCE(e.actors, '') || ',', ',' || f.slug || ',') > 0)))";

/// The same on PostgreSQL.
const PG_CONCERNS: &str = "((f.kind = 'topic' AND strpos(',' || COALESCE(e.topics, '') || ',', ',' || f.slug || ',') > 0)
  OR (f.kind = 'actor' AND (e.organiser = f.slug OR strpos(',' || COALESCE(e.actors, '') || ',', ',' || f.slug || ',') > 0)))";

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
    /// it concerns (their revisions move, so a plan computed before is not written).
    pub async fn follow(
        &self,
        space: &SpaceId,
        user: &str,
        subject: &Subject,
        now: DateTime<Utc>,
    ) -> Result<Followed, StoreError> {
        if let Some(pg) = &self.pg {
            return pg.follow(space, user, subject, now).await;
        }
        let mut tx = self.write_tx().await?;
        let (mine, followers): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM follows WHERE space = ?1 AND user_id = ?2),
                    (SELECT COUNT(*) FROM follows WHERE space = ?1 AND kind = ?3 AND slug = ?4)",
        )
        .bind(space)
        .bind(user)
        .bind(subject.kind())
        .bind(subject.slug())
        .fetch_one(&mut *tx)
        .await?;
        let inserted = sqlx::query(
            "INSERT OR IGNORE INTO follows (space, user_id, kind, slug, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(space)
        .bind(user)
        .bind(subject.kind())
        .bind(subject.slug())
        .bind(ts(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(Followed::Already);
        }
        if mine >= MAX_FOLLOWS_PER_PERSON {
            return Ok(Followed::TooManyOfYours);
        }
        if followers >= MAX_FOLLOWERS_PER_SUBJECT {
            return Ok(Followed::TooManyFollowers);
        }
        tx.commit().await?;
        Ok(Followed::New)
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
        let deleted = super::claims::on_runtime!(self, |pool| sqlx::query(sql)
            .bind(space)
            .bind(user)
            .bind(subject.kind())
            .bind(subject.slug())
            .execute(pool)
            .await?
            .rows_affected());
        Ok(deleted == 1)
    }

    /// What `user` follows in `space`, in the order they followed it.
    pub async fn follows(&self, space: &SpaceId, user: &str) -> Result<Vec<Subject>, StoreError> {
        if let Some(pg) = &self.pg {
            return pg.follows(space, user).await;
        }
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT kind, slug FROM follows WHERE space = ? AND user_id = ? ORDER BY id",
        )
        .bind(space)
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(k, s)| subject_of(k, s))
            .collect())
    }

    /// The people owed a follower's reminder for an event: they follow something it is about,
    /// have no personal reminder of their own for it (theirs wins) and have not stopped its
    /// reminders. At most `MAX_FOLLOWERS_PER_SUBJECT` per subject, by construction.
    pub async fn followers_of_event(&self, event_id: EventId) -> Result<Vec<String>, StoreError> {
        if let Some(pg) = &self.pg {
            return pg.followers_of_event(event_id).await;
        }
        let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT DISTINCT f.user_id FROM events e JOIN follows f ON f.space = e.space
              WHERE e.id = ?1 AND e.cancelled = 0 AND {CONCERNS}
                AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.event_id = e.id AND s.user_id = f.user_id)
                AND NOT EXISTS (SELECT 1 FROM follow_muted m WHERE m.event_id = e.id AND m.user_id = f.user_id)
              ORDER BY f.user_id"
        )))
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(u,)| u).collect())
    }

    /// A follower's "stop reminding me" for one event: true when they followed something it is
    /// about (and now get no follower's reminders for it).
    pub async fn mute_follow(&self, event_id: EventId, user: &str) -> Result<bool, StoreError> {
        if let Some(pg) = &self.pg {
            return pg.mute_follow(event_id, user).await;
        }
        let mut tx = self.write_tx().await?;
        let muted = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT OR IGNORE INTO follow_muted (event_id, user_id)
             SELECT ?1, ?2 WHERE EXISTS (
                SELECT 1 FROM events e JOIN follows f ON f.space = e.space
                 WHERE e.id = ?1 AND f.user_id = ?2 AND {CONCERNS})"
        )))
        .bind(event_id)
        .bind(user)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if muted == 0 {
            return Ok(false);
        }
        sqlx::query("UPDATE events SET revision = revision + 1 WHERE id = ?")
            .bind(event_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Adds one-off notices to the reminder ledger (a new event, to its followers): sent by
    /// the scheduler like reminders, exactly once; a key seen before is never added again.
    pub async fn add_notes(&self, space: &SpaceId, notes: &[Planned]) -> Result<(), StoreError> {
        // On PostgreSQL the other processes hear of it at commit (`NOTIFY`); on SQLite they
        // see the file change, and this process is told below.
        let notify = self.pg.is_some();
        super::claims::on_runtime!(self, |pool, begin| {
            let mut tx = pool.begin_with(begin).await?;
            super::claims::insert_pending!(tx, space, notes);
            if notify {
                sqlx::query("SELECT pg_notify($1, '')")
                    .bind(super::postgres::CHANGES)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        if !notify {
            self.announce();
        }
        Ok(())
    }

    /// The secret of a space's calendar feed, if it has one.
    pub async fn feed_secret(&self, space: &SpaceId) -> Result<Option<String>, StoreError> {
        if let Some(pg) = &self.pg {
            return pg.feed_secret(space).await;
        }
        let row: Option<(String,)> = sqlx::query_as("SELECT secret FROM feeds WHERE space = ?")
            .bind(space)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(s,)| s))
    }

    /// Gives a space's feed a new secret (the old link stops working), or its first one.
    pub async fn set_feed_secret(
        &self,
        space: &SpaceId,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if let Some(pg) = &self.pg {
            return pg.set_feed_secret(space, secret, now).await;
        }
        sqlx::query("INSERT INTO feeds (space, secret, created_at) VALUES (?, ?, ?) ON CONFLICT (space) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at")
            .bind(space)
            .bind(secret)
            .bind(ts(now))
            .execute(&self.pool)
            .await?;
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
        if let Some(pg) = &self.pg {
            pg.first_feed_secret(space, secret, now).await?;
        } else {
            sqlx::query("INSERT OR IGNORE INTO feeds (space, secret, created_at) VALUES (?, ?, ?)")
                .bind(space)
                .bind(secret)
                .bind(ts(now))
                .execute(&self.pool)
                .await?;
        }
        self.feed_secret(space)
            .await?
            .ok_or_else(|| StoreError::Sql(sqlx::Error::RowNotFound))
    }

    /// The space whose feed has this secret.
    pub async fn feed_space(&self, secret: &str) -> Result<Option<SpaceId>, StoreError> {
        if let Some(pg) = &self.pg {
            return pg.feed_space(secret).await;
        }
        let row: Option<(SpaceId,)> = sqlx::query_as("SELECT space FROM feeds WHERE secret = ?")
            .bind(secret)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(s,)| s))
    }

    /// The cancelled occurrences of every event of a space, by event (one query for a feed).
    pub async fn exdates_of_space(
        &self,
        space: &SpaceId,
    ) -> Result<std::collections::HashMap<EventId, Vec<DateTime<Utc>>>, StoreError> {
        let rows: Vec<(EventId, String)> = match &self.pg {
            Some(pg) => {
                sqlx::query_as("SELECT x.event_id, x.occurrence_utc FROM event_exdates x JOIN events e ON e.id = x.event_id WHERE e.space = $1")
                    .bind(space)
                    .fetch_all(&pg.pool)
                    .await?
            }
            None => {
                sqlx::query_as("SELECT x.event_id, x.occurrence_utc FROM event_exdates x JOIN events e ON e.id = x.event_id WHERE e.space = ?")
                    .bind(space)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
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
        let (n, last, revisions): (i64, Option<String>, Option<i64>) = match &self.pg {
            Some(pg) => sqlx::query_as("SELECT COUNT(*), MAX(updated_at), SUM(revision)::BIGINT FROM events WHERE space = $1 AND (NOT cancelled OR updated_at >= $2)")
                .bind(space)
                .bind(&since)
                .fetch_one(&pg.pool)
                .await?,
            None => sqlx::query_as("SELECT COUNT(*), MAX(updated_at), SUM(revision) FROM events WHERE space = ? AND (cancelled = 0 OR updated_at >= ?)")
                .bind(space)
                .bind(&since)
                .fetch_one(&self.pool)
                .await?,
        };
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
        if let Some(pg) = &self.pg {
            return pg.feed_events(space, &since).await;
        }
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE space = ? AND (cancelled = 0 OR updated_at >= ?)
             ORDER BY cancelled, id LIMIT {FEED_MAX}"
        )))
        .bind(space)
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }
}

impl PgRuntime {
    pub async fn follow(
        &self,
        space: &SpaceId,
        user: &str,
        subject: &Subject,
        now: DateTime<Utc>,
    ) -> Result<Followed, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Both caps are counted under locks, so that follows at once cannot pass either: one
        // on the person (their follows), then one on the subject (its followers) — always in
        // that order, so two transactions never wait on each other in a circle. (Two keys per
        // lock: the first says which kind of lock, so a person and a subject never collide.)
        sqlx::query("SELECT pg_advisory_xact_lock(1, hashtext($1 || ':' || $2))")
            .bind(space)
            .bind(user)
            .execute(&mut *tx)
            .await?;
        sqlx::query("SELECT pg_advisory_xact_lock(2, hashtext($1 || ':' || $2 || ':' || $3))")
            .bind(space)
            .bind(subject.kind())
            .bind(subject.slug())
            .execute(&mut *tx)
            .await?;
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
        if inserted == 0 {
            return Ok(Followed::Already);
        }
        if mine >= MAX_FOLLOWS_PER_PERSON {
            return Ok(Followed::TooManyOfYours);
        }
        if followers >= MAX_FOLLOWERS_PER_SUBJECT {
            return Ok(Followed::TooManyFollowers);
        }
        tx.commit().await?;
        Ok(Followed::New)
    }

    pub async fn follows(&self, space: &SpaceId, user: &str) -> Result<Vec<Subject>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT kind, slug FROM follows WHERE space = $1 AND user_id = $2 ORDER BY id",
        )
        .bind(space)
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(k, s)| subject_of(k, s))
            .collect())
    }

    pub async fn followers_of_event(&self, event_id: EventId) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT DISTINCT f.user_id FROM events e JOIN follows f ON f.space = e.space
              WHERE e.id = $1 AND NOT e.cancelled AND {PG_CONCERNS}
                AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.event_id = e.id AND s.user_id = f.user_id)
                AND NOT EXISTS (SELECT 1 FROM follow_muted m WHERE m.event_id = e.id AND m.user_id = f.user_id)
              ORDER BY f.user_id"
        )))
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(u,)| u).collect())
    }

    pub async fn mute_follow(&self, event_id: EventId, user: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let muted = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO follow_muted (event_id, user_id)
             SELECT $1, $2 WHERE EXISTS (
                SELECT 1 FROM events e JOIN follows f ON f.space = e.space
                 WHERE e.id = $1 AND f.user_id = $2 AND {PG_CONCERNS})
             ON CONFLICT DO NOTHING"
        )))
        .bind(event_id)
        .bind(user)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if muted == 0 {
            return Ok(false);
        }
        sqlx::query("UPDATE events SET revision = revision + 1 WHERE id = $1")
            .bind(event_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn feed_secret(&self, space: &SpaceId) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT secret FROM feeds WHERE space = $1")
            .bind(space)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(s,)| s))
    }

    pub async fn set_feed_secret(
        &self,
        space: &SpaceId,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO feeds (space, secret, created_at) VALUES ($1, $2, $3) ON CONFLICT (space) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at")
            .bind(space)
            .bind(secret)
            .bind(ts(now))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn first_feed_secret(
        &self,
        space: &SpaceId,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO feeds (space, secret, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(space)
            .bind(secret)
            .bind(ts(now))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn feed_space(&self, secret: &str) -> Result<Option<SpaceId>, StoreError> {
        let row: Option<(SpaceId,)> = sqlx::query_as("SELECT space FROM feeds WHERE secret = $1")
            .bind(secret)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(s,)| s))
    }

    pub async fn feed_events(
        &self,
        space: &SpaceId,
        since: &str,
    ) -> Result<Vec<EventRow>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM events WHERE space = $1 AND (NOT cancelled OR updated_at >= $2)
             ORDER BY cancelled, id LIMIT {FEED_MAX}",
            super::postgres::EVENT_COLUMNS
        )))
        .bind(space)
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }
}
