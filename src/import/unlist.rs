//! The UN list format (`un-list`): line 1 names the actor, line 2 describes it, then title and
//! description lines alternate. Titles carry no type; each entry is classified as a document
//! (with its symbol when the title ends in one), resolution, process, programme, event, tool or
//! body, from cue words of its title and description.

use regex::Regex;
use std::sync::LazyLock;

use super::model::{DocKind, Document, Field, Origin, Para, Profile, Section, SectionKind};
use super::problem::Problems;
use super::prose::{self, Line};

static SYMBOL_AT_END: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\s*\((A/(?:[A-Z]+/)*\d+/\d+)\)\s*$").unwrap());

/// Title cue words, tried in order: the first list with a word in the title decides the kind.
const TITLE_CUES: &[(&[&str], DocKind)] = &[
    (&["toolkit", "index"], DocKind::Tool),
    (
        &["programme", "program", "workshop series"],
        DocKind::Programme,
    ),
    (&["conference", "forum", "meeting"], DocKind::Event),
    (
        &[
            "working group",
            "group of",
            "groups of",
            "expert group",
            "group on",
            "panel",
        ],
        DocKind::Process,
    ),
];

/// Title words of a body (an office or organisation rather than something it does).
const BODY_WORDS: &[&str] = &[
    "office",
    "union",
    "institute",
    "agency",
    "organization",
    "organisation",
];

fn has_any(s: &str, words: &[&str]) -> bool {
    words.iter().any(|w| s.contains(w))
}

/// Classifies an entry; `None` when no cue applies (it is then filed as a document, with a note).
fn classify(title: &str, description: &str, symbol: Option<&str>) -> Option<DocKind> {
    let t = title.to_lowercase();
    let d = description.to_lowercase();
    if let Some(s) = symbol {
        return Some(if s.contains("/RES/") {
            DocKind::Resolution
        } else {
            DocKind::Document
        });
    }
    if t.starts_with("resolution") || d.starts_with("un resolution") {
        return Some(DocKind::Resolution);
    }
    if is_study(&t) {
        return Some(DocKind::Document);
    }
    if let Some(&(_, kind)) = TITLE_CUES.iter().find(|(words, _)| has_any(&t, words)) {
        return Some(kind);
    }
    if has_any(&t, BODY_WORDS) || d.starts_with("un department") || d.starts_with("un internal") {
        return Some(DocKind::Body);
    }
    if has_any(&d, &["guide", "report", "document", "study"]) {
        return Some(DocKind::Document);
    }
    None
}

/// A (lower-case) title that names a report, study or compilation.
fn is_study(t: &str) -> bool {
    t.starts_with("report")
        || t.starts_with("study")
        || t.starts_with("comprehensive study")
        || has_any(t, &["compendium", "mapping of"])
        || t.starts_with("resolutions and reports")
}

pub struct UnList {
    pub profile: Profile,
    pub documents: Vec<Document>,
}

pub fn parse(file: &str, content: &str, actor: &str, problems: &mut Problems) -> UnList {
    let lines: Vec<Line> = prose::lines(content)
        .into_iter()
        .filter(|l| !l.text.is_empty())
        .collect();
    let mut profile = Profile {
        slug: actor.to_string(),
        ..Profile::default()
    };
    let Some(name) = lines.first() else {
        problems.error(file, 1, "the UN list is empty: line 1 must name the actor");
        return UnList {
            profile,
            documents: Vec::new(),
        };
    };
    describe_actor(&mut profile, file, name, &lines);
    let entries = lines.get(2..).unwrap_or_default();
    let documents = entries
        .chunks(2)
        .filter_map(|pair| entry(file, actor, pair, problems))
        .collect();
    UnList { profile, documents }
}

/// Line 1 names the actor, line 2 (if any) describes it; the profile spans the whole file.
fn describe_actor(profile: &mut Profile, file: &str, name: &Line, lines: &[Line]) {
    profile.name = Some(Field {
        value: name.text.clone(),
        evidence: name.text.clone(),
        origin: Origin::new(file, name.number),
    });
    let last = lines.last().map(|l| l.number).unwrap_or(1);
    profile.spans.push((file.to_string(), name.number, last));
    if let Some(desc) = lines.get(1) {
        profile.sections.push(Section {
            kind: SectionKind::Description,
            heading: None,
            tagline: None,
            parent: None,
            topics: vec![],
            paras: vec![Para {
                text: desc.text.clone(),
                origin: Origin::new(file, desc.number),
                truncated: prose::is_truncated(&desc.text),
            }],
            origin: Origin::new(file, desc.number),
        });
    }
}

/// One entry: a title line and its description line, as a document of the kind its words tell.
fn entry(file: &str, actor: &str, pair: &[Line], problems: &mut Problems) -> Option<Document> {
    let title_line = &pair[0];
    let Some(desc_line) = pair.get(1) else {
        problems.error(file, title_line.number, format!("entry '{}' has no description line after it (titles and descriptions must alternate)", title_line.text));
        return None;
    };
    let (title, symbol) = split_symbol(&title_line.text);
    let title = title.trim_matches('"').replace("\" Toolkit", " Toolkit");
    let kind = classify(&title, &desc_line.text, symbol.as_deref()).unwrap_or_else(|| {
        problems.warn(
            file,
            title_line.number,
            format!("cannot tell what '{title}' is; filed as a document"),
        );
        DocKind::Document
    });
    Some(Document {
        slug: String::new(),
        kind,
        symbol,
        title: prose::trim(&title).to_string(),
        subtitle: None,
        summary: Some(desc_line.text.clone()),
        owner: Some(actor.to_string()),
        about: None,
        paras: vec![
            Para {
                text: title_line.text.clone(),
                origin: Origin::new(file, title_line.number),
                truncated: false,
            },
            Para {
                text: desc_line.text.clone(),
                origin: Origin::new(file, desc_line.number),
                truncated: prose::is_truncated(&desc_line.text),
            },
        ],
        origin: Origin::new(file, title_line.number),
    })
}

/// "ICT Strategy (A/69/517)" → the title without the symbol, and the symbol.
fn split_symbol(text: &str) -> (String, Option<String>) {
    match SYMBOL_AT_END.captures(text) {
        Some(c) => (
            text[..c.get(0).expect("whole match").start()].to_string(),
            Some(c[1].to_string()),
        ),
        None => (text.to_string(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_classified_by_their_words() {
        assert_eq!(
            classify(
                "Resolution on the right to privacy in the digital age",
                "UN resolution reaffirming",
                Some("A/RES/68/167")
            ),
            Some(DocKind::Resolution)
        );
        assert_eq!(
            classify(
                "ICT Strategy",
                "This document contains a review",
                Some("A/69/517")
            ),
            Some(DocKind::Document)
        );
        assert_eq!(
            classify(
                "Global Programme on Cybercrime",
                "Program established by UNGA resolution 65/230",
                None
            ),
            Some(DocKind::Programme)
        );
        assert_eq!(
            classify(
                "United Nations Office on Drugs and Crime",
                "UN internal institute specialized in criminal justice",
                None
            ),
            Some(DocKind::Body)
        );
        assert_eq!(
            classify(
                "UN Group of Governmental Experts on advancing responsible State behavior",
                "Group created following UN resolution 73/266",
                None
            ),
            Some(DocKind::Process)
        );
        assert_eq!(
            classify("Global Cybersecurity Index", "5 levels analysis", None),
            Some(DocKind::Tool)
        );
        assert_eq!(
            classify(
                "Annual Cyber Stability Conference",
                "Annual conference",
                None
            ),
            Some(DocKind::Event)
        );
    }

    #[test]
    fn a_title_without_description_is_an_error_with_its_line() {
        let mut problems = Problems::default();
        parse(
            "f.txt",
            "United Nations\nThe UN.\nICT Strategy (A/69/517)",
            "united-nations",
            &mut problems,
        );
        let errors: Vec<String> = problems
            .into_sorted()
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(errors, vec!["f.txt:3: entry 'ICT Strategy (A/69/517)' has no description line after it (titles and descriptions must alternate)"]);
    }
}
