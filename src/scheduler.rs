//! Reminders: plan what each event owes, then deliver each one exactly once, on time.
//!
//! The loop claims what is due (pending → claimed, atomically, in the database) before
//! handing it to the platform's outbox with the reminder's key as idempotency handle, then
//! records the outcome. It sleeps until the next due reminder, a change to the schedule or
//! shutdown. Changes are the store's to announce (`Store::watch_changes`): at once for writes
//! in this process, within a second for another process's (`atlasbot ask`). It is started once at start-up, never from a platform's "ready" event,
//! and no single error ends it. It must not decide what to say: the message comes from
//! `reminder_reply`, the rendering from the platform.

use crate::domain::{EventId, Platform, ReminderState, SpaceId, Target};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use tokio::sync::watch;

use crate::events::{self, describe_offset, when};
use crate::reply::{Action, Moment, Reply, Span, Text};
use crate::store::events::{parse_ts, EventRow, PlanWrite, ReminderRow};
use crate::store::{Store, StoreError};

/// The rolling plan: reminders falling due within `PLAN_AHEAD` are in the database; when an
/// event's plan reaches less than `PLAN_AGAIN_WITHIN` ahead, the scheduler plans it further.
/// Every occurrence gets its reminders, however far ahead, with a bounded number of rows.
const PLAN_AHEAD: Duration = Duration::days(35);
const PLAN_AGAIN_WITHIN: Duration = Duration::days(28);
/// Most occurrences expanded, and most reminder rows written, for one event in one step; the
/// plan's mark stops where the rows stop, and the next step goes on from there.
const MAX_OCCURRENCES: u16 = 400;
const MAX_ROWS_PER_STEP: usize = 2000;
/// Events planned further in one pass of the scheduler (the rest in the next pass).
const PLAN_BATCH: i64 = 100;
/// The mark of an event that owes nothing more (a one-off in the past, a finished series).
fn planned_forever() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_214_400, 0).expect("9999-12-31 is a valid instant")
}
/// How long a claim is someone's before another process may take it over, and how often
/// the scheduler looks for claims to take over and plans to extend.
pub const LEASE: Duration = Duration::minutes(2);
const MAINTENANCE_EVERY: Duration = Duration::seconds(30);
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

pub use crate::clock::Clock;

/// What an event owes at each occurrence: the space's offsets to the space, each personal
/// subscription to its user, and a reminder to each follower of what it is about.
async fn owed(store: &Store, e: &EventRow) -> Result<Vec<(i64, Target)>, StoreError> {
    let space = store.space(&e.space).await?;
    let mut owed: Vec<(i64, Target)> = events::parse_offsets(&space.offsets)
        .unwrap_or_default()
        .into_iter()
        .map(|o| (o, Target::Space))
        .collect();
    for (user, offset) in store.subscriptions_of_event(e.id).await? {
        owed.push((offset, Target::User(user)));
    }
    // Followers are not planned one by one: one row per occurrence stands for whoever follows
    // what the event is about when it falls due (`Scheduler::expand_followers`), so that a
    // follow or an unfollow costs one row whatever the number of events it concerns.
    if is_about_something(e) {
        owed.push((events::FOLLOW_OFFSET_MIN, Target::Followers));
    }
    Ok(owed)
}

/// Whether anyone could follow what an event is about: it has topics, actors or an organiser.
fn is_about_something(e: &EventRow) -> bool {
    let some = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
    some(&e.topics) || some(&e.actors) || some(&e.organiser)
}

/// One planning step: the reminders `e` owes to `owed` falling due in [from, to), earliest
/// first, at most `MAX_ROWS_PER_STEP`; and the mark reached — `to`, or the due time of the
/// first reminder left out, or "forever" when the event owes nothing after `to`.
async fn plan_step(
    store: &Store,
    e: &EventRow,
    owed: &[(i64, Target)],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(Vec<events::Planned>, DateTime<Utc>), StoreError> {
    // A reminder due before `to` belongs to an occurrence at most the longest offset later.
    let reach = to + Duration::minutes(events::MAX_OFFSET_MIN + 1);
    let occurrences = occurrences_of(store, e, from, reach).await?;
    let mut planned: Vec<_> = events::plan(e.id, &occurrences, owed)
        .into_iter()
        .filter(|p| p.due >= from && p.due < to)
        .collect();
    planned.sort_by_key(|p| p.due);
    if planned.len() > MAX_ROWS_PER_STEP {
        let cutoff = planned[MAX_ROWS_PER_STEP].due;
        planned.retain(|p| p.due < cutoff);
        if planned.is_empty() {
            // More than the cap due at one instant: impossible within the caps (at most 505
            // targets per occurrence), and stepping past it keeps the plan moving regardless.
            return Ok((Vec::new(), cutoff + Duration::seconds(1)));
        }
        return Ok((planned, cutoff));
    }
    // Owes nothing more once no occurrence lies at or after `to`: every reminder is due no
    // later than its occurrence, so all of them fell in [from, to). (Not `reach`: a one-off
    // between `to` and `reach` still owes the reminders due after `to`.)
    let finished = !occurs_from(e, to);
    Ok((planned, if finished { planned_forever() } else { to }))
}

/// Whether the event has an occurrence at or after `t` (one-off, series with an end or
/// without): a single, bounded expansion.
fn occurs_from(e: &EventRow, t: DateTime<Utc>) -> bool {
    let (Some(start), Ok(tz)) = (e.start(), e.tz.parse::<Tz>()) else {
        return false;
    };
    !events::occurrences(start, tz, e.rrule.as_deref(), t, planned_forever(), 1).is_empty()
}

/// Plans an event afresh from `now` (after an add, an edit, a change of offsets): its
/// pending reminders are replaced by what it owes over the next `PLAN_AHEAD`. Sent reminders
/// are never planned again.
pub async fn plan_event(
    store: &Store,
    event_id: EventId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for _ in 0..PLAN_ATTEMPTS {
        let Some(e) = store.event(event_id).await? else {
            return Ok(());
        };
        let written = if e.cancelled {
            store.replan(&e, &[], planned_forever()).await?
        } else {
            let owed = owed(store, &e).await?;
            // Not from `now - grace`: a reminder that fell due before this plan was never owed
            // (the event, the subscription or the offset did not exist yet) — sending it would
            // say "sent late: the bot was offline", which is not true. Reminders owed while the
            // bot was down are rows planned earlier; the grace applies to those. Only one due
            // within the minute (starts are whole minutes) still goes out, on time.
            let (planned, mark) =
                plan_step(store, &e, &owed, now - ON_TIME_WITHIN, now + PLAN_AHEAD).await?;
            store.replan(&e, &planned, mark).await?
        };
        if written == PlanWrite::Written {
            return drop_stale_snoozes(store, &e, now).await;
        }
    }
    gave_up(event_id);
    Ok(())
}

/// A snooze outlives replans (a person asked for it), but not its occurrence: one whose
/// occurrence the event no longer has (moved, cancelled) is cancelled, never sent with a time
/// that is not true any more.
async fn drop_stale_snoozes(
    store: &Store,
    e: &EventRow,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for (key, occurrence) in store.pending_snoozes(e.id).await? {
        let stands = match parse_ts(&occurrence) {
            Some(at) if !e.cancelled => occurrences_of(store, e, at, at + Duration::seconds(1))
                .await?
                .contains(&at),
            _ => false,
        };
        if !stands {
            store
                .finish_reminder(
                    &key,
                    ReminderState::Cancelled,
                    false,
                    Some("its occurrence no longer exists"),
                    now,
                )
                .await?;
        }
    }
    Ok(())
}

/// A reminder sent within this long of its due time is on time; later, it says it is late.
const ON_TIME_WITHIN: Duration = Duration::minutes(1);

/// A plan is computed from the event as read, and written only if the event is still as
/// read (`Store::replan`); when it changed meanwhile, planning starts again from the new
/// state, a few times at most.
const PLAN_ATTEMPTS: usize = 5;

/// Changed under us every time: whoever keeps changing it plans it after each change (and
/// the scheduler's next pass plans anything left), so giving up loses nothing.
fn gave_up(event_id: EventId) {
    tracing::warn!(event = %event_id, "the event kept changing while it was planned; left to the next change or pass");
}

/// Adds one person's new subscription to an event's plan, up to the plan's current mark (the
/// scheduler plans it further with the rest): work in proportion to that one subscription,
/// not to everyone else's.
pub async fn plan_subscription(
    store: &Store,
    event_id: EventId,
    user: &str,
    offset_min: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for _ in 0..PLAN_ATTEMPTS {
        let Some(e) = store.event(event_id).await? else {
            return Ok(());
        };
        if e.cancelled {
            return Ok(());
        }
        let Some(mark) = store.plan_mark(event_id).await? else {
            // Never planned: the whole event is planned now, this subscription with it.
            return plan_event(store, event_id, now).await;
        };
        let owed = [(offset_min, Target::User(user.to_string()))];
        let to = mark.min(now + PLAN_AHEAD + PLAN_AHEAD);
        // Nothing that fell due before it was asked for: see `plan_event`.
        let (planned, _) = plan_step(store, &e, &owed, now - ON_TIME_WITHIN, to).await?;
        if store.add_planned(&e, &planned, None).await? == PlanWrite::Written {
            return Ok(());
        }
    }
    gave_up(event_id);
    Ok(())
}

/// Moves the plan of events whose plan ends within `PLAN_AGAIN_WITHIN` forward to
/// `PLAN_AHEAD` from `now`, at most `PLAN_BATCH` events per call. Returns how many.
pub async fn extend_plans(
    store: &Store,
    platform: Platform,
    now: DateTime<Utc>,
    grace: Duration,
) -> Result<usize, StoreError> {
    let due = store
        .events_to_plan(platform, now + PLAN_AGAIN_WITHIN, PLAN_BATCH)
        .await?;
    for (id, mark) in &due {
        let Some(mark) = mark else {
            plan_event(store, *id, now).await?;
            continue;
        };
        let Some(e) = store.event(*id).await? else {
            continue;
        };
        let owed = owed(store, &e).await?;
        let from = (*mark).max(now - grace);
        let (planned, new_mark) = plan_step(store, &e, &owed, from, now + PLAN_AHEAD).await?;
        // Not written if the event changed since it was read: that change planned it afresh
        // (or the next pass will).
        let _: PlanWrite = store
            .add_planned(&e, &planned, Some(new_mark.max(*mark)))
            .await?;
    }
    Ok(due.len())
}

/// Occurrences of a stored event in [from, to), without cancelled ones.
pub async fn occurrences_of(
    store: &Store,
    e: &EventRow,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, StoreError> {
    let exdates = store.exdates(e.id).await?;
    Ok(occurrences_without(e, &exdates, from, to))
}

/// Occurrences of an event in [from, to) but those in `exdates` (read already, for many
/// events at once).
pub fn occurrences_without(
    e: &EventRow,
    exdates: &[DateTime<Utc>],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    let (Some(start), Ok(tz)) = (e.start(), e.tz.parse::<Tz>()) else {
        return vec![];
    };
    events::occurrences(start, tz, e.rrule.as_deref(), from, to, MAX_OCCURRENCES)
        .into_iter()
        .filter(|o| !exdates.contains(o))
        .collect()
}

/// The message of a reminder. Titles and descriptions are user text: renderers escape them
/// and no platform message may ping anyone.
pub fn reminder_reply(e: &EventRow, r: &ReminderRow, now: DateTime<Utc>, late: bool) -> Reply {
    if r.offset_min == events::NOTE_OFFSET {
        return new_event_reply(e, r, now);
    }
    let tz: Tz = e.tz.parse().unwrap_or(Tz::UTC);
    let occurrence = parse_ts(&r.occurrence_utc).unwrap_or(now);
    let title = crate::reply::defang_mentions(&e.title);
    let mut reply = Reply::answer(format!("Reminder: {title}"));
    // On time, the offset is the truth; sent late, only the time actually left is.
    let left = if late {
        (occurrence - now).num_minutes()
    } else {
        r.offset_min
    };
    let lead = match left {
        m if m <= 0 && late && occurrence < now => "has started".to_string(),
        m if m <= 0 => "starts now".to_string(),
        m if late => format!("starts in about {}", events::describe_span(m)),
        m => format!("starts in {}", describe_offset(m)),
    };
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
    reply.summary = Some(summary);
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
    reply.actions = match &r.target {
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
    };
    reply
}

/// The note to a follower that an event on something they follow was added.
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

/// What an outbox answers if handed a followers' stand-in (`Target::Followers`), which the
/// scheduler expands instead of sending.
pub const NOT_SENT: &str = "a followers' reminder is sent to each follower, never as such";

/// One reminder ready to go out.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The reminder's key: the idempotency handle (Discord nonce, Matrix transaction id).
    pub key: String,
    pub space: SpaceId,
    pub target: Target,
    pub reply: Reply,
    /// The event and occurrence a reminder is about (None for a notice).
    pub about: Option<(EventId, DateTime<Utc>)>,
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
    events: std::collections::HashMap<EventId, Option<EventRow>>,
    /// Disabled targets by space: target → reason.
    disabled: std::collections::HashMap<SpaceId, std::collections::HashMap<Target, String>>,
    /// Sent and not yet recorded: shared with the renewal of leases, which reads it only
    /// when it renews (a copy per delivery would cost as much as the sends).
    sent: std::sync::Arc<std::sync::Mutex<Vec<(String, bool)>>>,
    /// The batch's keys in delivery order, and those proven still ours by the last fence
    /// (`Scheduler::still_ours`), with when it was made.
    keys: Vec<String>,
    fenced: std::collections::HashSet<String>,
    fenced_at: Option<std::time::Instant>,
}

/// Claims proven ours by one fence statement: the next ones of the batch (a claim takes 500).
const FENCE_CHUNK: usize = 500;
/// Sent reminders recorded together at most this many at a time (and at least every quarter
/// lease): what a crash could make go out again stays bounded; until then their leases are
/// renewed with the one in flight.
const RECORD_EVERY: usize = 500;
/// The longest one delivery may take (retries and a fan-out included) before it counts as
/// failed and is tried again later: one hung send cannot hold its batch forever.
const DELIVERY_TIMEOUT: StdDuration = StdDuration::from_secs(15 * 60);

/// Who holds a claim: this process, as "host/pid/start", so that another process on the same
/// host can tell a dead owner from a live one (its pid gone, or reused by a process that
/// started at another time) and take its claims over at once instead of waiting out the
/// lease. Owners on other hosts are judged by their lease alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner(String);

impl Owner {
    pub fn this_process() -> Owner {
        Owner::of(std::process::id())
    }

    /// The owner name of process `pid` of this host (whether or not it runs).
    pub fn of(pid: u32) -> Owner {
        Owner(format!(
            "{}/{pid}/{}",
            host_name(),
            process_start(pid).unwrap_or(0)
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `owner` is known to be dead: a process of this host that is no longer there.
    pub fn is_dead(owner: &str) -> bool {
        let mut parts = owner.rsplitn(3, '/');
        let (Some(start), Some(pid), Some(host)) = (parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        let (Ok(start), Ok(pid)) = (start.parse::<u64>(), pid.parse::<u32>()) else {
            return false;
        };
        if host != host_name() {
            return false;
        }
        match process_start(pid) {
            // No such process: its owner is gone.
            None => true,
            // A process with that pid, started at another time: the pid was reused. (Start 0:
            // unknown when the claim was made; then a running pid counts as the owner.)
            Some(now_start) => start != 0 && now_start != start,
        }
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".into())
}

/// When a process started (clock ticks since boot, field 22 of /proc/PID/stat); None when
/// there is no such process (or no /proc).
fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain spaces: skip past it.
    let rest = stat.rsplit_once(')')?.1;
    rest.split_whitespace().nth(19)?.parse().ok()
}

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
    /// Whether this process's clock was last found to disagree with the lease clock (so that
    /// it is said once when it starts and once when it ends, not on every pass).
    skewed: std::sync::atomic::AtomicBool,
}

/// The most this process's clock may disagree with the clock leases are measured by before it
/// stops claiming: a clock ahead would send reminders early and take live claims over, one
/// behind would send them late.
fn max_skew(lease: Duration) -> Duration {
    (lease / 4).clamp(Duration::seconds(1), Duration::seconds(30))
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
            skewed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// How often to look for claims to take over and plans to extend: at least twice per
    /// lease, so that a dead process's reminders wait at most about one and a half leases.
    fn maintenance_every(&self) -> Duration {
        MAINTENANCE_EVERY.min(self.lease / 2)
    }

    /// How often a delivery in progress renews this process's leases: four times per lease,
    /// so that a slow send (retries, a long DM fan-out) never lets its claim run out.
    fn renew_every(&self) -> StdDuration {
        (self.lease / 4)
            .to_std()
            .unwrap_or(StdDuration::from_secs(1))
            .max(StdDuration::from_millis(50))
    }

    /// The lease clock's "now", or None — and said loudly, once — when this process's clock
    /// disagrees with it by more than `max_skew`: then it claims nothing.
    async fn lease_now_if_in_step(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let lease_now = self.store.lease_now().await?;
        let skew = self.clock.now() - lease_now;
        let off = skew.abs() > max_skew(self.lease);
        let was = self.skewed.swap(off, std::sync::atomic::Ordering::Relaxed);
        if off && !was {
            tracing::error!(
                skew_ms = skew.num_milliseconds(),
                "this host's clock disagrees with the database's by more than {} s: claiming no reminders until it is set right (a clock ahead would send them early and take other processes' claims over)",
                max_skew(self.lease).num_seconds()
            );
        } else if !off && was {
            tracing::warn!(
                "this host's clock agrees with the database's again: claiming reminders"
            );
        }
        Ok((!off).then_some(lease_now))
    }

    /// Sends what is due now; returns how many reminders were delivered.
    pub async fn tick(&self, outbox: &dyn Outbox) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let mut delivered = 0;
        loop {
            let Some(lease_now) = self.lease_now_if_in_step().await? else {
                return Ok(delivered);
            };
            let batch = self
                .store
                .claim_due(
                    now,
                    500,
                    self.platform,
                    self.owner.as_str(),
                    lease_now + self.lease,
                )
                .await?;
            if batch.is_empty() {
                break;
            }
            delivered += self.deliver_batch(outbox, batch, now).await?;
        }
        Ok(delivered)
    }

    /// Delivers claimed reminders, renewing the leases while a delivery takes long, and
    /// records the sent ones together at the end.
    async fn deliver_batch(
        &self,
        outbox: &dyn Outbox,
        batch: Vec<ReminderRow>,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let started = std::time::Instant::now();
        let mut cache = TickCache {
            keys: batch.iter().map(|r| r.key.clone()).collect(),
            ..TickCache::default()
        };
        let mut delivered = 0;
        // One renewal clock for the whole batch: a batch of quick sends that outlasts the lease
        // keeps renewing, as one slow send does.
        let mut renewed = std::time::Instant::now();
        let mut flushed = std::time::Instant::now();
        for r in batch {
            // What must stay ours while this one goes out: it, and those sent but not recorded.
            let in_flight = r.key.clone();
            let sent = cache.sent.clone();
            let delivery = self.deliver(outbox, r, now, &mut cache);
            if self
                .renewing(delivery, &in_flight, &sent, &mut renewed)
                .await?
            {
                delivered += 1;
            }
            let unrecorded = cache.sent.lock().unwrap_or_else(|e| e.into_inner()).len();
            if unrecorded >= RECORD_EVERY || flushed.elapsed() >= self.renew_every() {
                self.record_sent(&mut cache).await?;
                flushed = std::time::Instant::now();
            }
        }
        self.record_sent(&mut cache).await?;
        tracing::debug!(
            delivered,
            took_us = started.elapsed().as_micros() as u64,
            "batch"
        );
        Ok(delivered)
    }

    /// Records the reminders sent so far as sent, in one statement.
    async fn record_sent(&self, cache: &mut TickCache) -> Result<(), StoreError> {
        let sent: Vec<(String, bool)> =
            std::mem::take(&mut *cache.sent.lock().unwrap_or_else(|e| e.into_inner()));
        if sent.is_empty() {
            return Ok(());
        }
        self.store.finish_sent(&sent, self.clock.now()).await
    }

    /// Runs `work` (a delivery), renewing the leases of `held` whenever the batch's renewal
    /// clock says so: a send that outlasts the lease (retries, `retry_after`, a long
    /// fan-out), or a long run of quick ones, keeps its claims, so no other process takes them
    /// over and sends them too. Claims not started yet are not renewed: if this batch hangs,
    /// another process may take them over (the fence then keeps this one from sending them).
    async fn renewing<T>(
        &self,
        work: impl Future<Output = Result<T, StoreError>>,
        in_flight: &str,
        sent: &std::sync::Mutex<Vec<(String, bool)>>,
        renewed: &mut std::time::Instant,
    ) -> Result<T, StoreError> {
        tokio::pin!(work);
        loop {
            let due = tokio::time::Instant::from_std(*renewed + self.renew_every());
            tokio::select! {
                done = &mut work => return done,
                _ = tokio::time::sleep_until(due) => {
                    let mut held: Vec<String> = sent
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .iter()
                        .map(|(k, _)| k.clone())
                        .collect();
                    held.push(in_flight.to_string());
                    self.renew(&held).await;
                    *renewed = std::time::Instant::now();
                }
            }
        }
    }

    async fn renew(&self, held: &[String]) {
        let renewed = match self.store.lease_now().await {
            Ok(t) => {
                self.store
                    .fence_many(held, self.owner.as_str(), t + self.lease)
                    .await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = renewed {
            // The fence before each send still keeps a lost claim from going out twice.
            tracing::warn!(error = %e, "could not renew the leases of a delivery in progress");
        }
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
        cache: &mut TickCache,
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

    /// Whether the claim of `key` is still this process's, right before it is sent. One fence
    /// statement proves it for the next `FENCE_CHUNK` claims of the batch and extends their
    /// leases by a whole lease; that proof is used only for sends that start within a quarter
    /// of a lease of it (by this process's monotonic clock, which runs on while it is stopped
    /// or stalled), so no other process can have taken a claim over before its send starts —
    /// it may only once the lease the fence gave has run out. Past that, a new fence.
    async fn still_ours(&self, key: &str, cache: &mut TickCache) -> Result<bool, StoreError> {
        let valid_for = (self.lease / 4).to_std().unwrap_or_default();
        let fresh = cache.fenced_at.is_some_and(|t| t.elapsed() < valid_for);
        if !(fresh && cache.fenced.contains(key)) {
            let from = cache.keys.iter().position(|k| k == key).unwrap_or(0);
            let mut chunk: Vec<String> = cache.keys[from..]
                .iter()
                .take(FENCE_CHUNK)
                .cloned()
                .collect();
            if chunk.first().map(String::as_str) != Some(key) {
                chunk.insert(0, key.to_string());
            }
            let lease_until = self.store.lease_now().await? + self.lease;
            let proven = self
                .store
                .fence_many(&chunk, self.owner.as_str(), lease_until)
                .await?;
            cache.fenced = proven.into_iter().collect();
            cache.fenced_at = Some(std::time::Instant::now());
        }
        Ok(cache.fenced.remove(key))
    }

    /// The event a claimed reminder is about, or None when it owes nothing any more (the
    /// event deleted or cancelled, its target disabled) — recorded as such.
    async fn event_to_remind(
        &self,
        r: &ReminderRow,
        now: DateTime<Utc>,
        cache: &mut TickCache,
    ) -> Result<Option<EventRow>, StoreError> {
        if let std::collections::hash_map::Entry::Vacant(slot) = cache.events.entry(r.event_id) {
            slot.insert(self.store.event(r.event_id).await?);
        }
        let Some(event) = cache.events[&r.event_id].clone() else {
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
        if let std::collections::hash_map::Entry::Vacant(slot) =
            cache.disabled.entry(r.space.clone())
        {
            slot.insert(self.store.disabled_targets(&r.space).await?);
        }
        if let Some(reason) = cache.disabled[&r.space].get(&r.target).cloned() {
            let why = format!("target disabled: {reason}");
            self.finish(r, ReminderState::Failed, false, Some(&why), now)
                .await?;
            return Ok(None);
        }
        Ok(Some(event))
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
        cache: &mut TickCache,
    ) -> Result<bool, StoreError> {
        match outcome {
            // Recorded with the rest of the batch, in one transaction: a crash before that
            // re-sends these under the same keys, which the platforms deduplicate.
            Ok(()) => {
                cache
                    .sent
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((r.key.clone(), late));
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
                    .disabled
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

    /// Takes over claims nobody is delivering any more (a process that crashed, or stalled
    /// past its lease) and sends them again with the same key. Claims of live processes are
    /// left alone: several processes started side by side never send the same reminder twice.
    pub async fn recover(&self, outbox: &dyn Outbox) -> Result<usize, StoreError> {
        let now = self.clock.now();
        // Whether a lease has run out is judged by the lease clock, never this host's.
        let Some(lease_now) = self.lease_now_if_in_step().await? else {
            return Ok(0);
        };
        // A process of this host known to be gone loses its claims at once — unless the store
        // is shared by several hosts, where a host name and pid do not name one process (two
        // containers may both be "bot", pid 1): there, claims change hands only when their
        // lease has run out.
        let dead: Vec<String> = if self.store.shared_by_hosts() {
            Vec::new()
        } else {
            self.store
                .claim_owners(self.platform)
                .await?
                .into_iter()
                .filter(|o| o != self.owner.as_str() && Owner::is_dead(o))
                .collect()
        };
        let orphans = self
            .store
            .reclaim(
                self.platform,
                self.owner.as_str(),
                lease_now,
                lease_now + self.lease,
                &dead,
            )
            .await?;
        if orphans.is_empty() {
            return Ok(0);
        }
        tracing::info!(
            n = orphans.len(),
            "taking over reminders of a stopped process"
        );
        self.deliver_batch(outbox, orphans, now).await
    }

    /// The periodic part of the loop: take over orphaned claims, plan events further.
    pub async fn maintain(&self, outbox: &dyn Outbox) {
        if let Err(e) = self.recover(outbox).await {
            tracing::error!(error = %e, "could not recover claimed reminders");
        }
        loop {
            match extend_plans(&self.store, self.platform, self.clock.now(), self.grace).await {
                Ok(n) if n as i64 == PLAN_BATCH => continue,
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
