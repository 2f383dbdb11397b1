//! The documents stage: the curated documents of data/documents.toml found in the sources join
//! the parsed ones; each gets a slug (same titles get -2, -3), symbols must be unique, and the
//! bodies of the UN list are tied to the actor they describe.

use std::collections::{HashMap, HashSet};

use super::{find_quote, index_of, DocKind, DocumentRow, Origin, Stage};
use crate::import::atlas::slugify;
use crate::import::model::Document;
use crate::import::problem::Problems;
use crate::search::normalize::name_key;

/// Slugs handed out so far, and a counter per base so that repeats stay linear.
#[derive(Default)]
struct DocSlugs {
    taken: HashSet<String>,
    counters: HashMap<String, usize>,
}

impl Stage<'_, '_> {
    /// Documents: the curated ones found in the sources, slugs (same titles get -2, -3),
    /// unique symbols, bodies of the UN list tied to the actor they describe.
    pub(super) fn documents(&mut self, documents: &mut Vec<Document>) {
        let curated_summaries = self.add_curated_documents(documents);
        self.name_documents(documents);
        self.add_document_rows(documents, &curated_summaries);
    }

    /// The documents of data/documents.toml, anchored by their quotes; returns which of them
    /// carry a curated summary.
    fn add_curated_documents(&mut self, documents: &mut Vec<Document>) -> HashSet<usize> {
        let Stage {
            c, texts, problems, ..
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
        curated_summaries
    }

    /// Each document's slug, its symbol checked unique, and for a body, the actor it is.
    fn name_documents(&mut self, documents: &mut [Document]) {
        let Stage {
            problems, atlas, ..
        } = self;
        let mut doc_slugs = DocSlugs::default();
        let name_owner: HashMap<&str, usize> = atlas
            .actor_names
            .iter()
            .map(|(i, _, k, _)| (k.as_str(), *i))
            .rev()
            .collect();
        let mut symbol_seen: HashMap<String, Origin> = HashMap::new();
        for d in documents.iter_mut() {
            d.slug = doc_slugs.next(d);
            check_symbol(&mut symbol_seen, d, problems);
            if d.kind == DocKind::Body {
                d.about =
                    body_actor(d, &name_owner, problems).map(|i| atlas.actors[i].slug.clone());
            }
        }
    }

    /// One row per document; a body's summary describes its actor when nothing else does.
    fn add_document_rows(&mut self, documents: &[Document], curated_summaries: &HashSet<usize>) {
        let Stage {
            problems,
            atlas,
            slugs,
            ..
        } = self;
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
}

impl DocSlugs {
    /// The document's slug: from its symbol, else its title (cut to 60 characters).
    fn next(&mut self, d: &Document) -> String {
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
        while !self.taken.insert(slug.clone()) {
            let n = self.counters.entry(base.clone()).or_insert(1);
            *n += 1;
            slug = format!("{base}-{n}");
        }
        slug
    }
}

/// A UN symbol names one document: a second one is an error.
fn check_symbol(seen: &mut HashMap<String, Origin>, d: &Document, problems: &mut Problems) {
    if let Some(sym) = &d.symbol {
        if let Some(first) = seen.insert(sym.to_lowercase(), d.origin.clone()) {
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
}

/// The actor a body of the UN list is, by its name; a body that is no organisation of
/// data/actors.toml is a warning.
fn body_actor(
    d: &Document,
    name_owner: &HashMap<&str, usize>,
    problems: &mut Problems,
) -> Option<usize> {
    // "Office of Information and Communications Technology (OICT)": name, then acronym.
    let bare = d
        .title
        .rsplit_once(" (")
        .filter(|(_, a)| a.ends_with(')'))
        .map_or(d.title.as_str(), |(n, _)| n);
    let key = name_key(bare);
    let actor = name_owner.get(key.as_str()).copied();
    if actor.is_none() {
        problems.warn(
            &d.origin.file,
            d.origin.line,
            format!(
                "body '{}' is not an organisation in data/actors.toml",
                d.title
            ),
        );
    }
    actor
}
