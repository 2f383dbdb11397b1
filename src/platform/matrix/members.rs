//! Who an encrypted message is encrypted for, and how: each room's joined and invited members,
//! read once from the homeserver and then kept up to date from the sync's member events (a
//! gap in a room's timeline forgets the room, which is read again when next needed), and the
//! room's encryption settings (`m.room.encryption`: algorithm and how often the session
//! rotates, by time and by messages; `m.room.history_visibility`), learnt the same way.
//!
//! A process that does not lead the sync (another process of the cluster does) hears of no
//! member events: there, what it read is trusted for `UNSYNCED_FRESH` only.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::client::Event;

/// How long members read from the homeserver are trusted when no sync keeps them current.
const UNSYNCED_FRESH: Duration = Duration::from_secs(60);
/// Rooms remembered at most (each as large as the room): past it, all are read again.
const MAX_ROOMS: usize = 5_000;

#[derive(Debug)]
struct Room {
    members: HashSet<String>,
    read_at: Instant,
}

/// The rooms' members, as far as this process knows them.
#[derive(Debug, Default)]
pub(super) struct Members {
    rooms: Mutex<HashMap<String, Room>>,
    /// Member changes the sync has told of, per room, known or not: a list read from the
    /// homeserver while one arrived may predate it, and is not kept (`remember`).
    changes: Mutex<HashMap<String, u64>>,
}

impl Members {
    fn rooms(&self) -> std::sync::MutexGuard<'_, HashMap<String, Room>> {
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The members of `room`, if known and current (`synced`: this process's sync keeps them
    /// so); None: read them (`remember`).
    pub(super) fn of(&self, room: &str, synced: bool) -> Option<Vec<String>> {
        let rooms = self.rooms();
        let known = rooms.get(room)?;
        if !synced && known.read_at.elapsed() > UNSYNCED_FRESH {
            return None;
        }
        let mut members: Vec<String> = known.members.iter().cloned().collect();
        members.sort();
        Some(members)
    }

    /// How many member changes of `room` the sync has told of: taken before reading the
    /// members, handed to `remember`.
    pub(super) fn changes(&self, room: &str) -> u64 {
        let changes = self.changes.lock().unwrap_or_else(|e| e.into_inner());
        changes.get(room).copied().unwrap_or(0)
    }

    /// Forgets a room (the bot left it).
    pub(super) fn forget(&self, room: &str) {
        self.rooms().remove(room);
        self.bump(room);
    }

    fn bump(&self, room: &str) {
        let mut changes = self.changes.lock().unwrap_or_else(|e| e.into_inner());
        if changes.len() >= MAX_ROOMS && !changes.contains_key(room) {
            // Forgetting the counts only makes lists read before it be kept: clear the lists
            // too, so nothing read before a change survives it.
            changes.clear();
            self.rooms().clear();
        }
        *changes.entry(room.to_string()).or_default() += 1;
    }

    /// Remembers the members read from the homeserver — unless the sync told of a member
    /// change since `changes_before` (then the list may be older than what the sync said).
    pub(super) fn remember(&self, room: &str, members: &[String], changes_before: u64) {
        if self.changes(room) != changes_before {
            return;
        }
        let mut rooms = self.rooms();
        if rooms.len() >= MAX_ROOMS && !rooms.contains_key(room) {
            rooms.clear();
        }
        rooms.insert(
            room.to_string(),
            Room {
                members: members.iter().cloned().collect(),
                read_at: Instant::now(),
            },
        );
    }

    /// A sync's events of `room`: member changes applied to a room it knows; a gap in the
    /// timeline (`limited`) may have hidden some, so the room is read again when needed.
    pub(super) fn follow(&self, room: &str, events: &[Event], limited: bool) {
        let members_changed = events.iter().any(|e| e.kind == "m.room.member");
        if limited || members_changed {
            self.bump(room);
        }
        let mut rooms = self.rooms();
        if limited {
            rooms.remove(room);
            return;
        }
        let Some(known) = rooms.get_mut(room) else {
            return;
        };
        for e in events.iter().filter(|e| e.kind == "m.room.member") {
            let Some(who) = e.state_key.as_deref() else {
                continue;
            };
            match e.content["membership"].as_str() {
                Some("join" | "invite") => known.members.insert(who.to_string()),
                _ => known.members.remove(who),
            };
        }
    }
}

/// How a room's messages are encrypted: its `m.room.encryption` content and its history
/// visibility, as the crypto state machine takes them. Unknown fields keep Matrix's defaults
/// (a session rotated after a week or 100 messages).
pub(super) fn settings(
    encryption: &Value,
    history_visibility: Option<&str>,
) -> matrix_sdk_crypto::EncryptionSettings {
    use matrix_sdk_crypto::CollectStrategy;
    use ruma::events::room::encryption::RoomEncryptionEventContent;
    use ruma::events::room::history_visibility::HistoryVisibility;
    let visibility = history_visibility.map_or(HistoryVisibility::Shared, HistoryVisibility::from);
    match serde_json::from_value::<RoomEncryptionEventContent>(encryption.clone()) {
        Ok(content) => matrix_sdk_crypto::EncryptionSettings::new(
            content,
            visibility,
            CollectStrategy::default(),
        ),
        Err(_) => matrix_sdk_crypto::EncryptionSettings::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn member(who: &str, membership: &str) -> Event {
        Event {
            kind: "m.room.member".into(),
            state_key: Some(who.into()),
            content: json!({ "membership": membership }),
            ..Event::default()
        }
    }

    #[test]
    fn members_follow_the_sync_and_a_gap_forgets_the_room() {
        let m = Members::default();
        assert_eq!(m.of("!r:x", true), None, "never read");
        m.remember(
            "!r:x",
            &["@ann:x".into(), "@bob:x".into()],
            m.changes("!r:x"),
        );
        m.follow(
            "!r:x",
            &[
                member("@bob:x", "leave"),
                member("@cy:x", "join"),
                member("@di:x", "invite"),
            ],
            false,
        );
        assert_eq!(
            m.of("!r:x", true).unwrap(),
            ["@ann:x", "@cy:x", "@di:x"],
            "who left is not encrypted for; who joined or was invited is"
        );
        m.follow("!r:x", &[member("@ann:x", "ban")], false);
        assert!(!m.of("!r:x", true).unwrap().contains(&"@ann:x".to_string()));
        m.follow("!r:x", &[], true);
        assert_eq!(m.of("!r:x", true), None, "a gap: read the room again");
    }

    #[test]
    fn a_list_read_while_the_sync_told_of_a_leave_is_not_kept() {
        let m = Members::default();
        let before = m.changes("!r:x");
        // The read is on its way; meanwhile the sync says Bob left (the room not known yet).
        m.follow("!r:x", &[member("@bob:x", "leave")], false);
        m.remember("!r:x", &["@ann:x".into(), "@bob:x".into()], before);
        assert_eq!(
            m.of("!r:x", true),
            None,
            "read again, not trusted with Bob in it"
        );
    }

    #[test]
    fn a_rooms_rotation_settings_are_kept() {
        let s = settings(
            &json!({"algorithm": "m.megolm.v1.aes-sha2", "rotation_period_ms": 3_600_000, "rotation_period_msgs": 5}),
            Some("joined"),
        );
        assert_eq!(s.rotation_period, Duration::from_secs(3600));
        assert_eq!(s.rotation_period_msgs, 5);
        assert_eq!(
            s.history_visibility,
            ruma::events::room::history_visibility::HistoryVisibility::Joined
        );
        let defaults = settings(&json!({"algorithm": "m.megolm.v1.aes-sha2"}), None);
        assert_eq!(defaults.rotation_period_msgs, 100);
    }
}
