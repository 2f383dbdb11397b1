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
        (CommandName::Standard, "identifier") => standards(atlas, &partial),
        (
            CommandName::WhoWorksOn
            | CommandName::Follow
            | CommandName::Unfollow
            | CommandName::Event,
            "topic",
        ) => topics(atlas, &partial),
        (CommandName::Document, "query") => documents(atlas, &partial),
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

/// Standards whose number starts with what was typed, or whose identifier contains it.
fn standards(atlas: &Atlas, partial: &str) -> Vec<Choice> {
    let key = StandardId::parse(partial)
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

/// Topics by any of their terms, each topic once.
fn topics(atlas: &Atlas, partial: &str) -> Vec<Choice> {
    let mut seen = std::collections::HashSet::new();
    atlas
        .topic_terms
        .complete(partial, MAX_CHOICES * 2)
        .into_iter()
        .filter(|e| seen.insert(e.payload))
        .filter_map(|e| atlas.topic_names.get(&e.payload))
        .map(|(_, n)| choice(n, n))
        .collect()
}

/// Documents by title: shown with their symbol where they have one, which is what is filled in.
fn documents(atlas: &Atlas, partial: &str) -> Vec<Choice> {
    atlas
        .document_titles
        .complete(partial, MAX_CHOICES)
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
        .collect()
}

/// Completions of a typed line at its end (the console's Tab): replace from byte `start` of
/// the line with one of `choices`. Command names (`/act` → `/actor `), subcommands
/// (`/event ad` → `add `), option names (`/event add wh` → `when:`) and option values, named
/// (`/follow topic:cyb` → `topic:Cybersecurity `) or positional (`/actor wor` → `World …`),
/// from the same `complete` the Discord adapter uses.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LineCompletion {
    pub start: usize,
    pub choices: Vec<Choice>,
}

pub fn complete_line(atlas: &Atlas, line: &str) -> LineCompletion {
    let none = LineCompletion::default();
    let Some(prefix) = line.chars().next().filter(|c| *c == '/' || *c == '!') else {
        return none;
    };
    let body = &line[1..];
    let Some((name, rest)) = body.split_once(' ') else {
        // The command name itself.
        let partial = body.to_lowercase();
        let choices = super::spec::manifests()
            .filter(|(_, m)| m.name.starts_with(&partial))
            .map(|(_, m)| {
                choice(
                    &format!("{prefix}{}", m.name),
                    &format!("{prefix}{} ", m.name),
                )
            })
            .collect();
        return LineCompletion { start: 0, choices };
    };
    let Some(command) = super::spec::find(&name.to_lowercase()) else {
        return none;
    };
    let manifest = super::spec::manifest(command);
    let rest_at = line.len() - rest.len();
    if manifest.subcommands.is_empty() {
        return options_and_values(atlas, command, &manifest.options, line, rest_at);
    }
    let after = rest.trim_start();
    let sub_at = line.len() - after.len();
    match after.split_once(' ') {
        None => {
            let choices = manifest
                .subcommands
                .iter()
                .filter(|s| s.name.starts_with(&after.to_lowercase()))
                .map(|s| choice(&s.name, &format!("{} ", s.name)))
                .collect();
            LineCompletion {
                start: sub_at,
                choices,
            }
        }
        Some((sub, tail)) => match manifest.subcommand(&sub.to_lowercase()) {
            Some(s) => {
                options_and_values(atlas, command, &s.options, line, line.len() - tail.len())
            }
            None => none,
        },
    }
}

/// Where the word being typed starts in `line` (after `from`): after the last space that is
/// not inside a "quoted value".
fn word_start(line: &str, from: usize) -> usize {
    let mut start = from;
    let mut quoted = false;
    for (i, c) in line[from..].char_indices() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => start = from + i + 1,
            _ => {}
        }
    }
    start
}

/// `name:value`, quoted when the value has spaces, and a space to go on typing.
fn named(option: &str, value: &str) -> String {
    if value.contains(' ') {
        format!("{option}:\"{value}\" ")
    } else {
        format!("{option}:{value} ")
    }
}

fn options_and_values(
    atlas: &Atlas,
    command: CommandName,
    options: &[super::spec::OptionSpec],
    line: &str,
    from: usize,
) -> LineCompletion {
    let at = word_start(line, from);
    let word = &line[at..];
    if let Some((option, partial)) = word.split_once(':') {
        let partial = partial.trim_start_matches('"');
        let choices = complete(atlas, command, option, partial)
            .into_iter()
            .map(|c| choice(&c.name, &named(option, &c.value)))
            .collect();
        return LineCompletion { start: at, choices };
    }
    let mut choices = Vec::new();
    // Positional: the words typed so far fill the option a bare value goes to (the first
    // required one, or the first optional string option), as long as nothing is named yet.
    let typed = line[from..].trim_start();
    let positional = options.iter().find(|o| o.required).or_else(|| {
        options
            .iter()
            .find(|o| o.kind == super::spec::OptionKind::String)
    });
    if let Some(o) = positional.filter(|_| !typed.contains(':') && !typed.is_empty()) {
        let start = line.len() - typed.len();
        let values = complete(atlas, command, &o.name, typed);
        if !values.is_empty() {
            choices = values
                .into_iter()
                .map(|c| choice(&c.name, &c.value))
                .collect();
            return LineCompletion { start, choices };
        }
    }
    // Option names not given yet.
    let given = |name: &str| {
        line[from..at]
            .split_whitespace()
            .any(|w| w.strip_prefix(name).is_some_and(|r| r.starts_with(':')))
    };
    choices.extend(
        options
            .iter()
            .filter(|o| o.name.starts_with(&word.to_lowercase()) && !given(&o.name))
            .map(|o| choice(&format!("{}:", o.name), &format!("{}:", o.name))),
    );
    LineCompletion { start: at, choices }
}
