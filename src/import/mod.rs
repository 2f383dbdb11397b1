//! The importer: parse every data file (pure, collecting *all* problems with `file:line`),
//! validate, then load the atlas in one transaction — or, on any error, write nothing.
//!
//! Stages: `curated` (data/*.toml) and the source formats (`atlas`, `unlist`, `news`, `report`)
//! parse; `build` joins and validates; `store::atlas` writes. `check` is `atlasbot check-data`.

pub mod atlas;
pub mod build;
pub mod check;
pub mod curated;
pub mod glossary;
pub mod glue;
pub mod model;
pub mod names;
pub mod news;
pub mod problem;
pub mod prose;
pub mod ranking;
pub mod relatives;
pub mod report;
pub use crate::atlas::rows;
pub mod similar;
pub mod unlist;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

pub use build::Atlas;
pub use problem::{Problem, Severity};

use model::{Document, Para, Profile};
use problem::Problems;

/// The data the binary carries, so that a new user needs no checkout and no setup step.
/// `tests/architecture.rs` checks that every file under data/ is listed here.
const BUNDLED: &[(&str, &str)] = &[
    ("sources.toml", include_str!("../../data/sources.toml")),
    ("actors.toml", include_str!("../../data/actors.toml")),
    ("topics.toml", include_str!("../../data/topics.toml")),
    ("standards.toml", include_str!("../../data/standards.toml")),
    ("glossary.toml", include_str!("../../data/glossary.toml")),
    ("events.toml", include_str!("../../data/events.toml")),
    ("documents.toml", include_str!("../../data/documents.toml")),
    ("relatives.toml", include_str!("../../data/relatives.toml")),
    (
        "sources/000_5b758100139b5c9f.txt",
        include_str!("../../data/sources/000_5b758100139b5c9f.txt"),
    ),
    (
        "sources/001_d84e8a85cc3bab09.txt",
        include_str!("../../data/sources/001_d84e8a85cc3bab09.txt"),
    ),
    (
        "sources/002_dcff049dc1525eb0.txt",
        include_str!("../../data/sources/002_dcff049dc1525eb0.txt"),
    ),
    (
        "sources/003_fa18ffcb7a2d8336.txt",
        include_str!("../../data/sources/003_fa18ffcb7a2d8336.txt"),
    ),
    (
        "sources/004_336594796a853fc2.txt",
        include_str!("../../data/sources/004_336594796a853fc2.txt"),
    ),
];

/// Where data files are read from.
#[derive(Debug, Clone)]
pub enum DataDir {
    /// The copy compiled into the binary (the repository's data/ at build time).
    Bundled,
    /// A directory laid out like data/.
    Path(PathBuf),
}

impl DataDir {
    pub fn bundled_files() -> impl Iterator<Item = &'static str> {
        BUNDLED.iter().map(|(name, _)| *name)
    }

    pub fn read(&self, name: &str) -> std::io::Result<String> {
        match self {
            DataDir::Bundled => BUNDLED
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, c)| c.to_string())
                .ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("{name} is not bundled"),
                    )
                }),
            DataDir::Path(dir) => std::fs::read_to_string(dir.join(name)),
        }
    }

    /// How problems name a file: "data/sources/000_….txt" for the bundled data.
    pub fn label(&self, name: &str) -> String {
        match self {
            DataDir::Bundled => format!("data/{name}"),
            DataDir::Path(dir) => display_path(&dir.join(name)),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            DataDir::Bundled => "bundled".to_string(),
            DataDir::Path(p) => display_path(p),
        }
    }
}

fn display_path(p: &Path) -> String {
    let s = p.display().to_string();
    s.strip_prefix("./").unwrap_or(&s).to_string()
}

/// FNV-1a over the data files: the atlas's version, stored so a newer binary can tell that its
/// bundled data changed. (std's hasher is not stable across releases.)
/// Bump when a change to the importer changes what it produces from the same data: the atlas
/// version then changes, and databases holding a bundled atlas re-import it on next start.
pub const IMPORTER_REVISION: u32 = 1;

fn fnv(parts: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = parts.iter().collect();
    sorted.sort();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let revision = (
        "importer revision".to_string(),
        IMPORTER_REVISION.to_string(),
    );
    for (name, content) in sorted.into_iter().chain([&revision]) {
        for b in name.bytes().chain([0]).chain(content.bytes()).chain([0]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// The bundled data's version, without parsing it.
pub fn bundled_hash() -> String {
    let parts: Vec<(String, String)> = BUNDLED
        .iter()
        .map(|(n, c)| (n.to_string(), c.to_string()))
        .collect();
    fnv(&with_importer(parts))
}

/// A new importer builds a different atlas from the same data: its version is part of the
/// hash, so existing databases rebuild.
fn with_importer(mut parts: Vec<(String, String)>) -> Vec<(String, String)> {
    parts.push(("importer".into(), IMPORTER_VERSION.to_string()));
    parts
}

/// Bumped whenever the importer changes what it builds from the same data.
pub const IMPORTER_VERSION: u32 = 6;

/// Reads and validates a data directory. `Ok` holds the atlas and the warnings and notes;
/// `Err` holds every problem found, errors first.
pub fn read_atlas(data: &DataDir) -> Result<(Atlas, Vec<Problem>), Vec<Problem>> {
    let started = std::time::Instant::now();
    let mut problems = Problems::default();
    let curated = curated::load(data, &mut problems);
    let mut hashed: Vec<(String, String)> = curated::FILES
        .iter()
        .filter_map(|f| data.read(f).ok().map(|c| (f.to_string(), c)))
        .collect();

    // Read every source first: quotes anywhere may point into any of them.
    let texts = read_sources(data, &curated, &mut hashed, &mut problems);
    check_source_entries(&curated, &mut problems);

    let claimed = claimed_lines(&curated, &texts, &mut problems);
    let parsed = parse_sources(data, &curated, &texts, &claimed, &mut problems);
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "sources parsed"
    );
    let atlas = build::build(
        build::Inputs {
            curated: &curated,
            profiles: parsed.profiles,
            documents: parsed.documents,
            extra_passages: parsed.extra_passages,
            profile_documents: parsed.profile_documents,
            texts,
            data_hash: fnv(&with_importer(hashed)),
        },
        &mut problems,
    );
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "atlas built"
    );
    if problems.has_errors() {
        let mut all = problems.into_sorted();
        all.sort_by_key(|p| p.severity != Severity::Error);
        return Err(all);
    }
    Ok((atlas, problems.into_sorted()))
}

/// The text of every source data/sources.toml lists, by label; each is also added to what the
/// atlas version hashes. A source that cannot be read is an error at its entry.
fn read_sources(
    data: &DataDir,
    curated: &curated::Curated,
    hashed: &mut Vec<(String, String)>,
    problems: &mut Problems,
) -> Vec<(String, String)> {
    let mut texts: Vec<(String, String)> = Vec::new();
    for s in &curated.sources {
        match data.read(&s.value.file) {
            Ok(content) => {
                hashed.push((s.value.file.clone(), content.clone()));
                texts.push((data.label(&s.value.file), content));
            }
            Err(e) => problems.error(
                &s.file,
                s.line,
                format!("cannot read source '{}': {e}", s.value.file),
            ),
        }
    }
    texts
}

/// What the sources' parsers produced, in source order: `build`'s inputs.
#[derive(Default)]
struct Parsed {
    profiles: Vec<Profile>,
    documents: Vec<Document>,
    extra_passages: Vec<(String, Para)>,
    profile_documents: HashMap<String, usize>,
    /// Which profiles each atlas source produced, for `merge_into`.
    ranges: HashMap<String, std::ops::Range<usize>>,
}

/// Parses every source that could be read, each by its format, in the order listed.
fn parse_sources(
    data: &DataDir,
    curated: &curated::Curated,
    texts: &[(String, String)],
    claimed: &atlas::Claimed,
    problems: &mut Problems,
) -> Parsed {
    let mut parsed = Parsed::default();
    for s in &curated.sources {
        let label = data.label(&s.value.file);
        let Some((_, content)) = texts.iter().find(|(l, _)| *l == label) else {
            continue;
        };
        parsed.add(s, &label, content, curated, claimed, problems);
    }
    parsed
}

/// The source formats `Parsed::add` knows, for the error naming an unknown one.
const FORMATS: &str = "atlas-profiles, atlas-scrape, un-list, news or report";

impl Parsed {
    /// One source, by its format.
    fn add(
        &mut self,
        s: &curated::At<curated::SourceEntry>,
        label: &str,
        content: &str,
        curated: &curated::Curated,
        claimed: &atlas::Claimed,
        problems: &mut Problems,
    ) {
        let actor = s.value.actor.clone().unwrap_or_default();
        match s.value.format.as_str() {
            "atlas-profiles" => {
                let start = self.profiles.len();
                self.profiles.extend(atlas::parse_profiles(
                    label, content, curated, claimed, problems,
                ));
                self.ranges
                    .insert(s.value.slug.clone(), start..self.profiles.len());
            }
            "atlas-scrape" => {
                let targets = s
                    .value
                    .merge_into
                    .as_ref()
                    .and_then(|m| self.ranges.get(m))
                    .cloned()
                    .unwrap_or(0..0);
                atlas::merge_scrape(
                    label,
                    content,
                    &mut self.profiles,
                    targets,
                    curated,
                    claimed,
                    problems,
                );
            }
            "un-list" => {
                let parsed = unlist::parse(label, content, &actor, problems);
                self.profiles.push(parsed.profile);
                self.documents.extend(parsed.documents);
            }
            "news" => self
                .documents
                .extend(news::parse(label, content, &actor, problems)),
            "report" => self.add_report(report::parse(label, content, &actor, problems), actor),
            other => problems.error(
                &s.file,
                s.line,
                format!("unknown format '{other}' (expected {FORMATS})"),
            ),
        }
    }

    /// A report is its actor's profile and a document whose text is that profile's; its
    /// footnotes are search-only text of that document.
    fn add_report(&mut self, parsed: report::Report, actor: String) {
        self.profiles.push(parsed.profile);
        self.profile_documents
            .insert(actor.clone(), self.documents.len());
        self.documents.push(parsed.document);
        self.extra_passages
            .extend(parsed.footnotes.into_iter().map(|p| (actor.clone(), p)));
    }
}

fn check_source_entries(curated: &curated::Curated, problems: &mut Problems) {
    let mut seen = HashSet::new();
    for s in &curated.sources {
        if !seen.insert(s.value.slug.clone()) {
            problems.error(
                &s.file,
                s.line,
                format!("duplicate source slug '{}'", s.value.slug),
            );
        }
        let needs_actor = matches!(s.value.format.as_str(), "un-list" | "news" | "report");
        if needs_actor && s.value.actor.is_none() {
            problems.error(
                &s.file,
                s.line,
                format!(
                    "format '{}' needs `actor = \"…\"`: whose text is it?",
                    s.value.format
                ),
            );
        }
        if let Some(target) = &s.value.merge_into {
            let earlier = curated
                .sources
                .iter()
                .take_while(|o| o.value.slug != s.value.slug)
                .any(|o| &o.value.slug == target);
            if !earlier {
                problems.error(
                    &s.file,
                    s.line,
                    format!("merge_into = '{target}' must name a source listed before this one"),
                );
            }
        }
    }
}

/// Lines that curated events claim as their blurbs (and take out of any profile).
fn claimed_lines(
    curated: &curated::Curated,
    texts: &[(String, String)],
    problems: &mut Problems,
) -> atlas::Claimed {
    let mut claimed = atlas::Claimed::new();
    for e in curated.events.iter().filter(|e| e.value.claim) {
        let Some(origin) = build::find_quote(texts, &e.value.quote) else {
            continue;
        }; // build reports it
        let Some((_, content)) = texts.iter().find(|(f, _)| *f == origin.file) else {
            continue;
        };
        let lines = prose::lines(content)
            .into_iter()
            .filter(|l| l.number >= origin.line && !l.text.is_empty())
            .take(e.value.claim_lines);
        for l in lines {
            claimed.insert((origin.file.clone(), l.number));
        }
        if e.value.claim_lines == 0 {
            problems.error(&e.file, e.line, "claim_lines must be at least 1");
        }
    }
    claimed
}
