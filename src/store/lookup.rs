//! Read queries for the lookup commands. Rows come back as plain structs; deciding what to
//! say is the commands' job. Every user string reaches SQL as a bound parameter; FTS5 input is
//! built by `search::fts_query`, which quotes every term.

use super::{Store, StoreError};

row! {
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
}

row! {
/// A name for the in-memory name index.
#[derive(Debug, Clone)]
pub struct NameRow {
    pub actor_id: i64,
    pub name: String,
    pub key: String,
    pub kind: String,
    pub profiled: bool,
}
}

row! {
#[derive(Debug, Clone)]
pub struct IssueRow {
    pub section_id: i64,
    pub heading: String,
    pub tagline: Option<String>,
    pub first_text: Option<String>,
}
}

row! {
#[derive(Debug, Clone)]
pub struct ItemRow {
    pub name: String,
    pub description: Option<String>,
}
}

row! {
#[derive(Debug, Clone)]
pub struct ChannelRow {
    pub platform: String,
    pub handle: String,
}
}

row! {
#[derive(Debug, Clone)]
pub struct MentionRow {
    pub sentence: String,
    pub written_as: String,
    pub by_slug: Option<String>,
    pub by_name: Option<String>,
    pub file: String,
    pub line: i64,
}
}

row! {
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
}

row! {
#[derive(Debug, Clone)]
pub struct RelatedStandard {
    pub relation: String,
    pub identifier: String,
}
}

row! {
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
}

row! {
#[derive(Debug, Clone)]
pub struct TopicRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub basket: String,
    pub basket_name: String,
    pub actors: i64,
}
}

row! {
#[derive(Debug, Clone)]
pub struct TermRow {
    pub key: String,
    pub term: String,
    pub topic_id: i64,
}
}

row! {
/// An actor whose profile has an issue section on a topic.
#[derive(Debug, Clone)]
pub struct HeadingHit {
    pub actor_id: i64,
    pub slug: String,
    pub name: String,
    pub acronym: Option<String>,
    pub heading: String,
    pub section_id: i64,
}
}

row! {
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
}

row! {
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
}

row! {
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
}

row! {
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
}

row! {
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
}

const ACTOR_COLUMNS: &str = "id, slug, kind, name, full_name, acronym, founded, founded_evidence, address, website, stakeholder_group, summary, description, activities, tools_note, parent_id, provenance";
const STANDARD_COLUMNS: &str = "id, identifier, key, base_number, body, type AS kind, series, covers, committee, family, domain, conformity, conformity_note, curated";
const DOCUMENT_SELECT: &str = "SELECT d.id, d.slug, d.kind, d.symbol, d.title, d.subtitle, d.summary, o.name AS owner_name, o.slug AS owner_slug, d.about_id, d.file, d.line, d.summary_curated FROM documents d LEFT JOIN actors o ON o.id = d.owner_id";

impl Store {
    pub async fn all_names(&self) -> Result<Vec<NameRow>, StoreError> {
        Ok(sqlx::query_as("SELECT n.actor_id, n.name, n.key, n.kind, a.kind = 'profiled' AS profiled FROM actor_names n JOIN actors a ON a.id = n.actor_id ORDER BY n.actor_id, n.rowid")
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn actor(&self, id: i64) -> Result<Option<ActorRow>, StoreError> {
        Ok(
            sqlx::query_as(&format!("SELECT {ACTOR_COLUMNS} FROM actors WHERE id = ?"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn actor_by_slug(&self, slug: &str) -> Result<Option<ActorRow>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {ACTOR_COLUMNS} FROM actors WHERE slug = ?"
        ))
        .bind(slug)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Issue sections of an actor, each with its first paragraph (for a one-line gist).
    pub async fn issues(&self, actor_id: i64) -> Result<Vec<IssueRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT s.id AS section_id, s.heading, s.tagline,
                    (SELECT p.text FROM passages p JOIN sections c ON c.id = p.section_id
                     WHERE c.id = s.id OR c.parent_id = s.id ORDER BY c.position, p.position LIMIT 1) AS first_text
             FROM sections s WHERE s.actor_id = ? AND s.kind = 'issue' AND s.heading IS NOT NULL ORDER BY s.position",
        )
        .bind(actor_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn items(&self, actor_id: i64) -> Result<Vec<ItemRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT name, description FROM actor_items WHERE actor_id = ? ORDER BY id",
        )
        .bind(actor_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn channels(&self, actor_id: i64) -> Result<Vec<ChannelRow>, StoreError> {
        Ok(
            sqlx::query_as("SELECT platform, handle FROM channels WHERE actor_id = ? ORDER BY id")
                .bind(actor_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Identifiers of the standards an actor's own text mentions, in order of first mention.
    pub async fn standards_of_actor(&self, actor_id: i64) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT s.identifier FROM standard_mentions m JOIN standards s ON s.id = m.standard_id WHERE m.actor_id = ? GROUP BY s.id ORDER BY MIN(m.id)",
        )
        .bind(actor_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(s,)| s).collect())
    }

    /// Sentences naming an actor in other actors' (or documents') text.
    pub async fn mentions_of(
        &self,
        actor_id: i64,
        limit: i64,
    ) -> Result<Vec<MentionRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT m.sentence, m.written_as, b.slug AS by_slug, b.name AS by_name, m.file, m.line
             FROM actor_mentions m JOIN passages p ON p.id = m.passage_id LEFT JOIN actors b ON b.id = p.actor_id
             WHERE m.actor_id = ?1 AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = p.document_id AND d.about_id = ?1)
             ORDER BY m.id LIMIT ?2",
        )
        .bind(actor_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Paragraphs that are the actor's own text outside a profile (an event blurb it
    /// organises, the UN list's description of it), in source order: (text, file, line).
    pub async fn own_passages(
        &self,
        actor_id: i64,
        limit: i64,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT text, file, line FROM passages WHERE actor_id = ?1 AND section_id IS NULL
             ORDER BY file, line LIMIT ?2",
        )
        .bind(actor_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn count_mentions_of(&self, actor_id: i64) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM actor_mentions m JOIN passages p ON p.id = m.passage_id
             WHERE m.actor_id = ?1 AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = p.document_id AND d.about_id = ?1)",
        )
        .bind(actor_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(n)
    }

    pub async fn all_standards(&self) -> Result<Vec<StandardRow>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {STANDARD_COLUMNS} FROM standards ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn related_standards(
        &self,
        standard_id: i64,
    ) -> Result<Vec<RelatedStandard>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT r.relation, o.identifier FROM standard_relations r JOIN standards o ON o.id = r.other_id WHERE r.standard_id = ? ORDER BY r.relation, o.key",
        )
        .bind(standard_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn standard_mentions(
        &self,
        standard_id: i64,
    ) -> Result<Vec<StandardMention>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT a.slug AS actor_slug, a.name AS actor_name, a.acronym AS actor_acronym, m.written_as, m.sentence, m.file, m.line
             FROM standard_mentions m LEFT JOIN actors a ON a.id = m.actor_id WHERE m.standard_id = ? ORDER BY m.id",
        )
        .bind(standard_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Topics with their basket and how many actors have an issue section on them.
    pub async fn topics(&self) -> Result<Vec<TopicRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT t.id, t.slug, t.name, t.basket, b.name AS basket_name,
                    (SELECT COUNT(DISTINCT s.actor_id) FROM section_topics st JOIN sections s ON s.id = st.section_id WHERE st.topic_id = t.id) AS actors
             FROM topics t JOIN baskets b ON b.slug = t.basket ORDER BY b.position, t.position",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn topic_terms(&self) -> Result<Vec<TermRow>, StoreError> {
        Ok(
            sqlx::query_as("SELECT key, term, topic_id FROM topic_terms ORDER BY topic_id, rowid")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// A page of the actors working on a topic, best first, and how many there are in all.
    pub async fn topic_ranking(
        &self,
        topic_id: i64,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<RankedActorRow>, i64), StoreError> {
        let rows = sqlx::query_as(
            "SELECT a.id AS actor_id, a.name, a.acronym, t.headings, t.evidence, t.file, t.line
             FROM topic_actors t JOIN actors a ON a.id = t.actor_id
             WHERE t.topic_id = ?1 ORDER BY t.rank LIMIT ?2 OFFSET ?3",
        )
        .bind(topic_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let (total,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM topic_actors WHERE topic_id = ?1")
                .bind(topic_id)
                .fetch_one(&self.pool)
                .await?;
        Ok((rows, total))
    }

    /// Actors with an issue section (or sub-section) on the topic, one row per section.
    pub async fn heading_hits(&self, topic_id: i64) -> Result<Vec<HeadingHit>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT a.id AS actor_id, a.slug, a.name, a.acronym, s.heading, s.id AS section_id
             FROM section_topics st JOIN sections s ON s.id = st.section_id JOIN actors a ON a.id = s.actor_id
             WHERE st.topic_id = ? AND s.heading IS NOT NULL AND s.kind = 'issue' ORDER BY a.id, s.position",
        )
        .bind(topic_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Paragraphs of a section (and its sub-sections), in order.
    pub async fn section_texts(&self, section_id: i64) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT p.text FROM passages p JOIN sections s ON s.id = p.section_id WHERE s.id = ?1 OR s.parent_id = ?1 ORDER BY s.position, p.position",
        )
        .bind(section_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(t,)| t).collect())
    }

    /// Full-text search over passages. `fts` must come from `search::fts_query` (quoted terms).
    /// `documents`: Some(true) only document passages, Some(false) only actors' profile text.
    pub async fn search_passages(
        &self,
        fts: &str,
        documents: Option<bool>,
        limit: i64,
    ) -> Result<Vec<PassageHit>, StoreError> {
        let filter = match documents {
            Some(true) => "AND p.document_id IS NOT NULL",
            Some(false) => "AND p.actor_id IS NOT NULL AND p.document_id IS NULL",
            None => "",
        };
        // The filter is one of three constant strings; the query text is bound.
        Ok(sqlx::query_as(&format!(
            "SELECT p.id AS passage_id, p.actor_id, a.slug AS actor_slug, a.name AS actor_name, a.acronym AS actor_acronym,
                    p.document_id, p.text, bm25(passages_fts) AS rank, p.file, p.line
             FROM passages_fts JOIN passages p ON p.id = passages_fts.rowid LEFT JOIN actors a ON a.id = p.actor_id
             WHERE passages_fts MATCH ? {filter} ORDER BY rank LIMIT ?"
        ))
        .bind(fts)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn document(&self, id: i64) -> Result<Option<DocumentRow>, StoreError> {
        Ok(sqlx::query_as(&format!("{DOCUMENT_SELECT} WHERE d.id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn document_by_symbol(
        &self,
        symbol_key: &str,
    ) -> Result<Option<DocumentRow>, StoreError> {
        Ok(
            sqlx::query_as(&format!("{DOCUMENT_SELECT} WHERE d.symbol_key = ?"))
                .bind(symbol_key)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn all_documents(&self) -> Result<Vec<DocumentRow>, StoreError> {
        Ok(sqlx::query_as(&format!("{DOCUMENT_SELECT} ORDER BY d.id"))
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn document_mentions(&self, document_id: i64) -> Result<Vec<MentionRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT m.sentence, d.symbol AS written_as, b.slug AS by_slug, b.name AS by_name, m.file, m.line
             FROM document_mentions m JOIN documents d ON d.id = m.document_id JOIN passages p ON p.id = m.passage_id
             LEFT JOIN actors b ON b.id = p.actor_id WHERE m.document_id = ? AND (p.document_id IS NULL OR p.document_id != m.document_id) ORDER BY m.id",
        )
        .bind(document_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// (kind, count) of the documents an actor lists or publishes.
    pub async fn documents_owned(&self, actor_id: i64) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as("SELECT kind, COUNT(*) FROM documents WHERE owner_id = ? GROUP BY kind ORDER BY COUNT(*) DESC, kind")
            .bind(actor_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Where a "body" entry describes this actor: (file, line).
    pub async fn documents_about(&self, actor_id: i64) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT file, line FROM documents WHERE about_id = ? ORDER BY id")
                .bind(actor_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn glossary(&self) -> Result<Vec<GlossaryRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT term, key, expansion, curated, status, file, line FROM glossary ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn atlas_events(&self) -> Result<Vec<AtlasEventRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT e.slug, e.title, e.starts, e.ends, e.date_text, e.place, e.recurrence, a.name AS organiser, e.description, e.file, e.line
             FROM atlas_events e LEFT JOIN actors a ON a.id = e.organiser_id ORDER BY e.id",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
