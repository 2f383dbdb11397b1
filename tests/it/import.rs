//! The knowledge base, built by the real importer from the real sources: what it must contain,
//! what it must not, and that importing twice changes nothing.

use atlasbot::store::Store;

use crate::support::{self, TempDb};

type ActorFields = (
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
);

async fn fields(store: &Store, slug: &str) -> ActorFields {
    sqlx::query_as("SELECT name, full_name, acronym, founded, address, website, stakeholder_group FROM actors WHERE slug = ?")
        .bind(slug)
        .fetch_one(store.pool())
        .await
        .unwrap_or_else(|e| panic!("actor {slug}: {e}"))
}

async fn scalar(store: &Store, sql: &str, bind: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(bind)
        .fetch_one(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    n
}

async fn texts(store: &Store, sql: &str, bind: &str) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(bind)
        .fetch_all(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.into_iter().map(|(t,)| t).collect()
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

#[tokio::test]
async fn the_eleven_profiled_actors_exist_exactly_once() {
    let db = TempDb::new();
    let store = db.store().await;
    let slugs = texts(
        &store,
        "SELECT slug FROM actors WHERE kind = 'profiled' AND ?1 = ?1 ORDER BY slug",
        "",
    )
    .await;
    assert_eq!(
        slugs,
        [
            "cyberpeace-institute",
            "dcaf",
            "diplofoundation",
            "ict4peace-foundation",
            "iec",
            "iso",
            "unctad",
            "unicc",
            "united-nations",
            "wef",
            "wipo"
        ]
    );
    for name in [
        "International Electrotechnical Commission",
        "World Intellectual Property Organization",
        "CyberPeace Institute",
    ] {
        assert_eq!(
            scalar(&store, "SELECT COUNT(*) FROM actors WHERE name = ?", name).await,
            1,
            "{name} appears once, though two scrapes profile it"
        );
    }
}

#[tokio::test]
async fn each_profile_has_exactly_the_fields_its_sources_give() {
    let db = TempDb::new();
    let store = db.store().await;
    assert_eq!(
        fields(&store, "iec").await,
        (
            "International Electrotechnical Commission".into(),
            s("International Electrotechnical Commission"),
            s("IEC"),
            Some(1906),
            s("3 rue de Varembé, 1211 Geneva 20 , Switzerland"),
            s("https://www.iec.ch/"),
            s("International and regional organisations")
        )
    );
    // UNICC's profile has no "Established:" line: no founding year is invented.
    let unicc = fields(&store, "unicc").await;
    assert_eq!(
        (unicc.2.as_deref(), unicc.3, unicc.4.as_deref()),
        (
            Some("UNICC"),
            None,
            Some("Palais des Nations 1211 Geneva 10. Switzerland")
        )
    );
    // DCAF: only in the degraded scrape, with no full name and no stakeholder group.
    assert_eq!(
        fields(&store, "dcaf").await,
        (
            "DCAF".into(),
            None,
            s("DCAF"),
            Some(2000),
            s("Maison de la Paix, Chemin Eugène-Rigot 2D, 1211 Geneva, Switzerland"),
            s("https://www.dcaf.ch/"),
            None
        )
    );
    // "Acronym: CyberPeace Institute" only repeats the name: it is not shown as an acronym.
    assert_eq!(fields(&store, "cyberpeace-institute").await.2, None);
    assert_eq!(
        fields(&store, "diplofoundation").await.1.as_deref(),
        Some("DiploFoundation")
    );
    let un = fields(&store, "united-nations").await;
    assert_eq!(
        (un.2.as_deref(), un.3, un.4, un.5, un.6),
        (Some("UN"), Some(1945), None, None, None)
    );
    let ict4peace = fields(&store, "ict4peace-foundation").await;
    assert_eq!(
        (
            ict4peace.0.as_str(),
            ict4peace.3,
            ict4peace.4,
            ict4peace.5.as_deref()
        ),
        (
            "ICT4Peace Foundation",
            Some(2003),
            None,
            Some("www.ict4peace.org")
        )
    );
}

#[tokio::test]
async fn a_founding_year_from_prose_keeps_the_sentence_that_states_it() {
    let db = TempDb::new();
    let store = db.store().await;
    let evidence = texts(
        &store,
        "SELECT founded_evidence FROM actors WHERE slug = ?",
        "dcaf",
    )
    .await;
    assert!(
        evidence[0].starts_with("Since its founding in 2000, DCAF has contributed"),
        "{evidence:?}"
    );
    let evidence = texts(
        &store,
        "SELECT founded_evidence FROM actors WHERE slug = ?",
        "iec",
    )
    .await;
    assert_eq!(evidence, ["Established: 1906"]);
}

#[tokio::test]
async fn the_degraded_scrape_adds_only_what_the_clean_profile_lacks() {
    let db = TempDb::new();
    let store = db.store().await;
    // Lines only in the second scrape are kept, in the section they belong to …
    let cyberpeace = texts(
        &store,
        "SELECT s.heading FROM passages p JOIN sections s ON s.id = p.section_id JOIN actors a ON a.id = p.actor_id WHERE a.slug = 'cyberpeace-institute' AND p.text LIKE ?",
        "%co-led WG5%",
    )
    .await;
    assert_eq!(
        cyberpeace,
        ["Participation in international initiatives: The Paris Call Working Groups"]
    );
    let wipo = texts(
        &store,
        "SELECT s.heading FROM passages p JOIN sections s ON s.id = p.section_id JOIN actors a ON a.id = p.actor_id WHERE a.slug = 'wipo' AND p.text LIKE ?",
        "%AI for Good initiative%",
    )
    .await;
    assert_eq!(
        wipo,
        ["Frontier technologies including artificial intelligence"]
    );
    // … while repeated paragraphs (even with glued words) are not stored twice.
    assert_eq!(
        scalar(
            &store,
            "SELECT COUNT(*) FROM passages WHERE search_text LIKE ?",
            "%activities regarding the domain name system%"
        )
        .await
            + scalar(
                &store,
                "SELECT COUNT(*) FROM passages WHERE search_text LIKE ?",
                "%activitiesregarding%"
            )
            .await,
        1
    );
    assert_eq!(
        scalar(
            &store,
            "SELECT COUNT(*) FROM passages WHERE text LIKE ?",
            "The IEC 62443 series was developed because%"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn social_handles_after_wipo_in_the_scrape_stay_with_the_cyberpeace_institute() {
    let db = TempDb::new();
    let store = db.store().await;
    let wipo = texts(&store, "SELECT c.platform || ' @' || c.handle FROM channels c JOIN actors a ON a.id = c.actor_id WHERE a.slug = ? ORDER BY c.id", "wipo").await;
    assert_eq!(
        wipo,
        [
            "Facebook @WIPO",
            "Flickr @WIPO",
            "Instagram @wipo",
            "LinkedIn @WIPO",
            "Podcast @https://www.wipo.int/podcasts/en/",
            "X @WIPO",
            "YouTube @WIPO"
        ]
    );
    let cpi = texts(&store, "SELECT c.handle FROM channels c JOIN actors a ON a.id = c.actor_id WHERE a.slug = ? ORDER BY c.id", "cyberpeace-institute").await;
    assert_eq!(
        cpi,
        [
            "CyberpeaceInstitute",
            "cyberpeaceinst",
            "cyberpeace-institute",
            "CyberpeaceInst"
        ]
    );
}

#[tokio::test]
async fn the_event_blurbs_after_dcaf_are_events_not_dcaf_text() {
    let db = TempDb::new();
    let store = db.store().await;
    assert_eq!(scalar(&store, "SELECT COUNT(*) FROM passages p JOIN actors a ON a.id = p.actor_id WHERE a.slug = 'dcaf' AND p.text LIKE ?", "%Policy meets tech%").await, 0);
    assert_eq!(scalar(&store, "SELECT COUNT(*) FROM passages p JOIN actors a ON a.id = p.actor_id WHERE a.slug = 'dcaf' AND p.text LIKE ?", "%Geneva Academy%").await, 0);
    let organiser = texts(
        &store,
        "SELECT a.slug FROM atlas_events e JOIN actors a ON a.id = e.organiser_id WHERE e.slug = ?",
        "policy-meets-tech-cryptography",
    )
    .await;
    assert_eq!(organiser, ["diplofoundation"]);
    let description = texts(
        &store,
        "SELECT description FROM atlas_events WHERE slug = ?",
        "policy-meets-tech-cryptography",
    )
    .await;
    assert!(
        description[0].contains("only open to permanent missions"),
        "{description:?}"
    );
    // Undated in the sources, undated here.
    assert_eq!(
        scalar(
            &store,
            "SELECT COUNT(*) FROM atlas_events WHERE slug = ? AND starts IS NULL",
            "cagi-cyberpeace-cyber-skills-day"
        )
        .await,
        1
    );
    let cop26 = texts(
        &store,
        "SELECT starts || '..' || ends FROM atlas_events WHERE slug = ?",
        "cop26",
    )
    .await;
    assert_eq!(cop26, ["2021-10-31..2021-11-12"]);
}

#[tokio::test]
async fn wef_digital_tools_was_only_a_copy_of_its_cryptocurrencies_paragraph() {
    let db = TempDb::new();
    let store = db.store().await;
    assert_eq!(scalar(&store, "SELECT COUNT(*) FROM sections s JOIN actors a ON a.id = s.actor_id WHERE a.slug = ? AND s.kind = 'tools'", "wef").await, 0);
    let under = texts(&store, "SELECT s.heading FROM passages p JOIN sections s ON s.id = p.section_id WHERE p.text LIKE ?", "The Forum is also active on issues related to digital currencies%").await;
    assert_eq!(under, ["Cryptocurrencies"]);
    // Both copies are cut off in the source; the kept one says so.
    assert_eq!(
        scalar(
            &store,
            "SELECT truncated FROM passages WHERE text LIKE ?",
            "The Forum is also active on issues related to digital currencies%"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn junk_never_reaches_the_atlas() {
    let db = TempDb::new();
    let store = db.store().await;
    for junk in [
        "%We use cookies%",
        "Skip to content",
        "Photo: %",
        "%to register, please visit%",
        "e-tech",
    ] {
        assert_eq!(
            scalar(
                &store,
                "SELECT COUNT(*) FROM passages WHERE text LIKE ?",
                junk
            )
            .await,
            0,
            "{junk}"
        );
    }
    // The duplicated UNICC project is one section with one copy of its text.
    assert_eq!(
        scalar(
            &store,
            "SELECT COUNT(*) FROM sections WHERE heading = ?",
            "International Criminal Investigations"
        )
        .await,
        1
    );
    assert_eq!(
        scalar(
            &store,
            "SELECT COUNT(*) FROM passages WHERE text LIKE ?",
            "The United Nations Investigative Team to Promote Accountability%"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn the_fused_unctad_heading_is_split_into_heading_and_text() {
    let db = TempDb::new();
    let store = db.store().await;
    let under = texts(
        &store,
        "SELECT s.heading FROM passages p JOIN sections s ON s.id = p.section_id WHERE p.text = ?",
        "Consumer protection and competition are jointly addressed in the work of UNCTAD",
    )
    .await;
    assert_eq!(under, ["Consumer protection"]);
}

#[tokio::test]
async fn all_62_standards_are_registered_and_each_is_quoted_where_the_sources_mention_it() {
    let db = TempDb::new();
    let store = db.store().await;
    assert_eq!(
        scalar(&store, "SELECT COUNT(*) FROM standards WHERE ?1 = ?1", "").await,
        62
    );
    assert_eq!(scalar(&store, "SELECT COUNT(*) FROM standards s WHERE NOT EXISTS (SELECT 1 FROM standard_mentions m WHERE m.standard_id = s.id) AND ?1 = ?1", "").await, 0);
    // "ISO 27001" in the UNICC profile is ISO/IEC 27001, quoted with its sentence.
    let unicc = texts(
        &store,
        "SELECT m.sentence FROM standard_mentions m JOIN standards s ON s.id = m.standard_id JOIN actors a ON a.id = m.actor_id WHERE s.identifier = 'ISO/IEC 27001' AND a.slug = ?",
        "unicc",
    )
    .await;
    assert_eq!(unicc, ["UNICC is certified with ISO 27001 and was awarded a 2020 and 2017 CSO 50 Award for its Common Secure Information Security services, demonstrating outstanding business value and thought leadership."]);
    // "The ISO and IEC 27000 family" is a family, not a standard called IEC 27000.
    assert_eq!(
        scalar(
            &store,
            "SELECT COUNT(*) FROM standard_mentions WHERE written_as LIKE ?",
            "%27000%"
        )
        .await,
        0
    );
    // IEC 62443 is certified under IECEE, ISO/IEC 27701 extends 27001 and 27002.
    assert_eq!(
        texts(
            &store,
            "SELECT conformity FROM standards WHERE identifier = ?",
            "IEC 62443"
        )
        .await,
        ["IECEE"]
    );
    let extends = texts(&store, "SELECT o.identifier FROM standard_relations r JOIN standards s ON s.id = r.standard_id JOIN standards o ON o.id = r.other_id WHERE r.relation = 'extends' AND s.identifier = ? ORDER BY 1", "ISO/IEC 27701").await;
    assert_eq!(extends, ["ISO/IEC 27001", "ISO/IEC 27002"]);
    let siblings = texts(&store, "SELECT o.identifier FROM standard_relations r JOIN standards s ON s.id = r.standard_id JOIN standards o ON o.id = r.other_id WHERE r.relation = 'sibling' AND s.identifier = ?", "ISO 18370-1").await;
    assert_eq!(siblings, ["ISO/IEC 18370-2"]);
}

#[tokio::test]
async fn all_fourteen_un_document_symbols_are_present_with_the_sentences_citing_them() {
    let db = TempDb::new();
    let store = db.store().await;
    let symbols = texts(
        &store,
        "SELECT symbol FROM documents WHERE symbol IS NOT NULL AND ?1 = ?1 ORDER BY symbol",
        "",
    )
    .await;
    assert_eq!(
        symbols,
        [
            "A/60/202",
            "A/65/201",
            "A/65/491",
            "A/68/98",
            "A/69/517",
            "A/70/174",
            "A/72/327",
            "A/HRC/27/37",
            "A/RES/55/63",
            "A/RES/56/121",
            "A/RES/57/239",
            "A/RES/58/199",
            "A/RES/64/211",
            "A/RES/68/167"
        ]
    );
    assert_eq!(scalar(&store, "SELECT COUNT(*) FROM documents d WHERE d.symbol IS NOT NULL AND NOT EXISTS (SELECT 1 FROM document_mentions m WHERE m.document_id = d.id) AND ?1 = ?1", "").await, 0);
    let cited = texts(&store, "SELECT m.sentence FROM document_mentions m JOIN documents d ON d.id = m.document_id WHERE d.symbol = ? ORDER BY m.line", "A/65/491").await;
    assert_eq!(cited.len(), 2, "{cited:?}");
    assert!(
        cited[0].contains("Crisis Information Management Strategy is based on the recognition"),
        "the page break inside the sentence is spliced: {cited:?}"
    );
    assert_eq!(
        texts(
            &store,
            "SELECT kind FROM documents WHERE symbol = ?",
            "A/RES/68/167"
        )
        .await,
        ["resolution"]
    );
}

#[tokio::test]
async fn un_list_entries_are_classified_and_bodies_describe_their_organisation() {
    let db = TempDb::new();
    let store = db.store().await;
    assert_eq!(
        texts(
            &store,
            "SELECT kind FROM documents WHERE title = ?",
            "Global Programme on Cybercrime"
        )
        .await,
        ["programme"]
    );
    assert_eq!(
        texts(
            &store,
            "SELECT kind FROM documents WHERE title LIKE ?",
            "UN Group of Governmental Experts on advancing%"
        )
        .await,
        ["process"]
    );
    // The acronym UNODC never appears in the sources, yet /actor UNODC has something to find.
    let unodc = texts(&store, "SELECT a.description FROM actors a JOIN actor_names n ON n.actor_id = a.id WHERE n.key = ?", "unodc").await;
    assert_eq!(unodc, ["UN internal institute specialized in criminal justice systems, by also carrying out researches and analysis on cybercrimes."]);
}

#[tokio::test]
async fn organisations_mentioned_in_passing_keep_the_sentences_that_name_them() {
    let db = TempDb::new();
    let store = db.store().await;
    let itu = texts(&store, "SELECT m.written_as FROM actor_mentions m JOIN actors a ON a.id = m.actor_id WHERE a.slug = ? ORDER BY m.id", "itu").await;
    assert!(
        itu.contains(&"International Telecommunication Union".to_string())
            && itu.contains(&"International Telecommunications Union".to_string()),
        "both spellings: {itu:?}"
    );
    // "who" in prose is not the World Health Organization.
    let who = texts(&store, "SELECT m.written_as FROM actor_mentions m JOIN actors a ON a.id = m.actor_id WHERE a.slug = ?", "who").await;
    assert!(
        who.iter()
            .all(|w| w == "WHO" || w == "World Health Organization"),
        "{who:?}"
    );
    assert!(!who.is_empty());
}

#[tokio::test]
async fn issue_headings_link_actors_to_topics() {
    let db = TempDb::new();
    let store = db.store().await;
    let cybercrime = texts(
        &store,
        "SELECT DISTINCT a.slug FROM section_topics st JOIN topics t ON t.id = st.topic_id JOIN sections s ON s.id = st.section_id JOIN actors a ON a.id = s.actor_id WHERE t.slug = ? ORDER BY 1",
        "cybercrime",
    )
    .await;
    assert_eq!(cybercrime, ["wef"]);
    let ai = texts(
        &store,
        "SELECT DISTINCT a.slug FROM section_topics st JOIN topics t ON t.id = st.topic_id JOIN sections s ON s.id = st.section_id JOIN actors a ON a.id = s.actor_id WHERE t.slug = ? ORDER BY 1",
        "ai",
    )
    .await;
    assert_eq!(
        ai,
        ["ict4peace-foundation", "iec", "iso", "unicc", "wef", "wipo"]
    );
}

#[tokio::test]
async fn search_copies_are_normalised_but_quotes_keep_the_source_text() {
    let db = TempDb::new();
    let store = db.store().await;
    let (text, search): (String, String) = sqlx::query_as(
        "SELECT text, search_text FROM passages WHERE text LIKE 'DCAF is dedicated%'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert!(
        text.contains("capacity\u{2010}building"),
        "the source's U+2010 hyphen is kept for quoting"
    );
    assert!(search.contains("capacity-building") && !search.contains('\u{2010}'));
    let hits: Vec<(i64,)> =
        sqlx::query_as("SELECT rowid FROM passages_fts WHERE passages_fts MATCH '\"varembe\"'")
            .fetch_all(store.pool())
            .await
            .unwrap();
    // The address line is a passage of its own (searchable, cited), once per actor.
    assert_eq!(hits.len(), 1, "an accent-free search finds the address");
    let hits: Vec<(i64,)> =
        sqlx::query_as("SELECT rowid FROM passages_fts WHERE passages_fts MATCH '\"secheron\"'")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(hits.len(), 1);
    let hits: Vec<(i64,)> = sqlx::query_as(
        "SELECT rowid FROM passages_fts WHERE passages_fts MATCH '\"geopolitique\"'",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(hits.len(), 1, "accents are folded in the index");
}

#[tokio::test]
async fn importing_twice_gives_identical_data() {
    let db = TempDb::new();
    let store = db.store().await;
    let first = support::dump(&store).await;
    let atlas = support::bundled_atlas();
    store.replace_atlas(&atlas, "bundled").await.unwrap();
    let second = support::dump(&store).await;
    assert!(first == second, "a second import changed the atlas");
    // And through the CLI, into a database that already holds the atlas.
    let out = support::atlasbot(&db.path, &["import"]);
    assert!(out.status.success(), "{}", support::stderr(&out));
    assert_eq!(support::dump(&store).await, first);
}

#[tokio::test]
async fn the_import_report_counts_rows_and_cites_warnings_by_file_and_line() {
    let db = TempDb::new();
    let out = support::atlasbot(&db.path, &["import"]);
    assert!(out.status.success(), "{}", support::stderr(&out));
    let report = support::stdout(&out);
    let count = |label: &str| {
        report
            .lines()
            .find_map(|l| l.trim().strip_prefix(label).map(|n| n.trim().to_string()))
    };
    assert_eq!(count("profiled ").as_deref(), Some("11"), "{report}");
    assert_eq!(count("standards ").as_deref(), Some("62"), "{report}");
    assert!(
        report.contains(
            "data/sources/000_5b758100139b5c9f.txt:806: paragraph is cut off mid-sentence"
        ),
        "{report}"
    );
    assert!(
        report.contains("data/sources/001_d84e8a85cc3bab09.txt:179: cookie banner"),
        "{report}"
    );
}

#[tokio::test]
async fn a_new_database_is_created_and_filled_on_first_use() {
    let db = TempDb::empty();
    assert!(!db.path.exists());
    let store = db.store().await;
    assert_eq!(
        store.atlas_origin().await.unwrap().as_deref(),
        Some("bundled")
    );
    assert_eq!(
        store.atlas_version().await.unwrap(),
        Some(atlasbot::import::bundled_hash())
    );
}

#[test]
fn check_data_passes_on_the_bundled_data() {
    let db = TempDb::empty();
    let out = support::atlasbot(&db.path, &["check-data"]);
    assert!(out.status.success(), "{}", support::stderr(&out));
    assert!(
        support::stdout(&out).starts_with("data OK"),
        "{}",
        support::stdout(&out)
    );
    assert!(!db.path.exists(), "check-data never creates a database");
}
