//! The curated data files (data/*.toml): read, checked for syntax and shape, and kept with the
//! line of every entry so that later checks can say `data/topics.toml:120: unknown basket`.
//! The format of each file is specified in data/README.md.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use toml::Spanned;

use super::problem::{line_of, Problems};
use super::DataDir;

/// The curated files, in the order they are read.
pub const FILES: &[&str] = &[
    "sources.toml",
    "actors.toml",
    "topics.toml",
    "standards.toml",
    "glossary.toml",
    "events.toml",
    "documents.toml",
    "relatives.toml",
];

/// An entry of a curated file and the line it starts on.
#[derive(Debug, Clone)]
pub struct At<T> {
    pub file: String,
    pub line: usize,
    pub value: T,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceEntry {
    pub slug: String,
    pub file: String,
    pub format: String,
    pub title: String,
    pub merge_into: Option<String>,
    pub actor: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quoted {
    pub value: String,
    pub quote: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotedYear {
    pub year: i64,
    pub quote: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActorEntry {
    pub slug: String,
    pub website: Option<String>,
    pub name: Option<String>,
    pub acronym: Option<Quoted>,
    pub founded: Option<QuotedYear>,
    #[serde(default)]
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganisationEntry {
    pub slug: String,
    pub name: String,
    pub acronym: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub part_of: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasketEntry {
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicEntry {
    pub slug: String,
    pub name: String,
    pub basket: String,
    #[serde(default)]
    pub synonyms: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadingEntry {
    pub text: String,
    pub topics: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StandardEntry {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub series: bool,
    pub committee: Option<String>,
    pub covers: String,
    pub family: Option<String>,
    pub domain: Option<String>,
    pub conformity: Option<String>,
    pub conformity_note: Option<String>,
    #[serde(default)]
    pub extends: Vec<String>,
    /// `covers`, `domain` and `conformity_note` are the curators' words, not the sources'.
    #[serde(default)]
    pub curated: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TermEntry {
    pub term: String,
    pub expansion: String,
    #[serde(default)]
    pub curated: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventEntry {
    pub slug: String,
    pub title: String,
    pub starts: Option<String>,
    pub ends: Option<String>,
    pub date_text: Option<String>,
    pub place: Option<String>,
    pub recurrence: Option<String>,
    pub organiser: Option<String>,
    pub quote: String,
    #[serde(default)]
    pub claim: bool,
    #[serde(default = "one")]
    pub claim_lines: usize,
}

fn one() -> usize {
    1
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentEntry {
    pub symbol: Option<String>,
    pub kind: String,
    pub title: String,
    pub summary: Option<String>,
    pub owner: Option<String>,
    pub quote: String,
    /// `summary` is the curators' words, not the sources'.
    #[serde(default)]
    pub curated: bool,
}

/// Everyday words for the sources' terms (`data/relatives.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelativeEntry {
    /// The sources' terms, each written in the sources.
    pub words: Vec<String>,
    /// What people say instead.
    pub said: Vec<String>,
    /// Where the sources write one of `words` (for the curator; checked by the importer's
    /// word check, not by line).
    pub line: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RelativesFile {
    #[serde(default)]
    relative: Vec<Spanned<RelativeEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourcesFile {
    source: Vec<Spanned<SourceEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActorsFile {
    #[serde(default)]
    actor: Vec<Spanned<ActorEntry>>,
    #[serde(default)]
    organisation: Vec<Spanned<OrganisationEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicsFile {
    #[serde(default)]
    basket: Vec<Spanned<BasketEntry>>,
    #[serde(default)]
    topic: Vec<Spanned<TopicEntry>>,
    #[serde(default)]
    heading: Vec<Spanned<HeadingEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StandardsFile {
    #[serde(default)]
    standard: Vec<Spanned<StandardEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GlossaryFile {
    #[serde(default)]
    term: Vec<Spanned<TermEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsFile {
    #[serde(default)]
    event: Vec<Spanned<EventEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentsFile {
    #[serde(default)]
    document: Vec<Spanned<DocumentEntry>>,
}

/// All curated files of a data directory.
#[derive(Debug, Default)]
pub struct Curated {
    pub sources: Vec<At<SourceEntry>>,
    pub actors: Vec<At<ActorEntry>>,
    pub organisations: Vec<At<OrganisationEntry>>,
    pub baskets: Vec<At<BasketEntry>>,
    pub topics: Vec<At<TopicEntry>>,
    pub headings: Vec<At<HeadingEntry>>,
    pub standards: Vec<At<StandardEntry>>,
    pub glossary: Vec<At<TermEntry>>,
    pub events: Vec<At<EventEntry>>,
    pub documents: Vec<At<DocumentEntry>>,
    pub relatives: Vec<At<RelativeEntry>>,
    heading_index: std::collections::HashMap<String, usize>,
    domain_index: std::collections::HashMap<String, usize>,
}

impl Curated {
    /// Heading map lookup: the topics of an issue heading, if the map knows it.
    pub fn heading_topics(&self, heading: &str) -> Option<&[String]> {
        let key = crate::search::normalize::fold_typography(heading);
        self.heading_index
            .get(&key)
            .map(|&i| self.headings[i].value.topics.as_slice())
    }

    /// The slug of the profiled actor whose website has this domain.
    pub fn actor_by_domain(&self, domain: &str) -> Option<&str> {
        self.domain_index
            .get(domain)
            .map(|&i| self.actors[i].value.slug.as_str())
    }

    fn index(&mut self) {
        use crate::search::normalize::fold_typography;
        self.heading_index = self
            .headings
            .iter()
            .enumerate()
            .map(|(i, h)| (fold_typography(&h.value.text), i))
            .collect();
        self.domain_index = self
            .actors
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                a.value
                    .website
                    .as_deref()
                    .map(|w| (super::model::domain(w), i))
            })
            .collect();
    }
}

fn read<T: DeserializeOwned>(
    dir: &DataDir,
    name: &str,
    problems: &mut Problems,
) -> Option<(String, String, T)> {
    let label = dir.label(name);
    let content = match dir.read(name) {
        Ok(c) => c,
        Err(e) => {
            problems.error(&label, 1, format!("cannot read {label}: {e}"));
            return None;
        }
    };
    match toml::from_str::<T>(&content) {
        Ok(v) => Some((label, content, v)),
        Err(e) => {
            let line = e.span().map(|s| line_of(&content, s.start)).unwrap_or(1);
            // The toml error message repeats the source excerpt; its first line is the reason.
            let reason = e
                .message()
                .lines()
                .next()
                .unwrap_or("invalid TOML")
                .to_string();
            problems.error(&label, line, reason);
            None
        }
    }
}

fn entries<T>(label: &str, content: &str, list: Vec<Spanned<T>>) -> Vec<At<T>> {
    list.into_iter()
        .map(|s| {
            // A table's span starts at its first key; the `[[…]]` header is the line above.
            let line = line_of(content, s.span().start).saturating_sub(1).max(1);
            At {
                file: label.to_string(),
                line,
                value: s.into_inner(),
            }
        })
        .collect()
}

/// Reads every curated file of `dir`, reporting syntax and shape errors with file:line.
pub fn load(dir: &DataDir, problems: &mut Problems) -> Curated {
    let mut c = Curated::default();
    if let Some((l, content, f)) = read::<SourcesFile>(dir, "sources.toml", problems) {
        c.sources = entries(&l, &content, f.source);
    }
    if let Some((l, content, f)) = read::<ActorsFile>(dir, "actors.toml", problems) {
        c.actors = entries(&l, &content, f.actor);
        c.organisations = entries(&l, &content, f.organisation);
    }
    if let Some((l, content, f)) = read::<TopicsFile>(dir, "topics.toml", problems) {
        c.baskets = entries(&l, &content, f.basket);
        c.topics = entries(&l, &content, f.topic);
        c.headings = entries(&l, &content, f.heading);
    }
    if let Some((l, content, f)) = read::<StandardsFile>(dir, "standards.toml", problems) {
        c.standards = entries(&l, &content, f.standard);
    }
    if let Some((l, content, f)) = read::<GlossaryFile>(dir, "glossary.toml", problems) {
        c.glossary = entries(&l, &content, f.term);
    }
    if let Some((l, content, f)) = read::<EventsFile>(dir, "events.toml", problems) {
        c.events = entries(&l, &content, f.event);
    }
    if let Some((l, content, f)) = read::<DocumentsFile>(dir, "documents.toml", problems) {
        c.documents = entries(&l, &content, f.document);
    }
    if let Some((l, content, f)) = read::<RelativesFile>(dir, "relatives.toml", problems) {
        c.relatives = entries(&l, &content, f.relative);
    }
    c.index();
    c
}
