//! /actor <name>: an organisation's profile, found by acronym, name, alias or part of a name;
//! with fact:, one fact of it (`fact`).

pub mod fact;

use std::collections::HashSet;

use super::invocation::Args;
use super::{cite, shorten};
use crate::atlas::views::{ActorRow, IssueRow, MentionRow};
use crate::atlas::{Atlas, Passages};
use crate::error::CommandError;
use crate::import::prose;
use crate::reply::{Item, Paging, Reply, Span, Text};
use crate::search::names::How;
use crate::search::normalize::name_key;

#[derive(Debug, Clone)]
pub struct Params {
    pub name: String,
    /// 1: the card; 2 onwards: one digital-policy issue in full per page.
    pub page: u32,
    /// One fact instead of the card.
    pub fact: Option<fact::Fact>,
    /// A count instead of the card: how many of these ("partners") it has.
    pub count: Option<String>,
}

pub fn parse(args: &Args) -> Result<Params, CommandError> {
    let fact = match args.get("fact") {
        None => None,
        Some(f) => Some(fact::Fact::parse(f).ok_or_else(|| {
            CommandError::usage(
                "fact: is one of founded, address, website, name, members, people, for example:",
                "/actor UNICC fact:founded",
            )
        })?),
    };
    let count = args.get("count").map(str::trim).filter(|c| !c.is_empty());
    if let Some(c) = count {
        let words = c.split_whitespace().count();
        if words > fact::MAX_COUNTED_WORDS || c.chars().count() > fact::MAX_COUNTED_CHARS {
            return Err(CommandError::usage(
                "count: is what to count, in up to three words, for example:",
                "/actor UNICC count:partners",
            ));
        }
    }
    Ok(Params {
        name: args.get("name").unwrap_or_default().to_string(),
        page: args.integer("page").unwrap_or(1).clamp(1, 100) as u32,
        fact,
        count: count.map(str::to_string),
    })
}

/// Scores from which a match is an answer rather than a suggestion.
const ANSWER: f64 = 0.74;

/// Distinct actors matching `query`, best first, with their scores.
pub(crate) fn find(atlas: &Atlas, query: &str) -> Vec<(i64, f64, How)> {
    let mut seen = HashSet::new();
    atlas
        .actors
        .lookup(query, 40)
        .into_iter()
        .filter(|m| seen.insert(m.entry.payload))
        .map(|m| (m.entry.payload, m.score, m.how))
        .collect()
}

/// Whether the best match may be shown as the answer to `query`, and if so whether the card
/// must say it stands for something else ("showing X for Y"). Exact names, acronyms and
/// aliases always answer; a name met word for word answers. A typo is forgiven only in a long
/// query (two words or more, or eight letters) and only when one actor is clearly best: a
/// short name or acronym that is not in the atlas is not an answer — IEEE is not IECEE — and
/// gets "did you mean" instead.
fn answer_of(query: &str, matches: &[(i64, f64, How)]) -> Option<(i64, f64, bool)> {
    let &(best, score, how) = matches.first().filter(|m| m.1 >= ANSWER)?;
    let long = query.split_whitespace().count() >= 2
        || query.chars().filter(|c| c.is_alphanumeric()).count() >= 8;
    match how {
        How::Exact => Some((best, score, false)),
        How::Words if long => Some((best, score, false)),
        How::Fuzzy if long => {
            let clearly_best = matches.get(1).is_none_or(|second| score - second.1 >= 0.06);
            clearly_best.then_some((best, score, true))
        }
        How::Words | How::Fuzzy => None,
    }
}

/// The actor `query` names, by the same rule as /actor's answer (never a neighbouring
/// organisation for an unknown acronym): for commands that take an actor as an option.
pub(crate) fn resolve(atlas: &Atlas, query: &str) -> Option<ActorRow> {
    let (id, ..) = answer_of(query, &find(atlas, query))?;
    atlas.actor(id)
}

/// " Did you mean A, B?" with the actor names close to `query`, or nothing: the tail of a
/// message about a name that is not an actor.
pub(crate) fn did_you_mean(atlas: &Atlas, query: &str) -> String {
    super::did_you_mean(&suggestions(atlas, query))
        .map(|h| format!(" {h}"))
        .unwrap_or_default()
}

/// Up to three actor names close to `query`, for "did you mean".
pub(crate) fn suggestions(atlas: &Atlas, query: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    atlas
        .actors
        .suggest(query, 10)
        .into_iter()
        .filter(|e| seen.insert(e.payload))
        .filter_map(|e| atlas.actor(e.payload))
        .map(|a| display_name(&a))
        .take(3)
        .collect()
}

pub fn run(atlas: &Atlas, p: Params) -> Result<Reply, CommandError> {
    let matches = find(atlas, &p.name);
    let Some((best, best_score, corrected)) = answer_of(&p.name, &matches) else {
        return Ok(not_found(atlas, &p.name, &matches));
    };
    let actor = atlas
        .actor(best)
        .ok_or_else(|| anyhow::anyhow!("actor {best} vanished"))?;
    let mut reply = if let Some(what) = &p.count {
        fact::count(atlas, &actor, what)
    } else if let Some(f) = p.fact {
        fact::answer(atlas, &actor, f)
    } else if actor.kind == "profiled" {
        profile(atlas, &actor, p.page)
    } else {
        short_card(atlas, &actor)
    };
    if corrected {
        // A corrected spelling is said, never passed off as what was asked.
        reply.note_in_subtitle(format!(
            "Showing {} for “{}”",
            display_name(&actor),
            shorten(&p.name, 60)
        ));
    }
    // Ambiguous: other actors matched about as well.
    let mut also = Vec::new();
    for &(id, score, _) in matches.iter().skip(1).take(6) {
        if score >= ANSWER && best_score - score < 0.06 {
            if let Some(a) = atlas.actor(id) {
                also.push(display_name(&a));
            }
        }
    }
    if !also.is_empty() {
        reply.suggestions = also
            .into_iter()
            .take(3)
            .map(|n| format!("/actor {n}"))
            .collect();
    }
    Ok(reply)
}

pub(crate) fn display_name(a: &ActorRow) -> String {
    a.acronym.clone().unwrap_or_else(|| a.name.clone())
}

fn title(a: &ActorRow) -> String {
    match (&a.full_name, &a.acronym) {
        (Some(full), Some(acr)) if full != acr => format!("{full} ({acr})"),
        _ => a.name.clone(),
    }
}

/// One line about an issue: its tagline, or the first sentence of its text.
fn gist(tagline: Option<&str>, first: Option<&str>) -> String {
    let text = tagline
        .map(str::to_string)
        .or_else(|| first.map(|t| prose::sentences(t).first().map_or(t, |s| s).to_string()))
        .unwrap_or_default();
    shorten(&text, 220)
}

/// Page 2 onwards of a profile: issue `page - 1` in full, every paragraph of its section and
/// sub-sections, so nothing the sources say about the actor is out of reach.
fn issue_page(atlas: &Atlas, a: &ActorRow, issues: &[IssueRow], page: u32) -> Reply {
    let i = (page as usize - 2).min(issues.len().saturating_sub(1));
    let issue = &issues[i];
    let mut r = Reply::answer(title(a));
    r.subtitle = Some(format!(
        "Digital policy issue {} of {}",
        i + 1,
        issues.len()
    ));
    let paras = atlas.section_texts(issue.section_id);
    let mut items: Vec<Item> = Vec::new();
    if let Some(t) = &issue.tagline {
        items.push(Item::new(t.clone()));
    }
    items.extend(paras.into_iter().map(Item::new));
    r = r.section(&issue.heading, items);
    r.sources = Some(format!("Sources: {}", a.provenance));
    r
}

/// Paging over a profile: the card, then one page per issue.
fn issue_paging(a: &ActorRow, page: u32, issues: usize) -> Option<Paging> {
    (issues > 0).then(|| Paging {
        page,
        pages: 1 + issues as u32,
        command: format!("/actor name:\"{}\" page:{{page}}", display_name(a)),
    })
}

fn profile(atlas: &Atlas, a: &ActorRow, page: u32) -> Reply {
    if page > 1 {
        let issues = atlas.issues(a.id);
        if !issues.is_empty() {
            let page = page.min(1 + issues.len() as u32);
            let mut r = issue_page(atlas, a, &issues, page);
            r.paging = issue_paging(a, page, issues.len());
            return r;
        }
    }
    let mut r = profile_head(atlas, a);
    let issues = atlas.issues(a.id);
    let items: Vec<Item> = issues
        .iter()
        .map(|i| {
            Item::labelled(
                i.heading.clone(),
                gist(i.tagline.as_deref(), i.first_text.as_deref()),
            )
        })
        .collect();
    if let Some(acts) = &a.activities {
        let paras: Vec<Item> = acts
            .split('\n')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(Item::new)
            .collect();
        r = r.section("Digital activities", paras);
    }
    r = r.section("Digital policy issues", items);
    r.paging = issue_paging(a, 1, issues.len());
    r = holdings(atlas, a, r);
    r.sources = Some(format!("Sources: {}", a.provenance));
    r
}

/// The top of a profile: its name, website, description and the facts about it.
fn profile_head(atlas: &Atlas, a: &ActorRow) -> Reply {
    let mut r = Reply::answer(title(a));
    r.url = a.website.as_ref().map(|w| {
        if w.starts_with("http") {
            w.clone()
        } else {
            format!("https://{w}")
        }
    });
    // Every paragraph the sources give: the description in full, the activities below.
    r.summary = a
        .description
        .as_ref()
        .or(a.summary.as_ref())
        .map(|d| Text::plain(d.clone()));
    r.field(
        "Founded",
        a.founded.map(|y| y.to_string()).unwrap_or_default(),
        true,
    )
    .field(
        "Stakeholder group",
        a.stakeholder_group.clone().unwrap_or_default(),
        true,
    )
    .field("Address", a.address.clone().unwrap_or_default(), false)
    .field("Website", a.website.clone().unwrap_or_default(), false)
    .field("Also written", also_written(atlas, a.id), false)
}

/// What the atlas holds of the actor beyond its text: standards, tools, documents, channels.
fn holdings(atlas: &Atlas, a: &ActorRow, mut r: Reply) -> Reply {
    let standards = atlas.standards_of_actor(a.id);
    let tools = atlas.items(a.id);
    let owned = atlas.documents_owned(a.id);
    let channels = atlas.channels(a.id);
    if !standards.is_empty() {
        r = r.field("Standards it refers to", standards.join(", "), false);
    }

    let tools_text = if tools.is_empty() {
        a.tools_note
            .clone()
            .map(|t| shorten(&t, 300))
            .unwrap_or_default()
    } else {
        tools
            .iter()
            .map(|t| t.name.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    r = r.field("Tools and programmes", tools_text, false);

    if !owned.is_empty() {
        let parts: Vec<String> = owned
            .iter()
            .map(|(kind, n)| format!("{n} {}", plural(kind, *n)))
            .collect();
        r = r.field(
            "In the atlas",
            format!("{} — see /document or /search", parts.join(", ")),
            false,
        );
    }

    r.field(
        "Channels",
        channels
            .iter()
            .map(|c| format!("{} {}", c.platform, handle(&c.handle)))
            .collect::<Vec<_>>()
            .join(", "),
        false,
    )
}

fn plural(kind: &str, n: i64) -> String {
    let (one, many) = match kind {
        "news" => ("news story", "news stories"),
        "body" => ("body described", "bodies described"),
        "process" => ("process", "processes"),
        "document" => ("document", "documents"),
        "resolution" => ("resolution", "resolutions"),
        "programme" => ("programme", "programmes"),
        "report" => ("report", "reports"),
        "event" => ("event", "events"),
        "tool" => ("tool", "tools"),
        other => (other, other),
    };
    if n == 1 {
        one.to_string()
    } else {
        many.to_string()
    }
}

/// Handles are shown as the sources give them, with "@" unless they are addresses.
fn handle(h: &str) -> String {
    if h.contains('/') || h.contains('.') && h.contains("www") {
        h.to_string()
    } else {
        format!("@{h}")
    }
}

/// The names the sources print for it in brackets, each with where ("Géopolitique de la
/// Datasphère [001:127]").
fn also_written(atlas: &Atlas, id: i64) -> String {
    atlas
        .printed_names_of(id)
        .into_iter()
        .map(|(name, file, line)| format!("{name} [{}]", cite(&file, line)))
        .collect::<Vec<_>>()
        .join("; ")
}

fn short_card(atlas: &Atlas, a: &ActorRow) -> Reply {
    let mut r = Reply::answer(title(a));
    r.subtitle = Some("Mentioned in the sources; no profile of its own".to_string());
    r.summary = a.description.as_ref().map(|d| Text::plain(d.clone()));
    r = r.field("Also written", also_written(atlas, a.id), false);
    if let Some(parent) = a.parent_id {
        if let Some(p) = atlas.actor(parent) {
            r = r.field(
                "Part of",
                format!("{} — see /actor {}", title(&p), display_name(&p)),
                false,
            );
        }
    }
    let mentions = atlas.mentions_most_about(a.id, 6);
    let total = atlas.count_mentions_of(a.id);
    // Its own text comes first: what an event blurb or the UN list says of it (the
    // description, when there is one, is already the summary).
    let own = atlas.own_passages(a.id, 6);
    r = what_the_sources_say(a, &own, &mentions, total, r);
    let cites = sources_of(atlas, a, &own, &mentions);
    if !cites.is_empty() {
        r.sources = Some(format!("Sources: {}", cites.join(", ")));
    }
    if mentions.is_empty() && own.is_empty() && a.description.is_none() {
        r.summary = Some(Text::plain(
            "The sources name it, but say nothing more about it.",
        ));
    }
    r
}

/// The actor's own passages, then the sentences most about it (its names highlighted), and
/// how many more there are.
fn what_the_sources_say(
    a: &ActorRow,
    own: &[(String, String, i64)],
    mentions: &[MentionRow],
    total: usize,
    mut r: Reply,
) -> Reply {
    let own_items = own
        .iter()
        .filter(|(text, _, _)| {
            // Not the description again, nor a line that is only its name (a list's title).
            let key = name_key(text);
            a.description.as_deref() != Some(text.as_str())
                && key != name_key(&a.name)
                && a.full_name.as_deref().is_none_or(|f| key != name_key(f))
        })
        .map(|(text, f, l)| Item::new(text.clone()).source(cite(f, *l)));
    // One matcher for every way the sources write its name (one per sentence cost more than
    // the rest of the card).
    let mut forms: Vec<String> = mentions.iter().map(|m| m.written_as.clone()).collect();
    forms.sort();
    forms.dedup();
    let hl = crate::commands::evidence::Highlighter::new(&forms);
    let items: Vec<Item> = own_items
        .chain(mentions.iter().map(|m| {
            let mut item = Item::new(hl.highlight(&m.sentence)).source(cite(&m.file, m.line));
            item.label = m.by_name.clone();
            item
        }))
        .collect();
    r = r.section(
        if total > mentions.len() {
            "What the sources say (the sentences most about it)"
        } else {
            "What the sources say"
        },
        items,
    );
    if total > mentions.len() {
        r = r.field(
            "More",
            format!(
                "{} more sentences mention it — try /search {}",
                total - mentions.len(),
                display_name(a)
            ),
            false,
        );
    }
    r
}

/// Every place cited on the card: documents about the actor, its passages, its mentions.
fn sources_of(
    atlas: &Atlas,
    a: &ActorRow,
    own: &[(String, String, i64)],
    mentions: &[MentionRow],
) -> Vec<String> {
    let mut cites: Vec<String> = atlas
        .documents_about(a.id)
        .iter()
        .map(|(f, l)| cite(f, *l))
        .collect();
    cites.extend(own.iter().map(|(_, f, l)| cite(f, *l)));
    cites.extend(mentions.iter().map(|m| cite(&m.file, m.line)));
    cites.dedup();
    cites
}

fn not_found(atlas: &Atlas, query: &str, matches: &[(i64, f64, How)]) -> Reply {
    let mut names = Vec::new();
    for &(id, _, _) in matches.iter().take(3) {
        if let Some(a) = atlas.actor(id) {
            names.push(display_name(&a));
        }
    }
    if names.is_empty() {
        let mut seen = HashSet::new();
        for e in atlas.actors.suggest(query, 10) {
            if names.len() < 3 && seen.insert(e.payload) {
                if let Some(a) = atlas.actor(e.payload) {
                    names.push(display_name(&a));
                }
            }
        }
    }
    let shown = shorten(query, 60);
    let mut r = Reply::not_found(format!("No actor called “{shown}” in the atlas."));
    // Not profiled is not unknown: say where the sources mention it, if they do.
    let mentions = match crate::search::fts_query(&[query]) {
        Some(fts) => atlas.search_passages(&fts, Passages::All, 3),
        None => Vec::new(),
    };
    let summary = r.summary.as_mut().expect("set above");
    if let Some(first) = mentions.first() {
        summary.push(Span::Plain(format!(
            " The sources mention it in passing ({}): /search {shown}",
            cite(&first.file, first.line)
        )));
    } else if names.is_empty() {
        summary.push(Span::Plain(" Try /search with other words.".into()));
    }
    r.suggestions = names.into_iter().map(|n| format!("/actor {n}")).collect();
    r
}
