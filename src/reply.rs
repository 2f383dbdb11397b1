//! WHAT to say, independent of any platform: a title, text with highlights, fields, lists,
//! links, where the facts come from, who should see it, and how to page. No Markdown, no HTML:
//! renderers (`render`) decide how each piece looks on Discord, Matrix or a terminal.

use serde::Serialize;

/// User-written text (event titles, descriptions) made unable to ping: a zero-width space
/// after the `@` of `@everyone`, `@here`, `@room` and inside `<@…>` / `<@&…>` mentions.
/// Renderers also send with mentions disabled; this keeps a copied or logged text harmless.
pub fn defang_mentions(s: &str) -> String {
    const WORDS: [&str; 4] = ["everyone", "here", "room", "channel"];
    let mut out = String::with_capacity(s.len() + 8);
    let mut prev = '\0';
    // One pass with ASCII-only comparisons: linear, and no index lands inside a character.
    for (i, c) in s.char_indices() {
        out.push(c);
        if c == '@' {
            let after = &s.as_bytes()[i + 1..];
            let word = WORDS.iter().any(|w| {
                after.len() >= w.len() && after[..w.len()].eq_ignore_ascii_case(w.as_bytes())
            });
            if prev == '<' || word {
                out.push('\u{200B}');
            }
        }
        prev = c;
    }
    out
}

/// A run of text; `Strong` marks the words that matched the question.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "text", rename_all = "snake_case")]
pub enum Span {
    Plain(String),
    Strong(String),
    /// An identifier or command, shown as code where the platform can.
    Code(String),
    /// An instant as the space reads it; platforms that can show each reader their own zone
    /// add that (Discord's timestamp markup).
    Time(Moment),
    /// A member, by their platform id: Discord names them (a mention, which the bot's
    /// messages never let ping); elsewhere the id is shown as it is.
    Person(String),
}

/// An instant: `local` is its wall-clock time in the space's zone ("Thu 3 Dec 2026 14:00"),
/// `zone` that zone's name when the text around it does not already say it, `relative` how
/// far it is from when the answer was made ("in 3 days").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Moment {
    /// Seconds since 1970 (UTC).
    pub at: i64,
    pub local: String,
    pub zone: Option<String>,
    pub relative: Option<String>,
}

impl Moment {
    /// As plain text: "Thu 3 Dec 2026 14:00 Europe/Zurich (in 3 days)".
    pub fn plain(&self) -> String {
        let mut s = self.local.clone();
        if let Some(z) = &self.zone {
            s.push(' ');
            s.push_str(z);
        }
        if let Some(r) = &self.relative {
            s.push_str(&format!(" ({r})"));
        }
        s
    }
}

/// Text made of spans.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Text(pub Vec<Span>);

impl Text {
    pub fn plain(s: impl Into<String>) -> Text {
        Text(vec![Span::Plain(s.into())])
    }

    pub fn push(&mut self, span: Span) -> &mut Self {
        self.0.push(span);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|s| match s {
            Span::Plain(t) | Span::Strong(t) | Span::Code(t) | Span::Person(t) => t.is_empty(),
            Span::Time(_) => false,
        })
    }

    /// The text without any marking.
    pub fn to_plain(&self) -> String {
        self.0
            .iter()
            .map(|s| match s {
                Span::Plain(t) | Span::Strong(t) | Span::Code(t) | Span::Person(t) => t.clone(),
                Span::Time(m) => m.plain(),
            })
            .collect()
    }

    /// Text made of these spans, in order.
    pub fn of(spans: impl IntoIterator<Item = Span>) -> Text {
        Text(spans.into_iter().collect())
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_plain())
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text::plain(s)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::plain(s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    pub name: String,
    pub value: Text,
    /// Short enough to sit beside other fields (Discord inline fields).
    pub inline: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    /// The item's name (an actor, an issue, a document), if it has one.
    pub label: Option<String>,
    pub text: Text,
    /// A command that tells more about the item ("/actor WIPO").
    pub more: Option<String>,
    /// Where the text comes from ("000:423").
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    pub heading: String,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    pub label: String,
    pub url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    Everyone,
    /// Only the person who asked (errors, usage help, personal commands).
    Private,
}

/// What kind of answer this is: lets adapters choose colours, exit codes, ephemeral flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    Answer,
    /// "No actor called …": an answer, with suggestions.
    NotFound,
    /// The request itself was wrong: a usage line and an example that works.
    Usage,
    /// Refused (permissions, input too long).
    Refusal,
    /// Something broke on our side; the text carries an incident reference only.
    Failure,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Paging {
    pub page: u32,
    pub pages: u32,
    /// The command line for another page: `{page}` is replaced by the page number.
    pub command: String,
}

impl Paging {
    pub fn command_for(&self, page: u32) -> String {
        self.command.replace("{page}", &page.to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reply {
    pub tone: Tone,
    pub visibility: Visibility,
    pub title: Option<String>,
    /// Small line under the title ("World Intellectual Property Organization").
    pub subtitle: Option<String>,
    pub url: Option<String>,
    pub summary: Option<Text>,
    pub fields: Vec<Field>,
    pub sections: Vec<Section>,
    pub links: Vec<Link>,
    /// Suggestions for a not-found or usage answer ("Did you mean …").
    pub suggestions: Vec<String>,
    /// Where the facts come from.
    pub sources: Option<String>,
    pub paging: Option<Paging>,
    /// A file that goes with the answer (an .ics export): Discord uploads it, the console
    /// prints or saves it.
    pub attachment: Option<Attachment>,
    /// Buttons, where the platform has them (Discord): each acts for whoever clicks it, and
    /// answers them alone.
    pub actions: Vec<Action>,
}

impl Action {
    /// The RSVP buttons of an event's card: each answers for whoever clicks (`/rsvp`).
    pub fn rsvp_buttons(event: i64) -> Vec<Action> {
        [("Going", "going"), ("Maybe", "maybe"), ("Can't go", "cant")]
            .into_iter()
            .map(|(label, answer)| Action::Run {
                label: label.into(),
                line: format!("/rsvp {event} {answer}"),
            })
            .collect()
    }

    /// The buttons of an event's card and of a reminder to everyone: subscribe or
    /// unsubscribe whoever clicks (`/remind me`, and their own reminders removed).
    pub fn remind_buttons(event: i64) -> Vec<Action> {
        vec![
            Action::Run {
                label: "Remind me".into(),
                line: format!("/remind me {event}"),
            },
            Action::StopReminding {
                label: "Stop reminding me".into(),
                event,
            },
        ]
    }
}

/// What a button does when someone clicks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// Runs a command line as the person who clicks ("/remind me 12").
    Run { label: String, line: String },
    /// Sends the personal reminder with this key again in `minutes` (only its own person).
    Snooze {
        label: String,
        key: String,
        minutes: i64,
    },
    /// Removes the clicker's own personal reminders for this event, wherever they click it
    /// (a direct message too: the event is found by its number, the reminders are theirs).
    StopReminding { label: String, event: i64 },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attachment {
    pub filename: String,
    pub media_type: String,
    pub content: String,
}

impl Reply {
    pub fn new(tone: Tone) -> Reply {
        Reply {
            tone,
            visibility: if tone == Tone::Answer || tone == Tone::NotFound {
                Visibility::Everyone
            } else {
                Visibility::Private
            },
            title: None,
            subtitle: None,
            url: None,
            summary: None,
            fields: vec![],
            sections: vec![],
            links: vec![],
            suggestions: vec![],
            sources: None,
            paging: None,
            attachment: None,
            actions: vec![],
        }
    }

    pub fn answer(title: impl Into<String>) -> Reply {
        Reply {
            title: Some(title.into()),
            ..Reply::new(Tone::Answer)
        }
    }

    pub fn not_found(message: impl Into<String>) -> Reply {
        Reply {
            summary: Some(Text::plain(message)),
            ..Reply::new(Tone::NotFound)
        }
    }

    pub fn field(mut self, name: &str, value: impl Into<Text>, inline: bool) -> Reply {
        let value = value.into();
        if !value.is_empty() {
            self.fields.push(Field {
                name: name.to_string(),
                value,
                inline,
            });
        }
        self
    }

    /// Puts `note` first in the line under the title, before what it already says.
    pub fn note_in_subtitle(&mut self, note: String) {
        self.subtitle = Some(match self.subtitle.take() {
            Some(s) => format!("{note} · {s}"),
            None => note,
        });
    }

    pub fn section(mut self, heading: &str, items: Vec<Item>) -> Reply {
        if !items.is_empty() {
            self.sections.push(Section {
                heading: heading.to_string(),
                items,
            });
        }
        self
    }
}

impl Item {
    pub fn new(text: impl Into<Text>) -> Item {
        Item {
            label: None,
            text: text.into(),
            more: None,
            source: None,
        }
    }

    pub fn labelled(label: impl Into<String>, text: impl Into<Text>) -> Item {
        Item {
            label: Some(label.into()),
            ..Item::new(text)
        }
    }

    pub fn more(mut self, command: impl Into<String>) -> Item {
        self.more = Some(command.into());
        self
    }

    pub fn source(mut self, source: impl Into<String>) -> Item {
        self.source = Some(source.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_in_user_text_cannot_ping() {
        let d = defang_mentions("@everyone @Here party with <@123> and <@&45> in @room");
        for raw in ["@everyone", "@Here", "<@1", "<@&", "@room"] {
            assert!(!d.contains(raw), "{raw} survived in {d}");
        }
        assert_eq!(
            d.replace('\u{200B}', ""),
            "@everyone @Here party with <@123> and <@&45> in @room"
        );
        assert_eq!(defang_mentions("mail me at a@b.org"), "mail me at a@b.org");
    }
}
