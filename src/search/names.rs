//! An in-memory index of names (actors, topic terms, glossary terms, standard identifiers) for
//! matching what people type: exact keys first, then every query word matched to a word of the
//! name — exactly, as a prefix, or with a typo (Jaro–Winkler on British/American-folded words,
//! candidates found through a trigram index so that 100 000 names stay fast). Pure, no I/O.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::search::normalize::{name_key, spelling_key};

/// Words that carry no identity in an organisation's name.
const STOP: &[&str] = &[
    "of", "the", "for", "and", "on", "in", "to", "a", "an", "de", "la", "des", "du",
];

/// At most this many candidate names are scored for one lookup.
const MAX_SCORED: usize = 2000;

/// Similarity from which a misspelt word counts as the word ("intelectual" ≈ "intellectual").
const WORD_MATCH: f64 = 0.86;

#[derive(Debug, Clone)]
pub struct Entry<T> {
    pub display: String,
    pub key: String,
    pub payload: T,
    /// Ranking preference on ties (profiled actors before names mentioned in passing).
    pub weight: f64,
    words: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum How {
    Exact,
    Words,
    Fuzzy,
}

#[derive(Debug, Clone)]
pub struct Match<'a, T> {
    pub id: u32,
    pub entry: &'a Entry<T>,
    pub score: f64,
    pub how: How,
}

#[derive(Debug, Default)]
pub struct NameIndex<T> {
    entries: Vec<Entry<T>>,
    by_key: HashMap<String, Vec<u32>>,
    /// Distinct words, sorted (prefix search), with the entries containing each.
    vocabulary: Vec<String>,
    postings: Vec<Vec<u32>>,
    trigrams: HashMap<[char; 3], Vec<u32>>,
    /// Full keys, sorted, for prefix autocompletion.
    sorted_keys: Vec<(String, u32)>,
}

fn words_of(key: &str) -> Vec<String> {
    key.split(' ')
        .filter(|w| !w.is_empty() && !STOP.contains(w))
        .map(str::to_string)
        .collect()
}

fn trigrams(word: &str) -> Vec<[char; 3]> {
    let padded: Vec<char> = format!(" {word} ").chars().collect();
    padded.windows(3).map(|w| [w[0], w[1], w[2]]).collect()
}

impl<T: Clone> NameIndex<T> {
    /// Builds the index from (display name, payload, weight).
    pub fn new(items: impl IntoIterator<Item = (String, T, f64)>) -> Self {
        let mut idx = NameIndex {
            entries: vec![],
            by_key: HashMap::new(),
            vocabulary: vec![],
            postings: vec![],
            trigrams: HashMap::new(),
            sorted_keys: vec![],
        };
        let mut vocab: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        let mut pending: Vec<Vec<String>> = Vec::new();
        for (display, payload, weight) in items {
            let key = name_key(&display);
            if key.is_empty() {
                continue;
            }
            let id = idx.entries.len() as u32;
            let words = words_of(&spelling_key(&display));
            for w in &words {
                let list = vocab.entry(w.clone()).or_default();
                if list.last() != Some(&id) {
                    list.push(id);
                }
            }
            idx.by_key.entry(key.clone()).or_default().push(id);
            idx.sorted_keys.push((key.clone(), id));
            idx.entries.push(Entry {
                display,
                key,
                payload,
                weight,
                words: vec![],
            });
            pending.push(words);
        }
        let word_ids: HashMap<String, u32> = vocab
            .keys()
            .enumerate()
            .map(|(i, w)| (w.clone(), i as u32))
            .collect();
        for (entry, words) in idx.entries.iter_mut().zip(pending) {
            entry.words = words.iter().map(|w| word_ids[w]).collect();
        }
        for (i, (word, postings)) in vocab.into_iter().enumerate() {
            for t in trigrams(&word) {
                idx.trigrams.entry(t).or_default().push(i as u32);
            }
            idx.vocabulary.push(word);
            idx.postings.push(postings);
        }
        idx.sorted_keys.sort();
        idx
    }

    /// Entries whose payload satisfies `pred` (a linear scan: for small indexes).
    pub fn entries_with<'a>(
        &'a self,
        pred: impl Fn(&T) -> bool + 'a,
    ) -> impl Iterator<Item = &'a Entry<T>> + 'a {
        self.entries.iter().filter(move |e| pred(&e.payload))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries whose key equals the query's key.
    pub fn exact(&self, query: &str) -> Vec<&Entry<T>> {
        self.by_key
            .get(&name_key(query))
            .map(|ids| ids.iter().map(|&i| &self.entries[i as usize]).collect())
            .unwrap_or_default()
    }

    /// Vocabulary words similar to `w`: (word id, similarity). The last query word may also be
    /// the beginning of a word ("intellec" → "intellectual").
    fn similar_words(&self, w: &str, allow_prefix: bool) -> Vec<(u32, f64)> {
        self.similar_words_above(w, allow_prefix, WORD_MATCH)
    }

    fn similar_words_above(&self, w: &str, allow_prefix: bool, threshold: f64) -> Vec<(u32, f64)> {
        let mut out: HashMap<u32, f64> = HashMap::new();
        if let Ok(i) = self.vocabulary.binary_search_by(|v| v.as_str().cmp(w)) {
            out.insert(i as u32, 1.0);
        }
        if allow_prefix && w.chars().count() >= 2 {
            let start = self.vocabulary.partition_point(|v| v.as_str() < w);
            for (i, v) in self.vocabulary[start..].iter().enumerate().take(64) {
                if !v.starts_with(w) {
                    break;
                }
                out.entry((start + i) as u32).or_insert(0.95);
            }
        }
        // Typos only for words long enough to have some: "un" must not become "uni".
        if w.chars().count() >= 4 {
            let mut shared: HashMap<u32, u32> = HashMap::new();
            let grams = trigrams(w);
            for g in &grams {
                if let Some(list) = self.trigrams.get(g) {
                    // A very common trigram says little and costs much: skip it at scale.
                    if list.len() > 5000 {
                        continue;
                    }
                    for &wid in list {
                        *shared.entry(wid).or_default() += 1;
                    }
                }
            }
            let needed = (grams.len() as u32 / 3).max(2);
            for (wid, n) in shared {
                if n < needed || out.contains_key(&wid) {
                    continue;
                }
                let sim = strsim::jaro_winkler(w, &self.vocabulary[wid as usize]);
                if sim >= threshold {
                    out.insert(wid, sim * 0.97);
                }
            }
        }
        out.into_iter().collect()
    }

    /// Ranked matches for `query`, best first. Exact keys score 1; otherwise every query word
    /// must match a different word of the name, and the score rewards covering the name.
    pub fn lookup(&self, query: &str, limit: usize) -> Vec<Match<'_, T>> {
        let mut scored: HashMap<u32, (f64, How)> = HashMap::new();
        if let Some(ids) = self.by_key.get(&name_key(query)) {
            for &id in ids {
                scored.insert(id, (1.0, How::Exact));
            }
        }
        let qwords = words_of(&spelling_key(query));
        if !qwords.is_empty() && qwords.len() <= 12 {
            self.score_by_words(&qwords, &mut scored);
        }
        // Whole-string typos of one-word names and acronyms ("WIPOO", "UNICEFF").
        if qwords.len() == 1 && scored.is_empty() {
            self.score_one_word_typos(&qwords[0], &mut scored);
        }
        self.ranked(scored, limit)
    }

    /// Scores the names whose words match every query word, keeping each name's best score.
    fn score_by_words(&self, qwords: &[String], scored: &mut HashMap<u32, (f64, How)>) {
        let per_word: Vec<HashMap<u32, f64>> = qwords
            .iter()
            .enumerate()
            .map(|(i, w)| {
                self.similar_words(w, i + 1 == qwords.len())
                    .into_iter()
                    .collect()
            })
            .collect();
        for id in self.candidates(&per_word) {
            let Some((score, how)) = self.score_entry(&self.entries[id as usize], &per_word) else {
                continue;
            };
            let e = scored.entry(id).or_insert((0.0, how));
            if score > e.0 {
                *e = (score, how);
            }
        }
    }

    // Candidates: entries matching the rarest query word, narrowed by the other words
    // while there are many (at 100 000 names one common word has thousands), and capped:
    // scoring is the expensive part.
    fn candidates(&self, per_word: &[HashMap<u32, f64>]) -> Vec<u32> {
        let mut order: Vec<&HashMap<u32, f64>> = per_word.iter().collect();
        order.sort_by_key(|m| {
            m.keys()
                .map(|&wid| self.postings[wid as usize].len())
                .sum::<usize>()
        });
        let mut candidates: Vec<u32> = order[0]
            .keys()
            .flat_map(|&wid| self.postings[wid as usize].iter().copied())
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        for m in &order[1..] {
            if candidates.len() <= MAX_SCORED {
                break;
            }
            candidates.retain(|&id| {
                self.entries[id as usize]
                    .words
                    .iter()
                    .any(|w| m.contains_key(w))
            });
        }
        candidates.truncate(MAX_SCORED);
        candidates
    }

    /// Each query word takes the best still-unused word of the name; None if one finds none.
    fn score_entry(&self, entry: &Entry<T>, per_word: &[HashMap<u32, f64>]) -> Option<(f64, How)> {
        let mut used: Vec<u32> = Vec::new();
        let mut total = 0.0;
        let mut exactish = true;
        for m in per_word {
            let (w, s) = entry
                .words
                .iter()
                .filter(|w| !used.contains(w))
                .filter_map(|w| m.get(w).map(|s| (*w, *s)))
                .max_by(|a, b| a.1.total_cmp(&b.1))?;
            used.push(w);
            total += s;
            exactish &= s >= 0.95;
        }
        let quality = total / per_word.len() as f64;
        let coverage = used.len() as f64 / entry.words.len().max(1) as f64;
        let score = quality * (0.75 + 0.2 * coverage);
        let how = if exactish { How::Words } else { How::Fuzzy };
        Some((score, how))
    }

    /// One-word names close to the one query word, as a whole.
    fn score_one_word_typos(&self, q: &str, scored: &mut HashMap<u32, (f64, How)>) {
        for (wid, sim) in self.similar_words(q, false) {
            for &id in self.postings[wid as usize].iter().take(200) {
                if self.entries[id as usize].words.len() == 1 {
                    scored.entry(id).or_insert((sim * 0.95, How::Fuzzy));
                }
            }
        }
    }

    /// The scored names best first (weight breaks near-ties, then the shorter name), at most
    /// `limit`.
    fn ranked(&self, scored: HashMap<u32, (f64, How)>, limit: usize) -> Vec<Match<'_, T>> {
        let mut out: Vec<Match<'_, T>> = scored
            .into_iter()
            .map(|(id, (score, how))| Match {
                id,
                entry: &self.entries[id as usize],
                score: score + self.entries[id as usize].weight * 0.01,
                how,
            })
            .collect();
        out.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.entry.display.len().cmp(&b.entry.display.len()))
                .then_with(|| a.entry.display.cmp(&b.entry.display))
        });
        out.truncate(limit);
        out
    }

    /// Words of the index one edit from `w` (a letter swapped with its neighbour, missing,
    /// extra or wrong), for words of 3 to 10 letters: at most ~400 lookups in the sorted
    /// vocabulary, whatever its size.
    fn one_edit_words(&self, w: &str) -> Vec<u32> {
        let chars: Vec<char> = w.chars().collect();
        if !(3..=10).contains(&chars.len()) {
            return Vec::new();
        }
        let alphabet: Vec<char> = ('a'..='z').chain('0'..='9').collect();
        let mut variants: HashSet<String> = HashSet::new();
        for i in 0..chars.len() {
            let mut c = chars.clone();
            c.remove(i);
            variants.insert(c.into_iter().collect());
            if i + 1 < chars.len() {
                let mut c = chars.clone();
                c.swap(i, i + 1);
                variants.insert(c.into_iter().collect());
            }
        }
        for i in 0..=chars.len() {
            for &a in &alphabet {
                let mut c = chars.clone();
                c.insert(i, a);
                variants.insert(c.iter().collect());
                if i < chars.len() {
                    let mut c = chars.clone();
                    c[i] = a;
                    variants.insert(c.into_iter().collect());
                }
            }
        }
        variants.remove(w);
        variants
            .iter()
            .filter_map(|v| self.vocabulary.binary_search(v).ok())
            .map(|i| i as u32)
            .collect()
    }

    /// Loose suggestions for a query that matched nothing ("did you mean"): names sharing a
    /// roughly similar word, ranked by the similarity of the whole name.
    pub fn suggest(&self, query: &str, limit: usize) -> Vec<&Entry<T>> {
        let key = name_key(query);
        let mut candidates: HashSet<u32> = HashSet::new();
        for w in words_of(&spelling_key(query)) {
            if w.chars().count() < 3 {
                continue;
            }
            for (wid, _) in self.similar_words_above(&w, true, 0.75) {
                candidates.extend(self.postings[wid as usize].iter().take(500));
            }
            // Trigrams miss a swapped or missing letter in a short word ("WPIO", "UNCAD").
            for wid in self.one_edit_words(&w) {
                candidates.extend(self.postings[wid as usize].iter().take(500));
            }
        }
        let mut scored: Vec<(f64, u32)> = candidates
            .into_iter()
            .map(|id| {
                (
                    strsim::jaro_winkler(&key, &self.entries[id as usize].key),
                    id,
                )
            })
            .filter(|(s, _)| *s >= 0.7)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut seen = HashSet::new();
        scored
            .into_iter()
            .map(|(_, id)| &self.entries[id as usize])
            .filter(|e| seen.insert(e.key.clone()))
            .take(limit)
            .collect()
    }

    /// Up to `limit` names for autocompletion: full-name prefixes first, then names with a word
    /// starting with the text, then close matches.
    pub fn complete(&self, partial: &str, limit: usize) -> Vec<&Entry<T>> {
        let key = name_key(partial);
        if key.is_empty() {
            return self.heaviest(limit);
        }
        let mut seen: HashSet<u32> = HashSet::new();
        let mut out: Vec<&Entry<T>> = self.complete_key(&key, limit, &mut seen);
        if out.len() < limit {
            for id in self.complete_words(partial, limit, &seen) {
                if seen.insert(id) {
                    out.push(&self.entries[id as usize]);
                }
            }
        }
        // Typos only when nothing matched as typed: fuzzy matching is the expensive path.
        if out.is_empty() {
            for m in self.lookup(partial, limit * 2) {
                if m.score >= 0.6 && seen.insert(m.id) {
                    out.push(m.entry);
                }
            }
        }
        out.truncate(limit);
        out
    }

    /// Nothing typed yet: the heaviest names, then alphabetical.
    fn heaviest(&self, limit: usize) -> Vec<&Entry<T>> {
        let mut best: Vec<&Entry<T>> = self.entries.iter().collect();
        best.sort_by(|a, b| {
            b.weight
                .total_cmp(&a.weight)
                .then_with(|| a.display.cmp(&b.display))
        });
        best.truncate(limit);
        best
    }

    /// Names whose whole key starts with `key`, heaviest then shortest first.
    fn complete_key(&self, key: &str, limit: usize, seen: &mut HashSet<u32>) -> Vec<&Entry<T>> {
        let start = self.sorted_keys.partition_point(|(k, _)| k.as_str() < key);
        let mut prefixed: Vec<&Entry<T>> = Vec::new();
        for (k, id) in &self.sorted_keys[start..] {
            if !k.starts_with(key) || prefixed.len() >= limit * 8 {
                break;
            }
            if seen.insert(*id) {
                prefixed.push(&self.entries[*id as usize]);
            }
        }
        prefixed.sort_by(|a, b| {
            b.weight
                .total_cmp(&a.weight)
                .then_with(|| a.display.len().cmp(&b.display.len()))
        });
        prefixed
    }

    // Names with a word for each typed word, the last one possibly unfinished
    // ("intel prop" → "World Intellectual Property Organization"). Exact and prefix
    // matches only: this runs on every keystroke.
    fn complete_words(&self, partial: &str, limit: usize, seen: &HashSet<u32>) -> Vec<u32> {
        let words = words_of(&spelling_key(partial));
        let Some((last, rest)) = words.split_last() else {
            return Vec::new();
        };
        let start = self
            .vocabulary
            .partition_point(|v| v.as_str() < last.as_str());
        let mut found: Vec<u32> = Vec::new();
        for (i, v) in self.vocabulary[start..].iter().enumerate().take(64) {
            if !v.starts_with(last.as_str()) {
                break;
            }
            for &id in self.postings[start + i].iter().take(limit * 8) {
                let entry = &self.entries[id as usize];
                let all = rest.iter().all(|w| {
                    entry
                        .words
                        .iter()
                        .any(|&ew| self.vocabulary[ew as usize].starts_with(w.as_str()))
                });
                if all && !seen.contains(&id) {
                    found.push(id);
                }
            }
            if found.len() >= limit * 8 {
                break;
            }
        }
        found.sort_by(|a, b| {
            self.entries[*b as usize]
                .weight
                .total_cmp(&self.entries[*a as usize].weight)
                .then(
                    self.entries[*a as usize]
                        .display
                        .len()
                        .cmp(&self.entries[*b as usize].display.len()),
                )
        });
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> NameIndex<&'static str> {
        NameIndex::new(
            [
                ("World Intellectual Property Organization", "wipo", 1.0),
                ("WIPO", "wipo", 1.0),
                ("International Telecommunication Union", "itu", 0.0),
                ("International Telecommunications Union", "itu", 0.0),
                ("ITU", "itu", 0.0),
                ("United Nations", "un", 1.0),
                ("UN", "un", 1.0),
                ("UN Women", "un-women", 0.0),
                (
                    "United Nations Conference on Trade and Development",
                    "unctad",
                    1.0,
                ),
                ("UNCTAD", "unctad", 1.0),
                ("International Organization for Standardization", "iso", 1.0),
            ]
            .into_iter()
            .map(|(d, p, w)| (d.to_string(), p, w)),
        )
    }

    fn best(q: &str) -> Option<&'static str> {
        index().lookup(q, 3).first().map(|m| m.entry.payload)
    }

    #[test]
    fn acronyms_and_names_match_exactly_in_any_case() {
        assert_eq!(best("wipo"), Some("wipo"));
        assert_eq!(
            best("  World Intellectual Property Organization "),
            Some("wipo")
        );
        assert_eq!(
            best("un"),
            Some("un"),
            "an exact acronym beats names containing it"
        );
    }

    #[test]
    fn typos_and_partial_names_still_find_the_actor() {
        assert_eq!(best("wrld intelectual property"), Some("wipo"));
        assert_eq!(best("intellectual prop"), Some("wipo"));
        assert_eq!(
            best("International Organisation for Standardisation"),
            Some("iso")
        );
        assert_eq!(best("WIPOO"), Some("wipo"));
    }

    #[test]
    fn unrelated_words_find_nothing() {
        assert_eq!(best("zebra crossing"), None);
        assert_eq!(best("maintain"), None);
    }

    #[test]
    fn completion_matches_word_beginnings_and_falls_back_to_typos() {
        let idx = index();
        assert_eq!(
            idx.complete("intel prop", 5).first().map(|e| e.payload),
            Some("wipo")
        );
        assert_eq!(
            idx.complete("telecommunication", 5)
                .first()
                .map(|e| e.payload),
            Some("itu")
        );
        assert_eq!(
            idx.complete("intelectual", 5).first().map(|e| e.payload),
            Some("wipo"),
            "a typo still completes"
        );
    }

    #[test]
    fn completion_starts_with_prefixes() {
        let idx = index();
        let got: Vec<&str> = idx
            .complete("un", 5)
            .iter()
            .map(|e| e.display.as_str())
            .collect();
        assert_eq!(got[0], "UN");
        assert!(
            got.contains(&"UN Women") && got.contains(&"UNCTAD"),
            "{got:?}"
        );
    }
}
