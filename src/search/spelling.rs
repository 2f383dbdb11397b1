//! Misspelt words read as the word the sources write ("chidren" → "children", "Reprot" →
//! "report"): a word the atlas never writes, one edit (a letter left out, added, changed, or
//! two letters swapped) from a word it does, is that word — said in the answer, never silently.
//!
//! Only long words are read so: a short word one edit from another is as likely another word
//! ("wine" and "wire"), and an everyday word the sources do not use is not a typo of one they
//! do. The index is SymSpell's: every word under itself and under each form with one letter
//! left out, so two words one edit apart share a key.

use std::collections::HashMap;

/// Shortest word corrected in a question's own words, in letters.
pub const MIN_LETTERS: usize = 6;
/// Shortest word corrected in a title: a title found with the word read so checks the
/// reading ("Playing with Lifes" is "Playing with Lives"; "lifes" alone could be "lines").
pub const MIN_TITLE_LETTERS: usize = 4;
/// Longest word indexed or corrected: the deletes of a longer word are not worth their keys.
const MAX_LETTERS: usize = 24;

#[derive(Debug, Default)]
pub struct Speller {
    /// Word (and each one-letter-left-out form) → the words it stands for, by index.
    keys: HashMap<String, Vec<u32>>,
    /// The indexed words, each with how many passages write it.
    words: Vec<(String, usize)>,
}

/// The word with each one of its letters left out in turn.
fn deletes(word: &str) -> impl Iterator<Item = String> + '_ {
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    (0..chars.len()).map(move |i| {
        let (at, c) = chars[i];
        format!("{}{}", &word[..at], &word[at + c.len_utf8()..])
    })
}

fn indexable(word: &str, shortest: usize) -> bool {
    let n = word.chars().count();
    (shortest..=MAX_LETTERS).contains(&n) && word.chars().all(char::is_alphabetic)
}

impl Speller {
    /// From the atlas's words, each with how many passages write it.
    pub fn new<'a>(words: impl Iterator<Item = (&'a str, usize)>) -> Speller {
        let mut s = Speller::default();
        // A correction is one letter shorter at most: index from one letter under the
        // shortest word corrected.
        for (word, found) in words.filter(|(w, _)| indexable(w, MIN_TITLE_LETTERS - 1)) {
            let i = s.words.len() as u32;
            s.words.push((word.to_string(), found));
            for key in std::iter::once(word.to_string()).chain(deletes(word)) {
                let list = s.keys.entry(key).or_default();
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
        s
    }

    /// The word the sources write that `typed` (folded, not itself written, at least
    /// `shortest` letters) is one edit from: the most written one; None when two are written
    /// as often (no way to tell), or none is.
    pub fn correct(&self, typed: &str, shortest: usize) -> Option<&str> {
        if !indexable(typed, shortest.max(MIN_TITLE_LETTERS)) {
            return None;
        }
        let mut best: Vec<&(String, usize)> = std::iter::once(typed.to_string())
            .chain(deletes(typed))
            .filter_map(|k| self.keys.get(&k))
            .flatten()
            .map(|&i| &self.words[i as usize])
            .filter(|(w, _)| {
                w != typed && strsim::osa_distance(w, typed) == 1 && slip_of_the_finger(typed, w)
            })
            .collect();
        best.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        best.dedup();
        match best.as_slice() {
            [] => None,
            [only] => Some(&only.0),
            [first, second, ..] => (first.1 > second.1).then_some(first.0.as_str()),
        }
    }
}

/// Rows of a keyboard (QWERTY; AZERTY and QWERTZ move few letters).
const ROWS: [&str; 3] = ["qwertyuiop", "asdfghjkl", "zxcvbnm"];

/// True when two letters are neighbours on a keyboard (same row side by side, or in the rows
/// above and below, offset as keys are).
fn neighbours(a: char, b: char) -> bool {
    let at = |c: char| {
        ROWS.iter()
            .enumerate()
            .find_map(|(r, row)| row.find(c).map(|i| (r as i32, i as i32)))
    };
    let (Some((ra, ia)), Some((rb, ib))) = (at(a), at(b)) else {
        return false;
    };
    match ra - rb {
        0 => (ia - ib).abs() == 1,
        // Each row starts half a key further right: a key touches the two above it.
        1 => ib == ia || ib == ia + 1,
        -1 => ia == ib || ia == ib + 1,
        _ => false,
    }
}

/// Letters spelt for one another by ear ("privicy", "seperate", "sentre", "analyse"):
/// vowels, and c, k, s, z.
fn sound_alike(a: char, b: char) -> bool {
    const VOWELS: &str = "aeiouy";
    const HISSES: &str = "cksz";
    (VOWELS.contains(a) && VOWELS.contains(b)) || (HISSES.contains(a) && HISSES.contains(b))
}

/// True when `typed` reads as `word` mistyped — a letter left out or doubled, two letters
/// swapped, a key's neighbour struck instead, or a letter spelt by ear — rather than another word a letter away
/// ("readers" is not "leaders" mistyped: r and l are far apart).
fn slip_of_the_finger(typed: &str, word: &str) -> bool {
    let (t, w): (Vec<char>, Vec<char>) = (typed.chars().collect(), word.chars().collect());
    if t.len() != w.len() {
        return true;
    }
    let differ: Vec<usize> = (0..t.len()).filter(|&i| t[i] != w[i]).collect();
    match differ.as_slice() {
        [i] => neighbours(t[*i], w[*i]) || sound_alike(t[*i], w[*i]),
        _ => true, // two letters swapped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn speller() -> Speller {
        Speller::new(
            [
                ("children", 40),
                ("report", 90),
                ("awareness", 12),
                ("outlook", 5),
                ("marking", 3),
                ("parking", 3),
                ("wire", 9),
                ("leaders", 30),
            ]
            .into_iter(),
        )
    }

    #[test]
    fn a_letter_left_out_added_changed_or_swapped_is_the_written_word() {
        let s = speller();
        assert_eq!(s.correct("chidren", MIN_LETTERS), Some("children"));
        assert_eq!(s.correct("childrenn", MIN_LETTERS), Some("children"));
        assert_eq!(s.correct("awarenss", MIN_LETTERS), Some("awareness"));
        assert_eq!(s.correct("reprot", MIN_LETTERS), Some("report"));
        assert_eq!(s.correct("outlok", MIN_LETTERS), Some("outlook"));
        assert_eq!(s.correct("awarebess", MIN_LETTERS), Some("awareness"));
    }

    #[test]
    fn short_words_two_edits_and_ties_are_not_guessed() {
        let s = speller();
        assert_eq!(
            s.correct("wine", MIN_LETTERS),
            None,
            "short: another word, not a typo"
        );
        assert_eq!(s.correct("chldrn", MIN_LETTERS), None, "two edits");
        assert_eq!(
            s.correct("harking", MIN_LETTERS),
            None,
            "marking and parking as often"
        );
        assert_eq!(
            s.correct("report", MIN_LETTERS),
            None,
            "written: nothing to correct"
        );
        assert_eq!(s.correct("rep0rt", MIN_LETTERS), None, "not a word");
        assert_eq!(
            s.correct("chilsren", MIN_LETTERS),
            Some("children"),
            "s beside d"
        );
        assert_eq!(
            s.correct("chimdren", MIN_LETTERS),
            None,
            "m is far from l: another word, not a slip"
        );
        assert_eq!(s.correct("readers", MIN_LETTERS), None, "r is far from l");
        assert_eq!(
            s.correct("awaraness", MIN_LETTERS),
            Some("awareness"),
            "by ear"
        );
    }

    proptest! {
        #[test]
        fn any_input_is_answered_within_one_edit(typed in "\\PC{0,40}") {
            let s = speller();
            if let Some(w) = s.correct(&typed, MIN_TITLE_LETTERS) {
                prop_assert_eq!(strsim::osa_distance(w, &typed), 1);
            }
        }
    }
}
