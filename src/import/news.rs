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

/// Stands in for a credit line among the paragraphs: it ends the story text before it and
/// tells the next heading-like paragraph that it is a story title.
const CREDIT_MARK: &str = "\u{1}credit";

pub fn parse(file: &str, content: &str, owner: &str, problems: &mut Problems) -> Vec<Document> {
    let lines = separate_credits(file, content, problems);
    let paras = paragraphs(&lines);
    let mut reader = StoryReader {
        file,
        owner,
        stories: Vec::new(),
        after_credit: true, // the file starts with a photo
        seen: Vec::new(),
    };
    let mut i = 0;
    while i < paras.len() {
        i += reader.read(&paras[i], paras.get(i + 1), problems);
    }
    summarise(file, &mut reader.stories, problems);
    reader.stories
}

/// Keep caption/credit lines separate: in this format they are not blank-line separated.
/// Credits become a [`CREDIT_MARK`] paragraph, captions a blank line.
fn separate_credits(file: &str, content: &str, problems: &mut Problems) -> Vec<Line> {
    let raw = prose::lines(content);
    let blank = |number: usize| Line {
        number,
        text: String::new(),
    };
    let mut lines: Vec<Line> = Vec::new();
    for (i, l) in raw.iter().enumerate() {
        let next_is_credit = raw.get(i + 1).is_some_and(|n| is_credit(&n.text));
        if is_credit(&l.text) {
            problems.removed(file, l.number, format!("photo credit: {}", l.text));
            lines.push(blank(l.number));
            lines.push(Line {
                number: l.number,
                text: CREDIT_MARK.into(),
            });
            lines.push(blank(l.number));
        } else if next_is_credit
            && !l.text.is_empty()
            && !looks_like_attribution(&l.text)
            && prose::looks_like_heading(&l.text)
        {
            problems.removed(file, l.number, format!("image caption: {}", l.text));
            lines.push(blank(l.number));
        } else {
            lines.push(l.clone());
            if next_is_credit {
                lines.push(blank(l.number));
            }
        }
    }
    lines
}

/// Reads the paragraphs of a news file into stories, one paragraph at a time.
struct StoryReader<'a> {
    file: &'a str,
    owner: &'a str,
    stories: Vec<Document>,
    /// Just after a photo credit, a heading-like paragraph starts a new story.
    after_credit: bool,
    /// Paragraphs already kept, to drop repeats (the same quote in two stories).
    seen: Vec<(Fingerprint, Origin)>,
}

impl StoryReader<'_> {
    /// Reads one paragraph (`next` may be taken as its subtitle); returns how many were used.
    fn read(&mut self, p: &Line, next: Option<&Line>, problems: &mut Problems) -> usize {
        if p.text == CREDIT_MARK {
            self.after_credit = true;
            return 1;
        }
        if let Some(reason) = prose::junk_kind(&p.text) {
            problems.removed(self.file, p.number, format!("{reason}: {}", p.text));
            return 1;
        }
        let sub_heading = p.text.contains(" – ");
        if self.after_credit && prose::looks_like_heading(&p.text) && !sub_heading {
            return self.start_story(p, next);
        }
        self.after_credit = false;
        self.add_para(p, problems);
        1
    }

    /// A story title, with the next paragraph as its subtitle when that is heading-like or a
    /// short unfinished phrase.
    fn start_story(&mut self, p: &Line, next: Option<&Line>) -> usize {
        let mut story = Document {
            slug: String::new(),
            kind: DocKind::News,
            symbol: None,
            title: p.text.clone(),
            subtitle: None,
            summary: None,
            owner: Some(self.owner.to_string()),
            about: None,
            paras: vec![],
            origin: Origin::new(self.file, p.number),
        };
        let subtitle = next.filter(|n| {
            prose::looks_like_heading(&n.text)
                || (n.text.len() < 200 && !prose::ends_sentence(&n.text))
        });
        story.subtitle = subtitle.map(|n| n.text.clone());
        self.stories.push(story);
        self.after_credit = false;
        1 + usize::from(subtitle.is_some())
    }

    fn add_para(&mut self, p: &Line, problems: &mut Problems) {
        let file = self.file;
        let Some(story) = self.stories.last_mut() else {
            problems.warn(
                file,
                p.number,
                format!(
                    "text before the first story title is not attributed: {}",
                    p.text
                ),
            );
            return;
        };
        let fp = Fingerprint::new(&p.text);
        if let Some((_, o)) = self.seen.iter().find(|(f, _)| f.same_as(&fp)) {
            problems.removed(file, p.number, format!("repeats {}:{}", o.file, o.line));
            return;
        }
        self.seen.push((fp, Origin::new(file, p.number)));
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
    }
}

/// Each story's summary is the first sentence of its text; a story without text is reported.
fn summarise(file: &str, stories: &mut [Document], problems: &mut Problems) {
    for s in stories {
        s.summary = s
            .paras
            .first()
            .map(|p| prose::first_sentence(&p.text).to_string());
        if s.paras.is_empty() {
            problems.warn(
                file,
                s.origin.line,
                format!("story '{}' has no text", s.title),
            );
        }
    }
}

/// "Laura Lopez, Director, Conference Affairs, UNFCCC": a quote's attribution line.
fn looks_like_attribution(text: &str) -> bool {
    text.matches(',').count() >= 2 && text.len() < 160 && !prose::ends_sentence(text)
}
