//! Finding a topic's terms in prose, the one way the importer (ranking actors per topic) and the
//! commands (marking the words that matched) both use:
//! - whole words only ("trade" is not in "tradeoff");
//! - acronyms match case-sensitively ("LAWS" is not "laws", "IP" is not "ip"), other terms in
//!   any case;
//! - spacing and hyphenation are free ("cyber security" finds "cyber-security" and
//!   "cybersecurity"), and British and American spellings are one ("digitalisation");
//! - a plural "s" on the last word of an ordinary term is accepted ("cybercrimes").

//!
//! Matched by hand rather than by a regex built per answer: compiling one (100–350 µs with its
//! DFA) cost more than the whole rest of a `/search` answer, and a regex kept across answers
//! falls back to its slowest engine on accented prose (Unicode word boundaries). Here a term
//! is tried only where its first letter stands at the start of a word, so a matcher costs a
//! few vectors to build and one pass over the text to run. The tests check it against the
//! regex it replaced.

use std::collections::HashMap;
use std::ops::Range;

use super::normalize::{fold_typography, spelling_forms};

/// "LAWS", "PKI", "IoT", "CiM", "5G": a term that names an acronym and must keep its case.
pub fn is_acronym_term(term: &str) -> bool {
    term.split_whitespace().any(|w| {
        let upper = w.chars().filter(|c| c.is_uppercase()).count();
        let letters = w.chars().filter(|c| c.is_alphabetic()).count();
        upper >= 2 || (letters > 0 && upper == letters && w.chars().any(|c| c.is_ascii_digit()))
    })
}

/// One term, ready to be tried at a position of a text.
struct Term {
    /// Each word of the term in every spelling it may take (lower case unless `exact`).
    words: Vec<Vec<String>>,
    /// Acronyms keep their case; other terms match in any case.
    exact: bool,
    /// Ordinary terms ending in a letter or digit (not already in "s") may take "s" or "es".
    plural: bool,
    /// Whether the term ends with a letter or digit, and so must end a word. (One that starts
    /// with one must start a word: `find_from` tries it only there.)
    word_end: bool,
    /// Its position in the list the matcher was made from.
    source: usize,
}

pub struct TermMatcher {
    /// Acronyms first (an acronym in its own case is the surest match), then longest first,
    /// so that "cyber security" wins over "cyber" where both match.
    terms: Vec<Term>,
    /// Which terms may start with a character (lower-cased), in the order of `terms`.
    by_first: HashMap<char, Vec<usize>>,
}

impl TermMatcher {
    pub fn new<S: AsRef<str>>(terms: &[S]) -> TermMatcher {
        let mut built: Vec<(usize, Term)> = terms
            .iter()
            .enumerate()
            .filter_map(|(i, t)| term(t.as_ref(), i))
            .collect();
        built.sort_by_key(|(len, t)| (!t.exact, std::cmp::Reverse(*len)));
        let terms: Vec<Term> = built.into_iter().map(|(_, t)| t).collect();
        let mut by_first: HashMap<char, Vec<usize>> = HashMap::new();
        for (i, t) in terms.iter().enumerate() {
            let mut firsts: Vec<char> = t.words[0]
                .iter()
                .filter_map(|f| f.chars().next())
                .map(lower)
                .collect();
            firsts.dedup();
            for c in firsts {
                let list = by_first.entry(c).or_default();
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
        TermMatcher { terms, by_first }
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.find_iter(text).next().is_some()
    }

    /// Byte ranges of every occurrence, in order, not overlapping: at the leftmost position
    /// where any term matches, the first term (longest) that does.
    pub fn find_iter<'a>(&'a self, text: &'a str) -> impl Iterator<Item = Range<usize>> + 'a {
        self.find_terms(text).map(|(range, _)| range)
    }

    /// As `find_iter`, with which term matched: its position in the list given to `new`.
    pub fn find_terms<'a>(
        &'a self,
        text: &'a str,
    ) -> impl Iterator<Item = (Range<usize>, usize)> + 'a {
        let mut from = 0;
        std::iter::from_fn(move || {
            let found = self.find_from(text, from)?;
            from = found.0.end;
            Some(found)
        })
    }

    fn find_from(&self, text: &str, from: usize) -> Option<(Range<usize>, usize)> {
        let mut prev_is_word = text[..from].chars().next_back().is_some_and(is_word);
        for (at, c) in text[from..].char_indices() {
            let at = from + at;
            let here_is_word = is_word(c);
            // A term starting with a letter or digit needs a word to start here.
            let may_start = !(here_is_word && prev_is_word);
            prev_is_word = here_is_word;
            if !may_start {
                continue;
            }
            let Some(candidates) = self.by_first.get(&lower(c)) else {
                continue;
            };
            for &i in candidates {
                if let Some(end) = self.terms[i].match_at(text, at) {
                    return Some((at..end, self.terms[i].source));
                }
            }
        }
        None
    }
}

/// A term as `Term`, with its length (for the longest-first order); None if it has no words.
fn term(raw: &str, source: usize) -> Option<(usize, Term)> {
    let t = fold_typography(raw);
    let words: Vec<&str> = t
        .split(|c: char| c.is_whitespace() || c == '-')
        .filter(|w| !w.is_empty())
        .collect();
    words.first()?;
    let last_word = words[words.len() - 1];
    let last = last_word.chars().next_back()?;
    let exact = is_acronym_term(&t);
    let forms = |w: &&str| -> Vec<String> {
        if exact {
            vec![w.to_string()]
        } else {
            spelling_forms(w)
        }
    };
    let term = Term {
        words: words.iter().map(forms).collect(),
        exact,
        plural: !exact && last.is_alphanumeric() && !last_word.ends_with('s'),
        word_end: last.is_alphanumeric(),
        source,
    };
    Some((
        words.iter().map(|w| w.len()).sum::<usize>() + words.len(),
        term,
    ))
}

impl Term {
    /// Where this term ends if it occurs at byte `at` of `text` (which starts a word if the
    /// term must).
    fn match_at(&self, text: &str, at: usize) -> Option<usize> {
        self.words_from(text, at, 0)
    }

    /// Matches words `i..` from `at`: each spelling in turn, joiners between words.
    fn words_from(&self, text: &str, at: usize, i: usize) -> Option<usize> {
        let Some(spellings) = self.words.get(i) else {
            return self.ending(text, at);
        };
        for form in spellings {
            let Some(end) = literal(text, at, form, self.exact) else {
                continue;
            };
            let next = if i + 1 < self.words.len() {
                skip_joiners(text, end)
            } else {
                end
            };
            if let Some(done) = self.words_from(text, next, i + 1) {
                return Some(done);
            }
        }
        None
    }

    /// After the last word: a plural if the term may take one, then the end of a word if the
    /// term needs it.
    fn ending(&self, text: &str, at: usize) -> Option<usize> {
        let endings: &[&str] = if self.plural { &["es", "s", ""] } else { &[""] };
        endings.iter().find_map(|suffix| {
            let end = literal(text, at, suffix, false)?;
            (!self.word_end || !text[end..].chars().next().is_some_and(is_word)).then_some(end)
        })
    }
}

/// Where `word` ends if it is at byte `at` of `text`: exactly, or in any case.
fn literal(text: &str, at: usize, word: &str, exact: bool) -> Option<usize> {
    let rest = &text[at..];
    if exact {
        return rest.starts_with(word).then(|| at + word.len());
    }
    let mut chars = rest.char_indices();
    for w in word.chars() {
        let (_, c) = chars.next()?;
        if c != w && lower(c) != w {
            return None;
        }
    }
    Some(at + chars.next().map_or(rest.len(), |(i, _)| i))
}

/// Between the words of a term: nothing, spaces, or any hyphen (the sources use U+2010 too).
fn skip_joiners(text: &str, at: usize) -> usize {
    let rest = &text[at..];
    let skipped = rest
        .find(|c: char| !(c.is_whitespace() || matches!(c, '-' | '\u{2010}' | '\u{2011}')))
        .unwrap_or(rest.len());
    at + skipped
}

/// A character's lower case when it is one character (as case-insensitive matching folds).
fn lower(c: char) -> char {
    let mut l = c.to_lowercase();
    match (l.next(), l.next()) {
        (Some(one), None) => one,
        _ => c,
    }
}

/// Part of a word, as a regex's `\w` has it: letters, digits, combining marks, underscore.
fn is_word(c: char) -> bool {
    c.is_alphanumeric()
        || c == '_'
        || matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The regex this matcher replaced, kept as the specification it is checked against.
    fn reference(terms: &[&str]) -> Option<regex::Regex> {
        const JOINER: &str = r"[\s\-\u{2010}\u{2011}\u{00A0}]*";
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
        let alternatives = |w: &str| {
            let forms: Vec<String> = spelling_forms(w).iter().map(|f| regex::escape(f)).collect();
            format!("(?:{})", forms.join("|"))
        };
        let mut exact = Vec::new();
        let mut any_case = Vec::new();
        for t in terms {
            let t = fold_typography(t);
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
                list.sort_by_key(|p| std::cmp::Reverse(p.len()));
                list.dedup();
                groups.push(format!("(?{flags}:{})", list.join("|")));
            }
        }
        (!groups.is_empty()).then(|| regex::Regex::new(&groups.join("|")).unwrap())
    }

    /// Words built from pieces that meet at hyphens, spaces, accents, case and plurals.
    fn word() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "cyber",
            "Cyber",
            "security",
            "SECURITY",
            "AI",
            "ai",
            "IP",
            "trade",
            "trades",
            "digitalisation",
            "digitalization",
            "e",
            "commerce",
            "LGBTQ+",
            "5G",
            "é",
            "É",
            "IoT",
            "laws",
            "LAWS",
            "es",
            "s",
            "x_",
            "capacity",
            "building",
        ])
        .prop_map(str::to_string)
    }

    fn glue() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "", " ", "-", "\u{2010}", "\u{00A0}", " - ", ", ", ".", "\n", "\u{0301}", "/",
        ])
        .prop_map(str::to_string)
    }

    /// Text made mostly of the terms' own words (changed in case, or followed by endings),
    /// so that near misses are common.
    fn text_about(terms: &[String]) -> impl Strategy<Value = String> {
        let mut pieces: Vec<String> = vec!["es".into(), "s".into(), "é".into(), "x".into()];
        for w in terms.iter().flat_map(|t| t.split(' ')) {
            pieces.extend([w.to_string(), w.to_uppercase(), w.to_lowercase()]);
        }
        prop::collection::vec((prop::sample::select(pieces), glue()), 0..10).prop_map(|parts| {
            parts
                .into_iter()
                .map(|(w, g): (String, String)| w + g.as_str())
                .collect()
        })
    }

    fn terms_and_text() -> impl Strategy<Value = (Vec<String>, String)> {
        prop::collection::vec(
            prop::collection::vec(word(), 1..3).prop_map(|w| w.join(" ")),
            1..4,
        )
        .prop_flat_map(|terms| {
            let text = text_about(&terms);
            (Just(terms), text)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn finds_exactly_what_the_regex_it_replaced_finds((terms, text) in terms_and_text()) {
            let terms: Vec<&str> = terms.iter().map(String::as_str).collect();
            let ours: Vec<Range<usize>> = TermMatcher::new(&terms).find_iter(&text).collect();
            let theirs: Vec<Range<usize>> = reference(&terms)
                .map(|r| r.find_iter(&text).map(|m| m.range()).collect())
                .unwrap_or_default();
            prop_assert_eq!(ours, theirs, "terms {:?} in {:?}", terms, text);
        }
    }

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
