//! The schema's migrations, embedded in the binary, forward only, never edited once applied
//! (sqlx records each one's checksum and refuses a changed file). Two sets, one per store:
//! `migrations/atlas/` (the tables the importer fills) and `migrations/runtime/` (what
//! moderators, members and the scheduler write). Each set runs as its own migrator, so a
//! runtime backend other than SQLite brings its own runtime set and never the atlas's.
//! Versions are unique across both sets (in a SQLite file they share sqlx's one table, and a
//! database made before the split recorded them all in it).
//!
//! Listed here by hand instead of with `sqlx::migrate!()`: that macro needs sqlx's `macros`
//! feature, which compiles a second copy of sqlx and SQLite for the compiler (about a fifth of
//! a clean build, see BENCHMARKS.md) to do what these lists do. The architecture test checks
//! that every file in each directory is listed, in order, so a new one cannot be forgotten.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

/// (version, file under migrations/, SQL): the file named once, its text embedded.
macro_rules! migration {
    ($version:literal, $file:literal) => {
        (
            $version,
            $file,
            include_str!(concat!("../../migrations/", $file)),
        )
    };
}

/// (version, file under migrations/, SQL) of every atlas migration, in order.
pub const ATLAS: &[(i64, &str, &str)] = &[
    migration!(1, "atlas/0001_create_atlas.sql"),
    migration!(2, "atlas/0002_index_lookups.sql"),
    migration!(7, "atlas/0007_rank_topics_and_check_glossary.sql"),
    migration!(13, "atlas/0013_everyday_words.sql"),
    migration!(14, "atlas/0014_printed_names.sql"),
    migration!(17, "atlas/0017_tool_passages.sql"),
    migration!(18, "atlas/0018_actor_facts.sql"),
];

/// (version, file under migrations/, SQL) of every runtime migration (SQLite), in order.
pub const RUNTIME: &[(i64, &str, &str)] = &[
    migration!(3, "runtime/0003_create_events.sql"),
    migration!(4, "runtime/0004_create_disabled_targets.sql"),
    migration!(5, "runtime/0005_create_matrix.sql"),
    migration!(6, "runtime/0006_add_leases_and_rolling_plans.sql"),
    migration!(8, "runtime/0008_count_event_revisions.sql"),
    migration!(9, "runtime/0009_mirror_scheduled_events.sql"),
    migration!(10, "runtime/0010_matrix_reactions_and_undecryptable.sql"),
    migration!(11, "runtime/0011_follows_and_feeds.sql"),
    migration!(12, "runtime/0012_keep_source_uids.sql"),
    migration!(15, "runtime/0015_follow_calendars.sql"),
    migration!(16, "runtime/0016_rsvps_and_agendas.sql"),
];

/// (version, file under migrations/, SQL) of every runtime migration on PostgreSQL, in order.
/// A database of its own, so its versions start again at 1.
pub const POSTGRES: &[(i64, &str, &str)] = &[
    migration!(1, "postgres/0001_create_runtime.sql"),
    migration!(2, "postgres/0002_remember_interactions.sql"),
    migration!(3, "postgres/0003_count_event_revisions.sql"),
    migration!(4, "postgres/0004_mirror_scheduled_events.sql"),
    migration!(5, "postgres/0005_matrix_reactions_and_undecryptable.sql"),
    migration!(6, "postgres/0006_follows_and_feeds.sql"),
    migration!(7, "postgres/0007_keep_source_uids.sql"),
    migration!(8, "postgres/0008_follow_calendars.sql"),
    migration!(9, "postgres/0009_rsvps_and_agendas.sql"),
];

/// The embedded list as sqlx's migration source.
#[derive(Debug)]
struct Embedded(&'static [(i64, &'static str, &'static str)]);

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, sqlx::error::BoxDynError>> + Send + 's>>
    {
        Box::pin(async move { Ok(migrations(self.0)) })
    }
}

/// Each migration with the description sqlx's macro would give it ("create atlas"), so that
/// databases migrated by earlier builds (which used the macro) see the same checksums.
fn migrations(set: &'static [(i64, &'static str, &'static str)]) -> Vec<Migration> {
    set.iter()
        .map(|(version, file, sql)| {
            let name = file.rsplit('/').next().unwrap_or(file);
            let description = name
                .trim_end_matches(".sql")
                .split_once('_')
                .map_or("", |(_, d)| d)
                .replace('_', " ");
            Migration::new(
                *version,
                Cow::Owned(description),
                MigrationType::Simple,
                sqlx::SqlSafeStr::into_sql_str(*sql),
                false,
            )
        })
        .collect()
}

/// The migrator of one set. Migrations of the other set recorded in the same database are
/// not this migrator's to judge (`ignore_missing`).
async fn migrator(
    set: &'static [(i64, &'static str, &'static str)],
) -> Result<Migrator, sqlx::migrate::MigrateError> {
    let mut m = Migrator::new(Embedded(set)).await?;
    m.set_ignore_missing(true);
    Ok(m)
}

pub async fn atlas() -> Result<Migrator, sqlx::migrate::MigrateError> {
    migrator(ATLAS).await
}

pub async fn runtime() -> Result<Migrator, sqlx::migrate::MigrateError> {
    migrator(RUNTIME).await
}

pub async fn postgres() -> Result<Migrator, sqlx::migrate::MigrateError> {
    migrator(POSTGRES).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_follow_the_file_names_and_are_unique_across_sets() {
        let mut seen = std::collections::HashSet::new();
        for (version, file, _) in ATLAS.iter().chain(RUNTIME) {
            let name = file.rsplit('/').next().unwrap();
            assert_eq!(name[..4].parse::<i64>().unwrap(), *version, "{file}");
            assert!(seen.insert(*version), "{file}: version used twice");
        }
        assert_eq!(migrations(ATLAS)[0].description, "create atlas");
        assert_eq!(migrations(RUNTIME)[0].description, "create events");
    }
}
