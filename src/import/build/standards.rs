//! The standards stage: the registry of data/standards.toml (valid identifiers, one entry per
//! number), its relations (extends, siblings sharing a base number), and every sentence
//! citing a standard; a standard cited but not in the registry is a warning.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;

use super::{MentionRow, Stage, StandardRow};
use crate::import::atlas::slugify;
use crate::import::curated::{At, StandardEntry};
use crate::import::prose;
use crate::search::normalize::fold_typography;
use crate::search::standard_id::StandardId;

static STANDARD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(ISO/IEC/IEEE|ISO/IEC|ISO/TR|ISO/TS|ISO|IEC)(?:\s+(TR|TS))?\s*(\d{3,5}(?:-\d+|-[A-Z]\b)*)(?::\d{4})?(\s+series)?(\s+family)?").unwrap()
});

impl Stage<'_, '_> {
    /// The standards registry, its relations, and every sentence citing a standard.
    pub(super) fn standards(&mut self) {
        let std_ix = self.add_registry();
        self.add_extends(&std_ix);
        self.add_siblings();
        self.cite_standards(&std_ix);
    }

    /// One row per registry entry with a valid identifier and a number of its own; returns
    /// the rows by key.
    fn add_registry(&mut self) -> HashMap<String, usize> {
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
            atlas.standards.push(standard_row(s, &id, key));
        }
        std_ix
    }

    /// `extends`, both ways; the standard extended must be in the registry.
    fn add_extends(&mut self, std_ix: &HashMap<String, usize>) {
        let Stage {
            c, problems, atlas, ..
        } = self;
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
    }

    /// Standards sharing a base number are siblings of each other.
    fn add_siblings(&mut self) {
        let atlas = &mut self.atlas;
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
    }

    /// Every sentence citing a standard of the registry; each unknown one is reported once.
    fn cite_standards(&mut self, std_ix: &HashMap<String, usize>) {
        let Stage {
            problems, atlas, ..
        } = self;
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
}

/// A registry entry as a row: the identifier parsed, the rest as curated.
fn standard_row(s: &At<StandardEntry>, id: &StandardId, key: String) -> StandardRow {
    StandardRow {
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
    }
}
