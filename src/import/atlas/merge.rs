//! Merges one scrape block into the clean profile its website names, line by line: repeats of
//! clean text are dropped (and steer where new lines go), repeats of another actor's text hand
//! the lines after them to that actor, and what is new is added to the right section.

use super::clean_index::{CleanIndex, CleanPara};
use super::{field, marker, short, tail, Mode, CHANNEL};
use crate::import::curated::Curated;
use crate::import::model::{Channel, Field, Item, Origin, Para, Profile, Section, SectionKind};
use crate::import::problem::Problems;
use crate::import::prose::{self, Line};
use crate::import::similar::Fingerprint;
use crate::search::normalize::{fold_typography, squash_key};

pub(super) fn merge_block(
    file: &str,
    block: &[Line],
    pi: usize,
    profiles: &mut [Profile],
    index: &CleanIndex,
    curated: &Curated,
    problems: &mut Problems,
) {
    let first = block[0].number;
    let last = block.last().map(|l| l.number).unwrap_or(first);
    profiles[pi].spans.push((file.to_string(), first, last));
    let mut merge = BlockMerge {
        file,
        pi,
        index,
        curated,
        section: None,
        mode: Mode::Description,
        foreign: None,
    };
    for l in block {
        merge.line(profiles, l, problems);
    }
}

/// The state of merging one block into profile `pi`.
struct BlockMerge<'a, 'c> {
    file: &'a str,
    pi: usize,
    index: &'a CleanIndex<'c>,
    curated: &'a Curated,
    section: Option<usize>, // where unmatched lines of this block go
    mode: Mode,
    // After a line that repeats another actor's text, the lines that follow it in the same
    // section are that actor's too (the CyberPeace social block filed after WIPO).
    foreign: Option<usize>,
}

impl BlockMerge<'_, '_> {
    fn line(&mut self, profiles: &mut [Profile], l: &Line, problems: &mut Problems) {
        let text = l.text.as_str();
        if let Some(reason) = prose::junk_kind(text) {
            problems.removed(self.file, l.number, format!("{reason}: {}", short(text)));
            return;
        }
        if let Some((f, value)) = field(text) {
            self.merge_field(&mut profiles[self.pi], f, value, l.number, problems);
            return;
        }
        if let Some(m) = marker(text) {
            self.mode = m;
            self.section = None;
            self.foreign = None;
            return;
        }
        if self.follow_heading(&mut profiles[self.pi], text, l.number) {
            return;
        }
        let fp = Fingerprint::new(text);
        if let Some(c) = self.index.find(&fp, self.pi) {
            self.repeated(profiles, c, l.number, problems);
            return;
        }
        self.add(profiles, l, problems);
    }

    /// A field line: fills what the clean profile lacks; a different value is reported, and
    /// the clean profile's kept.
    fn merge_field(
        &self,
        p: &mut Profile,
        f: &str,
        value: &str,
        line: usize,
        problems: &mut Problems,
    ) {
        let existing = match f {
            "Address:" => &mut p.address,
            "Website:" => &mut p.website,
            "Stakeholder group:" => &mut p.stakeholder_group,
            "Acronym:" => &mut p.acronym,
            _ => {
                problems.warn(
                    self.file,
                    line,
                    format!("'{f}' in a scrape block is ignored: the clean profile states it"),
                );
                return;
            }
        };
        match existing {
            Some(e) if squash_key(&e.value) != squash_key(value) => problems.warn(
                self.file,
                line,
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
                    origin: Origin::new(self.file, line),
                })
            }
        }
    }

    /// True when the line is an issue heading: the lines after it go to that section.
    fn follow_heading(&mut self, p: &mut Profile, text: &str, line: usize) -> bool {
        // A heading the clean profile has: continue in that section.
        let heading_match = p.sections.iter().position(|s| {
            s.heading
                .as_deref()
                .is_some_and(|h| fold_typography(h) == fold_typography(text))
        });
        if let Some(si) = heading_match {
            self.section = Some(si);
        } else if let Some(topics) = self.curated.heading_topics(text) {
            // An issue heading the clean profile lacks: a new section, from the scrape.
            p.sections.push(Section {
                kind: SectionKind::Issue,
                heading: Some(text.to_string()),
                tagline: None,
                parent: None,
                topics: topics.to_vec(),
                paras: vec![],
                origin: Origin::new(self.file, line),
            });
            self.section = Some(p.sections.len() - 1);
        } else {
            return false;
        }
        self.mode = Mode::Issues;
        self.foreign = None;
        true
    }

    /// A line that repeats clean text `c`: dropped, or (another actor's) not added here.
    fn repeated(
        &mut self,
        profiles: &[Profile],
        c: &CleanPara,
        line: usize,
        problems: &mut Problems,
    ) {
        let pi = self.pi;
        if c.profile != pi {
            problems.warn(
                self.file,
                line,
                format!(
                    "belongs to {} (repeats {}:{}), not to {}: not added to {}",
                    owner_name(&profiles[c.profile]),
                    c.origin.file,
                    c.origin.line,
                    owner_name(&profiles[pi]),
                    owner_name(&profiles[pi])
                ),
            );
            self.foreign = Some(c.profile);
            return;
        }
        problems.removed(
            self.file,
            line,
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
            self.section = Some(c.section);
        }
    }

    /// A new line: a channel, a tool or a paragraph, for this profile or the foreign one.
    fn add(&mut self, profiles: &mut [Profile], l: &Line, problems: &mut Problems) {
        let owner = self.foreign.unwrap_or(self.pi);
        if self.foreign.is_some() {
            problems.warn(
                self.file,
                l.number,
                format!(
                    "follows text of {}, so it is attributed to it",
                    owner_name(&profiles[owner])
                ),
            );
        }
        let p = &mut profiles[owner];
        let text = l.text.as_str();
        let origin = Origin::new(self.file, l.number);
        if self.mode == Mode::Channels && add_channel(p, text, &origin) {
            return;
        }
        if self.mode == Mode::Tools && add_tool(p, text, &origin) {
            return;
        }
        let clean_text = prose::strip_link_prompts(text);
        let para = Para {
            truncated: prose::is_truncated(&clean_text),
            text: clean_text,
            origin,
        };
        if para.truncated {
            problems.warn(
                self.file,
                l.number,
                format!("paragraph is cut off mid-sentence: …{}", tail(&para.text)),
            );
        }
        let si = match self.section.filter(|_| self.foreign.is_none()) {
            Some(si) => si,
            None => p.section_mut(self.mode.section_kind(), &para.origin),
        };
        p.sections[si].paras.push(para);
    }
}

fn owner_name(p: &Profile) -> String {
    p.name
        .as_ref()
        .map(|n| n.value.clone())
        .unwrap_or_else(|| p.slug.clone())
}

/// A channel line ("LinkedIn @wipo"), added unless the profile has it; false for other text.
fn add_channel(p: &mut Profile, text: &str, origin: &Origin) -> bool {
    let Some(c) = CHANNEL.captures(text) else {
        return false;
    };
    let handle = prose::trim(&c[2]).to_string();
    if !p
        .channels
        .iter()
        .any(|ch| ch.platform == c[1] && ch.handle == handle)
    {
        p.channels.push(Channel {
            platform: c[1].to_string(),
            handle,
            origin: origin.clone(),
        });
    }
    true
}

/// A tool line ("WIPO Match – platform that…"); false for a line without the dash.
fn add_tool(p: &mut Profile, text: &str, origin: &Origin) -> bool {
    let t = prose::strip_bullet(text).unwrap_or(text);
    let Some((name, desc)) = t.split_once(" – ").or_else(|| t.split_once("– ")) else {
        return false;
    };
    p.items.push(Item {
        name: prose::trim(name).to_string(),
        description: Some(prose::trim(desc).to_string()),
        origin: origin.clone(),
    });
    true
}
