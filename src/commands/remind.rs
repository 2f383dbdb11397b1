//! /remind me <event> [before]: a personal reminder before each occurrence of an event.

use super::actor::shorten;
use super::invocation::Args;
use super::{Caller, Context};
use crate::error::CommandError;
use crate::events::{describe_offset, parse_offsets};
use crate::reply::{Reply, Text, Visibility};
use crate::scheduler::plan_event;

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

pub async fn run(ctx: &Context, caller: &Caller, p: Params) -> Result<Reply, CommandError> {
    let offset = match &p.before {
        Some(b) => *parse_offsets(b)
            .map_err(|e| CommandError::usage(e, "/remind me 3 before:30m"))?
            .first()
            .unwrap_or(&60),
        None => 60,
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
    let id = ctx
        .store
        .subscribe(e.id, &caller.space, &caller.user, offset, ctx.clock.now())
        .await?;
    plan_event(&ctx.store, e.id, ctx.clock.now(), ctx.grace).await?;
    ctx.wake.notify_one();
    let mut r = Reply::answer(format!(
        "I will remind you: {}",
        crate::reply::defang_mentions(&e.title)
    ));
    r.summary = Some(Text::plain(format!(
        "{} before each occurrence, just to you. Reminder #{id}; /reminders lists yours.",
        describe_offset(offset)
    )));
    r.visibility = Visibility::Private;
    Ok(r)
}
