//! /document <symbol or words>: a UN document, resolution, process or report.

use std::sync::LazyLock;

use regex::Regex;

use super::cite;
use super::invocation::Args;
use super::shorten;
use crate::atlas::views::DocumentRow;
use crate::atlas::{Atlas, Passages};
use crate::error::CommandError;
use crate::import::prose;
use crate::reply::{Item, Reply, Text, Tone};
use crate::search::fts_query;

static SYMBOL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^\s*a\s*/\s*(?:[a-z]+\s*/\s*)*\d+\s*/\s*\d+\s*$").unwrap());

/// A General Assembly resolution cited by number, as people and the sources write it:
/// "68/167", "resolution 68/167", "res. 68/167", "GA resolution 68/167".
static RESOLUTION_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(?:(?:un\s+|ga\s+|general\s+assembly\s+)*(?:resolution|res\.?)\s*)?(\d{2,3})\s*/\s*(\d{1,4})\s*$").unwrap()
});

/// A resolution by its symbol: "A/RES/73/27".
static RESOLUTION_SYMBOL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*a\s*/\s*res\s*/\s*(\d{2,3})\s*/\s*(\d{1,4})\s*$").unwrap()
});

/// Resolution `session`/`n` as the sources cite it inside other entries ("created following UN
/// resolution 73/27"): those entries, with the sentence. None when nothing cites it.
fn cited_resolution(atlas: &Atlas, session: &str, n: &str) -> Option<Reply> {
    let fts = fts_query(&[format!("{session} {n}")])?;
    let cites = Regex::new(&format!(r"\b{session}\s*/\s*{n}\b")).expect("digits only");
    let mut items = Vec::new();
    for h in atlas.search_passages(&fts, Passages::All, 30) {
        let Some(sentence) = prose::sentences(&h.text)
            .into_iter()
            .find(|s| cites.is_match(s))
        else {
            continue;
        };
        let doc = h
            .document_id
            .and_then(|d| atlas.documents.iter().find(|x| x.id == d));
        let label = doc
            .map(|d| d.title.clone())
            .or(h.actor_name.clone())
            .unwrap_or_default();
        let mut item = Item::labelled(label, sentence.to_string()).source(cite(&h.file, h.line));
        item.more = doc.map(|d| {
            format!(
                "/document {}",
                d.symbol.clone().unwrap_or_else(|| shorten(&d.title, 60))
            )
        });
        items.push(item);
    }
    if items.is_empty() {
        return None;
    }
    let mut r = Reply::answer(format!("Resolution {session}/{n} (A/RES/{session}/{n})"));
    r.summary = Some(Text::plain(
        "The atlas has no entry of its own for this resolution; the sources cite it here:",
    ));
    r = r.section("Cited in", items);
    Some(r)
}

#[derive(Debug, Clone)]
pub struct Params {
    pub query: String,
}

pub fn parse(args: &Args) -> Result<Params, CommandError> {
    Ok(Params {
        query: args.get("query").unwrap_or_default().to_string(),
    })
}

pub fn run(atlas: &Atlas, p: Params) -> Result<Reply, CommandError> {
    let typed = shorten(p.query.trim(), 60);
    if let Some(r) = by_resolution_number(atlas, &p.query) {
        return Ok(r);
    }
    if SYMBOL.is_match(&p.query) {
        return Ok(by_symbol(atlas, &p.query, &typed));
    }
    // "A/70/174 report": the symbol, with what it is said after it.
    if let Some((symbol, _)) = p.query.trim().split_once(char::is_whitespace) {
        if SYMBOL.is_match(symbol) && atlas.document_by_symbol(&symbol.to_lowercase()).is_some() {
            return Ok(by_symbol(atlas, symbol, &typed));
        }
    }
    // An actor's name alone ("/document WIPO"): a document of its own that the words find
    // (ICT4Peace's report), else what its text names — never a document that merely contains
    // the name (a news story where it is one speaker of many).
    if let Some(actor) = super::actor::resolve(atlas, &p.query) {
        let own = by_words(atlas, &p.query, &typed);
        if own.tone != Tone::NotFound && whose_card(&own, &actor) {
            return Ok(own);
        }
        if let Some(r) = of_actor(atlas, &actor, &p.query) {
            return Ok(r);
        }
    }
    // Described with its owner ("the WEF report on cybersecurity", "… from DCAF"): only that
    // owner's, even when nothing is — never another body's that contains the words.
    if let Some(r) = described(atlas, &p.query).filter(|r| r.owned) {
        return Ok(r.reply);
    }
    let reply = by_words(atlas, &p.query, &typed);
    if reply.tone != Tone::NotFound {
        return Ok(reply);
    }
    // Described rather than named: "the report about 5G".
    if let Some(r) = described(atlas, &p.query).filter(|r| r.reply.tone != Tone::NotFound) {
        return Ok(r.reply);
    }
    // "the WIPO GREEN marketplace please", "DCAF Young Faces programme": without the words
    // around the title — an article, a courtesy, the owner's name before it.
    Ok(without_filler(atlas, &p.query)
        .into_iter()
        .map(|title| by_words(atlas, &title, &typed))
        .find(|again| again.tone != Tone::NotFound)
        .unwrap_or(reply))
}

/// "the report about 5G from the Forum", "the WEF report on cybersecurity": a kind of thing,
/// what it is about, and whose (before the kind, or after "from").
static DESCRIBED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:the |a |an |that |this |their |its )?(?:(?P<owner>[^ ]+(?: [^ ]+){0,3}?)(?:['’]s)? )??(?P<kind>[\w-]+) (?:about|on|regarding|concerning|covering|dealing with|looking at|that looks at|that covers|for|sur|concernant) (?:the )?(?P<about>.+?)(?: (?:from|by|of|published by|made by|de|du|par) (?:the |la |le |l['’])?(?P<by>.+?))?$")
        .expect("a valid pattern")
});

/// A description's answer, and whether it named an owner (then it is the answer, found or
/// not: another body's thing is never offered for it).
struct Described {
    reply: Reply,
    owned: bool,
}

/// The kind words a described thing may be written with, by the word people use.
fn kinds_for(word: &str) -> Option<&'static [&'static str]> {
    const PUBLICATIONS: &[&str] = &[
        "report",
        "reports",
        "publication",
        "paper",
        "whitepaper",
        "study",
        "series",
        "outlook",
        "review",
        "survey",
        "book",
        "handbook",
        "guide",
        "guidebook",
        "playbook",
        "primer",
        "compendium",
        "commentary",
    ];
    const TOOLS: &[&str] = &[
        "tool",
        "toolkit",
        "platform",
        "app",
        "apps",
        "application",
        "database",
        "dataset",
        "tracker",
        "navigator",
        "portal",
        "hub",
        "index",
        "service",
    ];
    const PROGRAMMES: &[&str] = &["programme", "program", "initiative", "network", "strategy"];
    let w = word.to_lowercase();
    let w = w.strip_suffix('s').filter(|_| w != "series").unwrap_or(&w);
    Some(match w {
        "report" | "publication" | "paper" | "whitepaper" | "study" | "studie" | "series"
        | "book" | "rapport" | "document" | "brief" | "briefing" => PUBLICATIONS,
        "tool" | "toolkit" | "platform" | "app" | "application" | "database" | "outil" => TOOLS,
        "programme" | "program" | "initiative" | "project" | "projet" => PROGRAMMES,
        _ => return None,
    })
}

/// Most things listed for a description, and for one actor.
const DESCRIBED_SHOWN: usize = 6;

/// "the report about 5G from the Forum", "a toolkit on blockchain": the things of that kind
/// whose sentence says what it is about — one as its card, several as a list.
fn described(atlas: &Atlas, query: &str) -> Option<Described> {
    let c = DESCRIBED.captures(query.trim())?;
    let kinds = kinds_for(&c["kind"])?;
    let about = crate::search::tokens(&c["about"]);
    if about.iter().all(|w| crate::search::is_stop_word(w)) {
        return None;
    }
    let by = match c.name("by").or(c.name("owner")) {
        Some(who) => Some(whose(atlas, who.as_str())?),
        None => None,
    };
    let found = atlas.named_about(&about, kinds, by.as_ref().map(|a| a.id), DESCRIBED_SHOWN);
    let reply = described_reply(&c["kind"], &c["about"], by.as_ref(), &found);
    Some(Described {
        reply,
        owned: by.is_some(),
    })
}

/// One thing found as its card, several as a list; none, a not-found that says whose.
fn described_reply(
    kind: &str,
    about: &str,
    by: Option<&crate::atlas::views::ActorRow>,
    found: &[crate::atlas::named::Named],
) -> Reply {
    match found.len() {
        0 => {
            let whose = by
                .map(|a| format!(" of {}", super::actor::display_name(a)))
                .unwrap_or_default();
            let mut r = Reply::not_found(format!(
                "The sources name no {kind}{whose} about “{}”.",
                shorten(about, 60)
            ));
            r.suggestions = by
                .map(|a| vec![format!("/document {}", super::actor::display_name(a))])
                .unwrap_or_default();
            r
        }
        1 => named_card(found),
        _ => {
            let items = found
                .iter()
                .map(|n| {
                    let whose = n.actor_name.clone().unwrap_or_default();
                    named_item(n, format!("{}, {whose}", n.kind))
                })
                .collect();
            let mut r = Reply::answer(format!("{kind} about “{}”", shorten(about, 60)));
            r.summary = Some(Text::plain(
                "No title says so; these are named in a sentence that does. /document with one of them shows it.",
            ));
            r.section("Named where the sources speak of it", items)
        }
    }
}

/// The actor a description says it is from: by its name, or by a word of its name the
/// sources use for it alone ("the Forum" is the World Economic Forum), when one actor has it.
fn whose(atlas: &Atlas, who: &str) -> Option<crate::atlas::views::ActorRow> {
    if let Some(a) = super::actor::resolve(atlas, who) {
        return Some(a);
    }
    let word = one_word(who)?;
    let mut having = atlas
        .actors
        .lookup(who, 10)
        .into_iter()
        .filter_map(|m| atlas.actor(m.entry.payload))
        .filter(|a| a.kind == "profiled")
        .filter(|a| {
            a.full_name
                .as_deref()
                .unwrap_or(&a.name)
                .split_whitespace()
                .any(|w| w.eq_ignore_ascii_case(word))
        });
    let first = having.next()?;
    having.all(|a| a.id == first.id).then_some(first)
}

/// The word of a one-word name ("forum"); None for several words.
fn one_word(who: &str) -> Option<&str> {
    let mut words = who.split_whitespace();
    words.next().filter(|_| words.next().is_none())
}

/// A named thing as a line of a list: its title, what is said of it, where, and the command
/// that shows it.
fn named_item(n: &crate::atlas::named::Named, detail: String) -> Item {
    Item::labelled(n.title.clone(), detail)
        .source(cite(&n.file, n.line))
        .more(format!("/document {}", shorten(&n.title, 80)))
}

/// The command that shows a document of the UN list: by its symbol, else its title.
fn command_for(d: &DocumentRow) -> String {
    format!(
        "/document {}",
        d.symbol.clone().unwrap_or_else(|| shorten(&d.title, 80))
    )
}

/// Most publications and programmes listed for one actor.
const OF_ACTOR: usize = 15;

/// The publications, tools and programmes an actor's text names, each with its kind, year
/// and where — when `query` is an actor's name (as /actor would answer it) and its text
/// names any.
fn of_actor(atlas: &Atlas, actor: &crate::atlas::views::ActorRow, query: &str) -> Option<Reply> {
    let who = super::actor::display_name(actor);
    // Publications before tools (a profile lists a dozen tools), then the UN list's own
    // entries of it.
    let mut named = atlas.named_of_actor(actor.id, usize::MAX);
    named.sort_by_key(|n| n.own_tool);
    let listed = atlas.documents_of(actor.id);
    let total = named.len() + listed.len();
    if total == 0 {
        return None;
    }
    let listed_items = listed.iter().map(|d| {
        Item::labelled(d.title.clone(), d.kind.clone())
            .source(cite(&d.file, d.line))
            .more(command_for(d))
    });
    let items: Vec<Item> = named
        .iter()
        .map(|n| {
            let year = n.year.map(|y| format!(", {y}")).unwrap_or_default();
            named_item(n, format!("{}{year}", n.kind))
        })
        .chain(listed_items)
        .take(OF_ACTOR)
        .collect();
    let mut r = Reply::answer(format!("What {who}'s text names"));
    if total > OF_ACTOR {
        r.subtitle = Some(format!(
            "{OF_ACTOR} of {total} shown, publications first — /document with more words narrows it"
        ));
    }
    r.summary = Some(Text::plain(format!(
        "No document is called “{}”; these are the publications, tools and programmes {who}'s text names. /document with one of them shows it.",
        shorten(query.trim(), 60)
    )));
    r = r.section("Publications, tools and programmes", items);
    r.suggestions = vec![format!("/actor {who}")];
    Some(r)
}

/// Whether a document's card is `actor`'s own: listed or named by it.
fn whose_card(card: &Reply, actor: &crate::atlas::views::ActorRow) -> bool {
    let names = [
        Some(&actor.name),
        actor.acronym.as_ref(),
        actor.full_name.as_ref(),
    ];
    card.fields
        .iter()
        .filter(|f| f.name == "Listed by" || f.name == "Named by")
        .any(|f| {
            let by = f.value.to_plain();
            names
                .iter()
                .flatten()
                .any(|n| by == **n || by.contains(&format!("({n})")))
        })
}

/// The query without the words people put around a title — a leading article, a trailing
/// "please"; then also without an actor's name before it (an actor's name can begin a
/// title: "WIPO GREEN"). Each only when it took something off and left something.
fn without_filler(atlas: &Atlas, query: &str) -> Vec<String> {
    let mut words: Vec<&str> = query.split_whitespace().collect();
    let before = words.len();
    let mut out = Vec::new();
    while words
        .last()
        .is_some_and(|w| ["please", "svp", "thanks"].contains(&w.to_lowercase().as_str()))
    {
        words.pop();
    }
    if words
        .first()
        .is_some_and(|w| ["the", "a", "an", "le", "la", "les"].contains(&w.to_lowercase().as_str()))
    {
        words.remove(0);
    }
    if words.len() < before && !words.is_empty() {
        out.push(words.join(" "));
    }
    // The owner's name first ("DCAF", "World Economic Forum"): the longest leading run that
    // is an actor's name, with at least two words left after it.
    if let Some(n) = (1..words.len().saturating_sub(1))
        .rev()
        .find(|&n| !atlas.actors.exact(&words[..n].join(" ")).is_empty())
    {
        out.push(words[n..].join(" "));
    }
    out
}

/// "68/167" is resolution A/RES/68/167 — the form the atlas lists it under.
fn by_resolution_number(atlas: &Atlas, query: &str) -> Option<Reply> {
    let (session, n) = RESOLUTION_NUMBER
        .captures(query)
        .or_else(|| RESOLUTION_SYMBOL.captures(query))
        .map(|c| (c[1].to_string(), c[2].to_string()))?;
    let key = format!("a/res/{session}/{n}");
    if let Some(d) = atlas.document_by_symbol(&key) {
        return Some(card(atlas, &d));
    }
    // No entry of its own: where the sources cite it, said as such (never another
    // document's card in its place).
    cited_resolution(atlas, &session, &n)
}

/// A UN symbol ("A/70/174"): that document, or the symbols within three edits of it.
fn by_symbol(atlas: &Atlas, query: &str, typed: &str) -> Reply {
    let key: String = query
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase();
    if let Some(d) = atlas.document_by_symbol(&key) {
        return card(atlas, &d);
    }
    let mut r = Reply::not_found(format!(
        "No document {} in the atlas.",
        typed.to_uppercase()
    ));
    let mut near: Vec<(usize, &DocumentRow)> = atlas
        .documents
        .iter()
        .filter_map(|d| {
            d.symbol
                .as_ref()
                .map(|s| (strsim::levenshtein(&s.to_lowercase(), &key), d))
        })
        .filter(|(n, _)| *n <= 3)
        .collect();
    near.sort_by_key(|(n, _)| *n);
    r.suggestions = near
        .into_iter()
        .take(3)
        .filter_map(|(_, d)| d.symbol.clone())
        .map(|s| format!("/document {s}"))
        .collect();
    r
}

/// Words: as typed, or — when nothing matches them — with their misspelt words read as the
/// words the sources write ("Global Cybersecurity Outlok"), said in the answer.
fn by_words(atlas: &Atlas, query: &str, typed: &str) -> Reply {
    let reply = by_words_as_typed(atlas, query, typed);
    if reply.tone != Tone::NotFound {
        return reply;
    }
    let Some((respelt, corrected)) =
        atlas.respell(query, crate::search::spelling::MIN_TITLE_LETTERS)
    else {
        return reply;
    };
    let again = by_words_as_typed(atlas, &respelt, typed);
    if again.tone == Tone::NotFound {
        return reply;
    }
    super::respelt_reply(again, &corrected)
}

/// Title matches first, then full-text search over documents.
fn by_words_as_typed(atlas: &Atlas, query: &str, typed: &str) -> Reply {
    let mut found: Vec<i64> = atlas
        .document_titles
        .lookup(query, 5)
        .into_iter()
        .filter(|m| m.score >= 0.8)
        .map(|m| atlas.documents[m.entry.payload].id)
        .collect();
    // Not a document of the UN list by title: a publication, programme or tool the sources
    // name, before any document that merely contains the words.
    // (An actor's name asks for the documents by or about it, not a title containing it.)
    if found.is_empty() && atlas.actors.exact(query).is_empty() {
        let named = atlas.named(query);
        if !named.is_empty() {
            return named_card(&named);
        }
    }
    if let Some(fts) = fts_query(&[query]) {
        for h in atlas.search_passages(&fts, Passages::Documents, 30) {
            if let Some(d) = h.document_id {
                if !found.contains(&d) {
                    found.push(d);
                }
            }
        }
    }
    let docs: Vec<DocumentRow> = found
        .into_iter()
        .take(6)
        .filter_map(|id| atlas.document(id))
        .collect();
    answer_found(atlas, query, typed, &docs)
}

/// The first document found as a card, the next ones as suggestions; none, a friendly
/// not-found with the nearest titles.
fn answer_found(atlas: &Atlas, query: &str, typed: &str, docs: &[DocumentRow]) -> Reply {
    match docs.len() {
        0 => {
            let mut r = Reply::not_found(format!(
                "No document matches “{typed}”. Try a UN symbol such as A/70/174, or other words."
            ));
            // A name the sources write for the leading words first ("Global Cybersecurity
            // Outlook 2023"), then the UN list's nearest titles.
            r.suggestions = atlas
                .named_leading(query, 2)
                .into_iter()
                .chain(
                    atlas
                        .document_titles
                        .suggest(query, 3)
                        .into_iter()
                        .map(|e| e.display.clone()),
                )
                .take(3)
                .map(|t| format!("/document {}", shorten(&t, 80)))
                .collect();
            r
        }
        1 => card(atlas, &docs[0]),
        _ => {
            let mut r = card(atlas, &docs[0]);
            r.suggestions = docs[1..].iter().take(3).map(command_for).collect();
            r
        }
    }
}

/// A publication the sources name (not in the UN list): its name as written, whose it is, the
/// year where given, and each sentence naming it.
fn named_card(named: &[crate::atlas::named::Named]) -> Reply {
    let first = &named[0];
    let same: Vec<&crate::atlas::named::Named> = named
        .iter()
        .filter(|n| n.title.eq_ignore_ascii_case(&first.title))
        .collect();
    let mut r = Reply::answer(first.title.clone());
    let whose = match (&first.actor_name, first.own_tool) {
        (Some(a), true) => format!("listed among {a}'s tools and programmes"),
        (Some(a), false) => format!("named in {a}'s text"),
        (None, _) => "named in the sources".to_string(),
    };
    let article = if first.kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "An"
    } else {
        "A"
    };
    r.summary = Some(Text::plain(format!(
        "{article} {} {whose}. Not a document of the UN list: what the sources say of it is below.",
        first.kind
    )));
    r = r
        .field("Kind", first.kind.clone(), true)
        .field(
            "Year",
            first.year.map(|y| y.to_string()).unwrap_or_default(),
            true,
        )
        .field("Formerly", first.former.clone().unwrap_or_default(), true)
        .field("Made by", first.made_by.clone().unwrap_or_default(), true)
        .field(
            if first.own_tool {
                "Listed by"
            } else {
                "Named by"
            },
            first.actor_name.clone().unwrap_or_default(),
            true,
        );
    let hl = super::evidence::Highlighter::new(std::slice::from_ref(&first.title));
    // What it is first, when a sentence says so; then where each source names it.
    let defined = first.defined.iter().map(|(sentence, file, line)| {
        let mut item = Item::new(hl.excerpt(sentence, 400)).source(cite(file, *line));
        item.label = first.actor_name.clone();
        item
    });
    let items = defined
        .chain(same.iter().take(5).map(|n| {
            let mut item = Item::new(hl.excerpt(&n.sentence, 400)).source(cite(&n.file, n.line));
            item.label = n.actor_name.clone();
            item
        }))
        .collect();
    r = r.section("Where the sources name it", items);
    r.suggestions = named
        .iter()
        .filter(|n| !n.title.eq_ignore_ascii_case(&first.title))
        .take(3)
        .map(|n| format!("/document {}", shorten(&n.title, 80)))
        .collect();
    r.sources = Some(format!("Source: {}", cite(&first.file, first.line)));
    r
}

fn card(atlas: &Atlas, d: &DocumentRow) -> Reply {
    let mut r = Reply::answer(d.title.clone());
    r.subtitle = d.subtitle.clone();
    r.summary = d.summary.as_ref().map(|s| {
        Text::plain(if d.summary_curated {
            format!("{s} (curated summary, data/documents.toml)")
        } else {
            s.clone()
        })
    });
    r = r
        .field("Kind", d.kind.clone(), true)
        .field("Symbol", d.symbol.clone().unwrap_or_default(), true)
        .field("Listed by", d.owner_name.clone().unwrap_or_default(), true);
    let mentions = atlas.document_mentions(d.id);
    let hl = super::evidence::Highlighter::new(&d.symbol.iter().cloned().collect::<Vec<_>>());
    let items = mentions
        .iter()
        .take(5)
        .map(|m| {
            let mut item = Item::new(hl.excerpt(&m.sentence, 400)).source(cite(&m.file, m.line));
            item.label = m.by_name.clone();
            item
        })
        .collect();
    r = r.section("Cited in", items);
    r.sources = Some(format!("Source: {}", cite(&d.file, d.line)));
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{read_atlas, DataDir};
    use proptest::prelude::*;

    fn bundled() -> &'static Atlas {
        static ATLAS: std::sync::OnceLock<Atlas> = std::sync::OnceLock::new();
        ATLAS.get_or_init(|| {
            let (rows, _) = read_atlas(&DataDir::Bundled).expect("the bundled data imports");
            Atlas::new(rows)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any description of a publication ("the report about X from Y") is answered, found
        /// or not, without a panic, whatever X and Y are.
        #[test]
        fn any_described_publication_is_answered(
            kind in prop_oneof![Just("report"), Just("toolkits"), Just("programme"), Just("series"), Just("x")],
            about in "\\PC{0,30}",
            by in prop_oneof![Just(String::new()), "\\PC{0,20}".prop_map(|w| format!(" from {w}"))],
        ) {
            let query = format!("the {kind} about {about}{by}");
            let answered = run(bundled(), Params { query }).is_ok();
            prop_assert!(answered);
        }
    }
}
