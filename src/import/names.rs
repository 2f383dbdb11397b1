//! Organisation names in prose: which actor a sentence names, and where. Used to record
//! mentions and, when ranking actors per topic, to keep a name's words ("trade" in "World
//! Trade Organization") from counting as the topic.

use std::collections::HashMap;
use std::ops::Range;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::search::normalize::fold_typography;

/// Matches organisation names in text. Names and aliases match whole words in any case;
/// acronyms (and name-like tokens with inner capitals: AfCFTA, ICT4Peace) match case-sensitively
/// so that WHO is not "who" and AU is not "au". Aho-Corasick (leftmost-longest) keeps this
/// linear in the text however many names there are, and prefers "UN Women" over "UN".
pub(crate) struct NameMatcher {
    insensitive: Option<(AhoCorasick, Vec<usize>)>,
    sensitive: Option<(AhoCorasick, Vec<usize>)>,
}

/// "FAO", "UNESCO", "OSCE": a name that is itself an acronym.
pub(crate) fn is_all_caps(s: &str) -> bool {
    !s.contains(' ')
        && s.chars()
            .all(|c| c.is_uppercase() || c.is_ascii_digit() || c == '-')
}

fn is_acronym_like(s: &str) -> bool {
    !s.contains(' ')
        && s.chars()
            .skip(1)
            .any(|c| c.is_uppercase() || c.is_ascii_digit())
        || s.len() <= 4 && s.chars().all(|c| c.is_uppercase())
}

fn is_word_char(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || c == '_')
}

impl NameMatcher {
    pub(crate) fn new(names: &[(usize, String)]) -> Self {
        let mut ins: HashMap<String, usize> = HashMap::new();
        let mut sens: HashMap<String, usize> = HashMap::new();
        for (actor, name) in names {
            let folded = fold_typography(name);
            if folded.chars().count() < 2 {
                continue;
            }
            if is_acronym_like(&folded) {
                sens.entry(folded).or_insert(*actor);
            } else {
                ins.entry(folded.to_lowercase()).or_insert(*actor);
            }
        }
        let build = |map: HashMap<String, usize>, ci: bool| {
            if map.is_empty() {
                return None;
            }
            let mut pairs: Vec<(String, usize)> = map.into_iter().collect();
            pairs.sort();
            let automaton = AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .ascii_case_insensitive(ci)
                .build(pairs.iter().map(|(p, _)| p.as_str()))
                .expect("names build an automaton");
            Some((automaton, pairs.into_iter().map(|(_, a)| a).collect()))
        };
        NameMatcher {
            insensitive: build(ins, true),
            sensitive: build(sens, false),
        }
    }

    /// (actor, written as) for every organisation named in `text`.
    pub(crate) fn find(&self, text: &str) -> Vec<(usize, String)> {
        let folded = fold_typography(text);
        self.spans(&folded)
            .into_iter()
            .map(|(actor, r)| (actor, folded[r].to_string()))
            .collect()
    }

    /// (actor, byte range) of every organisation named in `folded` (typography folded).
    pub(crate) fn spans(&self, folded: &str) -> Vec<(usize, Range<usize>)> {
        // Case-insensitive matching of non-ASCII letters: the automaton folds ASCII only, so
        // the haystack is lower-cased where that keeps byte offsets (it does for ASCII text).
        let lower = folded.to_lowercase();
        let haystack_ci = if lower.len() == folded.len() {
            lower.as_str()
        } else {
            folded
        };
        let mut out = Vec::new();
        for (matcher, hay) in [(&self.insensitive, haystack_ci), (&self.sensitive, folded)] {
            let Some((ac, actors)) = matcher else {
                continue;
            };
            for m in ac.find_iter(hay) {
                let before = folded[..m.start()].chars().next_back();
                let after = folded[m.end()..].chars().next();
                if is_word_char(before) || is_word_char(after) {
                    continue;
                }
                out.push((actors[m.pattern().as_usize()], m.start()..m.end()));
            }
        }
        out
    }
}
