//! /ask <question>: a plain question, in English or French, routed to the command that answers
//! it — deterministically, by a table of question shapes and what the atlas knows of the words
//! (an actor, a term, a standard, a document) — and answered with that command, saying which
//! it ran so people learn it. Nothing is answered here: `route` only writes a command line.

use std::sync::LazyLock;

use regex::Regex;

use super::actor::fact::Fact;
use super::invocation::Args;
use super::shorten;
use crate::atlas::Atlas;
use crate::error::CommandError;
use crate::reply::Reply;
use crate::search::normalize::{fold_typography, name_key};
use crate::search::standard_id::StandardId;

#[derive(Debug, Clone)]
pub struct Params {
    pub question: String,
}

pub fn parse(args: &Args) -> Result<Params, CommandError> {
    let question = args.get("question").unwrap_or_default().trim().to_string();
    // Nothing but punctuation ("???") asks nothing either.
    if !question.chars().any(char::is_alphanumeric) {
        return Err(CommandError::usage(
            "Ask a question in your own words, for example:",
            "/ask who works on cybersecurity?",
        ));
    }
    Ok(Params { question })
}

/// Where a question goes: the command line that answers it, or nowhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Line(String),
    /// No shape matched and the words name nothing: the words, for suggestions.
    Unsure(String),
}

/// One question shape: a pattern (case-insensitive; `x` captures what it is about) and what
/// to do with the capture.
struct Shape {
    pattern: Regex,
    to: To,
}

#[derive(Clone, Copy)]
enum To {
    WhoWorksOn,
    /// "Who developed X": the publication's or tool's card, which says whose it is — when
    /// the sources name X; else the next shape ("who created WIPO" is its founding).
    Maker,
    /// The actor's card.
    Actor,
    /// One fact of an actor (founding year, address, members…): `/actor X fact:…` when the
    /// words name an actor; else as `Actor` (a search).
    Fact(Fact),
    /// "How many partners does X have": `/actor X count:partners` (the noun is group `n`).
    Count,
    /// "What is X": an actor, a term, a standard or a document — whichever the atlas has.
    WhatIs,
    Events,
    /// "When did X take place": one event — the space's, or one the sources name.
    Event,
    RemindMe,
    Search,
    /// "Which standard …": the registry standard it describes, else a search of the words.
    Standard,
}

static SHAPES: LazyLock<Vec<Shape>> = LazyLock::new(|| {
    let shape = |p: &str, to| Shape {
        pattern: Regex::new(&format!("(?i)^{p}$")).expect("a valid question shape"),
        to,
    };
    vec![
        shape(
            r"(?:who|which (?:organi[sz]ations?|actors?|bodies|institutions?|agencies)) (?:developed|made|created|built|designed|published|publishes|launched|released|produced|produces|wrote|runs|ran|owns|issued|issues|(?:is|was) behind|came up with|invented|(?:is|was) responsible for) (?P<x>.+)",
            To::Maker,
        ),
        shape(
            r"(?:by whom|who) (?:is|was|were|are) (?P<x>.+?) (?:developed|made|created|built|designed|published|launched|released|produced|written|run|issued)(?: by)?",
            To::Maker,
        ),
        shape(
            r"qui (?:a |ont )?(?:développé|developpe|créé|cree|conçu|concu|publié|publie|lancé|lance|produit|rédigé|redige|édite|edite|gère|gere) (?P<x>.+)",
            To::Maker,
        ),
        shape(
            r"(?:who|which (?:organi[sz]ations?|actors?|bodies|institutions?|agencies))\s+(?:is |are )?(?:works?|working|does|do|deals?|dealing|doing (?:something|anything)|cares?|focus(?:es)?|focusing|handles?|active)\s+(?:on|about|with|in|for|to do with)\s+(?P<x>.+)",
            To::WhoWorksOn,
        ),
        shape(
            r"who\s+(?:helps?|protects?|fights?|tackles?|addresses|supports?|runs?|develops?|develop)\s+(?P<x>.+)",
            To::WhoWorksOn,
        ),
        shape(
            r"(?:qui|quel(?:le)?s? (?:organisations?|acteurs?|institutions?|organismes?))\s+(?:travaillent|travaille|s['’]occupent|s['’]occupe|agissent|agit|fait quelque chose|font quelque chose|est actif|sont actifs|œuvrent|œuvre|oeuvrent|oeuvre|luttent|lutte|combattent|combat|se consacrent|se consacre|s['’]engagent|s['’]engage)\s+(?:sur|contre|pour|à propos de|a propos de|en matière de|dans|des|du|de la|de|d['’]|à la|au|aux|à|a)\s*(?P<x>.+)",
            To::WhoWorksOn,
        ),
        shape(
            r"(?:when|in what year|what year|which year|in which year) (?:was|were|did) (?P<x>.+?) (?:founded|established|created|set up|start(?:ed)?|born|formed|launched)",
            To::Fact(Fact::Founded),
        ),
        // "Was WIPO founded in 1970?": the year it was, which answers yes or no.
        shape(
            r"(?:was|were|is) (?P<x>.+?) (?:founded|established|created|set up|formed) (?:in|on|before|after) .+",
            To::Fact(Fact::Founded),
        ),
        shape(
            r"since when (?:does|do|has|have|did) (?P<x>.+?) (?:exist|existed|been around|been in existence)",
            To::Fact(Fact::Founded),
        ),
        shape(
            r"(?:is|are) (?P<x>.+?) (?:based|located|headquartered|seated) (?:in|at) .+",
            To::Fact(Fact::Address),
        ),
        shape(
            r"(?:who|which \w+) (?:set up|founded|created|established|started) (?P<x>.+)",
            To::Actor,
        ),
        shape(
            r"how many (?:members|member states|member countries|national bodies) (?:does|do|has|have|are (?:there )?in|are members of|belong to) (?P<x>.+?)(?: have| got| count| have got)?",
            To::Fact(Fact::Members),
        ),
        shape(
            r"how many (?:staff|employees|people|experts|persons|staff members|workers) (?:does|do|has|have|work (?:for|at|with|in)|are (?:there )?(?:in|at)) (?P<x>.+?)(?: have| got| employ| count| have got)?",
            To::Fact(Fact::People),
        ),
        shape(
            r"(?:en quelle année|quand) (?P<x>.+?) (?:a-t-(?:il|elle) été|a été|fut|est) (?:fondée?|créée?|creee?|établie?|etablie?)",
            To::Fact(Fact::Founded),
        ),
        shape(
            r"(?:depuis quand|depuis combien de temps) (?:existe|existent)(?:-t-(?:il|elle))? (?P<x>.+)",
            To::Fact(Fact::Founded),
        ),
        shape(
            r"(?:depuis quand|depuis combien de temps) (?:travaille|œuvre|oeuvre)(?:-t-(?:il|elle))? (?P<x>.+)",
            To::Actor,
        ),
        shape(r"how old is (?P<x>.+)", To::Fact(Fact::Founded)),
        shape(
            r"how long has (?P<x>.+?) (?:existed|been around)(?: for)?",
            To::Fact(Fact::Founded),
        ),
        shape(
            r"how long has (?P<x>.+?) (?:been working|been active)(?: for)?",
            To::Actor,
        ),
        shape(
            r"how many (?P<n>[\w-]+(?: [\w-]+){0,2}?) (?:does|do|did|has|have|had) (?P<x>.+?)(?: have| has| got| count| serve| support| employ| work with| work in| operate in| cover| reach| have got)?",
            To::Count,
        ),
        shape(
            r"how many (?P<n>[\w-]+(?: [\w-]+){0,2}?) (?:is|are|was|were) (?P<x>.+?) (?:in|active in|present in|working in|working with|supporting|serving)",
            To::Count,
        ),
        shape(
            r"combien (?:de |d['’])(?:membres|états membres|etats membres|pays membres|pays|états|etats)(?: \S+)? (?:compte|a|possède|regroupe|réunit|reunit) (?P<x>.+)",
            To::Fact(Fact::Members),
        ),
        shape(
            r"combien (?:de |d['’])(?:employés|employes|personnes|collaborateurs|experts|salariés|salaries)(?: \S+)? (?:compte|a|possède|emploie|travaillent (?:pour|à|a|chez)) (?P<x>.+)",
            To::Fact(Fact::People),
        ),
        shape(
            r"combien (?:de |d['’])\S+(?: \S+)? (?:compte|a|possède) (?P<x>.+)",
            To::Actor,
        ),
        // Events first: "where was COP26 held" is where an event took place, not an address.
        shape(
            r"(?:when|where|what (?:date|day|time)|on what date|in which city|in what city|in which country) (?:did|does|do|will|is|was|are|were|has|will be) (?P<x>.+?)(?: (?:take place|took place|taking place|happen|happened|happening|held|be held|being held|start|started|starting|begin|began|occur|occurred|run|ran|scheduled|organi[sz]ed))",
            To::Event,
        ),
        shape(
            r"(?:where|in which city|in what city|in which country) (?:is|are) (?P<x>.+?) (?:based|located|headquartered|situated|seated|found)(?: in| at)?",
            To::Fact(Fact::Address),
        ),
        shape(
            r"where (?:does|do) (?P<x>.+?) (?:have (?:its|their) (?:office|offices|headquarters|seat|hq)|sit|live)",
            To::Fact(Fact::Address),
        ),
        shape(
            r"(?:où|ou) (?:est|sont) (?:basée?s?|située?s?|installée?s?|implantée?s?) (?P<x>.+)",
            To::Fact(Fact::Address),
        ),
        shape(
            r"(?:où|ou) (?:se situe|se situent|siège|siege) (?P<x>.+)",
            To::Fact(Fact::Address),
        ),
        shape(
            r"(?:what (?:does|do)(?: the (?:acronym|abbreviation|letters))? (?P<x>.+?) (?:stand for|mean)|what is (?P<y>.+?) (?:short|an abbreviation|the acronym|an acronym) for|que (?:veut dire|signifie) (?:le sigle |l['’]acronyme |le nom )?(?P<z>.+))",
            To::Fact(Fact::Name),
        ),
        shape(
            r"(?:what is|what['’]s|where is|where can i find) (?:the )?(?:website|web site|homepage|site|url) (?:of|for) (?P<x>.+)",
            To::Fact(Fact::Website),
        ),
        shape(
            r"(?:where (?:is|are)(?: the)? (?:office|offices|headquarters|seat|hq) of|where is|where are|what is the address of|what['’]s the address of|address of) (?P<x>.+)",
            To::Fact(Fact::Address),
        ),
        shape(
            r"(?:where (?:can|do|could|should|would) (?:i|we|you|one) (?:find|visit|meet|reach|go to see)|how (?:do i|can i) (?:contact|reach|find)) (?P<x>.+)",
            To::Actor,
        ),
        shape(
            r"(?:quelle est l['’]adresse de|où (?:est|se trouve)|ou (?:est|se trouve)) (?P<x>.+)",
            To::Fact(Fact::Address),
        ),
        shape(
            r"(?:(?:quand|en quelle année|en quelle annee) (?:a été|a ete|fut) (?:fondée?|créée?|creee?|établie?|etablie?)) (?P<x>.+)",
            To::Fact(Fact::Founded),
        ),
        shape(
            r"(?:what['’]?s|what is|anything|is there anything) (?:on|happening|coming up|planned|scheduled)(?P<x>.*)",
            To::Events,
        ),
        shape(
            r"(?:what|which|any|are there(?: any)?|is there an?) (?:upcoming |next |coming )?(?:events?|meetings?|sessions?)(?P<x>.*)",
            To::Events,
        ),
        shape(
            r"(?:quels?|quelles?) (?:sont les )?(?:événements?|evenements?|réunions?)(?P<x>.*)",
            To::Events,
        ),
        shape(
            r"(?:quand|où|ou) (?:a lieu|aura lieu|est) (?:le |la )?(?:prochain|prochaine) (?P<x>.*)",
            To::Events,
        ),
        shape(
            r"(?:quand|où|ou|à quelle date|a quelle date) (?:a eu lieu|aura lieu|a lieu|s['’]est tenue?s?|se tient|se tiendra|se déroule|se deroule|s['’]est déroulée?s?|s['’]est deroulee?s?|s['’]est passée?|se passe) (?P<x>.+)",
            To::Event,
        ),
        shape(r"when(?: is|['’]s| are) the next (?P<x>.*)", To::Events),
        // "When is the Common Secure Conference": an event, in any tense.
        shape(
            r"(?:when|quand) (?:is|was|will be|are|were|est|était|etait|sera) (?P<x>.+)",
            To::Event,
        ),
        shape(
            r"(?P<x>(?:which|what)(?: is| are)?(?: the)?(?: \w+)? (?:standards?|norms?) .+)",
            To::Standard,
        ),
        shape(r"que fait (?P<x>.+)", To::Actor),
        shape(
            r"(?:quel|quelle|quels|quelles) (?:est|sont) (?P<x>(?:le |la |les |l['’])?(?:adresse|siège|siege|site web|site internet|site|bureau|bureaux|mission|mandat) .+)",
            To::Actor,
        ),
        shape(r"(?:upcoming |next |coming )?events?(?P<x>.*)", To::Events),
        shape(
            r"(?:what does|what do|what is|what are|what['’]s|what|define|meaning of|explain|tell me about|qu['’]est-ce que|qu['’]est ce que|c['’]est quoi|que (?:veut dire|signifie|couvre|concerne|dit|traite)|qu['’]est-ce que (?:couvre|dit)) (?:the |an? |le |la |les |l['’])?(?P<x>.+?)(?: stand for| short for| an abbreviation for| an acronym for| the acronym for| mean| cover| covers| about| do| does| used for| for)?",
            To::WhatIs,
        ),
        shape(r"remind me (?:about|of|for)? ?(?P<x>.+)", To::RemindMe),
        shape(
            r"who (?:is|are) (?:the )?(?P<x>(?:president|director|head|chair|founder|ceo|secretary-general|director-general)s? (?:of|at) .+)",
            To::Search,
        ),
    ]
});

/// The command line that answers `question`, as `atlas` knows the words.
pub fn route(atlas: &Atlas, question: &str) -> Route {
    let q = tidy(question);
    if q.starts_with('/') {
        return Route::Line(q);
    }
    for shape in SHAPES.iter() {
        let Some(c) = shape.pattern.captures(&q) else {
            continue;
        };
        // A shape with several wordings names its capture x, y or z.
        let x = ["x", "y", "z"]
            .iter()
            .find_map(|n| c.name(n))
            .map_or("", |m| m.as_str())
            .trim();
        let x = without_article(x.trim_matches(|c: char| c == '"' || c == '“' || c == '”'));
        let x = without_place(x);
        if let To::Count = shape.to {
            let noun = c.name("n").map_or("", |m| m.as_str());
            return Route::Line(count_line(atlas, x, noun));
        }
        if let Some(line) = line_for(atlas, shape.to, x) {
            return Route::Line(line);
        }
    }
    by_the_words(atlas, &q)
}

/// A question as routed: one line, no closing punctuation, no greeting.
fn tidy(question: &str) -> String {
    let q = without_brackets(question);
    let q = q.split_whitespace().collect::<Vec<_>>().join(" ");
    let q = without_courtesy(q.trim_end_matches(['?', '!', '.', ' ', '？']));
    let lower = q.to_lowercase();
    for greeting in [
        "please ",
        "hi ",
        "hello ",
        "hey ",
        "bonjour ",
        "salut ",
        "can you tell me ",
        "do you know ",
        "tell me ",
    ] {
        if lower.starts_with(greeting) {
            return tidy_about(q[greeting.len()..].trim());
        }
    }
    tidy_about(q.trim())
}

/// A question without what it says in brackets ("the World Economic Forum (WEF)"): a name
/// said twice, or an aside, never what is asked. A slash command keeps its text.
fn without_brackets(question: &str) -> String {
    static BRACKETS: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\s*\([^()]{0,80}\)").expect("a valid pattern"));
    if question.trim_start().starts_with('/') {
        return question.to_string();
    }
    BRACKETS.replace_all(question, "").into_owned()
}

/// Without the courtesy at its end (", please", " svp", ", if you know").
fn without_courtesy(q: &str) -> &str {
    for courtesy in [
        "please",
        "thanks",
        "thank you",
        "svp",
        "s'il vous plaît",
        "s’il vous plaît",
        "merci",
        "if you know",
    ] {
        // Cut where the courtesy begins in the question itself: lower-casing may change the
        // length of what comes before it ("İ" is longer in lower case).
        let Some((head, tail)) = q
            .len()
            .checked_sub(courtesy.len())
            .and_then(|at| Some((q.get(..at)?, q.get(at..)?)))
        else {
            continue;
        };
        if tail.to_lowercase() == courtesy && head.ends_with([' ', ',']) {
            return head.trim_end_matches([' ', ',', '?', '!', '.']);
        }
    }
    q
}

/// "about ISO" (what "tell me about ISO" leaves) asks what ISO is.
fn tidy_about(q: &str) -> String {
    match q.get(..6) {
        Some(p) if p.eq_ignore_ascii_case("about ") => format!("what is {}", q[6..].trim()),
        _ => q.to_string(),
    }
}

/// What a question is about without its leading article ("la cybersécurité", "l'OMPI", "the
/// OEWG"): names and topics are looked up without one.
fn without_article(x: &str) -> &str {
    let lower = x.to_lowercase();
    for article in [
        "the ", "a ", "an ", "la ", "le ", "les ", "l'", "l’", "du ", "des ", "de la ", "d'", "d’",
    ] {
        if lower.starts_with(article) && x.len() > article.len() {
            return x[article.len()..].trim_start();
        }
    }
    x
}

/// True when `x` is an actor's name, or close to one (the card says which).
fn names_an_actor(atlas: &Atlas, x: &str) -> bool {
    atlas
        .actors
        .lookup(x, 1)
        .first()
        .is_some_and(|m| m.score >= 0.8)
}

/// What a question is about without "in Geneva" at its end: every actor here is in Geneva's
/// ecosystem, so the place narrows nothing ("qui travaille sur l'IA à Genève").
fn without_place(x: &str) -> &str {
    let lower = x.to_lowercase();
    for place in [
        " in geneva",
        " at geneva",
        " à genève",
        " a geneve",
        " à geneve",
        " en suisse",
        " in switzerland",
    ] {
        if lower.ends_with(place) && x.len() > place.len() {
            return x[..x.len() - place.len()].trim_end();
        }
    }
    x
}

/// "the World Economic Forum's office": whose it is, when the owner is an actor's name.
fn owner_named<'x>(atlas: &Atlas, x: &'x str) -> &'x str {
    // "X's office" (the owner is before the apostrophe), "the United Nations' office" (the
    // owner keeps its s), or "X's" at the end.
    let owner = [("'s ", 0), ("’s ", 0), ("s' ", 1), ("s’ ", 1)]
        .iter()
        .find_map(|(sep, keep)| x.find(sep).map(|at| &x[..at + keep]))
        .or_else(|| x.strip_suffix("'s").or_else(|| x.strip_suffix("’s")));
    match owner.map(str::trim) {
        Some(o) if names_an_actor(atlas, o) => o,
        _ => x,
    }
}

/// What a card says of an actor, as people ask for it ("the headquarters of", "l'adresse
/// de", "UNICC's website"), and the fact /actor's fact: answers alone, where there is one (its
/// address, its website); else the card answers.
const CARD_FACTS: &[(&str, Option<Fact>)] = &[
    ("address", Some(Fact::Address)),
    ("addresses", Some(Fact::Address)),
    ("headquarters", Some(Fact::Address)),
    ("hq", Some(Fact::Address)),
    ("seat", Some(Fact::Address)),
    ("office", Some(Fact::Address)),
    ("offices", Some(Fact::Address)),
    ("website", Some(Fact::Website)),
    ("web site", Some(Fact::Website)),
    ("site", Some(Fact::Website)),
    ("homepage", Some(Fact::Website)),
    ("contact", None),
    ("contacts", None),
    ("location", Some(Fact::Address)),
    ("mandate", None),
    ("mission", None),
    ("adresse", Some(Fact::Address)),
    ("siège", Some(Fact::Address)),
    ("siege", Some(Fact::Address)),
    ("bureau", Some(Fact::Address)),
    ("bureaux", Some(Fact::Address)),
    ("site web", Some(Fact::Website)),
    ("site internet", Some(Fact::Website)),
    ("mandat", None),
];

/// The fact a card's word asks for, if /actor's fact: answers it.
fn fact_named(word: &str) -> Option<Fact> {
    let w = word.to_lowercase();
    CARD_FACTS.iter().find(|(name, _)| *name == w)?.1
}

/// "the headquarters of WIPO", "le siège du Forum économique mondial", "UNICC's address":
/// the actor whose card fact is asked, when the words name one, and the fact.
fn card_fact_of<'x>(atlas: &Atlas, x: &'x str) -> Option<(&'x str, Option<Fact>)> {
    fn facts() -> String {
        let words: Vec<&str> = CARD_FACTS.iter().map(|(w, _)| *w).collect();
        words.join("|")
    }
    static OF: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(&format!(
            r"(?i)^(?:(?:the|its|their|le|la|les|l['’])\s*)?(?P<fact>{})\s+(?:of|for|de|du|des|d['’])\s*(?P<owner>.+)$",
            facts()
        ))
        .expect("a valid pattern")
    });
    // "UNICC's address", "the WIPO website", "ISO homepage", "the World Economic Forums
    // address": the owner's name then the fact, with or without the apostrophe.
    static OWNS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(&format!(
            r"(?i)^(?P<owner>.+?)(?:['’]s|s['’])?\s+(?P<fact>{})$",
            facts()
        ))
        .expect("a valid pattern")
    });
    let c = OF.captures(x).or_else(|| OWNS.captures(x))?;
    let owner = without_article(c.name("owner")?.as_str().trim());
    let fact = c.name("fact").and_then(|f| fact_named(f.as_str()));
    names_an_actor(atlas, owner).then_some((owner, fact))
}

fn line_for(atlas: &Atlas, to: To, x: &str) -> Option<String> {
    if matches!(to, To::Actor | To::Fact(_) | To::WhatIs | To::Search) {
        if let Some((owner, fact)) = card_fact_of(atlas, x) {
            return Some(match fact {
                Some(f) => format!("/actor name:{} fact:{}", quoted(owner), f.as_str()),
                None => format!("/actor name:{}", quoted(owner)),
            });
        }
    }
    let x = match to {
        To::Actor | To::Fact(_) => owner_named(atlas, x),
        _ => x,
    };
    match to {
        To::WhoWorksOn if !x.is_empty() => Some(format!("/who-works-on topic:{}", quoted(x))),
        // Not an actor's name ("where is the first node of the UNICC cloud"): searched.
        To::Maker => {
            names_a_publication_made(atlas, x).then(|| format!("/document query:{}", quoted(x)))
        }
        // "What does SSR stand for": a term of the glossary, if not an actor's acronym.
        // An acronym is an actor's only when /actor would answer it (LAWS is not AWS).
        To::Fact(Fact::Name) if !x.is_empty() && super::actor::resolve(atlas, x).is_none() => {
            Some(what_is(atlas, x))
        }
        To::Actor | To::Fact(_) if !x.is_empty() && !names_an_actor(atlas, x) => {
            Some(format!("/search words:{}", quoted(x)))
        }
        To::Fact(f) if !x.is_empty() => {
            Some(format!("/actor name:{} fact:{}", quoted(x), f.as_str()))
        }
        To::Actor if !x.is_empty() => Some(format!("/actor name:{}", quoted(x))),
        To::WhatIs if !x.is_empty() => Some(what_is(atlas, x)),
        To::Events => {
            let x = x.to_lowercase();
            let range = ["today", "week", "month"].into_iter().find(|r| {
                x.contains(r)
                    || (*r == "today" && x.contains("aujourd"))
                    || (*r == "week" && x.contains("semaine"))
                    || (*r == "month" && x.contains("mois"))
            });
            Some(match range {
                Some(r) => format!("/events range:{r}"),
                None => "/events".into(),
            })
        }
        To::Event if !x.is_empty() => Some(format!("/event show event:{}", quoted(x))),
        To::RemindMe if !x.is_empty() => Some(format!("/remind me event:{}", quoted(x))),
        To::Search if !x.is_empty() => Some(format!("/search words:{}", quoted(x))),
        To::Standard => Some(match atlas.standard_about(x) {
            Some(id) => format!("/standard identifier:{}", quoted(&id)),
            None => format!("/search words:{}", quoted(&about_standard(x))),
        }),
        _ => None,
    }
}

/// "which standard protects X" searched as "protects X": without the words that ask.
fn about_standard(x: &str) -> String {
    x.split_whitespace()
        .filter(|w| !crate::atlas::asks_about_a_standard(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A value quoted for a command line: without any quotation mark, in any typography
/// ("„", "“" are read as `"` by the line's parser and would end the value).
fn quoted(s: &str) -> String {
    format!("\"{}\"", fold_typography(s).replace('"', ""))
}

/// "How many partners does UNICC have": its count, when the words name an actor; else the
/// words searched.
fn count_line(atlas: &Atlas, x: &str, noun: &str) -> String {
    let owner = owner_named(atlas, x);
    if names_an_actor(atlas, owner) {
        format!("/actor name:{} count:{}", quoted(owner), quoted(noun))
    } else {
        format!("/search words:{}", quoted(&format!("{x} {noun}")))
    }
}

/// "What is X": the kind of thing the atlas knows X as — a standard's number, an actor (its
/// card says what it is and does), a term of the glossary, a topic, a document of the UN list,
/// a publication the sources name by that title — else a search.
fn what_is(atlas: &Atlas, x: &str) -> String {
    // "(the) standard ISO/IEC 27701", "(la) norme ISO 27001" (the article is gone already):
    // the standard's number.
    let x = ["standard ", "norme "]
        .iter()
        .find_map(|w| {
            let rest = x.get(w.len()..)?;
            (x[..w.len()].eq_ignore_ascii_case(w) && StandardId::parse(rest).is_some())
                .then_some(rest)
        })
        .unwrap_or(x);
    let quoted = quoted(x);
    if StandardId::parse(x).is_some() {
        return format!("/standard identifier:{quoted}");
    }
    if !atlas.actors.exact(x).is_empty() {
        return format!("/actor name:{quoted}");
    }
    let key = name_key(x);
    if atlas.glossary.iter().any(|g| g.key == key) {
        return format!("/define term:{quoted}");
    }
    if !atlas.topic_terms.exact(x).is_empty() {
        return format!("/who-works-on topic:{quoted}");
    }
    if !atlas.document_titles.exact(x).is_empty() || names_a_publication(atlas, x) {
        return format!("/document query:{quoted}");
    }
    format!("/search words:{quoted}")
}

/// True when the sources name a publication by these words (all of its title's words, a run
/// of two or more of them, or its title and words of the sentence naming it): a single common
/// word ("privacy") is a topic, not a title.
fn names_a_publication(atlas: &Atlas, x: &str) -> bool {
    let typed = crate::search::tokens(x);
    atlas.named(x).first().is_some_and(|n| {
        let title = crate::search::tokens(&n.title);
        // Or its title then words its sentence says ("the iVerify fact-checking tool").
        title == typed
            || (typed.len() >= 2 && title.windows(typed.len()).any(|w| w == typed))
            || typed.starts_with(&title)
    })
}

/// True when `x` is what the sources name as a publication, programme or tool, or a UN list
/// document's title — not an actor ("who created WIPO" asks for its founding).
fn names_a_publication_made(atlas: &Atlas, x: &str) -> bool {
    !x.is_empty()
        && atlas.actors.exact(x).is_empty()
        && (!atlas.document_titles.exact(x).is_empty() || !atlas.named(x).is_empty())
}

/// No shape: an actor named outright (or a fact of it: "UNICC's address"), else the actors
/// whose text speaks of the words.
fn by_the_words(atlas: &Atlas, q: &str) -> Route {
    if let Some(line) = line_for(atlas, To::Actor, q).filter(|_| card_fact_of(atlas, q).is_some()) {
        return Route::Line(line);
    }
    if !atlas.actors.exact(q).is_empty() {
        return Route::Line(format!("/actor name:{}", quoted(q)));
    }
    if StandardId::parse(q).is_some() {
        return Route::Line(format!("/standard identifier:{}", quoted(q)));
    }
    if atlas.speaking_of(q).is_some_and(|s| !s.actors.is_empty()) {
        return Route::Line(format!("/who-works-on topic:{}", quoted(q)));
    }
    Route::Unsure(q.to_string())
}

/// The answer when nothing fits: what to try.
pub fn unsure(words: &str) -> Reply {
    let shown = shorten(words, 60);
    let mut r = Reply::not_found(format!(
        "I could not tell which question “{shown}” is. Try one of these, or /help for all commands."
    ));
    r.suggestions.push(format!("/search {shown}"));
    r.suggestions.push(format!("/who-works-on {shown}"));
    r.suggestions.push("/topics".into());
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greetings_and_punctuation_do_not_change_the_question() {
        assert_eq!(tidy("  Hello   who works on AI?? "), "who works on AI");
        assert_eq!(tidy("please what is the OEWG ?"), "what is the OEWG");
        // A courtesy at the end goes, cut in the question as written ("İ" is longer in lower
        // case: cutting at the lower-cased length left "ple").
        assert_eq!(
            tidy("when was İİİ WIPO founded, Please?"),
            "when was İİİ WIPO founded"
        );
        assert_eq!(
            tidy("quand a été fondée l'OMPI svp"),
            "quand a été fondée l'OMPI"
        );
    }

    #[test]
    fn every_shape_compiles_and_reads_its_example() {
        let examples = [
            ("who works on kids' safety online", "kids' safety online"),
            (
                "which organisations are working on digital money",
                "digital money",
            ),
            ("qui travaille sur la cybersécurité", "la cybersécurité"),
            ("qui s'occupe des enfants en ligne", "enfants en ligne"),
            ("quelles organisations travaillent sur l'IA", "l'IA"),
            ("qui lutte contre la désinformation", "la désinformation"),
            ("when was WIPO founded", "WIPO"),
            ("what does ISO 27001 cover", "ISO 27001"),
            ("who developed the iVerify tool", "the iVerify tool"),
            (
                "by whom is the Digital Economy Report published",
                "the Digital Economy Report",
            ),
            ("qui a développé iVerify", "iVerify"),
        ];
        for (q, x) in examples {
            let hit = SHAPES
                .iter()
                .find_map(|s| s.pattern.captures(q))
                .unwrap_or_else(|| panic!("no shape for {q}"));
            assert_eq!(&hit["x"], x, "{q}");
        }
    }
}
