//! Full-text search over the atlas's passages, in memory: an inverted index with word positions
//! (for phrases) and BM25 ranking with the parameters and IDF of SQLite's FTS5 `bm25()`
//! (k1 = 1.2, b = 0.75), so answers rank as they did when FTS5 ran them.
//!
//! Why not FTS5 on a read-only connection: every query through sqlx is a round trip to its
//! worker thread (0.1–0.2 ms at p50, milliseconds at p99 under load, see BENCHMARKS.md), more
//! than a whole answer may cost; and a synchronous SQLite binding would be a second SQLite
//! wrapper in the build. The index costs ~10 ms to build for the bundled atlas (measured by
//! `atlasbot bench commands`) and answers a query in microseconds.
//!
//! A query is typed (`Query`: any of several clauses, each needing all of its phrases), built
//! by `search` from what people type; there is no query language to inject into.

use std::collections::HashMap;

/// Any of `clauses` matches; a clause matches when all of its phrases do; a phrase is a run of
/// consecutive tokens (as `search::tokens` makes them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    pub clauses: Vec<Vec<Vec<String>>>,
}

impl Query {
    /// Every phrase of the query, in order (FTS5 scores each phrase of the expression).
    fn phrases(&self) -> impl Iterator<Item = &Vec<String>> {
        self.clauses.iter().flatten()
    }
}

/// One document's occurrences of a token: positions in token order.
struct Posting {
    doc: u32,
    positions: Vec<u32>,
}

/// The inverted index over a list of documents (the passages' search copies, in id order).
pub struct FullText {
    postings: HashMap<Box<str>, Vec<Posting>>,
    lengths: Vec<u32>,
    average_length: f64,
}

/// Tokens as FTS5's unicode61 tokenizer sees the (already folded) search copy: runs of letters
/// and digits.
fn tokenize(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

const K1: f64 = 1.2;
const B: f64 = 0.75;

impl FullText {
    /// Indexes `texts`; a hit's `doc` is the position in this list.
    pub fn new<'a>(texts: impl Iterator<Item = &'a str>) -> FullText {
        let mut postings: HashMap<Box<str>, Vec<Posting>> = HashMap::new();
        let mut lengths = Vec::new();
        for (doc, text) in texts.enumerate() {
            let doc = doc as u32;
            let mut n = 0u32;
            for (pos, token) in tokenize(text).enumerate() {
                n += 1;
                let list = match postings.get_mut(token) {
                    Some(list) => list,
                    None => postings.entry(token.into()).or_default(),
                };
                match list.last_mut() {
                    Some(p) if p.doc == doc => p.positions.push(pos as u32),
                    _ => list.push(Posting {
                        doc,
                        positions: vec![pos as u32],
                    }),
                }
            }
            lengths.push(n);
        }
        let total: u64 = lengths.iter().map(|&n| u64::from(n)).sum();
        let average_length = total as f64 / lengths.len().max(1) as f64;
        FullText {
            postings,
            lengths,
            average_length,
        }
    }

    /// Documents where the phrase occurs, ascending, with how often.
    fn phrase_counts(&self, phrase: &[String]) -> Vec<(u32, u32)> {
        let Some((first, rest)) = phrase.split_first() else {
            return vec![];
        };
        let Some(head) = self.postings.get(first.as_str()) else {
            return vec![];
        };
        let mut tails = Vec::with_capacity(rest.len());
        for t in rest {
            match self.postings.get(t.as_str()) {
                Some(list) => tails.push(list),
                None => return vec![],
            }
        }
        let mut cursors = vec![0usize; tails.len()];
        let mut out = Vec::new();
        'docs: for p in head {
            let mut lists = Vec::with_capacity(tails.len());
            for (list, cursor) in tails.iter().zip(cursors.iter_mut()) {
                // Postings are sorted by document: advance each list to this one.
                while *cursor < list.len() && list[*cursor].doc < p.doc {
                    *cursor += 1;
                }
                match list.get(*cursor) {
                    Some(q) if q.doc == p.doc => lists.push(&q.positions),
                    _ => continue 'docs,
                }
            }
            let count = p
                .positions
                .iter()
                .filter(|&&start| {
                    lists
                        .iter()
                        .enumerate()
                        .all(|(k, ps)| ps.binary_search(&(start + k as u32 + 1)).is_ok())
                })
                .count() as u32;
            if count > 0 {
                out.push((p.doc, count));
            }
        }
        out
    }

    /// The documents matching `query` that `keep` accepts, best first (BM25; ties in document
    /// order), at most `limit`, each with its BM25 score as FTS5 reports it (negative: lower
    /// is better).
    pub fn search(
        &self,
        query: &Query,
        keep: impl Fn(usize) -> bool,
        limit: usize,
    ) -> Vec<(usize, f64)> {
        let n = self.lengths.len() as f64;
        let phrases: Vec<Vec<(u32, u32)>> =
            query.phrases().map(|p| self.phrase_counts(p)).collect();
        // The score of each document containing any phrase.
        let mut scores: HashMap<u32, f64> = HashMap::new();
        for counts in &phrases {
            let found = counts.len() as f64;
            let idf = ((n - found + 0.5) / (found + 0.5)).ln().max(1e-6);
            for &(doc, f) in counts {
                let f = f64::from(f);
                let length = f64::from(self.lengths[doc as usize]);
                let norm = K1 * (1.0 - B + B * length / self.average_length);
                *scores.entry(doc).or_default() += idf * f * (K1 + 1.0) / (f + norm);
            }
        }
        let mut hits: Vec<(usize, f64)> = scores
            .into_iter()
            .filter(|&(doc, _)| keep(doc as usize) && self.matches(query, &phrases, doc))
            .map(|(doc, s)| (doc as usize, -s))
            .collect();
        hits.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        hits.truncate(limit);
        hits
    }

    /// Whether a document satisfies some clause: all of its phrases occur.
    fn matches(&self, query: &Query, phrases: &[Vec<(u32, u32)>], doc: u32) -> bool {
        let mut k = 0;
        query.clauses.iter().any(|clause| {
            let range = k..k + clause.len();
            k += clause.len();
            phrases[range]
                .iter()
                .all(|counts| counts.binary_search_by_key(&doc, |&(d, _)| d).is_ok())
        })
    }

    pub fn len(&self) -> usize {
        self.lengths.len()
    }

    /// Every word of the index with the number of documents it occurs in.
    pub fn words(&self) -> impl Iterator<Item = (&str, usize)> {
        self.postings.iter().map(|(w, list)| (&**w, list.len()))
    }

    /// The documents where `phrase` occurs, ascending, with how often.
    pub fn occurrences(&self, phrase: &[String]) -> Vec<(u32, u32)> {
        self.phrase_counts(phrase)
    }

    /// FTS5's inverse document frequency of something found in `found` documents.
    pub fn idf(&self, found: usize) -> f64 {
        let n = self.lengths.len() as f64;
        let found = found as f64;
        ((n - found + 0.5) / (found + 0.5)).ln().max(1e-6)
    }

    /// BM25's weight of `f` occurrences in document `doc` (before the IDF).
    pub fn saturation(&self, doc: u32, f: u32) -> f64 {
        let f = f64::from(f);
        let length = f64::from(self.lengths.get(doc as usize).copied().unwrap_or(0));
        let norm = K1 * (1.0 - B + B * length / self.average_length.max(1.0));
        f * (K1 + 1.0) / (f + norm)
    }

    pub fn is_empty(&self) -> bool {
        self.lengths.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(clauses: &[&[&str]]) -> Query {
        Query {
            clauses: clauses
                .iter()
                .map(|c| {
                    c.iter()
                        .map(|p| p.split(' ').map(str::to_string).collect())
                        .collect()
                })
                .collect(),
        }
    }

    fn docs(ft: &FullText, query: &Query) -> Vec<usize> {
        ft.search(query, |_| true, 10)
            .into_iter()
            .map(|(d, _)| d)
            .collect()
    }

    #[test]
    fn a_phrase_needs_its_words_next_to_each_other_in_order() {
        let ft = FullText::new(
            [
                "capacity building in africa",
                "building capacity",
                "capacity and building",
            ]
            .into_iter(),
        );
        assert_eq!(docs(&ft, &q(&[&["capacity building"]])), vec![0]);
        assert_eq!(docs(&ft, &q(&[&["capacity", "building"]])).len(), 3);
        assert_eq!(docs(&ft, &q(&[&["nothing here"]])), Vec::<usize>::new());
    }

    #[test]
    fn any_clause_matches_and_rarer_words_weigh_more() {
        let ft = FullText::new(
            [
                "data data data",
                "quantum data",
                "data protection",
                "data flows",
            ]
            .into_iter(),
        );
        let hits = docs(&ft, &q(&[&["quantum"], &["protection"]]));
        assert_eq!(hits.len(), 2);
        // "quantum" in the shorter-or-equal document and as rare as "protection": a tie, broken
        // by document order.
        assert_eq!(hits, vec![1, 2]);
        // A word in every document still ranks by how often it occurs.
        assert_eq!(docs(&ft, &q(&[&["data"]]))[0], 0);
    }

    #[test]
    fn scores_match_sqlite_fts5_bm25() {
        // Computed by SQLite's FTS5 (unicode61) on the same five rows:
        // SELECT rowid - 1, bm25(t) FROM t WHERE t MATCH … ORDER BY rank.
        let ft = FullText::new(
            [
                "data data data",
                "quantum data",
                "data protection",
                "data flows",
                "policy notes",
            ]
            .into_iter(),
        );
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1e-12) + 1e-15;
        let hits = ft.search(&q(&[&["data"]]), |_| true, 10);
        let expected = [
            (0, -1.457831325301205e-06),
            (1, -1.03862660944206e-06),
            (2, -1.03862660944206e-06),
            (3, -1.03862660944206e-06),
        ];
        assert_eq!(hits.len(), expected.len());
        for ((doc, score), (want_doc, want)) in hits.iter().zip(expected) {
            assert_eq!(*doc, want_doc);
            assert!(close(*score, want), "{score} vs {want}");
        }
        // MATCH '"quantum data" OR protection'
        let hits = ft.search(&q(&[&["quantum data"], &["protection"]]), |_| true, 10);
        assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), vec![1, 2]);
        for (_, score) in hits {
            assert!(close(score, -1.1410479564707408), "{score}");
        }
    }

    #[test]
    fn the_filter_drops_documents_before_the_limit() {
        let ft = FullText::new(["ai", "ai ai", "ai ai ai"].into_iter());
        let hits = ft.search(&q(&[&["ai"]]), |d| d != 2, 1);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].0, 1);
    }
}
