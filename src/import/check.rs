//! `atlasbot check-data`: everything the importer checks, plus the checks that only matter to
//! the people curating data/: every name points at one actor, every registry standard is
//! mentioned in the sources, every glossary expansion not marked `curated` is written in them.

use std::collections::HashMap;

use super::problem::{Problem, Problems};
use super::{read_atlas, Atlas, DataDir};
use crate::search::normalize::name_key;

pub struct CheckReport {
    pub atlas: Atlas,
    pub notes: Vec<Problem>,
}

/// The line of `data/<file>` that first contains `needle`, for pointing at curated entries.
fn line_containing(data: &DataDir, file: &str, needle: &str) -> usize {
    data.read(file)
        .ok()
        .and_then(|c| c.lines().position(|l| l.contains(needle)).map(|i| i + 1))
        .unwrap_or(1)
}

pub fn check_data(data: &DataDir) -> Result<CheckReport, Vec<Problem>> {
    let (atlas, notes) = read_atlas(data)?;
    let mut problems = Problems::default();
    check_names_have_one_owner(data, &atlas, &mut problems);
    check_standards_are_mentioned(data, &atlas, &mut problems);
    let corpus = written_corpus(&atlas);
    check_glossary_is_written(data, &atlas, &corpus, &mut problems);
    check_descriptions_are_quoted(data, &corpus, &mut problems);
    check_topics_are_used(data, &atlas, &mut problems);

    if problems.has_errors() {
        return Err(problems.into_sorted());
    }
    let mut notes = notes;
    notes.extend(problems.into_sorted());
    Ok(CheckReport { atlas, notes })
}

/// Every name points at one actor.
fn check_names_have_one_owner(data: &DataDir, atlas: &Atlas, problems: &mut Problems) {
    let actors_file = data.label("actors.toml");
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (actor, name, key, _) in &atlas.actor_names {
        match owner.get(key.as_str()) {
            Some(&other) if other != *actor => problems.error(
                &actors_file,
                line_containing(data, "actors.toml", &format!("\"{name}\"")),
                format!(
                    "the name '{name}' belongs to both '{}' and '{}'",
                    atlas.actors[other].slug, atlas.actors[*actor].slug
                ),
            ),
            Some(_) => {}
            None => {
                owner.insert(key, *actor);
            }
        }
    }
}

/// Every registry standard is mentioned in the sources.
fn check_standards_are_mentioned(data: &DataDir, atlas: &Atlas, problems: &mut Problems) {
    let standards_file = data.label("standards.toml");
    for (i, s) in atlas.standards.iter().enumerate() {
        if !atlas.standard_mentions.iter().any(|(si, _, _)| *si == i) {
            problems.error(
                &standards_file,
                line_containing(
                    data,
                    "standards.toml",
                    &format!("id = \"{}\"", s.identifier),
                ),
                format!(
                    "standard '{}' is mentioned nowhere in the sources",
                    s.identifier
                ),
            );
        }
    }
}

/// Everything the sources write, as name keys, for checking that a text is theirs.
fn written_corpus(atlas: &Atlas) -> String {
    // Expansions may be written in any text of the sources: paragraphs, headings, names,
    // document titles, event blurbs.
    let texts = atlas
        .passages
        .iter()
        .map(|p| p.text.as_str())
        .chain(atlas.sections.iter().filter_map(|s| s.heading.as_deref()))
        .chain(
            atlas
                .actors
                .iter()
                .filter(|a| a.kind == "profiled")
                .map(|a| a.name.as_str()),
        )
        .chain(atlas.documents.iter().map(|d| d.title.as_str()))
        .chain(atlas.events.iter().map(|e| e.description.as_str()));
    texts.map(name_key).collect::<Vec<_>>().join(" | ")
}

/// Every glossary expansion not marked `curated` is written in the sources.
fn check_glossary_is_written(data: &DataDir, atlas: &Atlas, corpus: &str, problems: &mut Problems) {
    let glossary_file = data.label("glossary.toml");
    for t in atlas.glossary.iter().filter(|t| !t.curated) {
        if !corpus.contains(&name_key(&t.expansion)) {
            problems.error(
                &glossary_file,
                line_containing(
                    data,
                    "glossary.toml",
                    &format!("expansion = \"{}\"", t.expansion),
                ),
                format!(
                    "'{}' = '{}' is not written in the sources: mark it `curated = true` or fix it",
                    t.term, t.expansion
                ),
            );
        }
    }
}

/// Descriptions in the registry and in documents.toml are either the sources' words or
/// marked as the curators' (`curated = true`, shown as such): never a paraphrase passed off
/// as a quotation.
fn check_descriptions_are_quoted(data: &DataDir, corpus: &str, problems: &mut Problems) {
    let quoted = |text: &str| corpus.contains(&name_key(text));
    let curated = super::curated::load(data, &mut Problems::default());
    for s in curated.standards.iter().filter(|s| !s.value.curated) {
        let v = &s.value;
        let fields = [
            Some(&v.covers),
            v.domain.as_ref(),
            v.conformity_note.as_ref(),
        ];
        for text in fields.into_iter().flatten() {
            if !quoted(text) {
                problems.error(
                    &s.file,
                    s.line,
                    format!("'{}': \"{text}\" is not written in the sources: quote them, or mark the entry `curated = true`", v.id),
                );
            }
        }
    }
    for d in curated.documents.iter().filter(|d| !d.value.curated) {
        if let Some(summary) = d.value.summary.as_deref().filter(|s| !quoted(s)) {
            problems.error(
                &d.file,
                d.line,
                format!("the summary \"{summary}\" is not written in the sources: quote them, or mark the entry `curated = true`"),
            );
        }
    }
}

/// A topic without a heading or a term can never be found: a warning.
fn check_topics_are_used(data: &DataDir, atlas: &Atlas, problems: &mut Problems) {
    let topic_of_term: HashMap<&str, usize> = atlas
        .topic_terms
        .iter()
        .map(|(k, _, t)| (k.as_str(), *t))
        .collect();
    for (ti, (slug, ..)) in atlas.topics.iter().enumerate() {
        let used = atlas.section_topics.iter().any(|(_, t)| *t == ti)
            || topic_of_term.values().any(|t| *t == ti);
        if !used {
            problems.warn(
                &data.label("topics.toml"),
                1,
                format!("topic '{slug}' has no heading and no term"),
            );
        }
    }
}
