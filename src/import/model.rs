//! The in-memory atlas the importer builds before writing anything: flat tables whose ids are
//! their positions (+1), so that the same input always yields the same rows (idempotence).

pub use crate::atlas::rows::{DocKind, Origin, SectionKind};

/// A paragraph as written (junk removed), where it comes from, and whether it was cut off.
#[derive(Debug, Clone, PartialEq)]
pub struct Para {
    pub text: String,
    pub origin: Origin,
    pub truncated: bool,
}

/// A whole paragraph at 000:7 (unit tests).
#[cfg(test)]
pub(crate) fn test_para(text: &str) -> Para {
    Para {
        text: text.into(),
        origin: Origin::new("000", 7),
        truncated: false,
    }
}

#[derive(Debug, Clone)]
pub struct Section {
    pub kind: SectionKind,
    pub heading: Option<String>,
    pub tagline: Option<String>,
    /// Index of the parent section within the same profile.
    pub parent: Option<usize>,
    pub topics: Vec<String>,
    pub paras: Vec<Para>,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub name: String,
    pub description: Option<String>,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    pub platform: String,
    pub handle: String,
    pub origin: Origin,
}

/// A field value together with the line that states it.
#[derive(Debug, Clone, PartialEq)]
pub struct Field<T> {
    pub value: T,
    pub evidence: String,
    pub origin: Origin,
}

/// A profile as parsed from one or more sources, before it becomes actor rows.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub slug: String,
    pub name: Option<Field<String>>,
    pub acronym: Option<Field<String>>,
    pub founded: Option<Field<i64>>,
    pub address: Option<Field<String>>,
    pub website: Option<Field<String>>,
    pub stakeholder_group: Option<Field<String>>,
    pub sections: Vec<Section>,
    pub items: Vec<Item>,
    pub channels: Vec<Channel>,
    /// (file, first line, last line) of every block that contributed.
    pub spans: Vec<(String, usize, usize)>,
}

impl Profile {
    pub fn section_mut(&mut self, kind: SectionKind, origin: &Origin) -> usize {
        if let Some(i) = self
            .sections
            .iter()
            .position(|s| s.kind == kind && s.heading.is_none())
        {
            return i;
        }
        self.sections.push(Section {
            kind,
            heading: None,
            tagline: None,
            parent: None,
            topics: vec![],
            paras: vec![],
            origin: origin.clone(),
        });
        self.sections.len() - 1
    }

    pub fn paras_of(&self, kind: SectionKind) -> impl Iterator<Item = &Para> {
        self.sections
            .iter()
            .filter(move |s| s.kind == kind)
            .flat_map(|s| s.paras.iter())
    }
}

/// A document, process, body or story, as parsed.
#[derive(Debug, Clone)]
pub struct Document {
    pub slug: String,
    pub kind: DocKind,
    pub symbol: Option<String>,
    pub title: String,
    pub subtitle: Option<String>,
    pub summary: Option<String>,
    pub owner: Option<String>,
    /// For bodies: the organisation this entry describes.
    pub about: Option<String>,
    pub paras: Vec<Para>,
    /// Section of the owner's profile whose passages are also this document's (the report).
    pub origin: Origin,
}

/// Everything parsed from the sources, ready for curated data to be joined in.
#[derive(Debug, Default)]
pub struct Parsed {
    pub profiles: Vec<Profile>,
    pub documents: Vec<Document>,
    /// Text of every source file, for quote checks: (file, content).
    pub texts: Vec<(String, String)>,
}

/// The domain of a website, for recognising the same actor across scrapes.
pub fn domain(website: &str) -> String {
    let w = website.trim().to_lowercase();
    let w = w
        .strip_prefix("https://")
        .or_else(|| w.strip_prefix("http://"))
        .unwrap_or(&w);
    let w = w.strip_prefix("www.").unwrap_or(w);
    w.split('/').next().unwrap_or("").to_string()
}
