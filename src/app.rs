//! Wiring: runs the command the user chose, prints its outcome, maps it to an exit code.
//! Exit codes: 0 success, 1 failure (bad data, database error), 2 usage error (clap's).

use std::process::ExitCode;
use std::time::Instant;

use crate::commands::Context;
use crate::config::{Bench, Cli, Command};
use crate::import::{self, DataDir, Problem, Severity};
use crate::store::Store;

/// The whole program: the command line, logging, the runtime, the command's exit code.
pub fn main() -> ExitCode {
    use clap::Parser;
    let cli = Cli::parse();
    init_tracing(cli.color());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("atlasbot: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(cli))
}

/// Logs go to stderr so that stdout stays the bot's answers (the console contract), coloured
/// by the same conventions as the answers (`--color`, `NO_COLOR`, `CLICOLOR`, `TERM=dumb`, a
/// pipe) decided for stderr: tracing's own default colours whenever `NO_COLOR` is unset, so a
/// warning in a console on a dumb terminal came out with escapes.
pub fn init_tracing(color: crate::config::ColorChoice) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ATLASBOT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(crate::platform::console::colours(color, &std::io::stderr()))
        .init();
}

pub async fn run(cli: Cli) -> ExitCode {
    let db = cli.location();
    let timing = Timing {
        grace_minutes: cli.grace_minutes,
        lease_seconds: cli.claim_lease_seconds,
        public_url: cli.public_url.clone(),
        sync_policy: crate::sync::fetch::Policy {
            allow_private: cli.sync_allow_private,
            allow_http: cli.sync_allow_http,
            ..crate::sync::fetch::Policy::default()
        },
    };
    match cli.command {
        Command::Ask { line, json, color } => match context(&db, timing).await {
            Some(ctx) => {
                let display = crate::platform::console::Display::new(json, color);
                crate::platform::console::ask(&ctx, &line, display).await
            }
            None => ExitCode::FAILURE,
        },
        Command::Console { json, color } => match context(&db, timing).await {
            Some(ctx) => {
                let display = crate::platform::console::Display::new(json, color);
                crate::platform::console::run(&ctx, display).await
            }
            None => ExitCode::FAILURE,
        },
        #[cfg(feature = "matrix")]
        Command::Matrix(args) => match context(&db, timing).await {
            Some(ctx) => crate::platform::matrix::run(ctx, matrix_settings(args, &db)).await,
            None => ExitCode::FAILURE,
        },
        #[cfg(not(feature = "matrix"))]
        Command::Matrix(_) => not_built("matrix"),
        #[cfg(feature = "discord")]
        Command::Discord(args) => match context(&db, timing).await {
            Some(ctx) => report(crate::platform::discord::run_gateway(ctx, args).await),
            None => ExitCode::FAILURE,
        },
        #[cfg(feature = "discord")]
        Command::DiscordHttp(args) => match context(&db, timing).await {
            Some(ctx) => report(crate::platform::discord::run_endpoint(ctx, args).await),
            None => ExitCode::FAILURE,
        },
        #[cfg(not(feature = "discord"))]
        Command::Discord(_) | Command::DiscordHttp(_) => not_built("discord"),
        Command::Serve(args) => match context(&db, timing).await {
            Some(ctx) => report(crate::platform::web::run(ctx, args.listen).await),
            None => ExitCode::FAILURE,
        },
        Command::Import { dir } => run_import(&db, data_dir(dir)).await,
        Command::CheckData { dir } => run_check(data_dir(dir)),
        Command::Bench(bench) => run_bench(bench, db, timing).await,
        Command::Eval { questions, verbose } => match context(&db, timing).await {
            Some(ctx) => run_eval(&ctx, questions.as_deref(), verbose).await,
            None => ExitCode::FAILURE,
        },
    }
}

/// The Matrix bot's settings: the command line's, the secrets from the environment.
#[cfg(feature = "matrix")]
fn matrix_settings(
    args: crate::config::MatrixArgs,
    db: &crate::store::Location,
) -> crate::platform::matrix::Settings {
    crate::platform::matrix::Settings {
        homeserver: args.homeserver,
        user: args.user,
        allowed_servers: args
            .allowed_servers
            .into_iter()
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect(),
        password: crate::config::secret("MATRIX_PASSWORD"),
        access_token: crate::config::secret("MATRIX_ACCESS_TOKEN"),
        crypto_store: args.crypto_store.unwrap_or_else(|| {
            crate::platform::matrix::crypto::default_store_path(db.atlas_file())
        }),
        crypto_passphrase: crate::config::secret("MATRIX_CRYPTO_PASSPHRASE"),
        recovery_key: crate::config::secret("MATRIX_RECOVERY_KEY"),
    }
}

async fn run_eval(ctx: &Context, questions: Option<&std::path::Path>, verbose: bool) -> ExitCode {
    let text = match questions {
        None => crate::eval::BUNDLED.to_string(),
        Some(path) => match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("cannot read {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        },
    };
    let set = match crate::eval::parse(&text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("the question set is not valid: {e}");
            return ExitCode::FAILURE;
        }
    };
    let report = crate::eval::run(ctx, &set).await;
    print!("{}", report.render(verbose));
    if report.passed() == report.outcomes.len() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn run_bench(bench: Bench, db: crate::store::Location, timing: Timing) -> ExitCode {
    match bench_result(bench, db, timing).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("benchmark failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one benchmark (each prints its own table).
async fn bench_result(
    bench: Bench,
    db: crate::store::Location,
    timing: Timing,
) -> anyhow::Result<()> {
    match bench {
        Bench::Import { scale, keep } => crate::bench::import(scale, keep.as_deref()).await,
        Bench::Commands {
            actors,
            iterations,
            lines,
        } => crate::bench::commands::run(actors, iterations, &lines).await,
        #[cfg(feature = "discord")]
        Bench::Interactions {
            requests,
            concurrency,
        } => crate::bench::interactions::run(requests, concurrency.max(1)).await,
        #[cfg(not(feature = "discord"))]
        Bench::Interactions { .. } => Err(anyhow::anyhow!(
            "this build has no Discord support (build with --features discord)"
        )),
        Bench::Feeds {
            requests,
            concurrency,
            events,
        } => crate::bench::feeds::run(requests, concurrency.max(1), events.min(200)).await,
        Bench::Planning => crate::bench::planning::run().await,
        Bench::Delivery(shape) => crate::bench::delivery(shape).await,
        Bench::Reminders {
            count,
            burst,
            postgres,
            processes,
        } => crate::bench::reminders::run(count, burst, postgres, processes).await,
        Bench::ReminderWorker => {
            let lease = chrono::Duration::seconds(i64::from(timing.lease_seconds));
            crate::bench::reminders::worker(db, lease).await
        }
    }
}

/// A platform this binary was built without: say how to build it, exit 1.
#[cfg(not(all(feature = "matrix", feature = "discord")))]
fn not_built(platform: &str) -> ExitCode {
    eprintln!(
        "atlasbot: this build has no {platform} support; build it with `cargo build --release --features {platform}` (or the default features)"
    );
    ExitCode::FAILURE
}

/// A service's outcome: its error on stderr, exit 1.
fn report(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("atlasbot: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Opens the store (creating and filling it on first use) and the command context.
/// The scheduler's timing settings, from the command line.
/// Settings every context takes from the command line.
#[derive(Clone)]
struct Timing {
    grace_minutes: i64,
    lease_seconds: u32,
    public_url: Option<String>,
    sync_policy: crate::sync::fetch::Policy,
}

async fn context(db: &crate::store::Location, timing: Timing) -> Option<Context> {
    let store = match crate::database::open_store(db.clone()).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}", open_error(db, &e));
            return None;
        }
    };
    match Context::new(store).await {
        Ok(mut c) => {
            c.grace = chrono::Duration::minutes(timing.grace_minutes.clamp(0, 24 * 60));
            c.lease = chrono::Duration::seconds(timing.lease_seconds.into());
            c.public_url = timing
                .public_url
                .map(|u| u.trim().trim_end_matches('/').to_string())
                .filter(|u| !u.is_empty());
            c.sync_policy = timing.sync_policy;
            Some(c)
        }
        Err(e) => {
            eprintln!(
                "cannot read the atlas from {}: {e}",
                db.atlas_file().display()
            );
            None
        }
    }
}

fn data_dir(dir: Option<std::path::PathBuf>) -> DataDir {
    dir.map_or(DataDir::Bundled, DataDir::Path)
}

fn print_problems(problems: &[Problem], severity: Severity, heading: &str) {
    let list: Vec<&Problem> = problems.iter().filter(|p| p.severity == severity).collect();
    if !list.is_empty() {
        println!("{heading} ({}):", list.len());
        for p in list {
            println!("  {p}");
        }
    }
}

fn print_errors(problems: &[Problem]) {
    let errors: Vec<&Problem> = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .collect();
    eprintln!(
        "import failed: {} error(s); the database was not changed",
        errors.len()
    );
    for p in errors {
        eprintln!("{p}");
    }
}

/// Why the store did not open, in one line: a wrong setting says so itself (naming it);
/// anything else is prefixed with where.
fn open_error(db: &crate::store::Location, e: &anyhow::Error) -> String {
    match e.downcast_ref::<crate::store::StoreError>() {
        Some(crate::store::StoreError::Setting(line)) => format!("atlasbot: {line}"),
        _ => format!("atlasbot: cannot open the database {}: {e}", db.describe()),
    }
}

async fn run_import(db: &crate::store::Location, data: DataDir) -> ExitCode {
    let started = Instant::now();
    let (atlas, problems) = match import::read_atlas(&data) {
        Ok(r) => r,
        Err(problems) => {
            print_errors(&problems);
            return ExitCode::FAILURE;
        }
    };
    let parsed = started.elapsed();
    let store = match Store::open_at(db).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}", open_error(db, &e.into()));
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = store.replace_atlas(&atlas, &data.describe()).await {
        eprintln!(
            "import failed while writing {}: {e}; the database was not changed",
            db.atlas_file().display()
        );
        return ExitCode::FAILURE;
    }
    store.close().await;
    println!(
        "Imported the atlas from {} into {} in {} ms (parsing {} ms).",
        data.describe(),
        db.atlas_file().display(),
        started.elapsed().as_millis(),
        parsed.as_millis()
    );
    println!();
    for (table, n) in atlas.counts() {
        println!("  {table:<24} {n:>6}");
    }
    println!();
    print_problems(&problems, Severity::Warning, "Warnings");
    print_problems(
        &problems,
        Severity::Removed,
        "Removed on purpose (junk and repeats)",
    );
    print_problems(
        &problems,
        Severity::Repaired,
        "Repaired (glued words split with the sources' own vocabulary)",
    );
    ExitCode::SUCCESS
}

fn run_check(data: DataDir) -> ExitCode {
    match import::check::check_data(&data) {
        Ok(report) => {
            let warnings = report
                .notes
                .iter()
                .filter(|p| p.severity == Severity::Warning)
                .count();
            println!(
                "data OK: {} actors, {} topics, {} standards, {} documents, {} events, {} glossary terms ({} warnings)",
                report.atlas.actors.len(),
                report.atlas.topics.len(),
                report.atlas.standards.len(),
                report.atlas.documents.len(),
                report.atlas.events.len(),
                report.atlas.glossary.len(),
                warnings
            );
            ExitCode::SUCCESS
        }
        Err(problems) => {
            let errors: Vec<&Problem> = problems
                .iter()
                .filter(|p| p.severity == Severity::Error)
                .collect();
            eprintln!("data check failed: {} error(s)", errors.len());
            for p in errors {
                eprintln!("{p}");
            }
            ExitCode::FAILURE
        }
    }
}
