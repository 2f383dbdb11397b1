//! `data/relatives.toml`: everyday words for the sources' own terms ("kids" → "children").
//! Each term must be written in the sources — a relative the atlas never says could only ever
//! make the bot claim a link nobody wrote — and each everyday phrase is at most four words.

use std::collections::HashSet;

use super::curated::{At, RelativeEntry};
use super::problem::Problems;
use crate::atlas::rows::PassageRow;
use crate::search::tokens;

/// Longest everyday phrase or term, in words (the question reader looks no further).
const MAX_WORDS: usize = 4;

/// (everyday phrase, the sources' term) pairs of every entry whose terms the sources write.
pub fn pairs(
    entries: &[At<RelativeEntry>],
    passages: &[PassageRow],
    problems: &mut Problems,
) -> Vec<(String, String)> {
    let written = Written::new(passages);
    let mut out = Vec::new();
    // A pair said twice (in one list or two entries) is a slip the database would refuse
    // without saying where: it is reported here with the entry that repeats it.
    let mut seen = HashSet::new();
    for e in entries {
        if !entry_is_sound(e, &written, problems) {
            continue;
        }
        for said in &e.value.said {
            for word in &e.value.words {
                let pair = (said.to_lowercase(), word.to_lowercase());
                if seen.insert(pair.clone()) {
                    out.push(pair);
                } else {
                    problems.error(
                        &e.file,
                        e.line,
                        format!("'{said}' is given twice as a relative of '{word}'"),
                    );
                }
            }
        }
    }
    out
}

fn entry_is_sound(e: &At<RelativeEntry>, written: &Written, problems: &mut Problems) -> bool {
    let mut sound = true;
    let mut fail = |why: String| {
        problems.error(&e.file, e.line, why);
        sound = false;
    };
    if e.value.words.is_empty() || e.value.said.is_empty() {
        fail("a relative needs `words` (the sources' terms) and `said` (everyday words)".into());
    }
    for w in &e.value.words {
        if !written.has(w) {
            fail(format!("'{w}' is not written in the sources"));
        }
    }
    for s in &e.value.said {
        let n = tokens(s).len();
        if n == 0 || n > MAX_WORDS {
            fail(format!("'{s}' must be 1 to {MAX_WORDS} words"));
        }
    }
    for s in &e.value.said {
        if let Some(one) = crate::search::concepts::collapses(s) {
            problems.warn(
                &e.file,
                e.line,
                format!("'{s}' is read as the one word '{one}' once its grammar is dropped, so it is ignored: say the word alone if that is meant"),
            );
        }
    }
    sound
}

/// Every run of up to four words the sources write, as tokens joined by spaces.
struct Written(HashSet<String>);

impl Written {
    fn new(passages: &[PassageRow]) -> Written {
        let mut runs = HashSet::new();
        for p in passages {
            let t = tokens(&p.search_text);
            for n in 1..=MAX_WORDS {
                for w in t.windows(n) {
                    runs.insert(w.join(" "));
                }
            }
        }
        Written(runs)
    }

    fn has(&self, term: &str) -> bool {
        let t = tokens(term);
        (1..=MAX_WORDS).contains(&t.len()) && self.0.contains(&t.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::atlas::rows::Origin;

    fn passage(text: &str) -> PassageRow {
        PassageRow {
            actor: None,
            section: None,
            document: None,
            position: 0,
            text: text.into(),
            search_text: text.into(),
            truncated: false,
            origin: Origin::new("sources/000.txt", 1),
            tool: false,
        }
    }

    fn entry(line: usize, words: &[&str], said: &[&str]) -> At<RelativeEntry> {
        At {
            file: "data/relatives.toml".into(),
            line,
            value: RelativeEntry {
                words: words.iter().map(|w| w.to_string()).collect(),
                said: said.iter().map(|w| w.to_string()).collect(),
                line: None,
            },
        }
    }

    #[test]
    fn a_pair_given_twice_is_an_error_at_the_entry_that_repeats_it_not_a_database_failure() {
        let passages = [passage(
            "Children are protected online; the courses are présentiel.",
        )];
        let entries = [
            entry(3, &["children"], &["kids", "youngsters"]),
            entry(
                8,
                &["présentiel"],
                &["in person", "Présentiel", "présentiel"],
            ),
            entry(12, &["children"], &["Kids"]),
        ];
        let mut problems = Problems::default();
        let pairs = pairs(&entries, &passages, &mut problems);
        let errors: Vec<String> = problems
            .of(crate::import::problem::Severity::Error)
            .map(|p| p.to_string())
            .collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("relatives.toml:8") && errors[0].contains("présentiel"));
        assert!(errors[1].contains("relatives.toml:12") && errors[1].contains("Kids"));
        // Each pair is kept once: the table's key holds.
        let unique: HashSet<_> = pairs.iter().collect();
        assert_eq!(unique.len(), pairs.len());
        assert_eq!(pairs.len(), 4);
    }
}
