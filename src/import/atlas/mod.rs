//! Atlas profiles: the clean format (`atlas-profiles`, blank-line paragraphs, name line then
//! `Acronym:`/`Established:`/`Address:`/`Website:`/`Stakeholder group:`) and the degraded
//! scrape (`atlas-scrape`, one paragraph per line, blocks starting at `Address:`, no names),
//! whose blocks are merged into the clean profiles they repeat instead of being inserted twice.
//!
//! Sections follow the taxonomy's heading map: a line the map knows starts an issue section;
//! another heading-like line is a sub-section (or the tagline of the heading just before it).
//!
//! This module holds what both formats share: field lines, section markers, paragraphs, slugs.

mod builder;
mod clean;
mod clean_index;
mod merge;
mod repeats;
mod scrape;

use std::collections::HashSet;

use regex::Regex;
use std::sync::LazyLock;

use super::curated::Curated;
use super::model::{domain, Profile, SectionKind};
use super::problem::Problems;
use super::prose::{self, Line};
use crate::search::normalize::fold_typography;

pub use clean::parse_profiles;
pub use repeats::dedupe;
pub use scrape::merge_scrape;

static CHANNEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(Facebook|LinkedIn|Pinterest|X|YouTube|Instagram|Flickr|Podcast|Twitter|TikTok|Mastodon|Threads|Bluesky|Vimeo)\s+@(.+)$").unwrap()
});

const FIELDS: &[&str] = &[
    "Acronym:",
    "Established:",
    "Address:",
    "Website:",
    "Stakeholder group:",
];

/// The set of (file, line) that curated events claim: blurbs to keep out of every profile.
pub type Claimed = HashSet<(String, usize)>;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Description,
    Activities,
    Issues,
    Tools,
    Channels,
    Other,
    /// Inside a "Read more" list of link titles: skip heading-like lines.
    LinkList,
}

impl Mode {
    /// The kind of section that a paragraph outside any headed section goes to.
    fn section_kind(self) -> SectionKind {
        match self {
            Mode::Description => SectionKind::Description,
            Mode::Activities => SectionKind::Activities,
            Mode::Channels => SectionKind::Channels,
            Mode::Tools => SectionKind::Tools,
            Mode::Other | Mode::Issues | Mode::LinkList => SectionKind::Other,
        }
    }
}

fn marker(text: &str) -> Option<Mode> {
    match fold_typography(text).as_str() {
        "Digital activities" => Some(Mode::Activities),
        "Digital policy issues" => Some(Mode::Issues),
        "Digital tools" => Some(Mode::Tools),
        "Social media channels" => Some(Mode::Channels),
        _ => None,
    }
}

fn field(text: &str) -> Option<(&'static str, &str)> {
    FIELDS
        .iter()
        .find_map(|f| text.strip_prefix(f).map(|rest| (*f, prose::trim(rest))))
}

/// True (and noted) when a curated event claims the line: it is kept out of the profiles.
fn is_claimed(file: &str, l: &Line, claimed: &Claimed, problems: &mut Problems) -> bool {
    if !claimed.contains(&(file.to_string(), l.number)) {
        return false;
    }
    problems.removed(
        file,
        l.number,
        "event blurb, moved to its event (data/events.toml)",
    );
    true
}

/// Groups the lines of a blank-line-separated file into paragraphs, joining hard-wrapped lines
/// (a line that does not end a sentence, or a next line that starts in lower case) and keeping
/// each bullet as its own paragraph.
pub fn paragraphs(lines: &[Line]) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::new();
    let mut open = false; // the last paragraph may continue on the next line
    for l in lines {
        if l.text.is_empty() {
            open = false;
            continue;
        }
        let bullet = prose::strip_bullet(&l.text).is_some();
        let continues = open
            && !bullet
            && out.last().is_some_and(|p| {
                let lower_start = l.text.chars().next().is_some_and(char::is_lowercase);
                (!prose::ends_sentence(&p.text) && !prose::looks_like_heading(&p.text))
                    || lower_start
            });
        if continues {
            let p = out.last_mut().expect("checked above");
            p.text.push(' ');
            p.text.push_str(&l.text);
        } else {
            out.push(l.clone());
        }
        open = true;
    }
    out
}

fn short(s: &str) -> String {
    let s = fold_typography(s);
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

/// The curated slug for a profile, recognised by website domain (or name). Unknown profiles get
/// a slug made from their name, with a warning: they are imported, not dropped.
fn slug_for(curated: &Curated, website: Option<&str>, name: Option<&str>) -> Option<String> {
    if let Some(slug) = website.and_then(|w| curated.actor_by_domain(&domain(w))) {
        return Some(slug.to_string());
    }
    let name = name?;
    curated
        .actors
        .iter()
        .find(|a| a.value.name.as_deref() == Some(name))
        .map(|a| a.value.slug.clone())
}

pub fn slugify(s: &str) -> String {
    let key = crate::search::normalize::name_key(s);
    key.replace(' ', "-")
}

fn check_truncations(p: &Profile, problems: &mut Problems) {
    for s in &p.sections {
        for para in &s.paras {
            if para.truncated {
                problems.warn(
                    &para.origin.file,
                    para.origin.line,
                    format!("paragraph is cut off mid-sentence: …{}", tail(&para.text)),
                );
            }
        }
    }
}

fn tail(s: &str) -> String {
    let chars: Vec<char> = fold_typography(s).chars().collect();
    chars[chars.len().saturating_sub(40)..].iter().collect()
}
