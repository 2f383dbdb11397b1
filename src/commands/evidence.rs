//! Evidence: the sentence that shows why an answer matches, with the matching words marked.
//! A matcher is built once per answer (a few vectors, see `search::terms`) and used for every
//! item of it; a topic's is kept with the atlas (`who_works_on`).

use super::shorten;
use crate::import::prose;
use crate::reply::{Span, Text};
use crate::search::terms::TermMatcher;

/// Marks a set of terms in text, matched as `search::terms` defines (whole words, acronyms in
/// their case, free spacing, hyphenation and spelling).
pub(crate) struct Highlighter {
    terms: TermMatcher,
}

impl Highlighter {
    pub fn new(terms: &[String]) -> Highlighter {
        Highlighter {
            terms: TermMatcher::new(terms),
        }
    }

    /// True when `text` says a term outside any link's address (what evidence must: a
    /// footnote's URL spelling the words says nothing).
    pub fn says(&self, text: &str) -> bool {
        self.terms.is_match(&crate::search::mask_links(text))
    }

    /// `text` with every occurrence of the terms marked.
    pub fn highlight(&self, text: &str) -> Text {
        let mut spans = Vec::new();
        let mut last = 0;
        for m in self.terms.find_iter(text) {
            if m.start > last {
                spans.push(Span::Plain(text[last..m.start].to_string()));
            }
            spans.push(Span::Strong(text[m.clone()].to_string()));
            last = m.end;
        }
        if last < text.len() {
            spans.push(Span::Plain(text[last..].to_string()));
        }
        Text(spans)
    }

    /// `text` cut to about `max` characters around its first match, marked: a long sentence
    /// whose matching words come late is shown from a little before them ("…"), never cut
    /// before the words that made it evidence.
    pub fn excerpt(&self, text: &str, max: usize) -> Text {
        let s = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let Some(m) = self.terms.find_iter(&s).next() else {
            return self.highlight(&shorten(&s, max));
        };
        if s[..m.end].chars().count() + 20 <= max || s.chars().count() <= max {
            return self.highlight(&shorten(&s, max));
        }
        // From a third of the window before the match, at the start of a word.
        let lead = s[..m.start].chars().count().saturating_sub(max / 3);
        let at = s.char_indices().nth(lead).map_or(0, |(b, _)| b);
        let from = match s[at..m.start].find(' ') {
            Some(space) => at + space + 1,
            None => at,
        };
        self.highlight(&format!("…{}", shorten(&s[from..], max)))
    }

    /// The sentence of `text` that best shows the terms (the first containing one), marked.
    pub fn evidence(&self, text: &str) -> Text {
        let sentences = prose::sentences(text);
        let chosen = sentences
            .iter()
            .find(|s| self.says(s))
            .or(sentences.first())
            .copied()
            .unwrap_or(text);
        self.excerpt(chosen, 400)
    }

    /// The sentence of `text` that says the most of `groups` (each a concept's spellings; the
    /// first such sentence on a tie), marked with this highlighter's terms.
    pub fn evidence_covering(&self, text: &str, groups: &[Highlighter]) -> Text {
        self.excerpt(covering(text, groups).0, 400)
    }
}

/// The sentence of `text` that says the most of `groups`, and how many it says.
pub fn covering<'t>(text: &'t str, groups: &[Highlighter]) -> (&'t str, usize) {
    let sentences = prose::sentences(text);
    let said = |s: &str| groups.iter().filter(|g| g.says(s)).count();
    sentences
        .iter()
        .enumerate()
        .max_by_key(|(i, s)| (said(s), std::cmp::Reverse(*i)))
        .map(|(_, s)| (*s, said(s)))
        .unwrap_or((text, said(text)))
}

impl Highlighter {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_match_whole_words_across_hyphens() {
        let h = Highlighter::new(&["AI".into(), "capacity building".into()]);
        assert!(!h.says("We maintain the chain."));
        assert!(h.says("supports capacity\u{2010}building of both"));
        assert!(!h.says("see https://example.org/ai-capacity-building"));
        assert_eq!(h.highlight("AI and more").to_plain(), "AI and more");
        assert_eq!(h.highlight("AI and more").0[0], Span::Strong("AI".into()));
    }

    #[test]
    fn a_long_sentence_is_cut_around_its_match_never_before_it() {
        let h = Highlighter::new(&["Sporting Events".into()]);
        let long = format!("{} and the Sporting Events programme.", "word ".repeat(200));
        let shown = h.excerpt(&long, 120).to_plain();
        assert!(
            shown.starts_with('…') && shown.contains("Sporting Events"),
            "{shown}"
        );
        assert!(shown.chars().count() <= 122, "{shown}");
        // Early matches keep the sentence's start.
        let early = format!("Sporting Events {}", "word ".repeat(200));
        assert!(h
            .excerpt(&early, 120)
            .to_plain()
            .starts_with("Sporting Events"));
    }
}
