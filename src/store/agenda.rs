//! Agenda posts (`/settings agenda`): which spaces post one, and each period's post claimed,
//! fenced and recorded as a reminder is — one row per (space, period), so that the post goes
//! out once however many processes run and however often they restart.

use chrono::{DateTime, Utc};

use super::dialect::{execute, fetch};
use super::events::{platform_pattern, ts};
use super::{Platform, SpaceId, Store, StoreError};

/// How a period's post ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgendaState {
    Sent,
    /// Nothing on in the period: nothing was posted.
    Empty,
    /// The space's channel is gone: not posted, not tried again.
    Failed,
}

impl Store {
    /// The spaces of `platform` that post an agenda: (space, schedule as stored, time zone).
    pub async fn agendas(
        &self,
        platform: Platform,
    ) -> Result<Vec<(SpaceId, String, String)>, StoreError> {
        let sql = "SELECT id, agenda, timezone FROM spaces
                   WHERE agenda IS NOT NULL AND (id = $1 OR id LIKE $2) ORDER BY id";
        Ok(fetch!(
            self,
            query_as.fetch_all,
            sql,
            platform,
            platform_pattern(platform)
        ))
    }

    /// Takes the post `key` (due at `due`) for `owner` until `lease_until`: true when it is
    /// theirs to send — new, or claimed by a process whose lease ran out. `now` is the lease
    /// clock's.
    pub async fn claim_agenda(
        &self,
        key: &str,
        space: &SpaceId,
        due: DateTime<Utc>,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let insert =
            "INSERT INTO agenda_posts (key, space, due_utc, state, claimed_by, lease_until)
                      VALUES ($1, $2, $3, 'claimed', $4, $5) ON CONFLICT (key) DO NOTHING";
        if execute!(self, insert, key, space, ts(due), owner, ts(lease_until)) == 1 {
            return Ok(true);
        }
        let take_over = "UPDATE agenda_posts SET claimed_by = $1, lease_until = $2
                         WHERE key = $3 AND state = 'claimed' AND lease_until < $4";
        Ok(execute!(self, take_over, owner, ts(lease_until), key, ts(now)) == 1)
    }

    /// The fence before sending: true while `owner` still holds `key` (its lease extended to
    /// `lease_until`).
    pub async fn still_holds_agenda(
        &self,
        key: &str,
        owner: &str,
        lease_until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE agenda_posts SET lease_until = $1
                   WHERE key = $2 AND state = 'claimed' AND claimed_by = $3";
        Ok(execute!(self, sql, ts(lease_until), key, owner) == 1)
    }

    /// Records how `owner`'s post ended (nothing happens to a post it no longer holds).
    pub async fn finish_agenda(
        &self,
        key: &str,
        owner: &str,
        state: AgendaState,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let state = match state {
            AgendaState::Sent => "sent",
            AgendaState::Empty => "empty",
            AgendaState::Failed => "failed",
        };
        let sql = "UPDATE agenda_posts SET state = $1, done_at = $2
                   WHERE key = $3 AND state = 'claimed' AND claimed_by = $4";
        Ok(execute!(self, sql, state, ts(now), key, owner) == 1)
    }

    /// Gives a post back after a failed send: the next pass tries again.
    pub async fn release_agenda(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        let sql =
            "DELETE FROM agenda_posts WHERE key = $1 AND state = 'claimed' AND claimed_by = $2";
        execute!(self, sql, key, owner);
        Ok(())
    }

    /// How each post of `space` ended, oldest first: (key, state).
    pub async fn agenda_posts(&self, space: &SpaceId) -> Result<Vec<(String, String)>, StoreError> {
        let sql = "SELECT key, state FROM agenda_posts WHERE space = $1 ORDER BY due_utc";
        Ok(fetch!(self, query_as.fetch_all, sql, space))
    }
}
