//! Builds the atlas rows from parsed sources and curated files: actors with their names,
//! sections and passages, topics, documents, standards and every sentence that mentions an
//! actor, a standard or a document. Pure: no database, and the same input always gives the
//! same rows in the same order (ids are positions).
//!
//! The map — `build` runs the stages in this order, one submodule each:
//! - `unique_keys`   curated slugs, headings and event slugs are unique;
//! - `glued_words`   words the scrape glued together are mended before anything reads them;
//! - `actors`        profiles (with `curated_facts` applied and `misplaced_tools` moved), then
//!   organisations, and every name they go by;
//! - `topics`        baskets, topics and the terms that name them; heading mappings;
//! - `documents`     the curated documents found in the sources, slugs, symbols, bodies;
//! - `passages`      profile sections with their topics, every paragraph as a passage;
//! - `events`        data/events.toml anchored by quotes, blurbs as their organisers' text;
//! - `mentions`      sentences naming an actor (and the names printed beside it), sentences
//!   citing a UN document;
//! - `standards`     the registry, its relations, sentences citing a standard;
//! - `terms`         the glossary and the sources' everyday relatives;
//!
//! then the rankings (`import::ranking`) and the check that sources' owners are actors.

mod actors;
mod curated_facts;
mod documents;
mod events;
mod glued_words;
mod mentions;
mod misplaced_tools;
mod passages;
mod standards;
mod terms;
mod topics;
mod unique_keys;

use std::collections::HashMap;

use super::curated::Curated;
use super::model::{Document, Para, Profile};
use super::problem::Problems;
use super::prose;
use super::ranking;
pub use super::rows::*;
use crate::search::normalize::fold_typography;

pub use actors::short_file;
use glued_words::repair_glued_words;
use mentions::name_matcher;

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
    /// Who works on each topic, ranked (see `ranking`).
    fn rankings(&mut self) {
        let Stage { atlas, .. } = self;
        atlas.topic_actors = ranking::rank_topics(atlas, &name_matcher(atlas));
    }
}

/// Builds the atlas in named stages, each one quirk of the data or one table: the order
/// matters only where a stage reads what an earlier one wrote (names before mentions, passages
/// before rankings).
pub fn build(inp: Inputs<'_>, problems: &mut Problems) -> Atlas {
    let t0 = std::time::Instant::now();
    let atlas = Atlas {
        data_hash: inp.data_hash.clone(),
        sources: source_rows(inp.curated),
        ..Atlas::default()
    };
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
    stage.tool_passages();
    stage.source_owners();
    stage.atlas
}

/// The sources as data/sources.toml lists them, in its order.
fn source_rows(c: &Curated) -> Vec<(String, String, String, String)> {
    c.sources
        .iter()
        .map(|s| {
            (
                s.value.slug.clone(),
                s.value.file.clone(),
                s.value.format.clone(),
                s.value.title.clone(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
