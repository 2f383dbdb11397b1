//! /standard <identifier>: a technical standard, however its identifier is written.

use regex::Regex;

use super::cite;
use super::invocation::Args;
use super::shorten;
use crate::atlas::views::{StandardMention, StandardRow};
use crate::atlas::Atlas;
use crate::error::CommandError;
use crate::reply::{Item, Reply, Text};
use crate::search::standard_id::StandardId;

#[derive(Debug, Clone)]
pub struct Params {
    pub identifier: String,
}

pub fn parse(args: &Args) -> Result<Params, CommandError> {
    Ok(Params {
        identifier: args.get("identifier").unwrap_or_default().to_string(),
    })
}

fn type_name(kind: &str) -> &'static str {
    match kind {
        "TR" => "Technical Report",
        "TS" => "Technical Specification",
        _ => "International Standard",
    }
}

fn display(s: &StandardRow) -> String {
    if s.series {
        format!("{} series", s.identifier)
    } else {
        s.identifier.clone()
    }
}

/// Identifiers whose number is closest to what was typed (for "did you mean"), never a match.
fn closest<'a>(atlas: &'a Atlas, typed: &str) -> Vec<&'a StandardRow> {
    let digits: String = typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect::<String>()
        .to_lowercase();
    let digits = digits
        .trim_start_matches(|c: char| c.is_ascii_alphabetic())
        .to_string();
    if digits.is_empty() {
        return vec![];
    }
    let mut scored: Vec<(usize, &StandardRow)> = atlas
        .standards
        .iter()
        .map(|s| (strsim::levenshtein(&digits, &s.key), s))
        .filter(|(d, _)| *d <= 2)
        .collect();
    scored.sort_by_key(|(d, s)| (*d, s.key.clone()));
    scored.into_iter().take(3).map(|(_, s)| s).collect()
}

/// The registry's members of the family `id` names: those whose `family` is that number's
/// ("ISO/IEC 27000 family"), when `id` is not itself a standard of the atlas.
fn family_members<'a>(atlas: &'a Atlas, id: &StandardId) -> Vec<&'a StandardRow> {
    if id.part.is_some() || atlas.standards.iter().any(|s| s.key == id.key()) {
        return vec![];
    }
    let number = Regex::new(&format!(r"\b{}\b", id.number)).expect("digits only");
    atlas
        .standards
        .iter()
        .filter(|s| s.family.as_deref().is_some_and(|f| number.is_match(f)))
        .collect()
}

pub fn run(atlas: &Atlas, p: Params) -> Result<Reply, CommandError> {
    let typed = shorten(p.identifier.trim(), 60);
    let Some(id) = StandardId::parse(&p.identifier) else {
        return Ok(not_an_identifier(atlas, &p.identifier, &typed));
    };
    if let Some(s) = atlas.standards.iter().find(|s| s.key == id.key()) {
        return Ok(card(atlas, s, None));
    }
    if let Some(r) = series_of_part(atlas, &id) {
        return Ok(r);
    }
    if let Some(r) = family(atlas, &id, &typed) {
        return Ok(r);
    }
    if let Some(r) = parts_numbered(atlas, &id) {
        return Ok(r);
    }
    let mut r = Reply::not_found(format!("No standard {typed} in the atlas."));
    r.suggestions = closest(atlas, &id.key())
        .into_iter()
        .map(|s| format!("/standard {}", s.identifier))
        .collect();
    Ok(r)
}

fn not_an_identifier(atlas: &Atlas, identifier: &str, typed: &str) -> Reply {
    let mut r = Reply::not_found(format!("“{typed}” is not a standard identifier I know. Identifiers look like 62443, ISO/IEC 27001 or TR 24028."));
    r.suggestions = closest(atlas, identifier)
        .into_iter()
        .map(|s| format!("/standard {}", s.identifier))
        .collect();
    if r.suggestions.is_empty() {
        r.suggestions.push(format!("/search {typed}"));
    }
    r
}

/// A part the atlas does not have: its series, saying so.
fn series_of_part(atlas: &Atlas, id: &StandardId) -> Option<Reply> {
    // Only a part has a series to fall back on.
    id.part.as_ref()?;
    let s = atlas.standards.iter().find(|s| s.key == id.base_key())?;
    let written = format!(
        "{} {}",
        if id.body.is_empty() {
            s.body.as_str()
        } else {
            id.body.as_str()
        },
        id.key().to_uppercase()
    );
    let note = format!(
        "{written} itself is not in the atlas; this is the {} it belongs to.",
        display(s)
    );
    Some(card(atlas, s, Some(note)))
}

/// A family ("ISO/IEC 27000", "27000 family"): its members in the atlas, never one of them
/// in its place.
fn family(atlas: &Atlas, id: &StandardId, typed: &str) -> Option<Reply> {
    let members = family_members(atlas, id);
    let first = members.first()?;
    let family = first.family.clone().unwrap_or_default();
    let mut r = Reply::answer(family.clone());
    r.summary = Some(Text::plain(format!(
        "{typed} itself is not in the atlas as a standard. These are the members of the {family} in the atlas (data/standards.toml):"
    )));
    Some(r.section("Members", listed(&members)))
}

/// A bare number shared by several parts: list them.
fn parts_numbered(atlas: &Atlas, id: &StandardId) -> Option<Reply> {
    let parts: Vec<&StandardRow> = atlas
        .standards
        .iter()
        .filter(|s| s.base_number == id.number)
        .collect();
    match parts.len() {
        0 => None,
        1 => Some(card(atlas, parts[0], None)),
        _ => {
            let mut r = Reply::answer(format!("Standards numbered {}", id.number));
            r.summary = Some(Text::plain(format!(
                "{} parts of {} are in the atlas:",
                parts.len(),
                id.number
            )));
            Some(r.section("Parts", listed(&parts)))
        }
    }
}

/// Standards as a list, each with what it covers and the command for its card.
fn listed(standards: &[&StandardRow]) -> Vec<Item> {
    standards
        .iter()
        .map(|s| {
            Item::labelled(display(s), s.covers.clone()).more(format!("/standard {}", s.identifier))
        })
        .collect()
}

fn card(atlas: &Atlas, s: &StandardRow, note: Option<String>) -> Reply {
    let mut r = Reply::answer(display(s));
    r.subtitle = Some(format!("{} · {}", type_name(&s.kind), s.body));
    // The registry's own words are said to be its own, not the sources'.
    let covers = if s.curated {
        format!(
            "{} (curated summary, data/standards.toml; the sentences below are the sources')",
            s.covers
        )
    } else {
        s.covers.clone()
    };
    r.summary = Some(Text::plain(match note {
        Some(n) => format!("{n} {covers}"),
        None => covers,
    }));
    r = registry_facts(atlas, s, r);
    let mentions = atlas.standard_mentions(s.id);
    let heading = format!(
        "Who refers to it ({} mention{})",
        mentions.len(),
        if mentions.len() == 1 { "" } else { "s" }
    );
    r = r.section(&heading, who_refers_to_it(&mentions));
    r.sources = Some(
        "Sources: the standards registry (data/standards.toml) and the sentences cited".into(),
    );
    r
}

/// What the registry says of the standard: who develops it, its kind, and its relations.
fn registry_facts(atlas: &Atlas, s: &StandardRow, r: Reply) -> Reply {
    let related = atlas.related_standards(s.id);
    let list = |rel: &str| {
        related
            .iter()
            .filter(|r| r.relation == rel)
            .map(|r| r.identifier.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    r.field(
        "Developed by",
        s.committee
            .clone()
            .map(|c| format!("{} ({c})", s.body))
            .unwrap_or_else(|| s.body.clone()),
        true,
    )
    .field("Type", type_name(&s.kind), true)
    .field(
        "Conformity assessment",
        s.conformity_note
            .clone()
            .or_else(|| s.conformity.clone())
            .unwrap_or_default(),
        false,
    )
    .field("Domain", s.domain.clone().unwrap_or_default(), false)
    .field("Family", s.family.clone().unwrap_or_default(), false)
    .field("Extends", list("extends"), false)
    .field("Extended by", list("extended-by"), false)
    .field("Other parts", list("sibling"), false)
}

/// The sentences that cite the standard, with who says them.
fn who_refers_to_it(mentions: &[StandardMention]) -> Vec<Item> {
    let mut items = Vec::new();
    let mut per_actor: Vec<(Option<String>, usize)> = Vec::new();
    // One matcher for every way the sources write it (compiling one per sentence cost more
    // than the rest of the card).
    let mut forms: Vec<String> = mentions.iter().map(|m| m.written_as.clone()).collect();
    forms.sort();
    forms.dedup();
    let hl = super::evidence::Highlighter::new(&forms);
    for m in mentions {
        // At most two sentences per actor keep the card readable.
        let count = match per_actor.iter_mut().find(|(a, _)| *a == m.actor_name) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                per_actor.push((m.actor_name.clone(), 1));
                1
            }
        };
        if count > 2 {
            continue;
        }
        let mut item = Item::new(hl.excerpt(&m.sentence, 400)).source(cite(&m.file, m.line));
        item.label = m.actor_name.clone();
        if m.actor_slug.is_some() {
            item.more = m
                .actor_acronym
                .clone()
                .or_else(|| m.actor_name.clone())
                .map(|n| format!("/actor {n}"));
        }
        items.push(item);
    }
    items
}
