//! Who is coming (RSVP): each person's answer to an event, the event's capacity and its
//! waitlist. An answer is written in one transaction that holds the event's count while it
//! decides (SQLite: the write lock taken first; PostgreSQL: an advisory lock on the event), so
//! that two people answering Going for the last place never both get it, and a place given up
//! goes to the first person waiting, exactly once.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::dialect::{fetch, on_runtime};
use super::events::ts;
use super::types::{EventId, SpaceId};
use super::{Store, StoreError};

/// A person's answer, as they give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Going,
    Maybe,
    Cant,
}

impl Answer {
    pub fn parse(s: &str) -> Option<Answer> {
        match s.trim().to_lowercase().replace('\u{2019}', "'").as_str() {
            "going" | "yes" | "y" | "✅" => Some(Answer::Going),
            "maybe" | "?" | "🤔" => Some(Answer::Maybe),
            "cant" | "can't" | "cannot" | "no" | "n" | "not going" | "❌" => Some(Answer::Cant),
            _ => None,
        }
    }

    fn stored(self) -> &'static str {
        match self {
            Answer::Going => "going",
            Answer::Maybe => "maybe",
            Answer::Cant => "cant",
        }
    }
}

/// Where an answer left the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Going,
    /// On the waitlist, at this place (1 = next in).
    Waiting(i64),
    Maybe,
    Cant,
}

/// What an answer changed: where the person stands, and who moved from the waitlist to
/// Going because of it (each told once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    pub standing: Standing,
    pub promoted: Vec<String>,
}

/// An event's answers, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RsvpCounts {
    pub going: i64,
    pub maybe: i64,
    pub cant: i64,
    pub waiting: i64,
}

/// PostgreSQL: the event's RSVP lock (kind 5: apart from the subscriptions' and follows').
const PG_LOCK: &str = "SELECT pg_advisory_xact_lock(5, hashtext($1))";

/// Going beyond the capacity: the first `n` waiting, in order of arrival.
const FIRST_WAITING: &str = "SELECT user_id FROM rsvps WHERE event_id = $1 AND answer = 'waiting'
                             ORDER BY seq LIMIT $2";

/// Moves the first waiting people into the free places of `$event` (capacity `$capacity`):
/// evaluates to their ids.
macro_rules! promote {
    ($tx:expr, $event:expr, $capacity:expr, $now:expr) => {{
        let going: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM rsvps WHERE event_id = $1 AND answer = 'going'",
        )
        .bind($event)
        .fetch_one(&mut *$tx)
        .await?;
        let free = $capacity.map_or(i64::MAX, |c: i64| (c - going).max(0));
        let mut promoted: Vec<String> = Vec::new();
        if free > 0 {
            promoted = sqlx::query_scalar(FIRST_WAITING)
                .bind($event)
                .bind(free.min(10_000))
                .fetch_all(&mut *$tx)
                .await?;
            for user in &promoted {
                sqlx::query("UPDATE rsvps SET answer = 'going', updated_at = $1 WHERE event_id = $2 AND user_id = $3")
                    .bind(ts($now))
                    .bind($event)
                    .bind(user)
                    .execute(&mut *$tx)
                    .await?;
            }
        }
        promoted
    }};
}

/// Holds `$event`'s answers for the rest of the transaction (PostgreSQL: its advisory lock;
/// SQLite: the write lock the transaction took).
macro_rules! lock_event {
    ($tx:expr, $pg:expr, $event:expr) => {
        if $pg {
            sqlx::query(PG_LOCK)
                .bind($event.0.to_string())
                .execute(&mut *$tx)
                .await?;
        }
    };
}

/// What an answer is decided on, read under the event's lock: (capacity, the person's answer
/// so far, how many are going).
macro_rules! state_of {
    ($tx:expr, $event:expr, $user:expr) => {{
        let capacity: Option<i64> = sqlx::query_scalar("SELECT capacity FROM events WHERE id = $1")
            .bind($event)
            .fetch_one(&mut *$tx)
            .await?;
        let was: Option<String> =
            sqlx::query_scalar("SELECT answer FROM rsvps WHERE event_id = $1 AND user_id = $2")
                .bind($event)
                .bind($user)
                .fetch_optional(&mut *$tx)
                .await?;
        let going: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM rsvps WHERE event_id = $1 AND answer = 'going'",
        )
        .bind($event)
        .fetch_one(&mut *$tx)
        .await?;
        (capacity, was, going)
    }};
}

/// Writes a changed answer at the back of the line (arrival order is the waitlist's order).
macro_rules! write_answer {
    ($tx:expr, $event:expr, $space:expr, $user:expr, $stored:expr, $now:expr) => {{
        let seq: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM rsvps WHERE event_id = $1")
                .bind($event)
                .fetch_one(&mut *$tx)
                .await?;
        sqlx::query(
            "INSERT INTO rsvps (event_id, space, user_id, answer, seq, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (event_id, user_id) DO UPDATE SET answer = $4, seq = $5, updated_at = $6",
        )
        .bind($event)
        .bind($space)
        .bind($user)
        .bind($stored)
        .bind(seq)
        .bind(ts($now))
        .execute(&mut *$tx)
        .await?;
    }};
}

/// Where the person now stands (their place on the waitlist counted from the front).
macro_rules! standing_of {
    ($tx:expr, $event:expr, $user:expr, $stored:expr) => {
        match $stored {
            "going" => Standing::Going,
            "waiting" => {
                let ahead: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM rsvps WHERE event_id = $1 AND answer = 'waiting'
                     AND seq <= (SELECT seq FROM rsvps WHERE event_id = $1 AND user_id = $2)",
                )
                .bind($event)
                .bind($user)
                .fetch_one(&mut *$tx)
                .await?;
                Standing::Waiting(ahead)
            }
            "maybe" => Standing::Maybe,
            _ => Standing::Cant,
        }
    };
}

/// The answer to store: Going within the capacity, else waiting; someone already in (or
/// already waiting) who says Going again stays where they are.
fn decide(answer: Answer, was: Option<&str>, capacity: Option<i64>, going: i64) -> &'static str {
    match (answer, was) {
        (Answer::Going, Some("going")) => "going",
        (Answer::Going, Some("waiting")) => "waiting",
        (Answer::Going, _) if capacity.is_some_and(|c| going >= c) => "waiting",
        (a, _) => a.stored(),
    }
}

impl Store {
    /// Records `user`'s answer to `event`: Going within the capacity, else the waitlist; a
    /// Going (or waiting) person who answers otherwise frees a place for the first waiting.
    pub async fn set_rsvp(
        &self,
        event: EventId,
        space: &SpaceId,
        user: &str,
        answer: Answer,
        now: DateTime<Utc>,
    ) -> Result<Answered, StoreError> {
        let pg = self.pg.is_some();
        let answered = on_runtime!(self, |pool, begin| {
            let mut tx = pool.begin_with(begin).await?;
            lock_event!(tx, pg, event);
            let (capacity, was, going) = state_of!(tx, event, user);
            let stored = decide(answer, was.as_deref(), capacity, going);
            if was.as_deref() != Some(stored) {
                write_answer!(tx, event, space, user, stored, now);
            }
            let promoted = promote!(tx, event, capacity, now);
            let standing = standing_of!(tx, event, user, stored);
            tx.commit().await?;
            Answered { standing, promoted }
        });
        Ok(answered)
    }

    /// Sets an event's capacity (None: no limit) and whether its names are hidden; a larger
    /// capacity lets the first waiting in: their ids.
    pub async fn set_attendance(
        &self,
        event: EventId,
        capacity: Option<i64>,
        hide_names: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        let pg = self.pg.is_some();
        Ok(on_runtime!(self, |pool, begin| {
            let mut tx = pool.begin_with(begin).await?;
            lock_event!(tx, pg, event);
            sqlx::query("UPDATE events SET capacity = $1, hide_names = $2 WHERE id = $3")
                .bind(capacity)
                .bind(hide_names)
                .bind(event)
                .execute(&mut *tx)
                .await?;
            let promoted = promote!(tx, event, capacity, now);
            tx.commit().await?;
            promoted
        }))
    }

    /// Every answer to `event` in order of arrival: (person, answer as stored).
    pub async fn rsvps_of(&self, event: EventId) -> Result<Vec<(String, String)>, StoreError> {
        let sql = "SELECT user_id, answer FROM rsvps WHERE event_id = $1 ORDER BY seq";
        Ok(fetch!(self, query_as.fetch_all, sql, event))
    }

    /// The answers of each of `events`, counted (an event nobody answered is absent).
    pub async fn rsvp_counts(
        &self,
        events: &[EventId],
    ) -> Result<HashMap<EventId, RsvpCounts>, StoreError> {
        if events.is_empty() {
            return Ok(HashMap::new());
        }
        let list = super::dialect::numbered_list(1, events.len());
        let sql = format!(
            "SELECT event_id, answer, COUNT(*) FROM rsvps WHERE event_id IN ({list}) GROUP BY event_id, answer"
        );
        let rows: Vec<(EventId, String, i64)> = on_runtime!(self, |pool| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            for e in events {
                q = q.bind(*e);
            }
            q.fetch_all(pool).await?
        });
        let mut out: HashMap<EventId, RsvpCounts> = HashMap::new();
        for (event, answer, n) in rows {
            let c = out.entry(event).or_default();
            match answer.as_str() {
                "going" => c.going = n,
                "maybe" => c.maybe = n,
                "cant" => c.cant = n,
                _ => c.waiting = n,
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn answers_are_read_in_the_words_people_use() {
        for (said, meant) in [
            ("going", Answer::Going),
            ("Yes", Answer::Going),
            ("✅", Answer::Going),
            ("maybe", Answer::Maybe),
            ("🤔", Answer::Maybe),
            ("cant", Answer::Cant),
            ("Can\u{2019}t", Answer::Cant),
            ("no", Answer::Cant),
        ] {
            assert_eq!(Answer::parse(said), Some(meant), "{said}");
        }
        for said in ["", "nope", "perhaps", "going going"] {
            assert_eq!(Answer::parse(said), None, "{said}");
        }
    }

    #[test]
    fn going_beyond_the_capacity_waits_and_saying_it_again_keeps_ones_place() {
        assert_eq!(decide(Answer::Going, None, Some(2), 1), "going");
        assert_eq!(decide(Answer::Going, None, Some(2), 2), "waiting");
        assert_eq!(decide(Answer::Going, Some("going"), Some(1), 5), "going");
        assert_eq!(
            decide(Answer::Going, Some("waiting"), Some(9), 0),
            "waiting"
        );
        assert_eq!(decide(Answer::Going, Some("maybe"), None, 10_000), "going");
        assert_eq!(decide(Answer::Cant, Some("going"), Some(1), 1), "cant");
    }

    proptest! {
        #[test]
        fn any_answer_text_is_read_or_refused_never_a_panic(text in "\\PC{0,80}") {
            let _ = Answer::parse(&text);
        }
    }
}
