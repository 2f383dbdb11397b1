//! /actor <name> fact:<…>: one fact about an actor, as the sources state it — the line of its
//! profile that states it ("Established: 1906"), else the sentences of its text that do — or
//! a plain "the sources don't say". Nothing is inferred: what is shown is a line of the
//! sources, the part that answers marked, with where it is written.

use std::sync::LazyLock;

use regex::Regex;

use super::display_name;
use crate::atlas::views::ActorRow;
use crate::atlas::Atlas;
use crate::commands::cite;
use crate::import::prose;
use crate::reply::{Item, Reply, Span, Text};
use crate::search::normalize::name_key;

/// The facts a member can ask of an actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fact {
    Founded,
    Address,
    Website,
    /// Its name in full: what its acronym stands for.
    Name,
    Members,
    /// The people who work for it or with it (staff, experts).
    People,
}

/// Sentences shown for a fact stated in prose.
const SHOWN: usize = 3;

impl Fact {
    const ALL: [Fact; 6] = [
        Fact::Founded,
        Fact::Address,
        Fact::Website,
        Fact::Name,
        Fact::Members,
        Fact::People,
    ];

    /// The fact an option's value names (as `as_str` writes it), in any case.
    pub fn parse(s: &str) -> Option<Fact> {
        let s = s.trim().to_lowercase();
        Fact::ALL.into_iter().find(|f| f.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Fact::Founded => "founded",
            Fact::Address => "address",
            Fact::Website => "website",
            Fact::Name => "name",
            Fact::Members => "members",
            Fact::People => "people",
        }
    }

    /// The question, as the answer repeats it ("when UNICC was founded").
    fn question(self, who: &str) -> String {
        match self {
            Fact::Founded => format!("when {who} was founded"),
            Fact::Address => format!("where {who} is based"),
            Fact::Website => format!("{who}'s website"),
            Fact::Name => format!("what {who} stands for"),
            Fact::Members => format!("how many members {who} has"),
            Fact::People => format!("how many people work for or with {who}"),
        }
    }

    /// The pattern of a sentence that states the fact; its first group is the answer's part
    /// to mark. Website has none: a website is a profile line or nothing.
    fn pattern(self) -> Option<&'static Regex> {
        match self {
            Fact::Founded => Some(&FOUNDED),
            Fact::Address => Some(&BASED),
            Fact::Members => Some(&MEMBERS),
            Fact::People => Some(&PEOPLE),
            Fact::Website | Fact::Name => None,
        }
    }
}

static FOUNDED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)(?:(?:was|were|has been|had been)\s+)?(?:founded|established|created|set up|formed|born|launched)\s+(?:in\s+|on\s+)?(?:\d{1,2}\s+)?(?:[A-Z][a-z]+\s+)?((?:19|20)\d\d)(?-u:\b)|(?-u:\b)since\s+(?:its|our|their)\s+(?:founding|foundation|creation|establishment|inception)\s+in\s+((?:19|20)\d\d)(?-u:\b)|(?-u:\b)(?:has|have|with|brings)\s+((?:over|more than|nearly|almost|some)\s+\d{1,3}\s+years)\s+of\s+(?:experience|history|existence)(?-u:\b)")
        .expect("a valid pattern")
});

static BASED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)(?:based|headquartered|located|seated|has its (?:headquarters|seat|offices?))\s+in\s+((?:[A-Z][\w'’-]*)(?:,?\s+[A-Z][\w'’-]*){0,3})")
        .expect("a valid pattern")
});

/// A number as the sources write a count ("more than 20,000", "over 90", "1500").
const A_COUNT: &str = r"(?:over |more than |some |about |around |nearly |almost )?\d+(?:,\d{3})*";

/// A count, then up to five words ("39 small island and coastal developing states"), then a
/// noun of members — "countries" alone is not one ("alumni from 163 countries", "a
/// framework to over 170 countries" count where people are, not members), nor is a count
/// after "from", "in", "to" (group `not`).
static MEMBERS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"(?i)(?P<not>(?-u:\b)(?:from|in|across|to|into|throughout)\s+)?(?-u:\b)({A_COUNT}(?:\s+[\w-]+){{0,5}}?\s+(?:member states|member countries|members|member organi[sz]ations|states|national (?:standards )?bodies))(?-u:\b)"))
        .expect("a valid pattern")
});

/// A count, then up to three words, then a noun of people working for or with it.
static PEOPLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"(?i)(?-u:\b)({A_COUNT}(?:\s+[\w-]+){{0,3}}?\s+(?:staff(?: members)?|employees|experts|personnel|professionals|specialists|volunteers|researchers|people))(?-u:\b)"))
        .expect("a valid pattern")
});

/// How a body's own text begins a sentence about itself ("It currently has 193 member
/// states", "The organisation was established in 1967"): with its names, what makes a
/// sentence of its text about it rather than about a treaty or a partner it names.
static ITSELF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\W*(?:it|its|we|our|the (?:organi[sz]ation|institute|forum|foundation|centre|center|commission|conference|agency|union|body))(?-u:\b)")
        .expect("a valid pattern")
});

/// The answer to `fact` about `a`.
pub fn answer(atlas: &Atlas, a: &ActorRow, fact: Fact) -> Reply {
    let who = display_name(a);
    let items = match stated(atlas, a, fact) {
        Some(item) => vec![item],
        None => said_in_prose(atlas, a, fact),
    };
    if items.is_empty() {
        return not_said(a, fact);
    }
    let mut r = Reply::answer(format!("{} — {}", who, heading(fact)));
    r.subtitle = Some(format!("Asked: {}", fact.question(&who)));
    r = r.section("What the sources say", items);
    r.suggestions = vec![format!("/actor {who}")];
    r
}

/// Longest thing counted ("partners", "member organisations"), in words and letters.
pub const MAX_COUNTED_WORDS: usize = 3;
pub const MAX_COUNTED_CHARS: usize = 40;

/// "How many partners does UNICC have": the sentences about it that give a number of
/// `what` (singular or plural), the count marked; else "the sources don't say".
pub fn count(atlas: &Atlas, a: &ActorRow, what: &str) -> Reply {
    let who = display_name(a);
    let what = what.trim().to_lowercase();
    let items = counting(&what)
        .map(|p| stated_in_prose(atlas, a, &p))
        .unwrap_or_default();
    if items.is_empty() {
        return Reply::not_found(format!(
            "The sources give no number of {what} for {who}. What they say of {who}: /actor {who}"
        ));
    }
    let mut r = Reply::answer(format!("{who} — {what}"));
    r.subtitle = Some(format!("Asked: how many {what}, for {who}"));
    r = r.section("What the sources say", items);
    r.suggestions = vec![format!("/actor {who}")];
    r
}

/// The pattern of a count of `what`: a number, up to three words, then the noun in either
/// number ("client" and "clients"). Unlike members, any count of the noun answers ("works in
/// 170 countries"). None for what is not a few plain words.
fn counting(what: &str) -> Option<Regex> {
    let words: Vec<&str> = what.split_whitespace().collect();
    let plain = words
        .iter()
        .all(|w| w.chars().all(|c| c.is_alphabetic() || c == '-'));
    if words.is_empty() || words.len() > MAX_COUNTED_WORDS || !plain {
        return None;
    }
    let phrase = words
        .iter()
        .map(|w| regex::escape(w))
        .collect::<Vec<_>>()
        .join(r"\s+");
    let stem = phrase.strip_suffix('s').unwrap_or(&phrase);
    Regex::new(&format!(
        r"(?i)(?-u:\b)({A_COUNT}(?:\s+[\w-]+){{0,3}}?\s+{stem}(?:s|es)?)(?-u:\b)"
    ))
    .ok()
}

fn heading(fact: Fact) -> &'static str {
    match fact {
        Fact::Founded => "founded",
        Fact::Address => "address",
        Fact::Website => "website",
        Fact::Name => "name in full",
        Fact::Members => "members",
        Fact::People => "people (staff, experts)",
    }
}

/// "The sources don't say …", with the card to see what they do say.
fn not_said(a: &ActorRow, fact: Fact) -> Reply {
    let who = display_name(a);
    Reply::not_found(format!(
        "The sources don't say {}. What they say of {who}: /actor {who}",
        fact.question(&who)
    ))
}

/// The profile's own line for the fact, cited ("Established: 1906" → "Founded in 1906").
fn stated(atlas: &Atlas, a: &ActorRow, fact: Fact) -> Option<Item> {
    let facts = atlas.stated_facts(a.id);
    let line = |kind: &str| facts.iter().find(|f| f.0 == kind);
    let (text, file, n) = match fact {
        Fact::Founded => line("founded").map(|f| (founded_in(a, &f.1), &f.2, f.3))?,
        Fact::Address => line("address").map(|f| (f.1.clone(), &f.2, f.3))?,
        Fact::Website => line("website").map(|f| (f.1.clone(), &f.2, f.3))?,
        Fact::Name => return name_in_full(atlas, a, &facts),
        Fact::Members | Fact::People => return None,
    };
    Some(Item::new(text).source(cite(file, n)))
}

/// "Founded in 1906" for a profile's "Established: 1906"; a year read from a sentence
/// ("Since 2003 ICT4Peace explores …") is given with the sentence, which may say less than
/// a founding.
fn founded_in(a: &ActorRow, year: &str) -> String {
    match a.founded_evidence.as_deref() {
        Some(e) if !e.trim_start().starts_with("Established") => {
            format!("{year}, as the sources put it: “{}”", e.trim())
        }
        _ => format!("Founded in {year}"),
    }
}

/// What its acronym stands for: the name its profile states, else a name of it the sources
/// write in full, else a curated alias whose initials spell the acronym (marked curated).
fn name_in_full(
    atlas: &Atlas,
    a: &ActorRow,
    facts: &[(&'static str, String, String, i64)],
) -> Option<Item> {
    if let Some((_, name, file, n)) = facts.iter().find(|f| f.0 == "name") {
        if a.acronym.as_deref() != Some(name.as_str()) {
            return Some(Item::new(name.clone()).source(cite(file, *n)));
        }
    }
    let acronym = a.acronym.clone().unwrap_or_else(|| a.name.clone());
    if let Some(full) = a.full_name.as_ref().filter(|f| **f != acronym) {
        // Where the sources write it in full, rather than the curated entry.
        let written = atlas
            .mentions_most_about(a.id, 50)
            .into_iter()
            .find(|m| m.sentence.contains(full.as_str()));
        let source = written.map_or(a.provenance.clone(), |m| cite(&m.file, m.line));
        return Some(Item::new(full.clone()).source(source));
    }
    atlas
        .names_of(a.id)
        .into_iter()
        .find(|(name, kind)| *kind == "alias" && spells(&acronym, name))
        .map(|(name, _)| {
            Item::new(format!(
                "{name} (curated: the sources do not write it in full)"
            ))
            .source("data/actors.toml")
        })
}

/// Whether `name`'s words begin with the letters of `acronym`, in order, from some word on:
/// every word of the run counts except little words ("of", "for", "the"), which may be
/// skipped ("Geneva Centre for the Democratic Control of Armed Forces" spells DCAF; "United
/// Nations Conference on Trade and Development" spells UNCTAD).
pub(crate) fn spells(acronym: &str, name: &str) -> bool {
    let letters: Vec<char> = acronym
        .chars()
        .filter(|c| c.is_alphabetic())
        .flat_map(char::to_lowercase)
        .collect();
    let words: Vec<String> = name_key(name).split(' ').map(str::to_string).collect();
    if letters.len() < 2 || words.is_empty() {
        return false;
    }
    (0..words.len()).any(|start| spells_from(&letters, &words[start..]))
}

fn spells_from(letters: &[char], words: &[String]) -> bool {
    const LITTLE: &[&str] = &[
        "of", "for", "the", "and", "on", "in", "de", "la", "du", "des", "pour", "le", "et",
    ];
    match (letters.split_first(), words.split_first()) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some((c, rest)), Some((w, more))) => {
            let little = LITTLE.contains(&w.as_str());
            (w.starts_with(*c) && spells_from(rest, more)) || (little && spells_from(letters, more))
        }
    }
}

/// The sentences of its text (then of others' text naming it) that state the fact, the
/// answering part marked, at most `SHOWN`.
fn said_in_prose(atlas: &Atlas, a: &ActorRow, fact: Fact) -> Vec<Item> {
    match fact.pattern() {
        Some(pattern) => stated_in_prose(atlas, a, pattern),
        None => Vec::new(),
    }
}

/// The sentences about the actor that `pattern` finds stating a fact (`stating`).
fn stated_in_prose(atlas: &Atlas, a: &ActorRow, pattern: &Regex) -> Vec<Item> {
    let names = names_written(atlas, a);
    let mut items: Vec<Item> = Vec::new();
    // A paragraph is split into sentences only when the pattern is in it somewhere.
    for (text, file, line) in atlas.text_of(a.id) {
        if !pattern.is_match(text) {
            continue;
        }
        for s in prose::sentences(text) {
            if let Some(t) = stating(pattern, s, &names, true) {
                push_once(&mut items, t, file, line);
            }
        }
    }
    // Others' sentences count only when they name it before the fact.
    for m in atlas.mentions_most_about(a.id, 50) {
        if let Some(t) = stating(
            pattern,
            &m.sentence,
            std::slice::from_ref(&m.written_as),
            false,
        ) {
            push_once(&mut items, t, &m.file, m.line);
        }
    }
    items.truncate(SHOWN);
    items
}

fn push_once(items: &mut Vec<Item>, text: Text, file: &str, line: i64) {
    let source = cite(file, line);
    if items.iter().all(|i| i.text != text) && items.len() < SHOWN {
        items.push(Item::new(text).source(source));
    }
}

/// `sentence` with the answering part marked, when it states the fact of the actor: its
/// subject is the actor — named before the fact, or (in its own text) the sentence begins by
/// speaking of itself; "Since its founding in 2000, DCAF …" names it right after.
fn stating(pattern: &Regex, sentence: &str, names: &[String], own: bool) -> Option<Text> {
    let c = pattern.captures(sentence)?;
    let whole = c.get(0)?;
    // A pattern's group `not` says what the fact must not follow; its first other group is
    // the part that answers.
    let not = pattern.capture_names().position(|n| n == Some("not"));
    if not.is_some_and(|i| c.get(i).is_some()) {
        return None;
    }
    let part = c
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(i, _)| Some(*i) != not)
        .find_map(|(_, m)| m)
        .unwrap_or(whole);
    let before = &sentence[..whole.start()];
    let about_it = names_as_subject(before, names)
        || own && ITSELF.is_match(sentence)
        || before.trim().is_empty() && names_next(&sentence[whole.end()..], names);
    if !about_it {
        return None;
    }
    // Marked on the sentence as written (the match's offsets are its), each part's white
    // space then made single spaces.
    Some(Text::of([
        Span::Plain(
            one_space(&sentence[..part.start()])
                .trim_start()
                .to_string(),
        ),
        Span::Strong(
            one_space(&sentence[part.start()..part.end()])
                .trim()
                .to_string(),
        ),
        Span::Plain(one_space(&sentence[part.end()..]).trim_end().to_string()),
    ]))
}

/// `t` with every run of white space one space (at its ends too).
fn one_space(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    for c in t.chars() {
        if !c.is_whitespace() {
            out.push(c);
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    out
}

/// Whether `text` names the actor as a body of its own (`stands_alone`).
fn names_as_subject(text: &str, names: &[String]) -> bool {
    names.iter().any(|n| {
        !n.is_empty()
            && text
                .match_indices(n.as_str())
                .any(|(at, _)| stands_alone(text, at, n))
    })
}

/// Whether the words after a fact stated first ("Since its founding in 2000, DCAF has …")
/// begin with the actor's name.
fn names_next(after: &str, names: &[String]) -> bool {
    let after = after.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
    names
        .iter()
        .any(|n| !n.is_empty() && after.starts_with(n.as_str()) && stands_alone(after, 0, n))
}

/// Whether the name `n` at `at` in `text` is the actor itself: a whole word, then no
/// capitalised word that would make it part of a longer name ("UNICC Cybersecurity" is a
/// service of UNICC, not UNICC) nor a possessive ("UNICC's team").
fn stands_alone(text: &str, at: usize, n: &str) -> bool {
    let whole_word_before = text[..at]
        .chars()
        .next_back()
        .is_none_or(|c| !c.is_alphanumeric());
    let rest = &text[at + n.len()..];
    let whole_word_after = rest.chars().next().is_none_or(|c| !c.is_alphanumeric());
    let possessive = rest.starts_with("'s") || rest.starts_with("’s");
    let longer_name = rest.starts_with(' ')
        && rest
            .trim_start()
            .chars()
            .next()
            .is_some_and(char::is_uppercase);
    whole_word_before && whole_word_after && !possessive && !longer_name
}

/// Every name the actor goes by, as the sources may write it.
fn names_written(atlas: &Atlas, a: &ActorRow) -> Vec<String> {
    let mut names: Vec<String> = atlas.names_of(a.id).into_iter().map(|(n, _)| n).collect();
    names.push(a.name.clone());
    names.extend(a.acronym.clone());
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any sentence, in any script and spacing, is read without a panic, and what is
        /// shown is the sentence itself (its spacing tidied), with nothing added or lost.
        #[test]
        fn any_sentence_is_read_safely_and_shown_as_written(
            sentence in "(It|UNICC|Since its founding in 2000,|[ \\t\u{a0}é’a-zA-Z0-9,.()-]{0,20}){1,3}( was established in 19[0-9][0-9]| has 1[0-9]{0,2},?[0-9]* ?(member states|experts|é)| based in [A-Z][a-z]+)?[ \\t\u{a0}é’a-z]{0,10}",
        ) {
            let names = vec!["UNICC".to_string(), "Ü".to_string()];
            for p in [&*FOUNDED, &*BASED, &*MEMBERS, &*PEOPLE] {
                for own in [true, false] {
                    if let Some(t) = stating(p, &sentence, &names, own) {
                        let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
                        prop_assert_eq!(words(&t.to_plain()), words(&sentence));
                    }
                }
            }
        }
    }

    #[test]
    fn an_acronym_is_spelled_by_the_initials_of_a_run_of_its_name() {
        assert!(spells(
            "DCAF",
            "Geneva Centre for the Democratic Control of Armed Forces"
        ));
        assert!(spells(
            "UNCTAD",
            "United Nations Conference on Trade and Development"
        ));
        assert!(spells("WIPO", "World Intellectual Property Organization"));
        assert!(!spells(
            "DCAF",
            "Geneva Centre for Security Sector Governance"
        ));
        assert!(!spells("ISO", "International Electrotechnical Commission"));
        assert!(!spells("A", "Anything"));
    }

    fn marked(pattern: &Regex, s: &str, names: &[&str], own: bool) -> Option<String> {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        stating(pattern, s, &names, own).map(|t| {
            t.0.iter()
                .map(|sp| match sp {
                    Span::Strong(x) => format!("[{x}]"),
                    other => Text(vec![other.clone()]).to_plain(),
                })
                .collect()
        })
    }

    #[test]
    fn a_founding_year_is_read_only_where_the_sentence_speaks_of_the_actor() {
        assert_eq!(
            marked(
                &FOUNDED,
                "Since its founding in 2000, DCAF has contributed.",
                &["DCAF"],
                true
            )
            .as_deref(),
            Some("Since its founding in [2000], DCAF has contributed.")
        );
        assert_eq!(
            marked(
                &FOUNDED,
                "The organisation was established in 1967.",
                &["WIPO"],
                true
            )
            .as_deref(),
            Some("The organisation was established in [1967].")
        );
        // A treaty its text names was set up that year, not the actor.
        assert_eq!(
            marked(
                &FOUNDED,
                "The Marrakesh Treaty was established in 2013.",
                &["WIPO"],
                true
            ),
            None
        );
        // In others' text, only when the sentence names it first.
        assert_eq!(
            marked(&FOUNDED, "It was established in 1971.", &["UNICC"], false),
            None
        );
        assert!(marked(
            &FOUNDED,
            "UNICC, established in 1971, serves the UN.",
            &["UNICC"],
            false
        )
        .is_some());
        // Work since a year is no founding.
        assert_eq!(
            marked(
                &FOUNDED,
                "Our pioneering work since 2008 is founded on sharing.",
                &["ICT4Peace"],
                true
            ),
            None
        );
    }

    #[test]
    fn a_count_of_members_or_people_is_a_number_before_its_noun() {
        assert_eq!(
            marked(
                &MEMBERS,
                "It currently has 193 member states and over 200 observers.",
                &["WIPO"],
                true
            )
            .as_deref(),
            Some("It currently has [193 member states] and over 200 observers.")
        );
        assert_eq!(
            marked(
                &MEMBERS,
                "It consists of a global network of 170 national standards bodies – our members.",
                &["ISO"],
                true
            )
            .as_deref(),
            Some(
                "It consists of a global network of [170 national standards bodies] – our members."
            )
        );
        assert_eq!(
            marked(&PEOPLE, "the IEC provides a framework to over 170 countries, coordinating the work of more than 20,000 experts.", &["IEC"], true).as_deref(),
            Some("the IEC provides a framework to over 170 countries, coordinating the work of [more than 20,000 experts].")
        );
        assert_eq!(
            marked(
                &MEMBERS,
                "The members of each system certify devices.",
                &["IEC"],
                true
            ),
            None
        );
    }
}
