//! Glued words from the scrape ("WIPO’sactivitiesregarding the Domain Name System(DNS)",
//! "IECConformity AssessmentSystems", "technology.Read more") repaired with a vocabulary drawn
//! from the sources themselves. A repair is made only when the sources vouch for it:
//! - a missing space after punctuation before a capitalised word, or around a parenthesis;
//! - a capital inside a word ("AssessmentSystems") when the sources also write the two words
//!   apart, or both are common words of the sources and the glued form is rare;
//! - lower-case glue ("activitiesregarding") when it splits into words the sources use often
//!   and the glued form itself is rare.
//!
//! Names are never split (the words of organisation names, tools and glossary terms are
//! protected: "ServiceNow", "LinkedIn", "CyberPeace" stay whole). Every repair is reported with
//! its file and line.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;

/// How often a part must occur on its own for an unvouched split.
const COMMON: usize = 5;
/// Glued forms seen more often than this are words of the sources, not accidents.
const RARE: usize = 2;

static AFTER_PERIOD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\b[A-Za-z]*[a-z]{2}|\))\.([A-Z][a-z]+)").unwrap());
static AFTER_SEMICOLON: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\b[A-Za-z]*[a-z]{2}|\));([A-Za-z]{2,})").unwrap());
static AFTER_COMMA: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\b[A-Za-z]*[a-z]{2}),([A-Z]{2,}|[A-Z][a-z]+)").unwrap());
static BEFORE_PAREN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\b[A-Za-z]*[a-z]{2})\(([A-Za-z][A-Za-z0-9 ]+)\)").unwrap());
static AFTER_PAREN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\(([A-Za-z][A-Za-z0-9 ]+)\)([a-z]{3,}\b)").unwrap());
static WORD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[A-Za-z]+").unwrap());
/// A word as the vocabulary counts it: hyphenated compounds are one word ("Hyper-automation"
/// is "hyperautomation", not a sign that "hyper automation" is written apart).
static VOCAB_WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z]+(?:[-\u{2010}][A-Za-z]+)*").unwrap());

/// The sources' words and how they are written.
pub struct Vocabulary {
    /// Lower-case word → occurrences as a word of its own.
    counts: HashMap<String, usize>,
    /// Every pair of neighbouring words, lower case ("assessment systems"): for "written
    /// apart". A set, because every word of every paragraph asks.
    pairs: HashSet<String>,
    /// Lower-case words never split (names, tools, glossary terms).
    protected: HashSet<String>,
}

impl Vocabulary {
    pub fn new<'a>(texts: impl Iterator<Item = &'a str>, names: &[String]) -> Vocabulary {
        let mut counts: HashMap<String, usize> = HashMap::new();
        let mut pairs: HashSet<String> = HashSet::new();
        for t in texts {
            let mut previous: Option<String> = None;
            for w in VOCAB_WORD.find_iter(t) {
                let w: String = w
                    .as_str()
                    .chars()
                    .filter(|c| c.is_alphabetic())
                    .collect::<String>()
                    .to_lowercase();
                if let Some(p) = previous.take() {
                    pairs.insert(format!("{p} {w}"));
                }
                *counts.entry(w.clone()).or_default() += 1;
                previous = Some(w);
            }
        }
        let protected = names
            .iter()
            .flat_map(|n| WORD.find_iter(n).map(|w| w.as_str().to_lowercase()))
            .collect();
        Vocabulary {
            counts,
            pairs,
            protected,
        }
    }

    fn count(&self, w: &str) -> usize {
        self.counts.get(&w.to_lowercase()).copied().unwrap_or(0)
    }

    fn written_apart(&self, parts: &[&str]) -> bool {
        parts.windows(2).all(|w| {
            self.pairs
                .contains(&format!("{} {}", w[0], w[1]).to_lowercase())
        })
    }

    /// `text` repaired, and each repair as (as written, repaired); None when nothing was glued.
    pub fn repair(&self, text: &str) -> Option<(String, Vec<(String, String)>)> {
        let mut repairs = Vec::new();
        let mut out = self.split_words(text, &mut repairs);
        for (re, with) in [
            (&*AFTER_PERIOD, "$1. $2"),
            (&*AFTER_SEMICOLON, "$1; $2"),
            (&*AFTER_COMMA, "$1, $2"),
            (&*BEFORE_PAREN, "$1 ($2)"),
            (&*AFTER_PAREN, "($1) $2"),
        ] {
            let fixed = re.replace_all(&out, |c: &regex::Captures| {
                let whole = c[0].to_string();
                let mut rep = String::new();
                c.expand(with, &mut rep);
                let at = c.get(0).expect("the whole match").range();
                // URLs and e-mail addresses keep their dots.
                if !in_address(&out, at.start, at.end) {
                    repairs.push((whole, rep.clone()));
                    rep
                } else {
                    whole
                }
            });
            out = fixed.into_owned();
        }
        (!repairs.is_empty()).then_some((out, repairs))
    }

    /// Splits glued words inside `text`, word by word.
    fn split_words(&self, text: &str, repairs: &mut Vec<(String, String)>) -> String {
        let mut out = String::with_capacity(text.len() + 8);
        let mut last = 0;
        for m in WORD.find_iter(text) {
            out.push_str(&text[last..m.start()]);
            let after_apostrophe = text[..m.start()].ends_with(['’', '\'']);
            let split = if in_address(text, m.start(), m.end()) {
                None
            } else {
                self.split(m.as_str(), after_apostrophe)
            };
            match split {
                Some(parts) => {
                    let joined = parts.join(" ");
                    repairs.push((m.as_str().to_string(), joined.clone()));
                    out.push_str(&joined);
                }
                None => out.push_str(m.as_str()),
            }
            last = m.end();
        }
        out.push_str(&text[last..]);
        out
    }

    /// The parts of a glued word, when the sources vouch for them.
    fn split(&self, word: &str, after_apostrophe: bool) -> Option<Vec<String>> {
        let lower = word.to_lowercase();
        if self.protected.contains(&lower) || self.count(word) > RARE {
            return None;
        }
        if let Some(parts) = self.camel_split(word) {
            return Some(parts);
        }
        if word.chars().all(|c| c.is_ascii_lowercase()) {
            // "WIPO’sactivities": the possessive s glued to the next word.
            if after_apostrophe {
                if let Some(rest) = word.strip_prefix('s') {
                    if self.count(rest) >= COMMON {
                        return Some(vec!["s".into(), rest.into()]);
                    }
                    if let Some(mut parts) = self.lower_split(rest) {
                        parts.insert(0, "s".into());
                        return Some(parts);
                    }
                }
            }
            return self.lower_split(word);
        }
        None
    }

    /// "AssessmentSystems", "IECConformity", "IECand": split at the change of case.
    fn camel_split(&self, word: &str) -> Option<Vec<String>> {
        let chars: Vec<char> = word.chars().collect();
        let upper_prefix = chars.iter().take_while(|c| c.is_uppercase()).count();
        let cut = (1..chars.len()).find(|&i| {
            let (a, b) = (chars[i - 1], chars[i]);
            let next = chars.get(i + 1).copied();
            // "AssessmentSystems"
            (a.is_lowercase() && b.is_uppercase())
                // "IECConformity": an acronym, then a capitalised word
                || (i >= 2 && a.is_uppercase() && b.is_uppercase() && next.is_some_and(char::is_lowercase))
                // "IECand": an acronym, then a lower-case word
                || (i >= 2 && i == upper_prefix && b.is_lowercase())
        })?;
        let a: String = chars[..cut].iter().collect();
        let b: String = chars[cut..].iter().collect();
        // Brands are written this way on purpose ("TradeTech", "LiveChat", "eWeek"): only a
        // split the sources themselves write apart is a repair.
        (a.chars().count() >= 3 && b.chars().count() >= 3 && self.written_apart(&[&a, &b]))
            .then_some(vec![a, b])
    }

    /// "activitiesregarding" → ["activities", "regarding"]: two common words of the sources.
    fn lower_split(&self, word: &str) -> Option<Vec<String>> {
        if word.len() < 7 {
            return None;
        }
        (2..word.len() - 1)
            .filter(|&i| word.is_char_boundary(i))
            .map(|i| (&word[..i], &word[i..]))
            .filter(|(a, b)| {
                self.written_apart(&[a, b])
                    || word.len() >= 15
                        && a.len() >= 4
                        && b.len() >= 4
                        && self.count(a) >= COMMON
                        && self.count(b) >= COMMON
            })
            .max_by_key(|(a, b)| self.count(a).min(self.count(b)))
            .map(|(a, b)| vec![a.to_string(), b.to_string()])
    }
}

/// Whether bytes start..end lie inside a URL or an e-mail address (a run without spaces
/// holding "://", "www." or "@").
fn in_address(text: &str, start: usize, end: usize) -> bool {
    let from = text[..start]
        .char_indices()
        .rfind(|(_, c)| c.is_whitespace())
        .map_or(0, |(i, c)| i + c.len_utf8());
    let to = text[end..]
        .find(char::is_whitespace)
        .map_or(text.len(), |i| end + i);
    let run = &text[from..to];
    run.contains("://") || run.contains("www.") || run.contains('@')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vocabulary {
        let text = "WIPO activities regarding the domain. Activities and activities, regarding \
                    regarding regarding regarding activities activities the IEC Conformity \
                    Assessment Systems. Conformity conformity conformity conformity IEC IEC IEC \
                    IEC IEC and and and and and and Systems systems systems systems assessment \
                    assessment assessment assessment. Service Now and ServiceNow. more more more \
                    more more Read read read read read technology technology technology technology \
                    technology";
        Vocabulary::new(std::iter::once(text), &["ServiceNow".to_string()])
    }

    #[test]
    fn glued_words_are_split_where_the_sources_write_them_apart() {
        let v = vocab();
        let (fixed, repairs) = v
            .repair("WIPO’sactivitiesregarding the Domain Name System(DNS)")
            .unwrap();
        assert_eq!(
            fixed,
            "WIPO’s activities regarding the Domain Name System (DNS)"
        );
        assert_eq!(repairs.len(), 2, "{repairs:?}");
        let (fixed, _) = v.repair("the IECConformity AssessmentSystems").unwrap();
        assert_eq!(fixed, "the IEC Conformity Assessment Systems");
        let (fixed, _) = v.repair("new technology.Read more").unwrap();
        assert_eq!(fixed, "new technology. Read more");
        let (fixed, _) = v
            .repair("analytics;software and For example,ISO 27031")
            .unwrap();
        assert_eq!(fixed, "analytics; software and For example, ISO 27031");
    }

    #[test]
    fn names_addresses_and_clean_text_are_left_alone() {
        let v = vocab();
        assert_eq!(v.repair("ServiceNow and LinkedIn and CyberPeace"), None);
        assert_eq!(v.repair("see www.wipo.int or https://unicc.org/Read"), None);
        assert_eq!(v.repair("e.g. U.S. policy, 25,000 standards"), None);
        assert_eq!(v.repair("organisation(s) and the (ISO) standard"), None);
        assert_eq!(v.repair("non\u{a0}breaking\u{a0}spaces\u{2010}here"), None);
    }
}
