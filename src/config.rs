//! Configuration: the command line and the environment, read here and nowhere else.
//! Every option has a flag and, where it makes sense for a service, an environment variable.

use std::path::PathBuf;

/// Discord's API, version 10: where the bot talks to Discord unless DISCORD_API_BASE says.
pub const DISCORD_API_DEFAULT: &str = "https://discord.com/api/v10";

use clap::{Parser, Subcommand};

/// Default database file, relative to the working directory.
pub const DEFAULT_DB: &str = "atlasbot.db";

impl Cli {
    /// Where this process keeps its state.
    pub fn location(&self) -> crate::store::Location {
        crate::store::Location::parse(&self.db, Some(self.atlas.clone()))
    }

    /// The `--color` of the commands that take one (`auto` for the others): logs follow it too.
    pub fn color(&self) -> ColorChoice {
        match &self.command {
            Command::Ask { color, .. } | Command::Console { color, .. } => *color,
            _ => ColorChoice::Auto,
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "atlasbot",
    version,
    about = "Answers questions about the Geneva digital-policy ecosystem."
)]
pub struct Cli {
    /// SQLite database file; created (and filled with the bundled atlas) on first use. Or a
    /// postgres:// URL: the runtime state (events, reminders, settings) on that server, shared
    /// by every process, and the atlas in the file `--atlas` names.
    #[arg(long, global = true, env = "ATLASBOT_DB", default_value = DEFAULT_DB)]
    pub db: String,

    /// With a postgres:// `--db`: this process's SQLite copy of the atlas (read-only
    /// knowledge; created and filled on first use).
    #[arg(long, global = true, env = "ATLASBOT_ATLAS", default_value = crate::store::DEFAULT_ATLAS_FILE)]
    pub atlas: PathBuf,

    /// After downtime, reminders missed by less than this many minutes still go out (marked
    /// late); older ones are recorded as missed.
    #[arg(
        long,
        global = true,
        env = "ATLASBOT_GRACE_MINUTES",
        default_value_t = 10
    )]
    pub grace_minutes: i64,

    /// How long a process's claim on a due reminder lasts before another process may take
    /// it over — the longest a reminder waits after its process dies on another host.
    #[arg(
        long,
        global = true,
        env = "ATLASBOT_CLAIM_LEASE_SECONDS",
        default_value_t = 120,
        value_parser = clap::value_parser!(u32).range(2..=86_400)
    )]
    pub claim_lease_seconds: u32,

    /// Where people reach this bot's calendar pages and feeds (`atlasbot serve`, or the
    /// `discord-http` listener), e.g. https://bot.example.org: `/event subscribe` gives links
    /// under it. Unset: no feeds are offered.
    #[arg(long, global = true, env = "ATLASBOT_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Followed calendars (`/event sync add`) may be on private, loopback and link-local
    /// addresses (a calendar server on the bot's own network). Off: such addresses are
    /// refused, checked on every connection, redirects included.
    #[arg(long, global = true, env = "ATLASBOT_SYNC_ALLOW_PRIVATE")]
    pub sync_allow_private: bool,

    /// Followed calendars may be plain http:// (off: https only).
    #[arg(long, global = true, env = "ATLASBOT_SYNC_ALLOW_HTTP")]
    pub sync_allow_http: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Answer one command line and print the answer, e.g. `atlasbot ask "/actor WIPO"`.
    /// Exit status: 0 for any answer (including "not found"), 2 for a usage error.
    Ask {
        /// The command line, as you would type it in a chat: "/actor WIPO".
        line: String,
        /// Print the reply as JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Colour on a terminal: auto (unless NO_COLOR is set or stdout is not a terminal),
        /// always, never.
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
    },
    /// Read command lines from the terminal (with editing, Tab completion and history) or a
    /// pipe.
    Console {
        /// Print replies as JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Colour on a terminal: auto (unless NO_COLOR is set or stdout is not a terminal),
        /// always, never.
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
    },
    /// Rebuild the atlas from a data directory (default: the data bundled in the binary).
    /// Prints a report; on any error prints every problem as file:line and changes nothing.
    Import {
        /// A directory laid out like the repository's data/ (sources.toml, actors.toml, …).
        dir: Option<PathBuf>,
    },
    /// Check a data directory without touching any database: import checks plus unique names,
    /// every registry standard mentioned, every glossary expansion found in the sources.
    CheckData {
        /// A directory laid out like data/ (default: the bundled data).
        dir: Option<PathBuf>,
    },
    /// Run in Matrix rooms: `!actor WIPO` (or `/actor WIPO`) as text, answers as notices.
    /// Needs MATRIX_PASSWORD or MATRIX_ACCESS_TOKEN in the environment (never as a flag).
    Matrix(MatrixArgs),
    /// Run on Discord over the gateway (DISCORD_TOKEN in the environment); `discord register`
    /// installs the slash commands.
    Discord(DiscordArgs),
    /// Serve Discord's HTTP interactions endpoint (DISCORD_PUBLIC_KEY in the environment;
    /// DISCORD_TOKEN for reminders).
    DiscordHttp(DiscordHttpArgs),
    /// Serve the spaces' calendar feeds and events pages over HTTP (needs --public-url);
    /// `discord-http` serves them too, on its own listener.
    Serve(ServeArgs),
    /// Measurements for BENCHMARKS.md.
    #[command(subcommand)]
    Bench(Bench),
    /// Answer quality: ask a question set (default: the bundled eval/questions.toml) and print
    /// the pass rate, per class, and the precision of /who-works-on's top 3. Exit 1 if any fail.
    Eval {
        /// A question set of your own (TOML, same format as eval/questions.toml).
        #[arg(long)]
        questions: Option<PathBuf>,
        /// Say what is wrong with each failed answer.
        #[arg(long, short)]
        verbose: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct MatrixArgs {
    /// The homeserver's client-server API address, e.g. https://matrix.example.org.
    #[arg(long, env = "MATRIX_HOMESERVER")]
    pub homeserver: String,
    /// The bot's full user id, e.g. @atlasbot:example.org.
    #[arg(long, env = "MATRIX_USER")]
    pub user: String,
    /// Join only rooms to which users of these servers invite the bot (comma-separated
    /// server names, e.g. example.org,uni.example); default: any server.
    #[arg(long, env = "MATRIX_ALLOWED_SERVERS", value_delimiter = ',')]
    pub allowed_servers: Vec<String>,
    /// The directory of the end-to-end encryption store (this device's keys and sessions);
    /// default: beside the database (or, with PostgreSQL, beside the atlas file). One per
    /// process; keep it: a lost store means a new device.
    #[arg(long, env = "MATRIX_CRYPTO_STORE")]
    pub crypto_store: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct DiscordArgs {
    #[command(subcommand)]
    pub action: Option<DiscordAction>,
    /// Register the commands in this guild only (instant; for development) — at start-up of
    /// the gateway, or with `register`. Default: `register` registers globally.
    #[arg(long, global = true, env = "DISCORD_GUILD_ID")]
    pub guild: Option<String>,
    /// The application's id; default: asked from Discord with the token.
    #[arg(long, global = true, env = "DISCORD_APPLICATION_ID")]
    pub application_id: Option<String>,
    /// Run only these shards (FIRST-LAST), with --shard-total; default: all, as Discord advises.
    #[arg(long, env = "DISCORD_SHARDS")]
    pub shards: Option<String>,
    /// The total number of shards across all processes (with --shards).
    #[arg(long, env = "DISCORD_SHARD_TOTAL")]
    pub shard_total: Option<u32>,
    /// Discord's REST API (a proxy, or a test server); default: Discord's own.
    #[arg(long, global = true, env = "DISCORD_API_BASE", default_value = DISCORD_API_DEFAULT)]
    pub api_base: String,
}

#[derive(Debug, Subcommand)]
pub enum DiscordAction {
    /// Replace the application's slash commands with those in commands/*.toml (in the guild
    /// given by --guild / DISCORD_GUILD_ID, else globally).
    Register,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; put it behind HTTPS at the public URL.
    #[arg(long, env = "ATLASBOT_LISTEN", default_value = "127.0.0.1:8090")]
    pub listen: std::net::SocketAddr,
}

#[derive(Debug, clap::Args)]
pub struct DiscordHttpArgs {
    /// Address to listen on; put it behind HTTPS and give Discord its public URL.
    #[arg(long, env = "DISCORD_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// The application's public key (64 hex digits), from the developer portal.
    #[arg(long, env = "DISCORD_PUBLIC_KEY")]
    pub public_key: String,
    /// The application's id.
    #[arg(long, env = "DISCORD_APPLICATION_ID")]
    pub application_id: String,
    /// Discord's REST API (a proxy, or a test server); default: Discord's own.
    #[arg(long, env = "DISCORD_API_BASE", default_value = DISCORD_API_DEFAULT)]
    pub api_base: String,
}

/// When the console colours its answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Secrets come from the environment only — a flag would show in `ps` and shell history —
/// and are never printed. Empty counts as unset.
pub fn secret(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

#[derive(Debug, Subcommand)]
pub enum Bench {
    /// Import into a fresh database: the bundled data, or synthetic data SCALE times larger.
    Import {
        #[arg(long, default_value_t = 1)]
        scale: usize,
        /// Keep the generated data directory here instead of a temporary one.
        #[arg(long)]
        keep: Option<PathBuf>,
    },
    /// Reminders at scale: next-due lookup, memory, firing lag of a burst due in one second.
    Reminders {
        /// Reminders scheduled over the coming year.
        #[arg(long, default_value_t = 1_000_000)]
        count: usize,
        /// Reminders due in the same second.
        #[arg(long, default_value_t = 10_000)]
        burst: usize,
        /// Keep the runtime state on this (empty) PostgreSQL database instead of a SQLite
        /// file in a temporary directory.
        #[arg(long)]
        postgres: Option<String>,
        /// Separate `atlasbot` processes delivering the burst together, each with its own
        /// scheduler, connection pool and owner id.
        #[arg(long, default_value_t = 1)]
        processes: usize,
    },
    /// One of `bench reminders`' processes: a scheduler on `--db` that prints each delivery
    /// and stops when its stdin closes.
    #[command(hide = true)]
    ReminderWorker,
    /// Planning cost per event and per calendar import as series grow (rolling plan).
    Planning,
    /// Reminders due together, delivered through the scheduler and the Discord client to a
    /// stand-in Discord on loopback with Discord's latency and limits: lag against the floor
    /// the limits set, messages lost or sent twice.
    Delivery(DeliveryBench),
    /// Signed interactions per second on the Discord HTTP endpoint, over loopback.
    Interactions {
        /// Requests per case.
        #[arg(long, default_value_t = 50_000)]
        requests: usize,
        /// Keep-alive connections sending at once.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
    },
    /// Calendar feeds and the events page: requests per second over loopback, against a
    /// 404 floor measured in the same run.
    Feeds {
        /// Requests per case.
        #[arg(long, default_value_t = 5_000)]
        requests: usize,
        /// Keep-alive connections sending at once.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Events in the space (200 is the most a space may have).
        #[arg(long, default_value_t = 200)]
        events: usize,
    },
    /// Latency of every lookup command and of autocompletion; cold start.
    Commands {
        /// Synthetic actors added to the bundled atlas (0: the bundled atlas alone).
        #[arg(long, default_value_t = 0)]
        actors: usize,
        /// Measured runs per command.
        #[arg(long, default_value_t = 200)]
        iterations: usize,
        /// Measure only these command lines (repeatable) instead of the standard set.
        #[arg(long = "line")]
        lines: Vec<String>,
    },
}

/// The shape of `bench delivery`.
#[derive(Debug, Clone, clap::Args)]
pub struct DeliveryBench {
    /// Reminders to channels (one per event).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub reminders: u32,
    /// Channels (one server each) they go to.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub channels: u32,
    /// Direct messages to people Interested in the events, in all.
    #[arg(long, default_value_t = 1_500, value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pub direct: u32,
    /// People Interested per event (at most 80 are reminded per event).
    #[arg(long, default_value_t = 75, value_parser = clap::value_parser!(u32).range(1..=80))]
    pub per_event: u32,
    /// How long the stand-in takes to answer each request, in milliseconds.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(0..=5_000))]
    pub latency_ms: u64,
    /// Which platform's stand-in: `discord` (its global and per-channel limits) or `matrix` (a
    /// homeserver that throttles and fails; `--reminders` to `--channels` rooms, no DMs).
    #[arg(long, default_value = "discord", value_parser = ["discord", "matrix"])]
    pub platform: String,
    /// Matrix: messages a second the homeserver takes before `M_LIMIT_EXCEEDED`.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub matrix_rate: u32,
    /// Matrix: one send in this many fails with a 5xx (0: none).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    pub fail_one_in: u64,
    /// Destinations delivered to at once (1: one reminder after another).
    #[arg(long, default_value_t = crate::scheduler::LANES as u32, value_parser = clap::value_parser!(u32).range(1..=1_000))]
    pub lanes: u32,
}

/// A secret value (a token) whose Debug output never shows it, so that no `{:?}` of a client
/// or its settings can put it in a log.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    /// The value itself, for the one place it is sent.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}
