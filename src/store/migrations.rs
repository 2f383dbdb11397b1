//! The schema's migrations, embedded in the binary: `migrations/NNNN_verb_noun.sql`, forward
//! only, never edited once applied (sqlx records each one's checksum and refuses a changed file).
//!
//! Listed here by hand instead of with `sqlx::migrate!()`: that macro needs sqlx's `macros`
//! feature, which compiles a second copy of sqlx and SQLite for the compiler (about a fifth of
//! a clean build, see BENCHMARKS.md) to do what this list does. The architecture test checks
//! that every file in `migrations/` is listed, in order, so a new one cannot be forgotten.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

/// (version, file name) of every migration, in order; the SQL is compiled in.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "0001_create_atlas.sql",
        include_str!("../../migrations/0001_create_atlas.sql"),
    ),
    (
        2,
        "0002_index_lookups.sql",
        include_str!("../../migrations/0002_index_lookups.sql"),
    ),
    (
        3,
        "0003_create_events.sql",
        include_str!("../../migrations/0003_create_events.sql"),
    ),
    (
        4,
        "0004_create_disabled_targets.sql",
        include_str!("../../migrations/0004_create_disabled_targets.sql"),
    ),
    (
        5,
        "0005_create_matrix.sql",
        include_str!("../../migrations/0005_create_matrix.sql"),
    ),
    (
        6,
        "0006_add_leases_and_rolling_plans.sql",
        include_str!("../../migrations/0006_add_leases_and_rolling_plans.sql"),
    ),
    (
        7,
        "0007_rank_topics_and_check_glossary.sql",
        include_str!("../../migrations/0007_rank_topics_and_check_glossary.sql"),
    ),
];

/// The embedded list as sqlx's migration source.
#[derive(Debug)]
struct Embedded;

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, sqlx::error::BoxDynError>> + Send + 's>>
    {
        Box::pin(async { Ok(migrations()) })
    }
}

/// Each migration with the description sqlx's macro would give it ("create atlas"), so that
/// databases migrated by earlier builds (which used the macro) see the same checksums.
fn migrations() -> Vec<Migration> {
    MIGRATIONS
        .iter()
        .map(|(version, file, sql)| {
            let description = file
                .trim_end_matches(".sql")
                .split_once('_')
                .map_or("", |(_, d)| d)
                .replace('_', " ");
            Migration::new(
                *version,
                Cow::Owned(description),
                MigrationType::Simple,
                Cow::Borrowed(sql),
                false,
            )
        })
        .collect()
}

pub async fn migrator() -> Result<Migrator, sqlx::migrate::MigrateError> {
    Migrator::new(Embedded).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_follow_the_file_names() {
        for (version, file, _) in MIGRATIONS {
            assert_eq!(file[..4].parse::<i64>().unwrap(), *version, "{file}");
        }
        assert_eq!(migrations()[0].description, "create atlas");
    }
}
