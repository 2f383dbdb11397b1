//! atlasbot: a chat bot that answers questions about the Geneva digital-policy ecosystem from a
//! SQLite atlas it builds itself from the text sources in data/.
//!
//! A map of the crate:
//! - `app`     — wiring: open the store, run the chosen command, shut down.
//! - `config`  — the only reader of the environment: database path, data directory.
//! - `import`  — data/ → atlas: parse every source format and curated file (collecting all
//!   problems with file:line), validate, and hand the atlas to the store.
//! - `search`  — normalising and matching what people type (names, standard identifiers).
//! - `store`   — the only module with SQL: SQLite through sqlx, migrations, atlas loading.

pub mod app;
pub mod config;
pub mod import;
pub mod search;
pub mod store;
