//! /who-works-on <topic> [page:N]: actors active on a topic, ranked (a profile section on the
//! topic beats a passing mention; BM25 ranks the mentions), each with the sentence that shows
//! why and the matching words marked; then related documents and processes.

use std::collections::{HashMap, HashSet};

use regex::Regex;

use super::actor::shorten;
use super::invocation::Args;
use super::{cite, AtlasIndex, Context};
use crate::error::CommandError;
use crate::import::prose;
use crate::reply::{Item, Paging, Reply, Span, Text};
use crate::search::fts_query;
use crate::search::normalize::fold_typography;

/// Actors per page.
const PAGE: usize = 8;
/// A topic term must match at least this well to be taken as the topic.
const TOPIC_MATCH: f64 = 0.86;

#[derive(Debug, Clone)]
pub struct Params {
    pub topic: String,
    pub page: u32,
}

pub fn parse(args: &Args) -> Result<Params, CommandError> {
    Ok(Params {
        topic: args.get("topic").unwrap_or_default().to_string(),
        page: args.integer("page").unwrap_or(1).clamp(1, 10_000) as u32,
    })
}

/// The topic the words name, through the taxonomy's names and synonyms.
pub(crate) fn resolve(index: &AtlasIndex, words: &str) -> Option<i64> {
    if let Some(e) = index.topic_terms.exact(words).first() {
        return Some(e.payload);
    }
    index
        .topic_terms
        .lookup(words, 1)
        .into_iter()
        .find(|m| m.score >= TOPIC_MATCH)
        .map(|m| m.entry.payload)
}

/// All terms of a topic (name and synonyms).
fn terms_of(index: &AtlasIndex, topic: i64) -> Vec<String> {
    index
        .topic_terms
        .entries_with(|t| *t == topic)
        .map(|e| e.display.clone())
        .collect()
}

/// A regex finding any of `terms` as whole words, case-insensitively, whatever the spacing and
/// hyphenation in between ("capacity building" finds "capacity‐building").
fn terms_regex(terms: &[String]) -> Option<Regex> {
    let mut alts: Vec<String> = terms
        .iter()
        .map(|t| fold_typography(t))
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.split(|c: char| c.is_whitespace() || c == '-')
                .filter(|w| !w.is_empty())
                .map(regex::escape)
                .collect::<Vec<_>>()
                .join(r"[\s\-\u{2010}\u{2011}\u{00A0}]+")
        })
        .collect();
    alts.sort_by_key(|a| std::cmp::Reverse(a.len()));
    alts.dedup();
    if alts.is_empty() {
        return None;
    }
    Regex::new(&format!(r"(?i)\b(?:{})\b", alts.join("|"))).ok()
}

/// `text` with every occurrence of `terms` marked.
pub(crate) fn highlight_terms(text: &str, terms: &[String]) -> Text {
    let Some(re) = terms_regex(terms) else {
        return Text::plain(text);
    };
    let mut spans = Vec::new();
    let mut last = 0;
    for m in re.find_iter(text) {
        if m.start() > last {
            spans.push(Span::Plain(text[last..m.start()].to_string()));
        }
        spans.push(Span::Strong(m.as_str().to_string()));
        last = m.end();
    }
    if last < text.len() {
        spans.push(Span::Plain(text[last..].to_string()));
    }
    Text(spans)
}

/// The sentence of `text` that best shows the terms: the first one containing one.
pub(crate) fn evidence(text: &str, terms: &[String]) -> Text {
    let re = terms_regex(terms);
    let sentences = prose::sentences(text);
    let chosen = sentences
        .iter()
        .find(|s| re.as_ref().is_some_and(|r| r.is_match(s)))
        .or(sentences.first())
        .copied()
        .unwrap_or(text);
    highlight_terms(&shorten(chosen, 400), terms)
}

struct Ranked {
    actor_id: i64,
    label: String,
    more: String,
    text: Text,
    source: Option<String>,
}

pub async fn run(ctx: &Context, index: &AtlasIndex, p: Params) -> Result<Reply, CommandError> {
    let topic = resolve(index, &p.topic);
    let terms: Vec<String> = match topic {
        Some(t) => terms_of(index, t),
        None => vec![p.topic.clone()],
    };
    let mut ranked: Vec<Ranked> = Vec::new();
    let mut seen: HashSet<i64> = HashSet::new();
    if let Some(t) = topic {
        // 1. A section of the profile on the topic.
        let hits = ctx.store.heading_hits(t).await?;
        let mut per_actor: Vec<(i64, Vec<_>)> = Vec::new();
        for h in hits {
            match per_actor.iter_mut().find(|(a, _)| *a == h.actor_id) {
                Some((_, v)) => v.push(h),
                None => per_actor.push((h.actor_id, vec![h])),
            }
        }
        // Heading actors stay in atlas order: a section on the topic is the evidence, and how
        // many sections a profile splits it into says little about how active the actor is.
        for (actor_id, sections) in per_actor {
            let first = &sections[0];
            let texts = ctx.store.section_texts(first.section_id).await?;
            let body = texts
                .iter()
                .find(|t| terms_regex(&terms).is_some_and(|r| r.is_match(t)))
                .or(texts.first())
                .cloned()
                .unwrap_or_default();
            let headings: Vec<String> = sections
                .iter()
                .map(|s| format!("“{}”", s.heading))
                .collect();
            let mut text = Text(vec![Span::Plain(format!(
                "Profile section {}: ",
                headings.join(", ")
            ))]);
            text.0.extend(evidence(&body, &terms).0);
            seen.insert(actor_id);
            let short = first.acronym.clone().unwrap_or_else(|| first.name.clone());
            ranked.push(Ranked {
                actor_id,
                label: label(&first.name, first.acronym.as_deref()),
                more: format!("/actor {short}"),
                text,
                source: None,
            });
        }
    }
    // 2. Passing mentions, ranked by BM25 over every passage that names the topic.
    // Free text that is not a topic is searched word by word (all words, else any).
    let fts = match topic {
        Some(_) => fts_query(&terms),
        None => crate::search::fts_words(&p.topic).map(|(all, _)| all),
    };
    let mut docs: Vec<(i64, f64, String)> = Vec::new();
    if let Some(fts) = &fts {
        let hits = ctx.store.search_passages(fts, None, 400).await?;
        let mut best: HashMap<i64, usize> = HashMap::new();
        for (i, h) in hits.iter().enumerate() {
            if let Some(d) = h.document_id {
                if !docs.iter().any(|(id, ..)| *id == d) {
                    docs.push((d, h.rank, h.text.clone()));
                }
            }
            if let Some(a) = h.actor_id {
                best.entry(a).or_insert(i);
            }
        }
        let mut body_actors: Vec<Ranked> = Vec::new();
        let mut order: Vec<(i64, usize)> = best
            .into_iter()
            .filter(|(a, _)| !seen.contains(a))
            .collect();
        order.sort_by_key(|&(_, i)| i);
        // A "body" entry of the UN list describes an organisation: it counts for that one.
        for (d, _, text) in &docs {
            if let Some(doc) = ctx.store.document(*d).await? {
                if let (Some(about), "body") = (doc.about_id, doc.kind.as_str()) {
                    if seen.insert(about) {
                        if let Some(a) = ctx.store.actor(about).await? {
                            let short = super::actor::display_name(&a);
                            body_actors.push(Ranked {
                                actor_id: about,
                                label: label(&a.name, a.acronym.as_deref()),
                                more: format!("/actor {short}"),
                                text: evidence(text, &terms),
                                source: Some(cite(&doc.file, doc.line)),
                            });
                        }
                    }
                }
            }
        }
        for (actor_id, i) in order {
            let h = &hits[i];
            let name = h.actor_name.clone().unwrap_or_default();
            let short = h.actor_acronym.clone().unwrap_or_else(|| name.clone());
            if seen.contains(&actor_id) {
                continue;
            }
            ranked.push(Ranked {
                actor_id,
                label: label(&name, h.actor_acronym.as_deref()),
                more: format!("/actor {short}"),
                text: evidence(&h.text, &terms),
                source: Some(cite(&h.file, h.line)),
            });
        }
        ranked.extend(body_actors);
    }
    let topic_name = topic
        .and_then(|t| index.topic_names.get(&t))
        .map(|(_, n)| n.clone());
    if ranked.is_empty() {
        return Ok(not_found(index, &p.topic));
    }
    let pages = ranked.len().div_ceil(PAGE) as u32;
    let page = p.page.min(pages);
    let shown: Vec<Item> = ranked
        .iter()
        .skip((page as usize - 1) * PAGE)
        .take(PAGE)
        .map(|r| {
            let mut item = Item::labelled(r.label.clone(), r.text.clone()).more(r.more.clone());
            item.source = r.source.clone();
            let _ = r.actor_id;
            item
        })
        .collect();
    let title = match &topic_name {
        Some(n) => format!("Who works on {n}"),
        None => format!("Who mentions “{}”", shorten(&p.topic, 60)),
    };
    let mut reply = Reply::answer(title);
    reply.summary = Some(Text::plain(match &topic_name {
        Some(_) => format!(
            "{} actors: profile sections on the topic first, then passing mentions by relevance.",
            ranked.len()
        ),
        None => format!(
            "“{}” is not a topic of the taxonomy (see /topics); these actors' texts mention it.",
            shorten(&p.topic, 60)
        ),
    }));
    reply = reply.section("Actors", shown);
    if page == 1 {
        let mut items = Vec::new();
        for (d, _, text) in docs.iter() {
            if items.len() >= 8 {
                break;
            }
            if let Some(doc) = ctx.store.document(*d).await? {
                // Stories and the report are actors' text, already counted above; a body is
                // an organisation, listed with the actors.
                if doc.kind == "news" || doc.kind == "report" || doc.kind == "body" {
                    continue;
                }
                let label = match &doc.symbol {
                    Some(s) => format!("{} ({s})", doc.title),
                    None => doc.title.clone(),
                };
                let more = format!(
                    "/document {}",
                    doc.symbol
                        .clone()
                        .unwrap_or_else(|| shorten(&doc.title, 60))
                );
                items.push(
                    Item::labelled(label, evidence(text, &terms))
                        .more(more)
                        .source(format!("{}, {}", doc.kind, cite(&doc.file, doc.line))),
                );
            }
        }
        reply = reply.section("Documents and processes", items);
    }
    if pages > 1 {
        let topic_arg = topic_name.clone().unwrap_or_else(|| p.topic.clone());
        reply.paging = Some(Paging {
            page,
            pages,
            command: format!("/who-works-on topic:\"{topic_arg}\" page:{{page}}"),
        });
    }
    reply.sources = Some("Sources: profile sections of the atlas (000, 001), the UN list (002), UNICC news (003), the ICT4Peace report (004)".into());
    Ok(reply)
}

fn label(name: &str, acronym: Option<&str>) -> String {
    match acronym {
        Some(a) if a != name => format!("{name} ({a})"),
        _ => name.to_string(),
    }
}

fn not_found(index: &AtlasIndex, words: &str) -> Reply {
    let shown = shorten(words, 60);
    let mut r = Reply::not_found(format!(
        "No one in the atlas works on “{shown}”. /topics lists the topics I know."
    ));
    let mut seen = HashSet::new();
    for e in index.topic_terms.suggest(words, 6) {
        if let Some((_, name)) = index.topic_names.get(&e.payload) {
            if seen.insert(name.clone()) {
                r.suggestions.push(format!("/who-works-on {name}"));
            }
        }
    }
    r.suggestions.truncate(3);
    r
}
