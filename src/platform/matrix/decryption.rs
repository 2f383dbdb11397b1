//! Encrypted messages whose room key has not come yet: they wait for it (a bounded number, for
//! a while) and are explained once if it never comes. Decrypting itself is `crypto`'s.

use std::time::Duration;

use super::client::Event;
use super::crypto;
use super::messages::message_content;
use super::Bot;
use crate::reply::{Reply, Text, Tone};

/// How long an encrypted message waits for its room key (which may come in a later sync than
/// the message) before the bot says it cannot read it.
const KEY_WAIT: Duration = Duration::from_secs(10);
/// Messages waiting for keys, at most (older ones are explained at once beyond this).
const MAX_WAITING: usize = 256;

/// An encrypted message waiting for its room key.
pub(super) struct Waiting {
    room: String,
    event: Event,
    since: std::time::Instant,
}

impl Bot {
    /// Keeps an event whose room key has not come yet, for `retry_waiting`.
    pub(super) fn wait_for_key(&self, room: &str, e: &Event, why: &crypto::Undecryptable) {
        tracing::info!(%room, event = %e.event_id, why = %why.why, "cannot decrypt yet; waiting for the key");
        let mut waiting = self.waiting.lock().expect("not poisoned");
        if waiting.len() >= MAX_WAITING {
            // Bounded: the oldest is given up on (explained at the next retry).
            waiting.remove(0);
        }
        waiting.push(Waiting {
            room: room.to_string(),
            event: e.clone(),
            since: std::time::Instant::now(),
        });
    }

    /// Messages that waited for their keys: decrypted and handled if the keys came, explained
    /// once (per sender and session) when they have waited long enough.
    pub(super) async fn retry_waiting(&self) {
        let waiting = std::mem::take(&mut *self.waiting.lock().expect("not poisoned"));
        for w in waiting {
            match self.crypto.decrypt(&w.room, &w.event).await {
                Ok(clear) => self.on_clear_event(&w.room, &clear).await,
                Err(_) if w.since.elapsed() < KEY_WAIT => {
                    self.waiting.lock().expect("not poisoned").push(w);
                }
                Err(why) => self.explain_undecryptable(&w.room, &w.event, &why).await,
            }
        }
    }

    /// A message whose key never came: said once per sender and key session, in reply to it.
    async fn explain_undecryptable(&self, room: &str, e: &Event, why: &crypto::Undecryptable) {
        tracing::warn!(%room, event = %e.event_id, sender = %e.sender, why = %why.why, "cannot decrypt");
        let first = self
            .ctx
            .store
            .claim_undecryptable_notice(&self.me, &e.sender, &why.session_id)
            .await
            .unwrap_or(false);
        if !first {
            return;
        }
        let mut r = Reply::new(Tone::Refusal);
        r.summary = Some(Text::plain(format!(
            "I could not decrypt a message from {} here: its key never reached me. If it was for me, please send it again. If this keeps happening, let your client share keys with my device (verify it, or allow unverified devices in this room).",
            e.sender
        )));
        let txn = format!("undecryptable-{}", e.event_id);
        self.send(room, &txn, &message_content(&r, "m.notice", Some(e)))
            .await;
    }
}
