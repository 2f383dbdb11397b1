//! The atlas as rows: one struct per table, positions as ids (index + 1 is the row id). The
//! one Rust description of the atlas schema — the importer builds it (`import::build`, ranked
//! by `import::ranking`), the store writes it and reads it back (`store::atlas`), and the
//! in-memory read model (`atlas::Atlas`) is built from it.

#[derive(Debug, Clone)]
pub struct ActorRow {
    pub slug: String,
    pub kind: &'static str,
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
    pub parent: Option<usize>,
    pub provenance: String,
}

#[derive(Debug, Clone)]
pub struct SectionRow {
    pub actor: usize,
    pub parent: Option<usize>,
    pub kind: SectionKind,
    pub heading: Option<String>,
    pub tagline: Option<String>,
    pub position: usize,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct DocumentRow {
    pub slug: String,
    pub kind: DocKind,
    pub symbol: Option<String>,
    pub title: String,
    pub subtitle: Option<String>,
    pub summary: Option<String>,
    pub owner: Option<usize>,
    pub about: Option<usize>,
    pub origin: Origin,
    /// The summary is curated (data/documents.toml), not the sources' words.
    pub summary_curated: bool,
}

#[derive(Debug, Clone)]
pub struct PassageRow {
    pub actor: Option<usize>,
    pub section: Option<usize>,
    pub document: Option<usize>,
    pub position: usize,
    pub text: String,
    pub search_text: String,
    pub truncated: bool,
    pub origin: Origin,
    /// A listed tool's name and description, read into the read model as its actor's text
    /// (`Atlas::new`): found by words like any passage, never shown as a paragraph of it.
    pub tool: bool,
}

#[derive(Debug, Clone)]
pub struct ItemRow {
    pub actor: usize,
    pub kind: &'static str,
    pub name: String,
    pub description: Option<String>,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct ChannelRow {
    pub actor: usize,
    pub platform: String,
    pub handle: String,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct MentionRow {
    pub target: usize,
    pub passage: usize,
    pub written_as: String,
    pub sentence: String,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct StandardRow {
    pub slug: String,
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
    /// covers, domain and conformity note are curated, not the sources' words.
    pub curated: bool,
}

#[derive(Debug, Clone)]
pub struct EventRow {
    pub slug: String,
    pub title: String,
    pub starts: Option<String>,
    pub ends: Option<String>,
    pub date_text: Option<String>,
    pub place: Option<String>,
    pub recurrence: Option<String>,
    pub organiser: Option<usize>,
    pub description: String,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct TermRow {
    pub term: String,
    pub key: String,
    pub expansion: String,
    pub curated: bool,
    /// What the sources do with the term, checked at import, and the line that shows it.
    pub status: TermStatus,
    pub origin: Option<Origin>,
}

/// The whole atlas, as rows. Index + 1 is the row id.
#[derive(Debug, Default)]
pub struct Atlas {
    pub sources: Vec<(String, String, String, String)>,
    pub actors: Vec<ActorRow>,
    pub actor_names: Vec<(usize, String, String, &'static str)>,
    pub baskets: Vec<(String, String)>,
    pub topics: Vec<(String, String, String)>,
    pub topic_terms: Vec<(String, String, usize)>,
    pub sections: Vec<SectionRow>,
    pub section_topics: Vec<(usize, usize)>,
    pub documents: Vec<DocumentRow>,
    pub passages: Vec<PassageRow>,
    pub items: Vec<ItemRow>,
    pub channels: Vec<ChannelRow>,
    pub actor_mentions: Vec<MentionRow>,
    pub standards: Vec<StandardRow>,
    pub standard_relations: Vec<(usize, &'static str, usize)>,
    pub standard_mentions: Vec<(usize, Option<usize>, MentionRow)>,
    pub document_mentions: Vec<MentionRow>,
    pub events: Vec<EventRow>,
    pub glossary: Vec<TermRow>,
    /// (everyday phrase, the sources' term), from data/relatives.toml.
    pub relatives: Vec<(String, String)>,
    /// (actor, a name the sources print for it in brackets after its name, where).
    pub printed_names: Vec<(usize, String, Origin)>,
    /// (actor, fact, value, where): what a profile states on a line of its own (`Fact`).
    pub actor_facts: Vec<(usize, &'static str, String, Origin)>,
    /// Per topic, the actors working on it, ranked (see `ranking`).
    pub topic_actors: Vec<TopicActorRow>,
    pub data_hash: String,
}

/// The facts a profile may state on a line of its own, as `actor_facts` names them.
pub const FACTS: [&str; 5] = ["name", "acronym", "founded", "address", "website"];

/// The fact `s` names, as the static name rows carry.
pub fn fact_kind(s: &str) -> Option<&'static str> {
    FACTS.iter().find(|f| **f == s).copied()
}

impl Atlas {
    /// Row counts per table, in the order the import report prints them.
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        vec![
            ("actors", self.actors.len()),
            (
                "  profiled",
                self.actors.iter().filter(|a| a.kind == "profiled").count(),
            ),
            (
                "  mentioned in passing",
                self.actors.iter().filter(|a| a.kind == "mentioned").count(),
            ),
            ("actor names", self.actor_names.len()),
            ("sections", self.sections.len()),
            ("passages", self.passages.len()),
            ("tools and programmes", self.items.len()),
            ("social channels", self.channels.len()),
            ("actor mentions", self.actor_mentions.len()),
            ("topics", self.topics.len()),
            ("topic terms", self.topic_terms.len()),
            ("documents", self.documents.len()),
            ("document mentions", self.document_mentions.len()),
            ("standards", self.standards.len()),
            ("standard mentions", self.standard_mentions.len()),
            ("atlas events", self.events.len()),
            ("glossary terms", self.glossary.len()),
            ("everyday words for terms", self.relatives.len()),
            ("names printed in brackets", self.printed_names.len()),
            ("profile facts with their lines", self.actor_facts.len()),
            ("topic rankings", self.topic_actors.len()),
        ]
    }
}

/// One actor's place in one topic's ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicActorRow {
    pub topic: usize,
    pub actor: usize,
    /// 1 = first.
    pub rank: usize,
    pub score: f64,
    /// Headings of the actor's profile sections on the topic, in profile order.
    pub headings: Vec<String>,
    /// The sentence that best shows the link (contains a term of the topic), as written.
    pub evidence: Option<String>,
    pub origin: Option<Origin>,
}

/// Where a piece of text comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    pub file: String,
    pub line: usize,
}

impl Origin {
    pub fn new(file: &str, line: usize) -> Self {
        Origin {
            file: file.to_string(),
            line,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionKind {
    Issue,
    Subsection,
    Description,
    Activities,
    Tools,
    Channels,
    Other,
}

impl SectionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SectionKind::Issue => "issue",
            SectionKind::Subsection => "subsection",
            SectionKind::Description => "description",
            SectionKind::Activities => "activities",
            SectionKind::Tools => "tools",
            SectionKind::Channels => "channels",
            SectionKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<SectionKind> {
        [
            SectionKind::Issue,
            SectionKind::Subsection,
            SectionKind::Description,
            SectionKind::Activities,
            SectionKind::Tools,
            SectionKind::Channels,
            SectionKind::Other,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Document,
    Resolution,
    Report,
    Process,
    Programme,
    Body,
    Tool,
    Event,
    News,
}

impl DocKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Document => "document",
            DocKind::Resolution => "resolution",
            DocKind::Report => "report",
            DocKind::Process => "process",
            DocKind::Programme => "programme",
            DocKind::Body => "body",
            DocKind::Tool => "tool",
            DocKind::Event => "event",
            DocKind::News => "news",
        }
    }

    pub fn parse(s: &str) -> Option<DocKind> {
        Some(match s {
            "document" => DocKind::Document,
            "resolution" => DocKind::Resolution,
            "report" => DocKind::Report,
            "process" => DocKind::Process,
            "programme" => DocKind::Programme,
            "body" => DocKind::Body,
            "tool" => DocKind::Tool,
            "event" => DocKind::Event,
            "news" => DocKind::News,
            _ => return None,
        })
    }
}

/// What the sources do with a glossary term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermStatus {
    /// The expansion is written in the sources.
    Expanded,
    /// The term is written, never expanded; the expansion is curated.
    Used,
    /// The sources never write the term; the expansion is curated.
    Absent,
}

impl TermStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TermStatus::Expanded => "expanded",
            TermStatus::Used => "used",
            TermStatus::Absent => "absent",
        }
    }

    pub fn parse(s: &str) -> Option<TermStatus> {
        [TermStatus::Expanded, TermStatus::Used, TermStatus::Absent]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// The fixed vocabularies stored as text (actor kinds, name kinds, item kinds, standard
/// relations): a value read back from the database as the same `&'static str` the importer
/// wrote, or `None` for a value this binary does not know.
pub fn known_word(s: &str) -> Option<&'static str> {
    const WORDS: &[&str] = &[
        "profiled",
        "mentioned",
        "name",
        "acronym",
        "alias",
        "tool",
        "extends",
        "extended-by",
        "sibling",
    ];
    WORDS.iter().copied().find(|w| *w == s)
}
