//! The actors stage: the profiled actors in source order (curated facts applied, misplaced
//! tools moved), then the organisations of data/actors.toml in file order, and every name
//! they go by. Also the last check of the build: each source's owner is one of these actors.

use std::collections::HashSet;

use super::curated_facts::apply_curated_facts;
use super::misplaced_tools::move_misplaced_tools;
use super::{index_of, ActorRow, Stage};
use crate::atlas::rows::Origin;
use crate::import::curated::{At, OrganisationEntry};
use crate::import::model::{Field, Profile};
use crate::import::names::is_all_caps;
use crate::search::normalize::name_key;

impl Stage<'_, '_> {
    /// Actors: profiles in source order (curated facts applied, misplaced tools moved), then
    /// organisations in file order; every name they go by.
    pub(super) fn actors(&mut self, profiles: &mut [Profile]) {
        self.report_unprofiled(profiles);
        // Profiles in source order, then organisations in file order.
        for p in profiles.iter_mut() {
            apply_curated_facts(p, self.c, self.texts, self.problems);
            move_misplaced_tools(p, self.problems);
        }
        self.add_profiled(profiles);
        self.add_organisations();
        self.link_parents();
        self.add_names();
    }

    /// Every actor of data/actors.toml must have a profile in the sources.
    fn report_unprofiled(&mut self, profiles: &[Profile]) {
        let Stage { c, problems, .. } = self;
        let profiled: HashSet<&str> = profiles.iter().map(|p| p.slug.as_str()).collect();
        for entry in &c.actors {
            if !profiled.contains(entry.value.slug.as_str()) {
                problems.error(&entry.file, entry.line, format!("actor '{}' has no profile in the sources (check its website or data/sources.toml)", entry.value.slug));
            }
        }
    }

    /// One row per profiled actor; a second profile for the same slug is an error.
    fn add_profiled(&mut self, profiles: &[Profile]) {
        let Stage {
            problems,
            atlas,
            slugs,
            ..
        } = self;
        let mut seen_profile: HashSet<String> = HashSet::new();
        for p in profiles.iter() {
            if !seen_profile.insert(p.slug.clone()) {
                let line = p.spans.first().map(|s| s.1).unwrap_or(1);
                let file = p.spans.first().map(|s| s.0.clone()).unwrap_or_default();
                problems.error(
                    &file,
                    line,
                    format!(
                        "a second profile for '{}' (profiles must be merged, not repeated)",
                        p.slug
                    ),
                );
                continue;
            }
            let me = atlas.actors.len();
            slugs.insert(p.slug.clone(), me);
            atlas.actors.push(actor_row(p));
            atlas
                .actor_facts
                .extend(facts_of(p).map(|(f, v, o)| (me, f, v, o)));
        }
    }

    /// The organisations the sources only mention, after the profiled actors.
    fn add_organisations(&mut self) {
        let Stage {
            c, atlas, slugs, ..
        } = self;
        for o in &c.organisations {
            if slugs.contains_key(&o.value.slug) {
                continue; // reported by check_unique
            }
            slugs.insert(o.value.slug.clone(), atlas.actors.len());
            atlas.actors.push(organisation_row(o));
        }
    }

    /// `part_of`: the organisation an organisation belongs to.
    fn link_parents(&mut self) {
        let Stage {
            c,
            problems,
            atlas,
            slugs,
            ..
        } = self;
        for o in &c.organisations {
            if let Some(parent) = &o.value.part_of {
                let p = index_of(slugs, parent, (&o.file, o.line), "part_of", problems);
                if let Some(&me) = slugs.get(&o.value.slug) {
                    atlas.actors[me].parent = p;
                }
            }
        }
    }

    /// Names: profile name/acronym, curated aliases.
    fn add_names(&mut self) {
        let Stage {
            c, atlas, slugs, ..
        } = self;
        let mut names: Vec<(usize, String, &'static str)> = Vec::new();
        for (i, a) in atlas.actors.iter().enumerate() {
            names.push((i, a.name.clone(), "name"));
            if let Some(f) = &a.full_name {
                names.push((i, f.clone(), "name"));
            }
            if let Some(ac) = &a.acronym {
                names.push((i, ac.clone(), "acronym"));
            }
        }
        for e in &c.actors {
            if let Some(&i) = slugs.get(&e.value.slug) {
                names.extend(e.value.aliases.iter().map(|al| (i, al.clone(), "alias")));
            }
        }
        for o in &c.organisations {
            if let Some(&i) = slugs.get(&o.value.slug) {
                names.extend(o.value.aliases.iter().map(|al| (i, al.clone(), "alias")));
            }
        }
        let mut name_seen: HashSet<(String, usize)> = HashSet::new();
        for (i, n, kind) in &names {
            let key = name_key(n);
            if !key.is_empty() && name_seen.insert((key.clone(), *i)) {
                atlas.actor_names.push((*i, n.clone(), key, kind));
            }
        }
    }

    /// Sources' owners are actors of the atlas.
    pub(super) fn source_owners(&mut self) {
        let Stage {
            c, problems, slugs, ..
        } = self;
        for s in &c.sources {
            if let Some(a) = &s.value.actor {
                if !slugs.contains_key(a) {
                    problems.error(
                        &s.file,
                        s.line,
                        format!("actor '{a}' is not in data/actors.toml"),
                    );
                }
            }
        }
    }
}

fn actor_row(p: &Profile) -> ActorRow {
    let name = p
        .name
        .as_ref()
        .map(|n| n.value.clone())
        .unwrap_or_else(|| p.slug.clone());
    // "Acronym: CyberPeace Institute" repeats the name: that is no acronym. DCAF's curated
    // acronym is its only name, which the card shows once.
    let acronym = p
        .acronym
        .as_ref()
        .map(|a| a.value.clone())
        .filter(|a| *a != name || is_all_caps(a));
    // A full name only where the sources give one (DCAF's profile has only its acronym).
    let full_name = p
        .name
        .as_ref()
        .filter(|n| Some(&n.value) != acronym.as_ref())
        .map(|n| n.value.clone());
    let provenance = p
        .spans
        .iter()
        .map(|(f, a, b)| format!("{}:{}-{}", short_file(f), a, b))
        .collect::<Vec<_>>()
        .join("; ");
    ActorRow {
        slug: p.slug.clone(),
        kind: "profiled",
        name,
        full_name,
        acronym,
        founded: p.founded.as_ref().map(|f| f.value),
        founded_evidence: p.founded.as_ref().map(|f| f.evidence.clone()),
        address: p.address.as_ref().map(|f| f.value.clone()),
        website: p.website.as_ref().map(|f| f.value.clone()),
        stakeholder_group: p.stakeholder_group.as_ref().map(|f| f.value.clone()),
        summary: None,
        description: None,
        activities: None,
        tools_note: None,
        parent: None,
        provenance,
    }
}

/// The facts the profile states, each with the line that states it: (fact, value, where).
fn facts_of(p: &Profile) -> impl Iterator<Item = (&'static str, String, Origin)> + '_ {
    let text = |name: &'static str, f: &Option<Field<String>>| {
        f.as_ref()
            .map(|f| (name, f.value.clone(), f.origin.clone()))
    };
    let founded = p
        .founded
        .as_ref()
        .map(|f| ("founded", f.value.to_string(), f.origin.clone()));
    [
        text("name", &p.name),
        text("acronym", &p.acronym),
        founded,
        text("address", &p.address),
        text("website", &p.website),
    ]
    .into_iter()
    .flatten()
}

/// An organisation the sources mention but do not profile: its curated name and acronym.
fn organisation_row(o: &At<OrganisationEntry>) -> ActorRow {
    ActorRow {
        slug: o.value.slug.clone(),
        kind: "mentioned",
        name: o.value.name.clone(),
        full_name: Some(o.value.name.clone())
            .filter(|n| Some(n) != o.value.acronym.as_ref() && !is_all_caps(n)),
        acronym: o.value.acronym.clone(),
        founded: None,
        founded_evidence: None,
        address: None,
        website: None,
        stakeholder_group: None,
        summary: None,
        description: None,
        activities: None,
        tools_note: None,
        parent: None,
        provenance: format!("{}:{}", o.file, o.line),
    }
}

/// "sources/000_5b758100139b5c9f.txt" → "000".
pub fn short_file(f: &str) -> String {
    let name = f.rsplit('/').next().unwrap_or(f);
    name.split('_').next().unwrap_or(name).to_string()
}
