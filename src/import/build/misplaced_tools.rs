//! "WIPO GREEN – online marketplace for sustainable technologies" is a tool, whatever heading
//! the scrape put it under: such lines leave the issue sections for the actor's tools.

use std::sync::LazyLock;

use regex::Regex;

use super::{Origin, SectionKind};
use crate::import::model::{Item, Profile};
use crate::import::problem::Problems;
use crate::import::prose;
use crate::search::normalize::name_key;

/// "WIPO GREEN – online marketplace for sustainable technologies" is a tool, whatever heading
/// the scrape put it under: a "Name – what it is" line inside an issue section goes to the
/// actor's tools (once: a tool already listed is not listed twice), and the move is reported.
pub(super) fn move_misplaced_tools(p: &mut Profile, problems: &mut Problems) {
    let mut moved: Vec<(String, Option<String>, Origin, String)> = Vec::new();
    for s in &mut p.sections {
        if !matches!(s.kind, SectionKind::Issue | SectionKind::Subsection) {
            continue;
        }
        let heading = s.heading.clone().unwrap_or_default();
        s.paras.retain(|para| match tool_line(&para.text) {
            Some((name, description)) => {
                moved.push((name, description, para.origin.clone(), heading.clone()));
                false
            }
            None => true,
        });
    }
    for (name, description, origin, heading) in moved {
        let key = name_key(&name);
        let listed = p.items.iter().any(|i| name_key(&i.name) == key);
        let what = if listed {
            "already in its tools"
        } else {
            "moved to its tools"
        };
        problems.removed(
            &origin.file,
            origin.line,
            format!("tool “{name}” listed under the issue “{heading}”: {what}"),
        );
        if !listed {
            p.items.push(Item {
                name,
                description,
                origin,
            });
        }
    }
}

/// "Name – what it is" (a tool-list line): a short capitalised name without a sentence in
/// it, a dash, a description.
fn tool_line(text: &str) -> Option<(String, Option<String>)> {
    static TOOL: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^([A-Z][^.–—:;]{1,58}?)\s*[–—]\s*([a-z].*)$").unwrap());
    let c = TOOL.captures(text.trim())?;
    let description = c[2].trim().trim_end_matches('.').to_string();
    // One sentence only: a paragraph that goes on is prose about the issue, not a list entry.
    (prose::sentences(&description).len() <= 1)
        .then(|| (c[1].trim().to_string(), Some(description)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::model::test_para as para;
    use crate::import::model::Section;

    #[test]
    fn a_tool_line_is_a_short_name_a_dash_and_one_sentence() {
        assert_eq!(
            tool_line("WIPO GREEN – online marketplace for sustainable technologies."),
            Some((
                "WIPO GREEN".into(),
                Some("online marketplace for sustainable technologies".into())
            ))
        );
        // Prose with a dash in it is not a tool; neither is a bullet that starts with one.
        assert_eq!(
            tool_line("The Forum – like others – works on trade. It also does more."),
            None
        );
        assert_eq!(tool_line("– The Institute issued a Statement"), None);
    }

    #[test]
    fn a_tool_under_an_issue_moves_to_the_tools_once() {
        let mut p = Profile {
            slug: "wipo".into(),
            items: vec![Item {
                name: "WIPO GREEN".into(),
                description: None,
                origin: Origin::new("000", 456),
            }],
            sections: vec![Section {
                kind: SectionKind::Issue,
                heading: Some("Climate change".into()),
                tagline: None,
                parent: None,
                topics: vec![],
                paras: vec![
                    para("WIPO’s Global Challenges programme brings together stakeholders."),
                    para("WIPO GREEN – online marketplace for green technologies"),
                    para("COVID-19 Platform – a one-stop digital platform for assistance."),
                ],
                origin: Origin::new("000", 445),
            }],
            ..Profile::default()
        };
        let mut problems = Problems::default();
        move_misplaced_tools(&mut p, &mut problems);
        assert_eq!(p.sections[0].paras.len(), 1);
        let names: Vec<&str> = p.items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["WIPO GREEN", "COVID-19 Platform"]);
        assert_eq!(problems.into_sorted().len(), 2, "each move is reported");
    }
}
