//! The terms stages: the glossary, with what the sources do with each term (checked, not
//! asserted), and the everyday words people use for the sources' terms.

use super::{Stage, TermRow};
use crate::import::{glossary, relatives};
use crate::search::normalize::name_key;

impl Stage<'_, '_> {
    /// The glossary, with what the sources do with each term (checked, not asserted).
    pub(super) fn glossary(&mut self) {
        let Stage {
            c, texts, atlas, ..
        } = self;
        let corpus = glossary::Corpus::new(texts);
        for t in &c.glossary {
            let v = &t.value;
            let (status, origin) = glossary::classify(&corpus, &v.term, &v.expansion, v.curated);
            atlas.glossary.push(TermRow {
                term: v.term.clone(),
                key: name_key(&v.term),
                expansion: v.expansion.clone(),
                curated: v.curated,
                status,
                origin,
            });
        }
    }

    /// Everyday words for the sources' terms, each term checked against the passages.
    pub(super) fn relatives(&mut self) {
        let Stage {
            c, problems, atlas, ..
        } = self;
        atlas.relatives = relatives::pairs(&c.relatives, &atlas.passages, problems);
    }
}
