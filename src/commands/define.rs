//! /define <term>: what an acronym or term stands for.

use super::cite;
use super::invocation::Args;
use super::shorten;
use crate::atlas::views::GlossaryRow;
use crate::atlas::Atlas;
use crate::error::CommandError;
use crate::reply::{Item, Reply, Text};
use crate::search::normalize::name_key;

#[derive(Debug, Clone)]
pub struct Params {
    pub term: String,
}

pub fn parse(args: &Args) -> Result<Params, CommandError> {
    Ok(Params {
        term: args.get("term").unwrap_or_default().to_string(),
    })
}

pub fn run(atlas: &Atlas, p: Params) -> Result<Reply, CommandError> {
    let key = name_key(&p.term);
    let rows: Vec<_> = atlas.glossary.iter().filter(|g| g.key == key).collect();
    let actor = atlas.actors.exact(&p.term).first().map(|e| e.payload);
    if rows.is_empty() {
        if let Some(id) = actor {
            if let Some(a) = atlas.actor(id) {
                let mut r = Reply::answer(p.term.trim().to_string());
                r.summary = Some(Text::plain(format!(
                    "{} — an organisation in the atlas.",
                    a.full_name.clone().unwrap_or(a.name.clone())
                )));
                r.suggestions
                    .push(format!("/actor {}", super::actor::display_name(&a)));
                return Ok(r);
            }
        }
        let mut r = Reply::not_found(format!(
            "“{}” is not in the glossary.",
            shorten(p.term.trim(), 60)
        ));
        r.suggestions = atlas
            .glossary_terms
            .suggest(&p.term, 3)
            .into_iter()
            .map(|e| format!("/define {}", e.display))
            .collect();
        return Ok(r);
    }
    let mut r = Reply::answer(rows[0].term.clone());
    let items: Vec<Item> = rows.iter().map(|g| meaning(g)).collect();
    if rows.len() > 1 {
        r.summary = Some(Text::plain("The sources expand it in more than one way:"));
    }
    r = r.section("Stands for", items);
    if let Some(id) = actor {
        if let Some(a) = atlas.actor(id) {
            r.suggestions
                .push(format!("/actor {}", super::actor::display_name(&a)));
        }
    }
    r.sources = Some(
        "Source: the glossary (data/glossary.toml), checked against the sources at import".into(),
    );
    Ok(r)
}

/// One expansion, with what the sources do with the term — checked at import, so true.
fn meaning(g: &GlossaryRow) -> Item {
    let at = match (&g.file, g.line) {
        (Some(f), Some(l)) => Some(cite(f, l)),
        _ => None,
    };
    let note = match (g.status.as_str(), &at) {
        ("used", Some(at)) => format!(
            " (curated: the sources write “{}” without expanding it, e.g. {at})",
            g.term
        ),
        ("absent", Some(at)) => format!(
            " (curated: the sources never write “{}”; they name it in full at {at})",
            g.term
        ),
        ("absent", None) | ("used", None) => format!(
            " (curated: the sources never write “{}” or this expansion)",
            g.term
        ),
        _ => String::new(),
    };
    let mut item = Item::new(format!("{}{note}", g.expansion));
    if g.status == "expanded" {
        item.source = at;
    }
    item
}
