//! Who works on a topic, ranked at import: for every topic, the actors whose own text is about
//! it, most central first, each with the one sentence that best shows the link.
//!
//! Relevance is how much of an actor's own text (profile, documents it owns or is described
//! by, news, report, events it organises) is about the topic:
//! - a profile section on the topic counts `SECTION`, and every sentence in such a section
//!   counts `IN_SECTION` (an actor that writes many paragraphs on e-commerce is central to it);
//! - every sentence that names the topic (its terms as `search::terms` matches them, with other
//!   organisations' names masked so that "trade" in "World Trade Organization" does not
//!   count) counts `MENTION`;
//! - every named tool or programme on the topic counts `ITEM`.
//!
//! Ties go to the actor with a section on the topic, then to the stronger evidence sentence.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use super::model::Origin;
use super::names::NameMatcher;
use super::prose;
use super::rows::{Atlas, TopicActorRow};
use crate::search::normalize::{fold_typography, squash_key};
use crate::search::terms::TermMatcher;

const SECTION: f64 = 5.0;
const IN_SECTION: f64 = 0.5;
const MENTION: f64 = 1.0;
const ITEM: f64 = 1.5;
/// Evidence longer than this is cut (with "…") when shown; prefer shorter sentences.
const LONG_SENTENCE: usize = 350;

/// A candidate evidence sentence and how well it shows the link.
#[derive(Debug, Clone)]
struct Evidence {
    strength: i32,
    order: usize,
    text: String,
    origin: Origin,
}

#[derive(Default)]
struct Tally {
    score: f64,
    headings: Vec<(usize, String)>,
    best: Option<Evidence>,
    /// Sentences already counted, squashed.
    said: HashSet<String>,
}

impl Tally {
    fn offer(&mut self, e: Evidence) {
        let better = match &self.best {
            None => true,
            Some(b) => {
                (e.strength, std::cmp::Reverse(e.order)) > (b.strength, std::cmp::Reverse(b.order))
            }
        };
        if better {
            self.best = Some(e);
        }
    }
}

/// Ranks actors for every topic of `atlas`. `matcher` finds organisation names in prose.
pub(crate) fn rank_topics(atlas: &Atlas, matcher: &NameMatcher) -> Vec<TopicActorRow> {
    let topics = topic_matchers(atlas);
    let section_topics = section_topic_sets(atlas);
    let family = actor_families(atlas);
    let mut tallies: HashMap<(usize, usize), Tally> = HashMap::new();

    tally_sections(atlas, &section_topics, &mut tallies);
    for (order, p) in atlas.passages.iter().enumerate() {
        let Some(actor) = p.actor else { continue };
        let on_topics = p
            .section
            .and_then(|s| section_topics.get(&s))
            .cloned()
            .unwrap_or_default();
        for sentence in prose::sentences(&p.text) {
            let folded = fold_typography(sentence);
            let names = matcher.spans(&folded);
            let names_self = names
                .iter()
                .any(|(a, _)| *a == actor || family.get(a) == Some(&actor));
            let masked =
                crate::search::mask_links(&mask_other_names(&folded, &names, actor, &family));
            for &t in &on_topics {
                tallies.entry((t, actor)).or_default().score += IN_SECTION;
            }
            for (t, terms) in topics.iter().enumerate() {
                let mut found = terms.find_iter(&masked);
                let Some(first) = found.next() else {
                    continue;
                };
                let hits = 1 + found.count();
                let tally = tallies.entry((t, actor)).or_default();
                // The same sentence again (five reports with one title) is not more text
                // about the topic.
                if tally.said.insert(squash_key(sentence)) {
                    tally.score += MENTION;
                }
                let strength = strength(
                    sentence,
                    Found {
                        hits,
                        first_at: first.start,
                        in_section: on_topics.contains(&t),
                        names_self,
                    },
                );
                tally.offer(Evidence {
                    strength,
                    order,
                    text: sentence.trim().to_string(),
                    origin: p.origin.clone(),
                });
            }
        }
    }
    tally_items(atlas, &topics, &mut tallies);
    order_rankings(tallies)
}

/// A term matcher per topic, indexed like `atlas.topics`.
fn topic_matchers(atlas: &Atlas) -> Vec<TermMatcher> {
    (0..atlas.topics.len())
        .map(|t| {
            let terms: Vec<&str> = atlas
                .topic_terms
                .iter()
                .filter(|(_, _, ti)| *ti == t)
                .map(|(_, term, _)| term.as_str())
                .collect();
            TermMatcher::new(&terms)
        })
        .collect()
}

/// Section → the topics it is on.
fn section_topic_sets(atlas: &Atlas) -> HashMap<usize, Vec<usize>> {
    let mut m: HashMap<usize, Vec<usize>> = HashMap::new();
    for &(s, t) in &atlas.section_topics {
        let v = m.entry(s).or_default();
        if !v.contains(&t) {
            v.push(t);
        }
    }
    m
}

/// Internal units → the actor they are part of: a unit's name in its parent's text is the
/// parent's own work, not someone else's name to mask.
fn actor_families(atlas: &Atlas) -> HashMap<usize, usize> {
    atlas
        .actors
        .iter()
        .enumerate()
        .filter_map(|(i, a)| a.parent.map(|p| (i, p)))
        .collect()
}

/// Profile sections on a topic: the strongest sign an actor works on it.
fn tally_sections(
    atlas: &Atlas,
    section_topics: &HashMap<usize, Vec<usize>>,
    tallies: &mut HashMap<(usize, usize), Tally>,
) {
    for (si, s) in atlas.sections.iter().enumerate() {
        let Some(heading) = &s.heading else { continue };
        // Sub-sections inherit their parent's topics; the parent's heading names the section.
        if s.parent.is_some() {
            continue;
        }
        for &t in section_topics.get(&si).map(Vec::as_slice).unwrap_or(&[]) {
            let tally = tallies.entry((t, s.actor)).or_default();
            if tally.headings.is_empty() {
                tally.score += SECTION;
            }
            if !tally.headings.iter().any(|(_, h)| h == heading) {
                tally.headings.push((s.position, heading.clone()));
            }
        }
    }
}

/// Named tools and programmes on a topic.
fn tally_items(
    atlas: &Atlas,
    topics: &[TermMatcher],
    tallies: &mut HashMap<(usize, usize), Tally>,
) {
    for it in &atlas.items {
        let text = match &it.description {
            Some(d) => format!("{} – {d}", it.name),
            None => it.name.clone(),
        };
        let folded = fold_typography(&text);
        for (t, terms) in topics.iter().enumerate() {
            let mut found = terms.find_iter(&folded);
            let Some(first) = found.next() else { continue };
            let tally = tallies.entry((t, it.actor)).or_default();
            tally.score += ITEM;
            // A tool on the topic is evidence too ("WIPO Academy – also includes an eLearning
            // Centre"), after the actor's own sentences.
            let found = Found {
                hits: 1 + found.count(),
                first_at: first.start,
                in_section: false,
                names_self: false,
            };
            tally.offer(Evidence {
                strength: strength(&text, found),
                order: usize::MAX,
                text: text.clone(),
                origin: it.origin.clone(),
            });
        }
    }
}

/// `folded` (a sentence, typography folded) with the `names` of organisations other than
/// `actor` (and its units) blanked, so their words are not taken for the topic.
fn mask_other_names(
    folded: &str,
    names: &[(usize, Range<usize>)],
    actor: usize,
    family: &HashMap<usize, usize>,
) -> String {
    let mut out = folded.as_bytes().to_vec();
    for (a, range) in names {
        if *a == actor || family.get(a) == Some(&actor) {
            continue;
        }
        // Spaces keep byte offsets and UTF-8 valid (a whole name is replaced).
        for b in &mut out[range.clone()] {
            *b = b' ';
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| folded.to_string())
}

/// What a sentence holds of the topic and the actor.
struct Found {
    /// Occurrences of the topic's terms.
    hits: usize,
    /// Byte offset of the first one.
    first_at: usize,
    /// The sentence is in a profile section on the topic.
    in_section: bool,
    /// The sentence names the actor (or one of its units).
    names_self: bool,
}

/// How well a sentence shows the link: the topic named early (and more than once), inside a
/// section on it, naming the actor itself; never a URL or a footnote; neither a fragment nor a
/// wall of text.
fn strength(sentence: &str, f: Found) -> i32 {
    let len = sentence.chars().count();
    let mut s = f.hits.min(3) as i32;
    if f.in_section {
        s += 3;
    }
    if f.names_self {
        s += 2;
    }
    if f.first_at < 150 {
        s += 2;
    }
    if sentence.contains("http") || sentence.contains("www.") || sentence.contains("<sup>") {
        s -= 8;
    }
    if len > 250 {
        s -= ((len - 250) / 100) as i32 + 1;
    }
    if len > LONG_SENTENCE {
        s -= 2;
    }
    if len < 30 {
        s -= 2;
    }
    if sentence.ends_with('…') {
        s -= 2;
    }
    if prose::caption_like(sentence) {
        s -= 4;
    }
    s
}

/// Per topic: actors by score, ties to a section on the topic, then to stronger evidence.
fn order_rankings(tallies: HashMap<(usize, usize), Tally>) -> Vec<TopicActorRow> {
    let mut by_topic: HashMap<usize, Vec<(usize, Tally)>> = HashMap::new();
    for ((t, a), tally) in tallies {
        // Words in a section on another topic's heading alone do not make a ranking entry.
        if tally.headings.is_empty() && tally.best.is_none() {
            continue;
        }
        by_topic.entry(t).or_default().push((a, tally));
    }
    let mut rows = Vec::new();
    let mut topics: Vec<usize> = by_topic.keys().copied().collect();
    topics.sort_unstable();
    for t in topics {
        let mut list = by_topic.remove(&t).unwrap_or_default();
        list.sort_by(|(a1, x), (a2, y)| {
            y.score
                .total_cmp(&x.score)
                .then((!y.headings.is_empty()).cmp(&!x.headings.is_empty()))
                .then(strength_of(y).cmp(&strength_of(x)))
                .then(a1.cmp(a2))
        });
        let mut seen = HashSet::new();
        for (a, mut tally) in list {
            if !seen.insert(a) {
                continue;
            }
            tally.headings.sort();
            rows.push(TopicActorRow {
                topic: t,
                actor: a,
                rank: seen.len(),
                score: tally.score,
                headings: tally.headings.into_iter().map(|(_, h)| h).collect(),
                evidence: tally.best.as_ref().map(|e| e.text.clone()),
                origin: tally.best.map(|e| e.origin),
            });
        }
    }
    rows
}

fn strength_of(t: &Tally) -> i32 {
    t.best.as_ref().map_or(i32::MIN, |e| e.strength)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_only_in_a_links_address_is_not_said_and_a_caption_is_weak_evidence() {
        let t = TermMatcher::new(&["social media"]);
        let footnote =
            "<sup>10</sup> <https://ict4peace.org/activities/impact-of-social-media-in-elections/>";
        assert!(
            t.find_iter(footnote).next().is_some(),
            "the address spells it"
        );
        assert!(t
            .find_iter(&crate::search::mask_links(footnote))
            .next()
            .is_none());
        let said = "Social media in elections https://ict4peace.org/social-media";
        assert_eq!(
            crate::search::mask_links(said).len(),
            said.len(),
            "offsets kept"
        );
        assert!(t
            .find_iter(&crate::search::mask_links(said))
            .next()
            .is_some());
        let f = || Found {
            hits: 1,
            first_at: 10,
            in_section: false,
            names_self: false,
        };
        assert!(
            strength("virtual meeting climate change", f())
                < strength("UNICC supports climate change meetings online.", f())
        );
    }

    #[test]
    fn evidence_prefers_the_actor_at_work_over_a_link_or_a_fragment() {
        let found = |hits, in_section, names_self| Found {
            hits,
            first_at: 40,
            in_section,
            names_self,
        };
        let good = strength(
            "UNICC is now managing the root Certificate Authority for PKI.",
            found(1, false, true),
        );
        let url = strength(
            "See https://example.org/pki for PKI.",
            found(1, false, true),
        );
        let short = strength("PKI Digital Identity", found(1, false, false));
        assert!(good > url && good > short, "{good} {url} {short}");
        assert!(
            strength(
                "A section sentence on PKI and more PKI.",
                found(2, true, false)
            ) > strength(
                "A passing sentence on PKI and more PKI.",
                found(2, false, false)
            )
        );
        let late = Found {
            first_at: 300,
            ..found(1, false, false)
        };
        let long = "x".repeat(320) + " PKI.";
        assert!(
            strength(&long, late)
                < strength("PKI in a short sentence here.", found(1, false, false))
        );
    }

    #[test]
    fn names_of_other_organisations_are_not_the_topic() {
        let m = NameMatcher::new(&[(0, "UNCTAD".into()), (1, "World Trade Organization".into())]);
        let text = "UNCTAD helps the World Trade Organization on trade.";
        let masked = mask_other_names(text, &m.spans(text), 0, &HashMap::new());
        assert_eq!(
            masked,
            "UNCTAD helps the                          on trade."
        );
        let terms = TermMatcher::new(&["trade"]);
        assert_eq!(terms.find_iter(&masked).count(), 1);
    }
}
