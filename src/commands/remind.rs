//! /remind me <event> [before]: a personal reminder before each occurrence of an event;
//! /remind stop <event>: none any more. Also the Snooze buttons of a personal reminder.

use super::invocation::Args;
use super::shorten;
use super::{Caller, Context};
use crate::domain::{EventId, Target};
use crate::error::CommandError;
use crate::events::{describe_offset, parse_offsets};
use crate::reply::{Reply, Text, Visibility};
use crate::scheduler::plan_subscription;
use crate::store::events::SubscriptionCounts;
use crate::store::subscriptions::{Cap, Caps, Subscribed};

#[derive(Debug, Clone)]
pub enum Params {
    Me {
        event: String,
        before: Option<String>,
    },
    Stop {
        event: String,
    },
}

pub fn parse(args: &Args) -> Result<Params, CommandError> {
    let event = args.get("event").unwrap_or_default().to_string();
    Ok(match args.subcommand.as_deref() {
        Some("stop") => Params::Stop { event },
        _ => Params::Me {
            event,
            before: args.get("before").map(String::from),
        },
    })
}

/// Caps on personal reminders, so that no one person (or crowd) can make one event owe an
/// unbounded number of reminder rows.
pub const MAX_PER_PERSON_AND_EVENT: i64 = 5;
pub const MAX_PER_EVENT: i64 = 500;
pub const MAX_PER_PERSON_IN_SPACE: i64 = 100;
/// Snoozed reminders one person may have waiting in a space at once.
pub const MAX_SNOOZES_PER_PERSON: i64 = 20;

pub async fn run(ctx: &Context, caller: &Caller, p: Params) -> Result<Reply, CommandError> {
    match p {
        Params::Me { event, before } => me(ctx, caller, &event, before.as_deref()).await,
        Params::Stop { event } => stop(ctx, caller, &event).await,
    }
}

fn no_such_event(words: &str) -> Reply {
    let mut r = Reply::not_found(format!("No event “{}” in this space.", shorten(words, 60)));
    r.suggestions.push("/events".into());
    r.visibility = Visibility::Private;
    r
}

async fn me(
    ctx: &Context,
    caller: &Caller,
    event: &str,
    before: Option<&str>,
) -> Result<Reply, CommandError> {
    let offsets = match before {
        Some(b) => {
            parse_offsets(b).map_err(|e| CommandError::usage(e, "/remind me 3 before:30m"))?
        }
        None => vec![60],
    };
    let Some(e) = super::event::find(ctx, &caller.space, event).await? else {
        return Ok(no_such_event(event));
    };
    let now = ctx.clock.now();
    let caps = Caps {
        per_person_and_event: MAX_PER_PERSON_AND_EVENT,
        per_person_in_space: MAX_PER_PERSON_IN_SPACE,
        per_event: MAX_PER_EVENT,
    };
    // The caps are checked and the rows written in one transaction: however many people ask
    // at once, no cap is passed.
    let ids = match ctx
        .store
        .subscribe_within(e.id, &caller.space, &caller.user, &offsets, caps, now)
        .await?
    {
        Subscribed::Added(ids) => ids,
        Subscribed::TooMany(cap, counts) => return Err(refusal(cap, &counts)),
    };
    // Asking again is the person's word that they can be reached again (DMs reopened): a
    // target disabled after a refused direct message is enabled.
    ctx.store
        .enable_target(&caller.space, &Target::User(caller.user.clone()))
        .await?;
    for &offset in &offsets {
        plan_subscription(&ctx.store, e.id, &caller.user, offset, now).await?;
    }
    let mut r = Reply::answer(format!(
        "I will remind you: {}",
        crate::reply::defang_mentions(&e.title)
    ));
    let when: Vec<String> = offsets.iter().map(|o| describe_offset(*o)).collect();
    let numbers: Vec<String> = ids.iter().map(|id| format!("#{id}")).collect();
    r.summary = Some(Text::plain(format!(
        "{} before each occurrence, just to you. Reminder {}; /reminders lists yours.",
        join_and(&when),
        numbers.join(", ")
    )));
    r.visibility = Visibility::Private;
    Ok(r)
}

async fn stop(ctx: &Context, caller: &Caller, event: &str) -> Result<Reply, CommandError> {
    let Some(e) = super::event::find(ctx, &caller.space, event).await? else {
        return Ok(no_such_event(event));
    };
    stop_for(ctx, caller, e.id).await
}

/// A button that names something the clicker has no business with (a forged custom id, an
/// event of another space): answered without naming it.
fn stale_button() -> Reply {
    let mut r = Reply::not_found("That button no longer works here.");
    r.suggestions.push("/reminders".into());
    r.visibility = Visibility::Private;
    r
}

/// Removes the caller's personal reminders for an event (only theirs). A button may ask for
/// it from the event's space or from a direct message the bot sent about the event; checked
/// at press time, so that a forged id cannot reveal another space's event.
pub async fn stop_for(
    ctx: &Context,
    caller: &Caller,
    event: EventId,
) -> Result<Reply, CommandError> {
    let Some(e) = ctx.store.event(event).await? else {
        return Ok(stale_button());
    };
    let user = caller.user.as_str();
    if e.space != caller.space
        && !ctx
            .store
            .was_reminded(e.id, &Target::User(user.to_string()))
            .await?
    {
        return Ok(stale_button());
    }
    let removed = ctx
        .store
        .unsubscribe_all(e.id, &e.space, user, ctx.clock.now())
        .await?;
    // Reminders that come because the person follows what the event is about stop too.
    let muted = ctx.store.mute_follow(e.id, user).await?;
    if muted {
        crate::scheduler::plan_event(&ctx.store, e.id, ctx.clock.now()).await?;
    }
    let title = crate::reply::defang_mentions(&e.title);
    let mut r = if muted && removed == 0 {
        let mut r = Reply::answer(format!("No more reminders: {title}"));
        r.summary = Some(Text::plain(
            "You follow something this event is about; you will not be reminded of this one. Other events you follow still remind you (/following).",
        ));
        r
    } else if removed == 0 {
        Reply::not_found(format!(
            "You had no personal reminder for {title}. The space's own reminders still come."
        ))
    } else {
        let mut r = Reply::answer(format!("No more reminders: {title}"));
        r.summary = Some(Text::plain(format!(
            "Your {removed} personal reminder{} for it {} gone. The space's own reminders still come.",
            if removed == 1 { "" } else { "s" },
            if removed == 1 { "is" } else { "are" },
        )));
        r
    };
    r.visibility = Visibility::Private;
    Ok(r)
}

/// Snooze lengths a button may ask for, in minutes (bounded: a custom id is only as
/// trustworthy as the message it came on).
pub const SNOOZE_MINUTES: std::ops::RangeInclusive<i64> = 1..=1440;

/// A personal reminder sent again `minutes` from now — only for the person it was for, and
/// once however often the button is clicked within the same minute.
pub async fn snooze(
    ctx: &Context,
    caller: &Caller,
    key: &str,
    minutes: i64,
) -> Result<Reply, CommandError> {
    let private = |mut r: Reply| {
        r.visibility = Visibility::Private;
        r
    };
    let reminder = ctx.store.reminder_by_key(key).await?;
    let Some(r) = reminder.filter(|r| {
        r.target == Target::User(caller.user.clone()) && r.space.shares_users_with(&caller.space)
    }) else {
        return Ok(private(Reply::not_found(
            "That reminder is not yours to snooze (or no longer exists).",
        )));
    };
    if !SNOOZE_MINUTES.contains(&minutes) {
        return Err(CommandError::usage(
            "A snooze lasts from 1 minute to 1 day.",
            "Snooze 15 min",
        ));
    }
    // Snoozes are reminders too: bounded per person, like the ones asked for.
    if ctx.store.pending_snoozes_of(&r.space, &r.target).await? >= MAX_SNOOZES_PER_PERSON {
        return Err(CommandError::Refused(format!(
            "You have {MAX_SNOOZES_PER_PERSON} snoozed reminders waiting already; let one come first."
        )));
    }
    let again = snoozed(key, &r, ctx.clock.now(), minutes);
    let added = add_to_plan(ctx, &again).await?;
    Ok(private(snooze_answer(added, minutes)))
}

/// The reminder `r` once more, `minutes` from now: same occurrence, its own key (one per
/// minute, so clicks within the same minute snooze once).
fn snoozed(
    key: &str,
    r: &crate::store::events::ReminderRow,
    now: chrono::DateTime<chrono::Utc>,
    minutes: i64,
) -> crate::events::Planned {
    let due = now + chrono::Duration::minutes(minutes);
    let occurrence = crate::store::events::parse_ts(&r.occurrence_utc).unwrap_or(now);
    crate::events::Planned {
        key: format!(
            "{key}{}{}",
            crate::events::SNOOZE_MARK,
            due.timestamp() / 60
        ),
        event_id: r.event_id,
        occurrence,
        offset_min: (occurrence - due).num_minutes(),
        target: r.target.clone(),
        due,
    }
}

/// What to tell the person, as the event's plan took the snooze.
fn snooze_answer(added: Added, minutes: i64) -> Reply {
    match added {
        Added::Yes => {}
        Added::Cancelled => {
            return Reply::not_found("That event was cancelled: there is nothing to remind you of.")
        }
        Added::Moved(e) => {
            let mut r = Reply::not_found(format!(
                "That occurrence of {} was moved or cancelled, so I will not remind you of the old time.",
                crate::reply::defang_mentions(&e.title)
            ));
            r.suggestions.push(format!("/event show {}", e.id));
            return r;
        }
    }
    let mut reply = Reply::answer("Snoozed");
    reply.summary = Some(Text::plain(format!(
        "I will remind you again in {}.",
        describe_offset(minutes)
    )));
    reply
}

/// What came of adding a snooze to its event's plan.
enum Added {
    Yes,
    /// The event is gone or cancelled.
    Cancelled,
    /// The event no longer has the occurrence the snooze is about (moved, or that one
    /// cancelled): a reminder would give a time that is not true.
    Moved(Box<crate::store::events::EventRow>),
}

/// Adds one reminder to its event's plan if its occurrence still stands, as read now — the
/// write only happens if the event is still as read (`add_planned`), so an edit in between is
/// seen on the next try.
async fn add_to_plan(
    ctx: &Context,
    planned: &crate::events::Planned,
) -> Result<Added, CommandError> {
    for _ in 0..5 {
        let Some(e) = ctx.store.event(planned.event_id).await? else {
            return Ok(Added::Cancelled);
        };
        if e.cancelled {
            return Ok(Added::Cancelled);
        }
        let at = planned.occurrence;
        let occurs =
            crate::scheduler::occurrences_of(&ctx.store, &e, at, at + chrono::Duration::seconds(1))
                .await?
                .contains(&at);
        if !occurs {
            return Ok(Added::Moved(Box::new(e)));
        }
        let written = ctx
            .store
            .add_planned(&e, std::slice::from_ref(planned), None)
            .await?;
        if written == crate::store::events::PlanWrite::Written {
            return Ok(Added::Yes);
        }
    }
    Err(CommandError::Refused(
        "That event is being changed right now; try the button again in a moment.".into(),
    ))
}

/// "1 day", "1 day and 1 hour", "1 day, 1 hour and 15 minutes".
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// What to say when a subscription would pass a cap.
fn refusal(cap: Cap, counts: &SubscriptionCounts) -> CommandError {
    CommandError::Refused(match cap {
        Cap::PersonAndEvent => format!(
            "You can have at most {MAX_PER_PERSON_AND_EVENT} reminders for one event (you have {}). /reminders lists them; /reminders cancel N removes one.",
            counts.mine_on_event
        ),
        Cap::PersonInSpace => format!(
            "You can have at most {MAX_PER_PERSON_IN_SPACE} personal reminders in this space. /reminders lists them."
        ),
        Cap::Event => format!(
            "This event already has {MAX_PER_EVENT} personal reminders, the most it can have. The space's own reminder still comes before each occurrence."
        ),
    })
}
