//! Near-duplicate detection for paragraphs. Exact hashing misses the sources' copies that differ
//! by a comma or a glued word ("Development and Cloud" / "Development, and Cloud"), so a
//! paragraph is compared by its squashed text (letters and digits only) and, failing that, by
//! the overlap of its 5-character shingles — linear in the text, unlike edit distance.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use crate::search::normalize::squash_key;

/// Shingle overlap (Jaccard) above which two paragraphs count as the same paragraph.
const SAME_PARAGRAPH: f64 = 0.8;
const SHINGLE: usize = 5;

#[derive(Debug, Clone)]
pub struct Fingerprint {
    key: String,
    shingles: HashSet<u64>,
}

impl Fingerprint {
    pub fn new(text: &str) -> Self {
        let key = squash_key(text);
        let chars: Vec<char> = key.chars().collect();
        let shingles = chars
            .windows(SHINGLE)
            .map(|w| {
                let mut h = DefaultHasher::new();
                w.hash(&mut h);
                h.finish()
            })
            .collect();
        Fingerprint { key, shingles }
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    /// Same text up to spacing and punctuation, or near enough to be one paragraph reworded by a
    /// scrape. Short texts (headings, handles) must match exactly: "X @WIPO" ≠ "X @ISO".
    pub fn same_as(&self, other: &Fingerprint) -> bool {
        if self.key == other.key {
            return !self.key.is_empty();
        }
        let (a, b) = (self.key.len(), other.key.len());
        if a < 60 || b < 60 || a.min(b) * 100 < a.max(b) * 85 {
            return false;
        }
        let common = self.shingles.intersection(&other.shingles).count();
        let union = self.shingles.len() + other.shingles.len() - common;
        union > 0 && common as f64 / union as f64 >= SAME_PARAGRAPH
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glued_words_are_the_same_paragraph() {
        let clean = Fingerprint::new("The joint IEC and International Organization for Standardization (ISO) technical committee on AI brings together technology experts from many countries.");
        let glued = Fingerprint::new("The joint IECand International Organization for Standardization (ISO)technical committee on AI brings together technology experts from many countries.");
        assert!(clean.same_as(&glued));
    }

    #[test]
    fn a_reworded_copy_is_the_same_paragraph() {
        let a = Fingerprint::new("UNICC Data and Analytics, Application Development and Cloud Infrastructure teams supported the collection, preservation, and storing of evidence in the form of images, and audio, video, and digital text files.");
        let b = Fingerprint::new("UNICC Data and Analytics, Application Development, and Cloud Infrastructure teams supported the collection, preservation, and storing of evidence in the form of images, audio, video, and digital text files.");
        assert!(a.same_as(&b));
    }

    #[test]
    fn short_lines_must_match_exactly() {
        assert!(!Fingerprint::new("Facebook @WIPO").same_as(&Fingerprint::new("Facebook @ISO")));
        assert!(
            Fingerprint::new("WIPO GREEN – online marketplace for sustainable technologies")
                .same_as(&Fingerprint::new(
                    "WIPO GREEN – online marketplace for sustainable technologies."
                ))
        );
    }

    #[test]
    fn different_paragraphs_differ() {
        let a = Fingerprint::new("In partnership with UNICC and Amazon Web Services, the United Nations Development Programme (UNDP) launched AIDA 2.0 with new analytical capabilities in 2023.");
        let b = Fingerprint::new("The Data Strategy of the Secretary-General for Action by Everyone, Everywhere is a call to action for a data-driven transformation.");
        assert!(!a.same_as(&b));
    }
}
