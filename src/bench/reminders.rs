//! `atlasbot bench reminders`: with N scheduled reminders, the cost of finding the next due
//! one, the process's memory, and the firing lag when 10 000 fall due in the same second —
//! through the real scheduler loop and a real database, delivered by separate `atlasbot`
//! processes (`--processes N`, each running `bench reminder-worker`: its own scheduler, pool
//! and owner) into an outbox that prints when it delivered. Then how soon a reminder added by
//! another process is delivered (SQLite: `data_version` polling; PostgreSQL: LISTEN/NOTIFY).
//! With `--postgres URL` the runtime state is on that server.

use std::collections::HashMap;
use std::future::Future;
use std::io::{BufRead, Write};
use std::pin::Pin;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};

use crate::domain::{EventId, Platform, SpaceId, Target};
use crate::events::Planned;
use crate::scheduler::{Clock, Delivery, DeliveryError, Outbox, Scheduler};
use crate::store::{Location, Store};

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

/// Marked planned for good, so that the scheduler's own planning leaves the rows alone.
fn forever() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_214_400, 0).expect("valid")
}

/// One event owing `n` reminders to distinct people, the i-th due at `due(i)`, keys
/// prefixed with `prefix`. Made before the worker processes start: planned for good at once,
/// so that their scheduler never plans it itself.
async fn owe(
    store: &Store,
    title: &str,
    n: usize,
    prefix: &str,
    due: impl Fn(usize) -> DateTime<Utc>,
) -> anyhow::Result<EventId> {
    let now = Utc::now();
    let event = store
        .insert_event(
            &super::event_input(&SpaceId::console(), title, now),
            &format!("{prefix}@atlasbot"),
            now,
        )
        .await?;
    owe_again(store, event, n, prefix, due).await?;
    Ok(event)
}

/// Replaces what `event` owes with `n` reminders, the i-th due at `due(i)`.
async fn owe_again(
    store: &Store,
    event: EventId,
    n: usize,
    prefix: &str,
    due: impl Fn(usize) -> DateTime<Utc>,
) -> anyhow::Result<()> {
    let row = store
        .event(event)
        .await?
        .ok_or_else(|| anyhow::anyhow!("event {event} is gone"))?;
    let planned: Vec<Planned> = (0..n)
        .map(|i| {
            let at = due(i);
            Planned {
                key: format!("{prefix}-{i}-{}", at.timestamp()),
                event_id: event,
                occurrence: at,
                offset_min: 0,
                target: Target::User(format!("{prefix}{i}")),
                due: at,
            }
        })
        .collect();
    match store.replan(&row, &planned, forever()).await? {
        crate::store::events::PlanWrite::Written => Ok(()),
        crate::store::events::PlanWrite::EventChanged => {
            anyhow::bail!("event {event} changed while the benchmark planned it")
        }
    }
}

pub async fn run(
    count: usize,
    burst: usize,
    postgres: Option<String>,
    processes: usize,
) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let location = match postgres {
        Some(url) => Location::Postgres {
            url,
            atlas: tmp.path().join("atlas.db"),
        },
        None => Location::File(tmp.path().join("bench.db")),
    };
    println!("runtime state: {}", location.describe());
    let store = crate::database::open_store(location.clone()).await?;
    if !store.events_of_space(&SpaceId::console()).await?.is_empty() {
        anyhow::bail!("the database already has events: give the benchmark an empty one");
    }
    scheduled_year(&store, count).await?;
    next_due_lookup(&store, count).await?;

    // A burst: `burst` reminders due in the same second, a few seconds from now (due times
    // are stored to the second: starts and offsets are whole minutes in use), when the
    // workers have started.
    let due = DateTime::from_timestamp((Utc::now() + Duration::seconds(4)).timestamp(), 0)
        .expect("a valid time");
    let burst_event = owe(&store, "Burst", burst, "burst", |_| due).await?;
    let notices = owe(&store, "Notice", 0, "notice", |_| forever()).await?;
    let workers = Workers::start(&location, processes.max(1))?;
    if Utc::now() >= due {
        anyhow::bail!("the workers took too long to start; nothing measured");
    }
    let stamps = workers.wait_for("burst-", burst, StdDuration::from_secs(120));
    report_burst(&stamps, due, burst, processes.max(1));
    if stamps.len() < burst {
        let mut states: HashMap<String, usize> = HashMap::new();
        for (_, state) in store.reminder_states(burst_event).await? {
            *states.entry(state.to_string()).or_default() += 1;
        }
        println!("the burst's reminders by state: {states:?}");
    }

    notice_latency(&store, &workers, notices).await?;
    workers.stop();
    store.close().await;
    Ok(())
}

/// N reminders spread over the coming year (minute resolution, distinct targets).
async fn scheduled_year(store: &Store, count: usize) -> anyhow::Result<()> {
    let started = Instant::now();
    let now = Utc::now();
    owe(store, "Benchmark", count, "year", |i| {
        now + Duration::minutes(60 + (i as i64 % 525_600))
    })
    .await?;
    println!(
        "planned {count} reminders in {:.1} s; process RSS {:.0} MB",
        started.elapsed().as_secs_f64(),
        rss_mb()
    );
    Ok(())
}

async fn next_due_lookup(store: &Store, count: usize) -> anyhow::Result<()> {
    let mut samples = Vec::new();
    for _ in 0..1000 {
        let t = Instant::now();
        std::hint::black_box(store.next_due(Platform::Console).await?);
        samples.push(t.elapsed());
    }
    println!(
        "next due lookup over {count} pending: p50 {:?}, p99 {:?}",
        super::percentile(&mut samples, 0.5),
        super::percentile(&mut samples, 0.99)
    );
    Ok(())
}

fn report_burst(stamps: &[(String, DateTime<Utc>)], due: DateTime<Utc>, burst: usize, n: usize) {
    let mut lags: Vec<StdDuration> = stamps
        .iter()
        .map(|(_, t)| (*t - due).to_std().unwrap_or_default())
        .collect();
    if lags.is_empty() {
        println!("{n} process(es): nothing of the burst was delivered");
        return;
    }
    let first = stamps.iter().map(|(_, t)| *t).min().unwrap_or(due);
    let last = stamps.iter().map(|(_, t)| *t).max().unwrap_or(due);
    let span = (last - first).to_std().unwrap_or_default().as_secs_f64();
    let mut distinct: Vec<&str> = stamps.iter().map(|(k, _)| k.as_str()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    println!(
        "{n} process(es): burst of {burst} due in the same second: {} delivered ({} distinct); lag p50 {:?}, p99 {:?}, max {:?}; {:.0} reminders/s from first to last delivery",
        lags.len(),
        distinct.len(),
        super::percentile(&mut lags, 0.5),
        super::percentile(&mut lags, 0.99),
        super::percentile(&mut lags, 1.0),
        lags.len() as f64 / span.max(1e-3),
    );
}

/// How soon the idle workers deliver a reminder this process adds, due at once: the time
/// another process takes to notice a change (20 rounds, one at a time).
async fn notice_latency(store: &Store, workers: &Workers, event: EventId) -> anyhow::Result<()> {
    let mut samples = Vec::new();
    for round in 0..20 {
        tokio::time::sleep(StdDuration::from_millis(300)).await;
        let prefix = format!("notice{round}");
        let added = Instant::now();
        owe_again(store, event, 1, &prefix, |_| Utc::now()).await?;
        if workers
            .wait_for(&format!("{prefix}-"), 1, StdDuration::from_secs(10))
            .is_empty()
        {
            anyhow::bail!("a reminder added by another process was not delivered in 10 s");
        }
        samples.push(added.elapsed());
    }
    println!(
        "a reminder added by another process, due at once: delivered after p50 {:?}, p99 {:?}, max {:?} (20 rounds; includes the adding transaction)",
        super::percentile(&mut samples, 0.5),
        super::percentile(&mut samples, 0.99),
        super::percentile(&mut samples, 1.0)
    );
    Ok(())
}

/// `atlasbot bench reminder-worker` processes and what they delivered (key → when).
struct Workers {
    children: Vec<Child>,
    delivered: Arc<Mutex<HashMap<String, Vec<DateTime<Utc>>>>>,
}

impl Workers {
    fn start(location: &Location, n: usize) -> anyhow::Result<Workers> {
        let delivered: Arc<Mutex<HashMap<String, Vec<DateTime<Utc>>>>> = Default::default();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let mut children = Vec::new();
        for _ in 0..n {
            let mut child = std::process::Command::new(std::env::current_exe()?)
                .args(location_args(location))
                .args(["bench", "reminder-worker"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()?;
            let stdout = child.stdout.take().expect("piped");
            let (sink, ready) = (delivered.clone(), ready_tx.clone());
            std::thread::spawn(move || read_deliveries(stdout, &sink, &ready));
            children.push(child);
        }
        for _ in 0..n {
            ready_rx.recv_timeout(StdDuration::from_secs(60))?;
        }
        Ok(Workers {
            children,
            delivered,
        })
    }

    /// Waits until `n` distinct keys starting with `prefix` were delivered (or `timeout`);
    /// returns every delivery of those keys, repeats included.
    fn wait_for(
        &self,
        prefix: &str,
        n: usize,
        timeout: StdDuration,
    ) -> Vec<(String, DateTime<Utc>)> {
        let deadline = Instant::now() + timeout;
        loop {
            let seen: Vec<(String, DateTime<Utc>)> = {
                let delivered = self.delivered.lock().expect("not poisoned");
                delivered
                    .iter()
                    .filter(|(k, _)| k.starts_with(prefix))
                    .flat_map(|(k, ts)| ts.iter().map(move |t| (k.clone(), *t)))
                    .collect()
            };
            let distinct = {
                let mut keys: Vec<&String> = seen.iter().map(|(k, _)| k).collect();
                keys.dedup();
                keys.len()
            };
            if distinct >= n || Instant::now() > deadline {
                return seen;
            }
            std::thread::sleep(StdDuration::from_millis(2));
        }
    }

    /// Closes each worker's stdin (its signal to stop) and waits for it.
    fn stop(self) {
        for mut child in self.children {
            drop(child.stdin.take());
            let _ = child.wait();
        }
    }
}

fn location_args(location: &Location) -> Vec<String> {
    match location {
        Location::File(path) => vec!["--db".into(), path.display().to_string()],
        Location::Postgres { url, atlas } => vec![
            "--db".into(),
            url.clone(),
            "--atlas".into(),
            atlas.display().to_string(),
        ],
    }
}

/// A worker's stdout: "ready", then one "KEY MICROS" line per delivery.
fn read_deliveries(
    out: std::process::ChildStdout,
    sink: &Mutex<HashMap<String, Vec<DateTime<Utc>>>>,
    ready: &std::sync::mpsc::Sender<()>,
) {
    for line in std::io::BufReader::new(out).lines() {
        let Ok(line) = line else { return };
        if line == "ready" {
            let _ = ready.send(());
            continue;
        }
        let Some((key, micros)) = line.split_once(' ') else {
            continue;
        };
        let Some(at) = micros
            .parse::<i64>()
            .ok()
            .and_then(DateTime::from_timestamp_micros)
        else {
            continue;
        };
        sink.lock()
            .expect("not poisoned")
            .entry(key.to_string())
            .or_default()
            .push(at);
    }
}

/// `atlasbot bench reminder-worker`: a console-platform scheduler on the given state that
/// prints each delivery as "KEY MICROS" and stops when its stdin closes.
pub async fn worker(location: Location, lease: Duration) -> anyhow::Result<()> {
    struct Print(Mutex<std::io::Stdout>);
    impl Outbox for Print {
        fn deliver<'a>(
            &'a self,
            d: &'a Delivery,
        ) -> Pin<Box<dyn Future<Output = Result<(), DeliveryError>> + Send + 'a>> {
            Box::pin(async move {
                let at = Utc::now().timestamp_micros();
                let mut out = self.0.lock().expect("not poisoned");
                let _ = writeln!(out, "{} {at}", d.key).and_then(|()| out.flush());
                Ok(())
            })
        }
    }
    let store = Store::open_at(&location).await?;
    let mut scheduler = Scheduler::new(
        Platform::Console,
        store,
        Clock::System,
        Duration::minutes(10),
    );
    scheduler.lease = lease;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running =
        tokio::spawn(scheduler.run(Arc::new(Print(Mutex::new(std::io::stdout()))), stopped));
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "ready")?;
        out.flush()?;
    }
    tokio::task::spawn_blocking(|| {
        let mut sink = String::new();
        while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {}
    })
    .await?;
    let _ = stop.send(true);
    running.await?;
    Ok(())
}
