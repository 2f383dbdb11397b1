//! What the bot says, as Matrix messages: the content made from a `Reply` (escaped, mentioning
//! no one, replying in the command's thread, cut to size), and sending it — encrypted in an
//! encrypted room, attachments too.

use serde_json::{json, Value};

use super::client::{Client, Event, MatrixError};
use super::{crypto, Bot};
use crate::render;
use crate::reply::Reply;

/// Bytes of plain body a message may carry (with the HTML, well under Matrix's 64 KiB).
const MAX_BODY: usize = 24_000;
/// The key, in a message's content, of the event a card or reminder is about (what a 👍 on
/// it subscribes to). Inside the encryption, like the rest of the content.
pub(super) const EVENT_MARKER: &str = "org.atlasbot.event";

/// Cuts text to at most `max` bytes at a character boundary, marking the cut.
fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub(4);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n…", &s[..end])
}

/// A message from a `Reply`: a plain `body` and an HTML `formatted_body`, both escaped and
/// defanged, with `m.mentions` empty so that no name or `@room` in it notifies anyone. An
/// answer replies to its command — inside the command's thread, if it was asked in one.
pub fn message_content(reply: &Reply, msgtype: &str, in_reply_to: Option<&Event>) -> Value {
    let body = cut(
        &crate::reply::defang_mentions(&render::plain::render(reply)),
        MAX_BODY,
    );
    let mut content = json!({
        "msgtype": msgtype,
        "body": body.trim_end(),
        "format": "org.matrix.custom.html",
        "formatted_body": render::html::render(reply),
        "m.mentions": {},
    });
    if let Some(event) = remind_event(reply) {
        // Buttons, as Matrix has them: a reaction.
        content[EVENT_MARKER] = json!(event);
        let rsvp = reply.actions.iter().any(
            |a| matches!(a, crate::reply::Action::Run { line, .. } if line.starts_with("/rsvp ")),
        );
        let hint = if rsvp {
            "React ✅ going, 🤔 maybe, ❌ can't go; 👍 to be reminded personally (remove it to stop)."
        } else {
            "React 👍 to be reminded personally; remove it to stop."
        };
        content["body"] = json!(format!(
            "{}\n\n{hint}",
            content["body"].as_str().unwrap_or("")
        ));
        content["formatted_body"] = json!(format!(
            "{}<p><em>{hint}</em></p>",
            content["formatted_body"].as_str().unwrap_or("")
        ));
    }
    if let Some(command) = in_reply_to {
        let relates = &command.content["m.relates_to"];
        content["m.relates_to"] = match relates["event_id"].as_str() {
            Some(root) if relates["rel_type"] == "m.thread" => json!({
                "rel_type": "m.thread",
                "event_id": root,
                "is_falling_back": false,
                "m.in_reply_to": {"event_id": command.event_id},
            }),
            _ => json!({"m.in_reply_to": {"event_id": command.event_id}}),
        };
    }
    content
}

/// The event a reply offers personal reminders for (its "Remind me" buttons elsewhere).
fn remind_event(reply: &Reply) -> Option<i64> {
    reply.actions.iter().find_map(|a| match a {
        crate::reply::Action::StopReminding { event, .. } => Some(*event),
        _ => None,
    })
}

impl Bot {
    /// An attachment (an .ics export) as a file message after the answer.
    /// In an encrypted room the file is encrypted before upload, and its key travels in the
    /// (encrypted) message.
    pub(super) async fn send_file(&self, room: &str, event_id: &str, a: &crate::reply::Attachment) {
        let client = self.client.get();
        let encrypted = self.is_encrypted(&client, room).await.unwrap_or(true);
        let (bytes, media_type, key) = if encrypted {
            match crypto::encrypt_attachment(a.content.as_bytes()) {
                Ok((bytes, key)) => (bytes, "application/octet-stream", Some(key)),
                Err(e) => {
                    tracing::warn!(%room, error = %e, "cannot encrypt the attachment");
                    return;
                }
            }
        } else {
            (a.content.as_bytes().to_vec(), a.media_type.as_str(), None)
        };
        let uri = match client.upload(&a.filename, media_type, bytes).await {
            Ok(u) => u,
            Err(e) => {
                tracing::warn!(%room, error = %e, "cannot upload the attachment");
                return;
            }
        };
        let mut content = json!({
            "msgtype": "m.file",
            "body": a.filename,
            "filename": a.filename,
            "info": {"mimetype": a.media_type, "size": a.content.len()},
            "m.relates_to": {"m.in_reply_to": {"event_id": event_id}},
            "m.mentions": {},
        });
        match key {
            Some(mut file) => {
                file["url"] = json!(uri);
                content["file"] = file;
            }
            None => content["url"] = json!(uri),
        }
        self.send(room, &format!("file-{event_id}"), &content).await;
    }

    /// Sends a message, logging failures (an answer that cannot be sent has no one else to go
    /// to).
    pub(super) async fn send(&self, room: &str, txn: &str, content: &Value) {
        if let Err(e) = self.send_event(room, txn, content).await {
            tracing::warn!(%room, error = %e, "cannot send");
        }
    }

    /// Sends a message into a room: encrypted for its members' devices if the room is
    /// encrypted, as it is otherwise. The same `txn` sends it once however often it is called.
    pub(super) async fn send_event(
        &self,
        room: &str,
        txn: &str,
        content: &Value,
    ) -> Result<String, MatrixError> {
        let client = self.client.get();
        if !self.is_encrypted(&client, room).await? {
            return client.send(room, "m.room.message", txn, content).await;
        }
        let members = self.members_of(&client, room).await?;
        let settings = self.encryption_of(&client, room).await?;
        let encrypted = self
            .crypto
            .encrypt(
                &client,
                room,
                (&members, settings),
                "m.room.message",
                content,
            )
            .await?;
        client.send(room, "m.room.encrypted", txn, &encrypted).await
    }

    /// Who a room's messages are encrypted for: as the sync keeps them, or read once.
    async fn members_of(&self, client: &Client, room: &str) -> Result<Vec<String>, MatrixError> {
        if let Some(members) = self.members.of(room, self.crypto.is_syncing()) {
            return Ok(members);
        }
        let changes = self.members.changes(room);
        let members = client.members(room).await?;
        self.members.remember(room, &members, changes);
        Ok(members)
    }

    /// How a room's messages are encrypted: its `m.room.encryption` and history visibility,
    /// read once (again when the sync says they changed).
    async fn encryption_of(
        &self,
        client: &Client,
        room: &str,
    ) -> Result<matrix_sdk_crypto::EncryptionSettings, MatrixError> {
        if let Some(known) = self.encryption.lock().expect("not poisoned").get(room) {
            return Ok(known.clone());
        }
        let encryption = client.state_event(room, "m.room.encryption").await?;
        let visibility = client
            .state_event(room, "m.room.history_visibility")
            .await?;
        let settings = super::members::settings(
            &encryption.unwrap_or_default(),
            visibility
                .as_ref()
                .and_then(|v| v["history_visibility"].as_str()),
        );
        self.encryption
            .lock()
            .expect("not poisoned")
            .insert(room.to_string(), settings.clone());
        Ok(settings)
    }

    /// Whether a room is encrypted: seen in its sync, or else read from its state (after a
    /// restart the sync does not repeat the state).
    pub(super) async fn is_encrypted(
        &self,
        client: &Client,
        room: &str,
    ) -> Result<bool, MatrixError> {
        if let Some(known) = self.encrypted.lock().expect("not poisoned").get(room) {
            return Ok(*known);
        }
        let encrypted = client
            .state_event(room, "m.room.encryption")
            .await?
            .is_some_and(|c| c["algorithm"].is_string());
        self.encrypted
            .lock()
            .expect("not poisoned")
            .insert(room.to_string(), encrypted);
        Ok(encrypted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::Text;

    use crate::platform::matrix::client::test_message as message;

    #[test]
    fn messages_never_mention_anyone_and_reply_to_the_command() {
        let mut r = Reply::answer("Party @room");
        r.summary = Some(Text::plain("for <everyone> & @everyone"));
        let command = message(
            "@a:x",
            json!({"msgtype": "m.text", "body": "!event add title:\"Party @room\""}),
        );
        let c = message_content(&r, "m.notice", Some(&command));
        assert_eq!(c["msgtype"], "m.notice");
        assert_eq!(c["m.mentions"], json!({}));
        assert_eq!(
            c["m.relates_to"],
            json!({"m.in_reply_to": {"event_id": "$e"}})
        );
        let body = c["body"].as_str().unwrap();
        let html = c["formatted_body"].as_str().unwrap();
        assert!(!body.contains("@room") && !html.contains("@room"));
        assert!(html.contains("&lt;everyone&gt; &amp;"));
    }

    #[test]
    fn a_command_asked_in_a_thread_is_answered_in_that_thread() {
        let command = message(
            "@a:x",
            json!({"msgtype": "m.text", "body": "!help", "m.relates_to": {"rel_type": "m.thread", "event_id": "$root"}}),
        );
        let c = message_content(&Reply::answer("Help"), "m.notice", Some(&command));
        assert_eq!(
            c["m.relates_to"],
            json!({"rel_type": "m.thread", "event_id": "$root", "is_falling_back": false, "m.in_reply_to": {"event_id": "$e"}})
        );
    }

    #[test]
    fn cards_offering_reminders_say_how_to_react_and_carry_their_event() {
        let mut card = Reply::answer("Seminar");
        card.actions = crate::reply::Action::remind_buttons(7);
        let c = message_content(&card, "m.notice", None);
        assert_eq!(c[EVENT_MARKER], 7);
        assert!(c["body"]
            .as_str()
            .unwrap()
            .ends_with("React 👍 to be reminded personally; remove it to stop."));
        assert!(c["formatted_body"]
            .as_str()
            .unwrap()
            .contains("<em>React 👍"));
        let plain = message_content(&Reply::answer("WIPO"), "m.notice", None);
        assert!(plain.get(EVENT_MARKER).is_none());
        assert!(!plain["body"].as_str().unwrap().contains("👍"));
    }

    #[test]
    fn long_bodies_are_cut_at_a_character_boundary() {
        let s = "é".repeat(20_000);
        let c = cut(&s, MAX_BODY);
        assert!(c.len() <= MAX_BODY);
        assert!(c.ends_with('…'));
    }
}
