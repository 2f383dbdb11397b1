//! Reminders: plan what each event owes, then deliver each one exactly once, on time.
//!
//! The loop claims what is due (pending → claimed, atomically, in the database) before
//! handing it to the platform's outbox with the reminder's key as idempotency handle, then
//! records the outcome. It sleeps until the next due reminder, a change to the schedule or
//! shutdown. Changes are the store's to announce (`Store::watch_changes`): at once for writes
//! in this process, within a second for another process's (`atlasbot ask`). It is started
//! once at start-up, never from a platform's "ready" event, and no single error ends it. It
//! must not decide what to say: the message comes from `reminder_reply`, the rendering from
//! the platform.
//!
//! The parts, in the order a reminder goes through them:
//! - `plan`: what reminders each event owes, written ahead on a rolling horizon;
//! - `claim`: taking due reminders under a lease (owner + lease), taking over a dead
//!   process's, and the fence that proves a claim still ours right before its send;
//! - `batch`: a batch split into lanes, one per destination, delivered side by side (in
//!   order within each), and what the lanes share;
//! - `deliver`: turning a claim into a reply, handing it to the platform's outbox, recording
//!   the outcome;
//! - `outbox`: the one thing a platform implements to receive reminders.
//!
//! This file is the loop that drives them: sleep until the next due reminder, a change or
//! shutdown.

mod agenda;
mod batch;
mod claim;
mod deliver;
mod outbox;
mod plan;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::watch;

use crate::domain::Platform;
use crate::store::Store;

pub use crate::clock::Clock;
pub use agenda::agenda_reply;
pub use claim::Owner;
pub use deliver::{reminder_reply, Failpoints};
pub use outbox::{Delivery, DeliveryError, Outbox, NOT_SENT};
pub use plan::{
    all_ahead, extend_plans, next_occurrence, occurrences_of, occurrences_without, plan_event,
    plan_subscription,
};

/// How long a claim is someone's before another process may take it over, and how often
/// the scheduler looks for claims to take over and plans to extend.
pub const LEASE: Duration = Duration::minutes(2);
const MAINTENANCE_EVERY: Duration = Duration::seconds(30);

/// A reminder sent within this long of its due time is on time; later, it says it is late.
const ON_TIME_WITHIN: Duration = Duration::minutes(1);

/// The reminder loop of one platform: its store, its clock, and who it claims as.
/// Destinations a batch delivers to at once: enough to keep Discord's 50 requests a second
/// busy at a few hundred milliseconds an answer, with room for destinations that are slow.
pub const LANES: usize = 32;

pub struct Scheduler {
    /// Whose reminders this scheduler delivers: the spaces of this platform.
    pub platform: Platform,
    pub store: Store,
    pub clock: Clock,
    pub grace: Duration,
    pub owner: Owner,
    /// How long a claim is this scheduler's before another may take it over.
    pub lease: Duration,
    pub failpoints: Failpoints,
    /// Destinations delivered to at once (`deliver_batch`): the platform's client keeps its
    /// rate limits, so this only bounds what is in flight. 1 delivers one at a time.
    pub lanes: usize,
    /// Whether this process's clock was last found to disagree with the lease clock (so that
    /// it is said once when it starts and once when it ends, not on every pass).
    skewed: std::sync::atomic::AtomicBool,
    /// What this process has sent and not yet recorded as sent, shared by every scheduler the
    /// process starts for this platform (`start_reminders` hands it to a restarted one).
    pub sent: SentLedger,
    /// Fence statements this scheduler has run (each proves up to 500 claims): a measure of
    /// what a batch costs the database, read by tests and `bench`.
    fences: std::sync::atomic::AtomicUsize,
}

/// The reminders a process has sent but not yet recorded as sent (key → late), kept until the
/// record is written. A batch that ends before recording (a store error, a panic) loses its
/// own list, not this one: the process records them at its next pass and, if it ever takes
/// one of their claims again (its lease ran out meanwhile), records it instead of sending it
/// a second time.
#[derive(Clone, Debug, Default)]
pub struct SentLedger(Arc<std::sync::Mutex<std::collections::HashMap<String, bool>>>);

impl SentLedger {
    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, bool>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn note(&self, key: &str, late: bool) {
        self.lock().insert(key.to_string(), late);
    }

    /// Whether `key` was sent by this process (and not yet recorded), and if so how late.
    fn sent(&self, key: &str) -> Option<bool> {
        self.lock().get(key).copied()
    }

    fn recorded(&self, keys: &[(String, bool)]) {
        let mut ledger = self.lock();
        for (k, _) in keys {
            ledger.remove(k);
        }
    }

    fn all(&self) -> Vec<(String, bool)> {
        self.lock().iter().map(|(k, l)| (k.clone(), *l)).collect()
    }
}

impl Scheduler {
    pub fn new(platform: Platform, store: Store, clock: Clock, grace: Duration) -> Scheduler {
        Scheduler {
            platform,
            store,
            clock,
            grace,
            owner: Owner::this_process(),
            lease: LEASE,
            failpoints: Failpoints::from_env(),
            lanes: LANES,
            skewed: std::sync::atomic::AtomicBool::new(false),
            sent: SentLedger::default(),
            fences: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// How many fence statements this scheduler has run.
    pub fn fences_run(&self) -> usize {
        self.fences.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How often to look for claims to take over and plans to extend: at least twice per
    /// lease, so that a dead process's reminders wait at most about one and a half leases.
    fn maintenance_every(&self) -> Duration {
        MAINTENANCE_EVERY.min(self.lease / 2)
    }

    /// The periodic part of the loop: take over orphaned claims, post the agendas that are
    /// due, plan events further.
    pub async fn maintain(&self, outbox: &dyn Outbox) {
        // First what this process sent and could not record yet: recorded, it is never
        // taken over (by this process or another) and sent again.
        if let Err(e) = self.record_ledger().await {
            tracing::warn!(error = %e, "could not record sent reminders yet");
        }
        if let Err(e) = self.recover(outbox).await {
            tracing::error!(error = %e, "could not recover claimed reminders");
        }
        if let Err(e) = self.post_agendas(outbox).await {
            tracing::error!(error = %e, "could not post the agendas");
        }
        loop {
            match extend_plans(&self.store, self.platform, self.clock.now(), self.grace).await {
                Ok(n) if n as i64 == plan::PLAN_BATCH => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::error!(error = %e, "could not plan reminders further");
                    break;
                }
            }
        }
    }

    /// Runs until `shutdown` turns true. Errors are logged and retried: none ends the loop.
    pub async fn run(self, outbox: Arc<dyn Outbox>, mut shutdown: watch::Receiver<bool>) {
        let mut changes = self.store.watch_changes().await;
        let mut next_maintenance = DateTime::<Utc>::MIN_UTC;
        let mut caught_up = false;
        while !*shutdown.borrow() {
            if self.clock.now() >= next_maintenance {
                self.maintain(outbox.as_ref()).await;
                next_maintenance = self.clock.now() + self.maintenance_every();
            }
            if let Err(e) = self.tick(outbox.as_ref()).await {
                tracing::error!(error = %e, "scheduler tick failed");
            }
            if !caught_up {
                // Tests (and people reading logs) wait for this: whatever was owed at
                // start-up has been sent or handed over by now.
                tracing::info!(platform = %self.platform, "scheduler caught up");
                caught_up = true;
            }
            let next = self
                .store
                .next_due(self.platform)
                .await
                .unwrap_or_else(|e| {
                    tracing::error!(error = %e, "cannot read the next due reminder");
                    None
                });
            let wake_at = next.map_or(next_maintenance, |n| n.min(next_maintenance));
            if !self.sleep_until(wake_at, &mut changes, &mut shutdown).await {
                break;
            }
        }
    }

    /// Sleeps until `wake_at`, a change to the schedule (true) or shutdown (false).
    async fn sleep_until(
        &self,
        wake_at: DateTime<Utc>,
        changes: &mut crate::store::ChangeWatch,
        shutdown: &mut watch::Receiver<bool>,
    ) -> bool {
        loop {
            let now = self.clock.now();
            if wake_at <= now {
                return true;
            }
            // In short steps, so that a clock moved by a test (or the system) is noticed.
            let wait = (wake_at - now)
                .to_std()
                .unwrap_or(StdDuration::ZERO)
                .min(StdDuration::from_secs(1));
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = changes.next() => return true,
                _ = shutdown.changed() => return false,
            }
        }
    }
}
