//! `atlasbot discord register`: the application's commands, generated from commands/*.toml
//! and sent in one bulk overwrite (globally, or to one guild for instant updates while
//! developing). Moderator-only commands carry `default_member_permissions` — a hint for
//! Discord's UI only; the core checks permissions on every use.

use serde_json::{json, Value};

use super::MODERATOR_PERMISSIONS;
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
            v["autocomplete"] = json!(o.autocomplete);
            v["max_length"] = json!(crate::commands::MAX_INPUT_CHARS);
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

/// Every command, as Discord's bulk-overwrite body.
pub fn commands() -> Value {
    let all: Vec<Value> = spec::manifests()
        .map(|(_, m)| {
            let mut c = json!({
                "type": 1,
                "name": m.name,
                "description": m.summary,
            });
            if m.subcommands.is_empty() {
                c["options"] = json!(options(&m.options));
            } else {
                let subs: Vec<Value> = m
                    .subcommands
                    .iter()
                    .map(|s| {
                        json!({
                            "type": 1,
                            "name": s.name,
                            "description": s.summary,
                            "options": options(&s.options),
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
    json!(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_registered_within_discords_rules() {
        let all = commands();
        let list = all.as_array().unwrap();
        assert_eq!(list.len(), crate::commands::CommandName::ALL.len());
        assert!(list.len() <= 100);
        for c in list {
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
