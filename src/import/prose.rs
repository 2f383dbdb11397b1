//! Prose handling for every source format: reading lines, telling headings from paragraphs,
//! recognising scrape junk, cutting sentences. Pure functions; formats build on them.

use crate::search::normalize::fold_typography;

/// One line of a source file, trimmed of NBSP and white space, with its 1-based number.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub number: usize,
    pub text: String,
}

/// Splits a file into numbered lines, trimming each (NBSP included) but keeping inner text as
/// written. The last line counts even without a trailing newline (none of the sources has one).
pub fn lines(content: &str) -> Vec<Line> {
    content
        .split('\n')
        .enumerate()
        .map(|(i, l)| Line {
            number: i + 1,
            text: trim(l).to_string(),
        })
        .collect()
}

/// Trims white space including NBSP and the zero-width characters scrapes leave at line ends.
pub fn trim(s: &str) -> &str {
    s.trim_matches(|c: char| {
        c.is_whitespace() || c == '\u{00A0}' || c == '\u{200B}' || c == '\u{FEFF}'
    })
}

/// Words after which a line cannot end a sentence: a line ending in one was cut off.
const DANGLING: &[&str] = &[
    "the", "of", "a", "an", "and", "or", "to", "in", "for", "with", "on", "by", "as", "at", "from",
    "that", "such",
];

fn last_char(s: &str) -> Option<char> {
    fold_typography(s)
        .trim_end_matches(['"', '\'', ')', ']', '*'])
        .chars()
        .last()
}

/// True when the text ends a sentence (., !, ?, :, ;, or an ellipsis), looking through closing
/// quotes and brackets.
pub fn ends_sentence(s: &str) -> bool {
    matches!(last_char(s), Some('.' | '!' | '?' | ':' | ';' | '…'))
}

/// True when a paragraph was visibly cut off in the source: it ends without punctuation after a
/// word that cannot end a sentence ("… co-lead of the"), or on an open bracket.
pub fn is_truncated(s: &str) -> bool {
    let t = fold_typography(s);
    if t.ends_with('(') || t.ends_with('[') {
        return true;
    }
    if ends_sentence(&t) {
        return false;
    }
    let open = t.matches('(').count();
    let close = t.matches(')').count();
    if open > close && t.len() > 40 {
        return true;
    }
    let last = t.rsplit(' ').next().unwrap_or("").to_lowercase();
    DANGLING.contains(&last.as_str())
}

/// A bullet line ("• item", "- item", "– item") and its text without the bullet.
pub fn strip_bullet(s: &str) -> Option<&str> {
    for b in ["• ", "•", "– ", "- ", "* "] {
        if let Some(rest) = s.strip_prefix(b) {
            // "• – The Institute issued…": a bullet and a dash.
            let rest = trim(rest);
            return Some(strip_bullet(rest).unwrap_or(rest));
        }
    }
    None
}

/// Whether a line looks like a heading: short, starts with a capital letter or digit, has no
/// sentence-final punctuation and does not end on a dangling word. Whether it *is* an issue
/// heading is decided by the taxonomy's heading map, not by looks.
pub fn looks_like_heading(s: &str) -> bool {
    let t = trim(s);
    let first = t.chars().next();
    !t.is_empty()
        && t.chars().count() <= 120
        && t.split_whitespace().count() <= 16
        && first.is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
        && !ends_sentence(t)
        && !is_truncated(t)
        && !t.ends_with(',')
        && strip_bullet(t).is_none()
}

/// What kind of web-scrape junk a line is, if it is junk: navigation, cookie banners, dangling
/// link texts, photo credits. Returned as a short reason for the import report.
pub fn junk_kind(s: &str) -> Option<&'static str> {
    let t = fold_typography(s);
    let lower = t.to_lowercase();
    if lower == "skip to content" {
        return Some("navigation link");
    }
    if lower.starts_with("we use cookies") || lower.contains("you are happy with it") {
        return Some("cookie banner");
    }
    if lower.starts_with("for more information, and to register") {
        return Some("registration link text");
    }
    if (lower.starts_with("for more information, visit")
        || lower.starts_with("for more tools and resources"))
        && lower.len() < 140
    {
        return Some("dangling link text");
    }
    if lower.starts_with("read the ") && lower.ends_with(" story here.")
        || lower.contains("story here and ")
    {
        return Some("dangling link text");
    }
    if lower.starts_with("watch the recorded event on") {
        return Some("dangling link text");
    }
    if lower.starts_with("photo:") || lower.starts_with("credit:") {
        return Some("photo credit");
    }
    None
}

/// Removes trailing link prompts that scrapes leave inside paragraphs ("… technology.Read more
/// here.", "… Read more here,") while keeping the sentence itself.
pub fn strip_link_prompts(s: &str) -> String {
    let mut t = s.to_string();
    for prompt in [
        "Read more here.",
        "Read more here,",
        "Read more here",
        "For more information, visit the UNICC website.",
    ] {
        if let Some(pos) = t.rfind(prompt) {
            if pos + prompt.len() >= t.len() - 1 {
                t.truncate(pos);
            }
        }
    }
    trim(&t).to_string()
}

/// Abbreviations after which a period does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "e.g", "i.e", "etc", "i.a", "Ms", "Mr", "Dr", "No", "vs", "St", "Av", "approx", "U.S", "Inc",
    "Ltd",
];

/// Splits a paragraph into sentences, keeping each as written. Handles glued sentences
/// ("architecture.Standards"), abbreviations ("e.g.") and decimal numbers ("AIDA 2.0").
pub fn sentences(text: &str) -> Vec<&str> {
    let bytes: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let (pos, c) = bytes[i];
        if matches!(c, '.' | '!' | '?') {
            let next = bytes.get(i + 1).map(|&(_, n)| n);
            let abbreviation = c == '.' && ends_in_abbreviation(&text[start..pos]);
            let boundary = match next {
                None => true,
                Some(n) if n.is_whitespace() => {
                    // A lower-case word after the period continues the sentence ("approx. five").
                    let after = text[pos + c.len_utf8()..].trim_start().chars().next();
                    !abbreviation && !after.is_some_and(|a| a.is_lowercase())
                }
                // Glued sentences: "architecture.Standards", "(PIMS).Network", "it.Ok".
                Some(n) if n.is_uppercase() && c == '.' => {
                    let before = text[..pos].chars().last();
                    !abbreviation && before.is_some_and(|b| b.is_lowercase() || b == ')')
                }
                // An abbreviation closing a bracket or quote ends neither ("… etc.) and more").
                Some('"' | '\'' | '’' | '”' | ')') if abbreviation => false,
                Some('"' | '\'' | '’' | '”' | ')') => {
                    // Sentence ends after the closing quote/bracket.
                    let after = bytes.get(i + 2).map(|&(_, a)| a);
                    if after.is_none_or(char::is_whitespace) {
                        i += 1;
                        let end = bytes[i].0 + bytes[i].1.len_utf8();
                        push_sentence(&mut out, &text[start..end]);
                        start = end;
                        i += 1;
                        continue;
                    }
                    false
                }
                _ => false,
            };
            if boundary {
                let end = pos + c.len_utf8();
                push_sentence(&mut out, &text[start..end]);
                start = end;
            }
        }
        i += 1;
    }
    if start < text.len() {
        push_sentence(&mut out, &text[start..]);
    }
    out
}

/// Whether the period after `before` (the sentence so far) closes an abbreviation or a list
/// number rather than the sentence.
fn ends_in_abbreviation(before: &str) -> bool {
    let prev_word = before
        .rsplit(|ch: char| ch.is_whitespace() || ch == '(')
        .next()
        .unwrap_or("");
    // "6. Embrace quantum computing": a list number is not a sentence.
    let list_number = start_is_blank(before)
        && !prev_word.is_empty()
        && prev_word.chars().all(|d| d.is_ascii_digit());
    list_number
        || ABBREVIATIONS
            .iter()
            .any(|a| prev_word.eq_ignore_ascii_case(a))
}

/// The first sentence of a paragraph (the whole paragraph when it has none), for summaries.
pub fn first_sentence(text: &str) -> &str {
    sentences(text).first().copied().unwrap_or(text)
}

/// True when `s` holds a single word (what precedes a period at the start of a sentence).
fn start_is_blank(s: &str) -> bool {
    s.split_whitespace().count() <= 1
}

fn push_sentence<'a>(out: &mut Vec<&'a str>, s: &'a str) {
    let s = trim(s);
    if !s.is_empty() {
        out.push(s);
    }
}

/// The sentence of `text` that contains byte offset `at` (for quoting a match).
pub fn sentence_at(text: &str, at: usize) -> &str {
    for s in sentences(text) {
        // `sentences` returns sub-slices of `text`, so their positions are recoverable.
        let end = s.as_ptr() as usize - text.as_ptr() as usize + s.len();
        if at < end {
            return s;
        }
    }
    trim(text)
}

/// A photo's caption or a heading, not a sentence: it starts in lower case, or is a few words
/// with no stop ("virtual meeting climate change", under "Photo: …"). Weak evidence.
pub fn caption_like(sentence: &str) -> bool {
    let t = sentence.trim();
    let lower_start = t.chars().next().is_some_and(char::is_lowercase);
    let no_stop = !t.ends_with(['.', '!', '?', ':', ';', '…', ')', '"', '”', '’']);
    lower_start || (no_stop && t.split_whitespace().count() < 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_from_one_and_the_last_line_counts_without_newline() {
        let ls = lines("a\n\nSkip to content");
        assert_eq!(ls.len(), 3);
        assert_eq!(
            ls[2],
            Line {
                number: 3,
                text: "Skip to content".into()
            }
        );
    }

    #[test]
    fn headings_are_short_capitalised_and_unpunctuated() {
        assert!(looks_like_heading(
            "Network security/critical infrastructure/cybersecurity"
        ));
        assert!(looks_like_heading("UNDP’s AIDA portal\u{00A0}"));
        assert!(!looks_like_heading(
            "ISO develops standards in the area of emerging technologies.\u{00A0}"
        ));
        assert!(!looks_like_heading(
            "Examples of the Institute’s work in this regard:"
        ));
        assert!(!looks_like_heading("UNCTAD serves as co-lead of the"));
        assert!(!looks_like_heading("  • WIPO GREEN – online marketplace"));
    }

    #[test]
    fn truncated_paragraphs_are_recognised() {
        assert!(is_truncated("UNCTAD serves as co-lead of the"));
        assert!(is_truncated(
            "Various publications have been issued that explore topics such as the"
        ));
        assert!(is_truncated("– The Institute issued a Statement at the Ad Hoc Committee to Elaborate a Comprehensive International Convention on Countering the Use of Information and Communications Technologies for Criminal Purposes (Cybercrime Convention"));
        assert!(is_truncated("Watch the recorded event on: UN WebTV ("));
        assert!(!is_truncated("Future of work"));
        assert!(!is_truncated("The end."));
    }

    #[test]
    fn junk_is_recognised_with_a_reason() {
        assert_eq!(junk_kind("Skip to content"), Some("navigation link"));
        assert_eq!(
            junk_kind("We use cookies to ensure that we give you the best experience on our website. If you continue to use this site we will assume that you are happy with it.Ok"),
            Some("cookie banner")
        );
        assert_eq!(junk_kind("Photo: UNICC/Thomsen"), Some("photo credit"));
        assert_eq!(junk_kind("The IEC develops standards."), None);
    }

    #[test]
    fn link_prompts_are_cut_from_paragraph_ends() {
        assert_eq!(
            strip_link_prompts("with this innovative technology.Read more here."),
            "with this innovative technology."
        );
        assert_eq!(
            strip_link_prompts("Read more here about it, said nobody."),
            "Read more here about it, said nobody."
        );
    }

    #[test]
    fn sentences_split_on_glued_periods_but_not_on_abbreviations() {
        let s = sentences("It covers architecture.Standards under development include (e.g. ISO/IEC 22123-2). AIDA 2.0 is new.");
        assert_eq!(
            s,
            vec![
                "It covers architecture.",
                "Standards under development include (e.g. ISO/IEC 22123-2).",
                "AIDA 2.0 is new."
            ]
        );
    }

    /// Regression (answer quality, class 4): "etc.)", "e.g.", "U.S." and "No." ended sentences.
    #[test]
    fn abbreviations_do_not_end_sentences_even_before_a_bracket() {
        assert_eq!(
            sentences("WIPO covers IP (patents, copyright, etc.) and policy. It also helps the U.S. and others, e.g. No. 5 of the list. Next one."),
            vec![
                "WIPO covers IP (patents, copyright, etc.) and policy.",
                "It also helps the U.S. and others, e.g. No. 5 of the list.",
                "Next one."
            ]
        );
    }

    #[test]
    fn list_numbers_do_not_end_sentences() {
        assert_eq!(
            sentences("6. Embrace quantum computing (QC). How best to embrace it?"),
            vec![
                "6. Embrace quantum computing (QC).",
                "How best to embrace it?"
            ]
        );
    }

    #[test]
    fn sentence_at_finds_the_sentence_around_an_offset() {
        let text = "First one. Second one has ISO 27001. Third.";
        let at = text.find("ISO").unwrap();
        assert_eq!(sentence_at(text, at), "Second one has ISO 27001.");
    }
}
