//! Scrape repair, before any stage reads the text: words the scrape glued together are mended
//! with the sources' own vocabulary, and every repair is reported where it was made.

use crate::import::curated::Curated;
use crate::import::glue;
use crate::import::model::{Document, Origin, Profile};
use crate::import::problem::Problems;

/// Mends words the scrape glued together in every paragraph, tool and document, with the
/// sources' own vocabulary; names (actors, aliases, tools, glossary terms) are never split.
/// Each repair is reported with its file:line.
pub(super) fn repair_glued_words(
    c: &Curated,
    texts: &[(String, String)],
    profiles: &mut [Profile],
    documents: &mut [Document],
    problems: &mut Problems,
) {
    let names = names_never_split(c, profiles);
    let vocab = glue::Vocabulary::new(texts.iter().map(|(_, t)| t.as_str()), &names);
    let mut mend = |text: &mut String, origin: &Origin| {
        if let Some((fixed, repairs)) = vocab.repair(text) {
            for (was, now) in repairs {
                problems.repaired(&origin.file, origin.line, format!("“{was}” → “{now}”"));
            }
            *text = fixed;
        }
    };
    for p in profiles.iter_mut() {
        for s in &mut p.sections {
            for para in &mut s.paras {
                mend(&mut para.text, &para.origin);
            }
        }
        for it in &mut p.items {
            if let Some(d) = &mut it.description {
                mend(d, &it.origin);
            }
        }
    }
    for d in documents.iter_mut() {
        for para in &mut d.paras {
            mend(&mut para.text, &para.origin);
        }
        if let Some(s) = &mut d.summary {
            mend(s, &d.origin);
        }
    }
}

/// Names of actors, aliases, tools, channels and glossary terms: glued as they may look,
/// they are written that way on purpose.
fn names_never_split(c: &Curated, profiles: &[Profile]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for a in &c.actors {
        names.extend(a.value.name.iter().cloned());
        names.extend(a.value.aliases.iter().cloned());
    }
    for o in &c.organisations {
        names.push(o.value.name.clone());
        names.extend(o.value.acronym.iter().cloned());
        names.extend(o.value.aliases.iter().cloned());
    }
    names.extend(c.glossary.iter().map(|g| g.value.term.clone()));
    for p in profiles.iter() {
        names.extend(p.name.iter().map(|f| f.value.clone()));
        names.extend(p.acronym.iter().map(|f| f.value.clone()));
        names.extend(p.items.iter().map(|i| i.name.clone()));
        names.extend(p.channels.iter().map(|ch| ch.handle.clone()));
    }
    names
}
