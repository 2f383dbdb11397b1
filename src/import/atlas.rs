//! Atlas profiles: the clean format (`atlas-profiles`, blank-line paragraphs, name line then
//! `Acronym:`/`Established:`/`Address:`/`Website:`/`Stakeholder group:`) and the degraded
//! scrape (`atlas-scrape`, one paragraph per line, blocks starting at `Address:`, no names),
//! whose blocks are merged into the clean profiles they repeat instead of being inserted twice.
//!
//! Sections follow the taxonomy's heading map: a line the map knows starts an issue section;
//! another heading-like line is a sub-section (or the tagline of the heading just before it).

use std::collections::{HashMap, HashSet};

use regex::Regex;
use std::sync::LazyLock;

use super::curated::Curated;
use super::model::{domain, Channel, Field, Item, Origin, Para, Profile, Section, SectionKind};
use super::problem::Problems;
use super::prose::{self, Line};
use super::similar::Fingerprint;
use crate::search::normalize::{fold_typography, squash_key};

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

/// Splits "Consumer protection Consumer protection and competition are…" — a heading fused with
/// the first sentence of its paragraph — into the heading and the paragraph.
fn split_fused_heading<'a>(text: &'a str, curated: &Curated) -> Option<(&'a str, &'a str)> {
    for h in &curated.headings {
        let heading = h.value.text.as_str();
        if let Some(rest) = text.strip_prefix(heading) {
            let rest = prose::trim(rest);
            if rest.len() > heading.len()
                && rest.to_lowercase().starts_with(&heading.to_lowercase())
            {
                return Some((&text[..heading.len()], rest));
            }
        }
    }
    None
}

/// Builds profiles from paragraphs with a small state machine. Shared by the clean atlas and
/// by scrape blocks that have no clean counterpart (DCAF).
struct Builder<'a> {
    file: &'a str,
    curated: &'a Curated,
    mode: Mode,
    /// Index of the current issue (or sub-) section.
    current: Option<usize>,
    /// The last section started by a heading, while it has no paragraph yet.
    fresh_heading: Option<usize>,
    pending_item: Option<usize>,
}

impl<'a> Builder<'a> {
    fn new(file: &'a str, curated: &'a Curated) -> Self {
        Builder {
            file,
            curated,
            mode: Mode::Description,
            current: None,
            fresh_heading: None,
            pending_item: None,
        }
    }

    fn origin(&self, line: usize) -> Origin {
        Origin::new(self.file, line)
    }

    fn para(&self, text: &str, line: usize) -> Para {
        let text = prose::strip_link_prompts(prose::strip_bullet(text).unwrap_or(text));
        Para {
            truncated: prose::is_truncated(&text),
            text,
            origin: self.origin(line),
        }
    }

    fn start_issue(&mut self, p: &mut Profile, heading: &str, topics: &[String], line: usize) {
        let heading = prose::trim(heading).to_string();
        // A repeated heading continues the earlier section (UNICC repeats one).
        let existing = p
            .sections
            .iter()
            .position(|s| s.kind == SectionKind::Issue && s.heading.as_deref() == Some(&heading));
        let idx = match existing {
            Some(i) => i,
            None => {
                // An issue heading straight after an empty issue heading is its child
                // ("Emerging technologies" → "Virtual/augmented reality").
                let parent = self
                    .fresh_heading
                    .filter(|&i| p.sections[i].kind == SectionKind::Issue);
                p.sections.push(Section {
                    kind: SectionKind::Issue,
                    heading: Some(heading),
                    tagline: None,
                    parent,
                    topics: topics.to_vec(),
                    paras: vec![],
                    origin: self.origin(line),
                });
                p.sections.len() - 1
            }
        };
        self.current = Some(idx);
        self.fresh_heading = Some(idx);
        self.mode = Mode::Issues;
    }

    fn start_subsection(&mut self, p: &mut Profile, heading: &str, line: usize) {
        let parent = self.current.map(|c| {
            p.sections[c]
                .parent
                .filter(|_| p.sections[c].kind == SectionKind::Subsection)
                .unwrap_or(c)
        });
        p.sections.push(Section {
            kind: if parent.is_some() {
                SectionKind::Subsection
            } else {
                SectionKind::Other
            },
            heading: Some(prose::trim(heading).to_string()),
            tagline: None,
            parent,
            topics: vec![],
            paras: vec![],
            origin: self.origin(line),
        });
        self.current = Some(p.sections.len() - 1);
        self.fresh_heading = self.current;
    }

    /// Feeds one paragraph. `problems` receives warnings for what cannot be placed.
    fn feed(&mut self, p: &mut Profile, l: &Line, problems: &mut Problems) {
        let text = l.text.as_str();
        if let Some(reason) = prose::junk_kind(text) {
            problems.removed(self.file, l.number, format!("{reason}: {}", short(text)));
            return;
        }
        if let Some((f, value)) = field(text) {
            self.set_field(p, f, value, l.number, problems);
            return;
        }
        if let Some(mode) = marker(text) {
            self.mode = mode;
            self.current = None;
            self.fresh_heading = None;
            self.pending_item = None;
            return;
        }
        if let Some((heading, rest)) = split_fused_heading(text, self.curated) {
            problems.warn(
                self.file,
                l.number,
                format!("heading '{heading}' is fused with its first sentence; split"),
            );
            let topics = self
                .curated
                .heading_topics(heading)
                .unwrap_or_default()
                .to_vec();
            self.start_issue(p, heading, &topics, l.number);
            let para = self.para(rest, l.number);
            self.push_para(p, para);
            return;
        }
        if let Some(topics) = self.curated.heading_topics(text) {
            let topics = topics.to_vec();
            self.start_issue(p, text, &topics, l.number);
            return;
        }
        if fold_typography(text) == "Read more"
            && matches!(self.mode, Mode::Issues | Mode::LinkList)
        {
            problems.removed(self.file, l.number, "'Read more' link list");
            self.mode = Mode::LinkList;
            return;
        }
        if self.mode == Mode::LinkList {
            let link_title = text.chars().count() <= 80
                && !prose::ends_sentence(text)
                && self.curated.heading_topics(text).is_none();
            if link_title {
                problems.removed(self.file, l.number, format!("link title: {}", short(text)));
                return;
            }
            self.mode = Mode::Issues;
        }
        if fold_typography(text) == "Future of meetings" {
            self.mode = Mode::Other;
            p.sections.push(Section {
                kind: SectionKind::Other,
                heading: Some(text.to_string()),
                tagline: None,
                parent: None,
                topics: vec![],
                paras: vec![],
                origin: self.origin(l.number),
            });
            self.current = Some(p.sections.len() - 1);
            return;
        }
        match self.mode {
            Mode::Channels => {
                if let Some(c) = CHANNEL.captures(text) {
                    p.channels.push(Channel {
                        platform: c[1].to_string(),
                        handle: prose::trim(&c[2]).to_string(),
                        origin: self.origin(l.number),
                    });
                } else {
                    let i = p.section_mut(SectionKind::Channels, &self.origin(l.number));
                    let para = self.para(text, l.number);
                    p.sections[i].paras.push(para);
                }
            }
            Mode::Tools => self.feed_tool(p, l),
            Mode::Issues if prose::looks_like_heading(text) => {
                // A tagline is a phrase under a heading ("The first secure private cloud
                // environment for the UN system"); a one- or two-word line is a sub-heading.
                let phrase = text.split_whitespace().count() >= 5;
                match self.fresh_heading {
                    Some(i) if p.sections[i].kind == SectionKind::Issue && phrase => {
                        match &p.sections[i].tagline {
                            None => p.sections[i].tagline = Some(text.to_string()),
                            Some(t) if squash_key(t) == squash_key(text) => {
                                problems.removed(
                                    self.file,
                                    l.number,
                                    format!(
                                        "repeats the tagline of '{}'",
                                        p.sections[i].heading.as_deref().unwrap_or("")
                                    ),
                                );
                            }
                            Some(_) => self.start_subsection(p, text, l.number),
                        }
                    }
                    _ => self.start_subsection(p, text, l.number),
                }
            }
            _ => {
                let para = self.para(text, l.number);
                self.push_para(p, para);
            }
        }
    }

    fn push_para(&mut self, p: &mut Profile, para: Para) {
        let kind = match self.mode {
            Mode::Description => SectionKind::Description,
            Mode::Activities => SectionKind::Activities,
            Mode::Channels => SectionKind::Channels,
            Mode::Tools => SectionKind::Tools,
            Mode::Other | Mode::Issues | Mode::LinkList => SectionKind::Other,
        };
        let idx = match (self.mode, self.current) {
            (Mode::Issues | Mode::Other | Mode::LinkList, Some(c)) => c,
            _ => p.section_mut(kind, &para.origin),
        };
        p.sections[idx].paras.push(para);
        self.fresh_heading = None;
    }

    fn feed_tool(&mut self, p: &mut Profile, l: &Line) {
        let text = prose::strip_bullet(&l.text).unwrap_or(&l.text);
        // "WIPO Match – platform that…", also glued "WIPO Match– platform".
        if let Some((name, desc)) = text.split_once(" – ").or_else(|| text.split_once("– ")) {
            if name.len() <= 80 && !name.is_empty() {
                p.items.push(Item {
                    name: prose::trim(name).to_string(),
                    description: Some(prose::trim(desc).to_string()),
                    origin: self.origin(l.number),
                });
                self.pending_item = None;
                return;
            }
        }
        if prose::looks_like_heading(text) {
            p.items.push(Item {
                name: text.to_string(),
                description: None,
                origin: self.origin(l.number),
            });
            self.pending_item = Some(p.items.len() - 1);
            return;
        }
        if prose::strip_bullet(&l.text).is_some() {
            // "WIPO Online Case Administration Tools, including WIPO eADR (…)": named by its
            // first clause, described by the whole line.
            let name = text
                .split([',', '('])
                .next()
                .map(prose::trim)
                .unwrap_or(text);
            if !name.is_empty() && name.chars().count() <= 80 {
                p.items.push(Item {
                    name: name.to_string(),
                    description: Some(text.to_string()),
                    origin: self.origin(l.number),
                });
                self.pending_item = None;
                return;
            }
        }
        if let Some(i) = self.pending_item {
            let item = &mut p.items[i];
            let desc = item.description.get_or_insert_with(String::new);
            if !desc.is_empty() {
                desc.push(' ');
            }
            desc.push_str(text);
            return;
        }
        let para = self.para(&l.text, l.number);
        self.push_para(p, para);
    }

    fn set_field(
        &mut self,
        p: &mut Profile,
        f: &str,
        value: &str,
        line: usize,
        problems: &mut Problems,
    ) {
        let origin = self.origin(line);
        let evidence = format!("{f} {value}");
        match f {
            "Acronym:" => {
                p.acronym = Some(Field {
                    value: value.to_string(),
                    evidence,
                    origin,
                })
            }
            "Established:" => match value.parse::<i64>() {
                Ok(year) if (1000..=2100).contains(&year) => {
                    p.founded = Some(Field {
                        value: year,
                        evidence,
                        origin,
                    })
                }
                _ => problems.error(
                    self.file,
                    line,
                    format!("'Established:' must be a year such as 1906, found '{value}'"),
                ),
            },
            "Address:" => {
                p.address = Some(Field {
                    value: value.to_string(),
                    evidence,
                    origin,
                })
            }
            "Website:" => {
                if value.is_empty() {
                    problems.error(self.file, line, "'Website:' has no address");
                } else {
                    p.website = Some(Field {
                        value: value.to_string(),
                        evidence,
                        origin,
                    });
                }
            }
            "Stakeholder group:" => {
                p.stakeholder_group = Some(Field {
                    value: value.to_string(),
                    evidence,
                    origin,
                })
            }
            _ => unreachable!("FIELDS lists every field"),
        }
    }
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

/// Parses the clean atlas format.
pub fn parse_profiles(
    file: &str,
    content: &str,
    curated: &Curated,
    claimed: &Claimed,
    problems: &mut Problems,
) -> Vec<Profile> {
    let paras = paragraphs(&prose::lines(content));
    let mut profiles: Vec<Profile> = Vec::new();
    let mut builder = Builder::new(file, curated);
    let mut current: Option<Profile> = None;
    for (i, l) in paras.iter().enumerate() {
        if claimed.contains(&(file.to_string(), l.number)) {
            problems.removed(
                file,
                l.number,
                "event blurb, moved to its event (data/events.toml)",
            );
            continue;
        }
        let starts_profile = field(&l.text).is_none()
            && prose::looks_like_heading(&l.text)
            && paras.get(i + 1).is_some_and(|n| field(&n.text).is_some())
            && curated.heading_topics(&l.text).is_none();
        if starts_profile {
            if let Some(p) = current.take() {
                profiles.push(finish(p, l.number - 1));
            }
            builder = Builder::new(file, curated);
            current = Some(Profile {
                name: Some(Field {
                    value: l.text.clone(),
                    evidence: l.text.clone(),
                    origin: Origin::new(file, l.number),
                }),
                spans: vec![(file.to_string(), l.number, l.number)],
                ..Profile::default()
            });
            continue;
        }
        match current.as_mut() {
            Some(p) => builder.feed(p, l, problems),
            None => {
                if prose::junk_kind(&l.text).is_none() {
                    problems.warn(
                        file,
                        l.number,
                        format!(
                            "text before the first profile is not attributed to anyone: {}",
                            short(&l.text)
                        ),
                    );
                }
            }
        }
    }
    if let Some(p) = current.take() {
        let last = paras.last().map(|l| l.number).unwrap_or(1);
        profiles.push(finish(p, last));
    }
    for p in &mut profiles {
        let name = p.name.as_ref().map(|n| n.value.clone());
        let website = p.website.as_ref().map(|w| w.value.clone());
        p.slug = match slug_for(curated, website.as_deref(), name.as_deref()) {
            Some(s) => s,
            None => {
                let line = p.name.as_ref().map(|n| n.origin.line).unwrap_or(1);
                let s = slugify(name.as_deref().unwrap_or("unnamed"));
                problems.warn(
                    file,
                    line,
                    format!(
                        "profile '{}' is not in data/actors.toml; imported as '{s}'",
                        name.unwrap_or_default()
                    ),
                );
                s
            }
        };
        dedupe(p, problems);
        check_truncations(p, problems);
    }
    profiles
}

fn finish(mut p: Profile, last: usize) -> Profile {
    if let Some(span) = p.spans.last_mut() {
        span.2 = last.max(span.1);
    }
    p
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

/// Removes duplicated and near-duplicated paragraphs within a profile. Of each group the copy
/// in an issue section is kept (WEF's "Digital tools" holds only a copy of its Cryptocurrencies
/// paragraph); sections left empty by it disappear.
pub fn dedupe(p: &mut Profile, problems: &mut Problems) {
    struct Seen {
        section: usize,
        para: usize,
        fp: Fingerprint,
    }
    let rank = |k: SectionKind| match k {
        SectionKind::Issue | SectionKind::Subsection => 0,
        SectionKind::Description | SectionKind::Activities => 1,
        _ => 2,
    };
    let mut order: Vec<(usize, usize)> = Vec::new();
    for (si, s) in p.sections.iter().enumerate() {
        for pi in 0..s.paras.len() {
            order.push((si, pi));
        }
    }
    // Visit better-placed copies first so they are the ones kept; ties keep file order.
    order.sort_by_key(|&(si, pi)| {
        (
            rank(p.sections[si].kind),
            p.sections[si].paras[pi].origin.line,
        )
    });
    let mut kept: Vec<Seen> = Vec::new();
    let mut drop: HashSet<(usize, usize)> = HashSet::new();
    for (si, pi) in order {
        let para = &p.sections[si].paras[pi];
        let fp = Fingerprint::new(&para.text);
        if let Some(original) = kept.iter().find(|k| k.fp.same_as(&fp)) {
            let o = &p.sections[original.section].paras[original.para].origin;
            problems.removed(
                &para.origin.file,
                para.origin.line,
                format!("repeats {}:{}", o.file, o.line),
            );
            drop.insert((si, pi));
        } else {
            kept.push(Seen {
                section: si,
                para: pi,
                fp,
            });
        }
    }
    for (si, s) in p.sections.iter_mut().enumerate() {
        let mut pi = 0;
        s.paras.retain(|_| {
            let keep = !drop.contains(&(si, pi));
            pi += 1;
            keep
        });
    }
    // Taglines repeated under a near-identical heading are the same project told twice.
    let mut seen_taglines: HashSet<String> = HashSet::new();
    for s in &mut p.sections {
        if let Some(t) = &s.tagline {
            if !seen_taglines.insert(squash_key(t)) {
                problems.removed(
                    &s.origin.file,
                    s.origin.line + 2,
                    format!("tagline repeats an earlier one: {}", short(t)),
                );
                s.tagline = None;
            }
        }
    }
    // A tools section whose only prose was a copy elsewhere has nothing left to say.
    for s in &p.sections {
        if s.kind == SectionKind::Tools && s.paras.is_empty() && s.heading.is_none() {
            problems.removed(
                &s.origin.file,
                s.origin.line,
                "empty 'Digital tools' section (its text was a copy of another section)",
            );
        }
    }
    p.sections
        .retain(|s| !(s.kind == SectionKind::Tools && s.paras.is_empty() && s.heading.is_none()));
}

/// Where a clean paragraph lives, for merging scrape lines into it.
struct CleanPara {
    profile: usize,
    section: usize,
    fp: Fingerprint,
    origin: Origin,
}

/// Merges a degraded scrape into the clean profiles: each block (from one `Address:` line to
/// the next) is recognised by its website; lines that repeat clean text are dropped (and steer
/// which section new lines belong to), lines that repeat *another* actor's clean text are
/// attributed to that actor, and the rest is added where it belongs. Blocks of actors with no
/// clean profile (DCAF) become profiles of their own.
pub fn merge_scrape(
    file: &str,
    content: &str,
    profiles: &mut Vec<Profile>,
    targets: std::ops::Range<usize>,
    curated: &Curated,
    claimed: &Claimed,
    problems: &mut Problems,
) {
    let lines: Vec<Line> = prose::lines(content)
        .into_iter()
        .filter(|l| !l.text.is_empty())
        .collect();
    // Join "Website:" with the address on the next line.
    let mut joined: Vec<Line> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let mut l = lines[i].clone();
        if fold_typography(&l.text) == "Website:" {
            if let Some(next) = lines
                .get(i + 1)
                .filter(|n| n.text.starts_with("http") || n.text.starts_with("www."))
            {
                l.text = format!("Website: {}", next.text);
                i += 1;
            }
        }
        joined.push(l);
        i += 1;
    }
    let mut blocks: Vec<Vec<Line>> = Vec::new();
    for l in joined {
        if claimed.contains(&(file.to_string(), l.number)) {
            problems.removed(
                file,
                l.number,
                "event blurb, moved to its event (data/events.toml)",
            );
            continue;
        }
        if l.text.starts_with("Address:") || blocks.is_empty() {
            blocks.push(vec![]);
        }
        blocks.last_mut().expect("pushed above").push(l);
    }

    // Only the profiles of the source named by `merge_into` can be repeated here.
    let clean: Vec<CleanPara> = profiles[targets.clone()]
        .iter()
        .zip(targets.clone())
        .flat_map(|(p, pi)| {
            let paras = p.sections.iter().enumerate().flat_map(move |(si, s)| {
                s.paras.iter().map(move |para| CleanPara {
                    profile: pi,
                    section: si,
                    fp: Fingerprint::new(&para.text),
                    origin: para.origin.clone(),
                })
            });
            let channels = p.channels.iter().map(move |c| CleanPara {
                profile: pi,
                section: usize::MAX,
                fp: Fingerprint::new(&format!("{} @{}", c.platform, c.handle)),
                origin: c.origin.clone(),
            });
            let items = p.items.iter().map(move |it| CleanPara {
                profile: pi,
                section: usize::MAX - 1,
                fp: Fingerprint::new(&format!(
                    "{} – {}",
                    it.name,
                    it.description.as_deref().unwrap_or("")
                )),
                origin: it.origin.clone(),
            });
            paras.chain(channels).chain(items).collect::<Vec<_>>()
        })
        .collect();
    let by_key: HashMap<&str, &CleanPara> = clean.iter().map(|c| (c.fp.key(), c)).collect();
    let by_domain: HashMap<String, usize> = targets
        .clone()
        .filter_map(|i| profiles[i].website.as_ref().map(|w| (domain(&w.value), i)))
        .collect();
    let mut by_profile: HashMap<usize, Vec<&CleanPara>> = HashMap::new();
    for c in &clean {
        by_profile.entry(c.profile).or_default().push(c);
    }

    for block in blocks {
        let Some(first) = block.first() else { continue };
        if !first.text.starts_with("Address:") {
            for l in &block {
                if prose::junk_kind(&l.text).is_none() {
                    problems.warn(
                        file,
                        l.number,
                        format!(
                            "text outside any profile block is not attributed: {}",
                            short(&l.text)
                        ),
                    );
                }
            }
            continue;
        }
        let website = block.iter().find_map(|l| {
            field(&l.text)
                .filter(|(f, _)| *f == "Website:")
                .map(|(_, v)| v.to_string())
        });
        let Some(website) = website else {
            problems.error(
                file,
                first.number,
                "profile block has no 'Website:' line, so it cannot be matched to an actor",
            );
            continue;
        };
        let last_line = block.last().map(|l| l.number).unwrap_or(first.number);
        let target = by_domain.get(&domain(&website)).copied();
        match target {
            Some(pi) => merge_block(file, &block, pi, profiles, &by_profile, &by_key, curated, problems),
            None => match slug_for(curated, Some(&website), None) {
                Some(slug) => {
                    let entry = curated.actors.iter().find(|a| a.value.slug == slug).expect("slug_for found it");
                    let mut p = Profile { slug, spans: vec![(file.to_string(), first.number, last_line)], ..Profile::default() };
                    if let Some(name) = &entry.value.name {
                        p.name = Some(Field { value: name.clone(), evidence: format!("data/actors.toml ({})", domain(&website)), origin: Origin::new(&entry.file, entry.line) });
                    }
                    let mut b = Builder::new(file, curated);
                    for l in &block {
                        b.feed(&mut p, l, problems);
                    }
                    dedupe(&mut p, problems);
                    check_truncations(&p, problems);
                    profiles.push(p);
                }
                None => problems.error(
                    file,
                    first.number,
                    format!("cannot tell whose profile this is (website {website}); add the actor to data/actors.toml"),
                ),
            },
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn merge_block(
    file: &str,
    block: &[Line],
    pi: usize,
    profiles: &mut [Profile],
    by_profile: &HashMap<usize, Vec<&CleanPara>>,
    by_key: &HashMap<&str, &CleanPara>,
    curated: &Curated,
    problems: &mut Problems,
) {
    let first = block[0].number;
    let last = block.last().map(|l| l.number).unwrap_or(first);
    profiles[pi].spans.push((file.to_string(), first, last));
    let owner_name = |p: &Profile| {
        p.name
            .as_ref()
            .map(|n| n.value.clone())
            .unwrap_or_else(|| p.slug.clone())
    };
    let mut section: Option<usize> = None; // where unmatched lines of this block go
    let mut mode = Mode::Description;
    // After a line that repeats another actor's text, the lines that follow it in the same
    // section are that actor's too (the CyberPeace social block filed after WIPO).
    let mut foreign: Option<usize> = None;
    for l in block {
        let text = l.text.as_str();
        if let Some(reason) = prose::junk_kind(text) {
            problems.removed(file, l.number, format!("{reason}: {}", short(text)));
            continue;
        }
        if let Some((f, value)) = field(text) {
            let p = &mut profiles[pi];
            let existing = match f {
                "Address:" => &mut p.address,
                "Website:" => &mut p.website,
                "Stakeholder group:" => &mut p.stakeholder_group,
                "Acronym:" => &mut p.acronym,
                _ => {
                    problems.warn(
                        file,
                        l.number,
                        format!("'{f}' in a scrape block is ignored: the clean profile states it"),
                    );
                    continue;
                }
            };
            match existing {
                Some(e) if squash_key(&e.value) != squash_key(value) => problems.warn(
                    file,
                    l.number,
                    format!(
                        "{f} '{value}' differs from {}:{} '{}'; keeping the clean profile's",
                        e.origin.file, e.origin.line, e.value
                    ),
                ),
                Some(_) => {}
                None => {
                    *existing = Some(Field {
                        value: value.to_string(),
                        evidence: format!("{f} {value}"),
                        origin: Origin::new(file, l.number),
                    })
                }
            }
            continue;
        }
        if let Some(m) = marker(text) {
            mode = m;
            section = None;
            foreign = None;
            continue;
        }
        // A heading the clean profile has: continue in that section.
        let heading_match = profiles[pi].sections.iter().position(|s| {
            s.heading
                .as_deref()
                .is_some_and(|h| fold_typography(h) == fold_typography(text))
        });
        if let Some(si) = heading_match {
            section = Some(si);
            mode = Mode::Issues;
            foreign = None;
            continue;
        }
        if let Some(topics) = curated.heading_topics(text) {
            // An issue heading the clean profile lacks: a new section, from the scrape.
            let p = &mut profiles[pi];
            p.sections.push(Section {
                kind: SectionKind::Issue,
                heading: Some(text.to_string()),
                tagline: None,
                parent: None,
                topics: topics.to_vec(),
                paras: vec![],
                origin: Origin::new(file, l.number),
            });
            section = Some(p.sections.len() - 1);
            mode = Mode::Issues;
            foreign = None;
            continue;
        }
        let fp = Fingerprint::new(text);
        let matched = by_key.get(fp.key()).copied().or_else(|| {
            by_profile
                .get(&pi)
                .and_then(|own| own.iter().copied().find(|c| c.fp.same_as(&fp)))
        });
        if let Some(c) = matched {
            if c.profile != pi {
                problems.warn(
                    file,
                    l.number,
                    format!(
                        "belongs to {} (repeats {}:{}), not to {}: not added to {}",
                        owner_name(&profiles[c.profile]),
                        c.origin.file,
                        c.origin.line,
                        owner_name(&profiles[pi]),
                        owner_name(&profiles[pi])
                    ),
                );
                foreign = Some(c.profile);
            } else {
                problems.removed(
                    file,
                    l.number,
                    format!("repeats {}:{}", c.origin.file, c.origin.line),
                );
                // Clean issue text steers where the next new lines belong (the scrape lost
                // IEC's "Network security and critical infrastructure" heading).
                if c.section < profiles[pi].sections.len()
                    && matches!(
                        profiles[pi].sections[c.section].kind,
                        SectionKind::Issue | SectionKind::Subsection
                    )
                {
                    section = Some(c.section);
                }
            }
            continue;
        }
        let owner = foreign.unwrap_or(pi);
        if foreign.is_some() {
            problems.warn(
                file,
                l.number,
                format!(
                    "follows text of {}, so it is attributed to it",
                    owner_name(&profiles[owner])
                ),
            );
        }
        let p = &mut profiles[owner];
        let origin = Origin::new(file, l.number);
        if mode == Mode::Channels {
            if let Some(c) = CHANNEL.captures(text) {
                let handle = prose::trim(&c[2]).to_string();
                if !p
                    .channels
                    .iter()
                    .any(|ch| ch.platform == c[1] && ch.handle == handle)
                {
                    p.channels.push(Channel {
                        platform: c[1].to_string(),
                        handle,
                        origin,
                    });
                }
                continue;
            }
        }
        if mode == Mode::Tools {
            let t = prose::strip_bullet(text).unwrap_or(text);
            if let Some((name, desc)) = t.split_once(" – ").or_else(|| t.split_once("– ")) {
                p.items.push(Item {
                    name: prose::trim(name).to_string(),
                    description: Some(prose::trim(desc).to_string()),
                    origin,
                });
                continue;
            }
        }
        let clean_text = prose::strip_link_prompts(text);
        let para = Para {
            truncated: prose::is_truncated(&clean_text),
            text: clean_text,
            origin,
        };
        if para.truncated {
            problems.warn(
                file,
                l.number,
                format!("paragraph is cut off mid-sentence: …{}", tail(&para.text)),
            );
        }
        let kind = match mode {
            Mode::Activities => SectionKind::Activities,
            Mode::Tools => SectionKind::Tools,
            Mode::Channels => SectionKind::Channels,
            Mode::Issues | Mode::Other | Mode::LinkList => SectionKind::Other,
            Mode::Description => SectionKind::Description,
        };
        let si = match section.filter(|_| foreign.is_none()) {
            Some(si) => si,
            None => p.section_mut(kind, &para.origin),
        };
        p.sections[si].paras.push(para);
    }
}
