//! Text a profile says twice: repeated and near-repeated paragraphs, repeated taglines, and
//! the sections such repeats leave empty. Every removal is noted with the line it repeats.

use std::collections::HashSet;

use super::short;
use crate::import::model::{Profile, SectionKind};
use crate::import::problem::Problems;
use crate::import::similar::Fingerprint;
use crate::search::normalize::squash_key;

/// Removes duplicated and near-duplicated paragraphs within a profile. Of each group the copy
/// in an issue section is kept (WEF's "Digital tools" holds only a copy of its Cryptocurrencies
/// paragraph); sections left empty by it disappear.
pub fn dedupe(p: &mut Profile, problems: &mut Problems) {
    drop_repeated_paras(p, problems);
    drop_repeated_taglines(p, problems);
    drop_empty_tools(p, problems);
}

/// A paragraph kept, by (section, paragraph) index.
struct Seen {
    section: usize,
    para: usize,
    fp: Fingerprint,
}

fn drop_repeated_paras(p: &mut Profile, problems: &mut Problems) {
    let mut kept: Vec<Seen> = Vec::new();
    let mut drop: HashSet<(usize, usize)> = HashSet::new();
    for (si, pi) in keeping_order(p) {
        let para = &p.sections[si].paras[pi];
        let fp = Fingerprint::new(&para.text);
        if let Some(original) = kept.iter().find(|k| k.fp.same_as(&fp)) {
            let o = &p.sections[original.section].paras[original.para].origin;
            problems.removed(
                &para.origin.file,
                para.origin.line,
                format!("repeats {}:{}", o.file, o.line),
            );
            drop.insert((si, pi));
        } else {
            kept.push(Seen {
                section: si,
                para: pi,
                fp,
            });
        }
    }
    for (si, s) in p.sections.iter_mut().enumerate() {
        let mut pi = 0;
        s.paras.retain(|_| {
            let keep = !drop.contains(&(si, pi));
            pi += 1;
            keep
        });
    }
}

/// Every (section, paragraph) of the profile, in the order their copies are weighed.
fn keeping_order(p: &Profile) -> Vec<(usize, usize)> {
    let rank = |k: SectionKind| match k {
        SectionKind::Issue | SectionKind::Subsection => 0,
        SectionKind::Description | SectionKind::Activities => 1,
        _ => 2,
    };
    let mut order: Vec<(usize, usize)> = Vec::new();
    for (si, s) in p.sections.iter().enumerate() {
        for pi in 0..s.paras.len() {
            order.push((si, pi));
        }
    }
    // Visit better-placed copies first so they are the ones kept; ties keep file order.
    order.sort_by_key(|&(si, pi)| {
        (
            rank(p.sections[si].kind),
            p.sections[si].paras[pi].origin.line,
        )
    });
    order
}

/// Taglines repeated under a near-identical heading are the same project told twice.
fn drop_repeated_taglines(p: &mut Profile, problems: &mut Problems) {
    let mut seen_taglines: HashSet<String> = HashSet::new();
    for s in &mut p.sections {
        if let Some(t) = &s.tagline {
            if !seen_taglines.insert(squash_key(t)) {
                problems.removed(
                    &s.origin.file,
                    s.origin.line + 2,
                    format!("tagline repeats an earlier one: {}", short(t)),
                );
                s.tagline = None;
            }
        }
    }
}

/// A tools section whose only prose was a copy elsewhere has nothing left to say.
fn drop_empty_tools(p: &mut Profile, problems: &mut Problems) {
    for s in &p.sections {
        if s.kind == SectionKind::Tools && s.paras.is_empty() && s.heading.is_none() {
            problems.removed(
                &s.origin.file,
                s.origin.line,
                "empty 'Digital tools' section (its text was a copy of another section)",
            );
        }
    }
    p.sections
        .retain(|s| !(s.kind == SectionKind::Tools && s.paras.is_empty() && s.heading.is_none()));
}
