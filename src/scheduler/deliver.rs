//! Delivery: a claimed reminder turned into its reply, handed to the platform's outbox with
//! its key as idempotency handle, and its outcome recorded (sent with its batch, retried
//! later, failed — and then the moderators told). What to say is decided here, how it looks
//! is the platform's; whether a claim is still ours is `claim`'s fence, asked right before
//! each send.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::batch::{lanes_of, TickCache};
use super::{Delivery, DeliveryError, Outbox, Scheduler, ON_TIME_WITHIN};
use crate::domain::{EventId, ReminderState, Target};
use crate::events::{self, describe_offset, when};
use crate::reply::{Action, Moment, Reply, Span, Text};
use crate::store::events::{parse_ts, EventRow, ReminderRow};
use crate::store::StoreError;

/// Deliveries tried before a reminder is recorded as failed.
const MAX_ATTEMPTS: i64 = 5;

/// Failpoints for the crash and takeover tests: `ATLASBOT_TEST_PAUSE=after-claim:3000` (or
/// `after-send:`) makes the scheduler stop that many milliseconds at that point, so that a
/// test can kill (or freeze) the process there; in-process tests set the field. Unset — always,
/// in use — they cost nothing.
#[derive(Debug, Clone, Default)]
pub struct Failpoints {
    pub after_claim: Option<StdDuration>,
    pub after_send: Option<StdDuration>,
}

impl Failpoints {
    pub fn from_env() -> Failpoints {
        let spec = std::env::var("ATLASBOT_TEST_PAUSE").unwrap_or_default();
        let at = |name: &str| {
            spec.strip_prefix(name)
                .and_then(|r| r.strip_prefix(':'))
                .and_then(|m| m.parse::<u64>().ok())
                .map(StdDuration::from_millis)
        };
        Failpoints {
            after_claim: at("after-claim"),
            after_send: at("after-send"),
        }
    }
}

async fn failpoint(at: &str, pause: Option<StdDuration>) {
    if let Some(pause) = pause {
        tracing::warn!(failpoint = at, ms = pause.as_millis() as u64, "test pause");
        tokio::time::sleep(pause).await;
    }
}

/// The longest one delivery may take (retries and a fan-out included) before it counts as
/// failed and is tried again later: one hung send cannot hold its batch forever.
const DELIVERY_TIMEOUT: StdDuration = StdDuration::from_secs(15 * 60);

impl Scheduler {
    /// Delivers claimed reminders: each destination's in order, up to `self.lanes`
    /// destinations at once (the platform's client keeps its rate limits), so one slow or
    /// failing destination never holds up the others. Leases are renewed while deliveries
    /// take long, and the sent ones recorded together.
    pub(super) async fn deliver_batch(
        &self,
        outbox: &dyn Outbox,
        batch: Vec<ReminderRow>,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        use futures_util::StreamExt;
        let started = std::time::Instant::now();
        let cache = TickCache::new(batch.iter().map(|r| r.key.clone()).collect());
        let delivered = std::sync::atomic::AtomicUsize::new(0);
        let failed: std::sync::Mutex<Option<StoreError>> = std::sync::Mutex::new(None);
        // A lane never cuts the others short: a store error stops its own lane (its claims are
        // taken over, in order, once their lease runs out) and is returned once all are done.
        let lanes = futures_util::stream::iter(lanes_of(batch)).for_each_concurrent(
            self.lanes.max(1),
            |lane| async {
                if let Err(e) = self.deliver_lane(outbox, lane, now, &cache, &delivered).await {
                    tracing::error!(error = %e, "a lane of reminders stopped; its claims go back when their lease runs out");
                    cache.lock(&failed).get_or_insert(e);
                }
            },
        );
        tokio::select! {
            () = lanes => {}
            never = self.keep_renewed(&cache) => match never {},
        }
        self.record_sent(&cache).await?;
        let delivered = delivered.into_inner();
        tracing::debug!(
            delivered,
            took_us = started.elapsed().as_micros() as u64,
            "batch"
        );
        match failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(e) => Err(e),
            None => Ok(delivered),
        }
    }

    /// One destination's reminders, in order; the sent ones recorded every `RECORD_EVERY`
    /// (or quarter lease), whichever lane gets there.
    async fn deliver_lane(
        &self,
        outbox: &dyn Outbox,
        lane: Vec<ReminderRow>,
        now: DateTime<Utc>,
        cache: &TickCache,
        delivered: &std::sync::atomic::AtomicUsize,
    ) -> Result<(), StoreError> {
        for r in lane {
            let key = r.key.clone();
            cache.lock(&cache.in_flight).insert(key.clone());
            let done = self.deliver(outbox, r, now, cache).await;
            cache.lock(&cache.in_flight).remove(&key);
            if done? {
                delivered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            if cache.due_for_recording(self.renew_every()) {
                if let Err(e) = self.record_sent(cache).await {
                    // Kept (`record_sent` put them back) and renewed: recorded next time.
                    tracing::warn!(error = %e, "could not record sent reminders yet");
                }
            }
        }
        Ok(())
    }

    /// Records the reminders sent so far as sent, in one statement. If that fails they are
    /// put back, to be renewed with the batch and recorded next time.
    pub(super) async fn record_sent(&self, cache: &TickCache) -> Result<(), StoreError> {
        let sent: Vec<(String, bool)> = std::mem::take(&mut *cache.lock(&cache.sent));
        if sent.is_empty() {
            return Ok(());
        }
        let recorded = self.store.finish_sent(&sent, self.clock.now()).await;
        match recorded {
            Ok(()) => self.sent.recorded(&sent),
            Err(_) => cache.lock(&cache.sent).extend(sent),
        }
        recorded
    }

    /// Records what the process's ledger holds (sends of a batch that ended before it could
    /// record them).
    pub(super) async fn record_ledger(&self) -> Result<(), StoreError> {
        let sent = self.sent.all();
        if sent.is_empty() {
            return Ok(());
        }
        self.store.finish_sent(&sent, self.clock.now()).await?;
        self.sent.recorded(&sent);
        Ok(())
    }

    /// Records how `r` ended, if the claim is still ours (a lost claim is its new owner's).
    async fn finish(
        &self,
        r: &ReminderRow,
        state: ReminderState,
        late: bool,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let ours = self
            .store
            .finish_claim(&r.key, self.owner.as_str(), state, late, error, now)
            .await?;
        if !ours {
            tracing::info!(key = %r.key, "a claim was taken over before its outcome was recorded; left to its new owner");
        }
        Ok(())
    }

    /// Delivers one claimed reminder and records what happened.
    async fn deliver(
        &self,
        outbox: &dyn Outbox,
        r: ReminderRow,
        now: DateTime<Utc>,
        cache: &TickCache,
    ) -> Result<bool, StoreError> {
        let occurrence = parse_ts(&r.occurrence_utc).unwrap_or(now);
        let planned_due = occurrence - Duration::try_minutes(r.offset_min).unwrap_or_default();
        // Missed by more than the grace window (downtime): recorded, not spammed.
        if now - planned_due > self.grace && r.attempts <= 1 {
            tracing::info!(key = %r.key, "reminder missed while the bot was down");
            self.finish(&r, ReminderState::Missed, false, None, now)
                .await?;
            return Ok(false);
        }
        let Some(event) = self.event_to_remind(&r, now, cache).await? else {
            return Ok(false);
        };
        if r.target == Target::Followers {
            self.expand_followers(&r, &event).await?;
            return Ok(false);
        }
        failpoint("after-claim", self.failpoints.after_claim).await;
        // Late by the time it goes out, not by when its batch began.
        let now = self.clock.now().max(now);
        let late = now - planned_due > ON_TIME_WITHIN;
        let delivery = Delivery {
            key: r.key.clone(),
            space: r.space.clone(),
            target: r.target.clone(),
            reply: reminder_reply(&event, &r, now, late),
            about: parse_ts(&r.occurrence_utc).map(|o| (r.event_id, o)),
        };
        // Sent already by this process, and its record lost with the batch that sent it: it
        // is recorded now, never sent twice.
        if let Some(was_late) = self.sent.sent(&r.key) {
            tracing::info!(key = %r.key, "a reminder this process had sent was claimed again; recording it, not sending it again");
            cache.lock(&cache.sent).push((r.key.clone(), was_late));
            return Ok(false);
        }
        // The fence: the claim is proven ours, and extended, right before the message leaves.
        // A process that stalled past its lease finds it taken over and sends nothing.
        if !self.still_ours(&r.key, cache).await? {
            tracing::warn!(key = %r.key, "a claim was lost before sending (this process stalled past its lease); not sending it");
            return Ok(false);
        }
        let outcome = match tokio::time::timeout(DELIVERY_TIMEOUT, outbox.deliver(&delivery)).await
        {
            Ok(outcome) => outcome,
            Err(_) => Err(DeliveryError::Temporary(format!(
                "no answer within {} minutes",
                DELIVERY_TIMEOUT.as_secs() / 60
            ))),
        };
        if outcome.is_ok() {
            // Noted the moment it has gone out, before anything else can end this batch.
            self.sent.note(&r.key, late);
            failpoint("after-send", self.failpoints.after_send).await;
        }
        self.record(outbox, &r, &event, outcome, late, now, cache)
            .await
    }

    /// A followers' reminder fallen due becomes one reminder per person who follows what the
    /// event is about now (`Store::followers_of_event`: not muted, no reminder of their own),
    /// each under its own key — sent by this same pass, exactly once like any other. The
    /// stand-in row is gone once they are in (only while the claim is ours; a key already in
    /// the ledger is not added again, so expanding twice adds nothing).
    async fn expand_followers(&self, r: &ReminderRow, e: &EventRow) -> Result<(), StoreError> {
        let Some(occurrence) = parse_ts(&r.occurrence_utc) else {
            return Ok(());
        };
        let due = parse_ts(&r.due_utc).unwrap_or(occurrence);
        let people: Vec<events::Planned> = self
            .store
            .followers_of_event(e.id)
            .await?
            .into_iter()
            .map(|user| {
                let target = Target::User(user);
                events::Planned {
                    key: events::reminder_key(e.id, occurrence, r.offset_min, &target),
                    event_id: e.id,
                    occurrence,
                    offset_min: r.offset_min,
                    target,
                    due,
                }
            })
            .collect();
        if !self
            .store
            .expand_claim(&r.key, self.owner.as_str(), &r.space, &people)
            .await?
        {
            tracing::info!(key = %r.key, "a followers' reminder was taken over before it was expanded; left to its new owner");
        }
        Ok(())
    }

    /// The event a claimed reminder is about, or None when it owes nothing any more (the
    /// event deleted or cancelled, its target disabled) — recorded as such.
    async fn event_to_remind(
        &self,
        r: &ReminderRow,
        now: DateTime<Utc>,
        cache: &TickCache,
    ) -> Result<Option<EventRow>, StoreError> {
        let Some(event) = self.cached_event(r.event_id, cache).await? else {
            self.finish(
                r,
                ReminderState::Cancelled,
                false,
                Some("event deleted"),
                now,
            )
            .await?;
            return Ok(None);
        };
        if event.cancelled {
            self.finish(r, ReminderState::Cancelled, false, None, now)
                .await?;
            return Ok(None);
        }
        if let Some(reason) = self.disabled_reason(r, cache).await? {
            let why = format!("target disabled: {reason}");
            self.finish(r, ReminderState::Failed, false, Some(&why), now)
                .await?;
            return Ok(None);
        }
        Ok(Some(event))
    }

    /// The event `id` as the batch read it first (lanes may read it together; the same row).
    async fn cached_event(
        &self,
        id: EventId,
        cache: &TickCache,
    ) -> Result<Option<EventRow>, StoreError> {
        if let Some(known) = cache.lock(&cache.events).get(&id) {
            return Ok(known.clone());
        }
        let event = self.store.event(id).await?;
        cache.lock(&cache.events).insert(id, event.clone());
        Ok(event)
    }

    /// Why the reminder's target is disabled, if it is (read once per space per batch).
    async fn disabled_reason(
        &self,
        r: &ReminderRow,
        cache: &TickCache,
    ) -> Result<Option<String>, StoreError> {
        if !cache.lock(&cache.disabled).contains_key(&r.space) {
            let disabled = self.store.disabled_targets(&r.space).await?;
            cache
                .lock(&cache.disabled)
                .insert(r.space.clone(), disabled);
        }
        Ok(cache.lock(&cache.disabled)[&r.space]
            .get(&r.target)
            .cloned())
    }

    /// Records the outcome of a send: sent (with the batch), retried later, or failed.
    #[allow(clippy::too_many_arguments)]
    async fn record(
        &self,
        outbox: &dyn Outbox,
        r: &ReminderRow,
        event: &EventRow,
        outcome: Result<(), DeliveryError>,
        late: bool,
        now: DateTime<Utc>,
        cache: &TickCache,
    ) -> Result<bool, StoreError> {
        match outcome {
            // Recorded with the rest of the batch, in one transaction: a crash before that
            // re-sends these under the same keys, which the platforms deduplicate.
            Ok(()) => {
                cache.lock(&cache.sent).push((r.key.clone(), late));
                Ok(true)
            }
            Err(DeliveryError::Gone(e)) => {
                tracing::warn!(key = %r.key, error = %e, "reminder target is gone; disabling it");
                self.finish(r, ReminderState::Failed, late, Some(&e), now)
                    .await?;
                self.store
                    .disable_target(&r.space, &r.target, &e, now)
                    .await?;
                cache
                    .lock(&cache.disabled)
                    .entry(r.space.clone())
                    .or_default()
                    .insert(r.target.clone(), e.clone());
                let why = format!("the target {} is gone ({e}); reminders to it are off until a moderator sets a new channel with /settings channel", r.target);
                self.tell_moderators(outbox, r, event, &why).await;
                Ok(false)
            }
            Err(DeliveryError::Temporary(e)) if r.attempts < MAX_ATTEMPTS => {
                let backoff = Duration::seconds(5 * (1 << r.attempts.min(6)));
                let due = parse_ts(&r.due_utc).unwrap_or(now);
                tracing::warn!(key = %r.key, error = %e, attempt = r.attempts, "reminder delivery failed; will retry");
                self.store
                    .retry_claim(&r.key, self.owner.as_str(), due.max(now) + backoff, &e)
                    .await?;
                Ok(false)
            }
            Err(DeliveryError::Temporary(e)) => {
                tracing::error!(key = %r.key, error = %e, "reminder delivery failed for good");
                self.finish(r, ReminderState::Failed, late, Some(&e), now)
                    .await?;
                let why = format!(
                    "it could not be delivered after {} attempts ({e})",
                    r.attempts
                );
                self.tell_moderators(outbox, r, event, &why).await;
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
            target: Target::Moderators,
            reply,
            about: None,
        };
        if let Err(err) = outbox.deliver(&notice).await {
            tracing::error!(key = %r.key, error = %err, "could not tell the moderators either");
        }
    }
}

/// The message of a reminder. Titles and descriptions are user text: renderers escape them
/// and no platform message may ping anyone.
pub fn reminder_reply(e: &EventRow, r: &ReminderRow, now: DateTime<Utc>, late: bool) -> Reply {
    if r.offset_min == events::NOTE_OFFSET {
        if events::is_promotion(&r.key) {
            return promoted_reply(e, r, now);
        }
        return new_event_reply(e, r, now);
    }
    let title = crate::reply::defang_mentions(&e.title);
    let mut reply = Reply::answer(format!("Reminder: {title}"));
    reply.summary = Some(reminder_summary(e, r, &title, now, late));
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
    reply.actions = reminder_actions(e, r);
    reply
}

/// "<title> starts in 15 minutes — <when>.", and a word on it if it is sent late.
fn reminder_summary(
    e: &EventRow,
    r: &ReminderRow,
    title: &str,
    now: DateTime<Utc>,
    late: bool,
) -> Text {
    let tz: Tz = e.tz.parse().unwrap_or(Tz::UTC);
    let occurrence = parse_ts(&r.occurrence_utc).unwrap_or(now);
    let lead = when_it_starts(r, occurrence, now, late);
    let mut summary = Text::of([
        Span::Plain(format!("{title} {lead} — ")),
        Span::Time(Moment {
            zone: Some(tz.name().to_string()),
            ..when::moment(occurrence, tz)
        }),
        Span::Plain(".".into()),
    ]);
    if late {
        summary.push(Span::Plain(
            " (Sent late: the bot was offline when this reminder was due.)".into(),
        ));
    }
    summary
}

/// How long until the occurrence starts, as the reminder says it.
fn when_it_starts(
    r: &ReminderRow,
    occurrence: DateTime<Utc>,
    now: DateTime<Utc>,
    late: bool,
) -> String {
    // On time, the offset is the truth; sent late, only the time actually left is.
    let left = if late {
        (occurrence - now).num_minutes()
    } else {
        r.offset_min
    };
    match left {
        m if m <= 0 && late && occurrence < now => "has started".to_string(),
        m if m <= 0 => "starts now".to_string(),
        m if late => format!("starts in about {}", events::describe_span(m)),
        m => format!("starts in {}", describe_offset(m)),
    }
}

/// The buttons under a reminder: the space's remind buttons, or a person's snoozes and stop.
fn reminder_actions(e: &EventRow, r: &ReminderRow) -> Vec<Action> {
    match &r.target {
        Target::Space => Action::remind_buttons(e.id.0),
        Target::User(_) => {
            let snooze = |label: &str, minutes| Action::Snooze {
                label: label.into(),
                key: r.key.clone(),
                minutes,
            };
            vec![
                snooze("Snooze 15 min", 15),
                snooze("Snooze 1 h", 60),
                Action::StopReminding {
                    label: "Stop reminding me".into(),
                    event: e.id.0,
                },
            ]
        }
        Target::Moderators | Target::Followers => vec![],
    }
}

/// The note to a follower that an event on something they follow was added.
/// The note that a place opened up: the person is now Going and will be reminded.
fn promoted_reply(e: &EventRow, r: &ReminderRow, now: DateTime<Utc>) -> Reply {
    let tz: Tz = e.tz.parse().unwrap_or(Tz::UTC);
    let next = parse_ts(&r.occurrence_utc).unwrap_or(now);
    let title = crate::reply::defang_mentions(&e.title);
    let mut reply = Reply::answer(format!("You're in: {title}"));
    reply.summary = Some(Text::of([
        Span::Plain(format!(
            "A place opened up and you were first on the waitlist: you are Going to {title}, next on "
        )),
        Span::Time(Moment {
            zone: Some(tz.name().to_string()),
            ..when::moment(next, tz)
        }),
        Span::Plain(". I will remind you before it. Can't make it? /rsvp with can't frees the place for the next person.".into()),
    ]));
    reply.sources = Some(format!("Event {} · /event show {}", e.id, e.id));
    reply.actions = vec![Action::Run {
        label: "Can't go".into(),
        line: format!("/rsvp {} cant", e.id),
    }];
    reply
}

fn new_event_reply(e: &EventRow, r: &ReminderRow, now: DateTime<Utc>) -> Reply {
    let tz: Tz = e.tz.parse().unwrap_or(Tz::UTC);
    let first = parse_ts(&r.occurrence_utc).unwrap_or(now);
    let title = crate::reply::defang_mentions(&e.title);
    let mut reply = Reply::answer(format!("New event: {title}"));
    reply.summary = Some(Text::of([
        Span::Plain(format!("{title} — first on ")),
        Span::Time(Moment {
            zone: Some(tz.name().to_string()),
            ..when::moment(first, tz)
        }),
        Span::Plain(format!(
            ". It is about something you follow; I will remind you {} before each occurrence.",
            describe_offset(events::FOLLOW_OFFSET_MIN)
        )),
    ]));
    reply = reply.field(
        "Where",
        e.place
            .as_deref()
            .map(crate::reply::defang_mentions)
            .unwrap_or_default(),
        false,
    );
    reply.sources = Some(format!(
        "Event {} · /event show {} · /following lists what you follow",
        e.id, e.id
    ));
    reply.actions = vec![Action::StopReminding {
        label: "Stop reminding me".into(),
        event: e.id.0,
    }];
    reply
}
