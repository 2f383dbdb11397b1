//! Plain text for terminals and logs: no colours, no Markdown; matched words in *asterisks*.

use std::fmt::Write as _;

use crate::reply::{Reply, Span, Text, Tone};

fn text(t: &Text) -> String {
    t.0.iter()
        .map(|s| match s {
            Span::Plain(p) => p.clone(),
            Span::Strong(p) => format!("*{p}*"),
            Span::Code(p) => p.clone(),
            Span::Time(m) => m.plain(),
        })
        .collect()
}

pub fn render(r: &Reply) -> String {
    let mut out = String::new();
    if let Some(t) = &r.title {
        let _ = writeln!(out, "{t}");
    }
    if let Some(s) = &r.subtitle {
        let _ = writeln!(out, "{s}");
    }
    if let Some(u) = &r.url {
        if r.fields.iter().all(|f| text(&f.value) != *u) {
            let _ = writeln!(out, "{u}");
        }
    }
    if let Some(s) = &r.summary {
        if !out.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(out, "{}", text(s));
    }
    if !r.fields.is_empty() {
        out.push('\n');
        let mut line = Vec::new();
        for f in &r.fields {
            let entry = format!("{}: {}", f.name, text(&f.value));
            if f.inline {
                line.push(entry);
            } else {
                if !line.is_empty() {
                    let _ = writeln!(out, "{}", line.join(" · "));
                    line.clear();
                }
                let _ = writeln!(out, "{entry}");
            }
        }
        if !line.is_empty() {
            let _ = writeln!(out, "{}", line.join(" · "));
        }
    }
    for s in &r.sections {
        let _ = writeln!(out, "\n{}", s.heading);
        for i in &s.items {
            let mut line = String::from("  • ");
            if let Some(l) = &i.label {
                line.push_str(l);
                if !i.text.is_empty() {
                    line.push_str(" — ");
                }
            }
            line.push_str(&text(&i.text));
            if let Some(src) = &i.source {
                let _ = write!(line, " [{src}]");
            }
            if let Some(m) = &i.more {
                let _ = write!(line, " → {m}");
            }
            let _ = writeln!(out, "{line}");
        }
    }
    for l in &r.links {
        let _ = writeln!(out, "{}: {}", l.label, l.url);
    }
    if !r.suggestions.is_empty() {
        let lead = match r.tone {
            Tone::NotFound => "Did you mean",
            Tone::Answer => "Also",
            _ => "Try",
        };
        let _ = writeln!(out, "\n{lead}: {}", r.suggestions.join(" · "));
    }
    if let Some(p) = &r.paging {
        let mut nav = format!("\nPage {} of {}", p.page, p.pages);
        if p.page < p.pages {
            let _ = write!(nav, " — next: {}", p.command_for(p.page + 1));
        }
        if p.page > 1 {
            let _ = write!(nav, " — previous: {}", p.command_for(p.page - 1));
        }
        let _ = writeln!(out, "{nav}");
    }
    if let Some(s) = &r.sources {
        let _ = writeln!(out, "\n{s}");
    }
    if let Some(a) = &r.attachment {
        let _ = write!(
            out,
            "\n--- {} ({}) ---\n{}",
            a.filename,
            a.media_type,
            a.content.trim_end()
        );
        out.push('\n');
    }
    out.trim_end().to_string() + "\n"
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
