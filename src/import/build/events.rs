//! The events stage: the events of data/events.toml, anchored by their quotes, with valid
//! partial dates and a known organiser; a blurb that is no one's text becomes its organiser's
//! passages, one per source line.

use super::passages::passage;
use super::{find_quote, index_of, EventRow, Origin, Stage};
use crate::import::curated::{At, EventEntry};
use crate::import::model::Para;
use crate::import::problem::Problems;
use crate::import::prose;
use crate::search::normalize::fold_typography;

impl Stage<'_, '_> {
    /// Atlas events from data/events.toml, anchored by their quotes; a blurb that is no one's
    /// text becomes its organiser's passages.
    pub(super) fn events(&mut self) {
        // The text every actor already has, folded once for all events.
        let written: Vec<String> = self
            .atlas
            .passages
            .iter()
            .map(|p| fold_typography(&p.text))
            .collect();
        let c = self.c;
        for e in &c.events {
            let Some(origin) = find_quote(self.texts, &e.value.quote) else {
                self.problems.error(
                    &e.file,
                    e.line,
                    format!("quote not found in any source: \"{}\"", e.value.quote),
                );
                continue;
            };
            check_event_dates(e, self.problems);
            let organiser = e.value.organiser.as_ref().and_then(|o| {
                index_of(
                    &self.slugs,
                    o,
                    (&e.file, e.line),
                    "organiser",
                    self.problems,
                )
            });
            let lines = if e.value.claim {
                e.value.claim_lines
            } else {
                1
            };
            let description = event_description(self.texts, &origin, &e.value.quote, lines);
            self.add_blurb_passages(e, &origin, organiser, &written);
            self.atlas.events.push(EventRow {
                slug: e.value.slug.clone(),
                title: e.value.title.clone(),
                starts: e.value.starts.clone(),
                ends: e.value.ends.clone(),
                date_text: e.value.date_text.clone(),
                place: e.value.place.clone(),
                recurrence: e.value.recurrence.clone(),
                organiser,
                description,
                origin,
            });
        }
    }

    /// A blurb that is no one's text (the undated events at the end of 001) is its
    /// organiser's: searchable, and counted for its topics. An event quoted from an actor's
    /// own text (the report) stays that actor's: the organiser did not write it.
    fn add_blurb_passages(
        &mut self,
        e: &At<EventEntry>,
        origin: &Origin,
        organiser: Option<usize>,
        written: &[String],
    ) {
        let quote = fold_typography(&e.value.quote);
        let already_text = written.iter().any(|p| p.contains(quote.as_str()));
        if !already_text {
            let lines = if e.value.claim {
                e.value.claim_lines
            } else {
                1
            };
            for (i, para) in event_lines(self.texts, origin, lines).iter().enumerate() {
                self.atlas
                    .passages
                    .push(passage(organiser, None, None, i, para));
            }
        }
    }
}

/// `starts` and `ends` are dates, whole or partial.
fn check_event_dates(e: &At<EventEntry>, problems: &mut Problems) {
    for (label, date) in [("starts", &e.value.starts), ("ends", &e.value.ends)] {
        if let Some(d) = date {
            if !valid_partial_date(d) {
                problems.error(
                    &e.file,
                    e.line,
                    format!("{label} = \"{d}\" is not a date: write 2021-10-31, 2021-10 or 2021"),
                );
            }
        }
    }
}

fn valid_partial_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let num = |p: &str, len: usize, max: u32| {
        p.len() == len && p.parse::<u32>().is_ok_and(|n| n >= 1 && n <= max)
    };
    match parts.as_slice() {
        [y] => num(y, 4, 9999),
        [y, m] => num(y, 4, 9999) && num(m, 2, 12),
        [y, m, d] => num(y, 4, 9999) && num(m, 2, 12) && num(d, 2, 31),
        _ => false,
    }
}

/// The source lines of an event blurb, one paragraph each (junk lines left out), so that a
/// search hit cites the line it is on.
fn event_lines(texts: &[(String, String)], origin: &Origin, lines: usize) -> Vec<Para> {
    let Some((_, content)) = texts.iter().find(|(f, _)| *f == origin.file) else {
        return vec![];
    };
    prose::lines(content)
        .into_iter()
        .filter(|l| l.number >= origin.line && !l.text.is_empty())
        .take(lines)
        .filter(|l| prose::junk_kind(&l.text).is_none())
        .map(|l| Para {
            truncated: prose::is_truncated(&l.text),
            origin: Origin::new(&origin.file, l.number),
            text: l.text,
        })
        .collect()
}

/// The event's description: the sentence holding the quote, or the whole claimed blurb.
fn event_description(
    texts: &[(String, String)],
    origin: &Origin,
    quote: &str,
    lines: usize,
) -> String {
    let Some((_, content)) = texts.iter().find(|(f, _)| *f == origin.file) else {
        return quote.to_string();
    };
    let ls: Vec<String> = prose::lines(content)
        .into_iter()
        .filter(|l| l.number >= origin.line && !l.text.is_empty())
        .take(lines)
        .map(|l| l.text)
        .collect();
    if lines > 1 {
        return ls
            .into_iter()
            .filter(|l| prose::junk_kind(l).is_none())
            .collect::<Vec<_>>()
            .join(" ");
    }
    let text = ls.first().cloned().unwrap_or_default();
    let folded = fold_typography(&text);
    let q = fold_typography(quote);
    match folded.find(&q) {
        Some(_) => prose::sentences(&text)
            .into_iter()
            .find(|s| fold_typography(s).contains(&q) || q.contains(&fold_typography(s)))
            .map(str::to_string)
            .unwrap_or(text),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_blurbs_are_one_passage_per_source_line_without_junk() {
        let texts = vec![(
            "001".to_string(),
            "DCAF tools\nThe series is on cryptography.\nContact Ms Teleanu.\nFor more information, and to register, please visit the official page.\nNext"
                .to_string(),
        )];
        let lines = event_lines(&texts, &Origin::new("001", 2), 3);
        let got: Vec<(usize, &str)> = lines
            .iter()
            .map(|p| (p.origin.line, p.text.as_str()))
            .collect();
        assert_eq!(
            got[..2],
            [
                (2, "The series is on cryptography."),
                (3, "Contact Ms Teleanu.")
            ]
        );
    }
}
