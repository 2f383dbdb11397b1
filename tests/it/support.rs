//! Test support: a database in a temporary directory, a copy of data/ to break, the binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use atlasbot::import::{self, DataDir};
use atlasbot::store::Store;

pub struct TempDb {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    location: OnceLock<atlasbot::store::Location>,
}

/// A database with the bundled atlas, imported once per test run by the real binary; each
/// test gets its own copy (importing in every test would dominate the suite's run time).
fn template() -> &'static Path {
    static TEMPLATE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = TEMPLATE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("template.db");
        let out = atlasbot(&path, &["import"]);
        assert!(
            out.status.success(),
            "template import failed: {}",
            stderr(&out)
        );
        (dir, path)
    });
    path
}

impl TempDb {
    /// A database holding the bundled atlas.
    pub fn new() -> TempDb {
        let db = TempDb::empty();
        std::fs::copy(template(), &db.path).expect("copy the template database");
        db
    }

    /// A process's state on the shared PostgreSQL database `url` (another replica, another
    /// host), with its own copy of the bundled atlas.
    pub fn sharing_postgres(url: &str) -> TempDb {
        let db = TempDb::new();
        let shared = atlasbot::store::Location::Postgres {
            url: url.to_string(),
            atlas: db.path.clone(),
        };
        db.location
            .set(shared)
            .expect("a fresh database has no location yet");
        db
    }

    /// A path where no database exists yet.
    pub fn empty() -> TempDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("atlas.db");
        TempDb {
            dir,
            path,
            location: OnceLock::new(),
        }
    }

    /// Opens the store, importing the bundled atlas (the path every command takes).
    pub async fn store(&self) -> Store {
        atlasbot::database::open_store(&self.path)
            .await
            .expect("store opens")
    }

    /// Where the test's state lives: this file, or — when the run asks for the PostgreSQL
    /// backend (`ATLASBOT_TEST_BACKEND=postgres`, as `scripts/test` does for the event
    /// tests) — a fresh database on the test server for the runtime state, with the atlas in
    /// this file.
    pub fn location(&self) -> atlasbot::store::Location {
        self.location.get_or_init(|| self.choose_location()).clone()
    }

    fn choose_location(&self) -> atlasbot::store::Location {
        if std::env::var("ATLASBOT_TEST_BACKEND").as_deref() != Ok("postgres") {
            return atlasbot::store::Location::File(self.path.clone());
        }
        let name = self
            .dir
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_lowercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "_");
        atlasbot::store::Location::Postgres {
            url: fresh_postgres_database(&format!("t{name}")),
            atlas: self.path.clone(),
        }
    }

    /// The binary's arguments for this test's state (`location`). On PostgreSQL with a
    /// short claim lease, as a cluster would be configured to recover quickly: there a dead
    /// process's claims change hands only when their lease runs out.
    pub fn args(&self) -> Vec<String> {
        match self.location() {
            atlasbot::store::Location::File(path) => {
                vec!["--db".into(), path.display().to_string()]
            }
            atlasbot::store::Location::Postgres { url, atlas } => vec![
                "--db".into(),
                url,
                "--atlas".into(),
                atlas.display().to_string(),
                "--claim-lease-seconds".into(),
                "3".into(),
            ],
        }
    }

    /// Runs the binary on this test's state (either backend).
    pub fn run(&self, args: &[&str]) -> Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_atlasbot"))
            .args(self.args())
            .args(args)
            .env_remove("ATLASBOT_DB")
            .env_remove("ATLASBOT_ATLAS")
            .output()
            .expect("atlasbot runs")
    }

    /// A command context over this database, answering from the bundled atlas's read model.
    /// Built once per test process and shared (every copy of the template holds the same
    /// atlas): building it is the slowest part of a test in a debug build.
    pub async fn context(&self) -> atlasbot::commands::Context {
        static ATLAS: tokio::sync::OnceCell<std::sync::Arc<atlasbot::atlas::Atlas>> =
            tokio::sync::OnceCell::const_new();
        let store = atlasbot::database::open_store(self.location())
            .await
            .expect("store opens");
        let atlas = ATLAS
            .get_or_init(|| async {
                let rows = store.load_atlas().await.expect("the atlas loads");
                std::sync::Arc::new(atlasbot::atlas::Atlas::new(rows))
            })
            .await
            .clone();
        atlasbot::commands::Context::with_atlas(store, atlas)
    }
}

/// The test server's URL (`scripts/test` starts one); a test that needs it fails without it.
pub fn postgres_url() -> String {
    std::env::var("ATLASBOT_TEST_POSTGRES").expect(
        "ATLASBOT_TEST_POSTGRES is not set: run the tests with scripts/test, which starts PostgreSQL",
    )
}

/// Creates the database `name` on the test server (dropping an older one of that name) and
/// returns its URL. Through `psql`, which the server's package brings.
pub fn fresh_postgres_database(name: &str) -> String {
    let admin = postgres_url();
    for sql in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("CREATE DATABASE {name}"),
    ] {
        let out = std::process::Command::new("psql")
            .args([admin.as_str(), "-q", "-v", "ON_ERROR_STOP=1", "-c", &sql])
            .output()
            .expect("psql runs");
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    match admin.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => panic!("not a database URL: {admin}"),
    }
}

/// The repository's data/ directory.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

/// A fresh copy of data/ in a temporary directory, to be broken by a test.
pub fn data_copy() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("temp dir");
    copy_dir(&data_dir(), tmp.path());
    tmp
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Replaces the first occurrence of `from` in `file` (which must contain it).
pub fn edit(file: &Path, from: &str, to: &str) {
    let content = std::fs::read_to_string(file).unwrap();
    assert!(
        content.contains(from),
        "{} does not contain {from:?}",
        file.display()
    );
    std::fs::write(file, content.replacen(from, to, 1)).unwrap();
}

/// Runs the atlasbot binary with `args` against `db`.
pub fn atlasbot(db: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_atlasbot"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("ATLASBOT_DB")
        .output()
        .expect("atlasbot runs")
}

/// `atlasbot console` with `input` piped to it (written from a thread, so that a large input
/// cannot deadlock against the output).
pub fn console_with_input(db: &Path, input: Vec<u8>) -> Output {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_atlasbot"))
        .arg("--db")
        .arg(db)
        .arg("console")
        .env_remove("ATLASBOT_DB")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("atlasbot runs");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("atlasbot finishes");
    writer.join().unwrap();
    out
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every atlas table, row by row, as text: two equal dumps mean identical data.
pub async fn dump(store: &Store) -> String {
    let tables = [
        "atlas_meta",
        "sources",
        "actors",
        "actor_names",
        "baskets",
        "topics",
        "topic_terms",
        "sections",
        "section_topics",
        "documents",
        "passages",
        "actor_items",
        "channels",
        "actor_mentions",
        "standards",
        "standard_relations",
        "standard_mentions",
        "document_mentions",
        "atlas_events",
        "glossary",
    ];
    let mut out = String::new();
    for t in tables {
        let columns: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT name FROM pragma_table_info('{t}') ORDER BY cid"
        )))
        .fetch_all(store.pool())
        .await
        .unwrap();
        let list = columns
            .into_iter()
            .map(|(c,)| c)
            .collect::<Vec<_>>()
            .join(", ");
        let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT json_array({list}) FROM {t} ORDER BY 1"
        )))
        .fetch_all(store.pool())
        .await
        .unwrap_or_else(|e| panic!("dump {t}: {e}"));
        out.push_str(&format!("## {t} ({})\n", rows.len()));
        for (r,) in rows {
            out.push_str(&r);
            out.push('\n');
        }
    }
    out
}

/// The bundled atlas, read without a database.
pub fn bundled_atlas() -> import::Atlas {
    import::read_atlas(&DataDir::Bundled)
        .expect("the bundled data imports")
        .0
}

/// The bot as the console meets it: the bundled atlas in a temporary database, command lines
/// in, replies (or their plain text) out.
pub struct Bot {
    _db: TempDb,
    pub ctx: atlasbot::commands::Context,
}

impl Bot {
    pub async fn new() -> Bot {
        let db = TempDb::new();
        let ctx = db.context().await;
        Bot { _db: db, ctx }
    }

    pub async fn reply(&self, line: &str) -> atlasbot::reply::Reply {
        let caller = atlasbot::commands::Caller::console();
        atlasbot::commands::answer(&self.ctx, &caller, line).await
    }

    /// The answer as plain text, matched words marked *like this*.
    pub async fn ask(&self, line: &str) -> String {
        atlasbot::render::plain::render(&self.reply(line).await)
    }

    /// The answer as plain text without highlight marks.
    pub async fn ask_unmarked(&self, line: &str) -> String {
        self.ask(line).await.replace('*', "")
    }
}

/// `n` one-off meetings in the console space, each owing one space reminder: the k-th falls
/// due `k × spacing` from now. Written straight through the store (hundreds of `/event add`
/// lines would dominate the test), planned for good so the scheduler's own planning leaves
/// them alone.
/// A one-off event of the console's space starting at `start` (UTC), made by a test.
pub fn event_input(
    title: &str,
    start: chrono::DateTime<chrono::Utc>,
) -> atlasbot::store::events::EventInput {
    atlasbot::store::events::EventInput {
        space: atlasbot::domain::SpaceId::console(),
        title: title.into(),
        description: None,
        starts_local: start.naive_utc(),
        tz: "UTC".into(),
        duration_min: None,
        place: None,
        organiser: None,
        topics: None,
        actors: None,
        inferred: false,
        rrule: None,
        created_by: "test".into(),
    }
}

pub async fn meetings_due(store: &Store, n: usize, spacing: chrono::Duration) {
    use atlasbot::domain::Target;
    let now = chrono::Utc::now();
    let forever = chrono::DateTime::from_timestamp(253_402_214_400, 0).unwrap();
    for k in 0..n {
        let start = now + chrono::Duration::minutes(60) + spacing * k as i32;
        let input = event_input(&format!("Meeting {k}"), start);
        let id = store
            .insert_event(&input, &format!("m{k}@test"), now)
            .await
            .unwrap();
        let owed = atlasbot::events::plan(id, &[start], &[(60, Target::Space)]);
        let event = store.event(id).await.unwrap().unwrap();
        let written = store.replan(&event, &owed, forever).await.unwrap();
        assert_eq!(written, atlasbot::store::events::PlanWrite::Written);
    }
}

/// An outbox that keeps what it is given (the scheduler's deliveries, a poller's notices), for
/// the tests that run them without a platform.
#[derive(Default)]
pub struct Recorder {
    pub sent: std::sync::Mutex<Vec<atlasbot::scheduler::Delivery>>,
}

impl atlasbot::scheduler::Outbox for Recorder {
    fn deliver<'a>(
        &'a self,
        d: &'a atlasbot::scheduler::Delivery,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<(), atlasbot::scheduler::DeliveryError>>
                + Send
                + 'a,
        >,
    > {
        Box::pin(async move {
            self.sent.lock().unwrap().push(d.clone());
            Ok(())
        })
    }
}

impl Recorder {
    /// What it was given, in order.
    pub fn deliveries(&self) -> Vec<atlasbot::scheduler::Delivery> {
        self.sent.lock().unwrap().clone()
    }

    /// What it was given, taken (the next call starts afresh).
    pub fn take(&self) -> Vec<atlasbot::scheduler::Delivery> {
        std::mem::take(&mut *self.sent.lock().unwrap())
    }
}
