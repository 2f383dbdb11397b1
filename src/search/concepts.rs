//! What people type, read as the atlas's own words: each word of a question becomes a
//! *concept* — every word of the atlas that shares its stem (attack, attacks, attacked), and,
//! for two words written apart, joined or hyphenated, the other spellings of the compound
//! (cyber attack, cyber-attack, cyberattack, cyberattacks). Inflections by the Snowball English
//! stemmer (`rust-stemmers`). Pure: the atlas's vocabulary is passed in.
//!
//! Everyday words for the sources' terms ("kids" for "children", "fake news" for
//! "disinformation") come from the curated table `data/relatives.toml`, passed in as
//! `Relatives`: a concept is then also said by its relatives, and the answer says so. The
//! general thesauri measured for this (BENCHMARKS.md) linked too much noise to put a claim in
//! the bot's mouth.

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

/// English function words — pronouns, determiners and quantifiers, prepositions,
/// auxiliaries, conjunctions: the grammar of a question, never what it is about ("weapons
/// that decide on *their own*", "one login for *every* employee", "data *across* borders").
/// A closed class, so a list; "one" and "us" are left out (a "one login", the US), and of the
/// light verbs only "get" is in ("getting online" and "best practices" are curated phrases).
const FUNCTION_WORDS: &[&str] = &[
    // French grammar, as in "qui s'occupe des enfants en ligne" (never "un": it is the UN).
    "en",
    "de",
    "des",
    "du",
    "la",
    "le",
    "les",
    "l",
    "d",
    "et",
    "pour",
    "sur",
    "dans",
    "au",
    "aux",
    "une",
    "par",
    "avec",
    "qui",
    "que",
    "quoi",
    "ce",
    "cette",
    "ces",
    "se",
    "my",
    "mine",
    "we",
    "our",
    "ours",
    "you",
    "your",
    "yours",
    "he",
    "him",
    "his",
    "she",
    "her",
    "hers",
    "they",
    "them",
    "theirs",
    "itself",
    "themselves",
    "ourselves",
    "myself",
    "someone",
    "somebody",
    "anyone",
    "anybody",
    "everyone",
    "everybody",
    "nobody",
    "something",
    "anything",
    "everything",
    "nothing",
    "each",
    "every",
    "all",
    "both",
    "either",
    "neither",
    "few",
    "many",
    "much",
    "more",
    "most",
    "less",
    "least",
    "several",
    "other",
    "others",
    "another",
    "such",
    "own",
    "same",
    "above",
    "across",
    "after",
    "against",
    "along",
    "among",
    "amongst",
    "around",
    "before",
    "behind",
    "below",
    "beneath",
    "beside",
    "besides",
    "between",
    "beyond",
    "but",
    "despite",
    "during",
    "except",
    "inside",
    "into",
    "like",
    "off",
    "onto",
    "out",
    "outside",
    "over",
    "past",
    "since",
    "than",
    "through",
    "throughout",
    "toward",
    "towards",
    "under",
    "underneath",
    "unlike",
    "until",
    "upon",
    "via",
    "within",
    "without",
    "am",
    "was",
    "were",
    "been",
    "being",
    "have",
    "has",
    "had",
    "having",
    "did",
    "doing",
    "would",
    "shall",
    "should",
    "might",
    "must",
    "could",
    "if",
    "so",
    "then",
    "because",
    "while",
    "whether",
    "though",
    "although",
    "nor",
    "yet",
    "also",
    "just",
    "very",
    "really",
    "too",
    "only",
    "even",
    "still",
    "whose",
    "whom",
    "may",
    "will",
    "get",
    "gets",
    "got",
    "gotten",
    "better",
];

/// The English stem of a folded word.
pub fn stem(word: &str) -> String {
    thread_local! {
        static STEMMER: Stemmer = Stemmer::create(Algorithm::English);
    }
    STEMMER.with(|s| s.stem(word).into_owned())
}

/// The atlas's words by stem, each with the bases it may be an inflection of (`bases`),
/// worked out once: a question asks for dozens of families.
#[derive(Debug, Default)]
pub struct Vocabulary {
    by_stem: HashMap<String, Vec<(String, Vec<String>)>>,
}

impl Vocabulary {
    pub fn new<'a>(words: impl Iterator<Item = &'a str>) -> Vocabulary {
        let mut by_stem: HashMap<String, Vec<(String, Vec<String>)>> = HashMap::new();
        for w in words {
            by_stem
                .entry(stem(w))
                .or_default()
                .push((w.to_string(), bases(w)));
        }
        for list in by_stem.values_mut() {
            list.sort();
        }
        Vocabulary { by_stem }
    }

    /// The atlas's words that share `word`'s stem and are one of its inflections rather than
    /// a word derived from it (their `bases` meet: "attack", "attacks", "attacking"; not
    /// "exploits" for "exploitation", nor "minorities" for "minor", "customer" for "customs").
    pub fn family(&self, word: &str) -> Vec<String> {
        let Some(all) = self.by_stem.get(&stem(word)) else {
            return Vec::new();
        };
        let mine = bases(word);
        all.iter()
            .filter(|(w, theirs)| w == word || theirs.iter().any(|b| mine.contains(b)))
            .map(|(w, _)| w.clone())
            .collect()
    }
}

/// The sources' terms for everyday words, keyed by the stems of the everyday words ("kid",
/// "fake news"). Built from `data/relatives.toml` through the atlas.
#[derive(Debug, Default)]
pub struct Relatives {
    by_key: HashMap<String, Vec<String>>,
    /// The everyday phrases of two or more words by their stems in order of the stems (a
    /// question may say them in another order or form: "protecting shoppers" for "shopper
    /// protection", "data scrambling" for "scrambling data"): the words, and their key in
    /// `by_key`.
    phrases: HashMap<String, Vec<(Vec<String>, String)>>,
    /// Keys of the sources' terms themselves ("children"): curated words of the domain too.
    terms: std::collections::HashSet<String>,
    longest: usize,
}

/// The one word a phrase of several comes down to once its grammar and question words are
/// dropped, if it does: such a phrase is not read at all — "sign-in" is not "sign", "IT
/// support" not "support", "who is behind cyberattacks" not "cyberattacks" (`check-data`
/// warns of them).
pub fn collapses(said: &str) -> Option<String> {
    let mut words = content_words(said);
    (words.len() == 1 && tokens(said).len() > 1).then(|| words.remove(0))
}

/// The longest everyday phrase looked up, in words.
const MAX_SAID_WORDS: usize = 4;

impl Relatives {
    /// From (everyday words, the sources' term) pairs.
    pub fn new<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Relatives {
        let mut by_key: HashMap<String, Vec<String>> = HashMap::new();
        let mut terms = std::collections::HashSet::new();
        let mut phrases: HashMap<String, Vec<(Vec<String>, String)>> = HashMap::new();
        let mut longest = 0;
        for (said, word) in pairs {
            terms.insert(key(&content_words(word)));
            let words = content_words(said);
            if words.is_empty() || words.len() > MAX_SAID_WORDS {
                continue;
            }
            if collapses(said).is_some() {
                continue;
            }
            longest = longest.max(words.len());
            if words.len() >= 2 && !by_key.contains_key(&key(&words)) {
                phrases
                    .entry(stems_key(&words))
                    .or_default()
                    .push((words.clone(), key(&words)));
            }
            let list = by_key.entry(key(&words)).or_default();
            if !list.iter().any(|w| w == word) {
                list.push(word.to_string());
            }
        }
        Relatives {
            by_key,
            phrases,
            terms,
            longest,
        }
    }

    /// True when these words are one of the sources' terms the table relates to.
    /// True when the table knows `word` as an everyday word or one of the sources' terms
    /// (what it reads is no typo, even where the sources never write it).
    pub fn knows(&self, word: &str) -> bool {
        let words = [word.to_string()];
        self.is_term(&words) || self.of(&words).is_some()
    }

    fn is_term(&self, words: &[String]) -> bool {
        self.terms.contains(&key(words))
    }

    /// The sources' terms for these (content) words, if the table has them: as written, or —
    /// for two words or more — each word an inflection of one of a phrase's words, in any
    /// order ("protecting shoppers" is "shopper protection").
    fn of(&self, words: &[String]) -> Option<&[String]> {
        if let Some(terms) = self.by_key.get(&key(words)) {
            return Some(terms);
        }
        if words.len() < 2 {
            return None;
        }
        self.phrases
            .get(&stems_key(words))?
            .iter()
            .find(|(said, _)| same_words_any_order(words, said))
            .and_then(|(_, k)| self.by_key.get(k))
            .map(Vec::as_slice)
    }
}

/// Lookup key of content words: each as written, a plural's final "s" dropped ("kids safety"
/// → "kid safety"). Not their stems: the stemmer makes one word of "formats" and the French
/// "formation", of "minor" and "minorities".
fn key(words: &[String]) -> String {
    words
        .iter()
        .map(|w| match w.strip_suffix('s') {
            Some(one) if one.chars().count() >= 3 && !one.ends_with('s') => one,
            _ => w.as_str(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Words by their stems, in the stems' order: the same for a phrase said in any order or form.
fn stems_key(words: &[String]) -> String {
    let mut stems: Vec<String> = words.iter().map(|w| stem(w)).collect();
    stems.sort();
    stems.join(" ")
}

/// True when each of `typed` is a form of a different word of `said` (same count): the same
/// stem, spelt alike but for the shorter one's last two letters — looser than an inflection
/// ("protecting shoppers" says "shopper protection"): every word of a curated phrase must
/// match, which a single word's family has no such check for.
fn same_words_any_order(typed: &[String], said: &[String]) -> bool {
    let alike = |a: &str, b: &str| {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        let shared = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
        a.len().abs_diff(b.len()) <= 3 && shared + 2 >= a.len().min(b.len())
    };
    let mut used = vec![false; said.len()];
    typed.iter().all(|t| {
        let at =
            (0..said.len()).find(|&i| !used[i] && stem(t) == stem(&said[i]) && alike(t, &said[i]));
        at.map(|i| used[i] = true).is_some()
    })
}

/// The words `w` may be an inflection of, itself included: without a plural's or a verb's
/// ending, the "e" or doubled consonant that ending took or left. Two words are forms of one
/// when their bases meet ("attack", "attacks", "attacked", "attacking"; "policy", "policies";
/// "use", "using"; "run", "running") — never a word derived from the other ("customs" and
/// "customer", "care" and "careful", "emerge" and "emergency", "nation" and "national",
/// "weapons" and "weaponized"), which the stemmer makes one.
fn bases(w: &str) -> Vec<String> {
    let mut out = vec![w.to_string()];
    let mut add = |stem: &str| {
        if stem.chars().count() >= 2 {
            out.push(stem.to_string());
            out.push(format!("{stem}e"));
            let mut chars = stem.chars().rev();
            if let (Some(last), Some(before)) = (chars.next(), chars.next()) {
                if last == before && !"aeiou".contains(last) {
                    out.push(stem[..stem.len() - last.len_utf8()].to_string());
                }
            }
        }
    };
    for ending in ["s", "es", "ed", "d", "ing", "'s"] {
        if let Some(stem) = w.strip_suffix(ending) {
            add(stem);
        }
    }
    for ending in ["ies", "ied"] {
        // Not for three-letter words ("lies" is not "ly", which "lying" also comes down to).
        match w.strip_suffix(ending) {
            Some(stem) if stem.chars().count() >= 2 => out.push(format!("{stem}y")),
            _ => {}
        }
    }
    out
}

/// One thing a question is about, and the phrases of the atlas that say it.
#[derive(Debug, Clone, PartialEq)]
pub struct Concept {
    /// The words as typed (folded): "attacks", "cyber attack".
    pub typed: String,
    /// Each a run of the atlas's tokens; any of them says the concept.
    pub phrases: Vec<Vec<String>>,
    /// The sources' terms it was also read as (`Relatives`), in the table's order.
    pub relatives: Vec<String>,
    /// A word of the curated table (an everyday word or a term of the sources): what a
    /// question is about rather than how it is asked.
    pub curated: bool,
}

/// French locutions whose meaning is in their grammar word — "en ligne" is "online", not
/// "ligne" (a word the sources never write): each read as the one word the sources write.
const LOCUTIONS: &[(&str, &str, &str)] = &[
    ("en", "ligne", "online"),
    ("hors", "ligne", "offline"),
    ("a", "distance", "remote"),
    ("à", "distance", "remote"),
];

/// `words` with each French locution made the one word it means.
fn with_locutions(words: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    for w in words {
        let locution = out.last().and_then(|prev| {
            LOCUTIONS
                .iter()
                .find(|(a, b, _)| prev == a && w == *b)
                .map(|(_, _, one)| *one)
        });
        match locution {
            Some(one) => *out.last_mut().expect("a previous word") = one.to_string(),
            None => out.push(w),
        }
    }
    out
}

/// The words of a text that say what it is about: no stop words, no question words.
fn content_words(text: &str) -> Vec<String> {
    with_locutions(tokens(text))
        .into_iter()
        .filter(|w| {
            !is_stop_word(w)
                && !QUESTION_WORDS.contains(&w.as_str())
                && !FUNCTION_WORDS.contains(&w.as_str())
        })
        .take(MAX_WORDS)
        .collect()
}

/// The concepts of `text`: its words without stop words and question words, each with the
/// atlas's spellings, two adjacent words taken as one compound when the atlas writes them
/// joined, and the longest run of words the relatives table knows ("fake news") as one
/// concept also said by its relatives. Words the atlas never uses are kept with no phrase
/// (nothing can say them).
pub fn concepts(text: &str, vocabulary: &Vocabulary, relatives: &Relatives) -> Vec<Concept> {
    let words = content_words(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if let Some((len, terms)) = known_run(&words[i..], relatives) {
            let mut c = related(&words[i..i + len], terms, vocabulary);
            c.curated = true;
            out.push(c);
            i += len;
            continue;
        }
        if let Some(next) = words.get(i + 1) {
            let joined = vocabulary.family(&format!("{}{next}", words[i]));
            if !joined.is_empty() {
                out.push(compound(&words[i], next, &joined, vocabulary));
                i += 2;
                continue;
            }
        }
        let mut c = single(&words[i], vocabulary);
        c.curated = relatives.is_term(&words[i..=i]);
        out.push(c);
        i += 1;
    }
    out
}

/// The longest run of words at the start of `words` that the relatives table knows.
fn known_run<'r>(words: &[String], relatives: &'r Relatives) -> Option<(usize, &'r [String])> {
    let longest = relatives.longest.min(words.len());
    (1..=longest)
        .rev()
        .find_map(|len| relatives.of(&words[..len]).map(|terms| (len, terms)))
}

/// Words the relatives table knows: said as typed (in the atlas's spellings), or by any of
/// the sources' terms for them, each in its inflections.
fn related(words: &[String], terms: &[String], vocabulary: &Vocabulary) -> Concept {
    let mut concept = match words {
        [w] => single(w, vocabulary),
        [a, b] => {
            let joined = vocabulary.family(&format!("{a}{b}"));
            let mut c = compound(a, b, &joined, vocabulary);
            c.phrases.extend(inflected(words, vocabulary));
            c
        }
        _ => Concept {
            typed: words.join(" "),
            phrases: inflected(words, vocabulary),
            relatives: Vec::new(),
            curated: false,
        },
    };
    for term in terms {
        // Only a relative that says something the typed words do not ("climat" is "climate").
        let phrases: Vec<Vec<String>> = inflected(&tokens(term), vocabulary)
            .into_iter()
            .filter(|p| !concept.phrases.contains(p))
            .collect();
        if !phrases.is_empty() {
            concept.relatives.push(term.to_lowercase());
            concept.phrases.extend(phrases);
        }
    }
    concept.phrases.dedup();
    concept.phrases.truncate(MAX_PHRASES);
    concept
}

/// A run of words as the atlas writes it: every word as written, the last in any of its
/// forms ("digital currency", "digital currencies"); none when the atlas lacks a word.
fn inflected(words: &[String], vocabulary: &Vocabulary) -> Vec<Vec<String>> {
    let Some((last, head)) = words.split_last() else {
        return Vec::new();
    };
    if head.iter().any(|w| !vocabulary.family(w).contains(w)) {
        return Vec::new();
    }
    vocabulary
        .family(last)
        .iter()
        .map(|form| head.iter().cloned().chain([form.clone()]).collect())
        .collect()
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
        relatives: Vec::new(),
        curated: false,
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
        relatives: Vec::new(),
        curated: false,
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
                "digital",
                "currency",
                "currencies",
                "disinformation",
            ]
            .into_iter(),
        )
    }

    fn relatives() -> Relatives {
        Relatives::new(
            [
                ("kids", "children"),
                ("kid", "children"),
                ("digital money", "digital currency"),
                ("fake news", "disinformation"),
                ("fake news", "propaganda"),
            ]
            .into_iter(),
        )
    }

    #[test]
    fn a_french_locution_is_the_word_it_means_not_its_noun() {
        let c = concepts("enfants en ligne", &vocabulary(), &relatives());
        let typed: Vec<&str> = c.iter().map(|c| c.typed.as_str()).collect();
        assert_eq!(typed, ["enfants", "online"], "{c:?}");
        assert_eq!(c[1].phrases, [vec!["online".to_string()]]);
        // "ligne" alone stays what it is; "en" alone is grammar.
        let alone = concepts("ligne en", &vocabulary(), &relatives());
        let typed: Vec<&str> = alone.iter().map(|c| c.typed.as_str()).collect();
        assert_eq!(typed, ["ligne"]);
    }

    #[test]
    fn an_everyday_word_is_also_said_by_the_sources_term() {
        let c = concepts("kids online", &vocabulary(), &relatives());
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!(c[0].typed, "kids");
        assert_eq!(c[0].relatives, ["children"]);
        assert!(
            c[0].phrases.contains(&vec!["children".to_string()]),
            "{c:?}"
        );
        assert!(c[1].relatives.is_empty());
    }

    #[test]
    fn the_longest_known_run_is_one_concept_and_only_terms_the_atlas_has_are_kept() {
        let c = concepts("who works on fake news?", &vocabulary(), &relatives());
        assert_eq!(c.len(), 1, "{c:?}");
        // "propaganda" is not in this atlas: nothing could say it, so it is not claimed.
        assert_eq!(c[0].relatives, ["disinformation"]);
        let c = concepts("Digital Money", &vocabulary(), &relatives());
        assert_eq!(c.len(), 1, "{c:?}");
        assert!(c[0]
            .phrases
            .contains(&vec!["digital".to_string(), "currencies".to_string()]));
    }

    #[test]
    fn grammar_and_light_verbs_are_not_what_a_question_is_about() {
        assert_eq!(
            content_words("who is helping poor countries get better at cyber security"),
            ["helping", "poor", "countries", "cyber", "security"]
        );
        assert_eq!(
            content_words("what governments may and may not do to each other online"),
            ["governments", "online"]
        );
    }

    #[test]
    fn no_everyday_phrase_of_the_bundled_table_comes_down_to_one_word() {
        let table: toml::Value =
            toml::from_str(include_str!("../../data/relatives.toml")).expect("valid TOML");
        let said = table["relative"]
            .as_array()
            .expect("entries")
            .iter()
            .flat_map(|r| r["said"].as_array().expect("said").iter())
            .filter_map(|s| s.as_str());
        let collapsed: Vec<&str> = said.filter(|s| collapses(s).is_some()).collect();
        assert!(collapsed.is_empty(), "{collapsed:?}");
    }

    #[test]
    fn a_phrase_that_leaves_one_word_once_grammar_is_dropped_is_not_that_word() {
        let r = Relatives::new(
            [
                ("sign-in", "authentication"),
                ("IT support", "service desk"),
                ("who is behind cyberattacks", "attribution"),
                ("the unconnected", "digital divides"),
                ("unconnected", "digital divides"),
            ]
            .into_iter(),
        );
        let one = |w: &str| vec![w.to_string()];
        for w in ["sign", "support", "cyberattacks"] {
            assert!(r.of(&one(w)).is_none(), "{w}");
        }
        assert!(r.of(&one("unconnected")).is_some(), "said on its own too");
    }

    #[test]
    fn an_everyday_phrase_is_known_in_another_order_or_form() {
        let r = Relatives::new(
            [
                ("shopper protection", "consumer protection"),
                ("scrambling data", "encryption"),
            ]
            .into_iter(),
        );
        let words = |t: &str| content_words(t);
        assert!(r.of(&words("protecting shoppers")).is_some());
        assert!(r.of(&words("data scrambling")).is_some());
        // Every word must be one of the phrase's: not half of it, nor another phrase, nor a
        // short word that merely starts alike.
        assert!(r.of(&words("protecting data")).is_none());
        let short = Relatives::new([("5g networks", "future networks")].into_iter());
        assert!(short.of(&words("3d networks")).is_none());
        assert!(r.of(&words("shoppers")).is_none());
    }

    #[test]
    fn inflections_read_as_every_form_the_atlas_writes() {
        let c = concepts("attacking", &vocabulary(), &Relatives::default());
        assert_eq!(c.len(), 1);
        for w in ["attack", "attacks", "attacked"] {
            assert!(c[0].phrases.contains(&vec![w.to_string()]), "{c:?}");
        }
    }

    #[test]
    fn a_derived_word_is_not_an_inflection() {
        let v = Vocabulary::new(["exploits", "exploitation", "minor", "minorities"].into_iter());
        assert_eq!(v.family("exploitation"), ["exploitation"]);
        assert_eq!(v.family("minor"), ["minor"]);
        let v = Vocabulary::new(
            [
                "customer",
                "customized",
                "customs",
                "care",
                "careful",
                "cares",
                "emerge",
                "emergency",
                "nations",
                "national",
                "weapons",
                "weaponized",
                "policies",
                "uses",
                "using",
                "running",
                "run",
            ]
            .into_iter(),
        );
        assert_eq!(v.family("custom"), ["customs"]);
        assert_eq!(v.family("care"), ["care", "cares"]);
        assert_eq!(v.family("emergencies"), ["emergency"]);
        assert_eq!(v.family("nation"), ["nations"]);
        assert_eq!(v.family("weapon"), ["weapons"]);
        assert_eq!(v.family("policy"), ["policies"]);
        assert_eq!(v.family("use"), ["uses", "using"]);
        assert_eq!(v.family("runs"), ["run", "running"]);
        let v = Vocabulary::new(["lying", "lie", "studies", "studying"].into_iter());
        assert_eq!(v.family("lies"), ["lie"]);
        assert_eq!(v.family("study"), ["studies", "studying"]);
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
            let c = concepts(typed, &v, &Relatives::default());
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
        let c = concepts(
            "who works on elections in Geneva?",
            &vocabulary(),
            &Relatives::default(),
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].typed, "elections");
    }

    proptest! {
        #[test]
        fn any_text_gives_a_bounded_reading(s in "\\PC{0,400}") {
            let c = concepts(&s, &vocabulary(), &Relatives::default());
            prop_assert!(c.len() <= MAX_WORDS);
            for concept in &c {
                prop_assert!(concept.phrases.len() <= 64);
            }
        }
    }
}
