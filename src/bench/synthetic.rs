//! A synthetic data directory N times the bundled one, for benchmarks: N copies of every
//! source, each copy's actors made distinct (their websites get a `kN.` sub-domain, their names
//! a number, the UN symbols a prefix), listed in sources.toml with the same formats and merges,
//! and registered in actors.toml. The curated taxonomy, registry, glossary and events are kept.

use std::fmt::Write as _;
use std::path::Path;

use crate::import::curated::{self, Curated, SourceEntry};
use crate::import::DataDir;

/// Writes the synthetic directory into `out` (which must exist and be empty).
pub fn write(out: &Path, scale: usize) -> std::io::Result<()> {
    let bundled = DataDir::Bundled;
    let mut problems = crate::import::problem::Problems::default();
    let c: Curated = curated::load(&bundled, &mut problems);
    std::fs::create_dir_all(out.join("sources"))?;
    keep_curated(&bundled, out)?;
    let mut sources = String::new();
    let mut actors = bundled.read("actors.toml")?;
    // Names of profiles in the clean atlas, to number them per copy.
    let name_lines = profile_names(&bundled.read(&c.sources[0].value.file)?);
    for k in 0..scale {
        for s in &c.sources {
            copy_source(&bundled, out, &s.value, k, &c, &name_lines, &mut sources)?;
        }
        if k > 0 {
            register_actors(&mut actors, &c, k);
        }
    }
    std::fs::write(out.join("sources.toml"), sources)?;
    std::fs::write(out.join("actors.toml"), actors)?;
    Ok(())
}

/// The curated taxonomy, registry, glossary, events, documents and relatives, as they are.
fn keep_curated(bundled: &DataDir, out: &Path) -> std::io::Result<()> {
    for f in [
        "topics.toml",
        "standards.toml",
        "glossary.toml",
        "events.toml",
        "documents.toml",
        "relatives.toml",
    ] {
        std::fs::write(out.join(f), bundled.read(f)?)?;
    }
    Ok(())
}

/// The lines of the atlas text that name a profile (two lines above its "Acronym:").
fn profile_names(atlas_text: &str) -> Vec<String> {
    let lines: Vec<&str> = atlas_text.lines().collect();
    (0..lines.len())
        .filter(|&i| lines.get(i + 2).is_some_and(|l| l.starts_with("Acronym:")))
        .map(|i| lines[i].to_string())
        .collect()
}

/// Writes copy `k` of source `v` and lists it in `sources` (copy 0 is the source itself).
fn copy_source(
    bundled: &DataDir,
    out: &Path,
    v: &SourceEntry,
    k: usize,
    c: &Curated,
    name_lines: &[String],
    sources: &mut String,
) -> std::io::Result<()> {
    let content = bundled.read(&v.file)?;
    let copy = if k == 0 {
        content
    } else {
        transform(&content, k, c, name_lines)
    };
    let file = if k == 0 {
        v.file.clone()
    } else {
        v.file.replace(".txt", &format!("_{k}.txt"))
    };
    std::fs::write(out.join(&file), copy)?;
    let suffix = |slug: &str| {
        if k == 0 {
            slug.to_string()
        } else {
            format!("{slug}-{k}")
        }
    };
    let _ = writeln!(
        sources,
        "[[source]]\nslug = \"{}\"\nfile = \"{file}\"\nformat = \"{}\"\ntitle = \"{} (copy {k})\"",
        suffix(&v.slug),
        v.format,
        v.title
    );
    if let Some(m) = &v.merge_into {
        let _ = writeln!(sources, "merge_into = \"{}\"", suffix(m));
    }
    if let Some(a) = &v.actor {
        let _ = writeln!(sources, "actor = \"{}\"", suffix(a));
    }
    sources.push('\n');
    Ok(())
}

/// Registers copy `k` of every curated actor: its slug, website and name made distinct.
fn register_actors(actors: &mut String, c: &Curated, k: usize) {
    for a in &c.actors {
        let v = &a.value;
        let _ = write!(actors, "\n[[actor]]\nslug = \"{}-{k}\"\n", v.slug);
        if let Some(w) = &v.website {
            let _ = writeln!(actors, "website = \"k{k}.{w}\"");
        }
        if let Some(n) = &v.name {
            let _ = writeln!(actors, "name = \"{n} {k}\"");
        }
    }
}

/// Copy `k` of a source: distinct websites, names and document symbols.
fn transform(content: &str, k: usize, c: &Curated, name_lines: &[String]) -> String {
    let mut t = content.to_string();
    for a in &c.actors {
        if let Some(w) = &a.value.website {
            t = t
                .replace(&format!("www.{w}"), &format!("www.k{k}.{w}"))
                .replace(&format!("//{w}"), &format!("//k{k}.{w}"));
        }
    }
    let mut lines: Vec<String> = t.split('\n').map(str::to_string).collect();
    for l in &mut lines {
        if name_lines.iter().any(|n| n == l) || l == "United Nations" {
            l.push_str(&format!(" {k}"));
        }
    }
    // UN symbols must stay unique: the session number gets a numeric prefix per copy
    // ("(A/70/174)" → "(A/90001770/174)"), keeping the symbol's shape.
    let symbol = regex::Regex::new(r"\(A/((?:[A-Z]+/)*)(\d)").expect("valid regex");
    symbol
        .replace_all(
            &lines.join("\n"),
            format!("(A/${{1}}9{k:05}${{2}}").as_str(),
        )
        .into_owned()
}
