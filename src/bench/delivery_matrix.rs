//! `atlasbot bench delivery --platform matrix`: reminders due together, delivered through the
//! real scheduler and the real Matrix client to a stand-in homeserver (`fake_matrix`) that
//! throttles the account's messages with `M_LIMIT_EXCEEDED` and fails a share of sends with
//! 5xx. Every reminder must arrive once (retries keep their transaction id); its lag is set
//! against the floor the homeserver's rate sets (messages ÷ messages per second).

use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};

use super::fake_matrix::{FakeHomeserver, Trouble};
use crate::commands::Context;
use crate::domain::{Platform, SpaceId};
use crate::platform::matrix::{client::Client, crypto};
use crate::scheduler::{Clock, Scheduler};

/// The shape of one Matrix run.
#[derive(Debug, Clone)]
pub struct MatrixShape {
    pub rooms: usize,
    pub reminders: usize,
    pub trouble: Trouble,
    pub lanes: usize,
}

impl From<crate::config::DeliveryBench> for MatrixShape {
    fn from(b: crate::config::DeliveryBench) -> MatrixShape {
        MatrixShape {
            rooms: b.channels as usize,
            reminders: b.reminders as usize,
            trouble: Trouble {
                latency: StdDuration::from_millis(b.latency_ms),
                per_second: b.matrix_rate,
                fail_one_in: b.fail_one_in,
            },
            lanes: b.lanes as usize,
        }
    }
}

/// What one Matrix run measured.
#[derive(Debug)]
pub struct MatrixOutcome {
    /// Each kept message's lag from the scheduler starting on what is due.
    pub lags: Vec<StdDuration>,
    pub expected: usize,
    /// Reminders that reached their room more than once (under different ids).
    pub twice: usize,
    /// Sends the homeserver throttled, failed, and saw again under an id it had kept.
    pub limited: u64,
    pub failed: u64,
    pub repeated: u64,
    pub took: StdDuration,
    /// What the homeserver's rate allows: messages ÷ messages per second.
    pub floor: StdDuration,
}

pub async fn measure(shape: &MatrixShape) -> anyhow::Result<MatrixOutcome> {
    let tmp = tempfile::tempdir()?;
    let store = crate::database::open_store(&tmp.path().join("bench.db")).await?;
    let ctx = Context::new(store.clone()).await?;
    let hs = FakeHomeserver::start(shape.trouble.clone()).await?;
    let due = DateTime::from_timestamp(Utc::now().timestamp(), 0).expect("a valid time");
    arrange(&store, shape, due).await?;
    let me = "@atlasbot:bench";
    let keys = crypto::OpenStore::open(&tmp.path().join("crypto"), None)
        .await
        .map_err(anyhow::Error::msg)?;
    let crypto = crypto::Crypto::new(keys, me, "BENCHDEVICE")
        .await
        .map_err(anyhow::Error::msg)?;
    let client = Client::new(&hs.base)?.with_token("bench-token".into());
    let outbox = crate::platform::matrix::outbox(&ctx, client, me, crypto);
    let mut scheduler = Scheduler::new(Platform::Matrix, store, Clock::System, Duration::hours(1));
    scheduler.lanes = shape.lanes;
    let started = Instant::now();
    // A send refused for good within its tries is retried by the scheduler later: ticks go on
    // until every reminder is in or a minute has passed.
    while hs.seen().events.len() < shape.reminders && started.elapsed() < StdDuration::from_secs(60)
    {
        scheduler.tick(&*outbox).await?;
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    Ok(outcome(shape, &hs, started))
}

/// One event per reminder, `rooms` rooms, every reminder due at `due`.
async fn arrange(
    store: &crate::store::Store,
    shape: &MatrixShape,
    due: DateTime<Utc>,
) -> anyhow::Result<()> {
    let now = Utc::now();
    for k in 0..shape.reminders {
        let space = SpaceId::matrix(&format!("!room{}:bench", k % shape.rooms.max(1)));
        let title = format!("Study session {k}");
        let input = super::event_input(&space, &title, due + Duration::hours(1));
        let event = store
            .insert_event(&input, &format!("bench-{k}@atlasbot"), now)
            .await?;
        super::owe_space(store, event, due + Duration::hours(1), due).await?;
    }
    Ok(())
}

fn outcome(shape: &MatrixShape, hs: &FakeHomeserver, started: Instant) -> MatrixOutcome {
    let seen = hs.seen();
    let mut per_reminder: std::collections::HashMap<(&String, &String), usize> =
        std::collections::HashMap::new();
    for ((room, _), (_, body)) in &seen.events {
        *per_reminder.entry((room, body)).or_default() += 1;
    }
    let per_second = f64::from(shape.trouble.per_second.max(1));
    MatrixOutcome {
        lags: seen
            .events
            .values()
            .map(|(at, _)| at.saturating_duration_since(started))
            .collect(),
        expected: shape.reminders,
        twice: per_reminder.values().filter(|n| **n > 1).count(),
        limited: seen.limited,
        failed: seen.failed,
        repeated: seen.repeated,
        took: started.elapsed(),
        floor: StdDuration::from_secs_f64(shape.reminders as f64 / per_second),
    }
}

/// Runs and prints one line.
pub async fn run(shape: MatrixShape) -> anyhow::Result<()> {
    println!(
        "{} reminders to {} Matrix rooms, due together; the homeserver answers in {} ms, takes {} messages/s, fails one send in {}",
        shape.reminders,
        shape.rooms,
        shape.trouble.latency.as_millis(),
        shape.trouble.per_second,
        shape.trouble.fail_one_in
    );
    let o = measure(&shape).await?;
    let mut lags = o.lags.clone();
    let p99 = super::percentile(&mut lags, 0.99);
    println!(
        "{} lanes: {} of {} in {:.1} s (floor {:.1} s); lag p50 {:.1} s, p99 {:.1} s = {:.2}x floor; {} twice; throttled {}, failed {}, retried into a kept id {}",
        shape.lanes,
        o.lags.len(),
        o.expected,
        o.took.as_secs_f64(),
        o.floor.as_secs_f64(),
        super::percentile(&mut lags, 0.5).as_secs_f64(),
        p99.as_secs_f64(),
        p99.as_secs_f64() / o.floor.as_secs_f64().max(1e-9),
        o.twice,
        o.limited,
        o.failed,
        o.repeated,
    );
    Ok(())
}
