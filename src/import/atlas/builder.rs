//! Builds a profile from its paragraphs with a small state machine, one paragraph at a time:
//! fields, section markers, issue headings (from the taxonomy's heading map), taglines,
//! sub-sections, tools and channels. It decides where text goes, never whose profile it is.

use super::{field, marker, short, Mode, CHANNEL};
use crate::import::curated::Curated;
use crate::import::model::{Channel, Field, Item, Origin, Para, Profile, Section, SectionKind};
use crate::import::problem::Problems;
use crate::import::prose::{self, Line};
use crate::search::normalize::{fold_typography, squash_key};

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
pub(super) struct Builder<'a> {
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
    pub(super) fn new(file: &'a str, curated: &'a Curated) -> Self {
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
    pub(super) fn feed(&mut self, p: &mut Profile, l: &Line, problems: &mut Problems) {
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
            self.enter(mode);
            return;
        }
        if let Some((heading, rest)) = split_fused_heading(text, self.curated) {
            self.split_heading(p, heading, rest, l.number, problems);
            return;
        }
        if let Some(topics) = self.curated.heading_topics(text) {
            let topics = topics.to_vec();
            self.start_issue(p, text, &topics, l.number);
            return;
        }
        if self.skip_link_list(text, l.number, problems) {
            return;
        }
        if fold_typography(text) == "Future of meetings" {
            self.start_other(p, text, l.number);
            return;
        }
        match self.mode {
            Mode::Channels => self.feed_channel(p, l),
            Mode::Tools => self.feed_tool(p, l),
            Mode::Issues if prose::looks_like_heading(text) => {
                self.feed_heading(p, text, l.number, problems)
            }
            _ => {
                let para = self.para(text, l.number);
                self.push_para(p, para);
            }
        }
    }

    /// A marker line ("Digital tools") starts a part of the profile, outside any section.
    fn enter(&mut self, mode: Mode) {
        self.mode = mode;
        self.current = None;
        self.fresh_heading = None;
        self.pending_item = None;
    }

    fn split_heading(
        &mut self,
        p: &mut Profile,
        heading: &str,
        rest: &str,
        line: usize,
        problems: &mut Problems,
    ) {
        problems.warn(
            self.file,
            line,
            format!("heading '{heading}' is fused with its first sentence; split"),
        );
        let topics = self
            .curated
            .heading_topics(heading)
            .unwrap_or_default()
            .to_vec();
        self.start_issue(p, heading, &topics, line);
        let para = self.para(rest, line);
        self.push_para(p, para);
    }

    /// True (and noted) when the line is "Read more" or one of the link titles listed after
    /// it; the list ends at the first line that is not a link title.
    fn skip_link_list(&mut self, text: &str, line: usize, problems: &mut Problems) -> bool {
        if fold_typography(text) == "Read more"
            && matches!(self.mode, Mode::Issues | Mode::LinkList)
        {
            problems.removed(self.file, line, "'Read more' link list");
            self.mode = Mode::LinkList;
            return true;
        }
        if self.mode == Mode::LinkList {
            let link_title = text.chars().count() <= 80
                && !prose::ends_sentence(text)
                && self.curated.heading_topics(text).is_none();
            if link_title {
                problems.removed(self.file, line, format!("link title: {}", short(text)));
                return true;
            }
            self.mode = Mode::Issues;
        }
        false
    }

    fn start_other(&mut self, p: &mut Profile, heading: &str, line: usize) {
        self.mode = Mode::Other;
        p.sections.push(Section {
            kind: SectionKind::Other,
            heading: Some(heading.to_string()),
            tagline: None,
            parent: None,
            topics: vec![],
            paras: vec![],
            origin: self.origin(line),
        });
        self.current = Some(p.sections.len() - 1);
    }

    fn feed_channel(&mut self, p: &mut Profile, l: &Line) {
        if let Some(c) = CHANNEL.captures(&l.text) {
            p.channels.push(Channel {
                platform: c[1].to_string(),
                handle: prose::trim(&c[2]).to_string(),
                origin: self.origin(l.number),
            });
        } else {
            let i = p.section_mut(SectionKind::Channels, &self.origin(l.number));
            let para = self.para(&l.text, l.number);
            p.sections[i].paras.push(para);
        }
    }

    /// A heading-like line among issues: the tagline of a fresh issue heading, or a sub-heading.
    fn feed_heading(&mut self, p: &mut Profile, text: &str, line: usize, problems: &mut Problems) {
        // A tagline is a phrase under a heading ("The first secure private cloud
        // environment for the UN system"); a one- or two-word line is a sub-heading.
        let phrase = text.split_whitespace().count() >= 5;
        let fresh_issue = self
            .fresh_heading
            .filter(|&i| p.sections[i].kind == SectionKind::Issue && phrase);
        let Some(i) = fresh_issue else {
            self.start_subsection(p, text, line);
            return;
        };
        match &p.sections[i].tagline {
            None => p.sections[i].tagline = Some(text.to_string()),
            Some(t) if squash_key(t) == squash_key(text) => {
                problems.removed(
                    self.file,
                    line,
                    format!(
                        "repeats the tagline of '{}'",
                        p.sections[i].heading.as_deref().unwrap_or("")
                    ),
                );
            }
            Some(_) => self.start_subsection(p, text, line),
        }
    }

    fn push_para(&mut self, p: &mut Profile, para: Para) {
        let kind = self.mode.section_kind();
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
