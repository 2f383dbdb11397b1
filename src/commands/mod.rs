//! The platform-neutral core: a command line (or a Discord interaction turned into one) is
//! parsed into a typed request, run against the atlas, and answered with a `Reply`. Commands
//! never know which platform asked; adapters (`platform`) only translate.
//!
//! One command = one manifest (commands/NAME.toml) + one module + one `CommandName` variant.
//! Names are strings only in the manifests; everything after parsing is an exhaustive `match`,
//! so a command without a handler does not compile.

pub mod autocomplete;
pub mod invocation;
pub mod look_up;
pub mod spec;

mod actor;
pub mod ask;
mod define;
mod document;
pub(crate) mod event;
mod events;
mod evidence;
pub(crate) mod follow;
mod help;
mod remind;
mod reminders;
mod search;
mod settings;
mod standard;
mod topics;
mod who_works_on;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use tokio::sync::RwLock;

use crate::atlas::Atlas;
use crate::domain::{Platform, SpaceId};
use crate::error::{self, CommandError};
use crate::reply::{Reply, Text, Tone};
use crate::store::{Store, StoreError};

/// Longest command line we accept; longer input gets a polite refusal, never a query.
pub const MAX_INPUT_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandName {
    Actor,
    Standard,
    WhoWorksOn,
    Document,
    Define,
    Topics,
    Search,
    Help,
    Events,
    Event,
    Remind,
    Reminders,
    Settings,
    Follow,
    Unfollow,
    Following,
    Rsvp,
    Ask,
}

impl CommandName {
    pub const ALL: &'static [CommandName] = &[
        CommandName::Actor,
        CommandName::Standard,
        CommandName::WhoWorksOn,
        CommandName::Document,
        CommandName::Define,
        CommandName::Topics,
        CommandName::Search,
        CommandName::Help,
        CommandName::Events,
        CommandName::Event,
        CommandName::Remind,
        CommandName::Reminders,
        CommandName::Settings,
        CommandName::Follow,
        CommandName::Unfollow,
        CommandName::Following,
        CommandName::Rsvp,
        CommandName::Ask,
    ];

    pub fn manifest_file(self) -> &'static str {
        match self {
            CommandName::Actor => "actor.toml",
            CommandName::Standard => "standard.toml",
            CommandName::WhoWorksOn => "who-works-on.toml",
            CommandName::Document => "document.toml",
            CommandName::Define => "define.toml",
            CommandName::Topics => "topics.toml",
            CommandName::Search => "search.toml",
            CommandName::Help => "help.toml",
            CommandName::Events => "events.toml",
            CommandName::Event => "event.toml",
            CommandName::Remind => "remind.toml",
            CommandName::Reminders => "reminders.toml",
            CommandName::Settings => "settings.toml",
            CommandName::Follow => "follow.toml",
            CommandName::Unfollow => "unfollow.toml",
            CommandName::Following => "following.toml",
            CommandName::Rsvp => "rsvp.toml",
            CommandName::Ask => "ask.toml",
        }
    }

    pub(crate) fn manifest_source(self) -> &'static str {
        match self {
            CommandName::Actor => include_str!("../../commands/actor.toml"),
            CommandName::Standard => include_str!("../../commands/standard.toml"),
            CommandName::WhoWorksOn => include_str!("../../commands/who-works-on.toml"),
            CommandName::Document => include_str!("../../commands/document.toml"),
            CommandName::Define => include_str!("../../commands/define.toml"),
            CommandName::Topics => include_str!("../../commands/topics.toml"),
            CommandName::Search => include_str!("../../commands/search.toml"),
            CommandName::Help => include_str!("../../commands/help.toml"),
            CommandName::Events => include_str!("../../commands/events.toml"),
            CommandName::Event => include_str!("../../commands/event.toml"),
            CommandName::Remind => include_str!("../../commands/remind.toml"),
            CommandName::Reminders => include_str!("../../commands/reminders.toml"),
            CommandName::Settings => include_str!("../../commands/settings.toml"),
            CommandName::Follow => include_str!("../../commands/follow.toml"),
            CommandName::Unfollow => include_str!("../../commands/unfollow.toml"),
            CommandName::Following => include_str!("../../commands/following.toml"),
            CommandName::Rsvp => include_str!("../../commands/rsvp.toml"),
            CommandName::Ask => include_str!("../../commands/ask.toml"),
        }
    }

    pub fn name(self) -> &'static str {
        &spec::manifest(self).name
    }

    /// Whether the answer is a function of the atlas and the options alone — the same for
    /// everyone, every time, until the atlas changes — so an adapter may give a rendered
    /// answer again. Every command says (no catch-all), so a new one must decide.
    pub fn is_lookup(self) -> bool {
        match self {
            CommandName::Actor
            | CommandName::Standard
            | CommandName::WhoWorksOn
            | CommandName::Document
            | CommandName::Define
            | CommandName::Topics
            | CommandName::Search
            | CommandName::Help => true,
            CommandName::Events
            | CommandName::Event
            | CommandName::Remind
            | CommandName::Reminders
            | CommandName::Settings
            | CommandName::Follow
            | CommandName::Unfollow
            | CommandName::Following
            | CommandName::Rsvp
            // It may route to any command (the events, a reminder).
            | CommandName::Ask => false,
        }
    }

    /// Whether the answer depends on who asks (moderator or not): the commands on the runtime
    /// state. A lookup answers everyone alike, so an adapter need not work out the asker's
    /// role (on Discord that is a read of the space's settings per interaction).
    pub fn depends_on_role(self) -> bool {
        matches!(
            self,
            CommandName::Events
                | CommandName::Event
                | CommandName::Remind
                | CommandName::Reminders
                | CommandName::Settings
        )
    }
}

/// A parsed, typed request: what each command's `run` receives.
#[derive(Debug, Clone)]
pub enum Request {
    Actor(actor::Params),
    Standard(standard::Params),
    WhoWorksOn(who_works_on::Params),
    Document(document::Params),
    Define(define::Params),
    Topics,
    Search(search::Params),
    Help(help::Params),
    Events(events::Params),
    Event(event::Params),
    Remind(remind::Params),
    Reminders(reminders::Params),
    Settings(settings::Params),
    Follow(follow::Params),
    Rsvp(event::rsvp::Params),
    Ask(ask::Params),
}

/// Who is asking, and from where (permissions are decided in the core, per platform facts).
#[derive(Debug, Clone)]
pub struct Caller {
    pub platform: Platform,
    /// The space asked in.
    pub space: SpaceId,
    pub user: String,
    /// Whether the platform says this user moderates the space (decided by the adapter from
    /// platform facts — permissions, power levels — and the space's settings).
    pub moderator: bool,
    /// The channel asked in, where the space is bigger than one channel (a Discord guild):
    /// the first event scheduled there makes it the space's reminder channel.
    pub channel: Option<String>,
}

impl Caller {
    /// The local user of the console moderates the console space.
    pub fn console() -> Caller {
        Caller {
            platform: Platform::Console,
            space: SpaceId::console(),
            user: "local".into(),
            moderator: true,
            channel: None,
        }
    }
}

/// What every command runs with: the runtime store, the atlas read model, the clock.
#[derive(Clone)]
pub struct Context {
    pub store: Store,
    pub clock: crate::scheduler::Clock,
    /// How late a reminder may still go out after downtime.
    pub grace: chrono::Duration,
    /// How long a scheduler's claim lasts (`--claim-lease-seconds`).
    pub lease: chrono::Duration,
    /// Where the bot's calendar feeds and pages are reached (`--public-url`), if anywhere.
    pub public_url: Option<String>,
    /// What followed calendars may be fetched from (`--sync-allow-private`, `--sync-allow-http`).
    pub sync_policy: crate::sync::fetch::Policy,
    atlas: Arc<RwLock<Arc<Atlas>>>,
    /// When the atlas version was last compared with the database's.
    checked: Arc<std::sync::Mutex<std::time::Instant>>,
    /// Recent changes each person made to what they follow (`changes_allowed`).
    changes: Arc<std::sync::Mutex<RecentChanges>>,
}

/// When each person (space, user) last changed what they follow, within the window.
type RecentChanges = std::collections::HashMap<(SpaceId, String), Vec<DateTime<Utc>>>;

/// How many changes (follow, unfollow) one person may make per window: plenty for a person,
/// a bound for a script repeating them.
pub const CHANGES_PER_WINDOW: usize = 20;
pub const CHANGES_WINDOW: chrono::Duration = chrono::Duration::minutes(10);
/// People remembered at most; beyond, the oldest windows are forgotten first.
const CHANGES_REMEMBERED: usize = 10_000;

/// How stale the read model may be after another process imports a new atlas. Checking costs a
/// query (~0.1 ms through the pool), too much to pay on every command.
const RECHECK: std::time::Duration = std::time::Duration::from_secs(1);

impl Context {
    /// A context over `store`, with the atlas it holds loaded into memory.
    pub async fn new(store: Store) -> Result<Context, StoreError> {
        let atlas = Atlas::new(store.load_atlas().await?);
        Ok(Context::with_atlas(store, Arc::new(atlas)))
    }

    /// A context over `store` answering from `atlas` (already loaded).
    pub fn with_atlas(store: Store, atlas: Arc<Atlas>) -> Context {
        Context {
            clock: crate::scheduler::Clock::System,
            grace: chrono::Duration::minutes(10),
            lease: crate::scheduler::LEASE,
            public_url: None,
            sync_policy: crate::sync::fetch::Policy::default(),
            checked: Arc::new(std::sync::Mutex::new(std::time::Instant::now())),
            changes: Arc::default(),
            store,
            atlas: Arc::new(RwLock::new(atlas)),
        }
    }

    /// Runs on `clock` (tests that move time): for what is due and, standing in for the
    /// database's clock, for how long claims last.
    pub fn set_clock(&mut self, clock: crate::scheduler::Clock) {
        self.store = self.store.clone().with_lease_clock(clock.clone());
        self.clock = clock;
    }

    /// Whether `caller` may make one more change now (and counts it): at most
    /// `CHANGES_PER_WINDOW` in any `CHANGES_WINDOW`. Per process, in memory, bounded.
    pub fn changes_allowed(&self, caller: &Caller, now: DateTime<Utc>) -> bool {
        self.changes_allowed_within(caller, now, CHANGES_PER_WINDOW)
    }

    /// The same with another limit per window (questions asked in messages).
    pub fn changes_allowed_within(
        &self,
        caller: &Caller,
        now: DateTime<Utc>,
        per_window: usize,
    ) -> bool {
        let mut all = self.changes.lock().unwrap_or_else(|e| e.into_inner());
        if all.len() >= CHANGES_REMEMBERED {
            all.retain(|_, times| times.last().is_some_and(|t| now - *t < CHANGES_WINDOW));
            if all.len() >= CHANGES_REMEMBERED {
                all.clear();
            }
        }
        let times = all
            .entry((caller.space.clone(), caller.user.clone()))
            .or_default();
        times.retain(|t| now - *t < CHANGES_WINDOW);
        if times.len() >= per_window {
            return false;
        }
        times.push(now);
        true
    }

    /// The current atlas, reloaded first if another process imported a new one.
    pub async fn atlas(&self) -> Result<Arc<Atlas>, StoreError> {
        let current = self.atlas.read().await.clone();
        {
            let mut checked = self.checked.lock().unwrap_or_else(|e| e.into_inner());
            if checked.elapsed() < RECHECK {
                return Ok(current);
            }
            *checked = std::time::Instant::now();
        }
        // The database being unreachable for a moment is no reason to stop answering from the
        // atlas already in memory: it is kept, and a new one loaded on a later look.
        let fresh = match self.store.atlas_version().await {
            Ok(v) if v.as_deref().unwrap_or_default() == current.data_hash => return Ok(current),
            Ok(_) => self.store.load_atlas().await,
            Err(e) => Err(e),
        };
        match fresh {
            Ok(rows) => {
                let fresh = Arc::new(Atlas::new(rows));
                *self.atlas.write().await = fresh.clone();
                Ok(fresh)
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot check the atlas version; answering from the loaded one");
                Ok(current)
            }
        }
    }
}

/// Splits and binds a command line: the command and its option values.
fn bind_line(line: &str) -> Result<(CommandName, invocation::Args), CommandError> {
    let inv = invocation::parse(line)?;
    let args = invocation::bind(spec::manifest(inv.command), &inv)?;
    Ok((inv.command, args))
}

/// A command line bound to its command and option values: for adapters that do part of the
/// work themselves (the console reads the file a path names; Matrix cannot carry files).
#[derive(Debug, Clone)]
pub struct Bound {
    pub command: CommandName,
    pub subcommand: Option<String>,
    pub values: Vec<(String, String)>,
}

impl Bound {
    /// The options that take a file (attachments): the adapter delivers their content.
    pub fn file_options(&self) -> Vec<&'static str> {
        invocation::attachment_options(spec::manifest(self.command), self.subcommand.as_deref())
    }

    pub fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A line that works for this command with a file (for usage answers).
    pub fn file_example(&self, option: &str) -> String {
        let sub = self
            .subcommand
            .as_ref()
            .map(|s| format!(" {s}"))
            .unwrap_or_default();
        format!("/{}{sub} {option}:calendar.ics", self.command.name())
    }
}

/// Binds a line without running it (`None` when it does not bind: the core then answers it).
pub fn bind(line: &str) -> Option<Bound> {
    let (command, args) = bind_line(line).ok()?;
    Some(Bound {
        command,
        subcommand: args.subcommand.clone(),
        values: args.pairs(),
    })
}

/// Parses a command line into a request, or a usage error with an example that works.
pub fn parse(line: &str) -> Result<Request, CommandError> {
    let (command, args) = bind_line(line)?;
    request(command, &args)
}

fn request(command: CommandName, args: &invocation::Args) -> Result<Request, CommandError> {
    Ok(match command {
        CommandName::Actor => Request::Actor(actor::parse(args)?),
        CommandName::Standard => Request::Standard(standard::parse(args)?),
        CommandName::WhoWorksOn => Request::WhoWorksOn(who_works_on::parse(args)?),
        CommandName::Document => Request::Document(document::parse(args)?),
        CommandName::Define => Request::Define(define::parse(args)?),
        CommandName::Topics => Request::Topics,
        CommandName::Search => Request::Search(search::parse(args)?),
        CommandName::Help => Request::Help(help::parse(args)?),
        CommandName::Events => Request::Events(events::parse(args)?),
        CommandName::Event => Request::Event(event::parse(args)?),
        CommandName::Remind => Request::Remind(remind::parse(args)?),
        CommandName::Rsvp => Request::Rsvp(event::rsvp::parse(args)?),
        CommandName::Reminders => Request::Reminders(reminders::parse(args)?),
        CommandName::Settings => Request::Settings(settings::parse(args)?),
        CommandName::Follow | CommandName::Unfollow | CommandName::Following => {
            Request::Follow(follow::parse(command, args)?)
        }
        CommandName::Ask => Request::Ask(ask::parse(args)?),
    })
}

/// Refuses moderator-only commands to others — in the core, for every platform, whatever the
/// platform's own UI hides.
fn check_permission(
    command: CommandName,
    subcommand: Option<&str>,
    caller: &Caller,
) -> Result<(), CommandError> {
    let manifest = spec::manifest(command);
    let permission = match subcommand {
        Some(sub) => manifest
            .subcommand(sub)
            .map_or(manifest.permission, |s| s.permission),
        None => manifest.permission,
    };
    if permission == spec::Permission::Moderator && !caller.moderator {
        let what = subcommand.map_or(format!("/{}", manifest.name), |s| {
            format!("/{} {s}", manifest.name)
        });
        return Err(CommandError::Refused(format!(
            "Only moderators of this space can use {what}. Ask one of them, or see /help {}.",
            manifest.name
        )));
    }
    Ok(())
}

async fn run(ctx: &Context, caller: &Caller, request: Request) -> Result<Reply, CommandError> {
    let atlas = ctx.atlas().await?;
    match request {
        Request::Actor(p) => actor::run(&atlas, p),
        Request::Standard(p) => standard::run(&atlas, p),
        Request::WhoWorksOn(p) => who_works_on::run(&atlas, p),
        Request::Document(p) => document::run(&atlas, p),
        Request::Define(p) => define::run(&atlas, p),
        Request::Topics => topics::run(&atlas),
        Request::Search(p) => search::run(&atlas, p),
        Request::Help(p) => Ok(help::run(p)),
        Request::Events(p) => events::run(ctx, &atlas, caller, p).await,
        Request::Event(p) => event::run(ctx, &atlas, caller, p).await,
        Request::Remind(p) => remind::run(ctx, caller, p).await,
        Request::Rsvp(p) => event::rsvp::run(ctx, caller, p).await,
        Request::Reminders(p) => reminders::run(ctx, caller, p).await,
        Request::Settings(p) => settings::run(ctx, caller, p).await,
        Request::Follow(p) => follow::run(ctx, &atlas, caller, p).await,
        Request::Ask(p) => Ok(asked(ctx, caller, &atlas, &p.question).await),
    }
}

/// A plain question: routed to a command line (`ask::route`), answered by that command, with
/// the command shown so that people learn it. A route never leads back to /ask.
async fn asked(ctx: &Context, caller: &Caller, atlas: &Atlas, question: &str) -> Reply {
    let line = match ask::route(atlas, question) {
        ask::Route::Line(line) => line,
        ask::Route::Unsure(words) => return ask::unsure(&words),
    };
    if matches!(bind_line(&line), Ok((CommandName::Ask, _))) {
        return ask::unsure(question);
    }
    let mut reply = Box::pin(answer(ctx, caller, &line)).await;
    let note = format!("Asked as {line}");
    reply.sources = Some(match reply.sources.take() {
        Some(s) => format!("{note} · {s}"),
        None => note,
    });
    reply
}

/// The answer to a line longer than `MAX_INPUT_CHARS`.
pub fn too_long() -> Reply {
    let mut r = Reply::new(Tone::Refusal);
    r.summary = Some(Text::plain(format!("That is more than I can read at once — please keep a question under {MAX_INPUT_CHARS} characters.")));
    r
}

/// The whole path from a line of text to an answer. Never fails: every error becomes a reply.
pub async fn answer(ctx: &Context, caller: &Caller, line: &str) -> Reply {
    if line.chars().count() > MAX_INPUT_CHARS {
        return too_long();
    }
    // A line that is not a command (no slash, and its first word names none) is a question
    // in someone's own words.
    if is_plain_question(line) {
        let request = Request::Ask(ask::Params {
            question: line.trim().to_string(),
        });
        return run_guarded(ctx, caller, request)
            .await
            .unwrap_or_else(|e| error::into_reply(e, line));
    }
    // The line is split and bound once; the permission check reads the bound arguments.
    respond(ctx, caller, bind_line(line), line).await
}

/// Whether a line is a question rather than a command: it does not start with `/` or `!`, and
/// its first word is not a command's name ("actor WIPO" stays a command).
pub fn is_plain_question(line: &str) -> bool {
    let line = line.trim_start();
    if line.is_empty() || line.starts_with('/') || line.starts_with('!') {
        return false;
    }
    let first = line
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_lowercase();
    spec::find(&first).is_none()
}

/// From bound arguments to the answer: typed request, permission check, run; every error
/// becomes a reply.
async fn respond(
    ctx: &Context,
    caller: &Caller,
    bound: Result<(CommandName, invocation::Args), CommandError>,
    line: &str,
) -> Reply {
    let asked_page = bound
        .as_ref()
        .ok()
        .and_then(|(_, args)| args.integer("page"));
    let parsed = bound.and_then(|(command, args)| {
        let request = request(command, &args)?;
        check_permission(command, args.subcommand.as_deref(), caller)?;
        Ok(request)
    });
    let result = match parsed {
        Ok(request) => run_guarded(ctx, caller, request).await,
        Err(e) => Err(e),
    };
    let reply = result.unwrap_or_else(|e| error::into_reply(e, line));
    said_past_the_end(reply, asked_page)
}

/// A page asked past the end shows the last one (a page number is easily mistyped), and says
/// so: the member must not read the last page as the one they asked for.
fn said_past_the_end(mut reply: Reply, asked: Option<i64>) -> Reply {
    let Some(asked) = asked.filter(|&p| p > 1) else {
        return reply;
    };
    if reply.tone != Tone::Answer {
        return reply;
    }
    let pages = reply.paging.as_ref().map_or(1, |p| i64::from(p.pages));
    if asked <= pages {
        return reply;
    }
    let note = if pages == 1 {
        format!("There is no page {asked}: this answer has one page")
    } else {
        format!("There is no page {asked}: showing the last, page {pages} of {pages}")
    };
    reply.note_in_subtitle(note);
    reply
}

/// Runs a request so that a panic in it (a bug) is this request's failure — logged with an
/// incident id and answered "something went wrong" — never a dead task or a hung answer.
async fn run_guarded(
    ctx: &Context,
    caller: &Caller,
    request: Request,
) -> Result<Reply, CommandError> {
    guarded(run(ctx, caller, request)).await
}

/// `work`, with a panic in it turned into an internal error.
pub async fn guarded<F>(work: F) -> Result<Reply, CommandError>
where
    F: std::future::Future<Output = Result<Reply, CommandError>>,
{
    error::catch_panic(work)
        .await
        .unwrap_or_else(|e| Err(CommandError::Internal(e)))
}

/// The refusal `caller` gets for a moderator-only command, if any: for adapters that must
/// decide before doing work for it (downloading an attached file). The core checks again.
pub fn refusal(command: CommandName, subcommand: Option<&str>, caller: &Caller) -> Option<Reply> {
    check_permission(command, subcommand, caller)
        .err()
        .map(|e| error::into_reply(e, ""))
}

/// The same path for a command whose options arrive already named (a Discord interaction):
/// bound with the same checks, permission-checked in the core, run, answered.
pub async fn answer_values(
    ctx: &Context,
    caller: &Caller,
    command: CommandName,
    subcommand: Option<&str>,
    values: &[(String, String)],
) -> Reply {
    // What people type is capped; a file's content is not typed (the command checks its size).
    let files = invocation::attachment_options(spec::manifest(command), subcommand);
    let total: usize = values
        .iter()
        .filter(|(name, _)| !files.contains(&name.as_str()))
        .map(|(_, v)| v.chars().count())
        .sum();
    if total > MAX_INPUT_CHARS {
        return too_long();
    }
    let line = invocation::line_of(command, subcommand, values);
    let bound = invocation::bind_values(spec::manifest(command), subcommand, values)
        .map(|args| (command, args));
    respond(ctx, caller, bound, &line).await
}

/// The Snooze button of a personal reminder: send it again in `minutes` (see
/// `remind::snooze`). Never fails: a problem is the answer.
pub async fn snooze(ctx: &Context, caller: &Caller, key: &str, minutes: i64) -> Reply {
    match remind::snooze(ctx, caller, key, minutes).await {
        Ok(r) => r,
        Err(e) => crate::error::into_reply(e, "snooze"),
    }
}

/// The "Stop reminding me" button: the clicker's own reminders for the event, gone.
pub async fn stop_reminding(
    ctx: &Context,
    caller: &Caller,
    event: crate::domain::EventId,
) -> Reply {
    match remind::stop_for(ctx, caller, event).await {
        Ok(r) => r,
        Err(e) => crate::error::into_reply(e, "stop reminding"),
    }
}

/// Collapses white space (the sources have double spaces and NBSP runs) and cuts at a word
/// boundary with "…" when longer than `max` characters.
/// "Did you mean A, B?" for the close names, if there are any.
pub(crate) fn did_you_mean(close: &[String]) -> Option<String> {
    (!close.is_empty()).then(|| format!("Did you mean {}?", close.join(", ")))
}

pub(crate) fn shorten(s: &str, max: usize) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= max {
        return s;
    }
    let cut: String = s.chars().take(max).collect();
    let cut = cut
        .rsplit_once(' ')
        .map_or(cut.as_str(), |(a, _)| a)
        .trim_end_matches([',', ';', ':']);
    format!("{cut}…")
}

/// How misspelt words were read: "“chidlren” read as “children”." for each, one after the
/// other.
pub(crate) fn read_as(corrected: &[(String, String)]) -> String {
    corrected
        .iter()
        .map(|(typo, word)| format!("“{typo}” read as “{word}”."))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `reply` with how misspelt words were read put before its summary.
pub(crate) fn respelt_reply(mut reply: Reply, corrected: &[(String, String)]) -> Reply {
    let mut summary = Text::plain(format!("{} ", read_as(corrected)));
    summary
        .0
        .extend(reply.summary.take().map(|t| t.0).unwrap_or_default());
    reply.summary = Some(summary);
    reply
}

/// A short "where it comes from" label for a source file and line: "000:423".
pub fn cite(file: &str, line: i64) -> String {
    format!("{}:{line}", crate::import::build::short_file(file))
}
