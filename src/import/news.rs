//! The news format (`news`): stories separated by photo and credit lines. A story starts at the
//! first heading-like paragraph after a `Photo:`/`Credit:` line (its title), optionally followed
//! by a heading-like subtitle. Headings of the form "Label – explanation" after a photo are
//! sub-headings inside a story, not new stories. Captions (the line just before a credit) and
//! credits are removed; repeated paragraphs (the same quote in two stories) are kept once.

use super::atlas::paragraphs;
use super::model::{DocKind, Document, Origin, Para};
use super::problem::Problems;
use super::prose::{self, Line};
use super::similar::Fingerprint;

fn is_credit(text: &str) -> bool {
    let t = text.to_lowercase();
    t.starts_with("photo:") || t.starts_with("credit:") || t.contains(". credit:")
}

pub fn parse(file: &str, content: &str, owner: &str, problems: &mut Problems) -> Vec<Document> {
    // Keep caption/credit lines separate: in this format they are not blank-line separated.
    let raw = prose::lines(content);
    let mut lines: Vec<Line> = Vec::new();
    for (i, l) in raw.iter().enumerate() {
        let next_is_credit = raw.get(i + 1).is_some_and(|n| is_credit(&n.text));
        if is_credit(&l.text) {
            problems.removed(file, l.number, format!("photo credit: {}", l.text));
            lines.push(Line {
                number: l.number,
                text: String::new(),
            });
            lines.push(Line {
                number: l.number,
                text: "\u{1}credit".into(),
            });
            lines.push(Line {
                number: l.number,
                text: String::new(),
            });
        } else if next_is_credit
            && !l.text.is_empty()
            && !looks_like_attribution(&l.text)
            && prose::looks_like_heading(&l.text)
        {
            problems.removed(file, l.number, format!("image caption: {}", l.text));
            lines.push(Line {
                number: l.number,
                text: String::new(),
            });
        } else {
            lines.push(l.clone());
            if next_is_credit {
                lines.push(Line {
                    number: l.number,
                    text: String::new(),
                });
            }
        }
    }
    let paras = paragraphs(&lines);
    let mut stories: Vec<Document> = Vec::new();
    let mut after_credit = true; // the file starts with a photo
    let mut seen: Vec<(Fingerprint, Origin)> = Vec::new();
    let mut i = 0;
    while i < paras.len() {
        let p = &paras[i];
        if p.text == "\u{1}credit" {
            after_credit = true;
            i += 1;
            continue;
        }
        if let Some(reason) = prose::junk_kind(&p.text) {
            problems.removed(file, p.number, format!("{reason}: {}", p.text));
            i += 1;
            continue;
        }
        let sub_heading = p.text.contains(" – ");
        if after_credit && prose::looks_like_heading(&p.text) && !sub_heading {
            let mut story = Document {
                slug: String::new(),
                kind: DocKind::News,
                symbol: None,
                title: p.text.clone(),
                subtitle: None,
                summary: None,
                owner: Some(owner.to_string()),
                about: None,
                paras: vec![],
                origin: Origin::new(file, p.number),
            };
            if let Some(next) = paras.get(i + 1).filter(|n| {
                prose::looks_like_heading(&n.text)
                    || (n.text.len() < 200 && !prose::ends_sentence(&n.text))
            }) {
                story.subtitle = Some(next.text.clone());
                i += 1;
            }
            stories.push(story);
            after_credit = false;
            i += 1;
            continue;
        }
        after_credit = false;
        let Some(story) = stories.last_mut() else {
            problems.warn(
                file,
                p.number,
                format!(
                    "text before the first story title is not attributed: {}",
                    p.text
                ),
            );
            i += 1;
            continue;
        };
        let fp = Fingerprint::new(&p.text);
        if let Some((_, o)) = seen.iter().find(|(f, _)| f.same_as(&fp)) {
            problems.removed(file, p.number, format!("repeats {}:{}", o.file, o.line));
            i += 1;
            continue;
        }
        seen.push((fp, Origin::new(file, p.number)));
        let text = prose::strip_bullet(&p.text).unwrap_or(&p.text).to_string();
        let truncated = prose::is_truncated(&text);
        if truncated {
            problems.warn(
                file,
                p.number,
                format!("paragraph is cut off mid-sentence: {text}"),
            );
        }
        story.paras.push(Para {
            text,
            origin: Origin::new(file, p.number),
            truncated,
        });
        i += 1;
    }
    for s in &mut stories {
        s.summary = s.paras.first().map(|p| {
            prose::sentences(&p.text)
                .first()
                .copied()
                .unwrap_or(&p.text)
                .to_string()
        });
        if s.paras.is_empty() {
            problems.warn(
                file,
                s.origin.line,
                format!("story '{}' has no text", s.title),
            );
        }
    }
    stories
}

/// "Laura Lopez, Director, Conference Affairs, UNFCCC": a quote's attribution line.
fn looks_like_attribution(text: &str) -> bool {
    text.matches(',').count() >= 2 && text.len() < 160 && !prose::ends_sentence(text)
}
