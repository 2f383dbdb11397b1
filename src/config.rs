//! Configuration: the command line and the environment, read here and nowhere else.
//! Every option has a flag and, where it makes sense for a service, an environment variable.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Default database file, relative to the working directory.
pub const DEFAULT_DB: &str = "atlasbot.db";

#[derive(Debug, Parser)]
#[command(
    name = "atlasbot",
    version,
    about = "Answers questions about the Geneva digital-policy ecosystem."
)]
pub struct Cli {
    /// SQLite database file; created (and filled with the bundled atlas) on first use.
    #[arg(long, global = true, env = "ATLASBOT_DB", default_value = DEFAULT_DB)]
    pub db: PathBuf,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
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
}
