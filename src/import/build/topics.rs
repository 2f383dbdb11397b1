//! The taxonomy stage: baskets, the topics in them, the terms that name each topic (one topic
//! per term), and the check that curated headings map to known topics.

use std::collections::{HashMap, HashSet};

use super::Stage;
use crate::search::normalize::name_key;

impl Stage<'_, '_> {
    /// Baskets, topics and the terms that name them (one topic per term); heading mappings.
    pub(super) fn topics(&mut self) {
        self.add_baskets_and_topics();
        self.add_topic_terms();
        self.check_heading_topics();
    }

    /// Baskets in file order, then topics in file order, each in a known basket.
    fn add_baskets_and_topics(&mut self) {
        let Stage {
            c,
            problems,
            atlas,
            topic_ix,
            ..
        } = self;
        let basket_slugs: HashSet<&str> = c.baskets.iter().map(|b| b.value.slug.as_str()).collect();
        for b in &c.baskets {
            atlas
                .baskets
                .push((b.value.slug.clone(), b.value.name.clone()));
        }
        for t in &c.topics {
            if !basket_slugs.contains(t.value.basket.as_str()) {
                problems.error(
                    &t.file,
                    t.line,
                    format!(
                        "topic '{}' is in unknown basket '{}'",
                        t.value.slug, t.value.basket
                    ),
                );
            }
            topic_ix.insert(t.value.slug.clone(), atlas.topics.len());
            atlas.topics.push((
                t.value.slug.clone(),
                t.value.name.clone(),
                t.value.basket.clone(),
            ));
        }
    }

    /// A topic's name, its slug in words and its synonyms; a term naming two topics is an error.
    fn add_topic_terms(&mut self) {
        let Stage {
            c,
            problems,
            atlas,
            topic_ix,
            ..
        } = self;
        let mut term_owner: HashMap<String, (usize, usize)> = HashMap::new();
        for t in &c.topics {
            let ti = topic_ix[&t.value.slug];
            let mut terms = vec![t.value.name.clone(), t.value.slug.replace('-', " ")];
            terms.extend(t.value.synonyms.iter().cloned());
            for term in terms {
                let key = name_key(&term);
                match term_owner.get(&key) {
                    Some(&(other, _)) if other != ti => problems.error(
                        &t.file,
                        t.line,
                        format!(
                            "synonym '{term}' of topic '{}' already belongs to topic '{}'",
                            t.value.slug, atlas.topics[other].0
                        ),
                    ),
                    Some(_) => {}
                    None => {
                        term_owner.insert(key.clone(), (ti, t.line));
                        atlas.topic_terms.push((key, term, ti));
                    }
                }
            }
        }
    }

    /// Every topic a curated heading maps to exists.
    fn check_heading_topics(&mut self) {
        let Stage {
            c,
            problems,
            topic_ix,
            ..
        } = self;
        for h in &c.headings {
            for t in &h.value.topics {
                if !topic_ix.contains_key(t) {
                    problems.error(
                        &h.file,
                        h.line,
                        format!("heading '{}' maps to unknown topic '{t}'", h.value.text),
                    );
                }
            }
        }
    }
}
