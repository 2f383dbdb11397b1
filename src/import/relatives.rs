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
    for e in entries {
        if !entry_is_sound(e, &written, problems) {
            continue;
        }
        for said in &e.value.said {
            for word in &e.value.words {
                out.push((said.to_lowercase(), word.to_lowercase()));
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
