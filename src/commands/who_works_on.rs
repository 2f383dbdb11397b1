//! /who-works-on <topic> [page:N]: actors active on a topic, ranked (a profile section on the
//! topic beats a passing mention; BM25 ranks the mentions), each with the sentence that shows
//! why and the matching words marked; then related documents and processes.

use std::collections::{HashMap, HashSet};

use super::evidence::Highlighter;
use super::invocation::Args;
use super::shorten;
use super::{cite, AtlasIndex, Context};
use crate::error::CommandError;
use crate::reply::{Item, Paging, Reply, Span, Text};
use crate::search::fts_query;

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

struct Ranked {
    label: String,
    more: String,
    text: Text,
    source: Option<String>,
    /// For actors ranked by a profile section: the section and its headings. The evidence is
    /// read only for the page shown — a popular topic has thousands of such actors at scale.
    section: Option<(i64, String)>,
}

pub async fn run(ctx: &Context, index: &AtlasIndex, p: Params) -> Result<Reply, CommandError> {
    let topic = resolve(index, &p.topic);
    let terms: Vec<String> = match topic {
        Some(t) => terms_of(index, t),
        None => vec![p.topic.clone()],
    };
    let hl = Highlighter::new(&terms);
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
            let headings: Vec<String> = sections
                .iter()
                .map(|s| format!("“{}”", s.heading))
                .collect();
            seen.insert(actor_id);
            let short = first.acronym.clone().unwrap_or_else(|| first.name.clone());
            ranked.push(Ranked {
                label: label(&first.name, first.acronym.as_deref()),
                more: format!("/actor {short}"),
                text: Text::default(),
                source: None,
                section: Some((first.section_id, headings.join(", "))),
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
            if let Some(doc) = index.documents.iter().find(|x| x.id == *d) {
                if let (Some(about), "body") = (doc.about_id, doc.kind.as_str()) {
                    if seen.insert(about) {
                        if let Some(a) = ctx.store.actor(about).await? {
                            let short = super::actor::display_name(&a);
                            body_actors.push(Ranked {
                                section: None,
                                label: label(&a.name, a.acronym.as_deref()),
                                more: format!("/actor {short}"),
                                text: hl.evidence(text),
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
                section: None,
                label: label(&name, h.actor_acronym.as_deref()),
                more: format!("/actor {short}"),
                text: hl.evidence(&h.text),
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
    let mut shown: Vec<Item> = Vec::new();

    for r in ranked.iter().skip((page as usize - 1) * PAGE).take(PAGE) {
        let text = match &r.section {
            Some((section_id, headings)) => {
                let texts = ctx.store.section_texts(*section_id).await?;
                let body = texts
                    .iter()
                    .find(|t| hl.is_match(t))
                    .or(texts.first())
                    .cloned()
                    .unwrap_or_default();
                let mut text = Text(vec![Span::Plain(format!("Profile section {headings}: "))]);
                text.0.extend(hl.evidence(&body).0);
                text
            }
            None => r.text.clone(),
        };
        let mut item = Item::labelled(r.label.clone(), text).more(r.more.clone());
        item.source = r.source.clone();
        shown.push(item);
    }
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
            if let Some(doc) = index.documents.iter().find(|x| x.id == *d) {
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
                    Item::labelled(label, hl.evidence(text))
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
