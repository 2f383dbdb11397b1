//! Who is a moderator in a room: its power levels and, in newer rooms, its creators, learnt
//! from the sync or read from the room's state.

use serde_json::Value;

use super::client::Event;
use super::Bot;
use crate::domain::SpaceId;

/// A room's power facts: its power levels and, from room version 12 on, its creators (who
/// outrank every power level and are not listed in it).
#[derive(Debug, Clone, Default)]
pub(super) struct RoomPower {
    levels: Option<Value>,
    creators: Option<Vec<String>>,
}

impl RoomPower {
    fn level_of(&self, user: &str) -> i64 {
        if self
            .creators
            .as_ref()
            .is_some_and(|c| c.iter().any(|u| u == user))
        {
            return i64::MAX;
        }
        let Some(levels) = &self.levels else {
            return 0;
        };
        // Old rooms may carry levels as strings; both forms are read.
        let number = |v: &Value| v.as_i64().or_else(|| v.as_str()?.trim().parse().ok());
        levels["users"]
            .get(user)
            .and_then(number)
            .or_else(|| number(&levels["users_default"]))
            .unwrap_or(0)
    }
}

/// The creators who outrank power levels: the create event's sender and `additional_creators`,
/// in room versions with privileged creators (12 and later). Earlier versions: none.
fn privileged_creators(create: &Event) -> Vec<String> {
    let version = create.content["room_version"].as_str().unwrap_or("1");
    if version.parse::<u32>().map_or(true, |v| v < 12) {
        return vec![];
    }
    let mut creators = vec![create.sender.clone()];
    if let Some(more) = create.content["additional_creators"].as_array() {
        creators.extend(more.iter().filter_map(|v| v.as_str().map(str::to_string)));
    }
    creators
}

impl Bot {
    /// Takes the power facts a sync shows of a room (its power levels and create event).
    pub(super) async fn learn_power(&self, room: &str, events: impl Iterator<Item = &Event>) {
        let mut power = self.power.lock().await;
        for e in events {
            match e.kind.as_str() {
                "m.room.power_levels" if e.state_key.as_deref() == Some("") => {
                    power.entry(room.to_string()).or_default().levels = Some(e.content.clone());
                }
                "m.room.create" if e.state_key.as_deref() == Some("") => {
                    power.entry(room.to_string()).or_default().creators =
                        Some(privileged_creators(e));
                }
                _ => {}
            }
        }
    }

    /// The room's power facts, read from the room's state when the sync has not shown them
    /// (after a restart, the sync resumes without repeating the state).
    async fn room_power(&self, room: &str) -> RoomPower {
        let known = self
            .power
            .lock()
            .await
            .get(room)
            .cloned()
            .unwrap_or_default();
        if known.levels.is_some() && known.creators.is_some() {
            return known;
        }
        let state = match self.client.get().room_state(room).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(%room, error = %e, "cannot read the room's power levels");
                return known;
            }
        };
        let mut fresh = RoomPower {
            levels: None,
            creators: Some(vec![]),
        };
        for e in state.iter().filter(|e| e.state_key.as_deref() == Some("")) {
            match e.kind.as_str() {
                "m.room.power_levels" => fresh.levels = Some(e.content.clone()),
                "m.room.create" => fresh.creators = Some(privileged_creators(e)),
                _ => {}
            }
        }
        self.power
            .lock()
            .await
            .insert(room.to_string(), fresh.clone());
        fresh
    }

    /// Whether `user` may moderate the room (power level at or above the space's threshold),
    /// and that threshold.
    pub(super) async fn is_moderator(&self, room: &str, user: &str) -> (bool, i64) {
        let space = match self.ctx.store.space(&SpaceId::matrix(room)).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the space's settings");
                return (false, 50);
            }
        };
        let level = self.room_power(room).await.level_of(user);
        (level >= space.moderator_power, space.moderator_power)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn power_levels_decide_with_creators_above_all_in_new_rooms() {
        let mut p = RoomPower {
            levels: Some(json!({"users": {"@mod:x": 50, "@old:x": "75"}, "users_default": 0})),
            creators: Some(vec!["@creator:x".into()]),
        };
        assert_eq!(p.level_of("@mod:x"), 50);
        assert_eq!(p.level_of("@old:x"), 75);
        assert_eq!(p.level_of("@someone:x"), 0);
        assert_eq!(p.level_of("@creator:x"), i64::MAX);
        p.levels = Some(json!({"users_default": 10}));
        assert_eq!(p.level_of("@someone:x"), 10);
    }

    #[test]
    fn only_version_12_rooms_have_privileged_creators() {
        let create = |v: &str| Event {
            kind: "m.room.create".into(),
            sender: "@c:x".into(),
            content: json!({"room_version": v, "additional_creators": ["@d:x"]}),
            ..Event::default()
        };
        assert_eq!(privileged_creators(&create("10")), Vec::<String>::new());
        assert_eq!(privileged_creators(&create("12")), vec!["@c:x", "@d:x"]);
    }
}
