//! Broken data: every problem is reported at once as `file:line: what is wrong`, the import
//! exits non-zero, and the database keeps exactly what it had.

use crate::support::{self, TempDb};

/// Breaks a copy of data/ in one way per kind of error, imports it over a database that holds
/// the bundled atlas, and returns (stderr, whether the atlas was left untouched).
async fn import_broken(break_it: impl FnOnce(&std::path::Path)) -> (String, bool) {
    let db = TempDb::new();
    let store = db.store().await;
    let before = support::dump(&store).await;
    let data = support::data_copy();
    break_it(data.path());
    let out = support::atlasbot(&db.path, &["import", data.path().to_str().unwrap()]);
    assert!(
        !out.status.success(),
        "a broken data directory must fail the import"
    );
    let after = support::dump(&store).await;
    (support::stderr(&out), before == after)
}

fn lines_mentioning<'a>(stderr: &'a str, file: &str) -> Vec<&'a str> {
    stderr.lines().filter(|l| l.contains(file)).collect()
}

#[tokio::test]
async fn a_toml_syntax_error_is_reported_at_its_line() {
    let (err, untouched) = import_broken(|d| {
        support::edit(
            &d.join("topics.toml"),
            "slug = \"security\"",
            "slug = \"security",
        )
    })
    .await;
    assert!(untouched);
    let hits = lines_mentioning(&err, "topics.toml:");
    assert_eq!(hits.len(), 1, "{err}");
    let line = std::fs::read_to_string(support::data_dir().join("topics.toml"))
        .unwrap()
        .lines()
        .position(|l| l == "slug = \"security\"")
        .unwrap()
        + 1;
    assert!(hits[0].contains(&format!("topics.toml:{line}:")), "{err}");
}

#[tokio::test]
async fn every_kind_of_error_is_reported_together_and_nothing_is_written() {
    let (err, untouched) = import_broken(|d| {
        // a year that is not a year, in the clean atlas
        support::edit(
            &d.join("sources/000_5b758100139b5c9f.txt"),
            "Established: 1971",
            "Established: nineteen seventy-one",
        );
        // a scrape block whose website matches no actor
        support::edit(
            &d.join("sources/001_d84e8a85cc3bab09.txt"),
            "https://www.dcaf.ch/",
            "https://unknown.example/",
        );
        // a UN list with a title but no description after it
        let un = d.join("sources/002_dcff049dc1525eb0.txt");
        let content = std::fs::read_to_string(&un).unwrap();
        std::fs::write(&un, format!("{content}\nA Dangling Title (A/99/999)")).unwrap();
        // a topic in a basket that does not exist
        support::edit(
            &d.join("topics.toml"),
            "basket = \"economic\"",
            "basket = \"economics\"",
        );
        // an event whose quote is not in any source
        support::edit(
            &d.join("events.toml"),
            "quote = \"AI Governance Summit organised in November 2023\"",
            "quote = \"AI Governance Summit organised in December 2099\"",
        );
        // a standard relation to a standard that is not registered
        support::edit(
            &d.join("standards.toml"),
            "extends = [\"ISO/IEC 27001\", \"ISO/IEC 27002\"]",
            "extends = [\"ISO/IEC 27001\", \"ISO/IEC 99999\"]",
        );
        // a duplicate slug
        support::edit(&d.join("actors.toml"), "slug = \"paho\"", "slug = \"wto\"");
    })
    .await;
    assert!(untouched, "the database must be left as it was");
    let expect = [
        (
            "000_5b758100139b5c9f.txt:145:",
            "'Established:' must be a year",
        ),
        (
            "001_d84e8a85cc3bab09.txt:1:",
            "cannot tell whose profile this is",
        ),
        ("002_dcff049dc1525eb0.txt:85:", "has no description line"),
        ("topics.toml:", "unknown basket 'economics'"),
        ("events.toml:", "quote not found"),
        ("standards.toml:", "not in the registry"),
        ("actors.toml:", "duplicate actor slug 'wto'"),
    ];
    for (place, what) in expect {
        assert!(
            err.lines().any(|l| l.contains(place) && l.contains(what)),
            "missing {place} {what} in:\n{err}"
        );
    }
    assert!(err.starts_with("import failed:"), "{err}");
}

#[tokio::test]
async fn a_missing_source_file_is_an_error_in_the_manifest() {
    let (err, untouched) = import_broken(|d| {
        std::fs::remove_file(d.join("sources/003_fa18ffcb7a2d8336.txt")).unwrap()
    })
    .await;
    assert!(untouched);
    assert!(
        err.lines().any(|l| l.contains("sources.toml:")
            && l.contains("cannot read source 'sources/003_fa18ffcb7a2d8336.txt'")),
        "{err}"
    );
}

#[tokio::test]
async fn a_curated_fact_must_quote_the_sources() {
    let (err, untouched) = import_broken(|d| {
        support::edit(
            &d.join("actors.toml"),
            "founded = { year = 2000, quote = \"Since its founding in 2000\" }",
            "founded = { year = 1999, quote = \"Since its founding in 1999\" }",
        )
    })
    .await;
    assert!(untouched);
    assert!(
        err.lines()
            .any(|l| l.contains("actors.toml:") && l.contains("quote not found in dcaf's sources")),
        "{err}"
    );
}

#[test]
fn check_data_rejects_a_glossary_expansion_the_sources_never_write() {
    let data = support::data_copy();
    support::edit(
        &data.path().join("glossary.toml"),
        "expansion = \"Pan American Health Organization\"",
        "expansion = \"Pan-Atlantic Health Office\"",
    );
    let db = TempDb::new();
    let out = support::atlasbot(&db.path, &["check-data", data.path().to_str().unwrap()]);
    assert!(!out.status.success());
    let err = support::stderr(&out);
    assert!(
        err.lines().any(|l| l.contains("glossary.toml:")
            && l.contains("'PAHO' = 'Pan-Atlantic Health Office' is not written in the sources")),
        "{err}"
    );
}

#[test]
fn check_data_rejects_a_synonym_shared_by_two_topics() {
    let data = support::data_copy();
    support::edit(
        &data.path().join("topics.toml"),
        "synonyms = [\"cloud\",",
        "synonyms = [\"cloud\", \"cyber crime\",",
    );
    let db = TempDb::new();
    let out = support::atlasbot(&db.path, &["check-data", data.path().to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(support::stderr(&out).contains("synonym 'cyber crime' of topic 'cybercrime' already belongs to topic 'cloud-computing'"), "{}", support::stderr(&out));
}
