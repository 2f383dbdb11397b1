//! The clean profiles' text as the degraded scrape meets it: every paragraph, channel and tool
//! fingerprinted, found by its key (anyone's) or by likeness (the profile's own), and the
//! profiles by website domain. Read by the scrape's recognition and by the merge of a block.

use std::collections::HashMap;

use crate::import::model::{domain, Origin, Profile};
use crate::import::similar::Fingerprint;

/// Where a clean paragraph lives, for merging scrape lines into it.
pub(super) struct CleanPara {
    pub(super) profile: usize,
    pub(super) section: usize,
    pub(super) fp: Fingerprint,
    pub(super) origin: Origin,
}

/// The clean text that scrape lines may repeat, and the clean profiles by website domain.
pub(super) struct CleanIndex<'c> {
    by_key: HashMap<&'c str, &'c CleanPara>,
    by_profile: HashMap<usize, Vec<&'c CleanPara>>,
    by_domain: HashMap<String, usize>,
}

impl<'c> CleanIndex<'c> {
    pub(super) fn new(
        clean: &'c [CleanPara],
        profiles: &[Profile],
        targets: std::ops::Range<usize>,
    ) -> Self {
        let by_key: HashMap<&str, &CleanPara> = clean.iter().map(|c| (c.fp.key(), c)).collect();
        let by_domain: HashMap<String, usize> = targets
            .filter_map(|i| profiles[i].website.as_ref().map(|w| (domain(&w.value), i)))
            .collect();
        let mut by_profile: HashMap<usize, Vec<&CleanPara>> = HashMap::new();
        for c in clean {
            by_profile.entry(c.profile).or_default().push(c);
        }
        CleanIndex {
            by_key,
            by_profile,
            by_domain,
        }
    }

    /// The clean profile whose website is at `domain`.
    pub(super) fn profile_at(&self, domain: &str) -> Option<usize> {
        self.by_domain.get(domain).copied()
    }

    /// The clean text a line repeats: exactly anyone's, or nearly profile `pi`'s own.
    pub(super) fn find(&self, fp: &Fingerprint, pi: usize) -> Option<&'c CleanPara> {
        self.by_key.get(fp.key()).copied().or_else(|| {
            self.by_profile
                .get(&pi)
                .and_then(|own| own.iter().copied().find(|c| c.fp.same_as(fp)))
        })
    }
}

/// Every paragraph, channel and tool of the target profiles, fingerprinted.
pub(super) fn clean_paras(profiles: &[Profile], targets: std::ops::Range<usize>) -> Vec<CleanPara> {
    profiles[targets.clone()]
        .iter()
        .zip(targets)
        .flat_map(|(p, pi)| {
            let paras = p.sections.iter().enumerate().flat_map(move |(si, s)| {
                s.paras.iter().map(move |para| CleanPara {
                    profile: pi,
                    section: si,
                    fp: Fingerprint::new(&para.text),
                    origin: para.origin.clone(),
                })
            });
            let channels = p.channels.iter().map(move |c| CleanPara {
                profile: pi,
                section: usize::MAX,
                fp: Fingerprint::new(&format!("{} @{}", c.platform, c.handle)),
                origin: c.origin.clone(),
            });
            let items = p.items.iter().map(move |it| CleanPara {
                profile: pi,
                section: usize::MAX - 1,
                fp: Fingerprint::new(&format!(
                    "{} – {}",
                    it.name,
                    it.description.as_deref().unwrap_or("")
                )),
                origin: it.origin.clone(),
            });
            paras.chain(channels).chain(items).collect::<Vec<_>>()
        })
        .collect()
}
