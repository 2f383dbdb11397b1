//! `atlasbot bench reminders`: with N scheduled reminders, the cost of finding the next due
//! one, the process's memory, and the firing lag when 10 000 fall due in the same second —
//! through the real scheduler loop and a real database file, with an outbox that only counts.
//! With `--postgres URL` the runtime state is on that server; with `--schedulers N`, N
//! schedulers (each its own pool and owner) deliver the burst together.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, Utc};

use crate::domain::{Platform, SpaceId, Target};
use crate::events::Planned;
use crate::scheduler::{Clock, Delivery, DeliveryError, Outbox, Scheduler};
use crate::store::events::EventInput;

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn pct(v: &mut [StdDuration], p: f64) -> StdDuration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

pub async fn run(
    count: usize,
    burst: usize,
    postgres: Option<String>,
    schedulers: usize,
) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let location = match postgres {
        Some(url) => crate::store::Location::Postgres {
            url,
            atlas: tmp.path().join("atlas.db"),
        },
        None => crate::store::Location::File(tmp.path().join("bench.db")),
    };
    println!("runtime state: {}", location.describe());
    let store = crate::database::open_store(location.clone()).await?;
    if !store.events_of_space(&SpaceId::console()).await?.is_empty() {
        anyhow::bail!("the database already has events: give the benchmark an empty one");
    }
    let now = Utc::now();
    let input = EventInput {
        space: SpaceId::console(),
        title: "Benchmark".into(),
        description: None,
        starts_local: now.naive_utc(),
        tz: "UTC".into(),
        duration_min: None,
        place: None,
        organiser: None,
        topics: None,
        rrule: None,
        created_by: "bench".into(),
    };
    let event = store.insert_event(&input, "bench@atlasbot", now).await?;
    // N reminders spread over the coming year (minute resolution, distinct targets).
    let started = Instant::now();
    let planned: Vec<Planned> = (0..count)
        .map(|i| {
            let occ = now + Duration::minutes(60 + (i as i64 % 525_600));
            let target = Target::User(format!("u{i}"));
            Planned {
                key: crate::events::reminder_key(event, occ, 0, &target),
                event_id: event,
                occurrence: occ,
                offset_min: 0,
                target,
                due: occ,
            }
        })
        .collect();
    // Marked planned for good, so that the scheduler's own planning leaves these rows alone.
    let forever = chrono::DateTime::from_timestamp(253_402_214_400, 0).expect("valid");
    store
        .replan(event, &SpaceId::console(), &planned, forever)
        .await?;
    println!(
        "planned {count} reminders in {:.1} s; process RSS {:.0} MB",
        started.elapsed().as_secs_f64(),
        rss_mb()
    );

    let mut samples = Vec::new();
    for _ in 0..1000 {
        let t = Instant::now();
        std::hint::black_box(store.next_due(Platform::Console).await?);
        samples.push(t.elapsed());
    }
    println!(
        "next due lookup over {count} pending: p50 {:?}, p99 {:?}",
        pct(&mut samples, 0.5),
        pct(&mut samples, 0.99)
    );

    // A burst: `burst` reminders due in the same second, two seconds from now.
    // Due times are stored to the second (starts and offsets are whole minutes in use).
    let due = chrono::DateTime::from_timestamp((Utc::now() + Duration::seconds(2)).timestamp(), 0)
        .expect("a valid time");
    let burst_event = store
        .insert_event(
            &EventInput {
                title: "Burst".into(),
                ..input.clone()
            },
            "burst@atlasbot",
            Utc::now(),
        )
        .await?;
    let planned: Vec<Planned> = (0..burst)
        .map(|i| {
            let target = Target::User(format!("b{i}"));
            Planned {
                key: format!("burst-{i}-{}", due.timestamp()),
                event_id: burst_event,
                occurrence: due,
                offset_min: 0,
                target,
                due,
            }
        })
        .collect();
    store
        .replan(burst_event, &SpaceId::console(), &planned, forever)
        .await?;
    let delivered_at: Arc<Mutex<Vec<chrono::DateTime<Utc>>>> = Arc::new(Mutex::new(Vec::new()));
    struct Stamp(Arc<Mutex<Vec<chrono::DateTime<Utc>>>>);
    impl Outbox for Stamp {
        fn deliver<'a>(
            &'a self,
            _d: &'a Delivery,
        ) -> Pin<Box<dyn Future<Output = Result<(), DeliveryError>> + Send + 'a>> {
            Box::pin(async move {
                self.0.lock().expect("not poisoned").push(Utc::now());
                Ok(())
            })
        }
    }
    let (tx, rx) = tokio::sync::watch::channel(false);
    let mut handles = Vec::new();
    for n in 0..schedulers.max(1) {
        let own = crate::store::Store::open_at(&location).await?;
        let mut scheduler =
            Scheduler::new(Platform::Console, own, Clock::System, Duration::minutes(10));
        scheduler.owner = crate::scheduler::Owner::instance(n);
        let outbox = Arc::new(Stamp(delivered_at.clone()));
        handles.push(tokio::spawn(scheduler.run(outbox, rx.clone())));
    }
    let deadline = Instant::now() + StdDuration::from_secs(120);
    while delivered_at.lock().expect("not poisoned").len() < burst && Instant::now() < deadline {
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    let _ = tx.send(true);
    for handle in handles {
        let _ = handle.await;
    }
    let stamps = delivered_at.lock().expect("not poisoned").clone();
    let mut lags: Vec<StdDuration> = stamps
        .iter()
        .map(|t| (*t - due).to_std().unwrap_or_default())
        .collect();
    if lags.is_empty() {
        anyhow::bail!("nothing was delivered");
    }
    let first = stamps.iter().min().copied().unwrap_or(due);
    let last = stamps.iter().max().copied().unwrap_or(due);
    let span = (last - first).to_std().unwrap_or_default().as_secs_f64();
    println!(
        "{} scheduler(s): burst of {burst} due in the same second: {} delivered; lag p50 {:?}, p99 {:?}, max {:?}; {:.0} reminders/s from first to last delivery; RSS {:.0} MB",
        schedulers.max(1),
        lags.len(),
        pct(&mut lags, 0.5),
        pct(&mut lags, 0.99),
        pct(&mut lags, 1.0),
        lags.len() as f64 / span.max(1e-3),
        rss_mb()
    );
    Ok(())
}
