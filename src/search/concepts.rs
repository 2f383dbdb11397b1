//! What people type, read as the atlas's own words: each word of a question becomes a
//! *concept* — every word of the atlas that shares its stem (attack, attacks, attacked), and,
//! for two words written apart, joined or hyphenated, the other spellings of the compound
//! (cyber attack, cyber-attack, cyberattack, cyberattacks). Inflections by the Snowball English
//! stemmer (`rust-stemmers`). Pure: the atlas's vocabulary is passed in.
//!
//! Not here: synonyms ("kids" for "children"). Two thesauri from the registries were measured
//! for that (BENCHMARKS.md) and neither is good enough to put a claim in the bot's mouth.

use std::collections::HashMap;

use rust_stemmers::{Algorithm, Stemmer};

use super::{is_stop_word, tokens};

/// Most words of a question read (the rest are ignored): bounds the work per question.
pub const MAX_WORDS: usize = 12;
/// Most phrases one concept is read as, and the longest word tried as a compound.
const MAX_PHRASES: usize = 64;
const MAX_SPLIT: usize = 40;

/// Words that ask rather than say what about ("who works on", "in Geneva", "people's").
const QUESTION_WORDS: &[&str] = &[
    "who",
    "what",
    "which",
    "works",
    "work",
    "working",
    "about",
    "people",
    "s",
    "any",
    "some",
    "geneva",
    "organisation",
    "organisations",
    "organization",
    "organizations",
    "me",
    "i",
    "do",
    "does",
    "there",
    "that",
    "this",
    "those",
    "these",
    "it",
    "its",
    "their",
    "from",
    "at",
    "as",
    "be",
    "can",
    "how",
    "why",
    "when",
    "where",
];

/// The English stem of a folded word.
pub fn stem(word: &str) -> String {
    thread_local! {
        static STEMMER: Stemmer = Stemmer::create(Algorithm::English);
    }
    STEMMER.with(|s| s.stem(word).into_owned())
}

/// The atlas's words by stem.
#[derive(Debug, Default)]
pub struct Vocabulary {
    by_stem: HashMap<String, Vec<String>>,
}

impl Vocabulary {
    pub fn new<'a>(words: impl Iterator<Item = &'a str>) -> Vocabulary {
        let mut by_stem: HashMap<String, Vec<String>> = HashMap::new();
        for w in words {
            by_stem.entry(stem(w)).or_default().push(w.to_string());
        }
        for list in by_stem.values_mut() {
            list.sort();
        }
        Vocabulary { by_stem }
    }

    /// The atlas's words that share `word`'s stem (empty when none does).
    pub fn family(&self, word: &str) -> &[String] {
        self.by_stem.get(&stem(word)).map_or(&[], Vec::as_slice)
    }
}

/// One thing a question is about, and the phrases of the atlas that say it.
#[derive(Debug, Clone, PartialEq)]
pub struct Concept {
    /// The words as typed (folded): "attacks", "cyber attack".
    pub typed: String,
    /// Each a run of the atlas's tokens; any of them says the concept.
    pub phrases: Vec<Vec<String>>,
}

/// The concepts of `text`: its words without stop words and question words, each with the
/// atlas's spellings, two adjacent words taken as one compound when the atlas writes them
/// joined. Words the atlas never uses are kept with no phrase (nothing can say them).
pub fn concepts(text: &str, vocabulary: &Vocabulary) -> Vec<Concept> {
    let words: Vec<String> = tokens(text)
        .into_iter()
        .filter(|w| !is_stop_word(w) && !QUESTION_WORDS.contains(&w.as_str()))
        .take(MAX_WORDS)
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if let Some(next) = words.get(i + 1) {
            let joined = vocabulary.family(&format!("{}{next}", words[i]));
            if !joined.is_empty() {
                out.push(compound(&words[i], next, joined, vocabulary));
                i += 2;
                continue;
            }
        }
        out.push(single(&words[i], vocabulary));
        i += 1;
    }
    out
}

fn single(word: &str, vocabulary: &Vocabulary) -> Concept {
    let mut phrases: Vec<Vec<String>> = vocabulary
        .family(word)
        .iter()
        .map(|w| vec![w.clone()])
        .collect();
    phrases.extend(split_forms(word, vocabulary));
    phrases.truncate(MAX_PHRASES);
    Concept {
        typed: word.to_string(),
        phrases,
    }
}

/// "cyber attack": cyberattack(s), and the two words apart in any of their forms.
fn compound(first: &str, second: &str, joined: &[String], vocabulary: &Vocabulary) -> Concept {
    let mut phrases: Vec<Vec<String>> = joined.iter().map(|w| vec![w.clone()]).collect();
    for a in vocabulary.family(first) {
        for b in vocabulary.family(second) {
            phrases.push(vec![a.clone(), b.clone()]);
        }
    }
    phrases.truncate(MAX_PHRASES);
    Concept {
        typed: format!("{first} {second}"),
        phrases,
    }
}

/// A word typed joined that the atlas may write apart ("cyberattacks" → "cyber attacks"):
/// every split into two words the atlas has, the second in any of its forms.
fn split_forms(word: &str, vocabulary: &Vocabulary) -> Vec<Vec<String>> {
    let chars: Vec<char> = word.chars().collect();
    let mut out = Vec::new();
    if chars.len() > MAX_SPLIT {
        return out;
    }
    for cut in 3..chars.len().saturating_sub(2) {
        let (a, b): (String, String) =
            (chars[..cut].iter().collect(), chars[cut..].iter().collect());
        let firsts = vocabulary.family(&a);
        if !firsts.contains(&a) {
            continue;
        }
        for second in vocabulary.family(&b) {
            out.push(vec![a.clone(), second.clone()]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn vocabulary() -> Vocabulary {
        Vocabulary::new(
            [
                "cyberattack",
                "cyberattacks",
                "cyber",
                "attack",
                "attacks",
                "attacked",
                "children",
                "child",
                "online",
                "election",
                "elections",
            ]
            .into_iter(),
        )
    }

    #[test]
    fn inflections_read_as_every_form_the_atlas_writes() {
        let c = concepts("attacking", &vocabulary());
        assert_eq!(c.len(), 1);
        for w in ["attack", "attacks", "attacked"] {
            assert!(c[0].phrases.contains(&vec![w.to_string()]), "{c:?}");
        }
    }

    #[test]
    fn a_compound_is_one_concept_in_every_spelling() {
        let v = vocabulary();
        for typed in [
            "cyber attack",
            "cyber-attacks",
            "cyberattack",
            "Cyber Attacks",
        ] {
            let c = concepts(typed, &v);
            assert_eq!(c.len(), 1, "{typed}: {c:?}");
            let p = &c[0].phrases;
            assert!(
                p.contains(&vec!["cyberattacks".to_string()]),
                "{typed}: {p:?}"
            );
            assert!(
                p.contains(&vec!["cyber".to_string(), "attacks".to_string()]),
                "{typed}: {p:?}"
            );
        }
    }

    #[test]
    fn question_words_are_not_what_it_is_about() {
        let c = concepts("who works on elections in Geneva?", &vocabulary());
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].typed, "elections");
    }

    proptest! {
        #[test]
        fn any_text_gives_a_bounded_reading(s in "\\PC{0,400}") {
            let c = concepts(&s, &vocabulary());
            prop_assert!(c.len() <= MAX_WORDS);
            for concept in &c {
                prop_assert!(concept.phrases.len() <= 64);
            }
        }
    }
}
