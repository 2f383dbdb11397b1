//! Text normalisation shared by the importer (search copies) and the lookups (user input), so
//! that both sides of every comparison are folded the same way. Pure functions, no I/O.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Characters that carry no meaning for matching but can hide inside pasted text: zero-width
/// spaces and joiners, the BOM, and bidi controls (a user can paste `W\u{200B}IPO`).
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}' | '\u{034F}' | '\u{180E}')
}

/// Folds typography to ASCII where the sources and users disagree, keeping case and letters:
/// NBSP and other spaces → space, U+2010…U+2015 dashes → '-', curly quotes → straight ones,
/// invisible characters dropped, runs of white space collapsed, ends trimmed.
pub fn fold_typography(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if is_invisible(c) {
            continue;
        }
        let c = match c {
            '\u{00A0}'
            | '\u{2000}'..='\u{200A}'
            | '\u{202F}'
            | '\u{205F}'
            | '\u{3000}'
            | '\t'
            | '\n'
            | '\r' => ' ',
            '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2212}' => '-',
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' => '\'',
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' => '"',
            c => c,
        };
        if c == ' ' {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

/// The search copy of a text: typography folded, compatibility forms read as their letters,
/// accents removed, lower case. "Varembé" → "varembe", "capacity‐building" (U+2010) →
/// "capacity-building", "ﬁnance" → "finance", "ＷＩＰＯ" (full width) → "wipo".
pub fn search_text(s: &str) -> String {
    let folded = fold_typography(s);
    folded
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// A key for exact name matching: search text with punctuation turned into single spaces, so
/// that "Organisation/Organization" variants still differ but "U.N." ≈ "un", "ISO/IEC" ≈ "iso iec",
/// and "Da’esh" ≈ "da'esh" ≈ "daesh" do not (apostrophes are dropped, not spaced).
pub fn name_key(s: &str) -> String {
    let text = search_text(&without_possessive(&singular_acronyms(s)));
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        if c == '\'' || c == '.' {
            continue;
        }
        if c.is_alphanumeric() || c == '+' {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        } else {
            pending_space = true;
        }
    }
    expand_abbreviations(out)
}

/// "SDGs", "NGOs", "CERTs": an acronym's plural is the acronym (two or more capitals or
/// digits, then a lower-case s).
fn singular_acronyms(s: &str) -> std::borrow::Cow<'_, str> {
    static PLURAL: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"\b([A-Z][A-Z0-9]+)s\b").unwrap());
    PLURAL.replace_all(s, "$1")
}

/// "WIPO's", "UNICC’s": the name, not a possessive of it.
fn without_possessive(s: &str) -> std::borrow::Cow<'_, str> {
    static POSSESSIVE: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"(\w)['’]s\b").unwrap());
    POSSESSIVE.replace_all(s, "$1")
}

/// Abbreviations people write in names, as the word (keys have no dots or apostrophes:
/// "Int'l" is "intl", "Org." is "org").
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("intl", "international"),
    ("int", "international"),
    ("org", "organization"),
    ("orgs", "organizations"),
    ("assoc", "association"),
    ("assn", "association"),
    ("dept", "department"),
    ("univ", "university"),
    ("natl", "national"),
    ("govt", "government"),
    ("inst", "institute"),
    ("ctr", "center"),
    ("cttee", "committee"),
    ("fdn", "foundation"),
];

fn expand_abbreviations(key: String) -> String {
    if !key
        .split(' ')
        .any(|w| ABBREVIATIONS.iter().any(|(a, _)| *a == w))
    {
        return key;
    }
    key.split(' ')
        .map(|w| {
            ABBREVIATIONS
                .iter()
                .find(|(a, _)| *a == w)
                .map_or(w, |(_, full)| *full)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A key that ignores all spacing and punctuation: the way to see that the glued scrape
/// "WIPO’sactivitiesregarding" and the clean "WIPO’s activities regarding" are one paragraph.
pub fn squash_key(s: &str) -> String {
    search_text(s)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// British and American spellings that users mix freely ("Organisation"/"Organization"),
/// folded to one form for fuzzy name matching only.
pub fn spelling_key(s: &str) -> String {
    let key = name_key(s);
    key.split(' ')
        .map(|w| {
            let w = w.replace("isation", "ization").replace("ise", "ize");
            match w.as_str() {
                "centre" => "center".to_string(),
                "programme" => "program".to_string(),
                "telecommunications" => "telecommunication".to_string(),
                _ => w,
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whole words whose British and American forms differ by more than a suffix rule.
const SPELLING_PAIRS: &[(&str, &str)] = &[
    ("programme", "program"),
    ("programmes", "programs"),
    ("catalogue", "catalog"),
    ("dialogue", "dialog"),
    ("defence", "defense"),
    ("licence", "license"),
    ("offence", "offense"),
    ("travelled", "traveled"),
    ("modelling", "modeling"),
    ("labelled", "labeled"),
    ("cancelled", "canceled"),
    ("judgement", "judgment"),
    ("ageing", "aging"),
];

/// One spelling for a lower-case word of either English: "organisation", "labour", "centre",
/// "analyse", "programme" → "organization", "labor", "center", "analyze", "program". Applied
/// the same way to the search copy of the sources and to what people type, so a rule that
/// also folds an unrelated word ("enterprise" → "enterprize") merges nothing that differs.
pub fn fold_spelling(word: &str) -> String {
    if let Some((_, us)) = SPELLING_PAIRS.iter().find(|(uk, _)| *uk == word) {
        return us.to_string();
    }
    let n = word.chars().count();
    if n < 5 || !word.is_ascii() {
        return word.to_string();
    }
    const SUFFIXES: &[(&str, &str)] = &[
        ("isations", "izations"),
        ("isation", "ization"),
        ("ising", "izing"),
        ("ised", "ized"),
        ("ises", "izes"),
        ("ise", "ize"),
        ("yse", "yze"),
        ("ysed", "yzed"),
        ("ours", "ors"),
        ("our", "or"),
        ("tres", "ters"),
        ("tre", "ter"),
    ];
    for (uk, us) in SUFFIXES {
        if let Some(stem) = word.strip_suffix(uk) {
            // "hour", "four", "tour" are too short to reach here; "our" needs a real stem.
            if stem.len() >= 2 {
                return format!("{stem}{us}");
            }
        }
    }
    word.to_string()
}

/// The written forms that fold to the same spelling as `word` (itself, the American and the
/// British form): what a highlighter must accept for it. Extra forms that no text uses
/// ("actour") are harmless there.
pub fn spelling_forms(word: &str) -> Vec<String> {
    let lower = word.to_lowercase();
    let us = fold_spelling(&lower);
    let mut forms = vec![lower.clone(), us.clone()];
    if let Some((uk, _)) = SPELLING_PAIRS.iter().find(|(_, a)| *a == us) {
        forms.push(uk.to_string());
    }
    const BACK: &[(&str, &str)] = &[
        ("izations", "isations"),
        ("ization", "isation"),
        ("izing", "ising"),
        ("ized", "ised"),
        ("izes", "ises"),
        ("ize", "ise"),
        ("yze", "yse"),
        ("ors", "ours"),
        ("or", "our"),
        ("ters", "tres"),
        ("ter", "tre"),
    ];
    if us.len() >= 5 {
        if let Some((a, b)) = BACK.iter().find(|(a, _)| us.ends_with(a)) {
            forms.push(format!("{}{b}", &us[..us.len() - a.len()]));
        }
    }
    forms.sort();
    forms.dedup();
    forms
}

/// The search copy of a passage: `search_text`, every word in one spelling, and the joined form
/// of each hyphenated compound appended ("e-commerce" also as "ecommerce", "cyber-security" as
/// "cybersecurity"), so that the way a user writes a compound does not decide what is found.
pub fn search_copy(s: &str) -> String {
    let text = search_text(s);
    let mut out = String::with_capacity(text.len() + 16);
    let mut joined: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut compound = String::new();
    let mut parts = 0usize;
    let flush_word = |out: &mut String, word: &mut String| {
        if !word.is_empty() {
            out.push_str(&fold_spelling(word));
            word.clear();
        }
    };
    let mut prev: Option<char> = None;
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_alphanumeric() {
            word.push(c);
            compound.push(c);
        } else {
            flush_word(&mut out, &mut word);
            out.push(c);
            let next = chars.get(i + 1).copied();
            let inner_hyphen = c == '-'
                && prev.is_some_and(char::is_alphanumeric)
                && next.is_some_and(char::is_alphanumeric);
            if inner_hyphen {
                parts += 1;
            } else {
                if parts > 0 {
                    joined.push(fold_spelling(&compound));
                }
                compound.clear();
                parts = 0;
            }
        }
        prev = Some(c);
    }
    flush_word(&mut out, &mut word);
    if parts > 0 {
        joined.push(fold_spelling(&compound));
    }
    for j in joined {
        out.push(' ');
        out.push_str(&j);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nbsp_hyphens_and_quotes_fold_to_ascii() {
        assert_eq!(
            fold_typography("capacity\u{2010}building"),
            "capacity-building"
        );
        assert_eq!(fold_typography("IEC 62443\u{00A0}and"), "IEC 62443 and");
        assert_eq!(
            fold_typography("WIPO\u{2019}s  \u{00A0} work "),
            "WIPO's work"
        );
    }

    #[test]
    fn search_text_drops_accents_and_case() {
        assert_eq!(search_text("3 rue de Varembé"), "3 rue de varembe");
        assert_eq!(
            search_text("Géopolitique de la Datasphère"),
            "geopolitique de la datasphere"
        );
    }

    #[test]
    fn invisible_characters_are_ignored() {
        assert_eq!(name_key("W\u{200B}I\u{202E}PO"), "wipo");
        assert_eq!(name_key("\u{FEFF}ISO"), "iso");
    }

    #[test]
    fn name_key_splits_on_punctuation_but_drops_apostrophes() {
        assert_eq!(name_key("ISO/IEC 27001"), "iso iec 27001");
        assert_eq!(name_key("Da’esh/ISIL"), "daesh isil");
        assert_eq!(name_key("  U.N. "), "un");
    }

    #[test]
    fn squash_key_sees_through_glued_words() {
        assert_eq!(
            squash_key("WIPO’sactivitiesregarding the Domain Name System(DNS)"),
            squash_key("WIPO’s activities regarding the Domain Name System (DNS)")
        );
    }

    #[test]
    fn british_and_american_words_fold_to_one_spelling() {
        for (uk, us) in [
            ("organisation", "organization"),
            ("digitalisation", "digitalization"),
            ("labour", "labor"),
            ("centre", "center"),
            ("programme", "program"),
            ("defence", "defense"),
            ("analyse", "analyze"),
            ("behaviour", "behavior"),
        ] {
            assert_eq!(fold_spelling(uk), fold_spelling(us), "{uk} / {us}");
            assert!(spelling_forms(us).contains(&uk.to_string()), "{us} → {uk}");
            assert!(spelling_forms(uk).contains(&us.to_string()), "{uk} → {us}");
        }
        assert_eq!(fold_spelling("four"), "four");
        assert_eq!(fold_spelling("hour"), "hour");
    }

    #[test]
    fn the_search_copy_joins_compounds_and_folds_spelling() {
        assert_eq!(
            search_copy("E-commerce for the Labour Centre"),
            "e-commerce for the labor center ecommerce"
        );
        assert_eq!(
            search_copy("capacity\u{2010}building, cyber-security."),
            "capacity-building, cyber-security. capacitybuilding cybersecurity"
        );
        assert_eq!(search_copy("a - b"), "a - b");
    }

    #[test]
    fn spelling_key_folds_british_and_american_forms() {
        assert_eq!(
            spelling_key("World Intellectual Property Organisation"),
            spelling_key("World Intellectual Property Organization")
        );
        assert_eq!(
            spelling_key("International Computing Centre"),
            "international computing center"
        );
    }
}
