//! What a piece of prose (an event's title and description) is about, in the atlas's terms:
//! the topics whose names or synonyms it uses and the actors it names. The same matching as
//! the importer's topic ranking and `/who-works-on` (`search::terms`): whole words, acronyms
//! in their own case. Used to tag events a moderator did not tag, so that people following a
//! topic or an actor hear of them.

use std::sync::Arc;

use super::{id, Atlas};
use crate::search::terms::{is_acronym_term, TermMatcher};

/// Most topics and actors one text is tagged with: a long description naming everyone would
/// otherwise notify every follower in the space.
pub const MAX_TOPICS: usize = 5;
pub const MAX_ACTORS: usize = 5;

/// Topics and actors found in a text, as slugs, in order of first appearance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subjects {
    pub topics: Vec<String>,
    pub actors: Vec<String>,
}

/// A matcher over many names, and what each name stands for (a row position).
struct Names {
    matcher: TermMatcher,
    owner: Vec<usize>,
}

impl Names {
    fn new(names: Vec<(String, usize)>) -> Names {
        let (terms, owner): (Vec<String>, Vec<usize>) = names.into_iter().unzip();
        Names {
            matcher: TermMatcher::new(&terms),
            owner,
        }
    }

    /// Owners named in `text`, each once, in order of first mention, at most `limit`.
    fn found(&self, text: &str, limit: usize) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        for (_, term) in self.matcher.find_terms(text) {
            let owner = self.owner[term];
            if !out.contains(&owner) {
                out.push(owner);
                if out.len() == limit {
                    break;
                }
            }
        }
        out
    }
}

/// Whether an actor's name is distinctive enough to tag an event with when it appears in
/// prose: an acronym (WIPO, ITU) or a name of two words or more ("Internet Society"). A
/// one-word name ("Geneva") or an alias is too often just a word.
fn distinctive(name: &str, kind: &str) -> bool {
    kind != "alias"
        && name.chars().filter(|c| c.is_alphanumeric()).count() >= 3
        && (is_acronym_term(name) || name.split_whitespace().count() >= 2)
}

impl Atlas {
    fn topic_names_matcher(&self) -> Arc<Names> {
        self.memo(("subject topics", 0), || {
            Names::new(
                self.rows
                    .topic_terms
                    .iter()
                    .map(|(_, term, topic)| (term.clone(), *topic))
                    .collect(),
            )
        })
    }

    fn actor_names_matcher(&self) -> Arc<Names> {
        self.memo(("subject actors", 0), || {
            Names::new(
                self.rows
                    .actor_names
                    .iter()
                    .filter(|(_, name, _, kind)| distinctive(name, kind))
                    .map(|(actor, name, _, _)| (name.clone(), *actor))
                    .collect(),
            )
        })
    }

    /// How a followed topic or actor is named to people: the topic's name, the actor's
    /// acronym or name (its slug, if this atlas no longer has it).
    pub fn subject_name(&self, s: &crate::domain::Subject) -> String {
        use crate::domain::Subject;
        match s {
            Subject::Topic(slug) => self
                .topics
                .iter()
                .find(|t| &t.slug == slug)
                .map_or(slug.clone(), |t| t.name.clone()),
            Subject::Actor(slug) => self
                .actor_by_slug(slug)
                .map_or(slug.clone(), |a| a.acronym.unwrap_or(a.name)),
        }
    }

    /// The topics and actors `text` names.
    pub fn subjects_in(&self, text: &str) -> Subjects {
        let topics = self
            .topic_names_matcher()
            .found(text, MAX_TOPICS)
            .into_iter()
            .filter_map(|t| self.topic_names.get(&id(t)).map(|(slug, _)| slug.clone()))
            .collect();
        let actors = self
            .actor_names_matcher()
            .found(text, MAX_ACTORS)
            .into_iter()
            .filter_map(|a| self.rows.actors.get(a).map(|r| r.slug.clone()))
            .collect();
        Subjects { topics, actors }
    }
}
