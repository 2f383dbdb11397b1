//! Reactions as buttons: a 👍 on the bot's event card or reminder subscribes the person who
//! reacted to personal reminders for that event; taking it back unsubscribes. ✅, 🤔 and ❌
//! answer the RSVP (going, maybe, can't) as `/rsvp` does; the last one given counts. The
//! answer goes to their direct room, not in front of everyone.

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

/// The command a reaction stands for on the card of `event`: 👍 reminders, ✅ 🤔 ❌ an RSVP.
fn reaction_line(key: &str, event: i64) -> Option<String> {
    if is_thumbs_up(key) {
        return Some(format!("/remind me {event}"));
    }
    let answer = match key.trim_end_matches('\u{FE0F}') {
        "\u{2705}" | "\u{2714}" => "going",
        "\u{1F914}" => "maybe",
        "\u{274C}" | "\u{274E}" => "cant",
        _ => return None,
    };
    Some(format!("/rsvp {event} {answer}"))
}

impl Bot {
    /// A 👍 on the bot's event card or reminder: personal reminders for that event, for the
    /// person who reacted (told in their direct room, not in front of everyone).
    pub(super) async fn on_reaction(&self, room: &str, e: &Event) {
        let relation = &e.content["m.relates_to"];
        let key = relation["key"].as_str().unwrap_or_default();
        if relation["rel_type"].as_str() != Some("m.annotation") || reaction_line(key, 0).is_none()
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
        let Some(line) = reaction_line(key, event.0) else {
            return;
        };
        let reply = commands::answer(&self.ctx, &caller, &line).await;
        // Only a 👍 is remembered: taking it back unsubscribes. An RSVP stands until the
        // person gives another.
        if reply.tone == Tone::Answer && is_thumbs_up(key) {
            if let Err(err) = store
                .add_matrix_reaction(&self.me, &e.event_id, &e.sender, event)
                .await
            {
                tracing::error!(error = %err, "cannot remember a reaction");
            }
        }
        if reply.tone == Tone::Answer && line.starts_with("/rsvp ") {
            self.refresh_card(room, target, &caller, event, &e.event_id)
                .await;
        }
        self.tell_privately(&e.sender, &format!("reaction-{}", e.event_id), &reply)
            .await;
    }

    /// After an RSVP, the card is edited in place (`m.replace`) with its counts as they now
    /// are, so the room sees who is coming without asking.
    async fn refresh_card(
        &self,
        room: &str,
        card: &str,
        caller: &Caller,
        event: crate::domain::EventId,
        reaction: &str,
    ) {
        let line = format!("/event show {}", event.0);
        let fresh = commands::answer(&self.ctx, caller, &line).await;
        if fresh.tone != Tone::Answer {
            return;
        }
        let content = message_content(&fresh, "m.notice", None);
        let edit = serde_json::json!({
            "msgtype": "m.notice",
            "body": format!("* {}", content["body"].as_str().unwrap_or_default()),
            "m.new_content": content,
            "m.relates_to": {"rel_type": "m.replace", "event_id": card},
            "m.mentions": {},
        });
        self.send(room, &format!("card-edit-{reaction}"), &edit)
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

    #[test]
    fn check_thinking_and_cross_answer_the_rsvp_and_nothing_else_does() {
        assert_eq!(reaction_line("✅", 3).as_deref(), Some("/rsvp 3 going"));
        assert_eq!(reaction_line("✔️", 3).as_deref(), Some("/rsvp 3 going"));
        assert_eq!(reaction_line("🤔", 3).as_deref(), Some("/rsvp 3 maybe"));
        assert_eq!(reaction_line("❌", 3).as_deref(), Some("/rsvp 3 cant"));
        assert_eq!(reaction_line("👍🏽", 3).as_deref(), Some("/remind me 3"));
        for key in ["❤️", "🎉", "", "x"] {
            assert_eq!(reaction_line(key, 3), None, "{key}");
        }
    }
}
