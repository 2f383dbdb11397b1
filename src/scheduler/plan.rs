//! Planning: what reminders each event owes — the space's offsets, each personal
//! subscription, its followers — written ahead on a rolling horizon, a bounded number of rows
//! per step. It never sends anything: due rows are `claim`'s to take.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::ON_TIME_WITHIN;
use crate::domain::{EventId, Platform, ReminderState, Target};
use crate::events;
use crate::store::events::{parse_ts, EventRow, PlanWrite};
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
pub(super) const PLAN_BATCH: i64 = 100;
/// The mark of an event that owes nothing more (a one-off in the past, a finished series).
fn planned_forever() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_214_400, 0).expect("9999-12-31 is a valid instant")
}

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

/// The end of "every occurrence from now": a series is expanded a bounded number of
/// occurrences at most (`occurrences_without`), so no horizon needs to cut it — an event two
/// years ahead still has a next occurrence, and its occurrences can be cancelled.
pub fn all_ahead(now: DateTime<Utc>) -> DateTime<Utc> {
    now + Duration::days(100 * 366)
}

/// A stored event's next occurrence from `now`, however far ahead (None: it is over).
pub async fn next_occurrence(
    store: &Store,
    e: &EventRow,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(occurrences_of(store, e, now, all_ahead(now))
        .await?
        .into_iter()
        .next())
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
