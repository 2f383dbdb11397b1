//! Standard identifiers, however they are written: "IEC 62443", "iec62443", "ISO/IEC 27001:2013",
//! "iso 27001", "TR 24028", "ISO/IEC/IEEE 8802-A", "IEC 62443-3-3", "ISO 10218 series".
//! The key of a standard is its number and part ("27001", "18370-1"): the body prefix, the
//! TR/TS marker and the edition year vary between writers and are not part of it.

use regex::Regex;
use std::sync::LazyLock;

use crate::search::normalize::fold_typography;

static ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:(ISO[/\s\-]+IEC[/\s\-]+IEEE|ISO[/\s\-]+IEC|ISO[/\s\-]+TR|ISO[/\s\-]+TS|ISO|IEC)[\s\-]*)?(?:(TR|TS)[\s\-]*)?(\d{3,5})((?:-\d{1,3})*(?:-[A-Z])?)(?:[:\-]\d{4}(?:\+A\d+:\d{4})?)?(\s*-?\s*SERIES)?(\s+FAMILY)?$")
        .unwrap()
});

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardId {
    /// "ISO", "IEC", "ISO/IEC", "ISO/IEC/IEEE", or "" when the writer gave none ("62443").
    pub body: String,
    /// "TR" or "TS" when written.
    pub kind: Option<String>,
    pub number: String,
    /// Part suffix as written, without the dash: "1", "3-3", "A".
    pub part: Option<String>,
    pub series: bool,
    /// Written as a family ("27000 family"): the standards numbered under it.
    pub family: bool,
}

impl StandardId {
    /// Parses an identifier, or `None` when the text is not one ("27k1", "cybersecurity").
    pub fn parse(input: &str) -> Option<StandardId> {
        // Full-width or other compatibility digits and letters ("ＩＳＯ ２７００１") as theirs.
        let t: String =
            unicode_normalization::UnicodeNormalization::nfkc(fold_typography(input).as_str())
                .collect::<String>()
                .to_uppercase();
        let t = t.trim().trim_end_matches(['.', ',', ';']);
        let c = ID.captures(t)?;
        let prefix = c
            .get(1)
            // "ISO IEC", "ISO-IEC", "ISO / IEC": the slash is written many ways.
            .map(|m| {
                m.as_str()
                    .split(['/', ' ', '-'])
                    .filter(|p| !p.is_empty())
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .unwrap_or_default();
        let (body, kind_from_prefix) = match prefix.as_str() {
            "ISO/TR" => ("ISO".to_string(), Some("TR".to_string())),
            "ISO/TS" => ("ISO".to_string(), Some("TS".to_string())),
            other => (other.to_string(), None),
        };
        let part = c
            .get(4)
            .map(|m| m.as_str().trim_start_matches('-').to_string())
            .filter(|p| !p.is_empty());
        Some(StandardId {
            body,
            kind: c
                .get(2)
                .map(|m| m.as_str().to_string())
                .or(kind_from_prefix),
            number: c[3].to_string(),
            part,
            series: c.get(5).is_some(),
            family: c.get(6).is_some(),
        })
    }

    /// Number and part, lower case: the registry key.
    pub fn key(&self) -> String {
        match &self.part {
            Some(p) => format!("{}-{}", self.number, p.to_lowercase()),
            None => self.number.clone(),
        }
    }

    /// The key of the series this part belongs to (62443-3-3 → 62443).
    pub fn base_key(&self) -> String {
        self.number.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Option<String> {
        StandardId::parse(s).map(|i| i.key())
    }

    #[test]
    fn the_ways_people_write_62443_all_parse() {
        for s in [
            "62443",
            "IEC62443",
            "iec 62443",
            "IEC 62443",
            "IEC 62443 series",
            "IEC\u{00A0}62443",
        ] {
            assert_eq!(key(s).as_deref(), Some("62443"), "{s}");
        }
        let part = StandardId::parse("iec 62443-3-3").unwrap();
        assert_eq!(
            (part.key().as_str(), part.base_key().as_str()),
            ("62443-3-3", "62443")
        );
    }

    #[test]
    fn editions_and_prefixes_do_not_change_the_key() {
        assert_eq!(key("ISO/IEC 27001:2013").as_deref(), Some("27001"));
        assert_eq!(key("iso 27001").as_deref(), Some("27001"));
        assert_eq!(key("iso/iec 27001").as_deref(), Some("27001"));
        for s in [
            "ISO-IEC 27701",
            "ISO IEC 27701",
            "iso - iec 27701",
            "ISO/ IEC 27701",
        ] {
            let id = StandardId::parse(s).unwrap_or_else(|| panic!("{s}"));
            assert_eq!(
                (id.body.as_str(), id.key().as_str()),
                ("ISO/IEC", "27701"),
                "{s}"
            );
        }
    }

    #[test]
    fn hyphens_after_the_body_and_families_parse() {
        assert_eq!(key("ISO-27001").as_deref(), Some("27001"));
        assert_eq!(key("ISO/IEC-27001").as_deref(), Some("27001"));
        assert_eq!(key("IEC-62443-3-3").as_deref(), Some("62443-3-3"));
        let f = StandardId::parse("ISO/IEC 27000 family").unwrap();
        assert!(f.family && f.number == "27000");
        assert!(StandardId::parse("27000-series").unwrap().series);
    }

    #[test]
    fn technical_reports_keep_their_marker() {
        let tr = StandardId::parse("TR 24028").unwrap();
        assert_eq!(
            (tr.kind.as_deref(), tr.key().as_str()),
            (Some("TR"), "24028")
        );
        let iso_tr = StandardId::parse("ISO/TR 23455").unwrap();
        assert_eq!(
            (iso_tr.body.as_str(), iso_tr.kind.as_deref()),
            ("ISO", Some("TR"))
        );
    }

    #[test]
    fn letter_parts_and_triple_prefixes_parse() {
        let id = StandardId::parse("ISO/IEC/IEEE 8802-A").unwrap();
        assert_eq!(
            (id.body.as_str(), id.key().as_str()),
            ("ISO/IEC/IEEE", "8802-a")
        );
    }

    #[test]
    fn things_that_are_not_identifiers_do_not_parse() {
        for s in ["27k1", "cybersecurity", "", "ISO", "12", "27001x"] {
            assert_eq!(StandardId::parse(s), None, "{s}");
        }
    }
}
