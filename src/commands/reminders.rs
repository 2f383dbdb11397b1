//! /reminders [list|cancel <id>]: personal reminders (moderators see the whole space's).

use super::invocation::Args;
use super::{Caller, Context};
use crate::error::CommandError;
use crate::events::describe_offset;
use crate::reply::{Item, Reply, Text, Visibility};

#[derive(Debug, Clone)]
pub struct Params {
    pub cancel: Option<i64>,
}

pub fn parse(args: &Args) -> Result<Params, CommandError> {
    Ok(Params {
        cancel: if args.subcommand.as_deref() == Some("cancel") {
            args.integer("id")
        } else {
            None
        },
    })
}

pub async fn run(ctx: &Context, caller: &Caller, p: Params) -> Result<Reply, CommandError> {
    if let Some(id) = p.cancel {
        let removed = ctx
            .store
            .unsubscribe(id, &caller.user, caller.moderator, ctx.clock.now())
            .await?;
        let mut r = if removed {
            let mut r = Reply::answer("Reminder removed");
            r.summary = Some(Text::plain(format!(
                "Reminder #{id} is gone; nothing more will be sent for it."
            )));
            r
        } else {
            Reply::not_found(format!(
                "You have no reminder #{id}. /reminders lists yours."
            ))
        };
        r.visibility = Visibility::Private;
        return Ok(r);
    }
    let user = if caller.moderator {
        None
    } else {
        Some(caller.user.as_str())
    };
    let subs = ctx.store.subscriptions(&caller.space, user).await?;
    let mut r = Reply::answer(if caller.moderator {
        "Reminders in this space"
    } else {
        "Your reminders"
    });
    r.visibility = Visibility::Private;
    if subs.is_empty() {
        r.summary = Some(Text::plain("None yet. /remind me <event> sets one."));
        return Ok(r);
    }
    let items = subs
        .iter()
        .map(|s| {
            let who = if caller.moderator {
                format!(" · {}", s.user_id)
            } else {
                String::new()
            };
            Item::labelled(
                format!("#{}", s.id),
                format!(
                    "{} — {} before{who}",
                    crate::reply::defang_mentions(&s.title),
                    describe_offset(s.offset_min)
                ),
            )
            .more(format!("/reminders cancel {}", s.id))
        })
        .collect();
    Ok(r.section("Reminders", items))
}
