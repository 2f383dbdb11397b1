//! /rsvp <event> going|maybe|cant: whether the person is coming. Going is reminded (the person
//! is subscribed as `/remind me` does) unless the event is full — then the waitlist; a place
//! given up goes to the first person waiting, who is subscribed and told once (a note through
//! the reminder ledger). The buttons of a Discord card and the reactions of a Matrix card run
//! this command as the person who clicks.

use chrono::{DateTime, Utc};

use crate::commands::invocation::Args;
use crate::commands::{shorten, Caller, Context};
use crate::error::CommandError;
use crate::reply::{Reply, Text, Visibility};
use crate::store::events::EventRow;
use crate::store::rsvps::{Answer, Standing};

const EXAMPLE: &str = "/rsvp 3 going";

#[derive(Debug, Clone)]
pub struct Params {
    pub event: String,
    pub answer: Answer,
}

/// The event and the answer; "/rsvp study session maybe" reads the last word as the answer
/// when the words were bound the other way.
pub fn parse(args: &Args) -> Result<Params, CommandError> {
    let event = args.get("event").unwrap_or_default().trim().to_string();
    let given = args.get("answer").unwrap_or_default().trim().to_string();
    if let Some(answer) = Answer::parse(&given) {
        return Ok(Params { event, answer });
    }
    let all = format!("{event} {given}");
    let (words, last) = all.trim().rsplit_once(' ').unwrap_or(("", all.trim()));
    match Answer::parse(last) {
        Some(answer) if !words.trim().is_empty() => Ok(Params {
            event: words.trim().to_string(),
            answer,
        }),
        _ => Err(CommandError::usage(
            format!(
                "Answer going, maybe or cant, not “{}”.",
                shorten(&given, 40)
            ),
            EXAMPLE,
        )),
    }
}

pub async fn run(ctx: &Context, caller: &Caller, p: Params) -> Result<Reply, CommandError> {
    let Some(e) = super::find(ctx, &caller.space, &p.event).await? else {
        let mut r = Reply::not_found(format!(
            "No event “{}” in this space.",
            shorten(&p.event, 60)
        ));
        r.suggestions.push("/events".into());
        r.visibility = Visibility::Private;
        return Ok(r);
    };
    let now = ctx.clock.now();
    // A place on something that is over would be taken from nobody and count for nothing.
    if crate::commands::follow::next_occurrence(ctx, &e, now)
        .await?
        .is_none()
    {
        return Err(CommandError::Refused(format!(
            "{} has no occurrence ahead; there is nothing to answer for.",
            crate::reply::defang_mentions(&e.title)
        )));
    }
    let answered = ctx
        .store
        .set_rsvp(e.id, &caller.space, &caller.user, p.answer, now)
        .await?;
    let not_reminded = follow_reminders(ctx, caller, &e, answered.standing).await?;
    let_in(ctx, &e, &answered.promoted, now).await?;
    let mut r = confirmation(&e, answered.standing);
    if let Some(why) = not_reminded {
        r.summary = Some(Text::plain(format!(
            "You are counted as going, but I cannot remind you of it: {why}"
        )));
    }
    Ok(r)
}

/// Going is reminded; Can't is not (its reminders for the event go); Maybe and the waitlist
/// leave what the person asked for themselves. A Going person the reminder caps refuse is still
/// Going: the refusal is returned to be said, never the answer's failure.
async fn follow_reminders(
    ctx: &Context,
    caller: &Caller,
    e: &EventRow,
    standing: Standing,
) -> Result<Option<String>, CommandError> {
    match standing {
        Standing::Going => remind(ctx, caller, e).await,
        Standing::Cant => {
            crate::commands::remind::stop_for(ctx, caller, e.id).await?;
            Ok(None)
        }
        Standing::Maybe | Standing::Waiting(_) => Ok(None),
    }
}

/// Subscribes `caller` to `e` as `/remind me` does: None when done, else why not (a cap).
async fn remind(
    ctx: &Context,
    caller: &Caller,
    e: &EventRow,
) -> Result<Option<String>, CommandError> {
    let me = crate::commands::remind::Params::Me {
        event: e.id.to_string(),
        before: None,
    };
    match crate::commands::remind::run(ctx, caller, me).await {
        Ok(_) => Ok(None),
        Err(CommandError::Refused(why)) => Ok(Some(why)),
        Err(CommandError::Usage { message, .. }) => Ok(Some(message.to_plain())),
        Err(other) => Err(other),
    }
}

/// The people let in from the waitlist: subscribed, and told once.
pub(crate) async fn let_in(
    ctx: &Context,
    e: &EventRow,
    promoted: &[String],
    now: DateTime<Utc>,
) -> Result<(), CommandError> {
    if promoted.is_empty() {
        return Ok(());
    }
    let next = crate::commands::follow::next_occurrence(ctx, e, now).await?;
    let mut notes = Vec::new();
    for user in promoted {
        let them = Caller {
            platform: e.space.platform(),
            space: e.space.clone(),
            user: user.clone(),
            moderator: false,
            channel: None,
        };
        // Let in whatever the reminder caps say: the note tells them, and each one of a
        // batch is let in (a refusal for one is not the others' failure).
        if let Some(why) = remind(ctx, &them, e).await? {
            tracing::info!(event = e.id.0, %why, "a person let in from the waitlist is not reminded");
        }
        if let Some(first) = next {
            notes.push(crate::events::promoted_note(e.id, first, user, now));
        }
    }
    if !notes.is_empty() {
        ctx.store.add_notes(&e.space, &notes).await?;
    }
    Ok(())
}

fn confirmation(e: &EventRow, standing: Standing) -> Reply {
    let title = crate::reply::defang_mentions(&e.title);
    let (head, text) = match standing {
        Standing::Going => (
            format!("Going: {title}"),
            "You are counted as going; I will remind you before each occurrence.".to_string(),
        ),
        Standing::Waiting(n) => (
            format!("Waitlisted: {title}"),
            format!(
                "It is full; you are number {n} on the waitlist. If a place opens up it is yours, and I will tell you."
            ),
        ),
        Standing::Maybe => (
            format!("Maybe: {title}"),
            "You are counted as maybe.".to_string(),
        ),
        Standing::Cant => (
            format!("Can't go: {title}"),
            "You are counted as not going, and I will not remind you of it.".to_string(),
        ),
    };
    let mut r = Reply::answer(head);
    r.summary = Some(Text::plain(text));
    r.sources = Some(format!("Event {} · /event show {}", e.id, e.id));
    r.visibility = Visibility::Private;
    r
}
