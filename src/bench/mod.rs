//! `atlasbot bench`: reproducible measurements for BENCHMARKS.md. Nothing here is used by the
//! bot itself; tests never assert on speed.

pub mod commands;
#[cfg(feature = "discord")]
pub mod delivery;
#[cfg(feature = "discord")]
pub mod fake_discord;
pub mod feeds;
#[cfg(feature = "discord")]
pub mod interactions;
pub mod planning;
pub mod reminders;
pub mod synthetic;

use std::path::Path;
use std::time::Instant;

use crate::import::{self, DataDir};
use crate::store::Store;

/// Imports the bundled data, or a synthetic directory `scale` times larger, into a fresh
/// database, and prints the time of each stage.
pub async fn import(scale: usize, keep: Option<&Path>) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = if scale <= 1 {
        DataDir::Bundled
    } else {
        let dir = keep.map_or_else(|| tmp.path().join("data"), Path::to_path_buf);
        let started = Instant::now();
        synthetic::write(&dir, scale)?;
        println!(
            "generated {scale}x data in {:.1} s ({})",
            started.elapsed().as_secs_f64(),
            dir.display()
        );
        DataDir::Path(dir)
    };
    let db = tmp.path().join("bench.db");
    let started = Instant::now();
    let store = Store::open(&db).await?;
    let migrated = started.elapsed();
    let (atlas, problems) = import::read_atlas(&data)
        .map_err(|p| anyhow::anyhow!("{} problems, first: {}", p.len(), p[0]))?;
    let parsed = started.elapsed();
    store.replace_atlas(&atlas, "bench").await?;
    let total = started.elapsed();
    store.close().await;
    let size = std::fs::metadata(&db)?.len();
    println!(
        "scale {scale}: migrations {:.0} ms, parse+validate {:.0} ms, load {:.0} ms, total {:.0} ms; {} passages, {} actors, {} warnings; database {:.1} MB",
        migrated.as_secs_f64() * 1e3,
        (parsed - migrated).as_secs_f64() * 1e3,
        (total - parsed).as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e3,
        atlas.passages.len(),
        atlas.actors.len(),
        problems.iter().filter(|p| p.severity == import::Severity::Warning).count(),
        size as f64 / 1e6
    );
    Ok(())
}

/// A one-off event of `space` starting at `starts` (UTC), made by the benchmark.
fn event_input(
    space: &crate::domain::SpaceId,
    title: &str,
    starts: chrono::DateTime<chrono::Utc>,
) -> crate::store::events::EventInput {
    crate::store::events::EventInput {
        space: space.clone(),
        title: title.into(),
        description: None,
        starts_local: starts.naive_utc(),
        tz: "UTC".into(),
        duration_min: None,
        place: None,
        organiser: None,
        topics: None,
        actors: None,
        inferred: false,
        rrule: None,
        created_by: "bench".into(),
    }
}
