//! The report format (`report`): a PDF converted to Markdown. Footnote markers (`<sup>n</sup>`)
//! and footnote URL blocks are removed, page breaks (`---`) dropped, sentences split across a
//! page break spliced back together, repeated title blocks kept once, Markdown emphasis and
//! links reduced to their text. `##` headings become the actor's sections; "About …" becomes its
//! description, with its website and social channels.

use regex::Regex;
use std::sync::LazyLock;

use super::model::{
    Channel, DocKind, Document, Field, Origin, Para, Profile, Section, SectionKind,
};
use super::problem::Problems;
use super::prose::{self, Line};
use super::similar::Fingerprint;

static SUP: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"<sup>\s*\d+\s*</sup>").unwrap());
static FOOTNOTE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:<sup>)?\d+(?:</sup>)?\s+<https?://[^>]+>\s*$").unwrap());
static LINK: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\[([^\]]+)\]\(([^)]+)\)").unwrap());
static AUTOLINK: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"<(https?://[^>]+)>").unwrap());
static EMPHASIS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\*\*([^*]+)\*\*|\*([^*]+)\*").unwrap());
static CHANNEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(.+?) on (Twitter|Facebook|LinkedIn|YouTube|Instagram|X) - (\S+)$").unwrap()
});
static WEBSITE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)official website:\s*(\S+)$").unwrap());

/// Markdown reduced to text: links to their text, autolinks to the URL, emphasis removed.
fn plain(s: &str) -> String {
    let s = SUP.replace_all(s, "");
    let s = LINK.replace_all(&s, "$1");
    let s = AUTOLINK.replace_all(&s, "$1");
    let s = EMPHASIS.replace_all(&s, "$1$2");
    prose::trim(&s).to_string()
}

pub struct Report {
    pub profile: Profile,
    pub document: Document,
    /// Footnote URLs, kept for search (HXL is named only in one).
    pub footnotes: Vec<Para>,
}

enum Block {
    Heading(usize, String, usize),
    Text(String, usize),
}

pub fn parse(file: &str, content: &str, actor: &str, problems: &mut Problems) -> Report {
    let lines = prose::lines(content);
    let mut blocks: Vec<Block> = Vec::new();
    let mut footnotes = Vec::new();
    let mut current: Option<(String, usize)> = None;
    let flush = |current: &mut Option<(String, usize)>, blocks: &mut Vec<Block>| {
        if let Some((t, n)) = current.take() {
            blocks.push(Block::Text(t, n));
        }
    };
    for Line { number, text } in &lines {
        if text.is_empty() {
            flush(&mut current, &mut blocks);
            continue;
        }
        if text == "---" {
            flush(&mut current, &mut blocks);
            continue;
        }
        if FOOTNOTE.is_match(text) {
            flush(&mut current, &mut blocks);
            problems.removed(
                file,
                *number,
                "footnote URL (kept for search, taken out of the text)",
            );
            footnotes.push(Para {
                text: plain(text),
                origin: Origin::new(file, *number),
                truncated: false,
            });
            continue;
        }
        if let Some(rest) = text.strip_prefix('#') {
            flush(&mut current, &mut blocks);
            let level = 1 + rest.chars().take_while(|&c| c == '#').count();
            blocks.push(Block::Heading(
                level,
                plain(rest.trim_start_matches('#')),
                *number,
            ));
            continue;
        }
        let list_item = text.starts_with("- ")
            || text.chars().next().is_some_and(|c| c.is_ascii_digit()) && text.contains(". ");
        match current.as_mut() {
            Some((t, _)) if !list_item => {
                t.push(' ');
                t.push_str(text);
            }
            _ => {
                flush(&mut current, &mut blocks);
                current = Some((text.clone(), *number));
            }
        }
    }
    flush(&mut current, &mut blocks);

    // Splice sentences cut by a page break: a long paragraph that does not end a sentence
    // continues in the next text block.
    let mut spliced: Vec<Block> = Vec::new();
    for b in blocks {
        if let (Some(Block::Text(prev, pline)), Block::Text(t, n)) = (spliced.last_mut(), &b) {
            let prev_plain = plain(prev);
            let is_item = |x: &str| {
                x.starts_with("- ")
                    || x.split_once(". ")
                        .is_some_and(|(n, _)| n.chars().all(|c| c.is_ascii_digit()))
            };
            if prev_plain.len() > 100
                && !prose::ends_sentence(&prev_plain)
                && !is_item(t)
                && !is_item(prev)
            {
                problems.warn(
                    file,
                    *n,
                    format!("continues the sentence of line {pline} across a page break; joined"),
                );
                prev.push(' ');
                prev.push_str(t);
                continue;
            }
        }
        spliced.push(b);
    }

    let mut profile = Profile {
        slug: actor.to_string(),
        ..Profile::default()
    };
    let first = lines
        .iter()
        .find(|l| !l.text.is_empty())
        .map(|l| l.number)
        .unwrap_or(1);
    let last = lines.last().map(|l| l.number).unwrap_or(1);
    profile.spans.push((file.to_string(), first, last));
    let mut title: Option<(String, usize)> = None;
    let mut subtitle: Option<String> = None;
    let mut byline: Vec<Para> = Vec::new();
    let mut doc_paras: Vec<Para> = Vec::new();
    let mut seen: Vec<Fingerprint> = Vec::new();
    let mut section: Option<usize> = None;
    let mut about = false;
    for b in spliced {
        match b {
            Block::Heading(level, text, n) => {
                let fp = Fingerprint::new(&text);
                if seen.iter().any(|f| f.same_as(&fp)) {
                    problems.removed(file, n, format!("repeated title block: {text}"));
                    continue;
                }
                seen.push(fp);
                if level == 1 && title.is_none() {
                    title = Some((text, n));
                    continue;
                }
                if level == 2
                    && section.is_none()
                    && subtitle.is_none()
                    && text.to_uppercase() == text
                {
                    subtitle = Some(text);
                    continue;
                }
                about = text.to_lowercase().starts_with("about ");
                if about {
                    section = None;
                    continue;
                }
                let kind = if level <= 2 {
                    SectionKind::Issue
                } else {
                    SectionKind::Subsection
                };
                let parent = if kind == SectionKind::Subsection {
                    section.map(|s| profile.sections[s].parent.unwrap_or(s))
                } else {
                    None
                };
                profile.sections.push(Section {
                    kind,
                    heading: Some(text),
                    tagline: None,
                    parent,
                    topics: vec![],
                    paras: vec![],
                    origin: Origin::new(file, n),
                });
                section = Some(profile.sections.len() - 1);
            }
            Block::Text(raw, n) => {
                let text = plain(&raw);
                let fp = Fingerprint::new(&text);
                if seen.iter().any(|f| f.same_as(&fp)) {
                    problems.removed(file, n, format!("repeated title block: {text}"));
                    continue;
                }
                seen.push(fp);
                if section.is_none()
                    && !about
                    && profile.sections.is_empty()
                    && doc_paras.is_empty()
                    && text.len() < 120
                    && !prose::ends_sentence(&text)
                {
                    // Title-page lines: subtitle, then authors, place and year (the byline,
                    // kept: who wrote a report and when is part of what it is).
                    if subtitle.is_none() {
                        subtitle = Some(text);
                    } else if byline.iter().any(|b: &Para| b.text == text) {
                        problems.removed(file, n, format!("title page: {text}"));
                    } else {
                        byline.push(Para {
                            text,
                            origin: Origin::new(file, n),
                            truncated: false,
                        });
                    }
                    continue;
                }
                if about {
                    if let Some(c) = CHANNEL.captures(&text) {
                        profile.channels.push(Channel {
                            platform: c[2].to_string(),
                            handle: c[3].to_string(),
                            origin: Origin::new(file, n),
                        });
                        continue;
                    }
                    if let Some(c) = WEBSITE.captures(&text) {
                        profile.website = Some(Field {
                            value: c[1].to_string(),
                            evidence: text.clone(),
                            origin: Origin::new(file, n),
                        });
                        continue;
                    }
                }
                let para = Para {
                    truncated: prose::is_truncated(&text),
                    text,
                    origin: Origin::new(file, n),
                };
                if para.truncated {
                    problems.warn(
                        file,
                        n,
                        format!("paragraph is cut off mid-sentence: {}", para.text),
                    );
                }
                doc_paras.push(para.clone());
                let idx = match (about, section) {
                    (false, Some(s)) => s,
                    (true, _) => profile.section_mut(SectionKind::Description, &para.origin),
                    (false, None) => profile.section_mut(SectionKind::Other, &para.origin),
                };
                profile.sections[idx].paras.push(para);
            }
        }
    }
    let (title, title_line) = title.unwrap_or_else(|| {
        problems.error(file, first, "the report has no '# ' title line");
        (String::new(), first)
    });
    let title = match &subtitle {
        Some(s) => format!("{} – {}", sentence_case(&title), sentence_case(s)),
        None => sentence_case(&title),
    };
    let document = Document {
        slug: String::new(),
        kind: DocKind::Report,
        symbol: None,
        title,
        subtitle: (!byline.is_empty()).then(|| {
            byline
                .iter()
                .map(|b| b.text.as_str())
                .collect::<Vec<_>>()
                .join(" · ")
        }),
        summary: doc_paras.first().map(|p| {
            prose::sentences(&p.text)
                .first()
                .copied()
                .unwrap_or(&p.text)
                .to_string()
        }),
        owner: Some(actor.to_string()),
        about: None,
        // The byline is searchable (an author's name finds the report); the body's paragraphs
        // are the actor's profile text, not repeated here.
        paras: byline,
        origin: Origin::new(file, title_line),
    };
    Report {
        profile,
        document,
        footnotes,
    }
}

/// "HIGH-LEVEL PANEL ON DIGITAL COOPERATION" → "High-level panel on digital cooperation"; only
/// all-capital titles are touched, and acronyms of the form ICT4PEACE are restored by the caller.
fn sentence_case(s: &str) -> String {
    if s.to_uppercase() != s {
        return s.to_string();
    }
    let lower = s.to_lowercase().replace("ict4peace", "ICT4Peace");
    let mut c = lower.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => lower,
    }
}
