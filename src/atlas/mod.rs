//! The atlas as an immutable read model: the importer's rows (read back from the SQLite atlas,
//! which stays the artefact and the source of truth) with the indexes every lookup command
//! needs, built once per atlas version and shared as `Arc<Atlas>`. Every lookup answers from
//! memory: no query, no await, no lock on the way.
//!
//! Ids in views are row ids (position + 1), as in the database, so that ids in paging buttons
//! and tests mean the same thing whichever side produced them.

pub mod fulltext;
pub mod named;
pub mod rows;
pub mod views;

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use fulltext::{FullText, Query};
use views::*;

use crate::search::names::NameIndex;

/// The read model of one atlas version.
pub struct Atlas {
    pub data_hash: String,
    rows: rows::Atlas,
    /// Every name of every actor (names, acronyms, aliases), for /actor and autocompletion.
    pub actors: NameIndex<i64>,
    pub topic_terms: NameIndex<i64>,
    pub topic_names: HashMap<i64, (String, String)>,
    /// Topics in taxonomy order, with their actor counts (for /topics).
    pub topics: Vec<TopicRow>,
    pub standards: Vec<StandardRow>,
    pub glossary: Vec<GlossaryRow>,
    pub glossary_terms: NameIndex<usize>,
    pub documents: Vec<DocumentRow>,
    pub document_titles: NameIndex<usize>,
    by: Indexes,
    fulltext: FullText,
    /// Values commands derive from the atlas and reuse (a topic's term matcher, its related
    /// documents): computed on first use, dropped with this version.
    memo: Memo,
}

/// Derived values by (kind, id), each of its own type.
type Memo = Mutex<HashMap<(&'static str, i64), Arc<dyn Any + Send + Sync>>>;

/// Row positions grouped by what they belong to, each list in the order answers show it.
#[derive(Default)]
struct Indexes {
    actor_slug: HashMap<String, usize>,
    sections_of_actor: Vec<Vec<usize>>,
    subsections: Vec<Vec<usize>>,
    passages_of_section: Vec<Vec<usize>>,
    own_passages: Vec<Vec<usize>>,
    /// Every passage of an actor's text (profile sections and its own), tools aside.
    text_of_actor: Vec<Vec<usize>>,
    facts_of_actor: Vec<Vec<usize>>,
    names_of_actor: Vec<Vec<usize>>,
    items_of_actor: Vec<Vec<usize>>,
    channels_of_actor: Vec<Vec<usize>>,
    mentions_of_actor: Vec<Vec<usize>>,
    standards_of_actor: Vec<Vec<usize>>,
    relations_of_standard: Vec<Vec<usize>>,
    mentions_of_standard: Vec<Vec<usize>>,
    ranking_of_topic: Vec<Vec<usize>>,
    document_symbol: HashMap<String, usize>,
    mentions_of_document: Vec<Vec<usize>>,
    documents_of_owner: Vec<Vec<usize>>,
    documents_about: Vec<Vec<usize>>,
}

/// Row id (position + 1) of a position.
fn id(i: usize) -> i64 {
    i as i64 + 1
}

/// Position of a row id, if it can be one.
fn pos(id: i64) -> Option<usize> {
    usize::try_from(id).ok()?.checked_sub(1)
}

/// Position of a row id in a table of `len` rows, if the row exists.
fn pos_in(id: i64, len: usize) -> Option<usize> {
    pos(id).filter(|&i| i < len)
}

/// Positions `0..n` grouped by `key`, each group in position order.
fn group(n: usize, len: usize, key: impl Fn(usize) -> Option<usize>) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); n];
    for i in 0..len {
        if let Some(k) = key(i).filter(|&k| k < n) {
            out[k].push(i);
        }
    }
    out
}

impl Atlas {
    /// Builds the read model from the atlas's rows.
    pub fn new(rows: rows::Atlas) -> Atlas {
        let by = Indexes::new(&rows);
        let fulltext = FullText::new(rows.passages.iter().map(|p| p.search_text.as_str()));
        let mut atlas = Atlas {
            data_hash: rows.data_hash.clone(),
            actors: name_index(&rows),
            topic_terms: NameIndex::new(
                rows.topic_terms
                    .iter()
                    .map(|(_, term, t)| (term.clone(), id(*t), 0.0)),
            ),
            topic_names: rows
                .topics
                .iter()
                .enumerate()
                .map(|(i, (slug, name, _))| (id(i), (slug.clone(), name.clone())))
                .collect(),
            topics: Vec::new(),
            standards: Vec::new(),
            glossary: Vec::new(),
            glossary_terms: NameIndex::new(std::iter::empty()),
            documents: Vec::new(),
            document_titles: NameIndex::new(std::iter::empty()),
            by,
            fulltext,
            memo: Mutex::new(HashMap::new()),
            rows,
        };
        atlas.topics = atlas.topic_rows();
        atlas.standards = (0..atlas.rows.standards.len())
            .map(|i| atlas.standard_view(i))
            .collect();
        atlas.glossary = atlas.rows.glossary.iter().map(glossary_view).collect();
        atlas.glossary_terms = NameIndex::new(
            atlas
                .glossary
                .iter()
                .enumerate()
                .map(|(i, g)| (g.term.clone(), i, 0.0)),
        );
        atlas.documents = (0..atlas.rows.documents.len())
            .map(|i| atlas.document_view(i))
            .collect();
        atlas.document_titles = NameIndex::new(
            atlas
                .documents
                .iter()
                .enumerate()
                .map(|(i, d)| (d.title.clone(), i, 0.0)),
        );
        atlas
    }

    /// A value derived from this atlas, computed once per `key` (the first caller computes it;
    /// a racing second caller may compute it too, and one result is kept).
    pub fn memo<T: Send + Sync + 'static>(
        &self,
        key: (&'static str, i64),
        make: impl FnOnce() -> T,
    ) -> Arc<T> {
        let known = self.memo.lock().ok().and_then(|m| m.get(&key).cloned());
        if let Some(v) = known.and_then(|v| v.downcast::<T>().ok()) {
            return v;
        }
        let made = Arc::new(make());
        if let Ok(mut m) = self.memo.lock() {
            m.insert(key, made.clone());
        }
        made
    }

    /// How many rows of each kind the read model holds (for start-up logs and the bench).
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        self.rows.counts()
    }

    fn topic_rows(&self) -> Vec<TopicRow> {
        let basket_order: HashMap<&str, (usize, &str)> = self
            .rows
            .baskets
            .iter()
            .enumerate()
            .map(|(i, (slug, name))| (slug.as_str(), (i, name.as_str())))
            .collect();
        let mut actors_on: Vec<HashSet<usize>> = vec![HashSet::new(); self.rows.topics.len()];
        for &(section, topic) in &self.rows.section_topics {
            if let (Some(set), Some(s)) =
                (actors_on.get_mut(topic), self.rows.sections.get(section))
            {
                set.insert(s.actor);
            }
        }
        let mut topics: Vec<(usize, TopicRow)> = self
            .rows
            .topics
            .iter()
            .enumerate()
            .filter_map(|(i, (slug, name, basket))| {
                let (order, basket_name) = basket_order.get(basket.as_str())?;
                Some((
                    *order,
                    TopicRow {
                        id: id(i),
                        slug: slug.clone(),
                        name: name.clone(),
                        basket: basket.clone(),
                        basket_name: basket_name.to_string(),
                        actors: actors_on[i].len() as i64,
                    },
                ))
            })
            .collect();
        topics.sort_by_key(|(order, t)| (*order, t.id));
        topics.into_iter().map(|(_, t)| t).collect()
    }
}

/// The name index: profiled actors first on ties; names and acronyms over aliases.
fn name_index(rows: &rows::Atlas) -> NameIndex<i64> {
    let mut names: Vec<&(usize, String, String, &'static str)> = rows.actor_names.iter().collect();
    names.sort_by_key(|n| n.0);
    NameIndex::new(
        names
            .into_iter()
            .map(|(actor, name, _, kind)| {
                let profiled = rows
                    .actors
                    .get(*actor)
                    .is_some_and(|a| a.kind == "profiled");
                let weight =
                    if profiled { 1.0 } else { 0.0 } + if *kind == "alias" { 0.0 } else { 0.5 };
                (name.clone(), id(*actor), weight)
            })
            .chain(
                rows.printed_names
                    .iter()
                    .map(|(actor, name, _)| (name.clone(), id(*actor), 0.0)),
            ),
    )
}

fn glossary_view(t: &rows::TermRow) -> GlossaryRow {
    GlossaryRow {
        term: t.term.clone(),
        key: t.key.clone(),
        expansion: t.expansion.clone(),
        curated: t.curated,
        status: t.status.as_str().to_string(),
        file: t.origin.as_ref().map(|o| o.file.clone()),
        line: t.origin.as_ref().map(|o| o.line as i64),
    }
}

impl Indexes {
    fn new(r: &rows::Atlas) -> Indexes {
        let actors = r.actors.len();
        let mut by = Indexes {
            actor_slug: r
                .actors
                .iter()
                .enumerate()
                .map(|(i, a)| (a.slug.clone(), i))
                .collect(),
            sections_of_actor: group(actors, r.sections.len(), |i| Some(r.sections[i].actor)),
            subsections: group(r.sections.len(), r.sections.len(), |i| r.sections[i].parent),
            passages_of_section: group(r.sections.len(), r.passages.len(), |i| {
                r.passages[i].section
            }),
            own_passages: group(actors, r.passages.len(), |i| {
                let p = &r.passages[i];
                (p.section.is_none() && !p.tool)
                    .then_some(p.actor)
                    .flatten()
            }),
            text_of_actor: group(actors, r.passages.len(), |i| {
                let p = &r.passages[i];
                (!p.tool).then_some(p.actor).flatten()
            }),
            facts_of_actor: group(actors, r.actor_facts.len(), |i| Some(r.actor_facts[i].0)),
            names_of_actor: group(actors, r.actor_names.len(), |i| Some(r.actor_names[i].0)),
            items_of_actor: group(actors, r.items.len(), |i| Some(r.items[i].actor)),
            channels_of_actor: group(actors, r.channels.len(), |i| Some(r.channels[i].actor)),
            mentions_of_actor: group(actors, r.actor_mentions.len(), |i| {
                let m = &r.actor_mentions[i];
                // A "body" document about the actor is its own description, not a mention.
                let about = r.passages[m.passage]
                    .document
                    .and_then(|d| r.documents[d].about);
                (about != Some(m.target)).then_some(m.target)
            }),
            standards_of_actor: standards_of_actor(r),
            relations_of_standard: group(r.standards.len(), r.standard_relations.len(), |i| {
                Some(r.standard_relations[i].0)
            }),
            mentions_of_standard: group(r.standards.len(), r.standard_mentions.len(), |i| {
                Some(r.standard_mentions[i].0)
            }),
            ranking_of_topic: group(r.topics.len(), r.topic_actors.len(), |i| {
                Some(r.topic_actors[i].topic)
            }),
            document_symbol: r
                .documents
                .iter()
                .enumerate()
                .filter_map(|(i, d)| Some((d.symbol.as_ref()?.to_lowercase(), i)))
                .collect(),
            mentions_of_document: group(r.documents.len(), r.document_mentions.len(), |i| {
                let m = &r.document_mentions[i];
                (r.passages[m.passage].document != Some(m.target)).then_some(m.target)
            }),
            documents_of_owner: group(actors, r.documents.len(), |i| r.documents[i].owner),
            documents_about: group(actors, r.documents.len(), |i| r.documents[i].about),
        };
        by.sort(r);
        by
    }

    /// Puts each list in the order answers show it, where that is not row order.
    fn sort(&mut self, r: &rows::Atlas) {
        for list in &mut self.sections_of_actor {
            list.sort_by_key(|&s| (r.sections[s].position, s));
        }
        for list in &mut self.subsections {
            list.sort_by_key(|&s| (r.sections[s].position, s));
        }
        for list in &mut self.passages_of_section {
            list.sort_by_key(|&p| (r.passages[p].position, p));
        }
        for list in self.own_passages.iter_mut().chain(&mut self.text_of_actor) {
            list.sort_by(|&a, &b| r.passages[a].origin.cmp(&r.passages[b].origin));
        }
        for list in &mut self.relations_of_standard {
            list.sort_by(|&a, &b| {
                let (_, ra, oa) = r.standard_relations[a];
                let (_, rb, ob) = r.standard_relations[b];
                (ra, &r.standards[oa].key).cmp(&(rb, &r.standards[ob].key))
            });
        }
        for list in &mut self.ranking_of_topic {
            list.sort_by_key(|&i| r.topic_actors[i].rank);
        }
    }
}

/// Per actor, the standards its own text mentions, in order of first mention.
fn standards_of_actor(r: &rows::Atlas) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); r.actors.len()];
    let mut seen: HashSet<(usize, usize)> = HashSet::new();
    for (standard, actor, _) in &r.standard_mentions {
        if let Some(a) = actor.filter(|&a| a < out.len()) {
            if seen.insert((a, *standard)) {
                out[a].push(*standard);
            }
        }
    }
    out
}

mod lookups;
mod standards_about;
pub use standards_about::asks_about_a_standard;
mod subjects;
pub use subjects::Subjects;

/// Which passages a full-text search looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Passages {
    All,
    /// Documents' text only (resolutions, processes, news, the report).
    Documents,
    /// Actors' own text only, outside documents.
    Actors,
}

impl Atlas {
    /// Full-text search over passages, best first (BM25), at most `limit`.
    pub fn search_passages(&self, query: &Query, which: Passages, limit: usize) -> Vec<PassageHit> {
        let keep = |i: usize| {
            let p = &self.rows.passages[i];
            match which {
                Passages::All => true,
                Passages::Documents => p.document.is_some(),
                Passages::Actors => p.actor.is_some() && p.document.is_none(),
            }
        };
        self.fulltext
            .search(query, keep, limit)
            .into_iter()
            .map(|(i, rank)| self.passage_hit(i, rank))
            .collect()
    }

    fn passage_hit(&self, i: usize, rank: f64) -> PassageHit {
        let p = &self.rows.passages[i];
        let actor = p.actor.and_then(|a| self.rows.actors.get(a));
        PassageHit {
            passage_id: id(i),
            actor_id: p.actor.map(id),
            actor_slug: actor.map(|a| a.slug.clone()),
            actor_name: actor.map(|a| a.name.clone()),
            actor_acronym: actor.and_then(|a| a.acronym.clone()),
            document_id: p.document.map(id),
            text: p.text.clone(),
            rank,
            file: p.origin.file.clone(),
            line: p.origin.line as i64,
        }
    }
}

/// Actors whose own text speaks of what a question names (`Atlas::speaking_of`).
#[derive(Debug, Clone)]
pub struct Spoken {
    /// The concepts the answer rests on, as typed ("cyber attack", "hospitals").
    pub read: Vec<String>,
    /// Words too general to require (said when they were not found with the rest).
    pub general: Vec<String>,
    /// Words to mark in the evidence: the atlas's spellings that matched.
    pub marks: Vec<String>,
    /// Everyday words also read as the sources' terms ("kids" → children, minors).
    pub related: Vec<(String, Vec<String>)>,
    /// Words no passage says together with the rest: they only rank (`rank_loosening`).
    pub loosened: Vec<String>,
    /// Words the sources never write, left out (said in the answer).
    pub unwritten: Vec<String>,
    /// Each required concept's spellings (the typed words' and their relatives'): every
    /// listed actor's passage says one of each.
    pub required: Vec<Vec<String>>,
    /// Actors, those whose text says the most first, each with its best passage.
    pub actors: Vec<(PassageHit, f64)>,
    /// Misspelt words and the written words they were read as ("chidren", "children").
    pub corrected: Vec<(String, String)>,
}

/// A way of leaving words out: (how specific the kept words are, the ranking's total score,
/// the concepts left out, the ranking).
type Loosened = (f64, f64, Vec<usize>, Vec<(PassageHit, f64)>);

/// The ways to leave one or two of `required` out (two only for questions of up to six
/// concepts: the work stays bounded), keeping at least `keep`.
fn leave_outs(required: &[usize], keep: usize) -> Vec<Vec<usize>> {
    let n = required.len();
    let mut out: Vec<Vec<usize>> = Vec::new();
    if n > keep {
        out.extend(required.iter().map(|&i| vec![i]));
    }
    if n >= keep + 2 && n <= 6 {
        for (a, &i) in required.iter().enumerate() {
            for &j in &required[a + 1..] {
                out.push(vec![i, j]);
            }
        }
    }
    out
}

/// A concept found in more than this share of passages is too general to require on its own
/// ("online", "technology", "digital"): it ranks, it does not decide.
const GENERAL_SHARE: f64 = 0.02;
const CURATED_GENERAL_SHARE: f64 = 0.05;

/// One concept's passages: passage → occurrences, and its weight.
struct Found {
    typed: String,
    relatives: Vec<String>,
    curated: bool,
    docs: HashMap<u32, u32>,
    phrases: Vec<Vec<String>>,
    idf: f64,
    general: bool,
}

/// Leaves out the concepts the sources never write and returns them as typed; None when that
/// means nothing in the sources speaks of the question.
fn leave_out_unwritten(found: &mut Vec<Found>) -> Option<Vec<String>> {
    // A word the sources never write is how the question is put ("computerising customs",
    // "sending data across borders"), not what it is about, only when a word of the curated
    // vocabulary carries the question, or the unwritten words are all verbs' forms (-ing,
    // -ed) and a specific word is written; otherwise nothing in the sources speaks of it
    // ("horoscopes and star signs", "online yoga classes").
    let unwritten: Vec<String> = found
        .iter()
        .filter(|f| f.docs.is_empty())
        .map(|f| f.typed.clone())
        .collect();
    if !unwritten.is_empty() {
        let verbs = unwritten
            .iter()
            .all(|w| w.ends_with("ing") || w.ends_with("ed"));
        let carried = found
            .iter()
            .any(|f| f.curated && !f.general && !f.docs.is_empty())
            || (verbs && found.iter().any(|f| !f.general && !f.docs.is_empty()));
        if !carried {
            return None;
        }
        found.retain(|f| !f.docs.is_empty());
    }
    Some(unwritten)
}

/// A passage's sentences as tokens (kept with the atlas once read: bounded by its passages):
/// words only in a link's address are not said ("net" in …itu.int/net/wsis/…).
fn sentence_tokens(text: &str) -> Vec<Vec<String>> {
    crate::import::prose::sentences(text)
        .iter()
        .map(|sentence| crate::search::tokens(&crate::search::mask_links(sentence)))
        .collect()
}

/// True when one of `sentences` says each of `required` and at least `support` of `others`
/// (a line of the sources may hold several sentences, and what an answer shows and claims is
/// one): words a line says apart ("… for Palestine Refugees. … a mobile application for
/// refugee …") are not said together.
fn sentence_says(
    sentences: &[Vec<String>],
    required: &[&Found],
    others: &[&Found],
    support: usize,
) -> bool {
    let says =
        |t: &[String], f: &Found| f.phrases.iter().any(|p| crate::search::contains_run(t, p));
    sentences.iter().any(|t| {
        required.iter().all(|f| says(t, f))
            && others.iter().filter(|f| says(t, f)).count() >= support
    })
}

/// `words` with each misspelt one replaced by the word it is read as, joined by spaces.
fn respelt(words: &[String], corrected: &[(String, String)]) -> String {
    words
        .iter()
        .map(|w| match corrected.iter().find(|(typo, _)| typo == w) {
            Some((_, word)) => word.as_str(),
            None => w.as_str(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The answer to `speaking_of`: the ranked actors and how the question was read.
fn spoken(
    found: &[Found],
    unwritten: Vec<String>,
    loosened: Vec<String>,
    actors: Vec<(PassageHit, f64)>,
) -> Spoken {
    let marks = found
        .iter()
        .flat_map(|f| f.phrases.iter().map(|p| p.join(" ")))
        .collect();
    let related = found
        .iter()
        .filter(|f| !f.relatives.is_empty())
        .map(|f| (f.typed.clone(), f.relatives.clone()))
        .collect();
    let (general, read): (Vec<&Found>, Vec<&Found>) = found.iter().partition(|f| f.general);
    let required = read
        .iter()
        .map(|f| f.phrases.iter().map(|p| p.join(" ")).collect())
        .collect();
    Spoken {
        unwritten,
        required,
        related,
        loosened,
        read: read.iter().map(|f| f.typed.clone()).collect(),
        general: general.iter().map(|f| f.typed.clone()).collect(),
        marks,
        actors,
        corrected: Vec::new(),
    }
}

impl Atlas {
    /// The atlas's words by stem (for reading questions), built once per atlas.
    fn vocabulary(&self) -> Arc<crate::search::concepts::Vocabulary> {
        self.memo(("vocabulary", 0), || {
            crate::search::concepts::Vocabulary::new(self.fulltext.words().map(|(w, _)| w))
        })
    }

    /// The atlas's words for reading misspelt ones (`search::spelling`), built once per atlas
    /// when a question first has a word the sources never write.
    fn speller(&self) -> Arc<crate::search::spelling::Speller> {
        self.memo(("speller", 0), || {
            crate::search::spelling::Speller::new(self.fulltext.words())
        })
    }

    /// The misspelt words among `words` (folded tokens) and the written word each is read as:
    /// words the sources never write in any form, that the curated table does not know, one
    /// edit from a written word (`Speller::correct`).
    pub fn misspelt<'w>(
        &self,
        words: impl Iterator<Item = &'w str>,
        shortest: usize,
    ) -> Vec<(String, String)> {
        let (vocabulary, relatives) = (self.vocabulary(), self.relatives());
        let unknown: Vec<&str> = words
            .filter(|w| {
                w.chars().count() >= shortest
                    && vocabulary.family(w).is_empty()
                    && !relatives.knows(w)
            })
            .collect();
        if unknown.is_empty() {
            return Vec::new();
        }
        let speller = self.speller();
        unknown
            .into_iter()
            .filter_map(|w| Some((w.to_string(), speller.correct(w, shortest)?.to_string())))
            .collect()
    }

    /// `text` as tokens with its misspelt words (`misspelt`) read as the written ones, and
    /// those readings; None when no word is misspelt.
    pub fn respell(&self, text: &str, shortest: usize) -> Option<(String, Vec<(String, String)>)> {
        let words = crate::search::tokens(text);
        let corrected = self.misspelt(words.iter().map(String::as_str), shortest);
        (!corrected.is_empty()).then(|| (respelt(&words, &corrected), corrected))
    }

    /// Everyday words for the sources' terms (data/relatives.toml), built once per atlas.
    /// (A topic's synonyms are not relatives of one another: they are related terms, not the
    /// same thing — "women" and "LGBTQ+" are both under gender.)
    fn relatives(&self) -> Arc<crate::search::concepts::Relatives> {
        self.memo(("relatives", 0), || {
            crate::search::concepts::Relatives::new(
                self.rows
                    .relatives
                    .iter()
                    .map(|(s, w)| (s.as_str(), w.as_str())),
            )
        })
    }

    /// True when the sources write `word` (lower case) in lower case somewhere: an ordinary
    /// word, whatever acronym its letters also spell ("laws" beside LAWS).
    pub fn written_in_lower_case(&self, word: &str) -> bool {
        let words = self.memo(("words written in lower case", 0), || {
            let mut set: HashSet<String> = HashSet::new();
            for p in &self.rows.passages {
                for w in p.text.split(|c: char| !c.is_alphanumeric()) {
                    if !w.is_empty() && !w.chars().any(char::is_uppercase) {
                        set.insert(w.to_string());
                    }
                }
            }
            set
        });
        words.contains(word)
    }

    /// The actors whose own text speaks of `text`, read word by word in the atlas's own
    /// spellings (`search::concepts`): a passage counts when it says every specific word of
    /// the question (general ones only rank); an actor ranks by how much of its text does.
    /// None when the question has no word, or some specific word is nowhere in the atlas.
    pub fn speaking_of(&self, text: &str) -> Option<Spoken> {
        let (mut found, corrected) = self.find_concepts_spelled(text);
        // Numbers alone are no subject ("4" found footnote marks and dates).
        if found
            .iter()
            .all(|f| f.typed.chars().all(|c| c.is_ascii_digit() || c == ' '))
        {
            return None;
        }
        for f in &found {
            tracing::debug!(typed = %f.typed, phrases = ?f.phrases, passages = f.docs.len(), general = f.general, curated = f.curated, "concept");
        }
        let unwritten = leave_out_unwritten(&mut found)?;
        if found.is_empty() {
            return None;
        }
        // All general: then they are what was asked, and all are required.
        if found.iter().all(|f| f.general) {
            found.iter_mut().for_each(|f| f.general = false);
        }
        let (actors, loosened) = self.rank_loosening(&mut found);
        let mut answer = spoken(&found, unwritten, loosened, actors);
        answer.corrected = corrected;
        Some(answer)
    }

    /// The question's concepts (`find_concepts`), its misspelt words read as the words the
    /// sources write ("chidren" → "children"), with those readings.
    fn find_concepts_spelled(&self, text: &str) -> (Vec<Found>, Vec<(String, String)>) {
        let found = self.find_concepts(text);
        let unwritten = found
            .iter()
            .filter(|f| f.docs.is_empty() && !f.curated && !f.typed.contains(' '))
            .map(|f| f.typed.as_str());
        let corrected = self.misspelt(unwritten, crate::search::spelling::MIN_LETTERS);
        if corrected.is_empty() {
            return (found, corrected);
        }
        let text = respelt(&crate::search::tokens(text), &corrected);
        (self.find_concepts(&text), corrected)
    }

    /// The question's concepts, each with the passages that say it and how rare it is.
    fn find_concepts(&self, text: &str) -> Vec<Found> {
        let concepts =
            crate::search::concepts::concepts(text, &self.vocabulary(), &self.relatives());
        let n = self.fulltext.len().max(1) as f64;
        concepts
            .into_iter()
            .map(|c| {
                let mut docs: HashMap<u32, u32> = HashMap::new();
                for p in &c.phrases {
                    for (doc, f) in self.fulltext.occurrences(p) {
                        *docs.entry(doc).or_default() += f;
                    }
                }
                let idf = self.fulltext.idf(docs.len());
                // A word of the curated table is what the question is about: its relatives
                // widen it, so it is too general to require only when far more common.
                let share = if c.curated {
                    CURATED_GENERAL_SHARE
                } else {
                    GENERAL_SHARE
                };
                let general = docs.len() as f64 / n > share;
                Found {
                    typed: c.typed,
                    relatives: c.relatives,
                    curated: c.curated,
                    docs,
                    phrases: c.phrases,
                    idf,
                    general,
                }
            })
            .collect()
    }

    /// Ranks the speakers. When no passage says every required concept — a question in everyday
    /// words ("hackers demanding ransom") rarely has all its words in one sentence — one or two
    /// of them stop being required (they still rank): of the ways to leave them out, the one
    /// that keeps the most specific words. At least half of the concepts
    /// stay required, and a single one only when it is a word of the curated table (an
    /// everyday word or a term of the sources, not how the question is asked) or its sentence
    /// says half of the question's other words too ("national emergency teams": "emergency"
    /// with "national" and "teams"): two unrelated words ("climate and computers") are never
    /// read as one of them.
    /// Returns the ranking and the words left out, as typed.
    fn rank_loosening(&self, found: &mut [Found]) -> (Vec<(PassageHit, f64)>, Vec<String>) {
        let actors = self.rank_speakers(found, 0);
        let required: Vec<usize> = (0..found.len()).filter(|&i| !found[i].general).collect();
        if !actors.is_empty() || required.len() < 2 {
            return (actors, Vec::new());
        }
        let keep = required.len().div_ceil(2);
        let mut best: Option<Loosened> = None;
        for left_out in leave_outs(&required, keep) {
            let kept: Vec<usize> = required
                .iter()
                .copied()
                .filter(|i| !left_out.contains(i))
                .collect();
            // One word not of the curated table stands for the question only where the
            // same sentence says half of the question's other words as well.
            let support = if kept.len() == 1 && !found[kept[0]].curated {
                found.len().div_ceil(2).saturating_sub(1).max(1)
            } else {
                0
            };
            left_out.iter().for_each(|&i| found[i].general = true);
            let ranked = self.rank_speakers(found, support);
            left_out.iter().for_each(|&i| found[i].general = false);
            // The reading that keeps the most specific words (the rarest in the sources), not
            // the one whose words are said together the most — common words always are
            // ("software" before "customs"); on a tie, the one said the most.
            let specific: f64 = kept.iter().map(|&i| found[i].idf).sum();
            let total: f64 = ranked.iter().map(|(_, s)| s).sum();
            let better = |b: &Loosened| (specific, total) > (b.0, b.1);
            if !ranked.is_empty() && best.as_ref().is_none_or(better) {
                best = Some((specific, total, left_out, ranked));
            }
        }
        let Some((_, _, left_out, ranked)) = best else {
            return (actors, Vec::new());
        };
        left_out.iter().for_each(|&i| found[i].general = true);
        (
            ranked,
            left_out.iter().map(|&i| found[i].typed.clone()).collect(),
        )
    }

    /// Actors' passages saying every required concept, scored as BM25 would (general concepts
    /// add to a passage's score, never make it count); each actor's score is the sum over its
    /// passages, shown with its best one.
    fn rank_speakers(&self, found: &[Found], support: usize) -> Vec<(PassageHit, f64)> {
        let (required, others): (Vec<&Found>, Vec<&Found>) = found.iter().partition(|f| !f.general);
        let Some(rarest) = required.iter().min_by_key(|f| f.docs.len()) else {
            return Vec::new();
        };
        let mut by_actor: HashMap<usize, (f64, usize, (bool, f64))> = HashMap::new();
        let mut seen_texts: HashSet<(usize, &str)> = HashSet::new();
        for &doc in rarest.docs.keys() {
            if !required.iter().all(|f| f.docs.contains_key(&doc)) {
                continue;
            }
            let p = &self.rows.passages[doc as usize];
            let Some(actor) = p.actor else { continue };
            // One concept alone is said by any sentence that says it, unless only a link does.
            let linked = p.text.contains("://") || p.text.contains("www.");
            if (required.len() > 1 || support > 0 || linked)
                && !sentence_says(
                    &self.memo(("sentence tokens", i64::from(doc)), || {
                        sentence_tokens(&p.text)
                    }),
                    &required,
                    &others,
                    support,
                )
            {
                continue;
            }
            // The same sentence in two places (a profile and a list) says it once.
            if !seen_texts.insert((actor, p.search_text.as_str())) {
                continue;
            }
            let score: f64 = found
                .iter()
                .filter_map(|f| Some(f.idf * self.fulltext.saturation(doc, *f.docs.get(&doc)?)))
                .sum();
            // The passage shown is a sentence before a caption or heading, however short
            // (and so highly scored) those are.
            let shown = (!crate::import::prose::caption_like(&p.text), score);
            let entry = by_actor
                .entry(actor)
                .or_insert((0.0, doc as usize, (false, f64::MIN)));
            entry.0 += score;
            if shown > entry.2 || (shown == entry.2 && (doc as usize) < entry.1) {
                entry.1 = doc as usize;
                entry.2 = shown;
            }
        }
        let mut ranked: Vec<(PassageHit, f64)> = by_actor
            .into_values()
            .map(|(total, best, (_, best_score))| (self.passage_hit(best, -best_score), total))
            .collect();
        ranked.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then(a.0.passage_id.cmp(&b.0.passage_id))
        });
        ranked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn concept(phrases: &[&[&str]]) -> Found {
        Found {
            typed: String::new(),
            relatives: Vec::new(),
            curated: false,
            docs: HashMap::new(),
            phrases: phrases
                .iter()
                .map(|p| p.iter().map(|w| w.to_string()).collect())
                .collect(),
            idf: 1.0,
            general: false,
        }
    }

    fn with_passages(mut f: Found, n: u32, general: bool) -> Found {
        f.docs = (0..n).map(|d| (d, 1)).collect();
        f.general = general;
        f
    }

    #[test]
    fn unwritten_words_are_left_out_only_when_written_ones_carry_the_question() {
        let unwritten = || concept(&[]);
        let verb = || {
            let mut f = concept(&[]);
            f.typed = "sending".into();
            f
        };
        let specific = || with_passages(concept(&[&["borders"]]), 5, false);
        let general = || with_passages(concept(&[&["data"]]), 60, true);
        // "sending data across borders": the unwritten word is a verb's form.
        let mut found = vec![verb(), general(), specific()];
        assert_eq!(leave_out_unwritten(&mut found).map(|u| u.len()), Some(1));
        assert_eq!(found.len(), 2);
        // "online yoga classes": the unwritten word is what it is about.
        let mut found = vec![general(), unwritten(), specific()];
        assert_eq!(leave_out_unwritten(&mut found), None);
        // Written words that are all too common carry nothing.
        let mut found = vec![verb(), general(), general()];
        assert_eq!(leave_out_unwritten(&mut found), None);
        // A curated word carries the question on its own ("computerising customs").
        let mut customs = specific();
        customs.curated = true;
        let mut found = vec![unwritten(), customs];
        assert!(leave_out_unwritten(&mut found).is_some());
    }

    #[test]
    fn words_a_line_says_in_different_sentences_are_not_said_together() {
        let app = concept(&[&["mobile", "application"]]);
        let palestine = concept(&[&["palestine"]]);
        let refugees = concept(&[&["refugee"], &["refugees"]]);
        let line = "It helped the Agency for Palestine Refugees build a hub. \
                    It made a mobile application for refugee services.";
        assert!(sentence_says(
            &sentence_tokens(line),
            &[&app, &refugees],
            &[],
            0
        ));
        assert!(sentence_says(
            &sentence_tokens(line),
            &[&palestine, &refugees],
            &[],
            0
        ));
        assert!(!sentence_says(
            &sentence_tokens(line),
            &[&app, &palestine],
            &[],
            0
        ));
        assert!(sentence_says(&sentence_tokens(line), &[&app], &[], 0));
        // A word standing alone for the question needs others of it in its sentence.
        assert!(sentence_says(
            &sentence_tokens(line),
            &[&app],
            &[&refugees, &palestine],
            1
        ));
        assert!(!sentence_says(
            &sentence_tokens(line),
            &[&app],
            &[&refugees, &palestine],
            2
        ));
        // A word only in a link's address is not said.
        let net = concept(&[&["net"]]);
        let linked = "See http://www.itu.int/net/wsis/docs for the outcome.";
        assert!(!sentence_says(&sentence_tokens(linked), &[&net], &[], 0));
        assert!(sentence_says(
            &sentence_tokens("The net result is a list."),
            &[&net],
            &[],
            0
        ));
    }
}
