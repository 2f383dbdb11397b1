//! Evidence: the sentence that shows why an answer matches, with the matching words marked.
//! The matcher is compiled once per request and reused for every item of the answer.

use regex::Regex;

use super::shorten;
use crate::import::prose;
use crate::reply::{Span, Text};
use crate::search::normalize::fold_typography;

/// Finds any of a set of terms as whole words, case-insensitively, whatever the spacing and
/// hyphenation in between ("capacity building" finds "capacity‐building").
pub(crate) struct Highlighter {
    re: Option<Regex>,
}

impl Highlighter {
    pub fn new(terms: &[String]) -> Highlighter {
        let mut alts: Vec<String> = terms
            .iter()
            .map(|t| fold_typography(t))
            .filter(|t| !t.is_empty())
            .map(|t| {
                t.split(|c: char| c.is_whitespace() || c == '-')
                    .filter(|w| !w.is_empty())
                    .map(regex::escape)
                    .collect::<Vec<_>>()
                    .join(r"[\s\-\u{2010}\u{2011}\u{00A0}]+")
            })
            .collect();
        alts.sort_by_key(|a| std::cmp::Reverse(a.len()));
        alts.dedup();
        let re = if alts.is_empty() {
            None
        } else {
            Regex::new(&format!(r"(?i)\b(?:{})\b", alts.join("|"))).ok()
        };
        Highlighter { re }
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.re.as_ref().is_some_and(|r| r.is_match(text))
    }

    /// `text` with every occurrence of the terms marked.
    pub fn highlight(&self, text: &str) -> Text {
        let Some(re) = &self.re else {
            return Text::plain(text);
        };
        let mut spans = Vec::new();
        let mut last = 0;
        for m in re.find_iter(text) {
            if m.start() > last {
                spans.push(Span::Plain(text[last..m.start()].to_string()));
            }
            spans.push(Span::Strong(m.as_str().to_string()));
            last = m.end();
        }
        if last < text.len() {
            spans.push(Span::Plain(text[last..].to_string()));
        }
        Text(spans)
    }

    /// The sentence of `text` that best shows the terms (the first containing one), marked.
    pub fn evidence(&self, text: &str) -> Text {
        let sentences = prose::sentences(text);
        let chosen = sentences
            .iter()
            .find(|s| self.is_match(s))
            .or(sentences.first())
            .copied()
            .unwrap_or(text);
        self.highlight(&shorten(chosen, 400))
    }
}

/// One-off marking of `terms` in `text`.
pub(crate) fn highlight_terms(text: &str, terms: &[String]) -> Text {
    Highlighter::new(terms).highlight(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_match_whole_words_across_hyphens() {
        let h = Highlighter::new(&["AI".into(), "capacity building".into()]);
        assert!(!h.is_match("We maintain the chain."));
        assert!(h.is_match("supports capacity\u{2010}building of both"));
        assert_eq!(h.highlight("AI and more").to_plain(), "AI and more");
        assert_eq!(h.highlight("AI and more").0[0], Span::Strong("AI".into()));
    }
}
