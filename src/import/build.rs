//! Builds the atlas rows from parsed sources and curated files: actors with their names,
//! sections and passages, topics, documents, standards and every sentence that mentions an
//! actor, a standard or a document. Pure: no database, and the same input always gives the
//! same rows in the same order (ids are positions).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;

use super::atlas::slugify;
use super::curated::{At, Curated};
use super::glossary;
use super::glue;
use super::model::{Document, Item, Para, Profile};
use super::names::{is_all_caps, NameMatcher};
use super::problem::Problems;
use super::prose;
use super::ranking;
pub use super::rows::*;
use crate::search::normalize::{fold_typography, name_key, search_copy};
use crate::search::standard_id::StandardId;

static STANDARD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(ISO/IEC/IEEE|ISO/IEC|ISO/TR|ISO/TS|ISO|IEC)(?:\s+(TR|TS))?\s*(\d{3,5}(?:-\d+|-[A-Z]\b)*)(?::\d{4})?(\s+series)?(\s+family)?").unwrap()
});
static UN_SYMBOL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bA/(?:[A-Z]+/)*\d+/\d+\b").unwrap());

/// Finds `quote` in the source texts (typography-insensitive): (file, line) of its start.
pub fn find_quote(texts: &[(String, String)], quote: &str) -> Option<Origin> {
    let q = fold_typography(quote);
    for (file, content) in texts {
        for l in prose::lines(content) {
            if fold_typography(&l.text).contains(&q) {
                return Some(Origin::new(file, l.number));
            }
        }
    }
    None
}

fn join_paras(paras: &[&Para]) -> Option<String> {
    if paras.is_empty() {
        None
    } else {
        Some(
            paras
                .iter()
                .map(|p| p.text.as_str())
                .collect::<Vec<_>>()
                .join("\n\n"),
        )
    }
}

fn check_unique<'a>(
    file_entries: impl Iterator<Item = (&'a str, usize, String)>,
    what: &str,
    problems: &mut Problems,
) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (file, line, key) in file_entries {
        if let Some(first) = seen.get(&key) {
            problems.error(
                file,
                line,
                format!("duplicate {what} '{key}' (first at line {first})"),
            );
        } else {
            seen.insert(key, line);
        }
    }
}

/// Where an actor slug points: its row index.
fn index_of(
    slugs: &HashMap<String, usize>,
    slug: &str,
    at: (&str, usize),
    what: &str,
    problems: &mut Problems,
) -> Option<usize> {
    let found = slugs.get(slug).copied();
    if found.is_none() {
        problems.error(
            at.0,
            at.1,
            format!("{what} '{slug}' is not an actor or organisation in data/actors.toml"),
        );
    }
    found
}

pub struct Inputs<'a> {
    pub curated: &'a Curated,
    pub profiles: Vec<Profile>,
    pub documents: Vec<Document>,
    /// Passages that are search-only text of an actor's document (report footnotes).
    pub extra_passages: Vec<(String, Para)>,
    /// Documents whose text is the profile text of an actor (the report): actor slug → doc index.
    pub profile_documents: HashMap<String, usize>,
    pub texts: Vec<(String, String)>,
    pub data_hash: String,
}

/// The state the stages share: the curated files, the sources' text, the problems found,
/// the atlas so far, and the indexes later stages look names up in.
struct Stage<'a, 'p> {
    c: &'a Curated,
    texts: &'a [(String, String)],
    problems: &'p mut Problems,
    atlas: Atlas,
    /// Actor slug → row.
    slugs: HashMap<String, usize>,
    /// Topic slug → row.
    topic_ix: HashMap<String, usize>,
}

impl Stage<'_, '_> {
    /// Curated files: slugs, headings and events unique.
    fn check_curated(&mut self) {
        let Stage { c, problems, .. } = self;
        check_unique(
            c.actors
                .iter()
                .map(|a| (a.file.as_str(), a.line, a.value.slug.clone()))
                .chain(
                    c.organisations
                        .iter()
                        .map(|o| (o.file.as_str(), o.line, o.value.slug.clone())),
                ),
            "actor slug",
            problems,
        );
        check_unique(
            c.baskets
                .iter()
                .map(|b| (b.file.as_str(), b.line, b.value.slug.clone())),
            "basket slug",
            problems,
        );
        check_unique(
            c.topics
                .iter()
                .map(|t| (t.file.as_str(), t.line, t.value.slug.clone())),
            "topic slug",
            problems,
        );
        check_unique(
            c.headings
                .iter()
                .map(|h| (h.file.as_str(), h.line, fold_typography(&h.value.text))),
            "heading",
            problems,
        );
        check_unique(
            c.events
                .iter()
                .map(|e| (e.file.as_str(), e.line, e.value.slug.clone())),
            "event slug",
            problems,
        );
    }

    /// Actors: profiles in source order (curated facts applied, misplaced tools moved), then
    /// organisations in file order; every name they go by.
    fn actors(&mut self, profiles: &mut [Profile]) {
        let Stage {
            c,
            texts,
            problems,
            atlas,
            slugs,
            ..
        } = self;
        let profiled: HashSet<&str> = profiles.iter().map(|p| p.slug.as_str()).collect();
        for entry in &c.actors {
            if !profiled.contains(entry.value.slug.as_str()) {
                problems.error(&entry.file, entry.line, format!("actor '{}' has no profile in the sources (check its website or data/sources.toml)", entry.value.slug));
            }
        }
        // Profiles in source order, then organisations in file order.
        for p in profiles.iter_mut() {
            apply_curated_facts(p, c, texts, problems);
            move_misplaced_tools(p, problems);
        }
        let mut seen_profile: HashSet<String> = HashSet::new();
        for p in profiles.iter() {
            if !seen_profile.insert(p.slug.clone()) {
                let line = p.spans.first().map(|s| s.1).unwrap_or(1);
                let file = p.spans.first().map(|s| s.0.clone()).unwrap_or_default();
                problems.error(
                    &file,
                    line,
                    format!(
                        "a second profile for '{}' (profiles must be merged, not repeated)",
                        p.slug
                    ),
                );
                continue;
            }
            slugs.insert(p.slug.clone(), atlas.actors.len());
            atlas.actors.push(actor_row(p));
        }
        for o in &c.organisations {
            if slugs.contains_key(&o.value.slug) {
                continue; // reported by check_unique
            }
            slugs.insert(o.value.slug.clone(), atlas.actors.len());
            atlas.actors.push(ActorRow {
                slug: o.value.slug.clone(),
                kind: "mentioned",
                name: o.value.name.clone(),
                full_name: Some(o.value.name.clone())
                    .filter(|n| Some(n) != o.value.acronym.as_ref() && !is_all_caps(n)),
                acronym: o.value.acronym.clone(),
                founded: None,
                founded_evidence: None,
                address: None,
                website: None,
                stakeholder_group: None,
                summary: None,
                description: None,
                activities: None,
                tools_note: None,
                parent: None,
                provenance: format!("{}:{}", o.file, o.line),
            });
        }
        for o in &c.organisations {
            if let Some(parent) = &o.value.part_of {
                let p = index_of(slugs, parent, (&o.file, o.line), "part_of", problems);
                if let Some(&me) = slugs.get(&o.value.slug) {
                    atlas.actors[me].parent = p;
                }
            }
        }
        // Names: profile name/acronym, curated aliases.
        let mut names: Vec<(usize, String, &'static str)> = Vec::new();
        for (i, a) in atlas.actors.iter().enumerate() {
            names.push((i, a.name.clone(), "name"));
            if let Some(f) = &a.full_name {
                names.push((i, f.clone(), "name"));
            }
            if let Some(ac) = &a.acronym {
                names.push((i, ac.clone(), "acronym"));
            }
        }
        for e in &c.actors {
            if let Some(&i) = slugs.get(&e.value.slug) {
                names.extend(e.value.aliases.iter().map(|al| (i, al.clone(), "alias")));
            }
        }
        for o in &c.organisations {
            if let Some(&i) = slugs.get(&o.value.slug) {
                names.extend(o.value.aliases.iter().map(|al| (i, al.clone(), "alias")));
            }
        }
        let mut name_seen: HashSet<(String, usize)> = HashSet::new();
        for (i, n, kind) in &names {
            let key = name_key(n);
            if !key.is_empty() && name_seen.insert((key.clone(), *i)) {
                atlas.actor_names.push((*i, n.clone(), key, kind));
            }
        }
    }

    /// Baskets, topics and the terms that name them (one topic per term); heading mappings.
    fn topics(&mut self) {
        let Stage {
            c,
            problems,
            atlas,
            topic_ix,
            ..
        } = self;
        let basket_slugs: HashSet<&str> = c.baskets.iter().map(|b| b.value.slug.as_str()).collect();
        for b in &c.baskets {
            atlas
                .baskets
                .push((b.value.slug.clone(), b.value.name.clone()));
        }
        for t in &c.topics {
            if !basket_slugs.contains(t.value.basket.as_str()) {
                problems.error(
                    &t.file,
                    t.line,
                    format!(
                        "topic '{}' is in unknown basket '{}'",
                        t.value.slug, t.value.basket
                    ),
                );
            }
            topic_ix.insert(t.value.slug.clone(), atlas.topics.len());
            atlas.topics.push((
                t.value.slug.clone(),
                t.value.name.clone(),
                t.value.basket.clone(),
            ));
        }
        let mut term_owner: HashMap<String, (usize, usize)> = HashMap::new();
        for t in &c.topics {
            let ti = topic_ix[&t.value.slug];
            let mut terms = vec![t.value.name.clone(), t.value.slug.replace('-', " ")];
            terms.extend(t.value.synonyms.iter().cloned());
            for term in terms {
                let key = name_key(&term);
                match term_owner.get(&key) {
                    Some(&(other, _)) if other != ti => problems.error(
                        &t.file,
                        t.line,
                        format!(
                            "synonym '{term}' of topic '{}' already belongs to topic '{}'",
                            t.value.slug, atlas.topics[other].0
                        ),
                    ),
                    Some(_) => {}
                    None => {
                        term_owner.insert(key.clone(), (ti, t.line));
                        atlas.topic_terms.push((key, term, ti));
                    }
                }
            }
        }
        for h in &c.headings {
            for t in &h.value.topics {
                if !topic_ix.contains_key(t) {
                    problems.error(
                        &h.file,
                        h.line,
                        format!("heading '{}' maps to unknown topic '{t}'", h.value.text),
                    );
                }
            }
        }
    }

    /// Documents: the curated ones found in the sources, slugs (same titles get -2, -3),
    /// unique symbols, bodies of the UN list tied to the actor they describe.
    fn documents(&mut self, documents: &mut Vec<Document>) {
        let Stage {
            c,
            texts,
            problems,
            atlas,
            slugs,
            ..
        } = self;
        let mut curated_summaries: HashSet<usize> = HashSet::new();
        for d in &c.documents {
            let Some(kind) = DocKind::parse(&d.value.kind) else {
                problems.error(
                    &d.file,
                    d.line,
                    format!("unknown document kind '{}'", d.value.kind),
                );
                continue;
            };
            let Some(origin) = find_quote(texts, &d.value.quote) else {
                problems.error(
                    &d.file,
                    d.line,
                    format!("quote not found in any source: \"{}\"", d.value.quote),
                );
                continue;
            };
            if d.value.curated && d.value.summary.is_some() {
                curated_summaries.insert(documents.len());
            }
            documents.push(Document {
                slug: String::new(),
                kind,
                symbol: d.value.symbol.clone(),
                title: d.value.title.clone(),
                subtitle: None,
                summary: d.value.summary.clone(),
                owner: d.value.owner.clone(),
                about: None,
                paras: vec![],
                origin,
            });
        }
        let mut doc_slugs: HashSet<String> = HashSet::new();
        let mut slug_counters: HashMap<String, usize> = HashMap::new();
        let name_owner: HashMap<&str, usize> = atlas
            .actor_names
            .iter()
            .map(|(i, _, k, _)| (k.as_str(), *i))
            .rev()
            .collect();
        let mut symbol_seen: HashMap<String, Origin> = HashMap::new();
        for d in documents.iter_mut() {
            let base = match &d.symbol {
                Some(s) => slugify(s),
                None => {
                    let s = slugify(&d.title);
                    s.chars()
                        .take(60)
                        .collect::<String>()
                        .trim_end_matches('-')
                        .to_string()
                }
            };
            // Same titles (the five GGE reports) get -2, -3, …: a counter per base keeps this linear.
            let mut slug = base.clone();
            while !doc_slugs.insert(slug.clone()) {
                let n = slug_counters.entry(base.clone()).or_insert(1);
                *n += 1;
                slug = format!("{base}-{n}");
            }
            d.slug = slug;
            if let Some(sym) = &d.symbol {
                if let Some(first) = symbol_seen.insert(sym.to_lowercase(), d.origin.clone()) {
                    problems.error(
                        &d.origin.file,
                        d.origin.line,
                        format!(
                            "document symbol {sym} appears twice (first at {}:{})",
                            first.file, first.line
                        ),
                    );
                }
            }
            if d.kind == DocKind::Body {
                // "Office of Information and Communications Technology (OICT)": name, then acronym.
                let bare = d
                    .title
                    .rsplit_once(" (")
                    .filter(|(_, a)| a.ends_with(')'))
                    .map_or(d.title.as_str(), |(n, _)| n);
                let key = name_key(bare);
                d.about = name_owner
                    .get(key.as_str())
                    .map(|&i| atlas.actors[i].slug.clone());
                if d.about.is_none() {
                    problems.warn(
                        &d.origin.file,
                        d.origin.line,
                        format!(
                            "body '{}' is not an organisation in data/actors.toml",
                            d.title
                        ),
                    );
                }
            }
        }
        for (di, d) in documents.iter().enumerate() {
            let owner = d.owner.as_ref().and_then(|o| {
                index_of(
                    slugs,
                    o,
                    (&d.origin.file, d.origin.line),
                    "document owner",
                    problems,
                )
            });
            let about = d.about.as_ref().and_then(|o| slugs.get(o).copied());
            if let (Some(a), DocKind::Body) = (about, d.kind) {
                let actor = &mut atlas.actors[a];
                if actor.description.is_none() {
                    actor.description = d.summary.clone();
                    actor.summary = d.summary.clone();
                }
            }
            atlas.documents.push(DocumentRow {
                slug: d.slug.clone(),
                kind: d.kind,
                symbol: d.symbol.clone(),
                title: d.title.clone(),
                subtitle: d.subtitle.clone(),
                summary: d.summary.clone(),
                owner,
                about,
                origin: d.origin.clone(),
                summary_curated: curated_summaries.contains(&di),
            });
        }
    }

    /// Profile sections with their topics, and every paragraph as a passage: profiles, documents
    /// (a body's description is that body's), the report's footnotes, address lines.
    fn sections_and_passages(
        &mut self,
        profiles: &[Profile],
        documents: &[Document],
        extra_passages: &[(String, Para)],
        profile_documents: &HashMap<String, usize>,
    ) {
        let Stage {
            c,
            atlas,
            slugs,
            topic_ix,
            ..
        } = self;
        for p in profiles.iter() {
            let Some(&ai) = slugs.get(&p.slug) else {
                continue;
            };
            let doc = profile_documents.get(&p.slug).copied();
            let base = atlas.sections.len();
            for (position, s) in p.sections.iter().enumerate() {
                let si = atlas.sections.len();
                atlas.sections.push(SectionRow {
                    actor: ai,
                    parent: s.parent.map(|x| base + x),
                    kind: s.kind,
                    heading: s.heading.clone(),
                    tagline: s.tagline.clone(),
                    position,
                    origin: s.origin.clone(),
                });
                // Sections from formats without a heading map of their own (the report) get their
                // topics from the taxonomy here.
                let mapped: Vec<String> = match (&s.heading, s.kind) {
                    (Some(h), SectionKind::Issue) if s.topics.is_empty() => c
                        .heading_topics(h)
                        .map(<[String]>::to_vec)
                        .unwrap_or_default(),
                    _ => vec![],
                };
                let mut topics: Vec<&String> = s.topics.iter().chain(mapped.iter()).collect();
                if topics.is_empty() && s.kind == SectionKind::Subsection {
                    if let Some(parent) = s.parent {
                        let parent = &p.sections[parent];
                        topics = parent.topics.iter().collect();
                        if topics.is_empty() {
                            if let Some(ts) =
                                parent.heading.as_deref().and_then(|h| c.heading_topics(h))
                            {
                                topics = ts.iter().collect();
                            }
                        }
                    }
                }
                for t in topics {
                    if let Some(&ti) = topic_ix.get(t) {
                        atlas.section_topics.push((si, ti));
                    }
                }
                for (pos, para) in s.paras.iter().enumerate() {
                    atlas
                        .passages
                        .push(passage(Some(ai), Some(si), doc, pos, para));
                }
            }
            // The address line is searchable too ("Varembé", "Palais des Nations").
            if let Some(f) = &p.address {
                let para = Para {
                    text: f.evidence.clone(),
                    origin: f.origin.clone(),
                    truncated: false,
                };
                atlas
                    .passages
                    .push(passage(Some(ai), None, doc, usize::MAX / 4, &para));
            }
            for it in &p.items {
                atlas.items.push(ItemRow {
                    actor: ai,
                    kind: "tool",
                    name: it.name.clone(),
                    description: it.description.clone(),
                    origin: it.origin.clone(),
                });
            }
            let mut channel_seen = HashSet::new();
            for ch in &p.channels {
                if channel_seen.insert((ch.platform.clone(), ch.handle.clone())) {
                    atlas.channels.push(ChannelRow {
                        actor: ai,
                        platform: ch.platform.clone(),
                        handle: ch.handle.clone(),
                        origin: ch.origin.clone(),
                    });
                }
            }
            let actor = &mut atlas.actors[ai];
            let desc: Vec<&Para> = p.paras_of(SectionKind::Description).collect();
            actor.description = join_paras(&desc);
            actor.summary = desc.first().map(|d| {
                prose::sentences(&d.text)
                    .first()
                    .copied()
                    .unwrap_or(&d.text)
                    .to_string()
            });
            let acts: Vec<&Para> = p.paras_of(SectionKind::Activities).collect();
            actor.activities = join_paras(&acts);
            let tools: Vec<&Para> = p.paras_of(SectionKind::Tools).collect();
            actor.tools_note = join_paras(&tools);
        }
        for (di, d) in documents.iter().enumerate() {
            // What the UN list says about a body is that body's, not the list's owner's.
            let row = &atlas.documents[di];
            let actor = match (row.kind, row.about) {
                (DocKind::Body, Some(about)) => Some(about),
                _ => row.owner,
            };
            for (pos, para) in d.paras.iter().enumerate() {
                atlas
                    .passages
                    .push(passage(actor, None, Some(di), pos, para));
            }
        }
        for (slug, para) in extra_passages {
            let actor = slugs.get(slug).copied();
            let doc = profile_documents.get(slug).copied();
            atlas
                .passages
                .push(passage(actor, None, doc, usize::MAX / 2, para));
        }
    }

    /// Atlas events from data/events.toml, anchored by their quotes; a blurb that is no one's
    /// text becomes its organiser's passages.
    fn events(&mut self) {
        let Stage {
            c,
            texts,
            problems,
            atlas,
            slugs,
            ..
        } = self;
        // The text every actor already has, folded once for all events.
        let written: Vec<String> = atlas
            .passages
            .iter()
            .map(|p| fold_typography(&p.text))
            .collect();
        for e in &c.events {
            let Some(origin) = find_quote(texts, &e.value.quote) else {
                problems.error(
                    &e.file,
                    e.line,
                    format!("quote not found in any source: \"{}\"", e.value.quote),
                );
                continue;
            };
            for (label, date) in [("starts", &e.value.starts), ("ends", &e.value.ends)] {
                if let Some(d) = date {
                    if !valid_partial_date(d) {
                        problems.error(
                            &e.file,
                            e.line,
                            format!(
                                "{label} = \"{d}\" is not a date: write 2021-10-31, 2021-10 or 2021"
                            ),
                        );
                    }
                }
            }
            let organiser = e
                .value
                .organiser
                .as_ref()
                .and_then(|o| index_of(slugs, o, (&e.file, e.line), "organiser", problems));
            let description = event_description(
                texts,
                &origin,
                &e.value.quote,
                if e.value.claim {
                    e.value.claim_lines
                } else {
                    1
                },
            );
            // A blurb that is no one's text (the undated events at the end of 001) is its
            // organiser's: searchable, and counted for its topics. An event quoted from an actor's
            // own text (the report) stays that actor's: the organiser did not write it.
            let quote = fold_typography(&e.value.quote);
            let already_text = written.iter().any(|p| p.contains(quote.as_str()));
            if !already_text {
                let lines = if e.value.claim {
                    e.value.claim_lines
                } else {
                    1
                };
                for (i, para) in event_lines(texts, &origin, lines).iter().enumerate() {
                    atlas.passages.push(passage(organiser, None, None, i, para));
                }
            }
            atlas.events.push(EventRow {
                slug: e.value.slug.clone(),
                title: e.value.title.clone(),
                starts: e.value.starts.clone(),
                ends: e.value.ends.clone(),
                date_text: e.value.date_text.clone(),
                place: e.value.place.clone(),
                recurrence: e.value.recurrence.clone(),
                organiser,
                description,
                origin,
            });
        }
    }

    /// Every sentence naming an organisation in someone else's text.
    fn actor_mentions(&mut self) {
        let Stage { atlas, .. } = self;
        let matcher = name_matcher(atlas);
        let mut mention_seen: HashSet<(usize, usize, String)> = HashSet::new();
        for (pi, p) in atlas.passages.iter().enumerate() {
            for sentence in prose::sentences(&p.text) {
                for (target, written) in matcher.find(sentence) {
                    if Some(target) == p.actor {
                        continue; // an actor's own text does not "mention" it
                    }
                    if let Some(other) = printed_after(sentence, &written) {
                        let known = atlas
                            .printed_names
                            .iter()
                            .any(|(t, n, _)| *t == target && *n == other);
                        if !known {
                            atlas.printed_names.push((target, other, p.origin.clone()));
                        }
                    }
                    if mention_seen.insert((target, pi, sentence.to_string())) {
                        atlas.actor_mentions.push(MentionRow {
                            target,
                            passage: pi,
                            written_as: written,
                            sentence: sentence.to_string(),
                            origin: p.origin.clone(),
                        });
                    }
                }
            }
        }
    }

    /// The standards registry, its relations, and every sentence citing a standard.
    fn standards(&mut self) {
        let Stage {
            c, problems, atlas, ..
        } = self;
        let mut std_ix: HashMap<String, usize> = HashMap::new();
        for s in &c.standards {
            let Some(id) = StandardId::parse(&s.value.id) else {
                problems.error(&s.file, s.line, format!("'{}' is not a standard identifier (e.g. \"ISO/IEC 27001\", \"ISO/IEC TR 24028\")", s.value.id));
                continue;
            };
            if !["IS", "TR", "TS"].contains(&s.value.kind.as_str()) {
                problems.error(
                    &s.file,
                    s.line,
                    format!("type must be IS, TR or TS, found '{}'", s.value.kind),
                );
            }
            let key = id.key();
            if let Some(&other) = std_ix.get(&key) {
                problems.error(
                    &s.file,
                    s.line,
                    format!(
                        "standard '{}' has the same number as '{}'",
                        s.value.id, atlas.standards[other].identifier
                    ),
                );
                continue;
            }
            std_ix.insert(key.clone(), atlas.standards.len());
            atlas.standards.push(StandardRow {
                slug: slugify(&s.value.id),
                identifier: s.value.id.clone(),
                key,
                base_number: id.number.clone(),
                body: id.body.clone(),
                kind: s.value.kind.clone(),
                series: s.value.series,
                covers: s.value.covers.clone(),
                committee: s.value.committee.clone(),
                family: s.value.family.clone(),
                domain: s.value.domain.clone(),
                conformity: s.value.conformity.clone(),
                conformity_note: s.value.conformity_note.clone(),
                curated: s.value.curated,
            });
        }
        let mut rel_seen = HashSet::new();
        for s in &c.standards {
            let Some(me) =
                StandardId::parse(&s.value.id).and_then(|id| std_ix.get(&id.key()).copied())
            else {
                continue;
            };
            for target in &s.value.extends {
                match StandardId::parse(target).and_then(|id| std_ix.get(&id.key()).copied()) {
                    Some(t) => {
                        if rel_seen.insert((me, "extends", t)) {
                            atlas.standard_relations.push((me, "extends", t));
                            atlas.standard_relations.push((t, "extended-by", me));
                        }
                    }
                    None => problems.error(
                        &s.file,
                        s.line,
                        format!(
                            "'{}' extends '{target}', which is not in the registry",
                            s.value.id
                        ),
                    ),
                }
            }
        }
        let mut by_base: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, s) in atlas.standards.iter().enumerate() {
            by_base.entry(s.base_number.clone()).or_default().push(i);
        }
        for members in by_base.values().filter(|m| m.len() > 1) {
            for &a in members {
                for &b in members.iter().filter(|&&b| b != a) {
                    atlas.standard_relations.push((a, "sibling", b));
                }
            }
        }
        let mut unknown_reported = HashSet::new();
        for (pi, p) in atlas.passages.iter().enumerate() {
            for sentence in prose::sentences(&p.text) {
                let folded = fold_typography(sentence);
                for m in STANDARD.captures_iter(&folded) {
                    if m.get(5).is_some() {
                        continue; // "the ISO and IEC 27000 family": a family, not a standard
                    }
                    let written = m.get(0).expect("whole match").as_str().trim().to_string();
                    let Some(id) = StandardId::parse(&written) else {
                        continue;
                    };
                    match std_ix.get(&id.key()) {
                        Some(&si) => atlas.standard_mentions.push((
                            si,
                            p.actor,
                            MentionRow {
                                target: si,
                                passage: pi,
                                written_as: written,
                                sentence: sentence.to_string(),
                                origin: p.origin.clone(),
                            },
                        )),
                        None => {
                            if unknown_reported.insert(id.key()) {
                                problems.warn(&p.origin.file, p.origin.line, format!("standard '{written}' is not in data/standards.toml: add it to the registry"));
                            }
                        }
                    }
                }
            }
        }
    }

    /// Every sentence citing a document by its UN symbol.
    fn document_mentions(&mut self) {
        let Stage {
            problems, atlas, ..
        } = self;
        let symbols: HashMap<String, usize> = atlas
            .documents
            .iter()
            .enumerate()
            .filter_map(|(i, d)| d.symbol.as_ref().map(|s| (s.to_lowercase(), i)))
            .collect();
        for (pi, p) in atlas.passages.iter().enumerate() {
            for sentence in prose::sentences(&p.text) {
                for m in UN_SYMBOL.find_iter(sentence) {
                    match symbols.get(&m.as_str().to_lowercase()) {
                        Some(&di) => atlas.document_mentions.push(MentionRow {
                            target: di,
                            passage: pi,
                            written_as: m.as_str().to_string(),
                            sentence: sentence.to_string(),
                            origin: p.origin.clone(),
                        }),
                        None => problems.warn(
                            &p.origin.file,
                            p.origin.line,
                            format!(
                                "document {} is cited but has no entry (add it to data/documents.toml)",
                                m.as_str()
                            ),
                        ),
                    }
                }
            }
        }
    }

    /// The glossary, with what the sources do with each term (checked, not asserted).
    fn glossary(&mut self) {
        let Stage {
            c, texts, atlas, ..
        } = self;
        let corpus = glossary::Corpus::new(texts);
        for t in &c.glossary {
            let v = &t.value;
            let (status, origin) = glossary::classify(&corpus, &v.term, &v.expansion, v.curated);
            atlas.glossary.push(TermRow {
                term: v.term.clone(),
                key: name_key(&v.term),
                expansion: v.expansion.clone(),
                curated: v.curated,
                status,
                origin,
            });
        }
    }

    /// Everyday words for the sources' terms, each term checked against the passages.
    fn relatives(&mut self) {
        let Stage {
            c, problems, atlas, ..
        } = self;
        atlas.relatives = super::relatives::pairs(&c.relatives, &atlas.passages, problems);
    }

    /// Who works on each topic, ranked (see `ranking`).
    fn rankings(&mut self) {
        let Stage { atlas, .. } = self;
        atlas.topic_actors = ranking::rank_topics(atlas, &name_matcher(atlas));
    }

    /// Sources' owners are actors of the atlas.
    fn source_owners(&mut self) {
        let Stage {
            c, problems, slugs, ..
        } = self;
        for s in &c.sources {
            if let Some(a) = &s.value.actor {
                if !slugs.contains_key(a) {
                    problems.error(
                        &s.file,
                        s.line,
                        format!("actor '{a}' is not in data/actors.toml"),
                    );
                }
            }
        }
    }
}

/// Builds the atlas in named stages, each one quirk of the data or one table: the order
/// matters only where a stage reads what an earlier one wrote (names before mentions, passages
/// before rankings).
pub fn build(inp: Inputs<'_>, problems: &mut Problems) -> Atlas {
    let t0 = std::time::Instant::now();
    let mut atlas = Atlas {
        data_hash: inp.data_hash.clone(),
        ..Atlas::default()
    };
    for s in &inp.curated.sources {
        atlas.sources.push((
            s.value.slug.clone(),
            s.value.file.clone(),
            s.value.format.clone(),
            s.value.title.clone(),
        ));
    }
    let mut profiles = inp.profiles;
    let mut documents = inp.documents;
    repair_glued_words(
        inp.curated,
        &inp.texts,
        &mut profiles,
        &mut documents,
        problems,
    );
    let mut stage = Stage {
        c: inp.curated,
        texts: &inp.texts,
        problems,
        atlas,
        slugs: HashMap::new(),
        topic_ix: HashMap::new(),
    };
    let trace = |name: &str| {
        tracing::trace!(elapsed_us = t0.elapsed().as_micros() as u64, stage = name);
    };
    stage.check_curated();
    stage.actors(&mut profiles);
    trace("actors");
    stage.topics();
    stage.documents(&mut documents);
    trace("documents");
    stage.sections_and_passages(
        &profiles,
        &documents,
        &inp.extra_passages,
        &inp.profile_documents,
    );
    stage.events();
    trace("sections, passages, events");
    stage.actor_mentions();
    trace("mentions of actors");
    stage.standards();
    stage.document_mentions();
    trace("standards and documents cited");
    stage.glossary();
    stage.relatives();
    stage.rankings();
    trace("glossary and rankings");
    stage.source_owners();
    stage.atlas
}

/// The name the sources print for an actor right after the name they call it by, in
/// brackets, when it is a name in another language ("Geopolitics in the Datasphere[Géopolitique
/// de la Datasphère]"): several words, with a letter outside ASCII or a French article, not
/// an acronym or a year.
fn printed_after(sentence: &str, written: &str) -> Option<String> {
    static BRACKETED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^\s*[\[(]([^\[\]()]{4,80})[\])]").expect("a valid pattern")
    });
    let at = sentence.find(written)? + written.len();
    let inside = BRACKETED.captures(&sentence[at..])?[1].trim().to_string();
    let words: Vec<&str> = inside.split_whitespace().collect();
    let french = words.iter().any(|w| {
        matches!(
            w.to_lowercase().as_str(),
            "de" | "la" | "le" | "les" | "des" | "du" | "pour" | "et"
        ) || w.starts_with("l'")
            || w.starts_with("d'")
    });
    let accented = inside.chars().any(|c| c.is_alphabetic() && !c.is_ascii());
    (words.len() >= 2 && (french || accented)).then_some(inside)
}

/// A matcher for every name the atlas's actors go by.
fn name_matcher(atlas: &Atlas) -> NameMatcher {
    let names: Vec<(usize, String)> = atlas
        .actor_names
        .iter()
        .map(|(i, n, _, _)| (*i, n.clone()))
        .collect();
    NameMatcher::new(&names)
}

fn passage(
    actor: Option<usize>,
    section: Option<usize>,
    document: Option<usize>,
    position: usize,
    para: &Para,
) -> PassageRow {
    // A passage the source cuts off mid-sentence says so wherever it is shown.
    let text = if para.truncated && !para.text.ends_with('…') {
        format!("{}…", para.text.trim_end())
    } else {
        para.text.clone()
    };
    PassageRow {
        actor,
        section,
        document,
        position,
        text,
        search_text: search_copy(&para.text),
        truncated: para.truncated,
        origin: para.origin.clone(),
    }
}

fn valid_partial_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let num = |p: &str, len: usize, max: u32| {
        p.len() == len && p.parse::<u32>().is_ok_and(|n| n >= 1 && n <= max)
    };
    match parts.as_slice() {
        [y] => num(y, 4, 9999),
        [y, m] => num(y, 4, 9999) && num(m, 2, 12),
        [y, m, d] => num(y, 4, 9999) && num(m, 2, 12) && num(d, 2, 31),
        _ => false,
    }
}

/// The event's description: the sentence holding the quote, or the whole claimed blurb.
/// "WIPO GREEN – online marketplace for sustainable technologies" is a tool, whatever heading
/// the scrape put it under: a "Name – what it is" line inside an issue section goes to the
/// actor's tools (once: a tool already listed is not listed twice), and the move is reported.
fn move_misplaced_tools(p: &mut Profile, problems: &mut Problems) {
    let mut moved: Vec<(String, Option<String>, Origin, String)> = Vec::new();
    for s in &mut p.sections {
        if !matches!(s.kind, SectionKind::Issue | SectionKind::Subsection) {
            continue;
        }
        let heading = s.heading.clone().unwrap_or_default();
        s.paras.retain(|para| match tool_line(&para.text) {
            Some((name, description)) => {
                moved.push((name, description, para.origin.clone(), heading.clone()));
                false
            }
            None => true,
        });
    }
    for (name, description, origin, heading) in moved {
        let key = name_key(&name);
        let listed = p.items.iter().any(|i| name_key(&i.name) == key);
        let what = if listed {
            "already in its tools"
        } else {
            "moved to its tools"
        };
        problems.removed(
            &origin.file,
            origin.line,
            format!("tool “{name}” listed under the issue “{heading}”: {what}"),
        );
        if !listed {
            p.items.push(Item {
                name,
                description,
                origin,
            });
        }
    }
}

/// "Name – what it is" (a tool-list line): a short capitalised name without a sentence in
/// it, a dash, a description.
fn tool_line(text: &str) -> Option<(String, Option<String>)> {
    static TOOL: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^([A-Z][^.–—:;]{1,58}?)\s*[–—]\s*([a-z].*)$").unwrap());
    let c = TOOL.captures(text.trim())?;
    let description = c[2].trim().trim_end_matches('.').to_string();
    // One sentence only: a paragraph that goes on is prose about the issue, not a list entry.
    (prose::sentences(&description).len() <= 1)
        .then(|| (c[1].trim().to_string(), Some(description)))
}

/// Mends words the scrape glued together in every paragraph, tool and document, with the
/// sources' own vocabulary; names (actors, aliases, tools, glossary terms) are never split.
/// Each repair is reported with its file:line.
fn repair_glued_words(
    c: &Curated,
    texts: &[(String, String)],
    profiles: &mut [Profile],
    documents: &mut [Document],
    problems: &mut Problems,
) {
    let mut names: Vec<String> = Vec::new();
    for a in &c.actors {
        names.extend(a.value.name.iter().cloned());
        names.extend(a.value.aliases.iter().cloned());
    }
    for o in &c.organisations {
        names.push(o.value.name.clone());
        names.extend(o.value.acronym.iter().cloned());
        names.extend(o.value.aliases.iter().cloned());
    }
    names.extend(c.glossary.iter().map(|g| g.value.term.clone()));
    for p in profiles.iter() {
        names.extend(p.name.iter().map(|f| f.value.clone()));
        names.extend(p.acronym.iter().map(|f| f.value.clone()));
        names.extend(p.items.iter().map(|i| i.name.clone()));
        names.extend(p.channels.iter().map(|ch| ch.handle.clone()));
    }
    let vocab = glue::Vocabulary::new(texts.iter().map(|(_, t)| t.as_str()), &names);
    let mut mend = |text: &mut String, origin: &Origin| {
        if let Some((fixed, repairs)) = vocab.repair(text) {
            for (was, now) in repairs {
                problems.repaired(&origin.file, origin.line, format!("“{was}” → “{now}”"));
            }
            *text = fixed;
        }
    };
    for p in profiles.iter_mut() {
        for s in &mut p.sections {
            for para in &mut s.paras {
                mend(&mut para.text, &para.origin);
            }
        }
        for it in &mut p.items {
            if let Some(d) = &mut it.description {
                mend(d, &it.origin);
            }
        }
    }
    for d in documents.iter_mut() {
        for para in &mut d.paras {
            mend(&mut para.text, &para.origin);
        }
        if let Some(s) = &mut d.summary {
            mend(s, &d.origin);
        }
    }
}

/// The source lines of an event blurb, one paragraph each (junk lines left out), so that a
/// search hit cites the line it is on.
fn event_lines(texts: &[(String, String)], origin: &Origin, lines: usize) -> Vec<Para> {
    let Some((_, content)) = texts.iter().find(|(f, _)| *f == origin.file) else {
        return vec![];
    };
    prose::lines(content)
        .into_iter()
        .filter(|l| l.number >= origin.line && !l.text.is_empty())
        .take(lines)
        .filter(|l| prose::junk_kind(&l.text).is_none())
        .map(|l| Para {
            truncated: prose::is_truncated(&l.text),
            origin: Origin::new(&origin.file, l.number),
            text: l.text,
        })
        .collect()
}

fn event_description(
    texts: &[(String, String)],
    origin: &Origin,
    quote: &str,
    lines: usize,
) -> String {
    let Some((_, content)) = texts.iter().find(|(f, _)| *f == origin.file) else {
        return quote.to_string();
    };
    let ls: Vec<String> = prose::lines(content)
        .into_iter()
        .filter(|l| l.number >= origin.line && !l.text.is_empty())
        .take(lines)
        .map(|l| l.text)
        .collect();
    if lines > 1 {
        return ls
            .into_iter()
            .filter(|l| prose::junk_kind(l).is_none())
            .collect::<Vec<_>>()
            .join(" ");
    }
    let text = ls.first().cloned().unwrap_or_default();
    let folded = fold_typography(&text);
    let q = fold_typography(quote);
    match folded.find(&q) {
        Some(_) => prose::sentences(&text)
            .into_iter()
            .find(|s| fold_typography(s).contains(&q) || q.contains(&fold_typography(s)))
            .map(str::to_string)
            .unwrap_or(text),
        None => text,
    }
}

fn actor_row(p: &Profile) -> ActorRow {
    let name = p
        .name
        .as_ref()
        .map(|n| n.value.clone())
        .unwrap_or_else(|| p.slug.clone());
    // "Acronym: CyberPeace Institute" repeats the name: that is no acronym. DCAF's curated
    // acronym is its only name, which the card shows once.
    let acronym = p
        .acronym
        .as_ref()
        .map(|a| a.value.clone())
        .filter(|a| *a != name || is_all_caps(a));
    // A full name only where the sources give one (DCAF's profile has only its acronym).
    let full_name = p
        .name
        .as_ref()
        .filter(|n| Some(&n.value) != acronym.as_ref())
        .map(|n| n.value.clone());
    let provenance = p
        .spans
        .iter()
        .map(|(f, a, b)| format!("{}:{}-{}", short_file(f), a, b))
        .collect::<Vec<_>>()
        .join("; ");
    ActorRow {
        slug: p.slug.clone(),
        kind: "profiled",
        name,
        full_name,
        acronym,
        founded: p.founded.as_ref().map(|f| f.value),
        founded_evidence: p.founded.as_ref().map(|f| f.evidence.clone()),
        address: p.address.as_ref().map(|f| f.value.clone()),
        website: p.website.as_ref().map(|f| f.value.clone()),
        stakeholder_group: p.stakeholder_group.as_ref().map(|f| f.value.clone()),
        summary: None,
        description: None,
        activities: None,
        tools_note: None,
        parent: None,
        provenance,
    }
}

/// "sources/000_5b758100139b5c9f.txt" → "000".
pub fn short_file(f: &str) -> String {
    let name = f.rsplit('/').next().unwrap_or(f);
    name.split('_').next().unwrap_or(name).to_string()
}

/// Facts of data/actors.toml that the source fields do not give: each must quote the actor's
/// own source text, so that no fact enters the atlas unsupported.
fn apply_curated_facts(
    p: &mut Profile,
    c: &Curated,
    texts: &[(String, String)],
    problems: &mut Problems,
) {
    let Some(entry) = c.actors.iter().find(|a| a.value.slug == p.slug) else {
        return;
    };
    if entry.value.acronym.is_none() && entry.value.founded.is_none() && entry.value.name.is_none()
    {
        return; // nothing curated to apply (and no need to look through the sources)
    }
    let own: Vec<(String, String)> = texts
        .iter()
        .filter(|(f, _)| p.spans.iter().any(|s| &s.0 == f))
        .cloned()
        .collect();
    let locate = |quote: &str,
                  problems: &mut Problems,
                  entry: &At<super::curated::ActorEntry>|
     -> Option<Origin> {
        let found = find_quote(&own, quote);
        if found.is_none() {
            problems.error(
                &entry.file,
                entry.line,
                format!(
                    "quote not found in {}'s sources: \"{quote}\"",
                    entry.value.slug
                ),
            );
        }
        found
    };
    if p.name.is_none() {
        if let Some(name) = &entry.value.name {
            p.name = Some(super::model::Field {
                value: name.clone(),
                evidence: name.clone(),
                origin: Origin::new(&entry.file, entry.line),
            });
        }
    }
    if let Some(a) = &entry.value.acronym {
        if let Some(origin) = locate(&a.quote, problems, entry) {
            if p.acronym.is_none() {
                p.acronym = Some(super::model::Field {
                    value: a.value.clone(),
                    evidence: a.quote.clone(),
                    origin,
                });
            }
        }
    }
    if let Some(f) = &entry.value.founded {
        if let Some(origin) = locate(&f.quote, problems, entry) {
            if !f.quote.contains(&f.year.to_string()) {
                problems.error(
                    &entry.file,
                    entry.line,
                    format!(
                        "founded = {} but the quote does not contain that year",
                        f.year
                    ),
                );
            } else if p.founded.is_none() {
                let sentence =
                    sentence_with(texts, &origin, &f.quote).unwrap_or_else(|| f.quote.clone());
                p.founded = Some(super::model::Field {
                    value: f.year,
                    evidence: sentence,
                    origin,
                });
            }
        }
    }
}

fn sentence_with(texts: &[(String, String)], origin: &Origin, quote: &str) -> Option<String> {
    let (_, content) = texts.iter().find(|(f, _)| *f == origin.file)?;
    let line = prose::lines(content)
        .into_iter()
        .find(|l| l.number == origin.line)?;
    let q = fold_typography(quote);
    prose::sentences(&line.text)
        .into_iter()
        .find(|s| fold_typography(s).contains(&q))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::model::Section;

    fn para(text: &str) -> Para {
        Para {
            text: text.into(),
            origin: Origin::new("000", 7),
            truncated: false,
        }
    }

    #[test]
    fn a_tool_line_is_a_short_name_a_dash_and_one_sentence() {
        assert_eq!(
            tool_line("WIPO GREEN – online marketplace for sustainable technologies."),
            Some((
                "WIPO GREEN".into(),
                Some("online marketplace for sustainable technologies".into())
            ))
        );
        // Prose with a dash in it is not a tool; neither is a bullet that starts with one.
        assert_eq!(
            tool_line("The Forum – like others – works on trade. It also does more."),
            None
        );
        assert_eq!(tool_line("– The Institute issued a Statement"), None);
    }

    #[test]
    fn a_tool_under_an_issue_moves_to_the_tools_once() {
        let mut p = Profile {
            slug: "wipo".into(),
            items: vec![Item {
                name: "WIPO GREEN".into(),
                description: None,
                origin: Origin::new("000", 456),
            }],
            sections: vec![Section {
                kind: SectionKind::Issue,
                heading: Some("Climate change".into()),
                tagline: None,
                parent: None,
                topics: vec![],
                paras: vec![
                    para("WIPO’s Global Challenges programme brings together stakeholders."),
                    para("WIPO GREEN – online marketplace for green technologies"),
                    para("COVID-19 Platform – a one-stop digital platform for assistance."),
                ],
                origin: Origin::new("000", 445),
            }],
            ..Profile::default()
        };
        let mut problems = Problems::default();
        move_misplaced_tools(&mut p, &mut problems);
        assert_eq!(p.sections[0].paras.len(), 1);
        let names: Vec<&str> = p.items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["WIPO GREEN", "COVID-19 Platform"]);
        assert_eq!(problems.into_sorted().len(), 2, "each move is reported");
    }

    #[test]
    fn a_passage_cut_off_in_the_source_says_so() {
        let mut cut = para("UNCTAD serves as co-lead of the");
        cut.truncated = true;
        assert_eq!(
            passage(None, None, None, 0, &cut).text,
            "UNCTAD serves as co-lead of the…"
        );
        assert_eq!(passage(None, None, None, 0, &para("Whole.")).text, "Whole.");
    }

    #[test]
    fn event_blurbs_are_one_passage_per_source_line_without_junk() {
        let texts = vec![(
            "001".to_string(),
            "DCAF tools\nThe series is on cryptography.\nContact Ms Teleanu.\nFor more information, and to register, please visit the official page.\nNext"
                .to_string(),
        )];
        let lines = event_lines(&texts, &Origin::new("001", 2), 3);
        let got: Vec<(usize, &str)> = lines
            .iter()
            .map(|p| (p.origin.line, p.text.as_str()))
            .collect();
        assert_eq!(
            got[..2],
            [
                (2, "The series is on cryptography."),
                (3, "Contact Ms Teleanu.")
            ]
        );
    }

    #[test]
    fn quotes_are_found_whatever_the_typography() {
        let texts = vec![(
            "000".to_string(),
            "a\nWIPO\u{2019}s work\u{a0}on AI".to_string(),
        )];
        let at = find_quote(&texts, "WIPO's work on AI").unwrap();
        assert_eq!((at.file.as_str(), at.line), ("000", 2));
    }
}

#[cfg(test)]
mod printed_name_tests {
    use super::printed_after;

    #[test]
    fn a_bracketed_name_in_another_language_is_a_printed_name_an_acronym_is_not() {
        let s = "with Geopolitics in the Datasphere[Géopolitique de la Datasphère] and HCSS";
        assert_eq!(
            printed_after(s, "Geopolitics in the Datasphere").as_deref(),
            Some("Géopolitique de la Datasphère")
        );
        let s = "The Hague Centre for Strategic Studies (HCSS) and";
        assert_eq!(
            printed_after(s, "The Hague Centre for Strategic Studies"),
            None
        );
        let s = "the Paris Peace Forum (2021 edition) in";
        assert_eq!(printed_after(s, "Paris Peace Forum"), None);
    }
}
