//! "Which standard protects industrial control systems?": the registry standard whose own
//! description (what it covers, its domain, its family) says the most of the question's
//! words, weighted by how rare each word is among the standards — one clear answer or none.

use std::collections::{HashMap, HashSet};

use super::Atlas;
use crate::search::concepts::stem;
use crate::search::{is_stop_word, tokens};

/// Words that ask about a standard rather than say what it is about.
const ASKING: &[&str] = &[
    "which",
    "what",
    "standard",
    "standards",
    "norm",
    "norms",
    "norme",
    "normes",
    "main",
    "key",
    "cover",
    "covers",
    "about",
    "for",
    "is",
    "are",
    "there",
    "any",
    "the",
    "one",
    "best",
    "used",
];

/// True for a word that asks about a standard rather than says what it is about.
pub fn asks_about_a_standard(word: &str) -> bool {
    ASKING.contains(&word.to_lowercase().as_str())
}

/// Share of the question's weight a standard must say to be its answer.
const ENOUGH: f64 = 0.6;

impl Atlas {
    /// The registry standard (its identifier) the words describe, when one does clearly:
    /// it says at least `ENOUGH` of the question's weight, strictly more than any other.
    pub fn standard_about(&self, question: &str) -> Option<String> {
        let asked = self.asked_stems(question);
        if asked.is_empty() {
            return None;
        }
        // Stemmed once per atlas, not per question.
        let texts = self.memo(("standard description stems", 0), || {
            self.standards
                .iter()
                .map(described_stems)
                .collect::<Vec<HashSet<String>>>()
        });
        let n = texts.len() as f64;
        let weight = |s: &String| {
            let df = texts.iter().filter(|t| t.contains(s)).count() as f64;
            (1.0 + n / (df + 1.0)).ln()
        };
        let weights: HashMap<&String, f64> = asked.iter().map(|s| (s, weight(s))).collect();
        let total: f64 = weights.values().sum();
        // Two standards that say as much of it: no clear answer ("information security
        // management" is 27001's and 27035's words), and the question is searched instead.
        let mut scored: Vec<(f64, usize)> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let said: f64 = weights
                    .iter()
                    .filter(|(s, _)| t.contains(**s))
                    .map(|(_, w)| *w)
                    .sum();
                (said / total, i)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        let &(best, i) = scored.first()?;
        let second = scored.get(1).map_or(0.0, |s| s.0);
        (best >= ENOUGH && best > second).then(|| self.standards[i].identifier.clone())
    }

    /// The question's content words as stems, an acronym the glossary expands read as its
    /// expansion too ("AI" → artificial intelligence).
    fn asked_stems(&self, question: &str) -> Vec<String> {
        let mut out = Vec::new();
        for w in tokens(question) {
            if is_stop_word(&w) || ASKING.contains(&w.as_str()) {
                continue;
            }
            let expanded = self
                .glossary_terms
                .exact(&w)
                .into_iter()
                .map(|e| &self.glossary[e.payload])
                .find(|g| !g.expansion.is_empty());
            match expanded {
                Some(g) => out.extend(tokens(&g.expansion).iter().map(|t| stem(t))),
                None => out.push(stem(&w)),
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

/// The stems of what the registry says a standard is about.
fn described_stems(s: &super::views::StandardRow) -> HashSet<String> {
    let text = [
        Some(s.covers.as_str()),
        s.domain.as_deref(),
        s.family.as_deref(),
        s.conformity_note.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    tokens(&text).iter().map(|t| stem(t)).collect()
}
