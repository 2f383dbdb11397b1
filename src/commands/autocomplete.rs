//! Autocompletion: (command, option, partial text) → at most 25 suggestions of at most 100
//! characters, ranked. Discord calls this on every keystroke, so it only touches memory.

use super::CommandName;
use crate::atlas::Atlas;
use crate::search::standard_id::StandardId;

pub const MAX_CHOICES: usize = 25;
pub const MAX_CHOICE_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Choice {
    /// What the user sees.
    pub name: String,
    /// What is filled in.
    pub value: String,
}

fn cap(s: &str) -> String {
    if s.chars().count() <= MAX_CHOICE_CHARS {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(MAX_CHOICE_CHARS - 1).collect();
        t.push('…');
        t
    }
}

fn choice(name: &str, value: &str) -> Choice {
    Choice {
        name: cap(name),
        value: cap(value),
    }
}

pub fn complete(atlas: &Atlas, command: CommandName, option: &str, partial: &str) -> Vec<Choice> {
    let partial: String = partial.chars().take(200).collect();
    let mut out: Vec<Choice> = match (command, option) {
        (CommandName::Actor, "name")
        | (CommandName::Follow | CommandName::Unfollow | CommandName::Event, "actor")
        | (CommandName::Event, "organiser") => atlas
            .actors
            .complete(&partial, MAX_CHOICES)
            .into_iter()
            .map(|e| choice(&e.display, &e.display))
            .collect(),
        (CommandName::Standard, "identifier") => {
            let key = StandardId::parse(&partial)
                .map(|i| i.key())
                .unwrap_or_else(|| partial.chars().filter(|c| c.is_ascii_digit()).collect());
            atlas
                .standards
                .iter()
                .filter(|s| {
                    s.key.starts_with(&key)
                        || s.identifier
                            .to_lowercase()
                            .contains(&partial.to_lowercase())
                })
                .map(|s| choice(&format!("{} — {}", s.identifier, s.covers), &s.identifier))
                .collect()
        }
        (
            CommandName::WhoWorksOn
            | CommandName::Follow
            | CommandName::Unfollow
            | CommandName::Event,
            "topic",
        ) => {
            let mut seen = std::collections::HashSet::new();
            atlas
                .topic_terms
                .complete(&partial, MAX_CHOICES * 2)
                .into_iter()
                .filter(|e| seen.insert(e.payload))
                .filter_map(|e| atlas.topic_names.get(&e.payload))
                .map(|(_, n)| choice(n, n))
                .collect()
        }
        (CommandName::Document, "query") => atlas
            .document_titles
            .complete(&partial, MAX_CHOICES)
            .into_iter()
            .map(|e| {
                let d = &atlas.documents[e.payload];
                let value = d.symbol.clone().unwrap_or_else(|| d.title.clone());
                choice(
                    &d.symbol
                        .as_ref()
                        .map_or(d.title.clone(), |s| format!("{s} — {}", d.title)),
                    &value,
                )
            })
            .collect(),
        (CommandName::Define, "term") => atlas
            .glossary_terms
            .complete(&partial, MAX_CHOICES)
            .into_iter()
            .map(|e| choice(&e.display, &e.display))
            .collect(),
        (CommandName::Help, "command") => super::spec::manifests()
            .filter(|(_, m)| m.name.starts_with(&partial.to_lowercase()))
            .map(|(_, m)| choice(&m.name, &m.name))
            .collect(),
        _ => vec![],
    };
    out.dedup();
    out.truncate(MAX_CHOICES);
    out
}
