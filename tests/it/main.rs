//! The one integration-test binary. Modules:
//! - `support`      — temporary databases and data directories, the CLI, table dumps.
//! - `agenda`       — the weekly or daily agenda post, once per period, nothing when empty.
//! - `architecture` — the shape of the code: dependency direction, SQL in store/, module docs.
//! - `calendars`    — feeds read by two independent calendar libraries; the page in Chromium.
//! - `claims`       — the claim protocol as a property: claim, renew, stall, crash, take over.
//! - `commands`     — the lookup commands as a user meets them, on the console.
//! - `console`      — the interactive console in a real pseudo-terminal: Tab, wrapping, colour.
//! - `crash`        — real console processes killed with SIGKILL along the reminder path.
//! - `discord`      — the interactions endpoint (signed, over HTTP) and a fake Discord REST API.
//! - `events`       — events and reminders with an injected clock: DST, recurrence, exactly once.
//! - `hostile`      — hostile calendar files and property tests of every parser people can feed.
//! - `http`         — the HTTP server every listener runs on, at shutdown.
//! - `import`       — the knowledge base built from the real sources: facts, merges, traps.
//! - `import_errors`— broken data files: every problem reported as file:line, nothing written.
//! - `matrix`       — `atlasbot matrix` against a real Synapse on loopback, driven as people.
//! - `matrix_retries` — the Matrix client against a stand-in homeserver that throttles and fails.
//! - `regressions`  — what a hostile review of #26 and #31 found, one test per defect.
//! - `quality`      — answer quality: one test per class of wrong answer, and the eval set.
//! - `rsvp`         — Going / Maybe / Can't, capacity and waitlist, names hidden.
//! - `schema`       — the two runtime migration sets describe the same tables, keys, indexes.
//! - `sync`         — followed calendars against a calendar service on loopback that changes.

mod support;

mod agenda;
mod architecture;
mod calendars;
mod claims;
mod commands;
mod console;
pub(crate) mod crash;
#[cfg(feature = "discord")]
mod discord;
mod events;
mod hostile;
mod http;
mod import;
mod import_errors;
#[cfg(feature = "matrix")]
mod matrix;
#[cfg(feature = "matrix")]
mod matrix_retries;
mod postgres;
mod quality;
mod regressions;
mod rsvp;
mod schema;
mod sync;
