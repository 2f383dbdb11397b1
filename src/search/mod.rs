//! Matching what people type against the atlas: normalisation shared with the importer, names
//! (exact, word, fuzzy), standard identifiers in all their spellings, and safe FTS5 queries.
//! No SQL here (that is `store`), no replies (that is `commands`).

pub mod names;
pub mod normalize;
pub mod standard_id;
pub mod terms;

use normalize::{fold_spelling, search_text};

/// Words of a text as the FTS5 index sees them (letters and digits, folded, one spelling:
/// the index holds `normalize::search_copy`).
pub fn tokens(text: &str) -> Vec<String> {
    search_text(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(fold_spelling)
        .collect()
}

/// An FTS5 MATCH expression for any of `phrases`: each phrase becomes a quoted string of its
/// tokens, so that `"`, `*`, `AND`, `NEAR(`, `-` and column filters in user input are just text.
/// `None` when nothing searchable is left.
pub fn fts_query<S: AsRef<str>>(phrases: &[S]) -> Option<String> {
    let quoted: Vec<String> = phrases
        .iter()
        .map(|p| tokens(p.as_ref()))
        .filter(|t| !t.is_empty())
        .flat_map(|t| {
            // "cyber security" and "e-commerce" are also written as one word.
            let joined = (t.len() > 1 && t.len() <= 3).then(|| format!("\"{}\"", t.concat()));
            std::iter::once(format!("\"{}\"", t.join(" "))).chain(joined)
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if quoted.is_empty() {
        None
    } else {
        Some(quoted.join(" OR "))
    }
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

/// FTS5 expressions for free text: every word (implicit AND), then any word (OR) as a
/// fallback. Each word is quoted, so operators in the input are plain text.
pub fn fts_words(text: &str) -> Option<(String, String)> {
    let words: Vec<String> = tokens(text)
        .into_iter()
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .take(12)
        .collect();
    if words.is_empty() {
        return None;
    }
    let quoted: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
    if words.len() == 2 {
        // Two words may be one compound elsewhere ("cyber security" / "cybersecurity").
        let joined = format!("\"{}\"", words.concat());
        return Some((
            format!("({}) OR {joined}", quoted.join(" AND ")),
            format!("{} OR {joined}", quoted.join(" OR ")),
        ));
    }
    Some((quoted.join(" "), quoted.join(" OR ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts_operators_in_input_become_quoted_text() {
        assert_eq!(
            fts_query(&["cyber* AND \"crime\" NEAR(x"]).as_deref(),
            Some("\"cyber and crime near x\"")
        );
        assert_eq!(fts_query(&["-", "\"\"", "***"]), None);
        assert_eq!(
            fts_query(&["AI", "machine learning"]).as_deref(),
            Some("\"ai\" OR \"machine learning\" OR \"machinelearning\"")
        );
    }

    #[test]
    fn free_text_searches_all_words_then_any() {
        let (all, any) = fts_words("\"NEAR( AND * quantum computing data").unwrap();
        assert_eq!(
            (all.as_str(), any.as_str()),
            (
                "\"quantum\" \"computing\" \"data\"",
                "\"quantum\" OR \"computing\" OR \"data\""
            )
        );
        let (all, _) = fts_words("cyber security").unwrap();
        assert_eq!(all, "(\"cyber\" AND \"security\") OR \"cybersecurity\"");
        assert_eq!(fts_words("and or the"), None);
    }
}
