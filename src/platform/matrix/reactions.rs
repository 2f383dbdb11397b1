//! Reactions as buttons: a 👍 on the bot's event card or reminder subscribes the person who
//! reacted to personal reminders for that event; taking it back unsubscribes. The answer goes
//! to their direct room, not in front of everyone.

use super::client::Event;
use super::messages::{message_content, EVENT_MARKER};
use super::Bot;
use crate::commands::{self, Caller};
use crate::domain::{Platform, SpaceId};
use crate::reply::{Reply, Tone};

/// 👍 in any skin tone or presentation.
fn is_thumbs_up(key: &str) -> bool {
    key.starts_with('\u{1F44D}')
}

impl Bot {
    /// A 👍 on the bot's event card or reminder: personal reminders for that event, for the
    /// person who reacted (told in their direct room, not in front of everyone).
    pub(super) async fn on_reaction(&self, room: &str, e: &Event) {
        let relation = &e.content["m.relates_to"];
        if relation["rel_type"].as_str() != Some("m.annotation")
            || !relation["key"].as_str().is_some_and(is_thumbs_up)
        {
            return;
        }
        let Some(target) = relation["event_id"].as_str() else {
            return;
        };
        let Some(event) = self.card_event(room, target).await else {
            return;
        };
        let store = &self.ctx.store;
        let Ok(Some(row)) = store.event(event).await else {
            return;
        };
        let caller = Caller {
            platform: Platform::Matrix,
            space: row.space.clone(),
            user: e.sender.clone(),
            moderator: false,
            channel: None,
        };
        let line = format!("/remind me {}", event.0);
        let reply = commands::answer(&self.ctx, &caller, &line).await;
        if reply.tone == Tone::Answer {
            if let Err(err) = store
                .add_matrix_reaction(&self.me, &e.event_id, &e.sender, event)
                .await
            {
                tracing::error!(error = %err, "cannot remember a reaction");
            }
        }
        self.tell_privately(&e.sender, &format!("reaction-{}", e.event_id), &reply)
            .await;
    }

    /// A reaction taken back: no more personal reminders for that event.
    pub(super) async fn on_redaction(&self, e: &Event) {
        let Some(target) = e.redacts.as_deref() else {
            return;
        };
        let Ok(Some((person, event))) = self.ctx.store.take_matrix_reaction(&self.me, target).await
        else {
            return;
        };
        let caller = Caller {
            platform: Platform::Matrix,
            space: SpaceId::matrix(""),
            user: person.clone(),
            moderator: false,
            channel: None,
        };
        let reply = commands::stop_reminding(&self.ctx, &caller, event).await;
        self.tell_privately(&person, &format!("unreaction-{}", e.event_id), &reply)
            .await;
    }

    /// The event a message of the bot's offers reminders for, if it is one.
    async fn card_event(&self, room: &str, message: &str) -> Option<crate::domain::EventId> {
        let client = self.client.get();
        let mut card = client.event(room, message).await.ok()?;
        if card.sender != self.me {
            return None;
        }
        if card.kind == "m.room.encrypted" {
            card = self.crypto.decrypt(room, &card).await.ok()?;
        }
        card.content[EVENT_MARKER]
            .as_i64()
            .map(crate::domain::EventId)
    }

    /// A reply for one person, in their direct room with the bot.
    async fn tell_privately(&self, person: &str, txn: &str, reply: &Reply) {
        let room = match self.direct_room(person, false).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(%person, error = ?e, "cannot open a direct room");
                return;
            }
        };
        self.send(&room, txn, &message_content(reply, "m.notice", None))
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thumbs_up_is_one_in_any_skin_tone_or_presentation() {
        for key in ["👍", "👍️", "👍🏽", "👍🏿"] {
            assert!(is_thumbs_up(key), "{key}");
        }
        for key in ["👎", "+1", "", "❤️"] {
            assert!(!is_thumbs_up(key), "{key}");
        }
    }
}
