//! The rooms the bot is in: invitations accepted (from allowed servers) or declined, rooms
//! recorded and forgotten, and the direct rooms that carry a person's own reminders.

use super::client::Event;
use super::messages::message_content;
use super::outbox::delivery_error;
use super::{crypto, Bot};
use crate::reply::{Reply, Text};
use crate::scheduler::DeliveryError;

/// The server part of a user id: `@alice:example.org` → `example.org`.
pub(super) fn server_of(user: &str) -> Option<&str> {
    user.split_once(':').map(|(_, s)| s)
}

/// Whether an invitation from `inviter` is accepted: any, or only from the allowed servers.
fn may_invite(allowed_servers: &[String], inviter: &str) -> bool {
    allowed_servers.is_empty()
        || server_of(inviter)
            .is_some_and(|s| allowed_servers.iter().any(|a| a.eq_ignore_ascii_case(s)))
}

impl Bot {
    /// An invitation: joined (and greeted) if its inviter's server is allowed, declined if not.
    pub(super) async fn on_invite(&self, room: &str, state: &[Event]) {
        let inviter = state
            .iter()
            .find(|e| {
                e.kind == "m.room.member"
                    && e.state_key.as_deref() == Some(self.me.as_str())
                    && e.content["membership"].as_str() == Some("invite")
            })
            .map(|e| e.sender.clone())
            .unwrap_or_default();
        let client = self.client.get();
        if !may_invite(&self.allowed_servers, &inviter) {
            tracing::info!(%room, %inviter, "invitation declined: server not in MATRIX_ALLOWED_SERVERS");
            if let Err(e) = client.leave(room).await {
                tracing::warn!(%room, error = %e, "cannot decline the invitation");
            }
            return;
        }
        match client.join(room).await {
            Ok(()) => {
                tracing::info!(%room, %inviter, "joined");
                self.record_room(room).await;
                let mut hello = Reply::answer(
                    "Hello! I answer questions about the Geneva digital-policy ecosystem.",
                );
                hello.summary = Some(Text::plain(
                    "Try !actor WIPO, !standard 27001, !who-works-on cybercrime or !help. Moderators (power level 50 and up) can schedule events with !event add and send me away with !leave.",
                ));
                self.send(
                    room,
                    &format!("hello-{room}"),
                    &message_content(&hello, "m.notice", None),
                )
                .await;
            }
            Err(e) => tracing::warn!(%room, error = %e, "cannot join"),
        }
    }

    /// Records a joined room in the database, once per process.
    pub(super) async fn record_room(&self, room: &str) {
        if self.recorded.lock().expect("not poisoned").contains(room) {
            return;
        }
        match self
            .ctx
            .store
            .add_matrix_room(&self.me, room, chrono::Utc::now())
            .await
        {
            Ok(_) => {
                self.recorded
                    .lock()
                    .expect("not poisoned")
                    .insert(room.to_string());
            }
            Err(e) => tracing::error!(%room, error = %e, "cannot record a room"),
        }
    }

    /// Forgets a room the bot left (or was removed from).
    pub(super) async fn forget_room(&self, room: &str) {
        self.power.lock().await.remove(room);
        self.recorded.lock().expect("not poisoned").remove(room);
        // If the bot comes back, who is there and how the room encrypts are read afresh.
        self.members.forget(room);
        self.encryption.lock().expect("not poisoned").remove(room);
        if let Err(e) = self.ctx.store.remove_matrix_room(&self.me, room).await {
            tracing::error!(%room, error = %e, "cannot forget a room");
        }
    }

    /// would never see them there: the bot forgets the room and leaves it, and the next
    /// reminder opens a new one.
    pub(super) async fn on_direct_room_left(&self, room: &str, events: &[Event]) {
        let left = events.iter().find(|e| {
            e.kind == "m.room.member"
                && e.state_key.as_deref().is_some_and(|k| k != self.me)
                && matches!(e.content["membership"].as_str(), Some("leave" | "ban"))
        });
        let Some(left) = left else {
            return;
        };
        let store = &self.ctx.store;
        let person = left.state_key.as_deref().unwrap_or_default();
        if store
            .matrix_direct_person(&self.me, room)
            .await
            .ok()
            .flatten()
            .as_deref()
            != Some(person)
        {
            return;
        }
        tracing::info!(%room, %person, "the direct room was left; a new one will be opened");
        let _ = store.set_matrix_direct_room(&self.me, person, None).await;
        if let Err(e) = self.client.get().leave(room).await {
            tracing::warn!(%room, error = %e, "cannot leave an abandoned direct room");
        }
        self.forget_room(room).await;
    }

    /// The room a personal reminder goes to: the direct room opened earlier, or a new one.
    pub(super) async fn direct_room(
        &self,
        person: &str,
        fresh: bool,
    ) -> Result<String, DeliveryError> {
        let store = &self.ctx.store;
        if !fresh {
            if let Ok(Some(room)) = store.matrix_direct_room(&self.me, person).await {
                return Ok(room);
            }
        }
        let client = self.client.get();
        // Encrypted when the person's client encrypts (it has published device keys), as
        // their client would make a direct chat.
        let encrypted = crypto::devices_with_keys(&client, person)
            .await
            .map(|n| n > 0)
            .unwrap_or(false);
        let room = client
            .create_direct_room(person, encrypted)
            .await
            .map_err(delivery_error)?;
        store
            .set_matrix_direct_room(&self.me, person, Some(&room))
            .await
            .map_err(|e| DeliveryError::Temporary(e.to_string()))?;
        let _ = store
            .add_matrix_room(&self.me, &room, chrono::Utc::now())
            .await;
        Ok(room)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invitations_are_accepted_from_allowed_servers_only() {
        assert!(may_invite(&[], "@anyone:anywhere.org"));
        let allowed = vec!["example.org".to_string(), "uni.example:8448".to_string()];
        assert!(may_invite(&allowed, "@alice:example.org"));
        assert!(may_invite(&allowed, "@alice:EXAMPLE.org"));
        assert!(may_invite(&allowed, "@bob:uni.example:8448"));
        assert!(!may_invite(&allowed, "@eve:example.org.evil.net"));
        assert!(!may_invite(&allowed, "@eve:evil.net"));
        assert!(
            !may_invite(&allowed, ""),
            "an invitation without an inviter"
        );
    }
}
