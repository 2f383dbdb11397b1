//! The Matrix adapter's state: its device, its sync position, the rooms it has joined and the
//! direct rooms it opened. Keyed by the bot's user id, so one database can serve two accounts.

use chrono::{DateTime, Utc};

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
        if let Some(pg) = &self.pg {
            return pg.matrix_account(user).await;
        }
        Ok(
            sqlx::query_as("SELECT device_id, next_batch FROM matrix_accounts WHERE user_id = ?")
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
        if let Some(pg) = &self.pg {
            return pg.set_matrix_device(user, device, now).await;
        }
        sqlx::query(
            "INSERT INTO matrix_accounts (user_id, device_id, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (user_id) DO UPDATE SET device_id = excluded.device_id, updated_at = excluded.updated_at",
        )
        .bind(user)
        .bind(device)
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records the sync position once a batch is fully handled.
    pub async fn set_matrix_next_batch(
        &self,
        user: &str,
        next_batch: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if let Some(pg) = &self.pg {
            return pg.set_matrix_next_batch(user, next_batch, now).await;
        }
        sqlx::query(
            "INSERT INTO matrix_accounts (user_id, next_batch, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (user_id) DO UPDATE SET next_batch = excluded.next_batch, updated_at = excluded.updated_at",
        )
        .bind(user)
        .bind(next_batch)
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a joined room; false if it was already known.
    pub async fn add_matrix_room(
        &self,
        user: &str,
        room: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        if let Some(pg) = &self.pg {
            return pg.add_matrix_room(user, room, now).await;
        }
        let done = sqlx::query(
            "INSERT OR IGNORE INTO matrix_rooms (user_id, room_id, joined_at) VALUES (?, ?, ?)",
        )
        .bind(user)
        .bind(room)
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn matrix_rooms(&self, user: &str) -> Result<Vec<String>, StoreError> {
        if let Some(pg) = &self.pg {
            return pg.matrix_rooms(user).await;
        }
        Ok(sqlx::query_scalar(
            "SELECT room_id FROM matrix_rooms WHERE user_id = ? ORDER BY room_id",
        )
        .bind(user)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn remove_matrix_room(&self, user: &str, room: &str) -> Result<(), StoreError> {
        if let Some(pg) = &self.pg {
            return pg.remove_matrix_room(user, room).await;
        }
        sqlx::query("DELETE FROM matrix_rooms WHERE user_id = ? AND room_id = ?")
            .bind(user)
            .bind(room)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Marks the encrypted-room notice as sent; true only the first time, so it goes out once.
    /// Remembers what a 👍 reaction meant (person, event), for when it is redacted.
    pub async fn add_matrix_reaction(
        &self,
        user: &str,
        reaction: &str,
        person: &str,
        event: EventId,
    ) -> Result<(), StoreError> {
        if let Some(pg) = &self.pg {
            return pg.add_matrix_reaction(user, reaction, person, event).await;
        }
        sqlx::query(
            "INSERT INTO matrix_reactions (user_id, reaction_id, person, event_id)
             VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(user)
        .bind(reaction)
        .bind(person)
        .bind(event.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// What a redacted reaction meant, forgotten as it is read (a redaction counts once).
    pub async fn take_matrix_reaction(
        &self,
        user: &str,
        reaction: &str,
    ) -> Result<Option<(String, EventId)>, StoreError> {
        if let Some(pg) = &self.pg {
            return pg.take_matrix_reaction(user, reaction).await;
        }
        let row: Option<(String, i64)> = sqlx::query_as(
            "DELETE FROM matrix_reactions WHERE user_id = ? AND reaction_id = ?
             RETURNING person, event_id",
        )
        .bind(user)
        .bind(reaction)
        .fetch_optional(&self.pool)
        .await?;
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
        if let Some(pg) = &self.pg {
            return pg.claim_undecryptable_notice(user, sender, session).await;
        }
        let done = sqlx::query(
            "INSERT INTO matrix_undecryptable_notices (user_id, sender, session_id)
             VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
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
        if let Some(pg) = &self.pg {
            return pg.matrix_direct_room(user, person).await;
        }
        Ok(sqlx::query_scalar(
            "SELECT room_id FROM matrix_direct_rooms WHERE user_id = ? AND person = ?",
        )
        .bind(user)
        .bind(person)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The person whose direct room this is, if it is one the bot opened.
    pub async fn matrix_direct_person(
        &self,
        user: &str,
        room: &str,
    ) -> Result<Option<String>, StoreError> {
        if let Some(pg) = &self.pg {
            return pg.matrix_direct_person(user, room).await;
        }
        Ok(sqlx::query_scalar(
            "SELECT person FROM matrix_direct_rooms WHERE user_id = ? AND room_id = ?",
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
        if let Some(pg) = &self.pg {
            return pg.set_matrix_direct_room(user, person, room).await;
        }
        match room {
            Some(room) => sqlx::query(
                "INSERT INTO matrix_direct_rooms (user_id, person, room_id) VALUES (?, ?, ?)
                 ON CONFLICT (user_id, person) DO UPDATE SET room_id = excluded.room_id",
            )
            .bind(user)
            .bind(person)
            .bind(room),
            None => sqlx::query("DELETE FROM matrix_direct_rooms WHERE user_id = ? AND person = ?")
                .bind(user)
                .bind(person),
        }
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
