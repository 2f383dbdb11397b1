//! What the lookup commands read: rows of the atlas joined the way an answer needs them
//! (an actor's mentions with who wrote them, a document with its owner's name). Built by
//! `Atlas` from memory; deciding what to say is the commands' job.

#[derive(Debug, Clone)]
pub struct ActorRow {
    pub id: i64,
    pub slug: String,
    pub kind: String,
    pub name: String,
    pub full_name: Option<String>,
    pub acronym: Option<String>,
    pub founded: Option<i64>,
    pub founded_evidence: Option<String>,
    pub address: Option<String>,
    pub website: Option<String>,
    pub stakeholder_group: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub activities: Option<String>,
    pub tools_note: Option<String>,
    pub parent_id: Option<i64>,
    pub provenance: String,
}

/// A name for the in-memory name index.
#[derive(Debug, Clone)]
pub struct NameRow {
    pub actor_id: i64,
    pub name: String,
    pub key: String,
    pub kind: String,
    pub profiled: bool,
}

#[derive(Debug, Clone)]
pub struct IssueRow {
    pub section_id: i64,
    pub heading: String,
    pub tagline: Option<String>,
    pub first_text: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ItemRow {
    pub name: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ChannelRow {
    pub platform: String,
    pub handle: String,
}

#[derive(Debug, Clone)]
pub struct MentionRow {
    pub sentence: String,
    pub written_as: String,
    pub by_slug: Option<String>,
    pub by_name: Option<String>,
    pub file: String,
    pub line: i64,
}

#[derive(Debug, Clone)]
pub struct StandardRow {
    pub id: i64,
    pub identifier: String,
    pub key: String,
    pub base_number: String,
    pub body: String,
    pub kind: String,
    pub series: bool,
    pub covers: String,
    pub committee: Option<String>,
    pub family: Option<String>,
    pub domain: Option<String>,
    pub conformity: Option<String>,
    pub conformity_note: Option<String>,
    pub curated: bool,
}

#[derive(Debug, Clone)]
pub struct RelatedStandard {
    pub relation: String,
    pub identifier: String,
}

#[derive(Debug, Clone)]
pub struct StandardMention {
    pub actor_slug: Option<String>,
    pub actor_name: Option<String>,
    pub actor_acronym: Option<String>,
    pub written_as: String,
    pub sentence: String,
    pub file: String,
    pub line: i64,
}

#[derive(Debug, Clone)]
pub struct TopicRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub basket: String,
    pub basket_name: String,
    pub actors: i64,
}

#[derive(Debug, Clone)]
pub struct TermRow {
    pub key: String,
    pub term: String,
    pub topic_id: i64,
}

/// A passage matched by full-text search, with its BM25 rank (lower is better).
#[derive(Debug, Clone)]
pub struct PassageHit {
    pub passage_id: i64,
    pub actor_id: Option<i64>,
    pub actor_slug: Option<String>,
    pub actor_name: Option<String>,
    pub actor_acronym: Option<String>,
    pub document_id: Option<i64>,
    pub text: String,
    pub rank: f64,
    pub file: String,
    pub line: i64,
}

#[derive(Debug, Clone)]
pub struct DocumentRow {
    pub id: i64,
    pub slug: String,
    pub kind: String,
    pub symbol: Option<String>,
    pub title: String,
    pub subtitle: Option<String>,
    pub summary: Option<String>,
    pub owner_name: Option<String>,
    pub owner_slug: Option<String>,
    pub about_id: Option<i64>,
    pub file: String,
    pub line: i64,
    /// The summary is curated (data/documents.toml), not the sources' words.
    pub summary_curated: bool,
}

#[derive(Debug, Clone)]
pub struct GlossaryRow {
    pub term: String,
    pub key: String,
    pub expansion: String,
    pub curated: bool,
    /// 'expanded', 'used' or 'absent' (see migration 0007).
    pub status: String,
    pub file: Option<String>,
    pub line: Option<i64>,
}

/// One actor's place in a topic's ranking (computed at import).
#[derive(Debug, Clone)]
pub struct RankedActorRow {
    pub actor_id: i64,
    pub name: String,
    pub acronym: Option<String>,
    pub headings: Option<String>,
    pub evidence: Option<String>,
    pub file: Option<String>,
    pub line: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct AtlasEventRow {
    pub slug: String,
    pub title: String,
    pub starts: Option<String>,
    pub ends: Option<String>,
    pub date_text: Option<String>,
    pub place: Option<String>,
    pub recurrence: Option<String>,
    pub organiser: Option<String>,
    pub description: String,
    pub file: String,
    pub line: i64,
}
