//! The clean atlas format (`atlas-profiles`): a heading-like name line followed by a field line
//! starts each profile; the paragraphs up to the next name line are fed to its [`Builder`].

use super::builder::Builder;
use super::Claimed;
use super::{check_truncations, dedupe, field, is_claimed, paragraphs, short, slug_for, slugify};
use crate::import::curated::Curated;
use crate::import::model::{Field, Origin, Profile};
use crate::import::problem::Problems;
use crate::import::prose::{self, Line};

/// Parses the clean atlas format.
pub fn parse_profiles(
    file: &str,
    content: &str,
    curated: &Curated,
    claimed: &Claimed,
    problems: &mut Problems,
) -> Vec<Profile> {
    let paras = paragraphs(&prose::lines(content));
    let mut profiles = read_profiles(file, &paras, curated, claimed, problems);
    for p in &mut profiles {
        p.slug = recognise(file, p, curated, problems);
        dedupe(p, problems);
        check_truncations(p, problems);
    }
    profiles
}

/// Splits the paragraphs into profiles, each built from the paragraphs after its name line.
fn read_profiles(
    file: &str,
    paras: &[Line],
    curated: &Curated,
    claimed: &Claimed,
    problems: &mut Problems,
) -> Vec<Profile> {
    let mut profiles: Vec<Profile> = Vec::new();
    let mut builder = Builder::new(file, curated);
    let mut current: Option<Profile> = None;
    for (i, l) in paras.iter().enumerate() {
        if is_claimed(file, l, claimed, problems) {
            continue;
        }
        if starts_profile(paras, i, curated) {
            if let Some(p) = current.take() {
                profiles.push(finish(p, l.number - 1));
            }
            builder = Builder::new(file, curated);
            current = Some(named(file, l));
            continue;
        }
        match current.as_mut() {
            Some(p) => builder.feed(p, l, problems),
            None => {
                if prose::junk_kind(&l.text).is_none() {
                    problems.warn(
                        file,
                        l.number,
                        format!(
                            "text before the first profile is not attributed to anyone: {}",
                            short(&l.text)
                        ),
                    );
                }
            }
        }
    }
    if let Some(p) = current.take() {
        let last = paras.last().map(|l| l.number).unwrap_or(1);
        profiles.push(finish(p, last));
    }
    profiles
}

/// A name line: heading-like, not an issue heading, and followed by a field line.
fn starts_profile(paras: &[Line], i: usize, curated: &Curated) -> bool {
    let l = &paras[i];
    field(&l.text).is_none()
        && prose::looks_like_heading(&l.text)
        && paras.get(i + 1).is_some_and(|n| field(&n.text).is_some())
        && curated.heading_topics(&l.text).is_none()
}

/// A new profile, named by its name line.
fn named(file: &str, l: &Line) -> Profile {
    Profile {
        name: Some(Field {
            value: l.text.clone(),
            evidence: l.text.clone(),
            origin: Origin::new(file, l.number),
        }),
        spans: vec![(file.to_string(), l.number, l.number)],
        ..Profile::default()
    }
}

fn finish(mut p: Profile, last: usize) -> Profile {
    if let Some(span) = p.spans.last_mut() {
        span.2 = last.max(span.1);
    }
    p
}

/// The profile's curated slug, or one made from its name (with a warning) for an actor
/// data/actors.toml does not know.
fn recognise(file: &str, p: &Profile, curated: &Curated, problems: &mut Problems) -> String {
    let name = p.name.as_ref().map(|n| n.value.clone());
    let website = p.website.as_ref().map(|w| w.value.clone());
    if let Some(s) = slug_for(curated, website.as_deref(), name.as_deref()) {
        return s;
    }
    let line = p.name.as_ref().map(|n| n.origin.line).unwrap_or(1);
    let s = slugify(name.as_deref().unwrap_or("unnamed"));
    problems.warn(
        file,
        line,
        format!(
            "profile '{}' is not in data/actors.toml; imported as '{s}'",
            name.unwrap_or_default()
        ),
    );
    s
}
