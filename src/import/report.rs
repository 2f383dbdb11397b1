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
    let mut reader = BlockReader {
        file,
        blocks: Vec::new(),
        footnotes: Vec::new(),
        current: None,
    };
    for line in &lines {
        reader.read(line, problems);
    }
    reader.flush();
    let blocks = splice_page_breaks(file, reader.blocks, problems);

    let first = lines
        .iter()
        .find(|l| !l.text.is_empty())
        .map(|l| l.number)
        .unwrap_or(1);
    let last = lines.last().map(|l| l.number).unwrap_or(1);
    let mut assembly = Assembly::new(file, actor, first, last);
    for b in blocks {
        match b {
            Block::Heading(level, text, n) => assembly.heading(level, text, n, problems),
            Block::Text(raw, n) => assembly.text(&raw, n, problems),
        }
    }
    let (profile, document) = assembly.finish(actor, first, problems);
    Report {
        profile,
        document,
        footnotes: reader.footnotes,
    }
}

/// Groups the lines into blocks: a heading each, and text joined up to the next blank line,
/// page break, footnote, heading or list item.
struct BlockReader<'a> {
    file: &'a str,
    blocks: Vec<Block>,
    footnotes: Vec<Para>,
    /// The text block being joined, with its first line.
    current: Option<(String, usize)>,
}

impl BlockReader<'_> {
    fn read(&mut self, line: &Line, problems: &mut Problems) {
        let Line { number, text } = line;
        if text.is_empty() || text == "---" {
            self.flush();
        } else if FOOTNOTE.is_match(text) {
            self.footnote(text, *number, problems);
        } else if let Some(rest) = text.strip_prefix('#') {
            self.heading(rest, *number);
        } else {
            self.text(text, *number);
        }
    }

    fn flush(&mut self) {
        if let Some((t, n)) = self.current.take() {
            self.blocks.push(Block::Text(t, n));
        }
    }

    fn footnote(&mut self, text: &str, number: usize, problems: &mut Problems) {
        self.flush();
        problems.removed(
            self.file,
            number,
            "footnote URL (kept for search, taken out of the text)",
        );
        self.footnotes.push(Para {
            text: plain(text),
            origin: Origin::new(self.file, number),
            truncated: false,
        });
    }

    /// `rest` is the heading line after its first `#`.
    fn heading(&mut self, rest: &str, number: usize) {
        self.flush();
        let level = 1 + rest.chars().take_while(|&c| c == '#').count();
        self.blocks.push(Block::Heading(
            level,
            plain(rest.trim_start_matches('#')),
            number,
        ));
    }

    fn text(&mut self, text: &str, number: usize) {
        let list_item = text.starts_with("- ")
            || text.chars().next().is_some_and(|c| c.is_ascii_digit()) && text.contains(". ");
        match self.current.as_mut() {
            Some((t, _)) if !list_item => {
                t.push(' ');
                t.push_str(text);
            }
            _ => {
                self.flush();
                self.current = Some((text.to_string(), number));
            }
        }
    }
}

/// Splice sentences cut by a page break: a long paragraph that does not end a sentence
/// continues in the next text block.
fn splice_page_breaks(file: &str, blocks: Vec<Block>, problems: &mut Problems) -> Vec<Block> {
    let mut spliced: Vec<Block> = Vec::new();
    for b in blocks {
        if let (Some(Block::Text(prev, pline)), Block::Text(t, n)) = (spliced.last_mut(), &b) {
            let prev_plain = plain(prev);
            if prev_plain.len() > 100
                && !prose::ends_sentence(&prev_plain)
                && !is_list_item(t)
                && !is_list_item(prev)
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
    spliced
}

/// A bullet ("- …") or numbered ("3. …") list item: it starts afresh, never continues.
fn is_list_item(x: &str) -> bool {
    x.starts_with("- ")
        || x.split_once(". ")
            .is_some_and(|(n, _)| n.chars().all(|c| c.is_ascii_digit()))
}

/// Places the blocks, in order, into the actor's profile and the report's title page.
struct Assembly<'a> {
    file: &'a str,
    profile: Profile,
    title: Option<(String, usize)>,
    subtitle: Option<String>,
    byline: Vec<Para>,
    doc_paras: Vec<Para>,
    /// Fingerprints of the headings and texts seen, to drop repeated title blocks.
    seen: Vec<Fingerprint>,
    /// The section that text goes to.
    section: Option<usize>,
    /// Inside the "About …" part, which describes the actor.
    about: bool,
}

impl<'a> Assembly<'a> {
    fn new(file: &'a str, actor: &str, first: usize, last: usize) -> Self {
        let mut profile = Profile {
            slug: actor.to_string(),
            ..Profile::default()
        };
        profile.spans.push((file.to_string(), first, last));
        Assembly {
            file,
            profile,
            title: None,
            subtitle: None,
            byline: Vec::new(),
            doc_paras: Vec::new(),
            seen: Vec::new(),
            section: None,
            about: false,
        }
    }

    /// True (and noted) when the text repeats a heading or text seen before.
    fn repeats(&mut self, text: &str, n: usize, problems: &mut Problems) -> bool {
        let fp = Fingerprint::new(text);
        if self.seen.iter().any(|f| f.same_as(&fp)) {
            problems.removed(self.file, n, format!("repeated title block: {text}"));
            return true;
        }
        self.seen.push(fp);
        false
    }

    fn heading(&mut self, level: usize, text: String, n: usize, problems: &mut Problems) {
        if self.repeats(&text, n, problems) {
            return;
        }
        if level == 1 && self.title.is_none() {
            self.title = Some((text, n));
            return;
        }
        if level == 2
            && self.section.is_none()
            && self.subtitle.is_none()
            && text.to_uppercase() == text
        {
            self.subtitle = Some(text);
            return;
        }
        self.about = text.to_lowercase().starts_with("about ");
        if self.about {
            self.section = None;
            return;
        }
        self.start_section(level, text, n);
    }

    /// `##` starts an issue section; deeper headings are sub-sections of the current issue.
    fn start_section(&mut self, level: usize, text: String, n: usize) {
        let sections = &mut self.profile.sections;
        let kind = if level <= 2 {
            SectionKind::Issue
        } else {
            SectionKind::Subsection
        };
        let parent = if kind == SectionKind::Subsection {
            self.section.map(|s| sections[s].parent.unwrap_or(s))
        } else {
            None
        };
        sections.push(Section {
            kind,
            heading: Some(text),
            tagline: None,
            parent,
            topics: vec![],
            paras: vec![],
            origin: Origin::new(self.file, n),
        });
        self.section = Some(sections.len() - 1);
    }

    fn text(&mut self, raw: &str, n: usize, problems: &mut Problems) {
        let text = plain(raw);
        if self.repeats(&text, n, problems) {
            return;
        }
        if self.section.is_none()
            && !self.about
            && self.profile.sections.is_empty()
            && self.doc_paras.is_empty()
            && text.len() < 120
            && !prose::ends_sentence(&text)
        {
            self.title_page(text, n, problems);
            return;
        }
        if self.about && self.contact(&text, n) {
            return;
        }
        self.body(text, n, problems);
    }

    /// Title-page lines: subtitle, then authors, place and year (the byline, kept: who wrote a
    /// report and when is part of what it is).
    fn title_page(&mut self, text: String, n: usize, problems: &mut Problems) {
        if self.subtitle.is_none() {
            self.subtitle = Some(text);
        } else if self.byline.iter().any(|b: &Para| b.text == text) {
            problems.removed(self.file, n, format!("title page: {text}"));
        } else {
            self.byline.push(Para {
                text,
                origin: Origin::new(self.file, n),
                truncated: false,
            });
        }
    }

    /// A social channel or the website in the "About …" part; false when the text is neither.
    fn contact(&mut self, text: &str, n: usize) -> bool {
        if let Some(c) = CHANNEL.captures(text) {
            self.profile.channels.push(Channel {
                platform: c[2].to_string(),
                handle: c[3].to_string(),
                origin: Origin::new(self.file, n),
            });
            return true;
        }
        if let Some(c) = WEBSITE.captures(text) {
            self.profile.website = Some(Field {
                value: c[1].to_string(),
                evidence: text.to_string(),
                origin: Origin::new(self.file, n),
            });
            return true;
        }
        false
    }

    /// A paragraph of the body: the current section's, the description's ("About …") or, before
    /// any section, the "other" section's.
    fn body(&mut self, text: String, n: usize, problems: &mut Problems) {
        let para = Para {
            truncated: prose::is_truncated(&text),
            text,
            origin: Origin::new(self.file, n),
        };
        if para.truncated {
            problems.warn(
                self.file,
                n,
                format!("paragraph is cut off mid-sentence: {}", para.text),
            );
        }
        self.doc_paras.push(para.clone());
        let profile = &mut self.profile;
        let idx = match (self.about, self.section) {
            (false, Some(s)) => s,
            (true, _) => profile.section_mut(SectionKind::Description, &para.origin),
            (false, None) => profile.section_mut(SectionKind::Other, &para.origin),
        };
        profile.sections[idx].paras.push(para);
    }

    /// The profile, and the report as a document: its title (with the subtitle), byline and
    /// summary. `first` is the first non-blank line, blamed when there is no title.
    fn finish(self, actor: &str, first: usize, problems: &mut Problems) -> (Profile, Document) {
        let file = self.file;
        let (title, title_line) = self.title.unwrap_or_else(|| {
            problems.error(file, first, "the report has no '# ' title line");
            (String::new(), first)
        });
        let title = match &self.subtitle {
            Some(s) => format!("{} – {}", sentence_case(&title), sentence_case(s)),
            None => sentence_case(&title),
        };
        let byline = self.byline;
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
            summary: self
                .doc_paras
                .first()
                .map(|p| prose::first_sentence(&p.text).to_string()),
            owner: Some(actor.to_string()),
            about: None,
            // The byline is searchable (an author's name finds the report); the body's
            // paragraphs are the actor's profile text, not repeated here.
            paras: byline,
            origin: Origin::new(file, title_line),
        };
        (self.profile, document)
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
