//! Personal reminders (`/remind me`) added within their caps, in one transaction that holds
//! the caps under any interleaving: the counts are read and the rows written while no other
//! subscription to the same event or by the same person can be — on SQLite by taking the
//! write lock first (`BEGIN IMMEDIATE`), on PostgreSQL by two advisory locks, always taken in
//! the same order. Written once for both databases (`dialect::on_runtime`).

use chrono::{DateTime, Utc};

use super::dialect::on_runtime;
use super::events::{ts, SubscriptionCounts};
use super::types::{EventId, SpaceId};
use super::{Store, StoreError};

/// The caps of personal reminders.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    pub per_person_and_event: i64,
    pub per_person_in_space: i64,
    pub per_event: i64,
}

/// Which cap a subscription would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cap {
    PersonAndEvent,
    PersonInSpace,
    Event,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscribed {
    /// The subscriptions' numbers, one per offset asked for (an existing one kept its own).
    Added(Vec<i64>),
    /// Nothing written: `Cap` would be passed; the counts as they stood.
    TooMany(Cap, SubscriptionCounts),
}

/// PostgreSQL: the event's lock, then the person's (two keys: the first names the kind of lock,
/// so that they never collide with each other or with the follows' locks).
const PG_LOCKS: [&str; 2] = [
    "SELECT pg_advisory_xact_lock(3, hashtext($1))",
    "SELECT pg_advisory_xact_lock(4, hashtext($1))",
];

const COUNTS: &str = "SELECT
    (SELECT COUNT(*) FROM subscriptions WHERE event_id = $1 AND user_id = $3),
    (SELECT COUNT(*) FROM subscriptions WHERE event_id = $1),
    (SELECT COUNT(*) FROM subscriptions s JOIN events e ON e.id = s.event_id
      WHERE s.space = $2 AND s.user_id = $3 AND NOT e.cancelled)";

/// One subscription per offset; an offset already subscribed keeps its row.
const INSERT: &str = "INSERT INTO subscriptions (event_id, space, user_id, offset_min, created_at)
                      VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";

/// The number of the subscription for an offset, new or kept.
const ID_OF: &str =
    "SELECT id FROM subscriptions WHERE event_id = $1 AND user_id = $2 AND offset_min = $3";

impl Store {
    /// Subscribes `user` to `event` once per offset in `offsets`, unless that would pass a cap
    /// of `caps`; the event's revision moves (its plan is stale; the caller plans the new
    /// ones). Offsets already subscribed count once.
    pub async fn subscribe_within(
        &self,
        event: EventId,
        space: &SpaceId,
        user: &str,
        offsets: &[i64],
        caps: Caps,
        now: DateTime<Utc>,
    ) -> Result<Subscribed, StoreError> {
        let locks: &[&str] = if self.pg.is_some() { &PG_LOCKS } else { &[] };
        let keys = [event.0.to_string(), format!("{space}:{user}")];
        let adding = offsets.len() as i64;
        let outcome = on_runtime!(self, |pool, begin| {
            let mut tx = pool.begin_with(begin).await?;
            for (lock, key) in locks.iter().zip(&keys) {
                sqlx::query(*lock).bind(key).execute(&mut *tx).await?;
            }
            let (mine_on_event, all_on_event, mine_in_space): (i64, i64, i64) =
                sqlx::query_as(COUNTS)
                    .bind(event)
                    .bind(space)
                    .bind(user)
                    .fetch_one(&mut *tx)
                    .await?;
            let counts = SubscriptionCounts {
                mine_on_event,
                all_on_event,
                mine_in_space,
            };
            if let Some(cap) = passed(&counts, adding, caps) {
                Subscribed::TooMany(cap, counts)
            } else {
                sqlx::query("UPDATE events SET revision = revision + 1 WHERE id = $1")
                    .bind(event)
                    .execute(&mut *tx)
                    .await?;
                let mut ids = Vec::with_capacity(offsets.len());
                for offset in offsets {
                    sqlx::query(INSERT)
                        .bind(event)
                        .bind(space)
                        .bind(user)
                        .bind(offset)
                        .bind(ts(now))
                        .execute(&mut *tx)
                        .await?;
                    let (id,): (i64,) = sqlx::query_as(ID_OF)
                        .bind(event)
                        .bind(user)
                        .bind(offset)
                        .fetch_one(&mut *tx)
                        .await?;
                    ids.push(id);
                }
                tx.commit().await?;
                Subscribed::Added(ids)
            }
        });
        Ok(outcome)
    }
}

/// The first cap that `adding` more subscriptions would pass, if any.
fn passed(c: &SubscriptionCounts, adding: i64, caps: Caps) -> Option<Cap> {
    if c.mine_on_event + adding > caps.per_person_and_event {
        Some(Cap::PersonAndEvent)
    } else if c.mine_in_space + adding > caps.per_person_in_space {
        Some(Cap::PersonInSpace)
    } else if c.all_on_event + adding > caps.per_event {
        Some(Cap::Event)
    } else {
        None
    }
}
