//! The degraded scrape (`atlas-scrape`): one paragraph per line, blocks from one `Address:`
//! line to the next, no names. Each block is recognised by its website and merged into the
//! clean profile it repeats, or becomes a profile of its own; nothing is inserted twice.

use super::builder::Builder;
use super::clean_index::{clean_paras, CleanIndex};
use super::merge::merge_block;
use super::{check_truncations, dedupe, field, is_claimed, short, slug_for, Claimed};
use crate::import::curated::Curated;
use crate::import::model::{domain, Field, Origin, Profile};
use crate::import::problem::Problems;
use crate::import::prose::{self, Line};
use crate::search::normalize::fold_typography;

/// Merges a degraded scrape into the clean profiles: each block (from one `Address:` line to
/// the next) is recognised by its website; lines that repeat clean text are dropped (and steer
/// which section new lines belong to), lines that repeat *another* actor's clean text are
/// attributed to that actor, and the rest is added where it belongs. Blocks of actors with no
/// clean profile (DCAF) become profiles of their own.
pub fn merge_scrape(
    file: &str,
    content: &str,
    profiles: &mut Vec<Profile>,
    targets: std::ops::Range<usize>,
    curated: &Curated,
    claimed: &Claimed,
    problems: &mut Problems,
) {
    let lines: Vec<Line> = prose::lines(content)
        .into_iter()
        .filter(|l| !l.text.is_empty())
        .collect();
    let blocks = split_blocks(file, join_websites(&lines), claimed, problems);
    // Only the profiles of the source named by `merge_into` can be repeated here.
    let clean = clean_paras(profiles, targets.clone());
    let index = CleanIndex::new(&clean, profiles, targets);
    for block in blocks {
        place_block(file, &block, profiles, &index, curated, problems);
    }
}

/// Join "Website:" with the address on the next line — cited there, where it is written.
fn join_websites(lines: &[Line]) -> Vec<Line> {
    let mut joined: Vec<Line> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let mut l = lines[i].clone();
        if fold_typography(&l.text) == "Website:" {
            if let Some(next) = lines
                .get(i + 1)
                .filter(|n| n.text.starts_with("http") || n.text.starts_with("www."))
            {
                l.text = format!("Website: {}", next.text);
                l.number = next.number;
                i += 1;
            }
        }
        joined.push(l);
        i += 1;
    }
    joined
}

/// Blocks start at each `Address:` line (the first block may be text before any of them);
/// lines claimed by curated events are left out.
fn split_blocks(
    file: &str,
    joined: Vec<Line>,
    claimed: &Claimed,
    problems: &mut Problems,
) -> Vec<Vec<Line>> {
    let mut blocks: Vec<Vec<Line>> = Vec::new();
    for l in joined {
        if is_claimed(file, &l, claimed, problems) {
            continue;
        }
        if l.text.starts_with("Address:") || blocks.is_empty() {
            blocks.push(vec![]);
        }
        blocks.last_mut().expect("pushed above").push(l);
    }
    blocks
}

/// One block: merged into the clean profile with its website, or a profile of its own.
fn place_block(
    file: &str,
    block: &[Line],
    profiles: &mut Vec<Profile>,
    index: &CleanIndex,
    curated: &Curated,
    problems: &mut Problems,
) {
    let Some(first) = block.first() else { return };
    if !first.text.starts_with("Address:") {
        warn_unattributed(file, block, problems);
        return;
    }
    let website = block.iter().find_map(|l| {
        field(&l.text)
            .filter(|(f, _)| *f == "Website:")
            .map(|(_, v)| v.to_string())
    });
    let Some(website) = website else {
        problems.error(
            file,
            first.number,
            "profile block has no 'Website:' line, so it cannot be matched to an actor",
        );
        return;
    };
    match index.profile_at(&domain(&website)) {
        Some(pi) => merge_block(file, block, pi, profiles, index, curated, problems),
        None => add_profile(file, block, &website, profiles, curated, problems),
    }
}

fn warn_unattributed(file: &str, block: &[Line], problems: &mut Problems) {
    for l in block {
        if prose::junk_kind(&l.text).is_none() {
            problems.warn(
                file,
                l.number,
                format!(
                    "text outside any profile block is not attributed: {}",
                    short(&l.text)
                ),
            );
        }
    }
}

/// A block with no clean counterpart (DCAF): a profile of its own, for a curated actor.
fn add_profile(
    file: &str,
    block: &[Line],
    website: &str,
    profiles: &mut Vec<Profile>,
    curated: &Curated,
    problems: &mut Problems,
) {
    let first = block[0].number;
    let Some(slug) = slug_for(curated, Some(website), None) else {
        problems.error(
            file,
            first,
            format!("cannot tell whose profile this is (website {website}); add the actor to data/actors.toml"),
        );
        return;
    };
    let entry = curated
        .actors
        .iter()
        .find(|a| a.value.slug == slug)
        .expect("slug_for found it");
    let last_line = block.last().map(|l| l.number).unwrap_or(first);
    let mut p = Profile {
        slug,
        spans: vec![(file.to_string(), first, last_line)],
        ..Profile::default()
    };
    if let Some(name) = &entry.value.name {
        p.name = Some(Field {
            value: name.clone(),
            evidence: format!("data/actors.toml ({})", domain(website)),
            origin: Origin::new(&entry.file, entry.line),
        });
    }
    let mut b = Builder::new(file, curated);
    for l in block {
        b.feed(&mut p, l, problems);
    }
    dedupe(&mut p, problems);
    check_truncations(&p, problems);
    profiles.push(p);
}
