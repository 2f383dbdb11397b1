//! The glossary checked against the sources at import: for each term, whether the sources
//! write its expansion (and where), use the term without expanding it, or never write it at
//! all — so that what /define says about the sources is true, not asserted by hand.

use regex::Regex;

use super::model::Origin;
use crate::search::normalize::{fold_typography, name_key};

pub use crate::atlas::rows::TermStatus;

/// The source lines, folded once for all terms (a glossary has hundreds).
pub struct Corpus {
    lines: Vec<CorpusLine>,
}

struct CorpusLine {
    origin: Origin,
    /// Typography folded, case kept: where a term is looked for as written.
    folded: String,
    /// " name key ": where an expansion is looked for, whatever its punctuation and case.
    key: String,
}

impl Corpus {
    pub fn new(texts: &[(String, String)]) -> Corpus {
        let lines = texts
            .iter()
            .flat_map(|(file, content)| {
                content.lines().enumerate().map(move |(i, l)| CorpusLine {
                    origin: Origin::new(file, i + 1),
                    folded: fold_typography(l),
                    key: format!(" {} ", name_key(l)),
                })
            })
            .collect();
        Corpus { lines }
    }

    fn find(&self, pred: impl Fn(&CorpusLine) -> bool) -> Option<Origin> {
        self.lines
            .iter()
            .find(|l| pred(l))
            .map(|l| l.origin.clone())
    }
}

/// The status of a term and the line that shows it: where the expansion is written
/// (Expanded, or Absent when the sources write the name in full), or a use of the term (Used).
pub fn classify(
    corpus: &Corpus,
    term: &str,
    expansion: &str,
    curated: bool,
) -> (TermStatus, Option<Origin>) {
    let key = format!(" {} ", name_key(expansion));
    let written_expansion = (key.trim() != "")
        .then(|| corpus.find(|l| l.key.contains(&key)))
        .flatten();
    if !curated {
        return (TermStatus::Expanded, written_expansion);
    }
    match find_term(corpus, term) {
        Some(use_at) => (TermStatus::Used, Some(use_at)),
        None => (TermStatus::Absent, written_expansion),
    }
}

/// The first line where `term` is written as itself: whole words, its own case, any spacing.
fn find_term(corpus: &Corpus, term: &str) -> Option<Origin> {
    let words: Vec<String> = fold_typography(term)
        .split_whitespace()
        .map(regex::escape)
        .collect();
    if words.is_empty() {
        return None;
    }
    let edge = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let start = if edge(term.chars().next()) { r"\b" } else { "" };
    let end = if edge(term.chars().last()) { r"\b" } else { "" };
    let re = Regex::new(&format!("{start}{}{end}", words.join(r"\s+"))).ok()?;
    corpus.find(|l| re.is_match(&l.folded))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts() -> Corpus {
        Corpus::new(&[(
            "002".into(),
            "United Nations Office on Drugs and Crime\nthe OSCE Working Group\nJTC1/SC 42 on AI\nDomain Name System(DNS)"
                .into(),
        )])
    }

    #[test]
    fn a_curated_term_the_sources_use_is_used_with_the_line() {
        let (s, at) = classify(
            &texts(),
            "OSCE",
            "Organization for Security and Co-operation in Europe",
            true,
        );
        assert_eq!((s, at.map(|o| o.line)), (TermStatus::Used, Some(2)));
    }

    #[test]
    fn a_curated_term_the_sources_never_write_is_absent_even_if_its_name_is() {
        let (s, at) = classify(
            &texts(),
            "UNODC",
            "United Nations Office on Drugs and Crime",
            true,
        );
        assert_eq!((s, at.map(|o| o.line)), (TermStatus::Absent, Some(1)));
        // "JTC1" is written, "JTC 1" is not: the claim is about the term as written.
        assert_eq!(
            classify(&texts(), "JTC 1", "Joint Technical Committee 1", true).0,
            TermStatus::Absent
        );
        // Case matters for acronyms: "osce" in prose would not be OSCE.
        assert_eq!(classify(&texts(), "Osce", "x", true).0, TermStatus::Absent);
    }

    #[test]
    fn an_expansion_written_in_the_sources_is_found_where_it_is() {
        let (s, at) = classify(&texts(), "DNS", "Domain Name System", false);
        assert_eq!((s, at.map(|o| o.line)), (TermStatus::Expanded, Some(4)));
    }
}
