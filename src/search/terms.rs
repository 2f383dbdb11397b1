//! Finding a topic's terms in prose, the one way the importer (ranking actors per topic) and the
//! commands (marking the words that matched) both use:
//! - whole words only ("trade" is not in "tradeoff");
//! - acronyms match case-sensitively ("LAWS" is not "laws", "IP" is not "ip"), other terms in
//!   any case;
//! - spacing and hyphenation are free ("cyber security" finds "cyber-security" and
//!   "cybersecurity"), and British and American spellings are one ("digitalisation");
//! - a plural "s" on the last word of an ordinary term is accepted ("cybercrimes").

use std::ops::Range;

use regex::Regex;

use super::normalize::{fold_typography, spelling_forms};

/// Between the words of a term: nothing, spaces, or any hyphen (the sources use U+2010 too).
const JOINER: &str = r"[\s\-\u{2010}\u{2011}\u{00A0}]*";

/// "LAWS", "PKI", "IoT", "CiM", "5G": a term that names an acronym and must keep its case.
pub fn is_acronym_term(term: &str) -> bool {
    term.split_whitespace().any(|w| {
        let upper = w.chars().filter(|c| c.is_uppercase()).count();
        let letters = w.chars().filter(|c| c.is_alphabetic()).count();
        upper >= 2 || (letters > 0 && upper == letters && w.chars().any(|c| c.is_ascii_digit()))
    })
}

pub struct TermMatcher {
    re: Option<Regex>,
}

impl TermMatcher {
    pub fn new<S: AsRef<str>>(terms: &[S]) -> TermMatcher {
        let mut exact: Vec<String> = Vec::new();
        let mut any_case: Vec<String> = Vec::new();
        for t in terms {
            let t = fold_typography(t.as_ref());
            let words: Vec<&str> = t
                .split(|c: char| c.is_whitespace() || c == '-')
                .filter(|w| !w.is_empty())
                .collect();
            if words.is_empty() {
                continue;
            }
            if is_acronym_term(&t) {
                exact.push(pattern(&words, regex::escape, false));
            } else {
                any_case.push(pattern(&words, alternatives, true));
            }
        }
        let mut groups = Vec::new();
        for (list, flags) in [(&mut exact, "-i"), (&mut any_case, "i")] {
            if !list.is_empty() {
                // Longest first, so that "cyber security" wins over "cyber".
                list.sort_by_key(|p| std::cmp::Reverse(p.len()));
                list.dedup();
                groups.push(format!("(?{flags}:{})", list.join("|")));
            }
        }
        let re = if groups.is_empty() {
            None
        } else {
            Regex::new(&groups.join("|")).ok()
        };
        TermMatcher { re }
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.re.as_ref().is_some_and(|r| r.is_match(text))
    }

    /// Byte ranges of every occurrence, in order, not overlapping.
    pub fn find_iter<'a>(&'a self, text: &'a str) -> impl Iterator<Item = Range<usize>> + 'a {
        self.re
            .iter()
            .flat_map(move |r| r.find_iter(text).map(|m| m.range()))
    }
}

/// A term's words as a pattern: words joined by `JOINER`, word boundaries where the term
/// starts or ends with a letter or digit, and an optional plural for ordinary terms.
fn pattern(words: &[&str], word: impl Fn(&str) -> String, plural: bool) -> String {
    let body: Vec<String> = words.iter().map(|w| word(w)).collect();
    let first = words[0].chars().next().is_some_and(char::is_alphanumeric);
    let last_word = words[words.len() - 1];
    let last = last_word.chars().last().is_some_and(char::is_alphanumeric);
    let plural = if plural && last && !last_word.ends_with('s') {
        "(?:e?s)?"
    } else {
        ""
    };
    format!(
        "{}(?:{}){plural}{}",
        if first { r"\b" } else { "" },
        body.join(JOINER),
        if last { r"\b" } else { "" }
    )
}

/// One word in all its spellings.
fn alternatives(word: &str) -> String {
    let forms: Vec<String> = spelling_forms(word)
        .iter()
        .map(|f| regex::escape(f))
        .collect();
    if forms.len() == 1 {
        forms[0].clone()
    } else {
        format!("(?:{})", forms.join("|"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(terms: &[&str], text: &str) -> Vec<String> {
        let m = TermMatcher::new(terms);
        m.find_iter(text).map(|r| text[r].to_string()).collect()
    }

    #[test]
    fn acronyms_keep_their_case_and_words_do_not() {
        assert_eq!(matches(&["LAWS"], "national laws and LAWS"), ["LAWS"]);
        assert_eq!(matches(&["IP"], "IP rights, ip address, IPv6"), ["IP"]);
        assert_eq!(
            matches(&["trade"], "Trade, trades, tradeoffs"),
            ["Trade", "trades"]
        );
    }

    #[test]
    fn spacing_hyphens_and_spelling_are_free() {
        assert_eq!(
            matches(
                &["cyber security"],
                "cybersecurity, cyber-security, Cyber Security"
            ),
            ["cybersecurity", "cyber-security", "Cyber Security"]
        );
        assert_eq!(
            matches(&["e-commerce"], "E-commerce and ecommerce"),
            ["E-commerce", "ecommerce"]
        );
        assert_eq!(
            matches(&["digitalization"], "the digitalisation of"),
            ["digitalisation"]
        );
        assert_eq!(
            matches(&["capacity building"], "capacity\u{2010}building"),
            ["capacity\u{2010}building"]
        );
    }

    #[test]
    fn whole_words_only() {
        assert!(matches(&["AI"], "MAIN, said, AIDA").is_empty());
        assert!(matches(&["trade"], "tradeoff").is_empty());
        assert_eq!(matches(&["LGBTQ+"], "for LGBTQ+ people"), ["LGBTQ+"]);
    }
}
