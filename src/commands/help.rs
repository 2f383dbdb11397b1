//! /help [command]: generated from the manifests.

use super::invocation::Args;
use super::spec::{self, Permission};
use crate::error::CommandError;
use crate::reply::{Field, Item, Reply, Text};

#[derive(Debug, Clone)]
pub struct Params {
    pub command: Option<String>,
}

pub fn parse(args: &Args) -> Result<Params, CommandError> {
    Ok(Params {
        command: args
            .get("command")
            .map(|c| c.trim_start_matches(['/', '!']).to_lowercase()),
    })
}

pub fn run(p: Params) -> Reply {
    match p.command.as_deref() {
        None => {
            let mut r = Reply::answer("What I can do");
            r.summary = Some(Text::plain("Ask about the Geneva digital-policy ecosystem. Commands start with / (or ! in chat rooms); /help <command> explains one."));
            let items = spec::manifests()
                .map(|(_, m)| {
                    Item::labelled(m.usage(), m.summary.clone()).more(format!("/help {}", m.name))
                })
                .collect();
            r.section("Commands", items)
        }
        Some(name) => match spec::find(name) {
            Some(c) => {
                let m = spec::manifest(c);
                let mut r = Reply::answer(format!("/{}", m.name));
                r.subtitle = Some(m.summary.clone());
                r.summary = Some(Text::plain(
                    m.help.split_whitespace().collect::<Vec<_>>().join(" "),
                ));
                r.fields.push(Field {
                    name: "Usage".into(),
                    value: Text::plain(m.usage()),
                    inline: false,
                });
                for o in &m.options {
                    let req = if o.required { "required" } else { "optional" };
                    r.fields.push(Field {
                        name: o.name.clone(),
                        value: Text::plain(format!("{} ({req})", o.description)),
                        inline: false,
                    });
                }
                if m.permission == Permission::Moderator {
                    r.fields.push(Field {
                        name: "Who".into(),
                        value: Text::plain("moderators only"),
                        inline: false,
                    });
                }
                r.section(
                    "Examples",
                    m.examples.iter().map(|e| Item::new(e.clone())).collect(),
                )
            }
            None => {
                let mut r = Reply::not_found(format!(
                    "There is no command /{}.",
                    name.chars().take(40).collect::<String>()
                ));
                r.suggestions.push("/help".into());
                r
            }
        },
    }
}
