//! Plain text for terminals, pipes and logs: no Markdown; matched words in *asterisks*. On a
//! terminal (`Look`), the same text word-wrapped to its width — bullets and field values
//! hang under their first word — and coloured: title, field names, highlights, follow-up
//! commands. `render` (no width, no colour) is what pipes, `ask` and the tests see; the
//! terminal's look only adds line breaks at spaces and escape sequences, never other words.

use std::fmt::Write as _;

use unicode_width::UnicodeWidthStr;

use crate::reply::{Attachment, Reply, Span, Text, Tone};

/// How a reply is shown: wrapped to a width, in colour, or neither (a pipe).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Look {
    /// Columns to wrap at; None: lines as long as they are.
    pub width: Option<usize>,
    pub color: bool,
}

/// What a piece of text is, for its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Paint {
    Body,
    Title,
    Heading,
    Field,
    Strong,
    /// A command to type next ("/actor WIPO").
    Command,
    Quiet,
}

impl Paint {
    /// ANSI SGR: bold, bold cyan, bold, bold yellow, green, dim.
    fn sgr(self) -> Option<&'static str> {
        match self {
            Paint::Body => None,
            Paint::Title => Some("\x1b[1;36m"),
            Paint::Heading | Paint::Field => Some("\x1b[1m"),
            Paint::Strong => Some("\x1b[1;33m"),
            Paint::Command => Some("\x1b[32m"),
            Paint::Quiet => Some("\x1b[2m"),
        }
    }
}

/// One line of the reply before wrapping: its pieces, and how far its continuation lines
/// are indented when wrapped.
#[derive(Default)]
struct Line {
    parts: Vec<(Paint, String)>,
    hang: usize,
    /// Verbatim content (an attached file): never wrapped.
    verbatim: bool,
}

impl Line {
    fn of(paint: Paint, s: impl Into<String>) -> Line {
        Line {
            parts: vec![(paint, s.into())],
            ..Line::default()
        }
    }

    fn push(&mut self, paint: Paint, s: impl Into<String>) -> &mut Line {
        self.parts.push((paint, s.into()));
        self
    }

    fn text(&mut self, t: &Text, body: Paint) -> &mut Line {
        for s in &t.0 {
            match s {
                Span::Plain(p) | Span::Code(p) | Span::Person(p) => {
                    self.parts.push((body, p.clone()))
                }
                Span::Strong(p) => self.parts.push((Paint::Strong, format!("*{p}*"))),
                Span::Time(m) => self.parts.push((body, m.plain())),
            }
        }
        self
    }

    fn plain(&self) -> String {
        self.parts.iter().map(|(_, s)| s.as_str()).collect()
    }
}

fn text(t: &Text) -> String {
    let mut l = Line::default();
    l.text(t, Paint::Body);
    l.plain()
}

pub fn render(r: &Reply) -> String {
    render_with(r, Look::default())
}

/// The reply as lines, then shown with `look`.
pub fn render_with(r: &Reply, look: Look) -> String {
    finish(&lines(r), look)
}

/// The reply's lines: title, subtitle, summary, fields, sections, links, suggestions, paging,
/// sources, attachment. An empty line is a blank line.
fn lines(r: &Reply) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::new();
    let blank = |out: &mut Vec<Line>| out.push(Line::default());
    head(r, &mut out);
    if let Some(s) = &r.summary {
        if !out.is_empty() {
            blank(&mut out);
        }
        let mut l = Line::default();
        l.text(s, Paint::Body);
        out.push(l);
    }
    if !r.fields.is_empty() {
        blank(&mut out);
        fields(r, &mut out);
    }
    for s in &r.sections {
        blank(&mut out);
        out.push(Line::of(Paint::Heading, &s.heading));
        for i in &s.items {
            out.push(item(i));
        }
    }
    for l in &r.links {
        let mut line = Line::of(Paint::Field, format!("{}:", l.label));
        line.push(Paint::Body, format!(" {}", l.url)).hang = 2;
        out.push(line);
    }
    if !r.suggestions.is_empty() {
        blank(&mut out);
        out.push(suggestions(r));
    }
    if let Some(p) = &r.paging {
        blank(&mut out);
        out.push(paging(p));
    }
    if let Some(s) = &r.sources {
        blank(&mut out);
        out.push(Line::of(Paint::Quiet, s));
    }
    if let Some(a) = &r.attachment {
        blank(&mut out);
        attachment(a, &mut out);
    }
    out
}

/// Title, subtitle and address (unless a field already shows it), one per line.
fn head(r: &Reply, out: &mut Vec<Line>) {
    if let Some(t) = &r.title {
        out.push(Line::of(Paint::Title, t));
    }
    if let Some(s) = &r.subtitle {
        out.push(Line::of(Paint::Body, s));
    }
    if let Some(u) = &r.url {
        if r.fields.iter().all(|f| text(&f.value) != *u) {
            out.push(Line::of(Paint::Body, u));
        }
    }
}

/// The suggestions as commands on one line, led by what they are to the reader.
fn suggestions(r: &Reply) -> Line {
    let lead = match r.tone {
        Tone::NotFound => "Did you mean",
        Tone::Answer => "Also",
        _ => "Try",
    };
    let mut line = Line::of(Paint::Body, format!("{lead}: "));
    for (n, s) in r.suggestions.iter().enumerate() {
        if n > 0 {
            line.push(Paint::Body, " · ");
        }
        line.push(Paint::Command, s);
    }
    line.hang = 2;
    line
}

/// An attached file: a quiet header line, then its content verbatim.
fn attachment(a: &Attachment, out: &mut Vec<Line>) {
    out.push(Line::of(
        Paint::Quiet,
        format!("--- {} ({}) ---", a.filename, a.media_type),
    ));
    for l in a.content.trim_end().split('\n') {
        let mut line = Line::of(Paint::Body, l);
        line.verbatim = true;
        out.push(line);
    }
}

/// Fields one per line, inline ones side by side (joined by " · ").
fn fields(r: &Reply, out: &mut Vec<Line>) {
    let mut inline: Option<Line> = None;
    for f in &r.fields {
        let mut entry = Line::of(Paint::Field, format!("{}:", f.name));
        entry.push(Paint::Body, " ").text(&f.value, Paint::Body);
        entry.hang = 2;
        if f.inline {
            match inline.as_mut() {
                Some(line) => {
                    line.push(Paint::Body, " · ");
                    line.parts.extend(entry.parts);
                }
                None => inline = Some(entry),
            }
        } else {
            out.extend(inline.take());
            out.push(entry);
        }
    }
    out.extend(inline);
}

fn item(i: &crate::reply::Item) -> Line {
    let mut line = Line::of(Paint::Body, "  • ");
    line.hang = 4;
    if let Some(l) = &i.label {
        line.push(Paint::Field, l);
        if !i.text.is_empty() {
            line.push(Paint::Body, " — ");
        }
    }
    line.text(&i.text, Paint::Body);
    if let Some(src) = &i.source {
        line.push(Paint::Quiet, format!(" [{src}]"));
    }
    if let Some(m) = &i.more {
        line.push(Paint::Body, " → ").push(Paint::Command, m);
    }
    line
}

fn paging(p: &crate::reply::Paging) -> Line {
    let mut nav = Line::of(Paint::Body, format!("Page {} of {}", p.page, p.pages));
    if p.page < p.pages {
        nav.push(Paint::Body, " — next: ")
            .push(Paint::Command, p.command_for(p.page + 1));
    }
    if p.page > 1 {
        nav.push(Paint::Body, " — previous: ")
            .push(Paint::Command, p.command_for(p.page - 1));
    }
    nav.hang = 2;
    nav
}

/// The lines as text: as they are, or wrapped and painted for a terminal.
fn finish(lines: &[Line], look: Look) -> String {
    let mut out = String::new();
    for line in lines {
        let rows = match look.width {
            Some(width) if !line.verbatim => wrap(line, width),
            _ => vec![line.parts.clone()],
        };
        for row in rows {
            for (paint, s) in &merged(row) {
                match paint.sgr().filter(|_| look.color) {
                    // User text reaches the terminal here: no control sequences of its own.
                    Some(sgr) => {
                        let _ = write!(out, "{sgr}{}\x1b[0m", terminal_safe(s));
                    }
                    None if look.color => out.push_str(&terminal_safe(s)),
                    None => out.push_str(s),
                }
            }
            out.push('\n');
        }
    }
    out.trim_end().to_string() + "\n"
}

/// Neighbouring pieces of one paint as one piece (one escape sequence for a whole title).
fn merged(row: Vec<(Paint, String)>) -> Vec<(Paint, String)> {
    let mut out: Vec<(Paint, String)> = Vec::new();
    for (paint, s) in row {
        match out.last_mut() {
            Some((p, text)) if *p == paint => text.push_str(&s),
            _ => out.push((paint, s)),
        }
    }
    out
}

/// A word and the paints of its pieces ("*cyber*security" is two pieces, one word).
type Word = Vec<(Paint, String)>;

/// Rows of at most `width` columns, broken at spaces only (a word longer than a row stands
/// alone on its own); the first row keeps the line's leading spaces, later rows start
/// `hang` columns in. A line break inside the text starts a new row at the same hang.
fn wrap(line: &Line, width: usize) -> Vec<Vec<(Paint, String)>> {
    let text = line.plain();
    let lead = text.len() - text.trim_start_matches(' ').len();
    let hang = line.hang.min(width / 2);
    let mut rows: Vec<Vec<(Paint, String)>> = Vec::new();
    let mut row: Vec<(Paint, String)> = vec![(Paint::Body, " ".repeat(lead))];
    let mut used = lead;
    let mut fresh = true;
    for piece in words(line, lead) {
        match piece {
            Piece::Break => {
                rows.push(std::mem::take(&mut row));
                row.push((Paint::Body, " ".repeat(hang)));
                (used, fresh) = (hang, true);
            }
            Piece::Word(word) => {
                let w: usize = word.iter().map(|(_, s)| s.width()).sum();
                if !fresh && used + 1 + w > width {
                    rows.push(std::mem::take(&mut row));
                    row.push((Paint::Body, " ".repeat(hang)));
                    (used, fresh) = (hang, true);
                }
                if !fresh {
                    // The space between two words of one paint (a title) takes it too, so
                    // that the row can be painted in one stretch.
                    let before = row.last().map(|(p, _)| *p);
                    let after = word.first().map(|(p, _)| *p);
                    let paint = if before == after { before } else { None };
                    row.push((paint.unwrap_or(Paint::Body), " ".to_string()));
                    used += 1;
                }
                row.extend(word);
                used += w;
                fresh = false;
            }
        }
    }
    rows.push(row);
    rows
}

enum Piece {
    Word(Word),
    Break,
}

/// The words of a line after its `lead` leading spaces, with the line breaks inside it.
fn words(line: &Line, lead: usize) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut word: Word = Vec::new();
    let mut skip = lead;
    let flush = |word: &mut Word, pieces: &mut Vec<Piece>| {
        if !word.is_empty() {
            pieces.push(Piece::Word(std::mem::take(word)));
        }
    };
    for (paint, s) in &line.parts {
        let mut current = String::new();
        for c in s.chars() {
            if skip > 0 && c == ' ' {
                skip -= 1;
                continue;
            }
            skip = 0;
            if c == ' ' || c == '\n' {
                if !current.is_empty() {
                    word.push((*paint, std::mem::take(&mut current)));
                }
                flush(&mut word, &mut pieces);
                if c == '\n' {
                    pieces.push(Piece::Break);
                }
            } else {
                current.push(c);
            }
        }
        if !current.is_empty() {
            word.push((*paint, current));
        }
    }
    flush(&mut word, &mut pieces);
    pieces
}

/// `text` without control characters (other than newline and tab), so that user text shown
/// in a terminal cannot move the cursor, change colours or rewrite what is on screen. Each
/// one becomes U+FFFD, so that something visibly stood there.
pub fn terminal_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                char::REPLACEMENT_CHARACTER
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::Item;

    fn reply() -> Reply {
        let mut r = Reply::answer("World Intellectual Property Organization (WIPO)");
        r.summary = Some(Text::of([
            Span::Plain("The global forum for intellectual property services, policy, information and cooperation; it works on ".into()),
            Span::Strong("cybersecurity".into()),
            Span::Plain(" too.".into()),
        ]));
        r = r
            .field("Founded", "1967", true)
            .field("Seat", "Geneva", true);
        r.section(
            "Issues",
            vec![Item::new("Electronic Forum on intellectual property and the digital economy, with a long explanation of what it covers").more("/actor WIPO page:2")],
        )
    }

    #[test]
    fn wrapped_lines_fit_the_width_and_break_only_at_spaces() {
        let plain = render(&reply());
        for width in [20, 40, 80, 120] {
            let wrapped = render_with(
                &reply(),
                Look {
                    width: Some(width),
                    color: false,
                },
            );
            for row in wrapped.lines() {
                assert!(
                    row.width() <= width || !row.trim().contains(' '),
                    "{width}: {row:?}"
                );
            }
            // The same words in the same order: only line breaks and hanging indents differ.
            let words = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
            assert_eq!(words(&wrapped), words(&plain), "{width}");
        }
        let narrow = render_with(
            &reply(),
            Look {
                width: Some(40),
                color: false,
            },
        );
        assert!(
            narrow.contains("\n    "),
            "bullets hang under their text:\n{narrow}"
        );
    }

    #[test]
    fn colour_marks_the_title_highlights_and_commands_and_nothing_else_changes() {
        let coloured = render_with(
            &reply(),
            Look {
                width: None,
                color: true,
            },
        );
        assert!(
            coloured.starts_with("\x1b[1;36mWorld Intellectual"),
            "{coloured:?}"
        );
        assert!(coloured.contains("\x1b[1;33m*cybersecurity*\x1b[0m"));
        assert!(coloured.contains("\x1b[32m/actor WIPO page:2\x1b[0m"));
        let stripped = regex::Regex::new("\x1b\\[[0-9;]*m")
            .unwrap()
            .replace_all(&coloured, "");
        assert_eq!(stripped, render(&reply()));
        assert!(!render(&reply()).contains('\x1b'));
    }

    #[test]
    fn user_text_cannot_smuggle_escapes_into_a_coloured_answer() {
        let r = Reply::answer("Title \u{1b}[31mred");
        let coloured = render_with(
            &r,
            Look {
                width: Some(80),
                color: true,
            },
        );
        assert!(!coloured.contains("\u{1b}[31m"), "{coloured:?}");
    }
}
