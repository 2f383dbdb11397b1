//! `atlasbot discord register`: the application's commands, generated from commands/*.toml
//! and sent in one bulk overwrite (globally, or to one guild for instant updates while
//! developing). Moderator-only commands carry `default_member_permissions` — a hint for
//! Discord's UI only; the core checks permissions on every use.
//!
//! Lookups work wherever the app is: installed to a server or to a person (then in their DMs
//! and any server), while event and settings commands stay in servers that installed it. The
//! message menu's "Look up in atlas" finds what a message names.

use serde_json::{json, Value};

use super::{LOOK_UP_MESSAGE, MODERATOR_PERMISSIONS};
use crate::commands::spec::{self, OptionKind, OptionSpec, Permission};

fn option(o: &OptionSpec) -> Value {
    let mut v = json!({
        "name": o.name,
        "description": o.description,
        "required": o.required,
    });
    match o.kind {
        OptionKind::String => {
            v["type"] = json!(3);
            v["max_length"] = json!(crate::commands::MAX_INPUT_CHARS);
            if o.choices.is_empty() {
                v["autocomplete"] = json!(o.autocomplete);
            } else {
                // Discord refuses choices together with autocomplete.
                let choices: Vec<Value> = o
                    .choices
                    .iter()
                    .map(|c| json!({"name": c, "value": c}))
                    .collect();
                v["choices"] = json!(choices);
            }
        }
        OptionKind::Integer => {
            v["type"] = json!(4);
            v["min_value"] = json!(o.min);
            if let Some(max) = o.max {
                v["max_value"] = json!(max);
            }
        }
        OptionKind::Channel => {
            v["type"] = json!(7);
            // Text and announcement channels: where messages can be posted.
            v["channel_types"] = json!([0, 5]);
        }
        OptionKind::Role => v["type"] = json!(8),
        OptionKind::Attachment => v["type"] = json!(11),
    }
    v
}

/// Required options first: Discord insists on it.
fn options(list: &[OptionSpec]) -> Vec<Value> {
    let mut sorted: Vec<&OptionSpec> = list.iter().collect();
    sorted.sort_by_key(|o| !o.required);
    sorted.into_iter().map(option).collect()
}

/// Installation kinds (`integration_types`): to a server, to a person.
const GUILD_INSTALL: u64 = 0;
const USER_INSTALL: u64 = 1;
/// Where a command may be used (`contexts`): a server, the bot's DM, other DMs and groups.
const IN_GUILD: u64 = 0;
const IN_BOT_DM: u64 = 1;
const IN_PRIVATE_CHANNEL: u64 = 2;

/// Anywhere, however installed: lookups need nothing of a server.
fn anywhere() -> Value {
    json!({
        "integration_types": [GUILD_INSTALL, USER_INSTALL],
        "contexts": [IN_GUILD, IN_BOT_DM, IN_PRIVATE_CHANNEL],
    })
}

/// The message menu's command (type 3: no description, no options).
fn look_up_message() -> Value {
    let mut c = json!({"type": 3, "name": LOOK_UP_MESSAGE});
    extend(&mut c, anywhere());
    c
}

fn extend(c: &mut Value, more: Value) {
    if let (Some(c), Value::Object(more)) = (c.as_object_mut(), more) {
        c.extend(more);
    }
}

/// Every command, as Discord's bulk-overwrite body.
pub fn commands() -> Value {
    let mut all: Vec<Value> = spec::manifests()
        .map(|(name, m)| {
            let mut c = json!({
                "type": 1,
                "name": m.name,
                "description": m.summary,
            });
            // Events, reminders and settings belong to a server's space (and need the bot
            // there); lookups go wherever the person goes.
            if name.is_lookup() {
                extend(&mut c, anywhere());
            } else {
                extend(
                    &mut c,
                    json!({"integration_types": [GUILD_INSTALL], "contexts": [IN_GUILD]}),
                );
            }
            if m.subcommands.is_empty() {
                c["options"] = json!(options(&m.options));
            } else {
                let subs: Vec<Value> = m
                    .subcommands
                    .iter()
                    .map(|s| {
                        let mut options = options(&s.options);
                        // With a form, the subcommand may come bare (and opens the form).
                        if !s.form.is_empty() {
                            for o in &mut options {
                                o["required"] = json!(false);
                            }
                        }
                        json!({
                            "type": 1,
                            "name": s.name,
                            "description": s.summary,
                            "options": options,
                        })
                    })
                    .collect();
                c["options"] = json!(subs);
            }
            let moderators_only = m.permission == Permission::Moderator
                && (m.subcommands.is_empty()
                    || m.subcommands
                        .iter()
                        .all(|s| s.permission == Permission::Moderator));
            if moderators_only {
                c["default_member_permissions"] = json!(MODERATOR_PERMISSIONS.to_string());
            }
            c
        })
        .collect();
    all.push(look_up_message());
    json!(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_work_wherever_the_app_is_installed_and_events_stay_in_servers() {
        let all = commands();
        let by_name = |n: &str| {
            all.as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == n)
                .unwrap_or_else(|| panic!("{n} is registered"))
                .clone()
        };
        for lookup in [
            "actor",
            "standard",
            "who-works-on",
            "document",
            "define",
            "search",
            "topics",
            "help",
            LOOK_UP_MESSAGE,
        ] {
            let c = by_name(lookup);
            assert_eq!(c["integration_types"], json!([0, 1]), "{lookup}");
            assert_eq!(c["contexts"], json!([0, 1, 2]), "{lookup}");
        }
        for server_only in ["event", "events", "remind", "reminders", "settings"] {
            let c = by_name(server_only);
            assert_eq!(c["integration_types"], json!([0]), "{server_only}");
            assert_eq!(c["contexts"], json!([0]), "{server_only}");
        }
        // `/event add` may come bare (it then opens its form): no option is required there.
        let event = by_name("event");
        let add = event["options"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "add")
            .unwrap();
        assert!(add["options"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["required"] == false));
        let menu = by_name(LOOK_UP_MESSAGE);
        assert_eq!(menu["type"], 3, "a message command");
        assert!(menu.get("description").is_none() && menu.get("options").is_none());
    }

    #[test]
    fn every_command_is_registered_within_discords_rules() {
        let all = commands();
        let list = all.as_array().unwrap();
        assert_eq!(list.len(), crate::commands::CommandName::ALL.len() + 1);
        assert!(list.len() <= 100);
        for c in list.iter().filter(|c| c["type"] == 1) {
            let name = c["name"].as_str().unwrap();
            assert!(
                name.len() <= 32 && name.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-'),
                "{name}"
            );
            let d = c["description"].as_str().unwrap();
            assert!(!d.is_empty() && d.chars().count() <= 100, "{name}: {d}");
            let opts = c["options"].as_array().unwrap();
            assert!(opts.len() <= 25);
            for o in opts {
                if o["type"] == 1 {
                    let sub = o["options"].as_array().unwrap();
                    let required: Vec<bool> = sub
                        .iter()
                        .map(|x| x["required"].as_bool().unwrap())
                        .collect();
                    assert!(
                        required.windows(2).all(|w| w[0] || !w[1]),
                        "{name}: required options first"
                    );
                }
            }
        }
        let event = list.iter().find(|c| c["name"] == "event").unwrap();
        let subs: Vec<&str> = event["options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert!(subs.contains(&"add") && subs.contains(&"show"));
        // /event has subcommands for everyone (show), so no UI hint; /settings channel is a picker.
        assert!(event.get("default_member_permissions").is_none());
        let settings = list.iter().find(|c| c["name"] == "settings").unwrap();
        let channel = settings["options"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "channel")
            .unwrap();
        assert_eq!(channel["options"][0]["type"], 7);
    }
}
