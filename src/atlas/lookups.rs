//! The lookups: each answers one question a command asks, from the read model's rows and
//! indexes, as the view the command renders.

use std::collections::HashMap;

use super::rows;
use super::views::*;
use super::{id, pos, pos_in, Atlas};

impl Atlas {
    fn actor_view(&self, i: usize) -> ActorRow {
        let a = &self.rows.actors[i];
        ActorRow {
            id: id(i),
            slug: a.slug.clone(),
            kind: a.kind.to_string(),
            name: a.name.clone(),
            full_name: a.full_name.clone(),
            acronym: a.acronym.clone(),
            founded: a.founded,
            founded_evidence: a.founded_evidence.clone(),
            address: a.address.clone(),
            website: a.website.clone(),
            stakeholder_group: a.stakeholder_group.clone(),
            summary: a.summary.clone(),
            description: a.description.clone(),
            activities: a.activities.clone(),
            tools_note: a.tools_note.clone(),
            parent_id: a.parent.map(id),
            provenance: a.provenance.clone(),
        }
    }

    pub(super) fn standard_view(&self, i: usize) -> StandardRow {
        let s = &self.rows.standards[i];
        StandardRow {
            id: id(i),
            identifier: s.identifier.clone(),
            key: s.key.clone(),
            base_number: s.base_number.clone(),
            body: s.body.clone(),
            kind: s.kind.clone(),
            series: s.series,
            covers: s.covers.clone(),
            committee: s.committee.clone(),
            family: s.family.clone(),
            domain: s.domain.clone(),
            conformity: s.conformity.clone(),
            conformity_note: s.conformity_note.clone(),
            curated: s.curated,
        }
    }

    pub(super) fn document_view(&self, i: usize) -> DocumentRow {
        let d = &self.rows.documents[i];
        let owner = d.owner.and_then(|o| self.rows.actors.get(o));
        DocumentRow {
            id: id(i),
            slug: d.slug.clone(),
            kind: d.kind.as_str().to_string(),
            symbol: d.symbol.clone(),
            title: d.title.clone(),
            subtitle: d.subtitle.clone(),
            summary: d.summary.clone(),
            owner_name: owner.map(|a| a.name.clone()),
            owner_slug: owner.map(|a| a.slug.clone()),
            about_id: d.about.map(id),
            file: d.origin.file.clone(),
            line: d.origin.line as i64,
            summary_curated: d.summary_curated,
        }
    }

    pub fn actor(&self, id: i64) -> Option<ActorRow> {
        Some(self.actor_view(pos_in(id, self.rows.actors.len())?))
    }

    pub fn actor_by_slug(&self, slug: &str) -> Option<ActorRow> {
        self.by.actor_slug.get(slug).map(|&i| self.actor_view(i))
    }

    /// Paragraphs of a section and its sub-sections, in order.
    fn section_passages(&self, section: usize) -> impl Iterator<Item = &rows::PassageRow> {
        std::iter::once(section)
            .chain(self.by.subsections[section].iter().copied())
            .flat_map(|s| self.by.passages_of_section[s].iter())
            .map(|&p| &self.rows.passages[p])
    }

    /// Issue sections of an actor, each with its first paragraph (for a one-line gist).
    pub fn issues(&self, actor_id: i64) -> Vec<IssueRow> {
        let Some(a) = pos_in(actor_id, self.rows.actors.len()) else {
            return vec![];
        };
        self.by.sections_of_actor[a]
            .iter()
            .filter_map(|&s| {
                let row = &self.rows.sections[s];
                let heading = row.heading.clone()?;
                (row.kind == rows::SectionKind::Issue).then(|| IssueRow {
                    section_id: id(s),
                    heading,
                    tagline: row.tagline.clone(),
                    first_text: self.section_passages(s).next().map(|p| p.text.clone()),
                })
            })
            .collect()
    }

    /// Paragraphs of a section (and its sub-sections), in order.
    pub fn section_texts(&self, section_id: i64) -> Vec<String> {
        match pos_in(section_id, self.rows.sections.len()) {
            Some(s) => self.section_passages(s).map(|p| p.text.clone()).collect(),
            None => vec![],
        }
    }

    pub(super) fn of_actor<'a>(&'a self, lists: &'a [Vec<usize>], actor_id: i64) -> &'a [usize] {
        pos(actor_id)
            .and_then(|a| lists.get(a))
            .map_or(&[], Vec::as_slice)
    }

    pub fn items(&self, actor_id: i64) -> Vec<ItemRow> {
        self.of_actor(&self.by.items_of_actor, actor_id)
            .iter()
            .map(|&i| ItemRow {
                name: self.rows.items[i].name.clone(),
                description: self.rows.items[i].description.clone(),
            })
            .collect()
    }

    pub fn channels(&self, actor_id: i64) -> Vec<ChannelRow> {
        self.of_actor(&self.by.channels_of_actor, actor_id)
            .iter()
            .map(|&i| ChannelRow {
                platform: self.rows.channels[i].platform.clone(),
                handle: self.rows.channels[i].handle.clone(),
            })
            .collect()
    }

    /// Identifiers of the standards an actor's own text mentions, in order of first mention.
    pub fn standards_of_actor(&self, actor_id: i64) -> Vec<String> {
        self.of_actor(&self.by.standards_of_actor, actor_id)
            .iter()
            .map(|&s| self.rows.standards[s].identifier.clone())
            .collect()
    }

    /// Who wrote a passage: (slug, name) of its actor.
    fn written_by(&self, passage: usize) -> (Option<String>, Option<String>) {
        let actor = self.rows.passages[passage]
            .actor
            .and_then(|a| self.rows.actors.get(a));
        (actor.map(|a| a.slug.clone()), actor.map(|a| a.name.clone()))
    }

    fn mention_view(&self, m: &rows::MentionRow, written_as: String) -> MentionRow {
        let (by_slug, by_name) = self.written_by(m.passage);
        MentionRow {
            sentence: m.sentence.clone(),
            written_as,
            by_slug,
            by_name,
            file: m.origin.file.clone(),
            line: m.origin.line as i64,
        }
    }

    /// The sentences most about an actor first: where it is what the sentence is about (named
    /// at the start: "UNDP launched AIDA") before where it is one name in a list ("Members
    /// include …, UNDP, UNICEF, …"); source order among equals. Each sentence once.
    pub fn mentions_most_about(&self, actor_id: i64, limit: usize) -> Vec<MentionRow> {
        let mut scored: Vec<(f64, usize)> = self
            .of_actor(&self.by.mentions_of_actor, actor_id)
            .iter()
            .map(|&i| (aboutness(&self.rows.actor_mentions[i]), i))
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut seen = std::collections::HashSet::new();
        scored
            .into_iter()
            .filter(|(_, i)| seen.insert(self.rows.actor_mentions[*i].sentence.clone()))
            .take(limit)
            .map(|(_, i)| {
                let m = &self.rows.actor_mentions[i];
                self.mention_view(m, m.written_as.clone())
            })
            .collect()
    }

    /// Names the sources print for an actor in brackets after its name, with where:
    /// "Géopolitique de la Datasphère (001:127)".
    pub fn printed_names_of(&self, actor_id: i64) -> Vec<(String, String, i64)> {
        self.rows
            .printed_names
            .iter()
            .filter(|(a, _, _)| super::id(*a) == actor_id)
            .map(|(_, name, o)| (name.clone(), o.file.clone(), o.line as i64))
            .collect()
    }

    /// What the actor's profile states on lines of their own: (fact, value, file, line).
    pub fn stated_facts(&self, actor_id: i64) -> Vec<(&'static str, String, String, i64)> {
        self.of_actor(&self.by.facts_of_actor, actor_id)
            .iter()
            .map(|&i| {
                let (_, fact, value, o) = &self.rows.actor_facts[i];
                (*fact, value.clone(), o.file.clone(), o.line as i64)
            })
            .collect()
    }

    /// Every name the actor goes by, with its kind ("name", "acronym", "alias"), in the order
    /// the importer gave them.
    pub fn names_of(&self, actor_id: i64) -> Vec<(String, &'static str)> {
        self.of_actor(&self.by.names_of_actor, actor_id)
            .iter()
            .map(|&i| {
                let (_, name, _, kind) = &self.rows.actor_names[i];
                (name.clone(), *kind)
            })
            .collect()
    }

    /// Every paragraph of the actor's text — its profile's and its own elsewhere, tools
    /// aside — in source order: (text, file, line).
    pub fn text_of(&self, actor_id: i64) -> Vec<(&str, &str, i64)> {
        self.of_actor(&self.by.text_of_actor, actor_id)
            .iter()
            .map(|&p| {
                let p = &self.rows.passages[p];
                (
                    p.text.as_str(),
                    p.origin.file.as_str(),
                    p.origin.line as i64,
                )
            })
            .collect()
    }

    pub fn count_mentions_of(&self, actor_id: i64) -> usize {
        self.of_actor(&self.by.mentions_of_actor, actor_id).len()
    }

    /// Paragraphs that are the actor's own text outside a profile (an event blurb it
    /// organises, the UN list's description of it), in source order: (text, file, line).
    pub fn own_passages(&self, actor_id: i64, limit: usize) -> Vec<(String, String, i64)> {
        self.of_actor(&self.by.own_passages, actor_id)
            .iter()
            .take(limit)
            .map(|&p| {
                let p = &self.rows.passages[p];
                (p.text.clone(), p.origin.file.clone(), p.origin.line as i64)
            })
            .collect()
    }

    pub fn related_standards(&self, standard_id: i64) -> Vec<RelatedStandard> {
        pos(standard_id)
            .and_then(|s| self.by.relations_of_standard.get(s))
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|&i| {
                let (_, relation, other) = self.rows.standard_relations[i];
                RelatedStandard {
                    relation: relation.to_string(),
                    identifier: self.rows.standards[other].identifier.clone(),
                }
            })
            .collect()
    }

    pub fn standard_mentions(&self, standard_id: i64) -> Vec<StandardMention> {
        pos(standard_id)
            .and_then(|s| self.by.mentions_of_standard.get(s))
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|&i| {
                let (_, actor, m) = &self.rows.standard_mentions[i];
                let a = actor.and_then(|a| self.rows.actors.get(a));
                StandardMention {
                    actor_slug: a.map(|a| a.slug.clone()),
                    actor_name: a.map(|a| a.name.clone()),
                    actor_acronym: a.and_then(|a| a.acronym.clone()),
                    written_as: m.written_as.clone(),
                    sentence: m.sentence.clone(),
                    file: m.origin.file.clone(),
                    line: m.origin.line as i64,
                }
            })
            .collect()
    }

    /// A page of the actors working on a topic, best first, and how many there are in all.
    pub fn topic_ranking(
        &self,
        topic_id: i64,
        offset: usize,
        limit: usize,
    ) -> (Vec<RankedActorRow>, usize) {
        let ranking = pos(topic_id)
            .and_then(|t| self.by.ranking_of_topic.get(t))
            .map_or(&[][..], Vec::as_slice);
        let page = ranking
            .iter()
            .skip(offset)
            .take(limit)
            .map(|&i| self.ranked_view(&self.rows.topic_actors[i]))
            .collect();
        (page, ranking.len())
    }

    /// The actor ids of a topic's whole ranking, best first.
    pub fn topic_ranking_ids(&self, topic_id: i64) -> Vec<i64> {
        pos(topic_id)
            .and_then(|t| self.by.ranking_of_topic.get(t))
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|&i| id(self.rows.topic_actors[i].actor))
            .collect()
    }

    /// One actor's place in a topic's ranking, if it has one.
    pub fn ranked(&self, topic_id: i64, actor_id: i64) -> Option<RankedActorRow> {
        let ranking = self.by.ranking_of_topic.get(pos(topic_id)?)?;
        ranking
            .iter()
            .map(|&i| &self.rows.topic_actors[i])
            .find(|r| id(r.actor) == actor_id)
            .map(|r| self.ranked_view(r))
    }

    fn ranked_view(&self, r: &rows::TopicActorRow) -> RankedActorRow {
        let a = &self.rows.actors[r.actor];
        RankedActorRow {
            actor_id: id(r.actor),
            name: a.name.clone(),
            acronym: a.acronym.clone(),
            headings: (!r.headings.is_empty()).then(|| r.headings.join("\n")),
            evidence: r.evidence.clone(),
            file: r.origin.as_ref().map(|o| o.file.clone()),
            line: r.origin.as_ref().map(|o| o.line as i64),
        }
    }

    pub fn document(&self, id: i64) -> Option<DocumentRow> {
        self.documents.get(pos(id)?).cloned()
    }

    /// The document with this UN symbol (any case).
    pub fn document_by_symbol(&self, symbol_key: &str) -> Option<DocumentRow> {
        let i = *self.by.document_symbol.get(&symbol_key.to_lowercase())?;
        self.documents.get(i).cloned()
    }

    /// Sentences citing a document outside its own text, in source order.
    pub fn document_mentions(&self, document_id: i64) -> Vec<MentionRow> {
        let Some(d) = pos_in(document_id, self.rows.documents.len()) else {
            return vec![];
        };
        let symbol = self.rows.documents[d].symbol.clone().unwrap_or_default();
        self.by.mentions_of_document[d]
            .iter()
            .map(|&i| self.mention_view(&self.rows.document_mentions[i], symbol.clone()))
            .collect()
    }

    /// (kind, count) of the documents an actor lists or publishes, most first.
    pub fn documents_owned(&self, actor_id: i64) -> Vec<(String, i64)> {
        let mut counts: HashMap<&str, i64> = HashMap::new();
        for &d in self.of_actor(&self.by.documents_of_owner, actor_id) {
            *counts
                .entry(self.rows.documents[d].kind.as_str())
                .or_default() += 1;
        }
        let mut out: Vec<(String, i64)> = counts
            .into_iter()
            .map(|(k, n)| (k.to_string(), n))
            .collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    /// Where a "body" entry describes this actor: (file, line).
    /// The UN list's entries the actor lists, in row order.
    pub fn documents_of(&self, actor_id: i64) -> Vec<DocumentRow> {
        self.of_actor(&self.by.documents_of_owner, actor_id)
            .iter()
            .filter_map(|&d| self.documents.get(d).cloned())
            .collect()
    }

    pub fn documents_about(&self, actor_id: i64) -> Vec<(String, i64)> {
        self.of_actor(&self.by.documents_about, actor_id)
            .iter()
            .map(|&d| {
                let o = &self.rows.documents[d].origin;
                (o.file.clone(), o.line as i64)
            })
            .collect()
    }

    pub fn atlas_events(&self) -> Vec<AtlasEventRow> {
        self.rows
            .events
            .iter()
            .map(|e| AtlasEventRow {
                slug: e.slug.clone(),
                title: e.title.clone(),
                starts: e.starts.clone(),
                ends: e.ends.clone(),
                date_text: e.date_text.clone(),
                place: e.place.clone(),
                recurrence: e.recurrence.clone(),
                organiser: e
                    .organiser
                    .and_then(|o| self.rows.actors.get(o))
                    .map(|a| a.name.clone()),
                description: e.description.clone(),
                file: e.origin.file.clone(),
                line: e.origin.line as i64,
            })
            .collect()
    }
}

/// How much a sentence is about the actor it mentions: high when the name opens it (the
/// subject), lower the later it comes, lower again for each comma-separated name around it
/// (a list of members says little of any one).
fn aboutness(m: &super::rows::MentionRow) -> f64 {
    let at = m
        .sentence
        .find(&m.written_as)
        .map_or(m.sentence.len(), |i| i);
    let words_before = m.sentence[..at].split_whitespace().count() as f64;
    let position = 1.0 / (1.0 + words_before / 4.0);
    let commas = m.sentence.matches(',').count() as f64;
    position - 0.08 * commas
}
