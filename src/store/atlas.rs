//! Writing the atlas: every atlas table is emptied and refilled in one transaction, so a reader
//! sees the old atlas or the new one, never half of each. Runtime tables are not touched.

use sqlx::{Sqlite, Transaction};

use super::{Store, StoreError};
use crate::atlas::rows::{Atlas, Origin};

/// A value bound into a bulk insert.
enum V {
    I(i64),
    T(String),
    N,
}

fn opt_t(s: &Option<String>) -> V {
    s.as_ref().map_or(V::N, |s| V::T(s.clone()))
}

fn opt_i(i: Option<usize>) -> V {
    i.map_or(V::N, |i| V::I(i as i64 + 1))
}

fn id(i: usize) -> V {
    V::I(i as i64 + 1)
}

/// Atlas tables, children first: the order in which they are emptied.
const ATLAS_TABLES: &[&str] = &[
    "topic_actors",
    "relatives",
    "printed_names",
    "actor_facts",
    "document_mentions",
    "standard_mentions",
    "standard_relations",
    "standards",
    "actor_mentions",
    "channels",
    "actor_items",
    "section_topics",
    "passages",
    "atlas_events",
    "documents",
    "sections",
    "topic_terms",
    "topics",
    "baskets",
    "actor_names",
    "actors",
    "glossary",
    "sources",
    "atlas_meta",
];

/// Inserts rows in multi-row statements. The SQL is built here, from table and column names
/// that are constants of this module, never from input; values are always bound.
async fn insert(
    tx: &mut Transaction<'_, Sqlite>,
    table: &str,
    columns: &str,
    rows: Vec<Vec<V>>,
) -> Result<(), StoreError> {
    let width = columns.split(", ").count();
    // SQLite allows 32766 bound variables per statement; stay well below.
    let per_statement = (8000 / width).max(1);
    let placeholders = format!("({})", vec!["?"; width].join(", "));
    for chunk in rows.chunks(per_statement) {
        let sql = format!(
            "INSERT INTO {table} ({columns}) VALUES {}",
            vec![placeholders.as_str(); chunk.len()].join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(&*sql));
        for row in chunk {
            debug_assert_eq!(row.len(), width, "{table}");
            for v in row {
                q = match v {
                    V::I(i) => q.bind(*i),
                    V::T(s) => q.bind(s.clone()),
                    V::N => q.bind(None::<String>),
                };
            }
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// One row's values: each converted by `V::from`; after `;`, a source position as its
/// `file, line` columns.
macro_rules! row {
    ($($v:expr),* $(; $origin:expr)?) => {{
        #[allow(unused_mut)]
        let mut values: Vec<V> = vec![$(V::from($v)),*];
        $(let o: &Origin = $origin; values.extend([V::T(o.file.clone()), V::I(o.line as i64)]);)?
        values
    }};
}

impl From<&String> for V {
    fn from(s: &String) -> V {
        V::T(s.clone())
    }
}
impl From<&str> for V {
    fn from(s: &str) -> V {
        V::T(s.to_string())
    }
}
impl From<&Option<String>> for V {
    fn from(s: &Option<String>) -> V {
        opt_t(s)
    }
}
impl From<i64> for V {
    fn from(i: i64) -> V {
        V::I(i)
    }
}
impl From<Option<i64>> for V {
    fn from(i: Option<i64>) -> V {
        i.map_or(V::N, V::I)
    }
}
impl From<bool> for V {
    fn from(b: bool) -> V {
        V::I(i64::from(b))
    }
}

/// A position or count, stored as it is (ids are `id`: positions + 1).
fn n(i: usize) -> V {
    V::I(i as i64)
}

/// An optional source position's `file, line` columns.
fn opt_origin(o: &Option<Origin>) -> [V; 2] {
    match o {
        Some(o) => [V::T(o.file.clone()), n(o.line)],
        None => [V::N, V::N],
    }
}

impl Store {
    /// Replaces the atlas with `atlas` in one transaction. `origin` records where it came from
    /// ("bundled" or a directory) so a newer binary knows whether to refresh it.
    pub async fn replace_atlas(&self, atlas: &Atlas, origin: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        for table in ATLAS_TABLES {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
                .execute(&mut *tx)
                .await?;
        }
        let meta = vec![row!["data_hash", &atlas.data_hash], row!["origin", origin]];
        insert(&mut tx, "atlas_meta", "key, value", meta).await?;
        write::actors(&mut tx, atlas).await?;
        write::taxonomy(&mut tx, atlas).await?;
        write::sections_and_documents(&mut tx, atlas).await?;
        write::text(&mut tx, atlas).await?;
        write::standards(&mut tx, atlas).await?;
        write::events_glossary_rankings(&mut tx, atlas).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Row counts of the atlas tables as stored (for the import report and tests).
    pub async fn atlas_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let mut out = Vec::new();
        for table in ATLAS_TABLES.iter().rev() {
            let (n,): (i64,) =
                sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                    .fetch_one(&self.pool)
                    .await?;
            out.push((table.to_string(), n));
        }
        Ok(out)
    }
}

/// Writing each group of tables, in the order the reader reads them back (parents before the
/// rows that point at them).
mod write {
    use sqlx::{Sqlite, Transaction};

    use super::{id, insert, n, opt_i, opt_origin, V};
    use crate::atlas::rows::{Atlas, Origin};
    use crate::store::StoreError;

    type Tx<'t> = Transaction<'t, Sqlite>;

    pub(super) async fn actors(tx: &mut Tx<'_>, a: &Atlas) -> Result<(), StoreError> {
        let sources = a.sources.iter().map(|(s, f, fo, t)| row![s, f, fo, t]);
        insert(
            tx,
            "sources",
            "slug, file, format, title",
            sources.collect(),
        )
        .await?;
        let actors = a.actors.iter().enumerate().map(|(i, r)| {
            row![
                id(i),
                &r.slug,
                r.kind,
                &r.name,
                &r.full_name,
                &r.acronym,
                r.founded,
                &r.founded_evidence,
                &r.address,
                &r.website,
                &r.stakeholder_group,
                &r.summary,
                &r.description,
                &r.activities,
                &r.tools_note,
                opt_i(r.parent),
                &r.provenance
            ]
        });
        let columns = "id, slug, kind, name, full_name, acronym, founded, founded_evidence, address, website, stakeholder_group, summary, description, activities, tools_note, parent_id, provenance";
        insert(tx, "actors", columns, actors.collect()).await?;
        let names = a
            .actor_names
            .iter()
            .map(|(i, name, key, kind)| row![id(*i), name, key, *kind]);
        insert(
            tx,
            "actor_names",
            "actor_id, name, key, kind",
            names.collect(),
        )
        .await?;
        let printed = a
            .printed_names
            .iter()
            .map(|(i, name, o)| row![id(*i), name; o]);
        insert(
            tx,
            "printed_names",
            "actor_id, name, file, line",
            printed.collect(),
        )
        .await?;
        let facts = a
            .actor_facts
            .iter()
            .map(|(i, fact, value, o)| row![id(*i), *fact, value; o]);
        insert(
            tx,
            "actor_facts",
            "actor_id, fact, value, file, line",
            facts.collect(),
        )
        .await
    }

    pub(super) async fn taxonomy(tx: &mut Tx<'_>, a: &Atlas) -> Result<(), StoreError> {
        let baskets = a
            .baskets
            .iter()
            .enumerate()
            .map(|(i, (s, name))| row![s, name, n(i)]);
        insert(tx, "baskets", "slug, name, position", baskets.collect()).await?;
        let topics = a.topics.iter().enumerate();
        let topics = topics.map(|(i, (s, name, b))| row![id(i), s, name, b, n(i)]);
        insert(
            tx,
            "topics",
            "id, slug, name, basket, position",
            topics.collect(),
        )
        .await?;
        let terms = a.topic_terms.iter().map(|(k, t, ti)| row![k, t, id(*ti)]);
        insert(tx, "topic_terms", "key, term, topic_id", terms.collect()).await?;
        let relatives = a.relatives.iter().map(|(said, word)| row![said, word]);
        insert(tx, "relatives", "said, word", relatives.collect()).await
    }

    pub(super) async fn sections_and_documents(
        tx: &mut Tx<'_>,
        a: &Atlas,
    ) -> Result<(), StoreError> {
        let sections = a.sections.iter().enumerate().map(|(i, s)| {
            row![
                id(i), id(s.actor), opt_i(s.parent), s.kind.as_str(), &s.heading, &s.tagline,
                n(s.position); &s.origin
            ]
        });
        let columns = "id, actor_id, parent_id, kind, heading, tagline, position, file, line";
        insert(tx, "sections", columns, sections.collect()).await?;
        let pairs = a.section_topics.iter().map(|(s, t)| row![id(*s), id(*t)]);
        insert(
            tx,
            "section_topics",
            "section_id, topic_id",
            pairs.collect(),
        )
        .await?;
        let documents = a.documents.iter().enumerate().map(|(i, d)| {
            let symbol_key = d.symbol.as_ref().map(|s| s.to_lowercase());
            let mut values = row![
                id(i), &d.slug, d.kind.as_str(), &d.symbol, &symbol_key, &d.title, &d.subtitle,
                &d.summary, opt_i(d.owner), opt_i(d.about); &d.origin
            ];
            values.push(V::from(d.summary_curated));
            values
        });
        let columns = "id, slug, kind, symbol, symbol_key, title, subtitle, summary, owner_id, about_id, file, line, summary_curated";
        insert(tx, "documents", columns, documents.collect()).await
    }

    pub(super) async fn text(tx: &mut Tx<'_>, a: &Atlas) -> Result<(), StoreError> {
        let passages = a.passages.iter().enumerate().map(|(i, p)| {
            row![
                id(i), opt_i(p.actor), opt_i(p.section), opt_i(p.document), n(p.position),
                &p.text, &p.search_text, p.truncated, p.tool; &p.origin
            ]
        });
        let columns =
            "id, actor_id, section_id, document_id, position, text, search_text, truncated, tool, file, line";
        insert(tx, "passages", columns, passages.collect()).await?;
        sqlx::query("INSERT INTO passages_fts (passages_fts) VALUES ('rebuild')")
            .execute(&mut **tx)
            .await?;
        let items = a.items.iter().enumerate().map(
            |(i, it)| row![id(i), id(it.actor), it.kind, &it.name, &it.description; &it.origin],
        );
        let columns = "id, actor_id, kind, name, description, file, line";
        insert(tx, "actor_items", columns, items.collect()).await?;
        let channels = a
            .channels
            .iter()
            .enumerate()
            .map(|(i, c)| row![id(i), id(c.actor), &c.platform, &c.handle; &c.origin]);
        let columns = "id, actor_id, platform, handle, file, line";
        insert(tx, "channels", columns, channels.collect()).await?;
        let mentions = a.actor_mentions.iter().enumerate().map(|(i, m)| {
            row![id(i), id(m.target), id(m.passage), &m.written_as, &m.sentence; &m.origin]
        });
        let columns = "id, actor_id, passage_id, written_as, sentence, file, line";
        insert(tx, "actor_mentions", columns, mentions.collect()).await?;
        let cited = a
            .document_mentions
            .iter()
            .enumerate()
            .map(|(i, m)| row![id(i), id(m.target), id(m.passage), &m.sentence; &m.origin]);
        let columns = "id, document_id, passage_id, sentence, file, line";
        insert(tx, "document_mentions", columns, cited.collect()).await
    }

    pub(super) async fn standards(tx: &mut Tx<'_>, a: &Atlas) -> Result<(), StoreError> {
        let standards = a.standards.iter().enumerate().map(|(i, s)| {
            row![
                id(i),
                &s.slug,
                &s.identifier,
                &s.key,
                &s.base_number,
                &s.body,
                &s.kind,
                s.series,
                &s.covers,
                &s.committee,
                &s.family,
                &s.domain,
                &s.conformity,
                &s.conformity_note,
                s.curated
            ]
        });
        let columns = "id, slug, identifier, key, base_number, body, type, series, covers, committee, family, domain, conformity, conformity_note, curated";
        insert(tx, "standards", columns, standards.collect()).await?;
        let relations = a
            .standard_relations
            .iter()
            .map(|(s, r, o)| row![id(*s), *r, id(*o)]);
        let columns = "standard_id, relation, other_id";
        insert(tx, "standard_relations", columns, relations.collect()).await?;
        let mentions = a
            .standard_mentions
            .iter()
            .enumerate()
            .map(|(i, (s, actor, m))| {
                row![
                    id(i), id(*s), opt_i(*actor), id(m.passage), &m.written_as, &m.sentence;
                    &m.origin
                ]
            });
        let columns = "id, standard_id, actor_id, passage_id, written_as, sentence, file, line";
        insert(tx, "standard_mentions", columns, mentions.collect()).await
    }

    pub(super) async fn events_glossary_rankings(
        tx: &mut Tx<'_>,
        a: &Atlas,
    ) -> Result<(), StoreError> {
        let events = a.events.iter().enumerate().map(|(i, e)| {
            row![
                id(i), &e.slug, &e.title, &e.starts, &e.ends, &e.date_text, &e.place,
                &e.recurrence, opt_i(e.organiser), &e.description; &e.origin
            ]
        });
        let columns = "id, slug, title, starts, ends, date_text, place, recurrence, organiser_id, description, file, line";
        insert(tx, "atlas_events", columns, events.collect()).await?;
        let glossary = a.glossary.iter().enumerate().map(|(i, t)| {
            let mut values = row![
                id(i),
                &t.term,
                &t.key,
                &t.expansion,
                t.curated,
                t.status.as_str()
            ];
            values.extend(opt_origin(&t.origin));
            values
        });
        let columns = "id, term, key, expansion, curated, status, file, line";
        insert(tx, "glossary", columns, glossary.collect()).await?;
        let ranked = a.topic_actors.iter().map(|r| {
            let headings = (!r.headings.is_empty()).then(|| r.headings.join("\n"));
            let score = (r.score * 10.0).round() as i64;
            let mut values = row![
                id(r.topic),
                id(r.actor),
                n(r.rank),
                score,
                &headings,
                &r.evidence
            ];
            values.extend(opt_origin(&r.origin));
            values
        });
        let columns = "topic_id, actor_id, rank, score, headings, evidence, file, line";
        insert(tx, "topic_actors", columns, ranked.collect()).await
    }
}

/// Reading the atlas back: every table into the same rows the importer wrote, for the
/// in-memory read model. A value this binary cannot read (a kind it does not know) is an
/// error, so an atlas written by a newer importer is rebuilt rather than half-read.
mod read {
    use sqlx::sqlite::SqliteRow;
    use sqlx::{Row, SqlitePool};

    use super::StoreError;
    use crate::atlas::rows::{self, *};

    fn bad(table: &str, what: &str) -> StoreError {
        StoreError::Sql(sqlx::Error::Decode(
            format!("{table}: unknown value {what:?}").into(),
        ))
    }

    /// Position of a row id column (ids are positions + 1).
    fn ix(row: &SqliteRow, col: &str) -> Result<usize, StoreError> {
        let id: i64 = row.try_get(col)?;
        usize::try_from(id - 1).map_err(|_| bad("row id", &id.to_string()))
    }

    fn opt_ix(row: &SqliteRow, col: &str) -> Result<Option<usize>, StoreError> {
        let id: Option<i64> = row.try_get(col)?;
        id.map(|id| usize::try_from(id - 1).map_err(|_| bad("row id", &id.to_string())))
            .transpose()
    }

    fn origin(row: &SqliteRow) -> Result<Origin, StoreError> {
        let line: i64 = row.try_get("line")?;
        Ok(Origin::new(row.try_get("file")?, line.max(0) as usize))
    }

    fn word(row: &SqliteRow, table: &str, col: &str) -> Result<&'static str, StoreError> {
        let s: String = row.try_get(col)?;
        rows::known_word(&s).ok_or_else(|| bad(table, &s))
    }

    async fn all(pool: &SqlitePool, sql: &str) -> Result<Vec<SqliteRow>, StoreError> {
        Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(pool)
            .await?)
    }

    fn mention(r: &SqliteRow, target: &str) -> Result<MentionRow, StoreError> {
        Ok(MentionRow {
            target: ix(r, target)?,
            passage: ix(r, "passage_id")?,
            written_as: r.try_get("written_as")?,
            sentence: r.try_get("sentence")?,
            origin: origin(r)?,
        })
    }

    pub async fn atlas(pool: &SqlitePool) -> Result<Atlas, StoreError> {
        let mut a = Atlas {
            data_hash: sqlx::query_scalar("SELECT value FROM atlas_meta WHERE key = 'data_hash'")
                .fetch_optional(pool)
                .await?
                .unwrap_or_default(),
            ..Atlas::default()
        };
        for r in all(
            pool,
            "SELECT slug, file, format, title FROM sources ORDER BY rowid",
        )
        .await?
        {
            a.sources
                .push((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?));
        }
        actors(pool, &mut a).await?;
        taxonomy(pool, &mut a).await?;
        sections_and_documents(pool, &mut a).await?;
        text(pool, &mut a).await?;
        standards(pool, &mut a).await?;
        events_glossary_rankings(pool, &mut a).await?;
        Ok(a)
    }

    async fn actors(pool: &SqlitePool, a: &mut Atlas) -> Result<(), StoreError> {
        for r in all(pool, "SELECT * FROM actors ORDER BY id").await? {
            a.actors.push(ActorRow {
                slug: r.try_get("slug")?,
                kind: word(&r, "actors", "kind")?,
                name: r.try_get("name")?,
                full_name: r.try_get("full_name")?,
                acronym: r.try_get("acronym")?,
                founded: r.try_get("founded")?,
                founded_evidence: r.try_get("founded_evidence")?,
                address: r.try_get("address")?,
                website: r.try_get("website")?,
                stakeholder_group: r.try_get("stakeholder_group")?,
                summary: r.try_get("summary")?,
                description: r.try_get("description")?,
                activities: r.try_get("activities")?,
                tools_note: r.try_get("tools_note")?,
                parent: opt_ix(&r, "parent_id")?,
                provenance: r.try_get("provenance")?,
            });
        }
        for r in all(pool, "SELECT * FROM actor_names ORDER BY rowid").await? {
            a.actor_names.push((
                ix(&r, "actor_id")?,
                r.try_get("name")?,
                r.try_get("key")?,
                word(&r, "actor_names", "kind")?,
            ));
        }
        for r in all(pool, "SELECT * FROM actor_items ORDER BY id").await? {
            a.items.push(ItemRow {
                actor: ix(&r, "actor_id")?,
                kind: word(&r, "actor_items", "kind")?,
                name: r.try_get("name")?,
                description: r.try_get("description")?,
                origin: origin(&r)?,
            });
        }
        for r in all(pool, "SELECT * FROM channels ORDER BY id").await? {
            a.channels.push(ChannelRow {
                actor: ix(&r, "actor_id")?,
                platform: r.try_get("platform")?,
                handle: r.try_get("handle")?,
                origin: origin(&r)?,
            });
        }
        Ok(())
    }

    async fn taxonomy(pool: &SqlitePool, a: &mut Atlas) -> Result<(), StoreError> {
        for r in all(pool, "SELECT slug, name FROM baskets ORDER BY position").await? {
            a.baskets.push((r.try_get(0)?, r.try_get(1)?));
        }
        for r in all(pool, "SELECT slug, name, basket FROM topics ORDER BY id").await? {
            a.topics.push((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?));
        }
        for r in all(pool, "SELECT * FROM topic_terms ORDER BY rowid").await? {
            a.topic_terms
                .push((r.try_get("key")?, r.try_get("term")?, ix(&r, "topic_id")?));
        }
        Ok(())
    }

    async fn sections_and_documents(pool: &SqlitePool, a: &mut Atlas) -> Result<(), StoreError> {
        for r in all(pool, "SELECT * FROM sections ORDER BY id").await? {
            let kind: String = r.try_get("kind")?;
            a.sections.push(SectionRow {
                actor: ix(&r, "actor_id")?,
                parent: opt_ix(&r, "parent_id")?,
                kind: SectionKind::parse(&kind).ok_or_else(|| bad("sections", &kind))?,
                heading: r.try_get("heading")?,
                tagline: r.try_get("tagline")?,
                position: r.try_get::<i64, _>("position")?.max(0) as usize,
                origin: origin(&r)?,
            });
        }
        for r in all(pool, "SELECT * FROM section_topics ORDER BY rowid").await? {
            a.section_topics
                .push((ix(&r, "section_id")?, ix(&r, "topic_id")?));
        }
        for r in all(pool, "SELECT * FROM documents ORDER BY id").await? {
            let kind: String = r.try_get("kind")?;
            a.documents.push(DocumentRow {
                slug: r.try_get("slug")?,
                kind: DocKind::parse(&kind).ok_or_else(|| bad("documents", &kind))?,
                symbol: r.try_get("symbol")?,
                title: r.try_get("title")?,
                subtitle: r.try_get("subtitle")?,
                summary: r.try_get("summary")?,
                owner: opt_ix(&r, "owner_id")?,
                about: opt_ix(&r, "about_id")?,
                origin: origin(&r)?,
                summary_curated: r.try_get("summary_curated")?,
            });
        }
        Ok(())
    }

    async fn text(pool: &SqlitePool, a: &mut Atlas) -> Result<(), StoreError> {
        for r in all(pool, "SELECT * FROM passages ORDER BY id").await? {
            a.passages.push(PassageRow {
                actor: opt_ix(&r, "actor_id")?,
                section: opt_ix(&r, "section_id")?,
                document: opt_ix(&r, "document_id")?,
                position: r.try_get::<i64, _>("position")?.max(0) as usize,
                text: r.try_get("text")?,
                search_text: r.try_get("search_text")?,
                truncated: r.try_get("truncated")?,
                origin: origin(&r)?,
                tool: r.try_get("tool")?,
            });
        }
        for r in all(pool, "SELECT * FROM actor_mentions ORDER BY id").await? {
            a.actor_mentions.push(mention(&r, "actor_id")?);
        }
        for r in all(
            pool,
            "SELECT m.*, d.symbol AS written_as FROM document_mentions m JOIN documents d ON d.id = m.document_id ORDER BY m.id",
        )
        .await?
        {
            let mut m = mention(&r, "document_id")?;
            m.written_as = r.try_get::<Option<String>, _>("written_as")?.unwrap_or_default();
            a.document_mentions.push(m);
        }
        Ok(())
    }

    async fn standards(pool: &SqlitePool, a: &mut Atlas) -> Result<(), StoreError> {
        for r in all(pool, "SELECT * FROM standards ORDER BY id").await? {
            a.standards.push(StandardRow {
                slug: r.try_get("slug")?,
                identifier: r.try_get("identifier")?,
                key: r.try_get("key")?,
                base_number: r.try_get("base_number")?,
                body: r.try_get("body")?,
                kind: r.try_get("type")?,
                series: r.try_get("series")?,
                covers: r.try_get("covers")?,
                committee: r.try_get("committee")?,
                family: r.try_get("family")?,
                domain: r.try_get("domain")?,
                conformity: r.try_get("conformity")?,
                conformity_note: r.try_get("conformity_note")?,
                curated: r.try_get("curated")?,
            });
        }
        for r in all(pool, "SELECT * FROM standard_relations ORDER BY rowid").await? {
            a.standard_relations.push((
                ix(&r, "standard_id")?,
                word(&r, "standard_relations", "relation")?,
                ix(&r, "other_id")?,
            ));
        }
        for r in all(pool, "SELECT * FROM standard_mentions ORDER BY id").await? {
            let m = mention(&r, "standard_id")?;
            a.standard_mentions
                .push((m.target, opt_ix(&r, "actor_id")?, m));
        }
        Ok(())
    }

    async fn events_glossary_rankings(pool: &SqlitePool, a: &mut Atlas) -> Result<(), StoreError> {
        for r in all(pool, "SELECT * FROM atlas_events ORDER BY id").await? {
            a.events.push(EventRow {
                slug: r.try_get("slug")?,
                title: r.try_get("title")?,
                starts: r.try_get("starts")?,
                ends: r.try_get("ends")?,
                date_text: r.try_get("date_text")?,
                place: r.try_get("place")?,
                recurrence: r.try_get("recurrence")?,
                organiser: opt_ix(&r, "organiser_id")?,
                description: r.try_get("description")?,
                origin: origin(&r)?,
            });
        }
        for r in all(pool, "SELECT * FROM glossary ORDER BY id").await? {
            let status: String = r.try_get("status")?;
            let file: Option<String> = r.try_get("file")?;
            let line: Option<i64> = r.try_get("line")?;
            a.glossary.push(TermRow {
                term: r.try_get("term")?,
                key: r.try_get("key")?,
                expansion: r.try_get("expansion")?,
                curated: r.try_get("curated")?,
                status: TermStatus::parse(&status).ok_or_else(|| bad("glossary", &status))?,
                origin: file.map(|f| Origin::new(&f, line.unwrap_or(0).max(0) as usize)),
            });
        }
        for r in all(pool, "SELECT * FROM printed_names ORDER BY rowid").await? {
            a.printed_names
                .push((ix(&r, "actor_id")?, r.try_get("name")?, origin(&r)?));
        }
        for r in all(pool, "SELECT * FROM actor_facts ORDER BY rowid").await? {
            let fact: String = r.try_get("fact")?;
            a.actor_facts.push((
                ix(&r, "actor_id")?,
                crate::atlas::rows::fact_kind(&fact).ok_or_else(|| bad("actor_facts", &fact))?,
                r.try_get("value")?,
                origin(&r)?,
            ));
        }
        for r in all(pool, "SELECT said, word FROM relatives ORDER BY rowid").await? {
            a.relatives.push((r.try_get(0)?, r.try_get(1)?));
        }
        for r in all(pool, "SELECT * FROM topic_actors ORDER BY topic_id, rank").await? {
            let headings: Option<String> = r.try_get("headings")?;
            let file: Option<String> = r.try_get("file")?;
            let line: Option<i64> = r.try_get("line")?;
            a.topic_actors.push(TopicActorRow {
                topic: ix(&r, "topic_id")?,
                actor: ix(&r, "actor_id")?,
                rank: r.try_get::<i64, _>("rank")?.max(0) as usize,
                score: r.try_get::<i64, _>("score")? as f64 / 10.0,
                headings: headings.map_or(vec![], |h| h.lines().map(str::to_string).collect()),
                evidence: r.try_get("evidence")?,
                origin: file.map(|f| Origin::new(&f, line.unwrap_or(0).max(0) as usize)),
            });
        }
        Ok(())
    }
}

impl Store {
    /// The atlas as stored, read back into rows (for `atlas::Atlas::new`).
    pub async fn load_atlas(&self) -> Result<crate::atlas::rows::Atlas, StoreError> {
        read::atlas(&self.pool).await
    }
}
