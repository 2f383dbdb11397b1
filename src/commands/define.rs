//! /define <term>: what an acronym or term stands for.

use super::invocation::Args;
use super::shorten;
use super::{AtlasIndex, Context};
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

pub async fn run(ctx: &Context, index: &AtlasIndex, p: Params) -> Result<Reply, CommandError> {
    let key = name_key(&p.term);
    let rows: Vec<_> = index.glossary.iter().filter(|g| g.key == key).collect();
    let actor = index.actors.exact(&p.term).first().map(|e| e.payload);
    if rows.is_empty() {
        if let Some(id) = actor {
            if let Some(a) = ctx.store.actor(id).await? {
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
        r.suggestions = index
            .glossary_terms
            .suggest(&p.term, 3)
            .into_iter()
            .map(|e| format!("/define {}", e.display))
            .collect();
        return Ok(r);
    }
    let mut r = Reply::answer(rows[0].term.clone());
    let items: Vec<Item> = rows
        .iter()
        .map(|g| {
            Item::new(if g.curated {
                format!("{} (the sources use it without expanding it)", g.expansion)
            } else {
                g.expansion.clone()
            })
        })
        .collect();
    if rows.len() > 1 {
        r.summary = Some(Text::plain("The sources expand it in more than one way:"));
    }
    r = r.section("Stands for", items);
    if let Some(id) = actor {
        if let Some(a) = ctx.store.actor(id).await? {
            r.suggestions
                .push(format!("/actor {}", super::actor::display_name(&a)));
        }
    }
    r.sources =
        Some("Source: the glossary (data/glossary.toml), checked against the sources".into());
    Ok(r)
}
