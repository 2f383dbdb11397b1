//! /remind me <event> [before]: a personal reminder before each occurrence of an event.

use super::invocation::Args;
use super::shorten;
use super::{Caller, Context};
use crate::domain::EventId;
use crate::error::CommandError;
use crate::events::{describe_offset, parse_offsets};
use crate::reply::{Reply, Text, Visibility};
use crate::scheduler::plan_subscription;

#[derive(Debug, Clone)]
pub struct Params {
    pub event: String,
    pub before: Option<String>,
}

pub fn parse(args: &Args) -> Result<Params, CommandError> {
    Ok(Params {
        event: args.get("event").unwrap_or_default().to_string(),
        before: args.get("before").map(String::from),
    })
}

/// Caps on personal reminders, so that no one person (or crowd) can make one event owe an
/// unbounded number of reminder rows.
pub const MAX_PER_PERSON_AND_EVENT: i64 = 5;
pub const MAX_PER_EVENT: i64 = 500;
pub const MAX_PER_PERSON_IN_SPACE: i64 = 100;

pub async fn run(ctx: &Context, caller: &Caller, p: Params) -> Result<Reply, CommandError> {
    let offsets = match &p.before {
        Some(b) => {
            parse_offsets(b).map_err(|e| CommandError::usage(e, "/remind me 3 before:30m"))?
        }
        None => vec![60],
    };
    let Some(e) = super::event::find(ctx, &caller.space, &p.event).await? else {
        let mut r = Reply::not_found(format!(
            "No event “{}” in this space.",
            shorten(&p.event, 60)
        ));
        r.suggestions.push("/events".into());
        r.visibility = Visibility::Private;
        return Ok(r);
    };
    check_caps(ctx, caller, e.id, offsets.len()).await?;
    let now = ctx.clock.now();
    let mut ids = Vec::new();
    for &offset in &offsets {
        ids.push(
            ctx.store
                .subscribe(e.id, &caller.space, &caller.user, offset, now)
                .await?,
        );
        plan_subscription(&ctx.store, e.id, &caller.user, offset, now, ctx.grace).await?;
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

/// "1 day", "1 day and 1 hour", "1 day, 1 hour and 15 minutes".
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Refuses, with the reason, subscriptions beyond the caps.
async fn check_caps(
    ctx: &Context,
    caller: &Caller,
    event: EventId,
    adding: usize,
) -> Result<(), CommandError> {
    let counts = ctx
        .store
        .subscription_counts(event, &caller.space, &caller.user)
        .await?;
    let adding = adding as i64;
    if counts.mine_on_event + adding > MAX_PER_PERSON_AND_EVENT {
        return Err(CommandError::Refused(format!(
            "You can have at most {MAX_PER_PERSON_AND_EVENT} reminders for one event (you have {}). /reminders lists them; /reminders cancel N removes one.",
            counts.mine_on_event
        )));
    }
    if counts.mine_in_space + adding > MAX_PER_PERSON_IN_SPACE {
        return Err(CommandError::Refused(format!(
            "You can have at most {MAX_PER_PERSON_IN_SPACE} personal reminders in this space. /reminders lists them."
        )));
    }
    if counts.all_on_event + adding > MAX_PER_EVENT {
        return Err(CommandError::Refused(format!(
            "This event already has {MAX_PER_EVENT} personal reminders, the most it can have. The space's own reminder still comes before each occurrence."
        )));
    }
    Ok(())
}
