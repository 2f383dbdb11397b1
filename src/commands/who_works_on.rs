//! /who-works-on <topic> [page:N]: actors active on a topic, most active first (the ranking
//! `import::ranking` computes at import: how much of an actor's own text is about the topic),
//! each with the sentence that shows the link and the matching words marked; then related
//! documents and processes. Words that are not a topic list the actors whose text mentions them.

use std::collections::{HashMap, HashSet};

use super::cite;
use super::evidence::Highlighter;
use super::invocation::Args;
use super::shorten;
use crate::atlas::views::RankedActorRow;
use crate::atlas::{Atlas, Passages};
use crate::error::CommandError;
use crate::reply::{Item, Paging, Reply, Span, Text};
use crate::search::fts_query;
use crate::search::normalize::name_key;

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
    let topic = args.get("topic").unwrap_or_default().to_string();
    // topic:"" or topic:"  ": no words to look for.
    if !topic.chars().any(char::is_alphanumeric) {
        return Err(CommandError::usage(
            "Say which topic, in any words, for example:",
            "/who-works-on cybersecurity",
        ));
    }
    Ok(Params {
        topic,
        page: args.integer("page").unwrap_or(1).clamp(1, 10_000) as u32,
    })
}

/// The topic the words name, through the taxonomy's names and synonyms. An acronym among
/// them answers to its letters in capitals only when they also spell a word the sources
/// write in lower case: "laws" is not LAWS (lethal autonomous weapons), "AI" and "ai" are.
pub(crate) fn resolve(atlas: &Atlas, words: &str) -> Option<i64> {
    let typed = words.trim();
    let fits = |term: &str| {
        !(is_acronym(term) && term != typed && atlas.written_in_lower_case(&typed.to_lowercase()))
    };
    if let Some(e) = atlas
        .topic_terms
        .exact(words)
        .into_iter()
        .find(|e| fits(&e.display))
    {
        return Some(e.payload);
    }
    atlas
        .topic_terms
        .lookup(words, 1)
        .into_iter()
        .find(|m| m.score >= TOPIC_MATCH && fits(&m.entry.display))
        .map(|m| m.entry.payload)
}

/// Written in capitals (and digits) only, two letters or more: "LAWS", "GGE", "5G".
fn is_acronym(term: &str) -> bool {
    term.chars().filter(|c| c.is_alphabetic()).count() >= 2 && !term.chars().any(char::is_lowercase)
}

/// All terms of a topic (name and synonyms).
fn terms_of(atlas: &Atlas, topic: i64) -> Vec<String> {
    atlas
        .topic_terms
        .entries_with(|t| *t == topic)
        .map(|e| e.display.clone())
        .collect()
}

pub fn run(atlas: &Atlas, p: Params) -> Result<Reply, CommandError> {
    Ok(match resolve(atlas, &p.topic) {
        Some(topic) => ranked(atlas, topic, &p),
        None => mentions(atlas, &p),
    })
}

/// A topic's term matcher, compiled once per atlas (a regex of every term in every spelling:
/// compiling it per request cost more than the rest of the answer).
fn highlighter(atlas: &Atlas, topic: i64) -> std::sync::Arc<Highlighter> {
    atlas.memo(("topic highlighter", topic), || {
        Highlighter::new(&terms_of(atlas, topic))
    })
}

/// A topic of the taxonomy: the ranking the importer computed, a page at a time, then the
/// documents and processes on it. Asked in narrower words than the topic ("PKI" for
/// encryption, "RPA" for the future of work), the actors whose own text uses those words come
/// first, in ranking order, with the sentence that uses them.
fn ranked(atlas: &Atlas, topic: i64, p: &Params) -> Reply {
    let hl = highlighter(atlas, topic);
    let name = atlas
        .topic_names
        .get(&topic)
        .map(|(_, n)| n.clone())
        .unwrap_or_default();
    if is_narrower(&p.topic, &name) {
        if let Some(reply) = narrowed(atlas, topic, (&name, p), &hl) {
            return reply;
        }
    }
    let total = atlas.topic_ranking(topic, 0, 0).1;
    let page = last_page(p.page, total);
    let rows = atlas
        .topic_ranking(topic, (page as usize - 1) * PAGE, PAGE)
        .0;
    let items: Vec<Item> = rows.iter().map(|r| ranked_item(r, &hl, None)).collect();
    if total == 0 {
        return not_found(atlas, &name);
    }
    let pages = total.div_ceil(PAGE) as u32;
    let mut reply = Reply::answer(format!("Who works on {name}"));
    reply.summary = Some(Text::plain(format!(
        "{total} {}, the most active first: how much of their own text is about it, profile sections on it, programmes and tools.",
        if total == 1 { "actor" } else { "actors" }
    )));
    reply = reply.section("Actors", items);
    if page == 1 {
        let docs = related_documents(atlas, topic, &hl);
        reply = reply.section("Documents and processes", docs.as_ref().clone());
    }
    if pages > 1 {
        reply.paging = Some(Paging {
            page,
            pages,
            command: format!("/who-works-on topic:\"{name}\" page:{{page}}"),
        });
    }
    reply.sources = Some(SOURCES.into());
    reply
}

/// Words that name a part of a topic rather than the topic itself: they share no word (or
/// word stem) with its name. "PKI" narrows encryption, "RPA" the future of work, "smart
/// cities" the internet of things; "virtual reality", "telecommunications" and "capacity
/// building" are the topic in other words.
fn is_narrower(words: &str, topic: &str) -> bool {
    // "ecommerce" is "E-commerce and trade" written joined.
    let squashed = |s: &str| name_key(s).replace([' ', '-'], "");
    if squashed(topic).contains(&squashed(words)) {
        return false;
    }
    // "AI" is artificial intelligence itself: the initials of the topic's name.
    let initials: String = name_key(topic)
        .split(' ')
        .filter_map(|w| w.chars().next())
        .collect();
    if initials.len() >= 2 && name_key(words).replace(' ', "") == initials {
        return false;
    }
    let stem = |w: &str| w.chars().take(5).collect::<String>();
    let topic_stems: HashSet<String> = name_key(topic)
        .split(' ')
        .filter(|w| w.len() >= 3)
        .map(stem)
        .collect();
    // A prefix every digital topic shares says nothing of which part is meant: "cyber
    // mercenaries" is a part of cyberconflict and warfare, as "mercenaries" alone would be.
    const SHARED_BY_ALL: [&str; 3] = ["cyber", "digit", "onlin"];
    !name_key(words)
        .split(' ')
        .filter(|w| w.len() >= 3)
        .map(stem)
        .any(|w| topic_stems.contains(&w) && !SHARED_BY_ALL.contains(&w.as_str()))
}

/// The page asked for, or the last one when asked past the end.
fn last_page(page: u32, total: usize) -> u32 {
    page.min(total.div_ceil(PAGE).max(1) as u32).max(1)
}

/// Words narrower than the topic, as typed or — when no actor says them so — with their
/// misspelt words read as written ("copyrigth"), said in the answer.
fn narrowed(
    atlas: &Atlas,
    topic: i64,
    (name, p): (&str, &Params),
    hl: &Highlighter,
) -> Option<Reply> {
    let words = p.topic.trim();
    if let Some(found) = narrowed_page(atlas, topic, words, p.page) {
        return Some(narrowed_reply(atlas, topic, (name, words), found, hl));
    }
    let (respelt, corrected) = atlas.respell(words, crate::search::spelling::MIN_LETTERS)?;
    let found = narrowed_page(atlas, topic, &respelt, p.page)?;
    let reply = narrowed_reply(atlas, topic, (name, &respelt), found, hl);
    Some(super::respelt_reply(reply, &corrected))
}

/// Words narrower than their topic ("trademarks" in intellectual property rights): the actors
/// of the topic's ranking whose own text says them, in ranking order, each with that sentence —
/// not the whole topic, whose other actors may never speak of them (a passing "intellectual
/// property" among an information security standard's assets), the others after them, apart.
/// None when no actor of the topic says them.
fn narrowed_page(atlas: &Atlas, topic: i64, words: &str, asked: u32) -> Option<Narrowed> {
    let narrow = Highlighter::new(&[words.to_string()]);
    let mut uses: HashMap<i64, (String, String)> = HashMap::new();
    // The best passage that says them, a sentence before a caption or heading.
    let caption = crate::import::prose::caption_like;
    for h in atlas.search_passages(&fts_query(&[words])?, Passages::All, 400) {
        let Some(a) = h.actor_id else { continue };
        let better = uses
            .get(&a)
            .is_none_or(|(t, _)| caption(t) && !caption(&h.text));
        if better && narrow.says(&h.text) {
            uses.insert(a, (h.text.clone(), cite(&h.file, h.line)));
        }
    }
    // A tool on the topic says them too ("WIPO Academy – also includes an eLearning Centre"):
    // the ranking's own evidence, where it does.
    let says_in_ranking = |a: i64| {
        atlas
            .ranked(topic, a)
            .and_then(|r| r.evidence)
            .is_some_and(|e| narrow.says(&e))
    };
    let (saying, others): (Vec<i64>, Vec<i64>) = atlas
        .topic_ranking_ids(topic)
        .iter()
        .partition(|&&a| uses.contains_key(&a) || says_in_ranking(a));
    if saying.is_empty() {
        return None;
    }
    let page = last_page(asked, saying.len());
    let items = saying
        .iter()
        .skip((page as usize - 1) * PAGE)
        .take(PAGE)
        .filter_map(|a| Some(ranked_item(&atlas.ranked(topic, *a)?, &narrow, uses.get(a))))
        .collect();
    Some(Narrowed {
        items,
        said: saying.len(),
        page,
        others,
    })
}

/// The actors of a topic that say narrower words, a page of them, and the topic's others.
struct Narrowed {
    items: Vec<Item>,
    said: usize,
    page: u32,
    others: Vec<i64>,
}

/// How many of the topic's other actors are shown after those saying the words.
const OTHERS_SHOWN: usize = 3;

/// The answer for words narrower than the topic: the actors saying them, and where the whole
/// topic is.
fn narrowed_reply(
    atlas: &Atlas,
    topic: i64,
    (name, words): (&str, &str),
    found: Narrowed,
    hl: &Highlighter,
) -> Reply {
    let Narrowed {
        items,
        said,
        page,
        others,
    } = found;
    let total = atlas.topic_ranking(topic, 0, 0).1;
    let shown = shorten(words, 40);
    let mut reply = Reply::answer(format!("Who works on {shown} ({name})"));
    reply.summary = Some(Text::plain(format!(
        "{said} of the {total} actors on {name} {} “{shown}” in their own text, the most active on {name} first; /who-works-on {name} lists all {total}.",
        if said == 1 { "says" } else { "say" }
    )));
    reply = reply.section("Actors", items);
    // The topic's other actors, apart and said to be on the topic only, on the first page.
    if page == 1 && !others.is_empty() {
        let also: Vec<Item> = others
            .iter()
            .take(OTHERS_SHOWN)
            .filter_map(|a| Some(ranked_item(&atlas.ranked(topic, *a)?, hl, None)))
            .collect();
        reply = reply.section(
            &format!("Also on {name} (their text does not say “{shown}”)"),
            also,
        );
    }
    let pages = said.div_ceil(PAGE) as u32;
    if pages > 1 {
        reply.paging = Some(Paging {
            page,
            pages,
            command: format!("/who-works-on topic:\"{words}\" page:{{page}}"),
        });
    }
    reply.sources = Some(SOURCES.into());
    reply
}

const SOURCES: &str = "Sources: profile sections of the atlas (000, 001), the UN list (002), UNICC news (003), the ICT4Peace report (004)";

/// An actor of the ranking: its sections on the topic and the sentence that shows the link
/// (or `instead`, a passage using the user's own words, and where it is).
fn ranked_item(r: &RankedActorRow, hl: &Highlighter, instead: Option<&(String, String)>) -> Item {
    let mut text = Text::default();
    let has_evidence = r.evidence.is_some() || instead.is_some();
    if let Some(h) = &r.headings {
        let quoted: Vec<String> = h.lines().map(|h| format!("“{h}”")).collect();
        let sections = if quoted.len() == 1 {
            "section"
        } else {
            "sections"
        };
        text.push(Span::Plain(format!(
            "Profile {sections} {}{}",
            quoted.join(", "),
            if has_evidence { ": " } else { "" }
        )));
    }
    let source = match (instead, &r.evidence) {
        (Some((passage, at)), _) => {
            text.0.extend(hl.evidence(passage).0);
            Some(at.clone())
        }
        (None, Some(e)) => {
            text.0.extend(hl.excerpt(e, 400).0);
            r.file.as_ref().zip(r.line).map(|(f, l)| cite(f, l))
        }
        (None, None) => None,
    };
    let short = r.acronym.clone().unwrap_or_else(|| r.name.clone());
    let mut item =
        Item::labelled(label(&r.name, r.acronym.as_deref()), text).more(format!("/actor {short}"));
    item.source = source;
    item
}

/// UN documents, resolutions, processes and programmes that name the topic (not news stories
/// or the report: those are actors' own text, already ranked above). The same for every
/// asker, so computed once per atlas.
fn related_documents(atlas: &Atlas, topic: i64, hl: &Highlighter) -> std::sync::Arc<Vec<Item>> {
    atlas.memo(("topic documents", topic), || {
        document_items(atlas, &terms_of(atlas, topic), hl)
    })
}

fn document_items(atlas: &Atlas, terms: &[String], hl: &Highlighter) -> Vec<Item> {
    let Some(fts) = fts_query(terms) else {
        return vec![];
    };
    let hits = atlas.search_passages(&fts, Passages::Documents, 200);
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    for h in hits {
        if items.len() >= 8 {
            break;
        }
        let Some(d) = h.document_id else { continue };
        let Some(doc) = atlas.documents.iter().find(|x| x.id == d) else {
            continue;
        };
        if matches!(doc.kind.as_str(), "news" | "report" | "body")
            || !hl.says(&h.text)
            || !seen.insert(d)
        {
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
            Item::labelled(label, hl.evidence(&h.text))
                .more(more)
                .source(format!("{}, {}", doc.kind, cite(&doc.file, doc.line))),
        );
    }
    items
}

/// Words that are not a topic: the actors whose own text speaks of them, read in the atlas's
/// spellings (inflections, compounds: `Atlas::speaking_of`), those whose text says the most
/// first, each with the sentence that shows it. Never a topic the atlas does not define: the
/// header says these are actors whose text speaks of the words.
fn mentions(atlas: &Atlas, p: &Params) -> Reply {
    let Some(spoken) = atlas.speaking_of(&p.topic) else {
        return not_found(atlas, &p.topic);
    };
    if spoken.actors.is_empty() {
        return not_found(atlas, &p.topic);
    }
    let ranked = speaking_actors(&spoken);
    if ranked.is_empty() {
        return not_found(atlas, &p.topic);
    }
    speaking_page(p, &spoken, ranked)
}

/// Each actor whose text speaks of the words, with the sentence that shows it.
fn speaking_actors(spoken: &crate::atlas::Spoken) -> Vec<Item> {
    let hl = Highlighter::new(&spoken.marks);
    let groups: Vec<Highlighter> = spoken
        .required
        .iter()
        .map(|g| Highlighter::new(g))
        .collect();
    // Listed only where one sentence says every required word: a line of the sources can
    // hold several sentences, and the claim is the sentence shown.
    spoken
        .actors
        .iter()
        .filter_map(|(h, _)| {
            let (sentence, said) = crate::commands::evidence::covering(&h.text, &groups);
            if said < groups.len() {
                return None;
            }
            let name = h.actor_name.clone().unwrap_or_default();
            let short = h.actor_acronym.clone().unwrap_or_else(|| name.clone());
            let item = Item::labelled(
                label(&name, h.actor_acronym.as_deref()),
                hl.excerpt(sentence, 400),
            )
            .more(format!("/actor {short}"))
            .source(cite(&h.file, h.line));
            Some(item)
        })
        .collect()
}

/// One page of the actors speaking of the words, under a title that claims no more than
/// their sentences say.
fn speaking_page(p: &Params, spoken: &crate::atlas::Spoken, ranked: Vec<Item>) -> Reply {
    let pages = ranked.len().div_ceil(PAGE) as u32;
    let page = last_page(p.page, ranked.len());
    let total = ranked.len();
    let shown: Vec<Item> = ranked
        .into_iter()
        .skip((page as usize - 1) * PAGE)
        .take(PAGE)
        .collect();
    let words = shorten(&p.topic, 60);
    // The title claims only what every listed actor's sentence says: the required words.
    let said = shorten(&spoken.read.join(" "), 60);
    let title = if crate::search::tokens(&said) == crate::search::tokens(&words) {
        format!("Actors whose text speaks of “{words}”")
    } else {
        format!("Actors whose text speaks of “{said}” (asked: “{words}”)")
    };
    let mut reply = Reply::answer(title);
    reply.summary = Some(Text::plain(format!(
        "“{words}” is not one of the atlas's topics (/topics lists them). {total} {} own text speaks of it, those saying the most first; each line shows where.{}",
        if total == 1 { "actor's" } else { "actors'" },
        reading(spoken)
    )));
    reply = reply.section("Actors", shown);
    if pages > 1 {
        reply.paging = Some(Paging {
            page,
            pages,
            command: format!("/who-works-on topic:\"{}\" page:{{page}}", p.topic),
        });
    }
    reply.sources = Some(SOURCES.into());
    reply
}

/// How the words were read, when it is not plain: which everyday words were also read as the
/// sources' terms, and which were too general to require.
fn reading(s: &crate::atlas::Spoken) -> String {
    let mut out = String::new();
    if !s.corrected.is_empty() {
        out.push_str(&format!(" {}", super::read_as(&s.corrected)));
    }
    for (typed, terms) in &s.related {
        out.push_str(&format!(
            " “{typed}” also read as the sources' {}.",
            terms
                .iter()
                .map(|t| format!("“{t}”"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !s.unwritten.is_empty() {
        out.push_str(&format!(
            " The sources never write “{}”: left out.",
            s.unwritten.join("”, “")
        ));
    }
    if !s.loosened.is_empty() {
        out.push_str(&format!(
            " No passage says all the words together: “{}” only ranks.",
            s.loosened.join("”, “")
        ));
    }
    let general: Vec<&String> = s
        .general
        .iter()
        .filter(|g| !s.loosened.contains(g))
        .collect();
    if general.is_empty() || s.read.is_empty() {
        return out;
    }
    out.push_str(&format!(
        " Read as: {}; “{}” only ranks (it is in too much of the atlas to decide on its own).",
        s.read
            .iter()
            .map(|w| format!("“{w}”"))
            .collect::<Vec<_>>()
            .join(", "),
        general
            .iter()
            .map(|g| g.as_str())
            .collect::<Vec<_>>()
            .join("”, “")
    ));
    out
}

fn label(name: &str, acronym: Option<&str>) -> String {
    match acronym {
        Some(a) if a != name => format!("{name} ({a})"),
        _ => name.to_string(),
    }
}

fn not_found(atlas: &Atlas, words: &str) -> Reply {
    let shown = shorten(words, 60);
    let mut r = Reply::not_found(format!(
        "No one in the atlas works on “{shown}”. /topics lists the topics I know."
    ));
    // A suggestion shares a word with the question (by stem): a topic whose name is only
    // spelt alike ("resolution" for "pollution", "gender" for "geneva") means something
    // else, and a misspelt topic name was already read as the topic before this point.
    let stems = |t: &str| -> HashSet<String> {
        crate::search::tokens(t)
            .iter()
            .filter(|w| w.chars().count() >= 3)
            .map(|w| crate::search::concepts::stem(w))
            .collect()
    };
    let asked = stems(words);
    let mut seen = HashSet::new();
    for e in atlas.topic_terms.suggest(words, 6) {
        if stems(&e.display).is_disjoint(&asked) {
            continue;
        }
        if let Some((_, name)) = atlas.topic_names.get(&e.payload) {
            if seen.insert(name.clone()) {
                r.suggestions.push(format!("/who-works-on {name}"));
            }
        }
    }
    r.suggestions.truncate(3);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_sharing_a_stem_with_the_topic_are_the_topic_itself() {
        assert!(is_narrower("PKI", "Encryption"));
        assert!(is_narrower("smart cities", "Internet of things"));
        assert!(is_narrower(
            "cyber mercenaries",
            "Cyberconflict and warfare"
        ));
        assert!(!is_narrower("cyber warfare", "Cyberconflict and warfare"));
        assert!(!is_narrower(
            "virtual reality",
            "Virtual and augmented reality"
        ));
        assert!(!is_narrower("telecommunications", "Telecom infrastructure"));
        assert!(!is_narrower("capacity building", "Capacity development"));
        assert!(!is_narrower("cyber-security", "Cybersecurity"));
        assert!(!is_narrower("AI", "Artificial intelligence"));
        assert!(!is_narrower("IoT", "Internet of things"));
        assert!(is_narrower("ML", "Artificial intelligence"));
    }
}
