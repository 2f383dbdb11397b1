//! "Look up in atlas" on someone's message (Discord's message menu): the actors, standards and
//! UN documents it names, each with the command that tells more. Only names the atlas knows,
//! found the way `/who-works-on` finds terms (whole words; acronyms in their own case, so
//! "who" is not WHO); nothing guessed from a near spelling.

use crate::atlas::Atlas;
use crate::reply::{Item, Reply, Text, Visibility};
use crate::search::terms::TermMatcher;

use super::shorten;

/// At most this much of a message is read (a Discord message holds at most 4 000).
pub const MAX_CHARS: usize = 4_000;
/// At most this many of each kind are listed.
const MAX_EACH: usize = 10;

/// What a name in a message stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    Actor(i64),
    Standard(usize),
    Document(usize),
}

/// Every name the atlas knows, and one matcher over all of them (built once per atlas).
struct Names {
    matcher: TermMatcher,
    named: Vec<Named>,
}

fn names(atlas: &Atlas) -> Names {
    let mut terms = Vec::new();
    let mut named = Vec::new();
    for e in atlas.actors.entries_with(|_| true) {
        terms.push(e.display.clone());
        named.push(Named::Actor(e.payload));
    }
    for (i, s) in atlas.standards.iter().enumerate() {
        terms.push(s.identifier.clone());
        named.push(Named::Standard(i));
    }
    for (i, d) in atlas.documents.iter().enumerate() {
        if let Some(symbol) = &d.symbol {
            terms.push(symbol.clone());
            named.push(Named::Document(i));
        }
    }
    Names {
        matcher: TermMatcher::new(&terms),
        named,
    }
}

/// The atlas's entries named in `text`, in the order they first appear, each kind at most
/// `MAX_EACH`.
fn found_in(atlas: &Atlas, text: &str) -> Vec<Named> {
    let names = atlas.memo(("message-names", 0), || names(atlas));
    let text: String = text.chars().take(MAX_CHARS).collect();
    let mut found: Vec<Named> = Vec::new();
    for (_, i) in names.matcher.find_terms(&text) {
        let n = names.named[i];
        let same_kind = found
            .iter()
            .filter(|f| std::mem::discriminant(*f) == std::mem::discriminant(&n))
            .count();
        if !found.contains(&n) && same_kind < MAX_EACH {
            found.push(n);
        }
    }
    found
}

/// The answer to "Look up in atlas" on a message: only the person who asked sees it.
pub fn run(atlas: &Atlas, text: &str) -> Reply {
    let found = found_in(atlas, text);
    let mut r = if found.is_empty() {
        let mut r = Reply::not_found(
            "That message names no actor, standard or UN document I know. To look for its words in the sources, use /search.",
        );
        r.suggestions.push("/search cybersecurity".into());
        r
    } else {
        Reply::answer("Named in this message")
            .section("Actors", actor_items(atlas, &found))
            .section("Standards", standard_items(atlas, &found))
            .section("Documents", document_items(atlas, &found))
    };
    r.visibility = Visibility::Private;
    r
}

fn actor_items(atlas: &Atlas, found: &[Named]) -> Vec<Item> {
    found
        .iter()
        .filter_map(|n| match n {
            Named::Actor(id) => atlas.actor(*id),
            _ => None,
        })
        .map(|a| {
            let gist = a.summary.as_deref().map(|s| shorten(s, 160));
            Item::labelled(a.name.clone(), Text::plain(gist.unwrap_or_default()))
                .more(format!("/actor {}", super::actor::display_name(&a)))
        })
        .collect()
}

fn standard_items(atlas: &Atlas, found: &[Named]) -> Vec<Item> {
    found
        .iter()
        .filter_map(|n| match n {
            Named::Standard(i) => atlas.standards.get(*i),
            _ => None,
        })
        .map(|s| {
            Item::labelled(s.identifier.clone(), Text::plain(shorten(&s.covers, 160)))
                .more(format!("/standard {}", s.identifier))
        })
        .collect()
}

fn document_items(atlas: &Atlas, found: &[Named]) -> Vec<Item> {
    found
        .iter()
        .filter_map(|n| match n {
            Named::Document(i) => atlas.documents.get(*i),
            _ => None,
        })
        .filter_map(|d| {
            let symbol = d.symbol.clone()?;
            Some(
                Item::labelled(symbol.clone(), Text::plain(shorten(&d.title, 160)))
                    .more(format!("/document {symbol}"))
                    .source(super::cite(&d.file, d.line)),
            )
        })
        .collect()
}
