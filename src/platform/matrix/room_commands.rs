//! Commands in rooms: which messages are commands (`!`/`/` lines, or a question that mentions
//! or replies to the bot), what Matrix cannot ask, and how a command is answered — `!leave`
//! here, everything else by the core.

use super::client::Event;
use super::messages::message_content;
use super::Bot;
use crate::commands::{self, Caller};
use crate::domain::{Platform, SpaceId};
use crate::reply::{Reply, Text, Tone};

/// The command in a message, if it is one: a `m.text` (not a notice — other bots speak in
/// notices, and bots must not answer each other), not an edit, whose body (without a reply
/// quote) starts with `!` or `/` and a letter.
pub fn command_in(e: &Event, me: &str) -> Option<String> {
    if e.kind != "m.room.message" || e.sender == me {
        return None;
    }
    if e.content["msgtype"].as_str() != Some("m.text") {
        return None;
    }
    if e.content["m.relates_to"]["rel_type"].as_str() == Some("m.replace") {
        return None;
    }
    let full = e.content["body"].as_str()?;
    let body = strip_reply_fallback(full).trim();
    if is_command(body) {
        return Some(body.to_string());
    }
    // A message that mentions the bot or replies to it: a question in plain words.
    if !addresses(e, full, me) {
        return None;
    }
    let question: String = without_mention(body, me).chars().take(2000).collect();
    Some(if question.is_empty() {
        "/help".to_string()
    } else if is_command(&question) {
        question
    } else {
        format!("/ask {question}")
    })
}

fn is_command(body: &str) -> bool {
    let mut chars = body.chars();
    matches!((chars.next(), chars.next()), (Some('!' | '/'), Some(c)) if c.is_alphabetic())
}

/// Whether a message is addressed to the bot: its intentional mentions name it (clients put
/// the author of a message replied to there too), its text or link pill names it, or its
/// reply quote (older clients) quotes it.
fn addresses(e: &Event, full_body: &str, me: &str) -> bool {
    let listed = e.content["m.mentions"]["user_ids"]
        .as_array()
        .is_some_and(|ids| ids.iter().any(|u| u.as_str() == Some(me)));
    let pill = e.content["formatted_body"].as_str().is_some_and(|f| {
        f.contains(&format!("matrix.to/#/{me}"))
            || f.contains(&format!("matrix.to/#/{}", me.replacen('@', "%40", 1)))
    });
    listed || pill || full_body.contains(me) || full_body.starts_with(&format!("> <{me}>"))
}

/// The question without the bot's id and the "Name:" a client puts before a mention.
fn without_mention(body: &str, me: &str) -> String {
    let text = body.replace(me, " ");
    let text = text.trim_start();
    let text = match text.split_once(char::is_whitespace) {
        Some((first, rest)) if first.ends_with(':') && first.len() <= 64 => rest,
        _ if text.ends_with(':') && !text.contains(char::is_whitespace) => "",
        _ => text,
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Older clients quote the message replied to as `> ` lines and a blank line before the text.
fn strip_reply_fallback(body: &str) -> &str {
    if !body.starts_with("> ") {
        return body;
    }
    match body.find("\n\n") {
        Some(i) if body[..i].lines().all(|l| l.starts_with('>')) => &body[i + 2..],
        _ => body,
    }
}

/// What cannot be asked from Matrix, answered here rather than by the core: a file option
/// (a command line in a room carries no file), and a reminder channel that is not a room id
/// (!…) or alias (#…:server) — it would send reminders nowhere.
fn matrix_cannot(line: &str) -> Option<crate::reply::Reply> {
    let bound = commands::bind(line)?;
    let usage = |why: &str, example: String| {
        Some(crate::error::into_reply(
            crate::error::CommandError::usage(why.to_string(), example),
            line,
        ))
    };
    if let Some(option) = bound.file_options().first() {
        return usage(
            "That needs a file, which a Matrix message cannot carry here: use it on Discord (attach the .ics) or on the console.",
            bound.file_example(option),
        );
    }
    let channel = (bound.command == commands::CommandName::Settings
        && bound.subcommand.as_deref() == Some("channel"))
    .then(|| bound.value("channel").unwrap_or_default().trim());
    match channel {
        Some(c) if !(c.starts_with('!') || c.starts_with('#')) => usage(
            "Give the room's id (!…) or alias (#name:server) — and invite me there first.",
            "/settings channel #events:example.org".into(),
        ),
        _ => None,
    }
}

impl Bot {
    /// Answers a command; a bug that panics is answered with an incident id and leaves the
    /// sync loop running.
    pub(super) async fn on_command(&self, room: &str, e: &Event, line: &str) {
        let answered = crate::error::contained(line, self.on_command_unguarded(room, e, line));
        if let Err(reply) = answered.await {
            let txn = format!("reply-{}", e.event_id);
            self.send(room, &txn, &message_content(&reply, "m.notice", Some(e)))
                .await;
        }
    }

    /// `!leave` is answered here (it needs the room); everything else by the core, with an
    /// attachment sent after the answer.
    async fn on_command_unguarded(&self, room: &str, e: &Event, line: &str) {
        let word = line[1..]
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_lowercase();
        let (moderator, threshold) = self.is_moderator(room, &e.sender).await;
        tracing::debug!(%room, sender = %e.sender, moderator, "command");
        if word == "leave" {
            return self.on_leave(room, e, moderator, threshold).await;
        }
        let caller = Caller {
            platform: Platform::Matrix,
            space: SpaceId::matrix(room),
            user: e.sender.clone(),
            moderator,
            channel: None,
        };
        let reply = match matrix_cannot(line) {
            Some(refusal) => refusal,
            None => commands::answer(&self.ctx, &caller, line).await,
        };
        let txn = format!("reply-{}", e.event_id);
        self.send(room, &txn, &message_content(&reply, "m.notice", Some(e)))
            .await;
        if let Some(a) = &reply.attachment {
            self.send_file(room, &e.event_id, a).await;
        }
    }

    /// `!leave`: a moderator sends the bot away; anyone else is told who may.
    async fn on_leave(&self, room: &str, e: &Event, moderator: bool, threshold: i64) {
        let mut reply = Reply::new(if moderator {
            Tone::Answer
        } else {
            Tone::Refusal
        });
        reply.summary = Some(Text::plain(if moderator {
            "Leaving this room — invite me again any time.".to_string()
        } else {
            format!(
                "Only moderators of this room (power level {threshold} or more) can send me away."
            )
        }));
        let txn = format!("reply-{}", e.event_id);
        self.send(room, &txn, &message_content(&reply, "m.notice", Some(e)))
            .await;
        if moderator {
            tracing::info!(%room, by = %e.sender, "leaving on request");
            if let Err(err) = self.client.get().leave(room).await {
                tracing::warn!(%room, error = %err, "cannot leave");
            }
            self.forget_room(room).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    use crate::platform::matrix::client::test_message as message;

    #[test]
    fn commands_are_text_messages_starting_with_bang_or_slash() {
        let me = "@bot:x";
        let text = |b: &str| message("@a:x", json!({"msgtype": "m.text", "body": b}));
        assert_eq!(
            command_in(&text("!actor WIPO"), me).as_deref(),
            Some("!actor WIPO")
        );
        assert_eq!(command_in(&text("  /help"), me).as_deref(), Some("/help"));
        assert_eq!(command_in(&text("hello !actor"), me), None);
        assert_eq!(command_in(&text("!!!"), me), None);
        assert_eq!(command_in(&text("/"), me), None);
        let notice = message(
            "@a:x",
            json!({"msgtype": "m.notice", "body": "!actor WIPO"}),
        );
        assert_eq!(command_in(&notice, me), None, "bots talk in notices");
        let own = message(me, json!({"msgtype": "m.text", "body": "!actor WIPO"}));
        assert_eq!(command_in(&own, me), None, "never its own messages");
        let edit = message(
            "@a:x",
            json!({"msgtype": "m.text", "body": "* !actor WIPO", "m.relates_to": {"rel_type": "m.replace", "event_id": "$x"}}),
        );
        assert_eq!(command_in(&edit, me), None, "edits are not new commands");
        let reply = text("> <@b:x> what is WIPO?\n\n!actor WIPO");
        assert_eq!(command_in(&reply, me).as_deref(), Some("!actor WIPO"));
    }

    #[test]
    fn a_message_that_mentions_or_replies_to_the_bot_is_a_question() {
        let me = "@bot:x";
        let said = |content: Value| command_in(&message("@a:x", content), me);
        // A mention pill: the display name and a colon in the body, the id in m.mentions.
        assert_eq!(
            said(
                json!({"msgtype": "m.text", "body": "atlasbot: what is WIPO?",
                "m.mentions": {"user_ids": ["@bot:x"]}})
            )
            .as_deref(),
            Some("/ask what is WIPO?")
        );
        assert_eq!(
            said(json!({"msgtype": "m.text", "body": "hey @bot:x who works on kids safety?"}))
                .as_deref(),
            Some("/ask hey who works on kids safety?")
        );
        // A reply to one of the bot's answers (older clients quote it).
        assert_eq!(
            said(json!({"msgtype": "m.text", "body": "> <@bot:x> WIPO\n\nand UNCTAD?"})).as_deref(),
            Some("/ask and UNCTAD?")
        );
        assert_eq!(
            said(json!({"msgtype": "m.text", "body": "atlasbot: /actor WIPO",
                "m.mentions": {"user_ids": ["@bot:x"]}}))
            .as_deref(),
            Some("/actor WIPO")
        );
        // Talk among people, or a mention of someone else, is not for the bot.
        assert_eq!(
            said(json!({"msgtype": "m.text", "body": "what is WIPO?"})),
            None
        );
        assert_eq!(
            said(json!({"msgtype": "m.text", "body": "carol: what is WIPO?",
                "m.mentions": {"user_ids": ["@carol:x"]}})),
            None
        );
        // Its own answers, and other bots' notices, never.
        let own = message(me, json!({"msgtype": "m.text", "body": "@bot:x hi"}));
        assert_eq!(command_in(&own, me), None);
        assert_eq!(
            said(json!({"msgtype": "m.notice", "body": "@bot:x what is WIPO?"})),
            None
        );
    }
}
