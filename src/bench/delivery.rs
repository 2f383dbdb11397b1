//! `atlasbot bench delivery`: reminders due together, delivered through the real scheduler
//! and the real Discord client (`platform::discord`) to a stand-in Discord on loopback that
//! answers as slowly as Discord does and enforces its limits (`fake_discord`). The lag of each
//! message — from the moment the scheduler starts on what is due (the setup before it is not
//! counted) to Discord accepting it — is set against the floor the limits themselves set: the
//! requests the delivery needs, at the global limit per second. Messages
//! lost or sent twice are counted, and global 429s after the first second (warm-up).

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};

use super::fake_discord::{FakeDiscord, Limits};
use crate::commands::Context;
use crate::domain::{EventId, Platform, SpaceId};
use crate::platform::discord::rest::Rest;
use crate::platform::discord::DiscordOutbox;
use crate::scheduler::{Clock, Scheduler};
use crate::store::Store;

/// The shape of one run.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Reminders to channels (one per event).
    pub channel_reminders: usize,
    /// Channels (one guild each) they go to.
    pub channels: usize,
    /// Direct messages to people Interested in the events, in all.
    pub direct: usize,
    /// People Interested per event with Interested people.
    pub per_event: usize,
    pub latency: StdDuration,
    /// Destinations the scheduler delivers to at once (`Scheduler::lanes`).
    pub lanes: usize,
}

impl From<crate::config::DeliveryBench> for Shape {
    fn from(b: crate::config::DeliveryBench) -> Shape {
        Shape {
            channel_reminders: b.reminders as usize,
            channels: b.channels as usize,
            direct: b.direct as usize,
            per_event: b.per_event as usize,
            latency: StdDuration::from_millis(b.latency_ms),
            lanes: b.lanes as usize,
        }
    }
}

/// What one run measured.
#[derive(Debug)]
pub struct Outcome {
    /// Each message's lag, from the scheduler starting on what is due to Discord accepting it.
    pub lags: Vec<StdDuration>,
    pub requests: u64,
    /// Requests the delivery cannot do without: each message, each direct-message channel
    /// opened, each list of Interested people read.
    pub needed: usize,
    pub expected: usize,
    pub duplicates: u64,
    pub global_429: usize,
    pub late_global_429: usize,
    pub route_429: u64,
    pub took: StdDuration,
}

const GUILD_BASE: u64 = 100_000_000_000_000_000;
const CHANNEL_BASE: u64 = 200_000_000_000_000_000;
const SCHEDULED_BASE: u64 = 300_000_000_000_000_000;
const USER_BASE: u64 = 700_000_000_000_000_000;

pub async fn run(shape: Shape) -> anyhow::Result<()> {
    println!(
        "{} reminders to {} channels and {} direct messages to Interested people, due together; Discord answers in {} ms, 50 requests/s global, 5 messages/5 s per channel",
        shape.channel_reminders,
        shape.channels,
        shape.direct,
        shape.latency.as_millis()
    );
    let outcome = measure(&shape).await?;
    report(&format!("{} lanes", shape.lanes), &outcome);
    Ok(())
}

/// One delivery of the whole shape into a fresh database and a fresh stand-in.
pub async fn measure(shape: &Shape) -> anyhow::Result<Outcome> {
    let tmp = tempfile::tempdir()?;
    let store = crate::database::open_store(&tmp.path().join("bench.db")).await?;
    let ctx = Context::new(store.clone()).await?;
    let fake = FakeDiscord::start(Limits {
        latency: shape.latency,
        ..Limits::default()
    })
    .await?;
    let due = DateTime::from_timestamp(Utc::now().timestamp(), 0).expect("a valid time");
    let owed = arrange(&store, &fake, shape, due).await?;
    let rest = Arc::new(Rest::new(&fake.base, Some("bench-token".into())));
    let outbox = DiscordOutbox { ctx, rest };
    let mut scheduler = Scheduler::new(
        Platform::Discord,
        store.clone(),
        Clock::System,
        Duration::hours(1),
    );
    scheduler.lanes = shape.lanes;
    let started = Instant::now();
    scheduler.tick(&outbox).await?;
    let took = started.elapsed();
    let counts = fake.counts();
    let warm = started + StdDuration::from_secs(1);
    Ok(Outcome {
        lags: counts
            .messages
            .values()
            .map(|at| at.saturating_duration_since(started))
            .collect(),
        requests: counts.requests,
        needed: owed.messages + owed.direct + owed.lists,
        expected: owed.messages,
        duplicates: counts.duplicates,
        global_429: counts.global_429.len(),
        late_global_429: counts.global_429.iter().filter(|t| **t > warm).count(),
        route_429: counts.route_429,
        took,
    })
}

/// What a run owes: messages, of which direct ones (each to a person of its own, so each
/// opens a channel), and lists of Interested people to read.
struct Owed {
    messages: usize,
    direct: usize,
    lists: usize,
}

/// The spaces, events, reminders and Interested people of `shape`, all due at `due`.
async fn arrange(
    store: &Store,
    fake: &FakeDiscord,
    shape: &Shape,
    due: DateTime<Utc>,
) -> anyhow::Result<Owed> {
    let now = Utc::now();
    let with_interested = shape.direct.div_ceil(shape.per_event.max(1));
    for c in 0..shape.channels {
        let mut space = store.space(&guild(c)).await?;
        space.reminder_target = Some((CHANNEL_BASE + c as u64).to_string());
        space.interested = "dm".into();
        store.update_space(&space, now).await?;
    }
    let mut users = 0;
    for k in 0..shape.channel_reminders {
        let space = guild(k % shape.channels.max(1));
        let event = store
            .insert_event(
                &super::event_input(
                    &space,
                    &format!("Study session {k}"),
                    due + Duration::hours(1),
                ),
                &format!("bench-{k}@atlasbot"),
                now,
            )
            .await?;
        let occurrence = due + Duration::hours(1);
        super::owe_space(store, event, occurrence, due).await?;
        if k < with_interested {
            let n = shape.per_event.min(shape.direct - users);
            let people = (users..users + n)
                .map(|u| (USER_BASE + u as u64).to_string())
                .collect();
            users += n;
            interested(store, fake, event, occurrence, &space, k, people, now).await?;
        }
    }
    Ok(Owed {
        messages: shape.channel_reminders + users,
        direct: users,
        lists: with_interested.min(shape.channel_reminders),
    })
}

fn guild(c: usize) -> SpaceId {
    SpaceId::discord(&(GUILD_BASE + c as u64).to_string())
}

/// Mirrors the occurrence as a Scheduled Event that `people` are Interested in.
#[allow(clippy::too_many_arguments)]
async fn interested(
    store: &Store,
    fake: &FakeDiscord,
    event: EventId,
    occurrence: DateTime<Utc>,
    space: &SpaceId,
    k: usize,
    people: Vec<String>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let scheduled = (SCHEDULED_BASE + k as u64).to_string();
    store
        .claim_mirror(event, occurrence, space.local(), 0, now)
        .await?;
    let occurrence_utc = crate::store::events::ts(occurrence);
    store
        .set_mirror(event, &occurrence_utc, &scheduled, 0)
        .await?;
    fake.set_interested(&scheduled, people);
    Ok(())
}

/// One line of the table: lag percentiles against the floor the limits set.
fn report(name: &str, o: &Outcome) {
    let mut lags = o.lags.clone();
    let floor = StdDuration::from_secs_f64(o.needed as f64 / 50.0);
    let p50 = super::percentile(&mut lags, 0.5);
    let p99 = super::percentile(&mut lags, 0.99);
    println!(
        "{name}: {} of {} messages in {:.1} s ({} requests made, {} needed: floor {:.1} s at 50/s); lag p50 {:.1} s, p99 {:.1} s = {:.2}x floor; {} lost, {} twice; global 429 after warm-up {}, route 429 {}",
        o.lags.len(),
        o.expected,
        o.took.as_secs_f64(),
        o.requests,
        o.needed,
        floor.as_secs_f64(),
        p50.as_secs_f64(),
        p99.as_secs_f64(),
        p99.as_secs_f64() / floor.as_secs_f64().max(1e-9),
        o.expected.saturating_sub(o.lags.len()),
        o.duplicates,
        o.late_global_429,
        o.route_429,
    );
}
