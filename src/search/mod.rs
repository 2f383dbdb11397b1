//! Matching what people type against the atlas: normalisation shared with the importer, names
//! (exact, word, fuzzy), standard identifiers in all their spellings, and full-text queries built from words only.
//! No SQL here (that is `store`), no replies (that is `commands`).

pub mod concepts;
pub mod names;
pub mod normalize;
pub mod spelling;
pub mod standard_id;
pub mod terms;

use normalize::{fold_spelling, search_text};

pub use crate::atlas::fulltext::Query;

/// True when `run` (tokens) occurs in `words` (tokens) as it is, word after word.
pub fn contains_run(words: &[String], run: &[String]) -> bool {
    !run.is_empty() && words.windows(run.len()).any(|w| w == run)
}

/// `text` with every link's address blanked (same length: byte offsets hold): a word only in
/// an address ("…/impact-of-social-media-in-elections/") is not said by the sentence.
pub fn mask_links(text: &str) -> String {
    static LINK: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?i)\b(?:https?://|www\.)[^\s>)\]]+").expect("a valid pattern")
    });
    // Cheap test first: most sentences have no link.
    if !text.contains("://") && !text.contains("www.") {
        return text.to_string();
    }
    LINK.replace_all(text, |c: &regex::Captures| " ".repeat(c[0].len()))
        .into_owned()
}

/// Words of a text as the FTS5 index sees them (letters and digits, folded, one spelling:
/// the index holds `normalize::search_copy`).
pub fn tokens(text: &str) -> Vec<String> {
    search_text(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(fold_spelling)
        .collect()
}

/// A full-text query for any of `phrases`: each phrase its tokens in order, and for two or three
/// tokens also as one word ("cyber security" and "e-commerce" are also written joined). User
/// input is only ever words here: quotes, `*`, `AND`, `NEAR(` are text. `None` when nothing
/// searchable is left.
pub fn fts_query<S: AsRef<str>>(phrases: &[S]) -> Option<Query> {
    let alternatives: std::collections::BTreeSet<Vec<String>> = phrases
        .iter()
        .map(|p| tokens(p.as_ref()))
        .filter(|t| !t.is_empty())
        .flat_map(|t| {
            let joined = (t.len() > 1 && t.len() <= 3).then(|| vec![t.concat()]);
            std::iter::once(t).chain(joined)
        })
        .collect();
    (!alternatives.is_empty()).then(|| Query {
        clauses: alternatives.into_iter().map(|p| vec![p]).collect(),
    })
}

/// Words too common to search for on their own.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "or", "not", "the", "of", "in", "on", "for", "to", "near", "with", "by",
    "is", "are",
];

/// Whether a word is too common to search for (or mark) on its own.
pub fn is_stop_word(w: &str) -> bool {
    STOP_WORDS.contains(&w)
}

/// Queries for free text: every word (and, for two words, also the two written as one), then
/// any word as a fallback. Stop words are left out; at most 12 words count.
pub fn fts_words(text: &str) -> Option<(Query, Query)> {
    let words: Vec<String> = tokens(text)
        .into_iter()
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .take(12)
        .collect();
    if words.is_empty() {
        return None;
    }
    let single = |w: &String| vec![w.clone()];
    let mut all = Query {
        clauses: vec![words.iter().map(single).collect()],
    };
    let mut any = Query {
        clauses: words.iter().map(|w| vec![single(w)]).collect(),
    };
    if words.len() == 2 {
        // Two words may be one compound elsewhere ("cyber security" / "cybersecurity").
        let joined = vec![vec![words.concat()]];
        all.clauses.push(joined.clone());
        any.clauses.push(joined);
    }
    Some((all, any))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(q: Option<Query>) -> Vec<String> {
        q.map_or(vec![], |q| {
            q.clauses
                .iter()
                .map(|c| {
                    c.iter()
                        .map(|p| p.join(" "))
                        .collect::<Vec<_>>()
                        .join(" + ")
                })
                .collect()
        })
    }

    #[test]
    fn operators_in_input_are_just_words() {
        assert_eq!(
            shown(fts_query(&["cyber* AND \"crime\" NEAR(x"])),
            vec!["cyber and crime near x"]
        );
        assert_eq!(
            shown(fts_query(&["-", "\"\"", "***"])),
            Vec::<String>::new()
        );
        assert_eq!(
            shown(fts_query(&["AI", "machine learning"])),
            vec!["ai", "machine learning", "machinelearning"]
        );
    }

    #[test]
    fn free_text_searches_all_words_then_any() {
        let (all, any) = fts_words("\"NEAR( AND * quantum computing data").unwrap();
        assert_eq!(shown(Some(all)), vec!["quantum + computing + data"]);
        assert_eq!(shown(Some(any)), vec!["quantum", "computing", "data"]);
        let (all, _) = fts_words("cyber security").unwrap();
        assert_eq!(shown(Some(all)), vec!["cyber + security", "cybersecurity"]);
        assert!(fts_words("and or the").is_none());
    }
}
