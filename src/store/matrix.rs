//! The Matrix adapter's state: its device, its sync position, the rooms it has joined and the
//! direct rooms it opened. Keyed by the bot's user id, so one database can serve two accounts.
//! Written once for both databases (`dialect::on_runtime!`).

use chrono::{DateTime, Utc};

use super::dialect::{execute, fetch, on_runtime};
use super::events::ts;
use super::types::EventId;
use super::{Store, StoreError};

row! {
/// What the adapter remembers of its account between runs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MatrixAccount {
    pub device_id: Option<String>,
    pub next_batch: Option<String>,
}
}

impl Store {
    pub async fn matrix_account(&self, user: &str) -> Result<MatrixAccount, StoreError> {
        let sql = "SELECT device_id, next_batch FROM matrix_accounts WHERE user_id = $1";
        let row: Option<MatrixAccount> = fetch!(self, query_as.fetch_optional, sql, user);
        Ok(row.unwrap_or_default())
    }

    pub async fn set_matrix_device(
        &self,
        user: &str,
        device: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO matrix_accounts (user_id, device_id, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (user_id) DO UPDATE SET device_id = excluded.device_id, updated_at = excluded.updated_at";
        execute!(self, sql, user, device, ts(now));
        Ok(())
    }

    /// Records the sync position once a batch is fully handled.
    pub async fn set_matrix_next_batch(
        &self,
        user: &str,
        next_batch: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO matrix_accounts (user_id, next_batch, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (user_id) DO UPDATE SET next_batch = excluded.next_batch, updated_at = excluded.updated_at";
        execute!(self, sql, user, next_batch, ts(now));
        Ok(())
    }

    /// Records a joined room; false if it was already known.
    pub async fn add_matrix_room(
        &self,
        user: &str,
        room: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let sql = "INSERT INTO matrix_rooms (user_id, room_id, joined_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
        let added = execute!(self, sql, user, room, ts(now));
        Ok(added == 1)
    }

    pub async fn matrix_rooms(&self, user: &str) -> Result<Vec<String>, StoreError> {
        let sql = "SELECT room_id FROM matrix_rooms WHERE user_id = $1 ORDER BY room_id";
        Ok(fetch!(self, query_scalar.fetch_all, sql, user))
    }

    pub async fn remove_matrix_room(&self, user: &str, room: &str) -> Result<(), StoreError> {
        let sql = "DELETE FROM matrix_rooms WHERE user_id = $1 AND room_id = $2";
        execute!(self, sql, user, room);
        Ok(())
    }

    /// Remembers what a 👍 reaction meant (person, event), for when it is redacted.
    pub async fn add_matrix_reaction(
        &self,
        user: &str,
        reaction: &str,
        person: &str,
        event: EventId,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO matrix_reactions (user_id, reaction_id, person, event_id)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
        execute!(self, sql, user, reaction, person, event.0);
        Ok(())
    }

    /// What a redacted reaction meant, forgotten as it is read (a redaction counts once).
    pub async fn take_matrix_reaction(
        &self,
        user: &str,
        reaction: &str,
    ) -> Result<Option<(String, EventId)>, StoreError> {
        let sql = "DELETE FROM matrix_reactions WHERE user_id = $1 AND reaction_id = $2
             RETURNING person, event_id";
        let row: Option<(String, i64)> = fetch!(self, query_as.fetch_optional, sql, user, reaction);
        Ok(row.map(|(p, e)| (p, EventId(e))))
    }

    /// True the first time a message from `sender` in Megolm session `session` could not be
    /// decrypted: the one time it is explained.
    pub async fn claim_undecryptable_notice(
        &self,
        user: &str,
        sender: &str,
        session: &str,
    ) -> Result<bool, StoreError> {
        let sql = "INSERT INTO matrix_undecryptable_notices (user_id, sender, session_id)
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
        let added = execute!(self, sql, user, sender, session);
        Ok(added == 1)
    }

    pub async fn matrix_direct_room(
        &self,
        user: &str,
        person: &str,
    ) -> Result<Option<String>, StoreError> {
        let sql = "SELECT room_id FROM matrix_direct_rooms WHERE user_id = $1 AND person = $2";
        Ok(fetch!(self, query_scalar.fetch_optional, sql, user, person))
    }

    /// The person whose direct room this is, if it is one the bot opened.
    pub async fn matrix_direct_person(
        &self,
        user: &str,
        room: &str,
    ) -> Result<Option<String>, StoreError> {
        let sql = "SELECT person FROM matrix_direct_rooms WHERE user_id = $1 AND room_id = $2";
        Ok(fetch!(self, query_scalar.fetch_optional, sql, user, room))
    }

    pub async fn set_matrix_direct_room(
        &self,
        user: &str,
        person: &str,
        room: Option<&str>,
    ) -> Result<(), StoreError> {
        let set = "INSERT INTO matrix_direct_rooms (user_id, person, room_id) VALUES ($1, $2, $3)
                 ON CONFLICT (user_id, person) DO UPDATE SET room_id = excluded.room_id";
        let unset = "DELETE FROM matrix_direct_rooms WHERE user_id = $1 AND person = $2";
        on_runtime!(self, |pool| match room {
            Some(room) => sqlx::query(set).bind(user).bind(person).bind(room),
            None => sqlx::query(unset).bind(user).bind(person),
        }
        .execute(pool)
        .await?
        .rows_affected());
        Ok(())
    }
}
