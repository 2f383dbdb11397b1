//! `atlasbot bench`: reproducible measurements for BENCHMARKS.md. Nothing here is used by the
//! bot itself; tests never assert on speed.

pub mod commands;
#[cfg(feature = "discord")]
pub mod delivery;
#[cfg(feature = "matrix")]
pub mod delivery_matrix;
#[cfg(feature = "discord")]
pub mod fake_discord;
#[cfg(feature = "matrix")]
pub mod fake_matrix;
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

/// `bench delivery`: the platform's stand-in, or why this build cannot run it.
pub async fn delivery(shape: crate::config::DeliveryBench) -> anyhow::Result<()> {
    match shape.platform.as_str() {
        #[cfg(feature = "matrix")]
        "matrix" => delivery_matrix::run(shape.into()).await,
        #[cfg(feature = "discord")]
        "discord" => self::delivery::run(shape.into()).await,
        other => anyhow::bail!("this build has no {other} support (build with --features {other})"),
    }
}

/// Serves a stand-in platform on `listener` with the bot's own HTTP server
/// (`platform::http`) for as long as the process runs, its bounds opened wide: the benchmark
/// is its only client and must not be refused by them.
#[cfg(any(feature = "discord", feature = "matrix"))]
fn serve_stand_in<H: crate::platform::http::Handler + 'static>(
    listener: tokio::net::TcpListener,
    handler: std::sync::Arc<H>,
) {
    let limits = crate::platform::http::Limits {
        max_connections: 100_000,
        max_per_address: 100_000,
        ..Default::default()
    };
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        // Kept by the task: the server stops only with the process.
        let _stop = stop;
        crate::platform::http::serve(listener, limits, handler, shutdown).await;
    });
}

/// The `p` percentile (0–1) of `v` (sorted in place); zero for none.
fn percentile(v: &mut [std::time::Duration], p: f64) -> std::time::Duration {
    if v.is_empty() {
        return std::time::Duration::ZERO;
    }
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// The event's one reminder to its space, an hour before `occurrence`, due at `due`, planned
/// for good (the scheduler's own planning leaves it alone).
#[cfg(any(feature = "discord", feature = "matrix"))]
async fn owe_space(
    store: &Store,
    event: crate::domain::EventId,
    occurrence: chrono::DateTime<chrono::Utc>,
    due: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    use crate::store::events::PlanWrite;
    let row = store
        .event(event)
        .await?
        .ok_or_else(|| anyhow::anyhow!("event {event} is gone"))?;
    let planned = [crate::events::Planned {
        key: format!("bench-{event}-{}", occurrence.timestamp()),
        event_id: event,
        occurrence,
        offset_min: 60,
        target: crate::domain::Target::Space,
        due,
    }];
    let forever = chrono::DateTime::from_timestamp(253_402_214_400, 0).expect("valid");
    match store.replan(&row, &planned, forever).await? {
        PlanWrite::Written => Ok(()),
        PlanWrite::EventChanged => anyhow::bail!("event {event} changed while it was planned"),
    }
}
