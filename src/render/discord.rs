//! Discord messages: a `Reply` as embeds (and paging buttons), inside every Discord limit.
//!
//! Text from the atlas and from users is Markdown-escaped; what we add (bold highlights, code,
//! links) is kept as whole "atoms", so that cutting text to a limit never splits a link or an
//! escape. Lengths are counted in UTF-16 code units, as Discord's JavaScript counts them (never
//! fewer than characters). Mentions are defanged here too, and `allowed_mentions` is empty on
//! every message: a line of source text can never ping anyone.

use serde_json::{json, Value};

use crate::reply::{defang_mentions, Action, Moment, Paging, Reply, Section, Span, Text, Tone};

/// Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
pub mod limits {
    pub const TITLE: usize = 256;
    pub const DESCRIPTION: usize = 4096;
    pub const FIELD_NAME: usize = 256;
    pub const FIELD_VALUE: usize = 1024;
    pub const FIELDS: usize = 25;
    pub const FOOTER: usize = 2048;
    pub const AUTHOR: usize = 256;
    pub const EMBEDS: usize = 10;
    pub const TOTAL: usize = 6000;
    pub const CONTENT: usize = 2000;
    pub const CUSTOM_ID: usize = 100;
    pub const BUTTON_LABEL: usize = 80;
    pub const CHOICES: usize = 25;
    pub const CHOICE: usize = 100;
}

/// Length as Discord counts it.
pub fn len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Markdown made of atoms that a cut never splits. It stops growing past the longest limit
/// (nothing beyond it could be shown), so huge texts cost no more than short ones.
#[derive(Debug, Clone, Default)]
struct Md(Vec<String>, usize);

/// More than any limit: an `Md` this long is cut by every `fit`.
const FULL: usize = limits::DESCRIPTION + 1;

/// Characters with a Markdown meaning anywhere in a line.
const SPECIAL: &[char] = &[
    '\\', '*', '_', '~', '`', '|', '[', ']', '<', '>', '#', '-', ':',
];

impl Md {
    /// Plain text, escaped character by character (after defanging mentions).
    fn text(s: &str) -> Md {
        let mut m = Md::default();
        m.push_text(s);
        m
    }

    fn push_text(&mut self, s: &str) {
        if self.1 > FULL {
            return;
        }
        let s: String = s.chars().take(FULL).collect();
        for c in defang_mentions(&s).chars() {
            if self.1 > FULL {
                return;
            }
            if SPECIAL.contains(&c) {
                self.atom(format!("\\{c}"));
            } else {
                self.atom(c.to_string());
            }
        }
    }

    /// A piece of our own Markdown, kept whole.
    fn atom(&mut self, s: impl Into<String>) {
        if self.1 <= FULL {
            let s = s.into();
            self.1 += len(&s);
            self.0.push(s);
        }
    }

    fn append(&mut self, other: Md) {
        for a in other.0 {
            self.atom(a);
        }
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// At most `max` (Discord-counted) long; a cut ends with "…" and never splits an atom.
    fn fit(&self, max: usize) -> String {
        let total: usize = self.0.iter().map(|a| len(a)).sum();
        if total <= max {
            return self.0.concat();
        }
        let mut out = String::new();
        let mut used = 0;
        for a in &self.0 {
            let l = len(a);
            if used + l + 1 > max {
                break;
            }
            used += l;
            out.push_str(a);
        }
        out.push('…');
        out
    }
}

fn spans(t: &Text) -> Md {
    let mut m = Md::default();
    for s in &t.0 {
        match s {
            Span::Plain(p) => m.push_text(p),
            Span::Strong(p) => m.atom(format!("**{}**", Md::text(p).fit(200))),
            Span::Code(p) => m.atom(code(p)),
            // Discord's ids are numbers: a mention shows the name (and pings nobody: the
            // bot's messages allow no mentions). Anything else is text.
            Span::Person(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                m.atom(format!("<@{p}>"))
            }
            Span::Person(p) => m.push_text(p),
            Span::Time(t) => m.append(moment(t)),
        }
    }
    m
}

/// An instant as the space reads it, then as each reader does: Discord's timestamp markup
/// shows the time in the viewer's own zone (`F`) and how far off it is, kept current (`R`) —
/// which replaces the relative text fixed when the answer was made.
fn moment(t: &Moment) -> Md {
    // Our own text (a formatted date, a zone name): nothing in it to escape.
    let mut m = Md::default();
    m.atom(t.local.clone());
    if let Some(z) = &t.zone {
        m.atom(format!(" {z}"));
    }
    m.atom(format!(" · <t:{at}:F> (<t:{at}:R>)", at = t.at));
    m
}

/// Inline code: backticks cannot be escaped inside it, so they are replaced.
fn code(s: &str) -> String {
    let clean: String = defang_mentions(s)
        .chars()
        .map(|c| if c == '`' { 'ʹ' } else { c })
        .take(200)
        .collect();
    format!("`{clean}`")
}

fn is_web(url: &str) -> bool {
    let l = url.to_ascii_lowercase();
    (l.starts_with("https://") || l.starts_with("http://"))
        && !url.contains(|c: char| c.is_whitespace() || c == ')' || c == '(')
}

/// A masked link, or the escaped label when the address is not a plain web address.
fn link(label: &str, url: &str) -> String {
    if is_web(url) {
        format!("[{}]({url})", Md::text(label).fit(200))
    } else {
        Md::text(label).fit(200)
    }
}

/// Plain text cut to a limit (titles, names, footers: no Markdown is rendered there, so only
/// mentions are defanged).
fn plain(s: &str, max: usize) -> String {
    let s = defang_mentions(s);
    if len(&s) <= max {
        return s;
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        if used + c.len_utf16() + 1 > max {
            break;
        }
        used += c.len_utf16();
        out.push(c);
    }
    out.push('…');
    out
}

fn colour(tone: Tone) -> u32 {
    match tone {
        Tone::Answer => 0x002B_6CB0,
        Tone::NotFound => 0x00D6_9E2E,
        Tone::Usage => 0x0071_8096,
        Tone::Refusal => 0x00C5_3030,
        Tone::Failure => 0x009B_2C2C,
    }
}

/// How many characters of an embed count towards the 6000 total.
fn embed_size(e: &Value) -> usize {
    let s = |v: &Value| v.as_str().map_or(0, len);
    let mut n =
        s(&e["title"]) + s(&e["description"]) + s(&e["footer"]["text"]) + s(&e["author"]["name"]);
    if let Some(fields) = e["fields"].as_array() {
        n += fields
            .iter()
            .map(|f| s(&f["name"]) + s(&f["value"]))
            .sum::<usize>();
    }
    n
}

fn field(name: &str, value: &Md, inline: bool) -> Value {
    json!({
        "name": plain(name, limits::FIELD_NAME),
        "value": value.fit(limits::FIELD_VALUE),
        "inline": inline,
    })
}

/// The custom_id of a paging button: the command for that page, so that a click works after
/// a restart with no state kept anywhere else. None if it does not fit in 100 characters.
pub fn page_button_id(command: &str) -> Option<String> {
    let id = format!("page:{command}");
    (len(&id) <= limits::CUSTOM_ID).then_some(id)
}

/// The custom_id of an action's button: what it does, in full, so that it works after a
/// restart with nothing kept elsewhere. None if it does not fit in 100 characters.
pub fn action_button_id(a: &Action) -> Option<String> {
    let id = match a {
        Action::Run { line, .. } => format!("run:{line}"),
        Action::Snooze { key, minutes, .. } => format!("snooze:{minutes}:{key}"),
        Action::StopReminding { event, .. } => format!("stop:{event}"),
    };
    (len(&id) <= limits::CUSTOM_ID).then_some(id)
}

/// What a button's custom_id asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Button<'a> {
    /// Another page: the command for it, answered in place of the message.
    Page(&'a str),
    /// A command line run as the clicker, answered to them alone.
    Run(&'a str),
    Snooze {
        minutes: i64,
        key: &'a str,
    },
    StopReminding(i64),
}

pub fn button_of(custom_id: &str) -> Option<Button<'_>> {
    let (kind, rest) = custom_id.split_once(':')?;
    match kind {
        "page" => Some(Button::Page(rest)),
        "run" => Some(Button::Run(rest)),
        "snooze" => {
            let (minutes, key) = rest.split_once(':')?;
            Some(Button::Snooze {
                minutes: minutes.parse().ok()?,
                key,
            })
        }
        "stop" => Some(Button::StopReminding(rest.parse().ok()?)),
        _ => None,
    }
}

fn action_button(a: &Action) -> Option<Value> {
    let label = match a {
        Action::Run { label, .. }
        | Action::Snooze { label, .. }
        | Action::StopReminding { label, .. } => label,
    };
    let style = match a {
        Action::Run { .. } => 1,
        _ => 2,
    };
    Some(json!({
        "type": 2,
        "style": style,
        "label": plain(label, limits::BUTTON_LABEL),
        "custom_id": action_button_id(a)?,
    }))
}

/// The message for a reply: embeds, paging buttons, no mentions. The caller adds flags
/// (ephemeral) and attachments.
pub fn message(r: &Reply) -> Value {
    let mut embeds = vec![first_embed(r)];
    embeds.extend(r.sections.iter().map(|s| section_embed(s, r.tone)));
    let embeds = within_total(embeds);
    let mut msg = json!({
        "embeds": embeds,
        "allowed_mentions": {"parse": []},
    });
    if let Some(p) = &r.paging {
        let buttons = paging_buttons(p);
        msg["components"] = if buttons.is_empty() {
            json!([])
        } else {
            json!([{"type": 1, "components": buttons}])
        };
    }
    add_action_row(&mut msg, &r.actions);
    msg
}

/// The first embed: title, link, subtitle and summary, fields and footer.
fn first_embed(r: &Reply) -> Value {
    let mut first = serde_json::Map::new();
    first.insert("color".into(), json!(colour(r.tone)));
    if let Some(t) = &r.title {
        first.insert("title".into(), json!(plain(t, limits::TITLE)));
    }
    if let Some(u) = r.url.as_deref().filter(|u| is_web(u)) {
        first.insert("url".into(), json!(u));
    }
    let description = description(r);
    if !description.is_empty() {
        first.insert(
            "description".into(),
            json!(description.fit(limits::DESCRIPTION)),
        );
    }
    let fields = fields(r);
    if !fields.is_empty() {
        first.insert("fields".into(), json!(fields));
    }
    if let Some(footer) = footer(r) {
        first.insert(
            "footer".into(),
            json!({"text": plain(&footer, limits::FOOTER)}),
        );
    }
    Value::Object(first)
}

/// The subtitle in italics, then the summary.
fn description(r: &Reply) -> Md {
    let mut description = Md::default();
    if let Some(s) = &r.subtitle {
        description.atom(format!("*{}*", Md::text(s).fit(300)));
        description.atom("\n");
    }
    if let Some(s) = &r.summary {
        description.append(spans(s));
    }
    description
}

/// The reply's fields, then its links and suggestions as fields of their own, at most 25.
fn fields(r: &Reply) -> Vec<Value> {
    let mut fields: Vec<Value> = r
        .fields
        .iter()
        .map(|f| {
            let v = f.value.to_plain();
            let md = if is_web(&v) {
                let mut m = Md::default();
                m.atom(v.clone());
                m
            } else {
                spans(&f.value)
            };
            field(&f.name, &md, f.inline)
        })
        .collect();
    if !r.links.is_empty() {
        let m = joined(r.links.iter().map(|l| link(&l.label, &l.url)));
        fields.push(field("Links", &m, false));
    }
    if !r.suggestions.is_empty() {
        let name = match r.tone {
            Tone::NotFound => "Did you mean",
            Tone::Answer => "Also",
            _ => "Try",
        };
        let m = joined(r.suggestions.iter().map(|s| code(s)));
        fields.push(field(name, &m, false));
    }
    fields.truncate(limits::FIELDS);
    fields
}

/// Atoms separated by " · ".
fn joined(atoms: impl Iterator<Item = String>) -> Md {
    let mut m = Md::default();
    for (i, a) in atoms.enumerate() {
        if i > 0 {
            m.atom(" · ");
        }
        m.atom(a);
    }
    m
}

/// "Page n of m" and the sources, if there is either.
fn footer(r: &Reply) -> Option<String> {
    let mut footer = Vec::new();
    if let Some(p) = &r.paging {
        footer.push(format!("Page {} of {}", p.page, p.pages));
    }
    if let Some(s) = &r.sources {
        footer.push(s.clone());
    }
    (!footer.is_empty()).then(|| footer.join(" · "))
}

// Each section is an embed of its own: a heading and its items, one per line.
fn section_embed(s: &Section, tone: Tone) -> Value {
    let mut m = Md::default();
    for (i, item) in s.items.iter().enumerate() {
        if i > 0 {
            m.atom("\n");
        }
        m.atom("• ");
        if let Some(l) = &item.label {
            m.atom(format!("**{}**", Md::text(l).fit(200)));
            if !item.text.is_empty() {
                m.atom(" — ");
            }
        }
        m.append(spans(&item.text));
        if let Some(src) = &item.source {
            m.atom(format!(" `{}`", src.replace('`', "")));
        }
        if let Some(more) = &item.more {
            m.atom(" → ");
            m.atom(code(more));
        }
    }
    json!({
        "color": colour(tone),
        "title": plain(&s.heading, limits::TITLE),
        "description": m.fit(limits::DESCRIPTION),
    })
}

/// "◀ Previous" and "Next ▶", where there is such a page and its command fits a custom id.
fn paging_buttons(p: &Paging) -> Vec<Value> {
    let mut buttons = Vec::new();
    if p.page > 1 {
        if let Some(id) = page_button_id(&p.command_for(p.page - 1)) {
            buttons.push(json!({"type": 2, "style": 2, "label": "◀ Previous", "custom_id": id}));
        }
    }
    if p.page < p.pages {
        if let Some(id) = page_button_id(&p.command_for(p.page + 1)) {
            buttons.push(json!({"type": 2, "style": 1, "label": "Next ▶", "custom_id": id}));
        }
    }
    buttons
}

/// Up to five action buttons, in a row after the paging row (if any).
fn add_action_row(msg: &mut Value, actions: &[Action]) {
    let actions: Vec<Value> = actions.iter().filter_map(action_button).take(5).collect();
    if !actions.is_empty() {
        let row = json!({"type": 1, "components": actions});
        match msg["components"].as_array_mut() {
            Some(rows) => rows.push(row),
            None => msg["components"] = json!([row]),
        }
    }
}

/// At most 10 embeds and 6000 characters in all: the embed that crosses the line loses its
/// last fields, then the end of its description (whole lines), and later ones are dropped.
fn within_total(embeds: Vec<Value>) -> Vec<Value> {
    let mut used = 0;
    let mut kept = Vec::new();
    for mut e in embeds.into_iter().take(limits::EMBEDS) {
        let room = limits::TOTAL - used;
        if embed_size(&e) > room {
            shrink(&mut e, room);
            if embed_size(&e) <= room && !kept.is_empty() && room < 40 {
                break;
            }
            if embed_size(&e) <= room {
                kept.push(e);
            }
            break;
        }
        used += embed_size(&e);
        kept.push(e);
    }
    kept
}

/// Makes an embed fit in `room`: drops fields from the end, then cuts the description.
fn shrink(e: &mut Value, room: usize) {
    while embed_size(e) > room {
        let Some(fields) = e["fields"].as_array_mut() else {
            break;
        };
        if fields.pop().is_none() {
            break;
        }
    }
    if e["fields"].as_array().is_some_and(|f| f.is_empty()) {
        if let Some(o) = e.as_object_mut() {
            o.remove("fields");
        }
    }
    let size = embed_size(e);
    if size > room {
        let description = e["description"].as_str().unwrap_or("").to_string();
        let without = size - len(&description);
        let left = room.saturating_sub(without);
        if left >= 3 {
            e["description"] = json!(cut_lines(&description, left));
        } else if let Some(o) = e.as_object_mut() {
            o.remove("description");
        }
    }
}

/// Whole lines of `s` within `max`, then "…" (lines are whole items: no link is split).
fn cut_lines(s: &str, max: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for line in s.lines() {
        let extra = usize::from(!out.is_empty());
        let l = len(line);
        if used + extra + l + 2 > max {
            break;
        }
        if extra == 1 {
            out.push('\n');
        }
        out.push_str(line);
        used += extra + l;
    }
    if out.is_empty() {
        // A single line longer than the room: cut at a character, never after a lone escape.
        for c in s.chars() {
            if used + c.len_utf16() + 2 > max {
                break;
            }
            used += c.len_utf16();
            out.push(c);
        }
        while out.ends_with('\\') {
            out.pop();
        }
    }
    out.push_str("\n…");
    out
}

/// Every Discord limit a message must respect; the first one broken, if any. Used by the
/// tests of every reply, and cheap enough to assert in debug builds.
pub fn check_limits(msg: &Value) -> Result<(), String> {
    let s = |v: &Value| v.as_str().map_or(0, len);
    if s(&msg["content"]) > limits::CONTENT {
        return Err("content over 2000".into());
    }
    let empty = vec![];
    let embeds = msg["embeds"].as_array().unwrap_or(&empty);
    if embeds.len() > limits::EMBEDS {
        return Err(format!("{} embeds", embeds.len()));
    }
    let mut total = 0;
    for e in embeds {
        if s(&e["title"]) > limits::TITLE {
            return Err("title over 256".into());
        }
        if s(&e["description"]) > limits::DESCRIPTION {
            return Err("description over 4096".into());
        }
        if s(&e["footer"]["text"]) > limits::FOOTER {
            return Err("footer over 2048".into());
        }
        if s(&e["author"]["name"]) > limits::AUTHOR {
            return Err("author over 256".into());
        }
        let fields = e["fields"].as_array().unwrap_or(&empty);
        if fields.len() > limits::FIELDS {
            return Err(format!("{} fields", fields.len()));
        }
        for f in fields {
            if s(&f["name"]) == 0 || s(&f["name"]) > limits::FIELD_NAME {
                return Err("field name empty or over 256".into());
            }
            if s(&f["value"]) == 0 || s(&f["value"]) > limits::FIELD_VALUE {
                return Err("field value empty or over 1024".into());
            }
        }
        total += embed_size(e);
    }
    if total > limits::TOTAL {
        return Err(format!("{total} characters across embeds"));
    }
    for row in msg["components"].as_array().unwrap_or(&empty) {
        for b in row["components"].as_array().unwrap_or(&empty) {
            if s(&b["custom_id"]) > limits::CUSTOM_ID || s(&b["label"]) > limits::BUTTON_LABEL {
                return Err("button over its limits".into());
            }
        }
    }
    if msg["allowed_mentions"] != json!({"parse": []}) {
        return Err("allowed_mentions is not empty".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::{Item, Link, Paging, Section};

    /// Every time shown on Discord carries the timestamp markup that each reader sees in
    /// their own zone, beside the space's reading of it; the relative text fixed when the
    /// answer was made gives way to Discord's live one.
    #[test]
    fn times_carry_discords_timestamp_markup_beside_the_spaces_zone() {
        let at = Moment {
            at: 1_796_119_200,
            local: "Tue 1 Dec 2026 10:00".into(),
            zone: Some("Europe/Zurich".into()),
            relative: Some("in 3 days".into()),
        };
        let mut r = Reply::answer("Standup");
        r = r.field("Next", Text(vec![Span::Time(at.clone())]), false);
        r.summary = Some(Text(vec![
            Span::Plain("Starts ".into()),
            Span::Time(Moment { zone: None, ..at }),
        ]));
        let m = message(&r);
        let field = m["embeds"][0]["fields"][0]["value"].as_str().unwrap();
        assert_eq!(
            field,
            "Tue 1 Dec 2026 10:00 Europe/Zurich · <t:1796119200:F> (<t:1796119200:R>)"
        );
        let description = m["embeds"][0]["description"].as_str().unwrap();
        assert!(
            description.ends_with("Tue 1 Dec 2026 10:00 · <t:1796119200:F> (<t:1796119200:R>)"),
            "{description}"
        );
        // Elsewhere the space's reading, with the relative text.
        assert_eq!(
            crate::render::plain::render(&r).lines().nth(2),
            Some("Starts Tue 1 Dec 2026 10:00 (in 3 days)")
        );
    }

    fn huge() -> Reply {
        let long = "Cyber*security* [x](javascript:1) @everyone ".repeat(120);
        let mut r = Reply::answer(long.clone());
        r.subtitle = Some(long.clone());
        r.url = Some("https://example.org/a".into());
        r.summary = Some(Text(vec![
            Span::Plain(long.clone()),
            Span::Strong("matched".into()),
        ]));
        for i in 0..40 {
            r = r.field(&format!("{long}{i}"), long.clone(), i % 2 == 0);
        }
        r.links = (0..30)
            .map(|i| Link {
                label: format!("link {i} {long}"),
                url: format!("https://example.org/{i}"),
            })
            .collect();
        r.suggestions = (0..30).map(|i| format!("/actor {i} {long}")).collect();
        r.sources = Some(long.clone());
        r.paging = Some(Paging {
            page: 2,
            pages: 3,
            command: "/who-works-on cybercrime page:{page}".into(),
        });
        r.sections = (0..15)
            .map(|n| Section {
                heading: format!("Section {n} {long}"),
                items: (0..12)
                    .map(|i| Item {
                        label: Some(format!("Item {i}")),
                        text: Text::plain(long.clone()),
                        more: Some(format!("/actor {i}")),
                        source: Some("000:1".into()),
                    })
                    .collect(),
            })
            .collect();
        r
    }

    #[test]
    fn a_reply_over_every_limit_is_cut_to_fit_all_of_them() {
        let msg = message(&huge());
        check_limits(&msg).unwrap();
        assert!(!msg["embeds"].as_array().unwrap().is_empty());
    }

    #[test]
    fn cuts_never_split_an_escape_or_a_link() {
        let mut m = Md::text("a*b");
        m.atom("[label](https://example.org/x)");
        for max in 1..12 {
            let out = m.fit(max);
            assert!(len(&out) <= max, "{out}");
            assert!(!out.trim_end_matches('…').ends_with('\\'), "{out}");
            assert!(
                !out.contains("[label") || out.contains("(https://example.org/x)"),
                "{out}"
            );
        }
    }

    #[test]
    fn source_text_is_escaped_and_cannot_ping() {
        let mut r = Reply::answer("Title");
        r.summary = Some(Text::plain(
            "**bold** [click](https://evil.example) @everyone <@123>",
        ));
        let msg = message(&r);
        let d = msg["embeds"][0]["description"].as_str().unwrap();
        assert!(d.contains("\\*\\*bold\\*\\*"), "{d}");
        assert!(d.contains("\\[click\\]"), "{d}");
        assert!(!d.contains("@everyone"), "{d}");
        assert!(!d.contains("<@123>"), "{d}");
        assert_eq!(msg["allowed_mentions"], json!({"parse": []}));
    }

    #[test]
    fn paging_buttons_carry_the_command_for_their_page() {
        let mut r = Reply::answer("Who works on cybercrime");
        r.paging = Some(Paging {
            page: 2,
            pages: 3,
            command: "/who-works-on cybercrime page:{page}".into(),
        });
        let msg = message(&r);
        let buttons = &msg["components"][0]["components"];
        assert_eq!(
            buttons[0]["custom_id"],
            "page:/who-works-on cybercrime page:1"
        );
        assert_eq!(
            buttons[1]["custom_id"],
            "page:/who-works-on cybercrime page:3"
        );
        assert_eq!(
            button_of("page:/who-works-on cybercrime page:3"),
            Some(Button::Page("/who-works-on cybercrime page:3"))
        );
        // Too long for a custom_id: no button (the footer still says which page this is).
        assert_eq!(page_button_id(&"x".repeat(100)), None);
    }

    /// Buttons carry what they do in their custom_id (working after a restart), and read back
    /// as the same action; a forged or mangled id is no action at all.
    #[test]
    fn action_buttons_say_in_full_what_they_do() {
        let actions = vec![
            Action::Run {
                label: "Remind me".into(),
                line: "/remind me 12".into(),
            },
            Action::Snooze {
                label: "Snooze 15 min".into(),
                key: "ev12-20261123T1500Z-60m-user:123456789012345678".into(),
                minutes: 15,
            },
            Action::StopReminding {
                label: "Stop reminding me".into(),
                event: 12,
            },
        ];
        let mut r = Reply::answer("Standup");
        r.actions = actions;
        let msg = message(&r);
        let row = &msg["components"][0]["components"];
        let ids: Vec<&str> = (0..3)
            .map(|i| row[i]["custom_id"].as_str().unwrap())
            .collect();
        assert_eq!(button_of(ids[0]), Some(Button::Run("/remind me 12")));
        assert_eq!(
            button_of(ids[1]),
            Some(Button::Snooze {
                minutes: 15,
                key: "ev12-20261123T1500Z-60m-user:123456789012345678"
            })
        );
        assert_eq!(button_of(ids[2]), Some(Button::StopReminding(12)));
        assert_eq!(row[0]["label"], "Remind me");
        for forged in ["stop:twelve", "snooze:x:k", "launch:1", "nocolon"] {
            assert_eq!(button_of(forged), None, "{forged}");
        }
        check_limits(&msg).unwrap();
    }

    #[test]
    fn lengths_are_counted_as_discord_counts_them() {
        assert_eq!(len("é"), 1);
        assert_eq!(len("😀"), 2);
        let t = plain(&"😀".repeat(200), limits::TITLE);
        assert!(len(&t) <= limits::TITLE);
    }
}
