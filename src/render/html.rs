//! Matrix's `formatted_body`: the subset of HTML the Matrix spec recommends clients accept
//! (p, br, strong, em, code, a, ul, li, h4, h5, sub). Every piece of text is escaped; links
//! are only http(s); `@room` and friends are defanged. Blocks are whole elements, so that a
//! reply too long for one event is cut between blocks, never inside a tag.

use std::fmt::Write as _;

use crate::reply::{defang_mentions, Field, Paging, Reply, Section, Span, Text, Tone};

/// Characters of HTML a reply may take. An event is at most 65 536 bytes of JSON, which also
/// carries the plain body; this leaves room for both and for JSON escaping.
pub const MAX_HTML: usize = 24_000;

/// Escapes text for HTML element content and attribute values, and defangs mentions.
pub fn escape(s: &str) -> String {
    let s = defang_mentions(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn text(t: &Text) -> String {
    t.0.iter()
        .map(|s| match s {
            Span::Plain(p) => escape(p),
            Span::Strong(p) => format!("<strong>{}</strong>", escape(p)),
            Span::Code(p) => format!("<code>{}</code>", escape(p)),
            Span::Person(p) => escape(p),
            Span::Time(m) => escape(&m.plain()),
        })
        .collect()
}

/// A link, or just the label if the address is not http(s) (no `javascript:` or `mxc:`
/// surprises from source text).
fn link(label: &str, url: &str) -> String {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        format!("<a href=\"{}\">{}</a>", escape(url), escape(label))
    } else {
        escape(label)
    }
}

/// The reply's blocks, in order; each is one complete element.
fn blocks(r: &Reply) -> Vec<String> {
    let mut out = Vec::new();
    out.extend(head(r));
    if let Some(s) = &r.summary {
        out.push(format!("<p>{}</p>", text(s)));
    }
    if !r.fields.is_empty() {
        out.push(fields(&r.fields));
    }
    for s in &r.sections {
        out.push(format!("<h5>{}</h5>", escape(&s.heading)));
        out.push(section_list(s));
    }
    if !r.links.is_empty() {
        let links: Vec<String> = r.links.iter().map(|l| link(&l.label, &l.url)).collect();
        out.push(format!("<p>{}</p>", links.join(" · ")));
    }
    if !r.suggestions.is_empty() {
        out.push(suggestions(r));
    }
    if let Some(p) = &r.paging {
        out.push(navigation(p));
    }
    if let Some(s) = &r.sources {
        out.push(format!("<p><sub>{}</sub></p>", escape(s)));
    }
    if let Some(a) = &r.attachment {
        out.push(format!(
            "<p>Attached: <code>{}</code></p>",
            escape(&a.filename)
        ));
    }
    out
}

/// Title, subtitle and address (unless a field already shows it), one per line.
fn head(r: &Reply) -> Option<String> {
    let mut head = String::new();
    if let Some(t) = &r.title {
        let _ = write!(head, "<strong>{}</strong>", escape(t));
    }
    if let Some(s) = &r.subtitle {
        if !head.is_empty() {
            head.push_str("<br>");
        }
        let _ = write!(head, "<em>{}</em>", escape(s));
    }
    if let Some(u) = &r.url {
        if r.fields.iter().all(|f| f.value.to_plain() != *u) {
            if !head.is_empty() {
                head.push_str("<br>");
            }
            head.push_str(&link(u, u));
        }
    }
    (!head.is_empty()).then(|| format!("<p>{head}</p>"))
}

/// The fields, one per line, except that consecutive inline fields share a line.
fn fields(fields: &[Field]) -> String {
    let mut lines = Vec::new();
    let mut inline = Vec::new();
    for f in fields {
        let value = f.value.to_plain();
        let shown = if value.starts_with("http://") || value.starts_with("https://") {
            link(&value, &value)
        } else {
            text(&f.value)
        };
        let entry = format!("<strong>{}</strong>: {shown}", escape(&f.name));
        if f.inline {
            inline.push(entry);
        } else {
            if !inline.is_empty() {
                lines.push(inline.join(" · "));
                inline.clear();
            }
            lines.push(entry);
        }
    }
    if !inline.is_empty() {
        lines.push(inline.join(" · "));
    }
    format!("<p>{}</p>", lines.join("<br>"))
}

/// A section's items as a list.
fn section_list(s: &Section) -> String {
    let mut list = String::from("<ul>");
    for i in &s.items {
        list.push_str("<li>");
        if let Some(l) = &i.label {
            let _ = write!(list, "<strong>{}</strong>", escape(l));
            if !i.text.is_empty() {
                list.push_str(" — ");
            }
        }
        list.push_str(&text(&i.text));
        if let Some(src) = &i.source {
            let _ = write!(list, " <sub>[{}]</sub>", escape(src));
        }
        if let Some(m) = &i.more {
            let _ = write!(list, " → <code>{}</code>", escape(m));
        }
        list.push_str("</li>");
    }
    list.push_str("</ul>");
    list
}

/// The suggestions as code, led by what they are to the reader.
fn suggestions(r: &Reply) -> String {
    let lead = match r.tone {
        Tone::NotFound => "Did you mean",
        Tone::Answer => "Also",
        _ => "Try",
    };
    let items: Vec<String> = r
        .suggestions
        .iter()
        .map(|s| format!("<code>{}</code>", escape(s)))
        .collect();
    format!("<p>{lead}: {}</p>", items.join(" · "))
}

/// "Page n of m" with the commands for the next and previous pages.
fn navigation(p: &Paging) -> String {
    let mut nav = format!("Page {} of {}", p.page, p.pages);
    if p.page < p.pages {
        let _ = write!(
            nav,
            " — next: <code>{}</code>",
            escape(&p.command_for(p.page + 1))
        );
    }
    if p.page > 1 {
        let _ = write!(
            nav,
            " — previous: <code>{}</code>",
            escape(&p.command_for(p.page - 1))
        );
    }
    format!("<p><em>{nav}</em></p>")
}

/// The whole reply as HTML, at most `MAX_HTML` bytes: whole blocks, then a marker if some
/// had to be left out.
pub fn render(r: &Reply) -> String {
    let mut out = String::new();
    const MORE: &str =
        "<p><em>… (shortened: the full answer is longer than a Matrix message may be)</em></p>";
    for b in blocks(r) {
        if out.len() + b.len() + MORE.len() > MAX_HTML {
            out.push_str(MORE);
            break;
        }
        out.push_str(&b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::{Item, Section};

    #[test]
    fn escapes_every_piece_of_text() {
        let mut r = Reply::answer("<b>Title</b> & \"more\"");
        r.summary = Some(Text(vec![
            Span::Plain("a < b".into()),
            Span::Strong("x>y".into()),
        ]));
        r = r.field("It's", "<script>alert(1)</script>", false);
        let html = render(&r);
        assert!(html.contains("&lt;b&gt;Title&lt;/b&gt; &amp; &quot;more&quot;"));
        assert!(html.contains("a &lt; b<strong>x&gt;y</strong>"));
        assert!(html.contains("<strong>It&#39;s</strong>: &lt;script&gt;"));
        assert!(!html.contains("<script>"));
    }

    #[test]
    fn only_web_links_become_links() {
        let mut r = Reply::answer("Links");
        r.links.push(crate::reply::Link {
            label: "safe".into(),
            url: "https://www.wipo.int/".into(),
        });
        r.links.push(crate::reply::Link {
            label: "evil".into(),
            url: "javascript:alert(1)".into(),
        });
        let html = render(&r);
        assert!(html.contains("<a href=\"https://www.wipo.int/\">safe</a>"));
        assert!(!html.contains("javascript:"));
        assert!(html.contains("evil"));
    }

    #[test]
    fn room_mentions_are_defanged() {
        let r = Reply::answer("Party for @room and @everyone");
        let html = render(&r);
        assert!(!html.contains("@room"));
        assert!(!html.contains("@everyone"));
    }

    #[test]
    fn a_long_reply_is_cut_between_whole_blocks() {
        let mut r = Reply::answer("Many");
        for n in 0..40 {
            r.sections.push(Section {
                heading: format!("Section {n}"),
                items: (0..20)
                    .map(|i| Item {
                        label: Some(format!("Item {i}")),
                        text: Text::plain("x".repeat(80)),
                        more: None,
                        source: None,
                    })
                    .collect(),
            });
        }
        let html = render(&r);
        assert!(html.len() <= MAX_HTML, "{}", html.len());
        assert!(html.ends_with("</em></p>"), "ends with the marker");
        assert_eq!(html.matches("<ul>").count(), html.matches("</ul>").count());
    }
}
