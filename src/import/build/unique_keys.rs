//! The first stage: what the curated files key by — actor, basket, topic and event slugs,
//! heading texts — is unique, so that every later lookup by key finds one entry.

use std::collections::HashMap;

use super::Stage;
use crate::import::problem::Problems;
use crate::search::normalize::fold_typography;

impl Stage<'_, '_> {
    /// Curated files: slugs, headings and events unique.
    pub(super) fn check_curated(&mut self) {
        let Stage { c, problems, .. } = self;
        check_unique(
            c.actors
                .iter()
                .map(|a| (a.file.as_str(), a.line, a.value.slug.clone()))
                .chain(
                    c.organisations
                        .iter()
                        .map(|o| (o.file.as_str(), o.line, o.value.slug.clone())),
                ),
            "actor slug",
            problems,
        );
        check_unique(
            c.baskets
                .iter()
                .map(|b| (b.file.as_str(), b.line, b.value.slug.clone())),
            "basket slug",
            problems,
        );
        check_unique(
            c.topics
                .iter()
                .map(|t| (t.file.as_str(), t.line, t.value.slug.clone())),
            "topic slug",
            problems,
        );
        check_unique(
            c.headings
                .iter()
                .map(|h| (h.file.as_str(), h.line, fold_typography(&h.value.text))),
            "heading",
            problems,
        );
        check_unique(
            c.events
                .iter()
                .map(|e| (e.file.as_str(), e.line, e.value.slug.clone())),
            "event slug",
            problems,
        );
    }
}

fn check_unique<'a>(
    file_entries: impl Iterator<Item = (&'a str, usize, String)>,
    what: &str,
    problems: &mut Problems,
) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (file, line, key) in file_entries {
        if let Some(first) = seen.get(&key) {
            problems.error(
                file,
                line,
                format!("duplicate {what} '{key}' (first at line {first})"),
            );
        } else {
            seen.insert(key, line);
        }
    }
}
