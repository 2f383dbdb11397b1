//! The mentions stages: every sentence naming an actor in someone else's text (and the name in
//! another language the sources print beside it), and every sentence citing a UN document by
//! its symbol.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;

use super::{Atlas, MentionRow, Stage};
use crate::import::names::NameMatcher;
use crate::import::prose;

static UN_SYMBOL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bA/(?:[A-Z]+/)*\d+/\d+\b").unwrap());

impl Stage<'_, '_> {
    /// Every sentence naming an organisation in someone else's text.
    pub(super) fn actor_mentions(&mut self) {
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

    /// Every sentence citing a document by its UN symbol.
    pub(super) fn document_mentions(&mut self) {
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
pub(super) fn name_matcher(atlas: &Atlas) -> NameMatcher {
    let names: Vec<(usize, String)> = atlas
        .actor_names
        .iter()
        .map(|(i, n, _, _)| (*i, n.clone()))
        .collect();
    NameMatcher::new(&names)
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
