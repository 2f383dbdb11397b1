//! The passages stage: each profile's sections with their topics, its tools and channels, the
//! actor's description and activities, and every paragraph as a passage — of profiles,
//! documents (a body's description is that body's), the report's footnotes, address lines.

use std::collections::{HashMap, HashSet};

use super::{ActorRow, ChannelRow, DocKind, ItemRow, PassageRow, SectionKind, SectionRow, Stage};
use crate::import::curated::Curated;
use crate::import::model::{Document, Para, Profile, Section};
use crate::import::prose;
use crate::search::normalize::search_copy;

impl Stage<'_, '_> {
    /// Profile sections with their topics, and every paragraph as a passage: profiles, documents
    /// (a body's description is that body's), the report's footnotes, address lines.
    pub(super) fn sections_and_passages(
        &mut self,
        profiles: &[Profile],
        documents: &[Document],
        extra_passages: &[(String, Para)],
        profile_documents: &HashMap<String, usize>,
    ) {
        for p in profiles.iter() {
            let Some(&ai) = self.slugs.get(&p.slug) else {
                continue;
            };
            let doc = profile_documents.get(&p.slug).copied();
            self.add_sections(p, ai, doc);
            self.add_address_passage(p, ai, doc);
            self.add_items_and_channels(p, ai);
            describe_actor(&mut self.atlas.actors[ai], p);
        }
        self.add_document_passages(documents);
        let Stage { atlas, slugs, .. } = self;
        for (slug, para) in extra_passages {
            let actor = slugs.get(slug).copied();
            let doc = profile_documents.get(slug).copied();
            atlas
                .passages
                .push(passage(actor, None, doc, usize::MAX / 2, para));
        }
    }

    /// A profile's sections in order, their topics, and their paragraphs as passages.
    fn add_sections(&mut self, p: &Profile, ai: usize, doc: Option<usize>) {
        let Stage {
            c, atlas, topic_ix, ..
        } = self;
        let base = atlas.sections.len();
        for (position, s) in p.sections.iter().enumerate() {
            let si = atlas.sections.len();
            atlas.sections.push(SectionRow {
                actor: ai,
                parent: s.parent.map(|x| base + x),
                kind: s.kind,
                heading: s.heading.clone(),
                tagline: s.tagline.clone(),
                position,
                origin: s.origin.clone(),
            });
            for t in section_topics(c, p, s) {
                if let Some(&ti) = topic_ix.get(&t) {
                    atlas.section_topics.push((si, ti));
                }
            }
            for (pos, para) in s.paras.iter().enumerate() {
                atlas
                    .passages
                    .push(passage(Some(ai), Some(si), doc, pos, para));
            }
        }
    }

    /// The address line is searchable too ("Varembé", "Palais des Nations").
    fn add_address_passage(&mut self, p: &Profile, ai: usize, doc: Option<usize>) {
        if let Some(f) = &p.address {
            let para = Para {
                text: f.evidence.clone(),
                origin: f.origin.clone(),
                truncated: false,
            };
            self.atlas
                .passages
                .push(passage(Some(ai), None, doc, usize::MAX / 4, &para));
        }
    }

    /// The actor's tools, and its channels once each.
    fn add_items_and_channels(&mut self, p: &Profile, ai: usize) {
        let atlas = &mut self.atlas;
        for it in &p.items {
            atlas.items.push(ItemRow {
                actor: ai,
                kind: "tool",
                name: it.name.clone(),
                description: it.description.clone(),
                origin: it.origin.clone(),
            });
        }
        let mut channel_seen = HashSet::new();
        for ch in &p.channels {
            if channel_seen.insert((ch.platform.clone(), ch.handle.clone())) {
                atlas.channels.push(ChannelRow {
                    actor: ai,
                    platform: ch.platform.clone(),
                    handle: ch.handle.clone(),
                    origin: ch.origin.clone(),
                });
            }
        }
    }

    /// Each listed tool with a description as a passage of its actor's text ("ABC Global Book
    /// Service – on-line catalogue that allows participating libraries for the blind …"):
    /// what a profile says of its tools is found by words. Added after the stages that read
    /// passages (mentions, rankings), which count a tool as a tool.
    pub(super) fn tool_passages(&mut self) {
        let atlas = &mut self.atlas;
        let tools: Vec<PassageRow> = atlas
            .items
            .iter()
            .filter_map(|it| {
                let text = format!("{} – {}", it.name, it.description.as_deref()?);
                Some(PassageRow {
                    actor: Some(it.actor),
                    section: None,
                    document: None,
                    position: usize::MAX / 2,
                    search_text: search_copy(&text),
                    text,
                    truncated: false,
                    origin: it.origin.clone(),
                    tool: true,
                })
            })
            .collect();
        atlas.passages.extend(tools);
    }

    /// Every paragraph of every document, as its author's passage.
    fn add_document_passages(&mut self, documents: &[Document]) {
        let atlas = &mut self.atlas;
        for (di, d) in documents.iter().enumerate() {
            // What the UN list says about a body is that body's, not the list's owner's.
            let row = &atlas.documents[di];
            let actor = match (row.kind, row.about) {
                (DocKind::Body, Some(about)) => Some(about),
                _ => row.owner,
            };
            for (pos, para) in d.paras.iter().enumerate() {
                atlas
                    .passages
                    .push(passage(actor, None, Some(di), pos, para));
            }
        }
    }
}

/// The topics of a section: its own and its heading's; a subsection without any takes its
/// parent's.
fn section_topics(c: &Curated, p: &Profile, s: &Section) -> Vec<String> {
    // Sections from formats without a heading map of their own (the report) get their
    // topics from the taxonomy here.
    let mapped: Vec<String> = match (&s.heading, s.kind) {
        (Some(h), SectionKind::Issue) if s.topics.is_empty() => c
            .heading_topics(h)
            .map(<[String]>::to_vec)
            .unwrap_or_default(),
        _ => vec![],
    };
    let mut topics: Vec<&String> = s.topics.iter().chain(mapped.iter()).collect();
    if topics.is_empty() && s.kind == SectionKind::Subsection {
        if let Some(parent) = s.parent {
            let parent = &p.sections[parent];
            topics = parent.topics.iter().collect();
            if topics.is_empty() {
                if let Some(ts) = parent.heading.as_deref().and_then(|h| c.heading_topics(h)) {
                    topics = ts.iter().collect();
                }
            }
        }
    }
    topics.into_iter().cloned().collect()
}

/// The actor's description (its first sentence as the summary), activities and tools note,
/// from the profile's sections of those kinds.
fn describe_actor(actor: &mut ActorRow, p: &Profile) {
    let desc: Vec<&Para> = p.paras_of(SectionKind::Description).collect();
    actor.description = join_paras(&desc);
    actor.summary = desc.first().map(|d| {
        prose::sentences(&d.text)
            .first()
            .copied()
            .unwrap_or(&d.text)
            .to_string()
    });
    let acts: Vec<&Para> = p.paras_of(SectionKind::Activities).collect();
    actor.activities = join_paras(&acts);
    let tools: Vec<&Para> = p.paras_of(SectionKind::Tools).collect();
    actor.tools_note = join_paras(&tools);
}

fn join_paras(paras: &[&Para]) -> Option<String> {
    if paras.is_empty() {
        None
    } else {
        Some(
            paras
                .iter()
                .map(|p| p.text.as_str())
                .collect::<Vec<_>>()
                .join("\n\n"),
        )
    }
}

pub(super) fn passage(
    actor: Option<usize>,
    section: Option<usize>,
    document: Option<usize>,
    position: usize,
    para: &Para,
) -> PassageRow {
    // A passage the source cuts off mid-sentence says so wherever it is shown.
    let text = if para.truncated && !para.text.ends_with('…') {
        format!("{}…", para.text.trim_end())
    } else {
        para.text.clone()
    };
    PassageRow {
        actor,
        section,
        document,
        position,
        text,
        search_text: search_copy(&para.text),
        truncated: para.truncated,
        origin: para.origin.clone(),
        tool: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::model::test_para as para;

    #[test]
    fn a_passage_cut_off_in_the_source_says_so() {
        let mut cut = para("UNCTAD serves as co-lead of the");
        cut.truncated = true;
        assert_eq!(
            passage(None, None, None, 0, &cut).text,
            "UNCTAD serves as co-lead of the…"
        );
        assert_eq!(passage(None, None, None, 0, &para("Whole.")).text, "Whole.");
    }
}
