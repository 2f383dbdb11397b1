//! /search <words>: everything at once, grouped by kind.

use std::collections::HashSet;

use super::cite;
use super::evidence::Highlighter;
use super::invocation::Args;
use super::shorten;
use super::who_works_on::resolve;
use crate::atlas::{Atlas, Passages};
use crate::error::CommandError;
use crate::reply::{Item, Paging, Reply};
use crate::search::normalize::name_key;
use crate::search::{fts_words, Query};

const PASSAGES: usize = 5;

#[derive(Debug, Clone)]
pub struct Params {
    pub words: String,
    pub page: u32,
}

pub fn parse(args: &Args) -> Result<Params, CommandError> {
    Ok(Params {
        words: args.get("words").unwrap_or_default().to_string(),
        page: args.integer("page").unwrap_or(1).clamp(1, 10_000) as u32,
    })
}

pub fn run(atlas: &Atlas, p: Params) -> Result<Reply, CommandError> {
    let typed = shorten(p.words.trim(), 60);
    let mut r = Reply::answer(format!("Search: {typed}"));
    let mut any = false;
    if p.page == 1 {
        for (heading, items) in direct_matches(atlas, &p.words) {
            any |= !items.is_empty();
            r = r.section(heading, items);
        }
    }
    if let Some((all, any_word)) = fts_words(&p.words) {
        let found = passages(atlas, &p, &all, &any_word);
        any |= !found.items.is_empty();
        r = r.section(&format!("Passages ({} found)", found.total), found.items);
        if found.paging.is_some() {
            r.paging = found.paging;
        }
    }
    if !any {
        return Ok(Reply::not_found(format!(
            "Nothing in the atlas matches “{typed}”. /topics lists the topics, /help the commands."
        )));
    }
    Ok(r)
}

/// The named things the words match, one section per kind, in the order they are shown.
/// A kind with nothing to show has no items (and so no section).
fn direct_matches(atlas: &Atlas, words: &str) -> Vec<(&'static str, Vec<Item>)> {
    vec![
        ("Actors", matching_actors(atlas, words)),
        ("Topics", matching_topic(atlas, words)),
        ("Standards", matching_standards(atlas, words)),
        ("Documents and processes", matching_documents(atlas, words)),
        ("Glossary", matching_terms(atlas, words)),
    ]
}

fn matching_actors(atlas: &Atlas, words: &str) -> Vec<Item> {
    let mut seen = HashSet::new();
    let mut actors = Vec::new();
    for (id, score, _) in super::actor::find(atlas, words) {
        if score < 0.8 || !seen.insert(id) || actors.len() >= 5 {
            continue;
        }
        if let Some(a) = atlas.actor(id) {
            actors.push(
                Item::labelled(
                    a.full_name.clone().unwrap_or(a.name.clone()),
                    a.summary
                        .clone()
                        .map(|s| shorten(&s, 200))
                        .unwrap_or_default(),
                )
                .more(format!("/actor {}", super::actor::display_name(&a))),
            );
        }
    }
    actors
}

fn matching_topic(atlas: &Atlas, words: &str) -> Vec<Item> {
    resolve(atlas, words)
        .and_then(|t| atlas.topic_names.get(&t))
        .map(|(_, name)| vec![Item::new(name.clone()).more(format!("/who-works-on {name}"))])
        .unwrap_or_default()
}

/// Standards whose identifier holds the digits typed; fewer than three digits match too much.
fn matching_standards(atlas: &Atlas, words: &str) -> Vec<Item> {
    let key = name_key(words).replace(' ', "");
    let digits: String = key.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 3 {
        return Vec::new();
    }
    atlas
        .standards
        .iter()
        .filter(|s| s.key.contains(&digits))
        .take(5)
        .map(|s| {
            Item::labelled(s.identifier.clone(), s.covers.clone())
                .more(format!("/standard {}", s.identifier))
        })
        .collect()
}

fn matching_documents(atlas: &Atlas, words: &str) -> Vec<Item> {
    atlas
        .document_titles
        .lookup(words, 5)
        .into_iter()
        .filter(|m| m.score >= 0.8)
        .map(|m| {
            let d = &atlas.documents[m.entry.payload];
            Item::labelled(d.title.clone(), d.kind.clone()).more(format!(
                "/document {}",
                d.symbol.clone().unwrap_or_else(|| shorten(&d.title, 80))
            ))
        })
        .collect()
}

fn matching_terms(atlas: &Atlas, words: &str) -> Vec<Item> {
    let typed_key = name_key(words);
    atlas
        .glossary
        .iter()
        .filter(|g| g.key == typed_key)
        .map(|g| {
            Item::labelled(g.term.clone(), g.expansion.clone()).more(format!("/define {}", g.term))
        })
        .collect()
}

/// One page of full-text passages, with how many were found in all.
struct PassagePage {
    items: Vec<Item>,
    total: usize,
    paging: Option<Paging>,
}

fn passages(atlas: &Atlas, p: &Params, all: &Query, any_word: &Query) -> PassagePage {
    let mut hits = atlas.search_passages(all, Passages::All, 200);
    if hits.is_empty() {
        hits = atlas.search_passages(any_word, Passages::All, 200);
    }
    let pages = hits.len().div_ceil(PASSAGES).max(1) as u32;
    let page = p.page.min(pages);
    // Highlight the words searched for, each on its own; show the sentence that says the
    // most of them.
    let words: Vec<String> = crate::search::tokens(&p.words)
        .into_iter()
        .filter(|w| w.len() > 1 && !crate::search::is_stop_word(w))
        .collect();
    let hl = Highlighter::new(&words);
    let each: Vec<Highlighter> = words
        .iter()
        .map(|w| Highlighter::new(std::slice::from_ref(w)))
        .collect();
    let items: Vec<Item> = hits
        .iter()
        .skip((page as usize - 1) * PASSAGES)
        .take(PASSAGES)
        .map(|h| {
            let mut item =
                Item::new(hl.evidence_covering(&h.text, &each)).source(cite(&h.file, h.line));
            item.label = h.actor_name.clone();
            item
        })
        .collect();
    let paging = (pages > 1).then(|| Paging {
        page,
        pages,
        command: format!("/search words:\"{}\" page:{{page}}", p.words.trim()),
    });
    PassagePage {
        items,
        total: hits.len(),
        paging,
    }
}
