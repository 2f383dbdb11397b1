//! atlasbot: a chat bot that answers questions about the Geneva digital-policy ecosystem from a
//! SQLite atlas it builds itself from the text sources in data/.
//!
//! A map of the crate:
//! - `app`     — wiring: command line, logging, runtime; run the chosen command, shut down.
//! - `atlas`   — the read model: the atlas's rows and the in-memory indexes every lookup answers from.
//! - `bench`   — `atlasbot bench`: measurements for BENCHMARKS.md (and the synthetic data).
//! - `clock`   — the injectable "now" (leases use the store's clock instead).
//! - `commands`— the platform-neutral core: manifests, parsing, one module per command → `Reply`.
//! - `database`— open the store a process runs on; import the bundled atlas when it has none.
//! - `config`  — the only reader of the environment: database path, platform settings, secrets.
//! - `domain`  — the runtime state's vocabulary: SpaceId, Platform, EventId, Target, ReminderState.
//! - `error`   — user-facing vs internal errors; the one place an error becomes a reply.
//! - `eval`    — `atlasbot eval`: answer quality on a question set written from the sources.
//! - `events`  — events, recurrence in the event's zone, reading times, the reminder plan.
//! - `import`  — data/ → atlas: parse every source format and curated file (collecting all
//!   problems with file:line), validate, and hand the atlas to the store.
//! - `platform`— adapters that translate: the console, Matrix, Discord (gateway and HTTP).
//! - `render`  — how a `Reply` looks on each platform: plain text, Matrix HTML, Discord embeds.
//! - `scheduler`— reminders: plan what events owe, claim what is due, deliver exactly once.
//! - `reply`   — what to say: title, text with highlights, fields, lists, sources, paging.
//! - `search`  — normalising and matching what people type (names, standard identifiers, FTS).
//! - `store`   — the only module with SQL: SQLite through sqlx, migrations, the atlas's rows,
//!   the typed runtime state and its change notification.

pub mod app;
pub mod atlas;
pub mod bench;
pub mod clock;
pub mod commands;
pub mod config;
pub mod database;
pub mod domain;
pub mod error;
pub mod eval;
pub mod events;
pub mod feeds;
pub mod import;
pub mod platform;
pub mod render;
pub mod reply;
pub mod scheduler;
pub mod search;
pub mod store;
pub mod sync;
