//! Reminders: plan what each event owes, then deliver each one exactly once, on time.
//!
//! The loop claims what is due (pending → claimed, atomically, in the database) before
//! handing it to the platform's outbox with the reminder's key as idempotency handle, then
//! records the outcome. It sleeps until the next due reminder, a wake-up (an event changed in
//! this process) or shutdown, and looks at most a second at a time so that changes made by
//! another process (`atlasbot ask`) are seen within a second — a cheap `PRAGMA data_version`
//! check, not a scan. It is started once at start-up, never from a platform's "ready" event,
//! and no single error ends it. It must not decide what to say: the message comes from
//! `reminder_reply`, the rendering from the platform.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use tokio::sync::{watch, Notify};

use crate::events::{self, describe_offset, when};
use crate::reply::{Reply, Text};
use crate::store::events::{parse_ts, EventRow, ReminderRow};
use crate::store::{Store, StoreError};

/// How far ahead reminders are planned, and how many occurrences of a series at most.
const HORIZON_DAYS: i64 = 400;
const MAX_OCCURRENCES: u16 = 500;
/// Deliveries tried before a reminder is recorded as failed.
const MAX_ATTEMPTS: i64 = 5;

/// A failpoint for the crash test: `ATLASBOT_TEST_PAUSE=after-claim:3000` (or `after-send:`)
/// makes the scheduler stop that many milliseconds at that point, so that a test can kill
/// the process there with SIGKILL. Unset (always, in use) it costs one lookup per delivery.
async fn failpoint(at: &str) {
    if let Ok(spec) = std::env::var("ATLASBOT_TEST_PAUSE") {
        if let Some(ms) = spec
            .strip_prefix(at)
            .and_then(|r| r.strip_prefix(':'))
            .and_then(|m| m.parse::<u64>().ok())
        {
            tracing::warn!(failpoint = at, ms, "test pause");
            tokio::time::sleep(StdDuration::from_millis(ms)).await;
        }
    }
}

/// The time, injectable so that tests decide what "now" is.
#[derive(Clone, Debug)]
pub enum Clock {
    System,
    Fixed(Arc<std::sync::Mutex<DateTime<Utc>>>),
}

impl Clock {
    pub fn fixed(t: DateTime<Utc>) -> Clock {
        Clock::Fixed(Arc::new(std::sync::Mutex::new(t)))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(t) => *t.lock().expect("not poisoned"),
        }
    }

    /// Moves a fixed clock (tests); the system clock moves by itself.
    pub fn set(&self, t: DateTime<Utc>) {
        if let Clock::Fixed(c) = self {
            *c.lock().expect("not poisoned") = t;
        }
    }
}

/// Re-plans the reminders an event owes from `now` on: the space's offsets to the space, and
/// each personal subscription to its user. Sent reminders are never planned again.
pub async fn plan_event(
    store: &Store,
    event_id: i64,
    now: DateTime<Utc>,
    grace: Duration,
) -> Result<(), StoreError> {
    let Some(e) = store.event(event_id).await? else {
        return Ok(());
    };
    if e.cancelled {
        return store.replan(event_id, &e.space, &[]).await;
    }
    let space = store.space(&e.space, now).await?;
    let mut owed: Vec<(i64, String)> = events::parse_offsets(&space.offsets)
        .unwrap_or_default()
        .into_iter()
        .map(|o| (o, "space".to_string()))
        .collect();
    for (user, offset) in store.subscriptions_of_event(event_id).await? {
        owed.push((offset, format!("user:{user}")));
    }
    let occurrences = occurrences_of(
        store,
        &e,
        now - grace - Duration::days(61),
        now + Duration::days(HORIZON_DAYS),
    )
    .await?;
    let planned: Vec<_> = events::plan(event_id, &occurrences, &owed)
        .into_iter()
        .filter(|p| p.due >= now - grace)
        .collect();
    store.replan(event_id, &e.space, &planned).await
}

/// Occurrences of a stored event in [from, to), without cancelled ones.
pub async fn occurrences_of(
    store: &Store,
    e: &EventRow,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, StoreError> {
    let (Some(start), Ok(tz)) = (e.start(), e.tz.parse::<Tz>()) else {
        return Ok(vec![]);
    };
    let exdates = store.exdates(e.id).await?;
    Ok(
        events::occurrences(start, tz, e.rrule.as_deref(), from, to, MAX_OCCURRENCES)
            .into_iter()
            .filter(|o| !exdates.contains(o))
            .collect(),
    )
}

/// The message of a reminder. Titles and descriptions are user text: renderers escape them
/// and no platform message may ping anyone.
pub fn reminder_reply(e: &EventRow, r: &ReminderRow, now: DateTime<Utc>, late: bool) -> Reply {
    let tz: Tz = e.tz.parse().unwrap_or(Tz::UTC);
    let occurrence = parse_ts(&r.occurrence_utc).unwrap_or(now);
    let local = occurrence.with_timezone(&tz);
    let title = crate::reply::defang_mentions(&e.title);
    let mut reply = Reply::answer(format!("Reminder: {title}"));
    let lead = if r.offset_min == 0 {
        "starts now".to_string()
    } else {
        format!("starts in {}", describe_offset(r.offset_min))
    };
    let mut summary = format!(
        "{title} {lead} — {} ({}).",
        when::wall(local.naive_local()),
        tz.name()
    );
    if late {
        summary.push_str(" (Sent late: the bot was offline when this reminder was due.)");
    }
    reply.summary = Some(Text::plain(summary));
    let defang = |t: &Option<String>| {
        t.as_deref()
            .map(crate::reply::defang_mentions)
            .unwrap_or_default()
    };
    reply =
        reply
            .field("Where", defang(&e.place), false)
            .field("About", defang(&e.description), false);
    reply.sources = Some(format!(
        "Event {} · /event show {} · reminder {}",
        e.id, e.id, r.key
    ));
    reply
}

/// One reminder ready to go out.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The reminder's key: the idempotency handle (Discord nonce, Matrix transaction id).
    pub key: String,
    pub space: String,
    /// "space" (the space's reminder channel) or "user:<id>" (a direct message).
    pub target: String,
    pub reply: Reply,
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// Worth trying again later (rate limit, server error, network).
    #[error("temporary: {0}")]
    Temporary(String),
    /// The target is gone (channel deleted, bot removed): do not retry.
    #[error("gone: {0}")]
    Gone(String),
}

/// Where reminders go: each platform implements this; the scheduler only knows the trait.
pub trait Outbox: Send + Sync {
    fn deliver<'a>(
        &'a self,
        d: &'a Delivery,
    ) -> Pin<Box<dyn Future<Output = Result<(), DeliveryError>> + Send + 'a>>;
}

/// What one batch of deliveries looks up once: events, disabled targets; and the reminders
/// sent, recorded together at the end of the batch.
#[derive(Default)]
struct TickCache {
    events: std::collections::HashMap<i64, Option<EventRow>>,
    /// Disabled targets by space: target → reason.
    disabled: std::collections::HashMap<String, std::collections::HashMap<String, String>>,
    sent: Vec<(String, bool)>,
}

pub struct Scheduler {
    /// Whose reminders this scheduler delivers: spaces "<platform>" and "<platform>:…".
    pub platform: &'static str,
    pub store: Store,
    pub clock: Clock,
    pub wake: Arc<Notify>,
    pub grace: Duration,
}

impl Scheduler {
    /// Sends what is due now; returns how many reminders were delivered.
    pub async fn tick(&self, outbox: &dyn Outbox) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let mut delivered = 0;
        loop {
            let t0 = std::time::Instant::now();
            let batch = self.store.claim_due(now, 500, self.platform).await?;
            if batch.is_empty() {
                break;
            }
            let claimed = t0.elapsed();
            let n = batch.len();
            let mut cache = TickCache::default();
            for r in batch {
                if self.deliver(outbox, r, now, &mut cache).await? {
                    delivered += 1;
                }
            }
            let sent = t0.elapsed();
            self.store
                .finish_sent(&cache.sent, self.clock.now())
                .await?;
            tracing::debug!(
                n,
                claim_us = claimed.as_micros() as u64,
                deliver_us = (sent - claimed).as_micros() as u64,
                record_us = (t0.elapsed() - sent).as_micros() as u64,
                "batch"
            );
        }
        Ok(delivered)
    }

    /// Delivers one claimed reminder and records what happened.
    async fn deliver(
        &self,
        outbox: &dyn Outbox,
        r: ReminderRow,
        now: DateTime<Utc>,
        cache: &mut TickCache,
    ) -> Result<bool, StoreError> {
        let due = parse_ts(&r.due_utc).unwrap_or(now);
        let occurrence = parse_ts(&r.occurrence_utc).unwrap_or(now);
        let planned_due = occurrence - Duration::minutes(r.offset_min);
        // Missed by more than the grace window (downtime): recorded, not spammed.
        if now - planned_due > self.grace && r.attempts <= 1 {
            tracing::info!(key = %r.key, "reminder missed while the bot was down");
            self.store
                .finish_reminder(&r.key, "missed", false, None, now)
                .await?;
            return Ok(false);
        }
        if let std::collections::hash_map::Entry::Vacant(slot) = cache.events.entry(r.event_id) {
            slot.insert(self.store.event(r.event_id).await?);
        }
        let Some(event) = cache.events[&r.event_id].clone() else {
            self.store
                .finish_reminder(&r.key, "cancelled", false, Some("event deleted"), now)
                .await?;
            return Ok(false);
        };
        if event.cancelled {
            self.store
                .finish_reminder(&r.key, "cancelled", false, None, now)
                .await?;
            return Ok(false);
        }
        if let std::collections::hash_map::Entry::Vacant(slot) =
            cache.disabled.entry(r.space.clone())
        {
            slot.insert(self.store.disabled_targets(&r.space).await?);
        }
        if let Some(reason) = cache.disabled[&r.space].get(&r.target).cloned() {
            self.store
                .finish_reminder(
                    &r.key,
                    "failed",
                    false,
                    Some(&format!("target disabled: {reason}")),
                    now,
                )
                .await?;
            return Ok(false);
        }
        let late = now - planned_due > Duration::minutes(1);
        failpoint("after-claim").await;
        let delivery = Delivery {
            key: r.key.clone(),
            space: r.space.clone(),
            target: r.target.clone(),
            reply: reminder_reply(&event, &r, now, late),
        };
        let outcome = outbox.deliver(&delivery).await;
        if outcome.is_ok() {
            failpoint("after-send").await;
        }
        match outcome {
            // Recorded with the rest of the batch, in one transaction: a crash before that
            // re-sends these under the same keys, which the platforms deduplicate.
            Ok(()) => {
                cache.sent.push((r.key.clone(), late));
                Ok(true)
            }
            Err(DeliveryError::Gone(e)) => {
                tracing::warn!(key = %r.key, error = %e, "reminder target is gone; disabling it");
                self.store
                    .finish_reminder(&r.key, "failed", late, Some(&e), now)
                    .await?;
                self.store
                    .disable_target(&r.space, &r.target, &e, now)
                    .await?;
                cache
                    .disabled
                    .entry(r.space.clone())
                    .or_default()
                    .insert(r.target.clone(), e.clone());
                let why = format!("the target {} is gone ({e}); reminders to it are off until a moderator sets a new channel with /settings channel", r.target);
                self.tell_moderators(outbox, &r, &event, &why).await;
                Ok(false)
            }
            Err(DeliveryError::Temporary(e)) if r.attempts < MAX_ATTEMPTS => {
                let backoff = Duration::seconds(5 * (1 << r.attempts.min(6)));
                tracing::warn!(key = %r.key, error = %e, attempt = r.attempts, "reminder delivery failed; will retry");
                self.store
                    .retry_reminder(&r.key, due.max(now) + backoff, &e)
                    .await?;
                Ok(false)
            }
            Err(DeliveryError::Temporary(e)) => {
                tracing::error!(key = %r.key, error = %e, "reminder delivery failed for good");
                self.store
                    .finish_reminder(&r.key, "failed", late, Some(&e), now)
                    .await?;
                let why = format!(
                    "it could not be delivered after {} attempts ({e})",
                    r.attempts
                );
                self.tell_moderators(outbox, &r, &event, &why).await;
                Ok(false)
            }
        }
    }

    /// Best effort: a notice to the space's moderators that a reminder failed. Its own failure
    /// is only logged (there is no one left to tell).
    async fn tell_moderators(&self, outbox: &dyn Outbox, r: &ReminderRow, e: &EventRow, why: &str) {
        let mut reply = Reply::answer(format!("A reminder for {} was not sent", e.title));
        reply.summary = Some(Text::plain(format!(
            "Reminder {} for event {} failed: {why}.",
            r.key, e.id
        )));
        reply.visibility = crate::reply::Visibility::Private;
        let notice = Delivery {
            key: format!("{}-failed", r.key),
            space: r.space.clone(),
            target: "moderators".into(),
            reply,
        };
        if let Err(err) = outbox.deliver(&notice).await {
            tracing::error!(key = %r.key, error = %err, "could not tell the moderators either");
        }
    }

    /// Re-sends reminders claimed before a crash, with the same key.
    pub async fn recover(&self, outbox: &dyn Outbox) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut cache = TickCache::default();
        for r in self.store.unfinished_claims(self.platform).await? {
            self.deliver(outbox, r, now, &mut cache).await?;
        }
        self.store.finish_sent(&cache.sent, self.clock.now()).await
    }

    /// Runs until `shutdown` turns true. Errors are logged and retried: none ends the loop.
    pub async fn run(self, outbox: Arc<dyn Outbox>, mut shutdown: watch::Receiver<bool>) {
        if let Err(e) = self.recover(outbox.as_ref()).await {
            tracing::error!(error = %e, "could not recover claimed reminders");
        }
        let mut watcher = match self.store.pool().acquire().await {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::error!(error = %e, "no connection for change checks; falling back to the one-second tick");
                None
            }
        };
        let mut version = match watcher.as_mut() {
            Some(c) => self.store.data_version(c).await.unwrap_or(0),
            None => 0,
        };
        'outer: loop {
            if *shutdown.borrow() {
                break;
            }
            if let Err(e) = self.tick(outbox.as_ref()).await {
                tracing::error!(error = %e, "scheduler tick failed");
            }
            let next = match self.store.next_due(self.platform).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the next due reminder");
                    None
                }
            };
            // Sleep until the next reminder is due, a wake-up or shutdown. Once a second the
            // database's data_version is read — a counter, not a scan — so that an event added
            // by another process is planned in within a second.
            loop {
                let now = self.clock.now();
                if next.is_some_and(|n| n <= now) {
                    continue 'outer;
                }
                let wait = next
                    .map(|n| (n - now).to_std().unwrap_or(StdDuration::ZERO))
                    .unwrap_or(StdDuration::MAX)
                    .min(StdDuration::from_secs(1));
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = self.wake.notified() => continue 'outer,
                    _ = shutdown.changed() => break 'outer,
                }
                match watcher.as_mut() {
                    Some(c) => match self.store.data_version(c).await {
                        Ok(v) if v != version => {
                            version = v;
                            continue 'outer;
                        }
                        Ok(_) => {}
                        Err(_) => continue 'outer,
                    },
                    None => continue 'outer,
                }
            }
        }
    }
}
