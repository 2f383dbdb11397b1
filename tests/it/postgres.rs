//! The runtime state on PostgreSQL (a real server from Debian's packages, started by
//! `scripts/test`): what a wrong database setting says, and that it writes nothing. The event
//! and reminder tests themselves run on this backend too (`scripts/test` runs `events::` a
//! second time with `ATLASBOT_TEST_BACKEND=postgres`).

use std::path::Path;

use crate::support::{self, TempDb};

/// `atlasbot --db <db> --atlas <atlas> ask /help` in `dir`: (exit code, stderr).
fn ask_with(dir: &Path, db: &str) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_atlasbot"))
        .current_dir(dir)
        .args(["--db", db, "--atlas", "atlas.db", "ask", "/help"])
        .env_remove("ATLASBOT_DB")
        .env_remove("ATLASBOT_ATLAS")
        .output()
        .expect("atlasbot runs");
    (out.status.code(), support::stderr(&out))
}

/// One value from the server, as text.
fn psql(url: &str, sql: &str) -> String {
    let out = std::process::Command::new("psql")
        .args([url, "-At", "-c", sql])
        .output()
        .expect("psql runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A URL for the test server with the user and password replaced.
fn with_password(password: &str) -> String {
    let url = support::postgres_url();
    let (_, rest) = url.split_once('@').expect("the test URL has a user");
    format!("postgres://atlasbot:{password}@{rest}")
}

fn assert_one_line_naming_the_setting(code: Option<i32>, err: &str, says: &str) {
    assert_ne!(code, Some(0), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(
        err.contains("ATLASBOT_DB (--db)"),
        "names the setting: {err}"
    );
    assert!(err.contains(says), "says {says:?}: {err}");
}

#[test]
fn a_wrong_database_setting_is_one_line_naming_it_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();

    let (code, err) = ask_with(dir.path(), &with_password("not-the-password"));
    assert_one_line_naming_the_setting(code, &err, "password authentication failed");
    assert!(
        !err.contains("not-the-password"),
        "the password is never shown: {err}"
    );

    let (code, err) = ask_with(dir.path(), "postgres://atlasbot:x@127.0.0.1:1/postgres");
    assert_one_line_naming_the_setting(code, &err, "cannot be reached");

    let (code, err) = ask_with(dir.path(), "postgres://at las:x@[::1/nope");
    assert_one_line_naming_the_setting(code, &err, "not a valid postgres:// URL");

    std::fs::create_dir(dir.path().join("a-directory")).unwrap();
    let (code, err) = ask_with(dir.path(), "a-directory");
    assert_one_line_naming_the_setting(code, &err, "is a directory, not a database file");

    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["a-directory"], "nothing was written");
    assert_eq!(
        std::fs::read_dir(dir.path().join("a-directory"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn a_good_url_keeps_the_runtime_state_on_the_server_and_the_atlas_in_its_file() {
    let db = TempDb::empty();
    let url = support::fresh_postgres_database("t_good_url");
    let dir = db.dir.path();
    let run = |line: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_atlasbot"))
            .current_dir(dir)
            .args(["--db", &url, "--atlas", "atlas.db", "ask", line])
            .output()
            .expect("atlasbot runs")
    };
    let added = run("/event add title:\"On the server\" when:\"2030-01-02 10:00\"");
    assert!(added.status.success(), "{}", support::stderr(&added));
    assert!(dir.join("atlas.db").exists(), "the atlas has its own file");

    // A second process (another machine, as far as it knows) sees the event.
    let listed = run("/event show 1");
    assert!(
        support::stdout(&listed).contains("On the server"),
        "{}",
        support::stdout(&listed)
    );
    let out = std::process::Command::new("psql")
        .args([url.as_str(), "-At", "-c", "SELECT title FROM events"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "On the server");
}

#[tokio::test(flavor = "multi_thread")]
async fn three_processes_on_one_server_deliver_every_reminder_once_through_a_sigkill() {
    use crate::crash::Console;
    use std::time::Duration;

    const N: usize = 300;
    let db = TempDb::empty();
    let url = support::fresh_postgres_database("t_three_processes");
    let atlas = db.path.to_string_lossy().to_string();
    let location = atlasbot::store::Location::Postgres {
        url: url.clone(),
        atlas: db.path.clone(),
    };
    // N reminders falling due over the next ~6 seconds, one per event.
    let store = atlasbot::database::open_store(location).await.unwrap();
    support::meetings_due(&store, N, chrono::Duration::milliseconds(20)).await;

    // A short lease, so that the test need not wait two minutes: on a server shared by hosts
    // a dead process's claims change hands only when their lease runs out.
    let args = [
        "--db",
        url.as_str(),
        "--atlas",
        atlas.as_str(),
        "--claim-lease-seconds",
        "3",
    ];
    // The first process stops for a while after each claim: killed there, it holds claims
    // it never sent.
    let doomed = Console::start_with(&args, Some("after-claim:2500"));
    let holding = format!(
        "SELECT COUNT(*) FROM reminders WHERE state = 'claimed' AND claimed_by LIKE '%/{}/%'",
        doomed.pid()
    );
    let started = std::time::Instant::now();
    while psql(&url, &holding) == "0" {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the first process never claimed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The others start once it holds claims: started together, on a loaded machine two
    // quick starters could claim every reminder before the first one got going.
    let others: Vec<Console> = (0..2).map(|_| Console::start_with(&args, None)).collect();
    let killed = doomed.kill();
    let restarted = Console::start_with(&args, None);
    restarted.wait_caught_up();
    // Everything is due within ~6 s; wait until the server says all were sent.
    let started = std::time::Instant::now();
    loop {
        let out = std::process::Command::new("psql")
            .args([
                url.as_str(),
                "-At",
                "-c",
                "SELECT COUNT(*) FROM reminders WHERE state = 'sent'",
            ])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&out.stdout).trim() == N.to_string() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not all sent: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut outputs = vec![killed, restarted.finish()];
    outputs.extend(others.into_iter().map(Console::finish));
    let keys: Vec<&str> = outputs
        .iter()
        .flat_map(|o| o.lines().filter(|l| l.starts_with("[reminder ")))
        .collect();
    let mut distinct = keys.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), N, "every reminder delivered");
    assert_eq!(keys.len(), N, "none delivered twice");
    // How the work was shared depends on timing (on a loaded machine one process may take
    // every batch); it is shown, not asserted: the promise is each reminder once, above.
    for (i, o) in outputs.iter().enumerate() {
        eprintln!("process {i}: {} reminders", o.matches("[reminder ").count());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_process_leads_a_matrix_accounts_sync_and_another_takes_over_when_it_is_gone() {
    use std::time::Duration;
    let url = support::fresh_postgres_database("t_sync_lead");
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| atlasbot::store::Location::Postgres {
        url: url.clone(),
        atlas: dir.path().join(name),
    };
    let first = atlasbot::store::Store::open_at(&at("a.db")).await.unwrap();
    let second = atlasbot::store::Store::open_at(&at("b.db")).await.unwrap();
    let mut leader = first.lead_matrix_sync("@bot:example.org").await.unwrap();
    assert!(leader.holds().await);

    let waiting = tokio::spawn(async move {
        second
            .lead_matrix_sync("@bot:example.org")
            .await
            .map(|_| ())
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !waiting.is_finished(),
        "a second process waits while the first leads"
    );
    let other_account = first.lead_matrix_sync("@other:example.org").await;
    assert!(
        other_account.is_ok(),
        "another account has a lead of its own"
    );

    drop(leader); // the leader's session ends, as when its process dies
    tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the waiting process takes over")
        .unwrap()
        .unwrap();
}
