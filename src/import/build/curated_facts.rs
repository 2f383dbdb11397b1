//! Facts of data/actors.toml that the source fields do not give (name, acronym, founding
//! year), applied to a profile only where they quote the actor's own source text: no fact
//! enters the atlas unsupported.

use super::{find_quote, Origin};
use crate::import::curated::{ActorEntry, At, Curated};
use crate::import::model::{Field, Profile};
use crate::import::problem::Problems;
use crate::import::prose;
use crate::search::normalize::fold_typography;

/// Facts of data/actors.toml that the source fields do not give: each must quote the actor's
/// own source text, so that no fact enters the atlas unsupported.
pub(super) fn apply_curated_facts(
    p: &mut Profile,
    c: &Curated,
    texts: &[(String, String)],
    problems: &mut Problems,
) {
    let Some(entry) = c.actors.iter().find(|a| a.value.slug == p.slug) else {
        return;
    };
    if entry.value.acronym.is_none() && entry.value.founded.is_none() && entry.value.name.is_none()
    {
        return; // nothing curated to apply (and no need to look through the sources)
    }
    let own: Vec<(String, String)> = texts
        .iter()
        .filter(|(f, _)| p.spans.iter().any(|s| &s.0 == f))
        .cloned()
        .collect();
    apply_name(p, entry);
    apply_acronym(p, entry, &own, problems);
    apply_founded(p, entry, texts, &own, problems);
}

/// A curated name stands where the profile has none; it is its own evidence.
fn apply_name(p: &mut Profile, entry: &At<ActorEntry>) {
    if p.name.is_none() {
        if let Some(name) = &entry.value.name {
            p.name = Some(Field {
                value: name.clone(),
                evidence: name.clone(),
                origin: Origin::new(&entry.file, entry.line),
            });
        }
    }
}

/// A curated acronym, once its quote is found in the actor's own text.
fn apply_acronym(
    p: &mut Profile,
    entry: &At<ActorEntry>,
    own: &[(String, String)],
    problems: &mut Problems,
) {
    if let Some(a) = &entry.value.acronym {
        if let Some(origin) = locate(own, &a.quote, problems, entry) {
            if p.acronym.is_none() {
                p.acronym = Some(Field {
                    value: a.value.clone(),
                    evidence: a.quote.clone(),
                    origin,
                });
            }
        }
    }
}

/// A curated founding year, once its quote is found in the actor's own text and contains
/// that year; the evidence is the whole sentence.
fn apply_founded(
    p: &mut Profile,
    entry: &At<ActorEntry>,
    texts: &[(String, String)],
    own: &[(String, String)],
    problems: &mut Problems,
) {
    if let Some(f) = &entry.value.founded {
        if let Some(origin) = locate(own, &f.quote, problems, entry) {
            if !f.quote.contains(&f.year.to_string()) {
                problems.error(
                    &entry.file,
                    entry.line,
                    format!(
                        "founded = {} but the quote does not contain that year",
                        f.year
                    ),
                );
            } else if p.founded.is_none() {
                let sentence =
                    sentence_with(texts, &origin, &f.quote).unwrap_or_else(|| f.quote.clone());
                p.founded = Some(Field {
                    value: f.year,
                    evidence: sentence,
                    origin,
                });
            }
        }
    }
}

/// Where the actor's own text holds `quote`; not finding it is an error at the entry.
fn locate(
    own: &[(String, String)],
    quote: &str,
    problems: &mut Problems,
    entry: &At<ActorEntry>,
) -> Option<Origin> {
    let found = find_quote(own, quote);
    if found.is_none() {
        problems.error(
            &entry.file,
            entry.line,
            format!(
                "quote not found in {}'s sources: \"{quote}\"",
                entry.value.slug
            ),
        );
    }
    found
}

fn sentence_with(texts: &[(String, String)], origin: &Origin, quote: &str) -> Option<String> {
    let (_, content) = texts.iter().find(|(f, _)| *f == origin.file)?;
    let line = prose::lines(content)
        .into_iter()
        .find(|l| l.number == origin.line)?;
    let q = fold_typography(quote);
    prose::sentences(&line.text)
        .into_iter()
        .find(|s| fold_typography(s).contains(&q))
        .map(str::to_string)
}
