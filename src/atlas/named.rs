//! Publications, programmes and tools the sources *name* in prose ("the UNCTAD Handbook of
//! Statistics", "the Blockchain Development Toolkit") or list as an actor's tools, found by the
//! words of their title: `/document` answers with them when the UN list has no such document.
//!
//! A title is recognised where it is written, not guessed beforehand: the typed words occur in
//! a passage in order, written as a name (each content word capitalised), and the name is read
//! on as far as the source keeps writing it so (`Putting Skills First: A Framework …` stops at
//! the colon; `UNCTAD Handbook of Statistics` takes the word before). Actor names are not
//! publications. Whose it is: the actor whose tools list it, or whose text names it — said as
//! "named in …'s text", since a profile can name another body's report.

use std::collections::HashSet;

use super::rows::{ItemRow, PassageRow};
use super::{id, Atlas};
use crate::import::prose::sentence_at;
use crate::search::{contains_run, is_stop_word, tokens};

/// A publication, programme or tool the sources name.
#[derive(Debug, Clone, PartialEq)]
pub struct Named {
    /// The name as the source writes it.
    pub title: String,
    /// What the title's last word says it is ("report", "toolkit"), or "tool" for a listed tool.
    pub kind: String,
    /// The actor whose text names it (or whose tools list it), by row id.
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    /// True when the actor lists it among its own tools and programmes.
    pub own_tool: bool,
    /// A year written in the title or its sentence.
    pub year: Option<i32>,
    /// The name it had before, as the sources give it ("Information Economy Report until
    /// 2017"), when they do.
    pub former: Option<String>,
    /// The sentence (or the tool's description) and where it is.
    pub sentence: String,
    pub file: String,
    pub line: i64,
    /// The sentence of the same actor's text that says what it is ("iVerify is a
    /// fact-checking initiative …"), and where, when there is one besides `sentence`.
    pub defined: Option<(String, String, i64)>,
    /// Who made it, as the cited sentence says ("developed by UNDP"): the body named after
    /// "by", which need not be the actor whose text names it.
    pub made_by: Option<String>,
}

/// Most passages looked at for one title (the rarest word's), and most names returned.
const MAX_PASSAGES: usize = 400;
const MAX_NAMED: usize = 8;
/// Longest name read, in words.
const MAX_TITLE_WORDS: usize = 14;

/// Words that say what a named thing is, from the end of its title.
const KINDS: &[&str] = &[
    "report",
    "reports",
    "toolkit",
    "handbook",
    "guide",
    "guidelines",
    "index",
    "treaty",
    "treaties",
    "convention",
    "principles",
    "outlook",
    "series",
    "navigator",
    "tracker",
    "framework",
    "platform",
    "programme",
    "program",
    "book",
    "publication",
    "textbook",
    "guidebook",
    "playbook",
    "primer",
    "paper",
    "whitepaper",
    "roadmap",
    "database",
    "dataset",
    "nowcast",
    "assessment",
    "assessments",
    "blueprint",
    "recommendations",
    "strategy",
    "study",
    "survey",
    "backgrounders",
    "review",
    "commentary",
    "compendium",
    "initiative",
    "network",
    "service",
    "tool",
    "portal",
    "charter",
    "agenda",
    "declaration",
    "app",
    "apps",
    "application",
    "hub",
];

impl Atlas {
    /// What the sources name with these words: tools listed by an actor first, then names
    /// written in passages, each once per actor. Empty for fewer than two letters of query.
    pub fn named(&self, query: &str) -> Vec<Named> {
        let words = tokens(query);
        if words.iter().map(String::len).sum::<usize>() < 2 || words.len() > MAX_TITLE_WORDS {
            return Vec::new();
        }
        let mut found = self.named_by(&words);
        if !found.is_empty() {
            // The title as typed before its editions ("Digital Economy Report" is the series;
            // "Digital Economy Report 2019" one edition of it): a stable sort keeps the rest.
            found.sort_by_key(|n| tokens(&n.title) != words);
            return found;
        }
        // "Young Faces programme", "future of jobs report": people add what the thing is,
        // where the source writes it apart ("the Young Faces research and mentoring
        // programme", "reports on the Future of Jobs"). The name alone is looked for; it is
        // still taken only where a kind word stands in or next to it.
        if let Some((last, name)) = words.split_last() {
            if !name.is_empty() && KINDS.contains(&last.as_str()) {
                let found = self.named_by(name);
                if !found.is_empty() {
                    return found;
                }
            }
        }
        // One word names only a coined title (iVerify): "global" is looked up as no name.
        let coined_first = query.split_whitespace().next().is_some_and(coined);
        self.named_with_more(&words, coined_first)
    }

    /// What an actor's text names — its listed tools and programmes, then the publications
    /// and programmes its passages name, by kind word — each once, at most `limit`: what
    /// "/document WIPO" lists.
    pub fn named_of_actor(&self, actor_id: i64, limit: usize) -> Vec<Named> {
        let mut out: Vec<Named> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        for &i in self.of_actor(&self.by.items_of_actor, actor_id) {
            out.push(self.tool_named(&self.rows.items[i]));
        }
        // Its own passages only, each read once for the kind words it writes.
        for &p in self.of_actor(&self.by.text_of_actor, actor_id) {
            out.extend(self.named_by_kind(&self.rows.passages[p], KINDS));
        }
        out.retain(|n| n.actor_id == Some(actor_id) && seen.insert(n.title.to_lowercase()));
        out.truncate(limit);
        out
    }

    /// The names of `kinds` a passage writes, one per kind word it has.
    fn named_by_kind(&self, p: &PassageRow, kinds: &[&str]) -> Vec<Named> {
        let words: HashSet<String> = tokens(&p.text).into_iter().collect();
        kinds
            .iter()
            .filter(|k| words.contains(**k))
            .filter_map(|k| self.named_in(p, &[k.to_string()]))
            .collect()
    }

    /// Things described rather than named ("the report about 5G from the Forum"): the names
    /// ending in one of `kinds` whose title or sentence says every word of `about` (in any
    /// inflection), of the actor `by` when given; each once, at most `limit`.
    pub fn named_about(
        &self,
        about: &[String],
        kinds: &[&str],
        by: Option<i64>,
        limit: usize,
    ) -> Vec<Named> {
        let stems: Vec<String> = about
            .iter()
            .filter(|w| !is_stop_word(w))
            .map(|w| crate::search::concepts::stem(w))
            .collect();
        if stems.is_empty() {
            return Vec::new();
        }
        let says_all = |n: &Named| {
            let said: HashSet<String> = tokens(&format!("{} {}", n.title, n.sentence))
                .iter()
                .map(|w| crate::search::concepts::stem(w))
                .collect();
            stems.iter().all(|s| said.contains(s))
        };
        // The passages that write its rarest word, each read for the kind words it has.
        let rarest = about
            .iter()
            .filter(|w| !is_stop_word(w))
            .map(|w| self.fulltext.occurrences(std::slice::from_ref(w)))
            .min_by_key(Vec::len)
            .unwrap_or_default();
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (doc, _) in rarest.into_iter().take(MAX_PASSAGES) {
            for n in self.named_by_kind(&self.rows.passages[doc as usize], kinds) {
                let theirs = by.is_none_or(|a| n.actor_id == Some(a));
                if out.len() < limit
                    && theirs
                    && says_all(&n)
                    && seen.insert(n.title.to_lowercase())
                {
                    out.push(n);
                }
            }
        }
        out
    }

    /// Names the sources write for the leading words of `query` when not for all of them
    /// ("Global Cybersecurity Outlook 2023" → Global Cybersecurity Outlook): what a "did you
    /// mean" offers, at most `limit` titles.
    pub fn named_leading(&self, query: &str, limit: usize) -> Vec<String> {
        let words = tokens(query);
        if words.len() > MAX_TITLE_WORDS {
            return Vec::new();
        }
        let mut out: Vec<String> = Vec::new();
        for len in (2..words.len()).rev() {
            for n in self.named_by(&words[..len]) {
                if out.len() < limit && !out.iter().any(|t| t.eq_ignore_ascii_case(&n.title)) {
                    out.push(n.title);
                }
            }
            if !out.is_empty() {
                break;
            }
        }
        out
    }

    /// "Cyber Incident Tracer #Health": a name the sources write with something between it
    /// and the rest of what was typed ("the Cyber Incident Tracer (CIT) #Health platform").
    /// The longest leading run of words that names something, taken where its sentence also
    /// says every word typed after it ("iVerify fact-checking tool": one coined word names
    /// iVerify, whose sentence says "fact-checking tool").
    fn named_with_more(&self, words: &[String], coined_first: bool) -> Vec<Named> {
        let shortest = if coined_first { 1 } else { 2 };
        for len in (shortest..words.len()).rev() {
            let (name, rest) = words.split_at(len);
            let found: Vec<Named> = self
                .named_by(name)
                .into_iter()
                .filter(|n| {
                    let mut said = tokens(&n.sentence);
                    if let Some((defined, ..)) = &n.defined {
                        said.extend(tokens(defined));
                    }
                    let title = tokens(&n.title);
                    // One word names only a one-word (coined) title: "digital" is no name. What
                    // it is ("tool", "report") need not be written beside it.
                    (len > 1 || title.len() == 1)
                        && rest
                            .iter()
                            .all(|w| said.contains(w) || KINDS.contains(&w.as_str()))
                })
                .collect();
            if !found.is_empty() {
                return found;
            }
        }
        Vec::new()
    }

    fn named_by(&self, words: &[String]) -> Vec<Named> {
        let mut out = self.named_tools(words);
        let mut seen: HashSet<(String, Option<i64>)> = out
            .iter()
            .map(|n| (n.title.to_lowercase(), n.actor_id))
            .collect();
        for n in self.named_in_passages(words) {
            if out.len() >= MAX_NAMED {
                break;
            }
            if seen.insert((n.title.to_lowercase(), n.actor_id)) {
                out.push(n);
            }
        }
        for n in out.iter_mut().filter(|n| !n.own_tool) {
            self.cite_who_made_it(n);
            n.made_by = maker_in(&n.sentence);
            n.defined = self.what_it_is(n);
        }
        out
    }

    /// The sentence of the same actor's text that says what the named thing is — its name
    /// then "is a/an/the …" or ", a/an …" — when it is not the sentence already cited.
    fn what_it_is(&self, n: &Named) -> Option<(String, String, i64)> {
        let defines = |after: &str| {
            [" is a ", " is an ", " is the ", ", a ", ", an "]
                .iter()
                .any(|lead| after.starts_with(lead))
        };
        let (sentence, p) = self.sentence_naming(n, |after, sentence| {
            defines(after) && sentence != n.sentence
        })?;
        Some((
            sentence.to_string(),
            p.origin.file.clone(),
            p.origin.line as i64,
        ))
    }

    /// The sentence of the same actor's text that says who made the named thing ("iVerify was
    /// developed by UNDP"), cited instead of a passing mention, when there is one.
    fn cite_who_made_it(&self, n: &mut Named) {
        if says_who_made_it(&n.sentence) {
            return;
        }
        if let Some((sentence, p)) = self.sentence_naming(n, |_, s| says_who_made_it(s)) {
            n.sentence = sentence.to_string();
            n.file = p.origin.file.clone();
            n.line = p.origin.line as i64;
        }
    }

    /// The first sentence of the named thing's actor's text that names it and that `wanted`
    /// accepts (given the text right after the name, and the sentence), with its passage.
    fn sentence_naming<'a>(
        &'a self,
        n: &Named,
        wanted: impl Fn(&str, &str) -> bool,
    ) -> Option<(&'a str, &'a PassageRow)> {
        self.fulltext
            .occurrences(&tokens(&n.title))
            .into_iter()
            .take(MAX_PASSAGES)
            .map(|(doc, _)| &self.rows.passages[doc as usize])
            .filter(|p| p.actor.map(id) == n.actor_id)
            .find_map(|p| {
                let at = p.text.find(&n.title)?;
                let sentence = sentence_at(&p.text, at);
                wanted(&p.text[at + n.title.len()..], sentence).then_some((sentence, p))
            })
    }

    /// Tools and programmes whose name contains the words in order.
    fn named_tools(&self, words: &[String]) -> Vec<Named> {
        self.rows
            .items
            .iter()
            .filter(|item| contains_run(&tokens(&item.name), words))
            .take(MAX_NAMED)
            .map(|item| self.tool_named(item))
            .collect()
    }

    /// A tool or programme an actor lists, as a named thing.
    fn tool_named(&self, item: &ItemRow) -> Named {
        let actor = self.rows.actors.get(item.actor);
        let sentence = item.description.clone().unwrap_or_default();
        Named {
            title: item.name.clone(),
            kind: item.kind.to_string(),
            actor_id: Some(id(item.actor)),
            actor_name: actor.map(display_name),
            own_tool: true,
            former: None,
            defined: None,
            made_by: None,
            year: year_in(&format!("{} {sentence}", item.name)),
            sentence,
            file: item.origin.file.clone(),
            line: item.origin.line as i64,
        }
    }

    /// Names written in passages: the words in order, written as a name.
    fn named_in_passages(&self, words: &[String]) -> Vec<Named> {
        self.fulltext
            .occurrences(words)
            .into_iter()
            .take(MAX_PASSAGES)
            .filter_map(|(doc, _)| self.named_in(&self.rows.passages[doc as usize], words))
            .collect()
    }

    /// The name written in passage `p` around `words`, when they are written as a name.
    fn named_in(&self, p: &PassageRow, words: &[String]) -> Option<Named> {
        let (start, end) = name_span(&p.text, words)?;
        // A former name ("the Digital Economy Report (known as the Information Economy
        // Report until 2017)") is found as the name it has now.
        let (start, end, former) = match renamed_from(&p.text, start, end) {
            Some((now_start, now_end, former)) => (now_start, now_end, Some(former)),
            None => (start, end, former_of(&p.text, end)),
        };
        // "the iVerify’s initiative": the name is iVerify.
        let title = p.text[start..end].trim();
        let title = title
            .strip_suffix("’s")
            .or_else(|| title.strip_suffix("'s"))
            .unwrap_or(title)
            .to_string();
        let kind = kind_around(&p.text, start, end).or_else(|| self.actor_led(&title))?;
        if !publication_like(&title) || !self.actors.exact(&title).is_empty() {
            return None;
        }
        let sentence = sentence_at(&p.text, start).to_string();
        let actor = p.actor.and_then(|a| self.rows.actors.get(a));
        // A year ending the title, or written right next to it ("Report 1994",
        // "(2023)", "In 1994 the … Report") — not one that is part of its name ("2030
        // Agenda": a target, not a date of publication), nor when it ended a former name.
        let after: String = p.text[end..].chars().take(8).collect();
        let before: String = {
            let b: Vec<char> = p.text[..start].chars().rev().take(12).collect();
            b.into_iter().rev().collect()
        };
        let last_word = title.rsplit(' ').next().unwrap_or_default();
        let year = year_in(last_word).or_else(|| {
            former
                .is_none()
                .then(|| year_in(&after).or_else(|| year_in(&before)))
                .flatten()
        });
        Some(Named {
            kind,
            year,
            title,
            actor_id: p.actor.map(id),
            actor_name: actor.map(display_name),
            own_tool: false,
            former,
            sentence,
            file: p.origin.file.clone(),
            line: p.origin.line as i64,
            defined: None,
            made_by: None,
        })
    }
}

impl Atlas {
    /// "WIPO Translate", "UNICC Cloud": a name led by an actor's acronym or name and going on
    /// in capitals is that actor's own programme or tool, though no kind word says so.
    fn actor_led(&self, title: &str) -> Option<String> {
        let (first, rest) = title.split_once(' ')?;
        // "DCAF’s Justice Advisor" is someone of DCAF's, not a programme ("UNCTAD’s SDG
        // Pulse" is one).
        const ROLES: &[&str] = &[
            "advisor",
            "adviser",
            "director",
            "officer",
            "head",
            "chief",
            "coordinator",
            "manager",
            "secretary",
            "president",
            "chair",
            "expert",
            "team",
            "staff",
        ];
        let role = rest
            .rsplit(' ')
            .next()
            .is_some_and(|w| ROLES.contains(&w.to_lowercase().as_str()));
        let named = !role
            && rest.split_whitespace().all(name_like)
            && first.chars().filter(|c| c.is_uppercase()).count() >= 2
            && !self.actors.exact(first).is_empty();
        named.then(|| "programme or tool".to_string())
    }
}

/// True when a sentence says who made a thing ("developed by UNDP", "published by the Forum").
fn says_who_made_it(sentence: &str) -> bool {
    static MADE_BY: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(&format!(r"(?i)\b(?:{MADE})\s+by\b")).expect("a valid pattern")
    });
    MADE_BY.is_match(sentence)
}

/// The verbs that say who made a thing, before "by": one list for `says_who_made_it` (any
/// case) and `maker_in` (as written, before a name).
const MADE: &str =
    "developed|published|launched|created|produced|deployed|released|issued|run|led|built|designed|initiated";

/// The body a sentence says made a thing: the name after "developed by", "published by" …
/// ("iVerify was developed by UNDP through …" → UNDP), as written, capitalised words and the
/// small words between them.
fn maker_in(sentence: &str) -> Option<String> {
    static MAKER: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(&format!(
            r"\b(?:{MADE})\s+by\s+(?:the\s+)?((?:[A-Z][\w’'&-]*)(?:\s+(?:[A-Z][\w’'&-]*|of|for|and|on|the|de|du))*)"
        ))
        .expect("a valid pattern")
    });
    let name = MAKER.captures(sentence)?.get(1)?.as_str();
    let small = ["of", "for", "and", "on", "the", "de", "du"];
    let mut words: Vec<&str> = name.split_whitespace().collect();
    while words.last().is_some_and(|w| small.contains(w)) {
        words.pop();
    }
    (!words.is_empty()).then(|| words.join(" "))
}

/// "(known as the X until 2017)", "(formerly X)", "(previously the X)": a former name in
/// brackets, and when it ended.
static FORMERLY: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"^\s*\((?:known as|formerly|previously|formerly known as)\s+(?:the\s+)?([^()]{3,120}?)(?:\s+until\s+(\d{4}))?\s*\)",
    )
    .expect("a valid pattern")
});

/// The former name given in brackets right after the name ending at `end`.
fn former_of(text: &str, end: usize) -> Option<String> {
    let c = FORMERLY.captures(&text[end..])?;
    Some(match c.get(2) {
        Some(y) => format!("{} until {}", c[1].trim(), y.as_str()),
        None => c[1].trim().to_string(),
    })
}

/// When the name at `start..end` is the former one in such brackets: the span of the name
/// it has now (written just before the bracket) and the former name as given.
fn renamed_from(text: &str, start: usize, end: usize) -> Option<(usize, usize, String)> {
    let open = text[..start].rfind('(')?;
    let former = former_of(text, open)?;
    // The former name must be the one typed: the bracket ends after it.
    let close = open + text[open..].find(')')?;
    if end > close {
        return None;
    }
    let ws = words_of(&text[..open]);
    let last = ws.len().checked_sub(1)?;
    if !name_like(ws[last].text) {
        return None;
    }
    let mut first = last;
    while first > 0
        && (name_like(ws[first - 1].text) || connector(ws[first - 1].text))
        && text[ws[first - 1].end..ws[first].start]
            .chars()
            .all(char::is_whitespace)
        && last - first < MAX_TITLE_WORDS
    {
        first -= 1;
    }
    while first < last && connector(ws[first].text) {
        first += 1;
    }
    if first < last && sentence_start(text, ws[first].start) && !name_like(ws[first + 1].text) {
        first += 1;
    }
    Some((ws[first].start, ws[last].end, former))
}

/// "World Economic Forum (WEF)": the name people know it by, with its acronym.
fn display_name(a: &super::rows::ActorRow) -> String {
    match &a.acronym {
        Some(acr) if acr != &a.name => format!("{} ({acr})", a.name),
        _ => a.name.clone(),
    }
}

/// A name that can be a publication's: more than one word, not starting with a number (an
/// address, a date).
fn publication_like(title: &str) -> bool {
    // "2005 Hong Kong", "1211 Geneva 20" — but "5G Outlook Series" is a name.
    let starts_with_number = title
        .split_whitespace()
        .next()
        .is_some_and(|w| w.chars().all(|c| c.is_ascii_digit()));
    // "The Forum", "The Institute": a body's short name after an article, not a title.
    let article_and_one_word = {
        let t = tokens(title);
        t.len() == 2 && ["the", "a", "an"].contains(&t[0].as_str())
    };
    (tokens(title).len() >= 2 || coined(title)) && !starts_with_number && !article_and_one_word
}

/// One coined word, written with a capital inside it and small letters (iVerify,
/// UNCTADstat): a product's name, never a common word or a bare acronym.
fn coined(title: &str) -> bool {
    let word = title.trim();
    !word.contains(char::is_whitespace)
        && word.chars().skip(1).any(char::is_uppercase)
        && word.chars().any(char::is_lowercase)
}

/// What the sources say the name at `start..end` is: a kind word in the name ("Handbook of
/// Statistics"), or just before it ("the report Playing with Lives") or just after it ("the
/// Young Faces research and mentoring programme"). None: the sources do not say it is a
/// publication, programme or tool (a place, a field label, a council), and it is not one here.
fn kind_around(text: &str, start: usize, end: usize) -> Option<String> {
    let kind_in = |words: Vec<String>| words.into_iter().find(|w| KINDS.contains(&w.as_str()));
    let before: Vec<String> = tokens(&text[..start]).into_iter().rev().take(3).collect();
    let after: Vec<String> = tokens(&text[end..]).into_iter().take(4).collect();
    tokens(&text[start..end])
        .into_iter()
        .rev()
        .find(|w| KINDS.contains(&w.as_str()))
        .or_else(|| kind_in(before))
        .or_else(|| kind_in(after))
        .map(|kind| one_of(&kind))
}

/// A kind said of one thing: "reports on the Future of Jobs" names a report.
fn one_of(kind: &str) -> String {
    match kind {
        "treaties" => "treaty".into(),
        "reports" | "assessments" | "apps" => kind[..kind.len() - 1].into(),
        _ => kind.to_string(),
    }
}

/// A word of the text with its byte span.
struct Word<'a> {
    text: &'a str,
    start: usize,
    end: usize,
}

fn words_of(text: &str) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
        let part = c.is_alphanumeric() || c == '\'' || c == '’' || c == '-';
        match (part, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(Word {
                    text: &text[s..i],
                    start: s,
                    end: i,
                });
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Written as a name: capitalised or with a capital inside (iVerify), or a number (5G, 2030).
fn name_like(w: &str) -> bool {
    w.chars()
        .next()
        .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
        || w.chars().skip(1).any(char::is_uppercase)
}

/// Connecting words a name may contain in lower case ("Handbook of Statistics").
fn connector(w: &str) -> bool {
    matches!(
        w.to_lowercase().as_str(),
        "of" | "and" | "for" | "the" | "in" | "on" | "to" | "a" | "an" | "with" | "&" | "de"
    )
}

/// The byte span of the name in `text` that contains `typed` (folded words) in order, each
/// content word written as a name; read on over more name words on both sides, never across
/// punctuation other than a hyphen.
fn name_span(text: &str, typed: &[String]) -> Option<(usize, usize)> {
    let ws = words_of(text);
    let folded: Vec<Vec<String>> = ws.iter().map(|w| tokens(w.text)).collect();
    let flat: Vec<(usize, &String)> = folded
        .iter()
        .enumerate()
        .flat_map(|(i, t)| t.iter().map(move |s| (i, s)))
        .collect();
    let at = flat
        .windows(typed.len())
        .position(|win| win.iter().map(|(_, s)| *s).eq(typed.iter()))?;
    let (first, last) = (flat[at].0, flat[at + typed.len() - 1].0);
    if !reads_as_name(&ws[first..=last]) {
        // A title the source quotes or announces is a name however it is capitalised ("its
        // flagship publication ‘An Introduction to Internet governance’", "our report titled
        // The impact of 5G: Creating new value …").
        return quoted_around(text, ws[first].start, ws[last].end)
            .or_else(|| titled_around(text, &ws, first, last))
            .or_else(|| kind_led_title(text, &ws, first, last));
    }
    let mut lo = first;
    while lo > 0
        && name_like(ws[lo - 1].text)
        && joined(text, &ws[lo - 1], &ws[lo])
        && last - lo < MAX_TITLE_WORDS
    {
        lo -= 1;
    }
    let hi = read_on_right(text, &ws, lo, last);
    // A sentence's first word is capitalised anyway: it starts a name only when typed.
    if lo < first && sentence_start(text, ws[lo].start) {
        lo += 1;
    }
    Some((ws[lo].start, ws[hi].end))
}

/// The quoted title that holds `start..end`: the span inside ‘…’, “…” or "…" when the
/// quote opens before `start` and closes after `end` in the same sentence, at most
/// `MAX_TITLE_WORDS` words, its first word written as a name.
fn quoted_around(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    const PAIRS: [(char, char); 3] = [('‘', '’'), ('“', '”'), ('"', '"')];
    let before = &text[..start];
    let (open_at, close) = PAIRS.iter().find_map(|&(open, close)| {
        let at = before.rfind(open)? + open.len_utf8();
        let inside = &before[at..];
        (closing(inside, close).is_none() && !inside.contains(['.', '!', '?']))
            .then_some((at, close))
    })?;
    let close_at = start + closing(&text[start..], close)?;
    let title = &text[open_at..close_at];
    let words = words_of(title);
    (close_at + close.len_utf8() >= end
        && title.len() < 200
        && !title.contains(['.', '!', '?'])
        && !words.is_empty()
        && words.len() <= MAX_TITLE_WORDS
        && name_like(words[0].text))
    .then_some((open_at, close_at))
}

/// The title after "titled" / "entitled" that holds words `first..=last`: from the word after
/// it (at most three words before `first`, written as a name) to the first colon, comma,
/// semicolon, bracket or sentence end, at most `MAX_TITLE_WORDS` words.
fn titled_around(text: &str, ws: &[Word], first: usize, last: usize) -> Option<(usize, usize)> {
    let announce = (first.saturating_sub(4)..first)
        .rev()
        .find(|&i| matches!(ws[i].text.to_lowercase().as_str(), "titled" | "entitled"))?;
    let start = announce + 1;
    if !name_like(ws[start].text) {
        return None;
    }
    titled_span(text, ws, start, last)
}

/// A title in sentence case that starts with its kind, capitalised inside a sentence ("a
/// Blueprint for equity and inclusion in AI, a briefing paper …"): from that word to the next
/// comma, semicolon, colon, bracket or sentence end, when it holds words `first..=last`.
fn kind_led_title(text: &str, ws: &[Word], first: usize, last: usize) -> Option<(usize, usize)> {
    let head = &ws[first];
    let is_kind = tokens(head.text)
        .first()
        .is_some_and(|t| KINDS.contains(&t.as_str()));
    let capital = head.text.chars().next().is_some_and(char::is_uppercase);
    if !(is_kind && capital) || sentence_start(text, head.start) {
        return None;
    }
    titled_span(text, ws, first, last)
}

/// From word `start` to the first colon, comma, semicolon, bracket or sentence end (at most
/// `MAX_TITLE_WORDS` words), when that reaches word `last`.
fn titled_span(text: &str, ws: &[Word], start: usize, last: usize) -> Option<(usize, usize)> {
    let stop = text[ws[start].start..]
        .find([':', ',', ';', '(', '.', '!', '?'])
        .map_or(text.len(), |i| ws[start].start + i);
    let end = ws[start..]
        .iter()
        .take(MAX_TITLE_WORDS)
        .take_while(|w| w.end <= stop)
        .last()?
        .end;
    (end >= ws[last].end).then_some((ws[start].start, end))
}

/// Where `close` closes a quote in `text`: not an apostrophe (’ followed by a letter).
fn closing(text: &str, close: char) -> Option<usize> {
    text.char_indices().find_map(|(i, c)| {
        let next = text[i + c.len_utf8()..].chars().next();
        (c == close && !next.is_some_and(char::is_alphanumeric)).then_some(i)
    })
}

/// Every word written as a name or a connecting word, and at least one a name.
fn reads_as_name(inside: &[Word]) -> bool {
    inside
        .iter()
        .all(|w| name_like(w.text) || connector(w.text) || is_stop_word(&w.text.to_lowercase()))
        && inside.iter().any(|w| name_like(w.text))
}

/// Nothing but white space between two words.
fn joined(text: &str, a: &Word, b: &Word) -> bool {
    text[a.end..b.start].chars().all(char::is_whitespace)
}

/// The last word of the name that starts at `lo` and reaches at least `hi`: read on over name
/// words, and connecting words followed by one.
fn read_on_right(text: &str, ws: &[Word], lo: usize, mut hi: usize) -> usize {
    loop {
        let mut next = hi + 1;
        while next < ws.len() && connector(ws[next].text) && joined(text, &ws[next - 1], &ws[next])
        {
            // "… Report and the UNCTADstat Data Centre": two names, not one.
            if ws[next].text.eq_ignore_ascii_case("the")
                && ws[next - 1].text.eq_ignore_ascii_case("and")
            {
                break;
            }
            next += 1;
        }
        if next > hi + 1
            && ws[next - 1].text.eq_ignore_ascii_case("and")
            && next < ws.len()
            && ws[next].text.eq_ignore_ascii_case("the")
        {
            break;
        }
        if next < ws.len()
            && name_like(ws[next].text)
            && joined(text, &ws[next - 1], &ws[next])
            && next - lo < MAX_TITLE_WORDS
        {
            hi = next;
        } else if let Some(after) = over_bracketed_acronym(text, ws, hi, next - lo) {
            hi = after;
        } else {
            break;
        }
    }
    hi
}

/// "Central Bank Digital Currency (CBDC) Policy-Makers Toolkit": the name goes on over its
/// acronym in brackets when the name words after it say what it is (a kind word); the index
/// of the first of them. Not "UN Environment Programme (UNEP) Greening the Blue": a body's
/// name, then another thing's.
fn over_bracketed_acronym(text: &str, ws: &[Word], hi: usize, len: usize) -> Option<usize> {
    let (acronym, after) = (ws.get(hi + 1)?, ws.get(hi + 2)?);
    let acronym_ok = acronym
        .text
        .chars()
        .all(|c| c.is_uppercase() || c.is_ascii_digit());
    let opens = text[ws[hi].end..acronym.start].trim() == "(";
    let closes = text[acronym.end..after.start].trim() == ")";
    if !(acronym_ok && opens && closes && name_like(after.text) && len + 2 < MAX_TITLE_WORDS) {
        return None;
    }
    let mut run = vec![after];
    for pair in ws[hi + 2..].windows(2).take(5) {
        let (a, b) = (&pair[0], &pair[1]);
        if !(joined(text, a, b) && (name_like(b.text) || connector(b.text))) {
            break;
        }
        run.push(b);
    }
    run.iter()
        .filter(|w| name_like(w.text))
        .any(|w| tokens(w.text).iter().any(|t| KINDS.contains(&t.as_str())))
        .then_some(hi + 2)
}

/// True when the word at `at` starts a sentence (nothing but space and a stop before it).
fn sentence_start(text: &str, at: usize) -> bool {
    let before = text[..at].trim_end();
    before.is_empty() || before.ends_with(['.', '!', '?', ':', '•'])
}

/// A plausible year (1900–2099) written as a word.
fn year_in(text: &str) -> Option<i32> {
    words_of(text).iter().find_map(|w| {
        let y: i32 = w.text.parse().ok()?;
        (1900..2100).contains(&y).then_some(y)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_maker_is_the_body_after_by_not_the_text_it_is_in() {
        assert_eq!(
            maker_in("iVerify was developed by UNDP through the Brussels-based Task Force.")
                .as_deref(),
            Some("UNDP")
        );
        assert_eq!(
            maker_in(
                "The index was published by the International Telecommunication Union in 2020."
            )
            .as_deref(),
            Some("International Telecommunication Union")
        );
        assert_eq!(maker_in("It was developed by local teams."), None);
        assert_eq!(maker_in("Nothing made here."), None);
    }

    fn span(text: &str, typed: &str) -> Option<String> {
        name_span(text, &tokens(typed)).map(|(a, b)| text[a..b].to_string())
    }

    #[test]
    fn a_name_is_read_as_far_as_the_source_writes_it() {
        let t = "The UNCTAD Handbook of Statistics disseminates key messages.";
        assert_eq!(
            span(t, "handbook of statistics").as_deref(),
            Some("UNCTAD Handbook of Statistics")
        );
        let t = "guides such as the Blockchain Development Toolkit to guide organisations";
        assert_eq!(
            span(t, "blockchain development").as_deref(),
            Some("Blockchain Development Toolkit")
        );
    }

    #[test]
    fn a_quoted_title_is_a_name_however_it_is_capitalised() {
        let t = "Diplo’s flagship publication ‘An Introduction to Internet governance’ is among the most used.";
        assert_eq!(
            span(t, "an introduction to internet governance").as_deref(),
            Some("An Introduction to Internet governance")
        );
        // Quotes around other words do not make running prose a name.
        let t = "the ‘best’ handbook of statistics work";
        assert_eq!(span(t, "handbook of statistics"), None);
    }

    #[test]
    fn a_title_announced_by_titled_is_a_name_to_its_colon() {
        let t =
            "In our report titled The impact of 5G: Creating new value across industries, we note";
        assert_eq!(span(t, "impact of 5g").as_deref(), Some("The impact of 5G"));
        assert_eq!(
            span(t, "the impact of 5g").as_deref(),
            Some("The impact of 5G")
        );
        let t = "he was entitled to enable muted viewing";
        assert_eq!(span(t, "muted viewing"), None);
    }

    #[test]
    fn a_sentence_case_title_led_by_its_capitalised_kind_runs_to_its_comma() {
        let t = "publications include a Blueprint for equity and inclusion in AI, a briefing paper on Data";
        assert_eq!(
            span(t, "blueprint for equity and inclusion in ai").as_deref(),
            Some("Blueprint for equity and inclusion in AI")
        );
        // A kind word in lower case, or starting the sentence, leads no title.
        let t = "we drew a blueprint for equity and inclusion in AI, with partners";
        assert_eq!(span(t, "blueprint for equity"), None);
        let t = "Blueprint for equity is what we want, said the Forum";
        assert_eq!(span(t, "blueprint for equity"), None);
    }

    #[test]
    fn a_name_goes_on_over_its_bracketed_acronym() {
        let t =
            "The Central Bank Digital Currency (CBDC) Policy-Makers Toolkit, published in 2020, is";
        assert_eq!(
            span(t, "central bank digital currency").as_deref(),
            Some("Central Bank Digital Currency (CBDC) Policy-Makers Toolkit")
        );
        // An acronym closing a name is not a reason to read on into the sentence, nor into
        // another thing's name.
        let t = "The World Health Report (WHR) said";
        assert_eq!(
            span(t, "world health report").as_deref(),
            Some("World Health Report")
        );
        let t = "the UN Environment Programme (UNEP) Greening the Blue initiative";
        assert_eq!(
            span(t, "environment programme").as_deref(),
            Some("UN Environment Programme")
        );
    }

    #[test]
    fn a_coined_word_is_a_name_and_a_common_one_is_not() {
        assert!(coined("iVerify") && coined("UNCTADstat"));
        assert!(!coined("WIPO") && !coined("Geneva") && !coined("privacy"));
        assert!(says_who_made_it(
            "iVerify was developed by UNDP through the Task Force"
        ));
        assert!(!says_who_made_it(
            "iVerify, piloted during Zambia elections"
        ));
    }

    #[test]
    fn words_in_running_prose_are_not_a_name() {
        let t = "Statistics underpin the handbook of statistics work.";
        assert_eq!(span(t, "handbook of statistics"), None);
    }

    #[test]
    fn a_sentence_start_is_not_part_of_the_name_unless_typed() {
        let t = "Publication of the report Playing with Lives: Cyberattacks on Healthcare";
        assert_eq!(span(t, "with lives").as_deref(), Some("Playing with Lives"));
        let t = "Recently Global Cybersecurity Outlook was published.";
        assert_eq!(
            span(t, "global cybersecurity outlook").as_deref(),
            Some("Global Cybersecurity Outlook")
        );
    }

    #[test]
    fn a_former_name_in_brackets_is_found_as_the_name_it_has_now() {
        let t = "in its flagship publication, the Digital Economy Report (known as the Information Economy Report until 2017), and";
        let former = "Information Economy Report";
        let at = t.find(former).unwrap();
        let (a, b, was) = renamed_from(t, at, at + former.len()).unwrap();
        assert_eq!(&t[a..b], "Digital Economy Report");
        assert_eq!(was, "Information Economy Report until 2017");
        let now = t.find("Digital").unwrap();
        assert_eq!(
            former_of(t, now + "Digital Economy Report".len()).as_deref(),
            Some("Information Economy Report until 2017")
        );
    }

    #[test]
    fn years_and_kinds() {
        assert_eq!(year_in("Human Development Report 1994"), Some(1994));
        assert_eq!(year_in("ISO 27001"), None);
        let kind = |t: &str, name: &str| {
            let at = t.find(name).unwrap();
            kind_around(t, at, at + name.len())
        };
        assert_eq!(
            kind(
                "the Blockchain Development Toolkit to guide",
                "Blockchain Development Toolkit"
            )
            .as_deref(),
            Some("toolkit")
        );
        assert_eq!(
            kind(
                "the annual Young Faces research and mentoring programme",
                "Young Faces"
            )
            .as_deref(),
            Some("program")
        );
        assert_eq!(
            kind("Address: Campus Biotech, Geneva", "Campus Biotech"),
            None
        );
        assert!(!publication_like("2005 Hong Kong"));
        assert!(publication_like("5G Outlook Series"));
    }
}
