//! The lookup commands, as a user meets them: typed lines in, plain-text answers out, through
//! the real importer, the real database and the plain renderer.

use atlasbot::commands::autocomplete::{self, MAX_CHOICES, MAX_CHOICE_CHARS};
use atlasbot::commands::{self, Caller, CommandName, Context};
use atlasbot::render::plain;
use atlasbot::reply::Tone;

use crate::support::{self, Bot, TempDb};

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

#[tokio::test]
async fn actor_by_acronym_shows_the_whole_profile() {
    let bot = Bot::new().await;
    let out = bot.ask("/actor WIPO").await;
    assert_eq!(
        first_line(&out),
        "World Intellectual Property Organization (WIPO)"
    );
    for expected in [
        "Founded: 1967",
        "Address: Chemin des Colombettes 34, 1211 Geneva 20, Switzerland",
        "Website: https://www.wipo.int/",
        "Stakeholder group: International and regional organisations",
        "Digital policy issues",
        "  • Frontier technologies including artificial intelligence — WIPO pays particular attention",
        "  • Intellectual property rights — WIPO has long been involved in issues related to the protection of trademarks",
        "Tools and programmes: WIPO Online Case Administration Tools, WIPO GREEN, WIPO Match",
        "Channels: Facebook @WIPO, Flickr @WIPO",
        "Sources: 000:391-481; 001:140-187",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    assert!(
        !out.contains("CyberpeaceInstitute"),
        "another actor's handles are never on this card"
    );
}

#[tokio::test]
async fn actor_finds_names_with_typos_partial_words_and_spelling_variants() {
    let bot = Bot::new().await;
    for (query, expected) in [
        (
            "/actor wrld intelectual property",
            "World Intellectual Property Organization (WIPO)",
        ),
        (
            "/actor intellectual property",
            "World Intellectual Property Organization (WIPO)",
        ),
        (
            "/actor International Organisation for Standardisation",
            "International Organization for Standardization (ISO)",
        ),
        ("/actor cyberpeace institute", "CyberPeace Institute"),
        ("/actor DIPLOFOUNDATION", "DiploFoundation (Diplo)"),
        (
            "/actor W\u{200B}IPO",
            "World Intellectual Property Organization (WIPO)",
        ),
        (
            "/actor \u{202E}unctad",
            "United Nations Conference on Trade and Development (UNCTAD)",
        ),
        (
            "/actor international telecommunications union",
            "International Telecommunication Union (ITU)",
        ),
    ] {
        let out = bot.ask(query).await;
        assert_eq!(first_line(&out), expected, "{query}");
    }
}

#[tokio::test]
async fn an_exact_acronym_beats_names_that_contain_it() {
    let bot = Bot::new().await;
    assert_eq!(
        first_line(&bot.ask("/actor UN").await),
        "United Nations (UN)"
    );
    assert_eq!(first_line(&bot.ask("/actor UN Women").await), "UN Women");
}

#[tokio::test]
async fn an_organisation_known_only_by_curated_alias_gets_a_short_card() {
    let bot = Bot::new().await;
    let out = bot.ask("/actor UNODC").await;
    assert_eq!(first_line(&out), "United Nations Office on Drugs and Crime");
    assert!(
        out.contains("Mentioned in the sources; no profile of its own"),
        "{out}"
    );
    assert!(
        out.contains("UN internal institute specialized in criminal justice systems"),
        "{out}"
    );
    assert!(out.contains("Sources: 002:81"), "{out}");
}

#[tokio::test]
async fn mention_only_cards_quote_who_mentions_them() {
    let bot = Bot::new().await;
    let out = bot.ask("/actor OCEANIS").await;
    assert!(out.contains("International Electrotechnical Commission — The IEC is also a founding member of the *Open Community for Ethics in Autonomous and Intelligent Systems*"), "{out}");
    let iecq = bot.ask("/actor IECQ").await;
    assert!(
        iecq.contains("Part of: International Electrotechnical Commission (IEC) — see /actor IEC"),
        "{iecq}"
    );
}

#[tokio::test]
async fn dcaf_shows_only_what_the_sources_say() {
    let bot = Bot::new().await;
    let out = bot.ask("/actor dcaf").await;
    assert_eq!(first_line(&out), "DCAF");
    assert!(
        out.contains("Founded: 2000") && out.contains("Address: Maison de la Paix"),
        "{out}"
    );
    assert!(
        !out.contains("Stakeholder group"),
        "the sources give DCAF no stakeholder group:\n{out}"
    );
    assert!(
        !out.contains("Policy meets tech"),
        "the blurb after DCAF is not DCAF's:\n{out}"
    );
    let unicc = bot.ask("/actor UNICC").await;
    assert!(
        !unicc.contains("Founded"),
        "UNICC has no founding year in the sources:\n{unicc}"
    );
}

#[tokio::test]
async fn an_unknown_actor_is_not_invented_and_gets_suggestions() {
    let bot = Bot::new().await;
    let r = bot.reply("/actor World Intellectual Zebra Society").await;
    assert_eq!(r.tone, Tone::NotFound);
    let out = plain::render(&r);
    assert!(
        out.starts_with("No actor called “World Intellectual Zebra Society” in the atlas."),
        "{out}"
    );
    assert!(out.contains("Did you mean: /actor WIPO"), "{out}");
    let nothing = bot.ask("/actor qqqqxxxx").await;
    assert!(
        nothing.starts_with("No actor called “qqqqxxxx”"),
        "{nothing}"
    );
}

#[tokio::test]
async fn standards_are_found_however_they_are_written() {
    let bot = Bot::new().await;
    for q in [
        "/standard 62443",
        "/standard IEC62443",
        "/standard iec 62443",
        "/standard IEC 62443 series",
    ] {
        assert_eq!(first_line(&bot.ask(q).await), "IEC 62443 series", "{q}");
    }
    for q in [
        "/standard iso 27001",
        "/standard ISO/IEC 27001",
        "/standard ISO/IEC 27001:2013",
        "/standard 27001",
    ] {
        assert_eq!(first_line(&bot.ask(q).await), "ISO/IEC 27001", "{q}");
    }
    assert_eq!(
        first_line(&bot.ask("/standard TR 24028").await),
        "ISO/IEC TR 24028"
    );
}

#[tokio::test]
async fn a_standard_card_says_what_it_covers_and_who_refers_to_it() {
    let bot = Bot::new().await;
    let out = bot.ask("/standard 27001").await;
    for expected in [
        "International Standard · ISO/IEC",
        "information security management system (ISMS)",
        "Conformity assessment: IECQ certification of an ISMS to ISO/IEC 27001",
        "Extended by: ISO/IEC 27701",
        "UN International Computing Centre — UNICC is certified with *ISO 27001*",
        "→ /actor IEC",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
}

#[tokio::test]
async fn a_part_not_in_the_atlas_shows_its_series_and_says_so() {
    let bot = Bot::new().await;
    let out = bot.ask("/standard iec 62443-3-3").await;
    assert_eq!(first_line(&out), "IEC 62443 series");
    assert!(
        out.contains(
            "IEC 62443-3-3 itself is not in the atlas; this is the IEC 62443 series it belongs to."
        ),
        "{out}"
    );
}

#[tokio::test]
async fn a_bare_number_shared_by_several_parts_lists_them() {
    let bot = Bot::new().await;
    let out = bot.ask("/standard 18370").await;
    assert!(
        out.contains("ISO 18370-1 — Blind digital signatures") && out.contains("ISO/IEC 18370-2 —"),
        "{out}"
    );
}

#[tokio::test]
async fn an_unrelated_string_never_resolves_to_a_standard() {
    let bot = Bot::new().await;
    let r = bot.reply("/standard 27k1").await;
    assert_eq!(r.tone, Tone::NotFound);
    let out = plain::render(&r);
    assert!(
        !out.starts_with("ISO/IEC 27001"),
        "27k1 is not 27001:\n{out}"
    );
    assert!(
        out.contains("Did you mean: /standard ISO/IEC 27001"),
        "{out}"
    );
    assert_eq!(bot.reply("/standard 99999").await.tone, Tone::NotFound);
}

#[tokio::test]
async fn ranking_who_works_on_puts_the_actor_the_sources_describe_most_first() {
    let bot = Bot::new().await;
    let out = bot.ask("/who-works-on e-commerce").await;
    assert_eq!(first_line(&out), "Who works on E-commerce and trade");
    let actors: Vec<&str> = out.lines().filter(|l| l.starts_with("  • ")).collect();
    // UNCTAD's profile gives e-commerce a section with eight sub-sections; WEF one section.
    assert!(actors[0].starts_with("  • United Nations Conference on Trade and Development (UNCTAD) — Profile section “E-commerce and trade”: "), "{out}");
    assert!(actors[1].starts_with("  • World Economic Forum (WEF) — Profile section “E-commerce and trade and digital business models”: "), "{out}");
    // "trade" inside another organisation's name is not the topic.
    assert!(!out.contains("International *Trade* Union"), "{out}");
    assert!(!out.contains("World *Trade* Organization"), "{out}");
}

#[tokio::test]
async fn ranking_acronym_synonyms_match_in_their_own_case_only() {
    let bot = Bot::new().await;
    let out = bot.ask("/who-works-on LAWS").await;
    assert!(out.contains("ICT4Peace"), "{out}");
    // "laws and policies" (DCAF, UNCTAD, WIPO) are not Lethal Autonomous Weapons Systems.
    assert!(!out.contains("*laws*"), "{out}");
    assert!(!out.contains("DCAF"), "{out}");
}

#[tokio::test]
async fn ranking_narrower_words_put_the_actors_that_use_them_first() {
    let bot = Bot::new().await;
    let out = bot.ask("/who-works-on PKI").await;
    let actors: Vec<&str> = out.lines().filter(|l| l.starts_with("  • ")).collect();
    // UNICC manages the UN's root Certificate Authority (003:18); ISO only has an encryption
    // section.
    assert!(
        actors[0].starts_with("  • UN International Computing Centre (UNICC) — "),
        "{out}"
    );
    assert!(actors[0].contains("*PKI*"), "{out}");
    assert!(
        out.starts_with("Who works on PKI (Encryption)")
            && out.contains("1 of the 3 actors on Encryption says “PKI”"),
        "{out}"
    );
    // The topic's others are apart, said to be on the topic, not on the words.
    let (answer, also) = out
        .split_once("Also on Encryption (their text does not say “PKI”)")
        .expect("the topic's others, apart");
    assert!(!answer.contains("(ISO)") && also.contains("(ISO)"), "{out}");
}

#[tokio::test]
async fn ranking_narrower_words_list_as_working_on_them_only_those_whose_text_says_them() {
    let bot = Bot::new().await;
    // IEC, ISO and UNICC name "intellectual property" only as an asset to secure: they are
    // on the topic, not on trademarks.
    let out = bot.ask_unmarked("/who-works-on trademarks").await;
    let (answer, also) = out
        .split_once("Also on Intellectual property rights")
        .expect("the topic's others, apart");
    assert!(
        answer.contains("(WIPO)") && answer.contains("[000:407]"),
        "{out}"
    );
    for other in ["(IEC)", "(ISO)", "(UNICC)"] {
        assert!(
            !answer.contains(other) && also.contains(other),
            "{other}: {out}"
        );
    }
    // A tool's description says them too (WIPO Academy's eLearning Centre).
    let out = bot.ask_unmarked("/who-works-on e-learning").await;
    assert!(
        out.contains("WIPO Academy – also includes an eLearning Centre"),
        "{out}"
    );
    // Misspelt, the narrower words are read as written, and said so.
    let out = bot.ask_unmarked("/who-works-on copyrigth").await;
    assert!(
        out.starts_with("Who works on copyright (Intellectual property rights)")
            && out.contains("“copyrigth” read as “copyright”."),
        "{out}"
    );
    // A prefix every digital topic shares does not make words the topic itself.
    let out = bot.ask_unmarked("/who-works-on cyber mercenaries").await;
    assert!(
        out.starts_with("Who works on cyber mercenaries (Cyberconflict and warfare)")
            && out.contains("[001:129]"),
        "{out}"
    );
    // The topic's name written joined is the topic, not narrower words.
    let out = bot.ask_unmarked("/who-works-on ecommerce").await;
    assert!(
        out.starts_with("Who works on E-commerce and trade\n"),
        "{out}"
    );
}

#[tokio::test]
async fn attribution_a_body_of_the_un_list_owns_its_description() {
    let bot = Bot::new().await;
    let out = bot.ask("/who-works-on cybercrime").await;
    assert!(out.contains("  • United Nations Office on Drugs and Crime — UN internal institute specialized in criminal justice systems, by also carrying out researches and analysis on *cybercrimes*."), "{out}");
    assert!(
        out.contains("World Economic Forum (WEF) — Profile section “Cybercrime”"),
        "{out}"
    );
    assert!(
        out.contains("Documents and processes") && out.contains("Global Programme on Cybercrime"),
        "{out}"
    );
    let un = bot.ask("/actor UN").await;
    assert!(!un.contains("creating rules for disarmament"), "{un}");
}

#[tokio::test]
async fn define_explains_acronyms_with_every_expansion_the_sources_give() {
    let bot = Bot::new().await;
    let oewg = bot.ask("/define OEWG").await;
    assert!(
        oewg.contains("United Nations Open-Ended Working Group"),
        "{oewg}"
    );
    let aosis = bot.ask("/define aosis").await;
    assert!(
        aosis.contains("Alliance of Small Island States")
            && aosis.contains("Association of Small Island States"),
        "{aosis}"
    );
    let unga = bot.ask("/define UNGA").await;
    assert!(
        unga.contains("United Nations General Assembly (curated: the sources write “UNGA” without expanding it, e.g. 002:"),
        "{unga}"
    );
    let r = bot.reply("/define PKII").await;
    assert_eq!(r.tone, Tone::NotFound);
    assert!(plain::render(&r).contains("/define PKI"));
}

#[tokio::test]
async fn topics_are_listed_by_basket_with_counts() {
    let bot = Bot::new().await;
    let out = bot.ask("/topics").await;
    for expected in [
        "Infrastructure",
        "Security",
        "New technologies",
        "  • Artificial intelligence — 8 actors, 6 with a profile section on it → /who-works-on Artificial intelligence",
        "  • Cybercrime — 5 actors, 1 with a profile section on it",
    ] {
        assert!(out.contains(expected), "missing {expected:?}:\n{out}");
    }
    // The count is what the topic's own answer lists.
    let cyber = bot.ask("/who-works-on Cybersecurity").await;
    assert!(
        out.contains("Cybersecurity — 11 actors,") && cyber.contains("11 actors"),
        "{cyber}"
    );
}

#[tokio::test]
async fn search_groups_what_it_finds_by_kind() {
    let bot = Bot::new().await;
    let out = bot.ask("/search 27001").await;
    assert!(out.contains("Standards\n  • ISO/IEC 27001 —"), "{out}");
    let paris = bot.ask("/search Paris Call").await;
    assert!(
        paris.contains("Passages") && paris.contains("*Paris* *Call*"),
        "{paris}"
    );
}

#[tokio::test]
async fn help_is_generated_from_the_manifests() {
    let bot = Bot::new().await;
    let out = bot.ask("/help").await;
    for c in CommandName::ALL {
        assert!(
            out.contains(&format!("/{}", c.name())),
            "/help lists /{}:\n{out}",
            c.name()
        );
    }
    let one = bot.ask("/help standard").await;
    assert!(
        one.contains("Usage: /standard <identifier>") && one.contains("  • /standard iso 27001"),
        "{one}"
    );
}

#[tokio::test]
async fn usage_errors_show_an_example_that_works() {
    let bot = Bot::new().await;
    let r = bot.reply("/standard").await;
    assert_eq!(r.tone, Tone::Usage);
    assert_eq!(plain::render(&r), "/standard needs identifier: Standard number or identifier (62443, ISO/IEC 27001, TR 24028). Usage: /standard <identifier>\n\nTry: /standard 62443\n");
    assert_eq!(
        plain::render(&bot.reply("/stnadard 62443").await),
        "There is no command /stnadard. Did you mean /standard?\n\nTry: /standard\n"
    );
}

#[tokio::test]
async fn nothing_a_user_types_breaks_a_query() {
    let bot = Bot::new().await;
    for line in [
        "/search \" * NEAR( AND OR -",
        "/search *",
        "/who-works-on \"\"\"",
        "/actor '; DROP TABLE actors; --",
        "/document ) OR 1=1 --",
        "/define %_%",
        "/standard ISO/IEC ''\"",
        "/search ☃️ 🙂 ﷽ \u{0000}",
        "/actor \u{202E}\u{200F}\u{2066}",
        "/who-works-on column:text",
    ] {
        let r = bot.reply(line).await;
        assert!(
            matches!(r.tone, Tone::Answer | Tone::NotFound | Tone::Usage),
            "{line}: {r:?}"
        );
    }
    assert_eq!(
        first_line(&bot.ask("/actor WIPO").await),
        "World Intellectual Property Organization (WIPO)",
        "the atlas is intact"
    );
}

#[tokio::test]
async fn input_over_500_characters_gets_a_polite_refusal() {
    let bot = Bot::new().await;
    let r = bot.reply(&format!("/actor {}", "a".repeat(600))).await;
    assert_eq!(r.tone, Tone::Refusal);
    assert!(plain::render(&r).contains("please keep a question under 500 characters"));
}

#[tokio::test]
async fn internal_errors_show_only_an_incident_reference() {
    let db = TempDb::new();
    let store = db.store().await;
    let ctx = Context::new(store.clone()).await.unwrap();
    store.close().await;
    // Lookups answer from the atlas in memory, database or not …
    let r = commands::answer(&ctx, &Caller::console(), "/actor WIPO").await;
    assert_eq!(r.tone, Tone::Answer);
    // … the runtime state needs the (now closed) database.
    let r = commands::answer(&ctx, &Caller::console(), "/events").await;
    assert_eq!(r.tone, Tone::Failure);
    let out = plain::render(&r);
    assert!(
        out.starts_with("Sorry, something went wrong on my side (ref "),
        "{out}"
    );
    assert!(
        !out.to_lowercase().contains("pool") && !out.to_lowercase().contains("sql"),
        "no internal text: {out}"
    );
}

#[tokio::test]
async fn autocomplete_offers_at_most_25_short_ranked_choices() {
    let bot = Bot::new().await;
    let index = bot.ctx.atlas().await.unwrap();
    let names = autocomplete::complete(&index, CommandName::Actor, "name", "intel");
    assert!(
        names
            .iter()
            .any(|c| c.value == "World Intellectual Property Organization"),
        "{names:?}"
    );
    let all = autocomplete::complete(&index, CommandName::Actor, "name", "");
    assert_eq!(all.len(), MAX_CHOICES);
    for c in autocomplete::complete(&index, CommandName::Standard, "identifier", "2700")
        .iter()
        .chain(all.iter())
    {
        assert!(
            c.name.chars().count() <= MAX_CHOICE_CHARS
                && c.value.chars().count() <= MAX_CHOICE_CHARS,
            "{c:?}"
        );
    }
    let standards = autocomplete::complete(&index, CommandName::Standard, "identifier", "2700");
    assert_eq!(
        standards
            .iter()
            .map(|c| c.value.as_str())
            .collect::<Vec<_>>(),
        [
            "ISO/IEC 27001",
            "ISO/IEC 27002",
            "ISO/IEC 27031",
            "ISO/IEC 27035",
            "ISO/IEC 27701"
        ][..2]
    );
    let topics = autocomplete::complete(&index, CommandName::WhoWorksOn, "topic", "capacity b");
    assert_eq!(
        topics.first().map(|c| c.value.as_str()),
        Some("Capacity development")
    );
}

#[test]
fn ask_prints_the_answer_and_exits_0_even_when_nothing_is_found() {
    let db = TempDb::new();
    let out = support::atlasbot(&db.path, &["ask", "/actor WIPO"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(support::stdout(&out).starts_with("World Intellectual Property Organization (WIPO)\n"));
    let none = support::atlasbot(&db.path, &["ask", "/actor nobody at all"]);
    assert_eq!(none.status.code(), Some(0));
    let usage = support::atlasbot(&db.path, &["ask", "/actor"]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(support::stdout(&usage).contains("Usage: /actor <name>"));
}

#[test]
fn ask_json_prints_the_reply_as_json() {
    let db = TempDb::new();
    let out = support::atlasbot(&db.path, &["ask", "--json", "/standard 62443"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&support::stdout(&out)).expect("valid JSON");
    assert_eq!(v["tone"], "answer");
    assert_eq!(v["title"], "IEC 62443 series");
}

#[test]
fn the_console_answers_every_line_of_a_pipe() {
    use std::io::Write;
    let db = TempDb::new();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_atlasbot"))
        .arg("--db")
        .arg(&db.path)
        .arg("console")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"/define PKI\n\n!actor ISO\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Public Key Infrastructure")
            && text.contains("International Organization for Standardization (ISO)"),
        "{text}"
    );
}

#[test]
fn a_fresh_database_answers_the_first_question() {
    let db = TempDb::empty();
    let out = support::atlasbot(&db.path, &["ask", "/define GGE"]);
    assert_eq!(out.status.code(), Some(0), "{}", support::stderr(&out));
    assert!(support::stdout(&out).contains("Group of Governmental Experts"));
}

#[test]
fn a_piped_console_reads_on_past_invalid_utf8_and_huge_lines() {
    let db = TempDb::new();
    let mut input = b"/define OEWG\n".to_vec();
    input.extend_from_slice(b"/define \xff\xfe broken\n");
    // 20 MB on one line: answered "too long" without being held in memory whole.
    input.extend(std::iter::repeat_n(b'a', 20_000_000));
    input.push(b'\n');
    input.extend_from_slice(b"/define GGE\n");
    let out = support::console_with_input(&db.path, input);
    assert!(out.status.success(), "{}", support::stderr(&out));
    let text = support::stdout(&out);
    assert!(
        text.contains("Open-Ended Working Group"),
        "first line answered"
    );
    assert!(
        text.contains("keep a question under 500 characters"),
        "{}",
        &text[..text.len().min(2000)]
    );
    assert!(
        text.contains("Group of Governmental Experts"),
        "the line after the invalid and the huge ones is answered too"
    );
}

#[test]
fn user_text_with_control_characters_is_shown_without_them() {
    let db = TempDb::new();
    let out = support::console_with_input(
        &db.path,
        b"/event add title:\"Red \x1b[31malert\x1b[0m\x07\" when:\"in 3 days\"\n".to_vec(),
    );
    let text = support::stdout(&out);
    assert!(text.contains("Scheduled: Red"), "{text}");
    assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
}

/// Regression (answer quality, class 1): an acronym or short name that is not in the atlas
/// used to come back as a neighbouring organisation's full card (IEEE → IECEE).
#[tokio::test]
async fn an_unknown_acronym_is_not_answered_with_another_organisations_card() {
    let bot = Bot::new().await;
    for unknown in [
        "IEEE", "OECD", "WMO", "ILO", "ICRC", "GSMA", "W3C", "IETF", "ieee",
    ] {
        let r = bot.reply(&format!("/actor {unknown}")).await;
        let text = plain::render(&r);
        assert_eq!(r.tone, Tone::NotFound, "{unknown}: {text}");
        assert!(
            text.starts_with(&format!("No actor called “{unknown}” in the atlas.")),
            "{unknown}: {text}"
        );
    }
    // What the sources only mention in passing is said to be there, with where.
    let ieee = bot.ask("/actor IEEE").await;
    assert!(
        ieee.contains("The sources mention it in passing (000:649): /search IEEE"),
        "{ieee}"
    );
    // Known acronyms and names still answer exactly, with no correction note.
    for (known, title) in [
        ("WIPO", "World Intellectual Property Organization (WIPO)"),
        ("iec", "International Electrotechnical Commission (IEC)"),
        (
            "UNCTAD",
            "United Nations Conference on Trade and Development (UNCTAD)",
        ),
    ] {
        let out = bot.ask(&format!("/actor {known}")).await;
        assert!(out.starts_with(title), "{known}: {out}");
        assert!(!out.contains("Showing "), "{known}: {out}");
    }
}

/// A misspelt long name is still found — and the card says what it shows for what was asked.
#[tokio::test]
async fn a_corrected_long_name_says_what_it_shows_for_what() {
    let bot = Bot::new().await;
    let out = bot.ask("/actor wrld intelectual property").await;
    assert!(
        out.starts_with("World Intellectual Property Organization (WIPO)\nShowing WIPO for “wrld intelectual property”"),
        "{out}"
    );
}

/// Regression (answer quality, class 6): a resolution cited by number, as people and the
/// sources write it, finds the document the atlas lists under its full symbol.
#[tokio::test]
async fn a_resolution_is_found_by_its_number_in_every_common_form() {
    let bot = Bot::new().await;
    for form in [
        "A/RES/68/167",
        "a/res/68/167",
        "68/167",
        "resolution 68/167",
        "Resolution 68 / 167",
        "res. 68/167",
        "GA resolution 68/167",
    ] {
        let out = bot.ask(&format!("/document {form}")).await;
        assert_eq!(
            first_line(&out),
            "Resolution on the right to privacy in the digital age",
            "{form}"
        );
    }
}

/// The in-memory full-text index ranks as SQLite's FTS5 does on the stored atlas: same
/// passages, same BM25 scores, for common and rare words alike.
#[tokio::test]
async fn the_in_memory_search_ranks_as_fts5_does_on_the_stored_atlas() {
    let bot = Bot::new().await;
    let atlas = bot.ctx.atlas().await.unwrap();
    for word in [
        "quantum",
        "cybersecurity",
        "capacity",
        "privacy",
        "geneva",
        "wipo",
    ] {
        let reference = bot.ctx.store.fts5_query(word, 500).await.unwrap();
        let query = atlasbot::search::fts_query(&[word]).unwrap();
        let ours = atlas.search_passages(&query, atlasbot::atlas::Passages::All, 500);
        assert!(!reference.is_empty(), "{word} is in the sources");
        assert_eq!(ours.len(), reference.len(), "{word}");
        // Ties may come in either order: compare each passage's score.
        let scores: std::collections::HashMap<i64, f64> = reference.into_iter().collect();
        for hit in &ours {
            let want = scores[&hit.passage_id];
            assert!(
                (hit.rank - want).abs() < 1e-9,
                "{word}: {} vs {want}",
                hit.rank
            );
        }
    }
}

/// "Look up in atlas" on a message: what it names, each with its command, only for the asker.
#[tokio::test]
async fn a_message_is_looked_up_for_the_actors_standards_and_documents_it_names() {
    use atlasbot::commands::look_up;
    use atlasbot::reply::{Tone, Visibility};
    let bot = support::Bot::new().await;
    let atlas = bot.ctx.atlas().await.unwrap();
    let r = look_up::run(
        &atlas,
        "Did anyone follow what WIPO and the ITU said about IEC 62443 yesterday, and the GGE report A/70/174?",
    );
    assert_eq!(r.visibility, Visibility::Private);
    let items: Vec<(String, String)> = r
        .sections
        .iter()
        .flat_map(|s| s.items.iter())
        .map(|i| {
            (
                i.label.clone().unwrap_or_default(),
                i.more.clone().unwrap_or_default(),
            )
        })
        .collect();
    let commands: Vec<&str> = items.iter().map(|(_, m)| m.as_str()).collect();
    assert!(commands.contains(&"/actor WIPO"), "{items:?}");
    assert!(commands.contains(&"/actor ITU"), "{items:?}");
    assert!(
        commands
            .iter()
            .any(|c| c.starts_with("/standard") && c.contains("62443")),
        "{items:?}"
    );
    assert!(commands.contains(&"/document A/70/174"), "{items:?}");
    // Each command works and shows what the look-up named.
    for (label, command) in &items {
        let answer = bot.ask_unmarked(command).await;
        assert!(
            answer.contains(label.as_str()),
            "{command} does not show {label}: {answer}"
        );
    }

    // Ordinary words are not acronyms; a message naming nothing says so.
    for text in ["who knows what the itu of this is", "", "   "] {
        let r = look_up::run(&atlas, text);
        assert_eq!(r.tone, Tone::NotFound, "{text:?}: {r:?}");
        assert_eq!(r.visibility, Visibility::Private);
    }
}

#[tokio::test]
async fn a_typed_line_completes_its_command_subcommand_options_and_values() {
    let bot = Bot::new().await;
    let atlas = bot.ctx.atlas().await.unwrap();
    let completed = |line: &str| {
        let c = autocomplete::complete_line(&atlas, line);
        c.choices
            .iter()
            .map(|ch| format!("{}{}", &line[..c.start], ch.value))
            .collect::<Vec<_>>()
    };
    assert_eq!(completed("/act"), ["/actor "]);
    assert_eq!(completed("!who"), ["!who-works-on "]);
    assert_eq!(completed("/event ad"), ["/event add "]);
    assert!(completed("/event add title:Town when:x wh").is_empty());
    assert_eq!(
        completed("/event add title:\"Town hall\" wh"),
        ["/event add title:\"Town hall\" when:"]
    );
    assert!(completed("/actor wor")
        .contains(&"/actor World Intellectual Property Organization".to_string()));
    assert!(completed("/who-works-on capacity b")
        .contains(&"/who-works-on Capacity development".to_string()));
    assert_eq!(
        completed("/follow actor:WIP").first().map(String::as_str),
        Some("/follow actor:WIPO ")
    );
    assert!(completed("/follow topic:cybers").contains(&"/follow topic:Cybersecurity ".to_string()));
    assert!(completed("/nosuch x").is_empty());
    assert!(completed("actor").is_empty(), "not a command line");
}

/// Words that are not a topic are read in the atlas's own spellings: every inflection and every
/// way of writing a compound finds the same actors, and the header never claims a topic.
#[tokio::test]
async fn words_that_are_not_a_topic_are_read_in_every_spelling_of_the_sources() {
    let bot = Bot::new().await;
    let mut answers = Vec::new();
    for typed in [
        "/who-works-on cyber attacks on hospitals",
        "/who-works-on cyber-attack hospital",
        "/who-works-on cyberattacks hospitals",
    ] {
        let out = bot.ask(typed).await;
        assert!(
            first_line(&out).starts_with("Actors whose text speaks of"),
            "{typed}: {out}"
        );
        answers.push(
            out.lines()
                .filter(|l| l.trim_start().starts_with('•'))
                .map(|l| l.split(" — ").next().unwrap_or("").to_string())
                .collect::<Vec<_>>(),
        );
    }
    assert!(!answers[0].is_empty());
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0], answers[2]);
}

/// Regression guard for the reading above: every actor listed carries the link — the sentence
/// shown says each specific word asked (in one of its spellings) — and a word the sources
/// never use gives "no one", not a list of actors for the other words.
#[tokio::test]
async fn an_actor_is_listed_for_words_only_with_a_sentence_that_says_them() {
    let bot = Bot::new().await;
    let out = bot.ask("/who-works-on hate speech online").await;
    let listed: Vec<&str> = out
        .lines()
        .filter(|l| l.trim_start().starts_with('•'))
        .collect();
    assert!(!listed.is_empty(), "{out}");
    for l in &listed {
        let lower = l.to_lowercase();
        assert!(lower.contains("*hate") && lower.contains("speech"), "{l}");
    }
    let out = bot.ask("/who-works-on quantum basket weaving").await;
    assert!(out.starts_with("No one in the atlas works on"), "{out}");
    // The topics suggested under "no one" share a word with the question, not just letters.
    let out = bot.reply("/who-works-on river pollution").await;
    assert_eq!(out.tone, Tone::NotFound);
    assert!(out.suggestions.is_empty(), "{:?}", out.suggestions);
    let out = bot.reply("/who-works-on cyber stuff").await;
    assert!(
        out.suggestions
            .iter()
            .any(|s| s == "/who-works-on Cybersecurity"),
        "{:?}",
        out.suggestions
    );
}

/// Plain questions are routed to the command that answers them, which the answer names; a
/// console line without a slash is a question too; what cannot be placed gets suggestions.
#[tokio::test]
async fn plain_questions_are_answered_by_the_command_that_fits_and_say_which() {
    let bot = Bot::new().await;
    for (question, command, says) in [
        (
            "/ask who works on cybersecurity?",
            "/who-works-on",
            "Who works on Cybersecurity",
        ),
        (
            "/ask when was WIPO founded?",
            "/actor",
            "Founded in 1967 [000:395]",
        ),
        ("/ask what is the OEWG?", "/define", "OEWG"),
        (
            "/ask what does ISO/IEC 27001 cover?",
            "/standard",
            "ISO/IEC 27001",
        ),
        (
            "/ask quelle est l'adresse de l'OMPI ?",
            "/actor",
            "Chemin des Colombettes",
        ),
        ("who works on hate speech", "/who-works-on", "hate speech"),
        // Whose office: the owner's card (a possessive, a plural possessive).
        (
            "/ask where is the World Intellectual Property Organization's office?",
            "/actor",
            "Chemin des Colombettes",
        ),
        (
            "/ask where can I find WIPO in Geneva?",
            "/actor",
            "Chemin des Colombettes",
        ),
        // Where a body is based, located, headquartered — in English and French.
        ("/ask Where is DCAF located?", "/actor", "Maison de la Paix"),
        (
            "/ask where does WIPO have its headquarters",
            "/actor",
            "Chemin des Colombettes",
        ),
        ("/ask où est basé le DCAF ?", "/actor", "Maison de la Paix"),
        (
            "/ask où se situe l'OMPI ?",
            "/actor",
            "Chemin des Colombettes",
        ),
        ("/ask what is OEWG short for?", "/define", "OEWG"),
        (
            "/ask que couvre la norme ISO/IEC 27001 ?",
            "/standard",
            "ISO/IEC 27001",
        ),
        (
            "/ask depuis quand existe l'OMPI ?",
            "/actor",
            "Founded in 1967",
        ),
        (
            "/ask how long has WIPO existed?",
            "/actor",
            "Founded in 1967",
        ),
        // A standard by what it covers: the one the registry describes so, clearly.
        (
            "/ask which standard secures industrial automation?",
            "/standard",
            "IEC 62443",
        ),
        (
            "/ask what is the main standard for managing AI systems?",
            "/standard",
            "ISO/IEC 42001",
        ),
        // None clearly (two say as much, or none): the words are searched, without the ones
        // that ask.
        (
            "/ask what standard is used for information security management?",
            "/search",
            "words:\"information security management\"",
        ),
        (
            "/ask which standard covers cooking pasta?",
            "/search",
            "words:\"cooking pasta\"",
        ),
    ] {
        let out = bot.ask(question).await;
        assert!(
            out.contains(&format!("Asked as {command}")),
            "{question}: {out}"
        );
        assert!(out.contains(says), "{question}: {out}");
    }
    let out = bot.ask("/ask blorb flarn").await;
    assert!(out.contains("I could not tell which question"), "{out}");
    assert!(out.contains("/search blorb flarn"), "{out}");
    // A command typed without its slash stays that command.
    let out = bot.ask("actor WIPO").await;
    assert!(!out.contains("Asked as"), "{out}");
    assert!(
        out.starts_with("World Intellectual Property Organization"),
        "{out}"
    );
}

#[tokio::test]
async fn a_page_past_the_end_shows_the_last_and_says_so() {
    let bot = Bot::new().await;
    let last = bot.reply("/who-works-on privacy page:999").await;
    let paging = last.paging.clone().expect("privacy has more than one page");
    assert_eq!(paging.page, paging.pages, "the last page is shown");
    let said = format!(
        "There is no page 999: showing the last, page {0} of {0}",
        paging.pages
    );
    assert!(
        last.subtitle
            .as_deref()
            .is_some_and(|s| s.starts_with(&said)),
        "{:?}",
        last.subtitle
    );
    // A page that exists is not remarked on; a one-page answer says it has one.
    let second = bot.reply("/who-works-on privacy page:2").await;
    assert!(!second.subtitle.unwrap_or_default().contains("no page"));
    let one = bot.ask("/search marrakesh treaty page:7").await;
    assert!(
        one.contains("There is no page 7: this answer has one page"),
        "{one}"
    );
}

#[tokio::test]
async fn one_fact_of_an_actor_is_the_line_that_states_it_or_a_plain_the_sources_dont_say() {
    let bot = Bot::new().await;
    // A profile's own line, cited.
    let iec = bot.ask("/actor IEC fact:founded").await;
    assert!(iec.contains("Founded in 1906 [000:5]"), "{iec}");
    // A website the scrape writes on the line after "Website:" is cited on that line.
    let dcaf_site = bot.ask("/actor DCAF fact:website").await;
    assert!(
        dcaf_site.contains("https://www.dcaf.ch/ [001:3]"),
        "{dcaf_site}"
    );
    let wipo = bot.ask("/actor WIPO fact:address").await;
    assert!(
        wipo.contains("Chemin des Colombettes 34, 1211 Geneva 20, Switzerland [000:397]"),
        "{wipo}"
    );
    // A year read from a sentence is given with the sentence, cited where it is written.
    let dcaf = bot.ask("/actor DCAF fact:founded").await;
    assert!(
        dcaf.contains(
            "2000, as the sources put it: “Since its founding in 2000, DCAF has contributed"
        ) && dcaf.contains("[001:4]"),
        "{dcaf}"
    );
    // Where alumni come from is no count of members; "the sources don't say" is.
    let diplo = bot.reply("/actor Diplo fact:members").await;
    assert_eq!(diplo.tone, Tone::NotFound, "{:?}", plain::render(&diplo));
    // A full name is cited where the sources write it, not the curated entry.
    let aosis = bot.ask("/actor AOSIS fact:name").await;
    assert!(
        aosis.contains("Alliance of Small Island States [003:37]"),
        "{aosis}"
    );
    // Any count the sources give of a thing, asked by name.
    let partners = bot.ask("/actor UNICC count:partners").await;
    assert!(
        partners.contains("*over 90 partners*") && partners.contains("[000:492]"),
        "{partners}"
    );
    let none = bot.ask("/actor ISO count:countries").await;
    assert!(
        none.contains("The sources give no number of countries for ISO."),
        "{none}"
    );
    // An age said as experience answers "how old".
    let unicc_age = bot.ask("/actor UNICC fact:founded").await;
    assert!(
        unicc_age.contains("*over 50 years* of experience"),
        "{unicc_age}"
    );
    // Stated in prose: the sentence, the count marked, and only of the body itself.
    let iso = bot.ask("/actor ISO fact:members").await;
    assert!(
        iso.contains("*170 national standards bodies*") && iso.contains("[000:626]"),
        "{iso}"
    );
    let aosis = bot.ask("/actor AOSIS fact:members").await;
    assert!(
        aosis.contains("*39 small island and coastal developing states*"),
        "{aosis}"
    );
    // UNICC's profile gives no year, and "UNICC Cybersecurity … since its inception in
    // 2017" is a service of it, not its founding.
    let unicc = bot.ask("/actor UNICC fact:founded").await;
    assert!(!unicc.contains("2017"), "{unicc}");
    let unknown = bot.reply("/actor CyberPeace Institute fact:people").await;
    assert_eq!(unknown.tone, Tone::NotFound);
    let text = plain::render(&unknown);
    assert!(
        text.contains(
            "The sources don't say how many people work for or with CyberPeace Institute."
        ),
        "{text}"
    );
    let wef = bot.reply("/actor WEF fact:members").await;
    assert_eq!(wef.tone, Tone::NotFound, "WEF's text counts no members");
    // What an acronym stands for: the profile's name, else a curated alias that spells it.
    let unctad = bot.ask("/actor UNCTAD fact:name").await;
    assert!(
        unctad.contains("United Nations Conference on Trade and Development [000:721]"),
        "{unctad}"
    );
    let dcaf = bot.ask("/actor DCAF fact:name").await;
    assert!(
        dcaf.contains("Geneva Centre for the Democratic Control of Armed Forces (curated"),
        "{dcaf}"
    );
    // A fact that is not one gets the list of those that are.
    let bad = bot.reply("/actor WIPO fact:budget").await;
    assert_eq!(bad.tone, Tone::Usage);
}

#[tokio::test]
async fn fact_questions_in_plain_words_ask_for_the_fact_not_the_whole_card() {
    let bot = Bot::new().await;
    for (question, line, says) in [
        (
            "when was UNICC founded?",
            "/actor name:\"UNICC\" fact:founded",
            "over 50 years",
        ),
        (
            "when was the World Economic Forum (WEF) founded, please?",
            "/actor name:\"World Economic Forum\" fact:founded",
            "Founded in 1971 [000:145]",
        ),
        (
            "was WIPO founded in 1970?",
            "/actor name:\"WIPO\" fact:founded",
            "Founded in 1967",
        ),
        (
            "since when does DCAF exist?",
            "/actor name:\"DCAF\" fact:founded",
            "Since its founding in 2000",
        ),
        (
            "en quelle année a été créée la CNUCED ?",
            "/actor name:\"CNUCED\" fact:founded",
            "Founded in 1964",
        ),
        (
            "is UNICC based in New York?",
            "/actor name:\"UNICC\" fact:address",
            "Palais des Nations",
        ),
        (
            "what is the WIPO website?",
            "/actor name:\"WIPO\" fact:website",
            "https://www.wipo.int/",
        ),
        (
            "ISO homepage",
            "/actor name:\"ISO\" fact:website",
            "https://www.iso.org/iso/home.html",
        ),
        (
            "how many partners does UNICC have?",
            "/actor name:\"UNICC\" count:\"partners\"",
            "over 90 partners",
        ),
        (
            "how many countries does the IEC have",
            "/actor name:\"IEC\" count:\"countries\"",
            "over 170 countries",
        ),
        (
            "where was COP26 held?",
            "/event show event:\"COP26\"",
            "Glasgow",
        ),
        (
            "quand s'est tenue la COP26 ?",
            "/event show event:\"COP26\"",
            "Glasgow",
        ),
        (
            "when is the Common Secure Conference?",
            "/event show event:\"Common Secure Conference\"",
            "2021-11-16 to 2021-11-24",
        ),
        (
            "when is AI for Good held?",
            "/event show event:\"AI for Good\"",
            "on this space's calendar, and the sources name no event by these words",
        ),
        (
            "How many members does ISO have",
            "/actor name:\"ISO\" fact:members",
            "170 national standards bodies",
        ),
        (
            "what does DCAF stand for",
            "/actor name:\"DCAF\" fact:name",
            "Democratic Control of Armed Forces",
        ),
        (
            "where is WIPO based?",
            "/actor name:\"WIPO\" fact:address",
            "Chemin des Colombettes",
        ),
        (
            "what is the website of UNCTAD",
            "/actor name:\"UNCTAD\" fact:website",
            "https://unctad.org/",
        ),
        (
            "UNICC's address",
            "/actor name:\"UNICC\" fact:address",
            "Palais des Nations",
        ),
        (
            "combien de membres compte l'OMPI",
            "/actor name:\"OMPI\" fact:members",
            "193 member states",
        ),
        (
            "quand a été fondée la CNUCED",
            "/actor name:\"CNUCED\" fact:founded",
            "Founded in 1964",
        ),
        (
            "when did COP26 take place",
            "/event show event:\"COP26\"",
            "2021-10-31 to 2021-11-12",
        ),
        // Not an actor's acronym: the glossary says what it stands for.
        (
            "what does SSR stand for",
            "/define term:\"SSR\"",
            "security sector reform",
        ),
    ] {
        let out = bot.ask(question).await;
        assert!(
            out.contains(&format!("Asked as {line}")),
            "{question}:\n{out}"
        );
        assert!(out.contains(says), "{question}:\n{out}");
    }
}

#[tokio::test]
async fn a_document_asked_by_its_owners_name_lists_what_the_owners_text_names() {
    let bot = Bot::new().await;
    let unctad = bot.ask("/document UNCTAD").await;
    assert!(unctad.starts_with("What UNCTAD's text names"), "{unctad}");
    for named in [
        "Digital Economy Report — report [000:763]",
        "Global Cyberlaw Tracker — tracker [000:788]",
        "→ /document eTrade Readiness Assessments",
    ] {
        assert!(unctad.contains(named), "missing {named:?} in:\n{unctad}");
    }
    // Only its own text's: WEF's toolkits are not UNCTAD's.
    assert!(!unctad.contains("Toolkit"), "{unctad}");
    let wipo = bot.ask("/document OMPI").await;
    assert!(wipo.contains("WIPO GREEN — tool [000:456]"), "{wipo}");
    // A name that is no actor's is still "no document".
    let none = bot.reply("/document Zorglub").await;
    assert_eq!(none.tone, Tone::NotFound);
}

#[tokio::test]
async fn a_series_asked_by_its_title_is_the_series_not_its_first_edition() {
    let bot = Bot::new().await;
    let series = bot.ask("/document Digital Economy Report").await;
    assert!(series.starts_with("Digital Economy Report\n"), "{series}");
    assert!(
        series.contains("Formerly: Information Economy Report until 2017"),
        "{series}"
    );
    assert!(
        series.contains("/document Digital Economy Report 2019"),
        "the edition is offered: {series}"
    );
    let edition = bot.ask("/document Digital Economy Report 2019").await;
    assert!(
        edition.starts_with("Digital Economy Report 2019\n"),
        "{edition}"
    );
}

#[tokio::test]
async fn a_publication_described_rather_than_named_is_found_by_what_its_sentence_says() {
    let bot = Bot::new().await;
    // "the Forum" is how WEF's text names WEF: one profiled actor has that word in its name.
    let series = bot
        .ask("/document the report about 5G from the forum")
        .await;
    assert!(series.starts_with("5G Outlook Series\n"), "{series}");
    assert!(series.contains("[000:165]"), "{series}");
    let toolkit = bot.ask("/document toolkit on blockchain").await;
    assert!(
        toolkit.starts_with("Blockchain Development Toolkit\n"),
        "{toolkit}"
    );
    // From another body: nothing of UNCTAD's is about 5G, and WEF's is not offered instead.
    let none = bot.reply("/document the report about 5G from UNCTAD").await;
    assert_eq!(none.tone, Tone::NotFound);
    assert!(!plain::render(&none).contains("5G Outlook"));
}

#[tokio::test]
async fn a_publication_asked_with_its_owner_is_that_owners_or_none_never_anothers() {
    let bot = Bot::new().await;
    // Owner before the kind: WEF's own cybersecurity outlook, not ICT4Peace's report.
    let wef = bot.ask("/document the WEF report on cybersecurity").await;
    assert!(wef.starts_with("Global Cybersecurity Outlook\n"), "{wef}");
    // DCAF names no toolkit on cybercrime: the UN list's toolkit is not offered instead.
    let dcaf = bot.reply("/document DCAF toolkit on cybercrime").await;
    assert_eq!(dcaf.tone, Tone::NotFound);
    let text = plain::render(&dcaf);
    assert!(
        text.contains("The sources name no toolkit of DCAF about “cybercrime”."),
        "{text}"
    );
    // A body named alone: what its text names, not a news story where it is one speaker.
    let cyberpeace = bot.ask("/document CyberPeace Institute").await;
    assert!(
        cyberpeace.starts_with("What CyberPeace Institute's text names"),
        "{cyberpeace}"
    );
    assert!(
        !cyberpeace.contains("Common Secure Conference"),
        "{cyberpeace}"
    );
    // A long list says it is cut, and shows publications before tools.
    let wipo = bot.ask("/document WIPO").await;
    assert!(
        wipo.contains("15 of 17 shown, publications first"),
        "{wipo}"
    );
    // A body's short name alone is no title.
    let forum = bot.ask("/document The Forum").await;
    assert!(!forum.contains("A report named in"), "{forum}");
    // A role of a body's is no programme of it; a name it leads is ("UNCTAD’s SDG Pulse").
    let dcaf_list = bot.ask("/document DCAF").await;
    assert!(!dcaf_list.contains("Justice Advisor"), "{dcaf_list}");
    let pulse = bot.ask("/document SDG Pulse").await;
    assert!(
        pulse.contains("SDG Pulse") && pulse.contains("UNCTAD"),
        "{pulse}"
    );
    // Counts read numbers of any length.
    let diplo = bot.ask("/actor Diplo count:alumni").await;
    assert!(diplo.contains("*more than 1500 alumni*"), "{diplo}");
}
