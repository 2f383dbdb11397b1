//! /event sync add|list|remove (moderators): the space follows calendars kept elsewhere. The
//! address is checked here as it enters (https, no private address: `sync::fetch`); polling,
//! mirroring and telling the moderators are `sync::poll`'s.

use crate::atlas::Atlas;
use crate::commands::invocation::Args;
use crate::commands::{shorten, Caller, Context};
use crate::error::CommandError;
use crate::reply::{Item, Reply, Text, Visibility};
use crate::store::syncs::{SyncAdded, SyncRow, MAX_SYNCS_PER_SPACE};

/// Minutes between polls unless `every:` says otherwise (the manifest bounds it to 5–1440).
pub const DEFAULT_EVERY_MIN: i64 = 15;

const EXAMPLE: &str = "/event sync add url:https://calendar.example.org/course.ics";

/// What `/event sync` does, decided at parse time: `action:` (or the first word).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncAction {
    Add,
    List,
    Remove,
}

/// The action and what follows it on the line ("remove 2" → Remove, "2").
fn action(args: &Args) -> Result<(SyncAction, Option<String>), CommandError> {
    let given = args.get("action").unwrap_or_default().trim();
    let (word, rest) = given.split_once(' ').unwrap_or((given, ""));
    let action = match word.to_lowercase().as_str() {
        "add" => SyncAction::Add,
        "list" | "" => SyncAction::List,
        "remove" => SyncAction::Remove,
        other => {
            return Err(CommandError::usage(
                format!(
                    "/event sync takes add, list or remove, not “{}”.",
                    shorten(other, 40)
                ),
                EXAMPLE,
            ))
        }
    };
    let rest = rest.trim();
    Ok((action, (!rest.is_empty()).then(|| rest.to_string())))
}

pub async fn run(
    ctx: &Context,
    atlas: &Atlas,
    caller: &Caller,
    args: &Args,
) -> Result<Reply, CommandError> {
    let (action, rest) = action(args)?;
    let target = args.get("url").map(str::to_string).or(rest);
    let mut reply = match action {
        SyncAction::Add => add(ctx, atlas, caller, args, target).await?,
        SyncAction::List => list(ctx, caller).await?,
        SyncAction::Remove => remove(ctx, caller, target).await?,
    };
    // A feed's address may carry a secret (a private calendar link): never in public.
    reply.visibility = Visibility::Private;
    Ok(reply)
}

async fn add(
    ctx: &Context,
    atlas: &Atlas,
    caller: &Caller,
    args: &Args,
    url: Option<String>,
) -> Result<Reply, CommandError> {
    let Some(url) = url else {
        return Err(CommandError::usage(
            "Which calendar? Give its iCalendar address with url:.",
            EXAMPLE,
        ));
    };
    let checked = ctx
        .sync_policy
        .check_url(url.trim())
        .map_err(|e| CommandError::usage(format!("I cannot follow that address. {e}"), EXAMPLE))?;
    let topics = super::topic_list(atlas, args.get("topic"))?;
    let every = args
        .get("every")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(DEFAULT_EVERY_MIN);
    let now = ctx.clock.now();
    let added = ctx
        .store
        .add_sync(
            &caller.space,
            checked.as_str(),
            topics.as_deref(),
            every,
            &caller.user,
            now,
        )
        .await?;
    let title = match added {
        SyncAdded::TooMany => {
            return Err(CommandError::Refused(format!(
                "This space follows {MAX_SYNCS_PER_SPACE} calendars, the most it can; /event sync remove one first."
            )))
        }
        SyncAdded::Added(id) => format!("Following calendar {id}"),
        SyncAdded::Already(id) => format!("Calendar {id} is followed already; polling it now"),
    };
    let mut r = Reply::answer(title);
    r.summary = Some(Text::plain(format!(
        "{} — polled within a minute, then every {every} minutes. Its events are added, changed and cancelled here as they are there, and reminded like any other; your own events are never touched. /event sync list shows how it goes.",
        checked
    )));
    Ok(r)
}

async fn list(ctx: &Context, caller: &Caller) -> Result<Reply, CommandError> {
    let syncs = ctx.store.syncs_of_space(&caller.space).await?;
    if syncs.is_empty() {
        let mut r = Reply::not_found("This space follows no external calendar.");
        r.suggestions.push(EXAMPLE.into());
        return Ok(r);
    }
    let items = syncs.iter().map(describe).collect();
    Ok(Reply::answer("Followed calendars").section("Calendars", items))
}

/// One feed as `/event sync list` shows it: number, address, state, counts.
fn describe(s: &SyncRow) -> Item {
    let state = if s.paused {
        "paused after 7 days of failures (add it again to resume)".to_string()
    } else {
        format!("every {} min", s.interval_min)
    };
    let ok = s.last_ok.as_deref().unwrap_or("never yet");
    let mut text = format!(
        "#{} {} — {state}; last success: {ok}; {} events, {} skipped",
        s.id, s.url, s.events, s.skipped
    );
    if let (Some(error), Some(since)) = (&s.last_error, &s.failing_since) {
        text.push_str(&format!("; failing since {since}: {error}"));
    }
    Item::new(text)
}

async fn remove(
    ctx: &Context,
    caller: &Caller,
    target: Option<String>,
) -> Result<Reply, CommandError> {
    let example = "/event sync remove 1";
    let Some(target) = target else {
        return Err(CommandError::usage(
            "Which calendar? Give its number in /event sync list, or its address.",
            example,
        ));
    };
    let wanted = target.trim().trim_start_matches('#');
    // An address as it was stored: written any way `add` accepts (webcal://, any case).
    let normal = ctx
        .sync_policy
        .check_url(wanted)
        .map(|u| u.to_string())
        .ok();
    let syncs = ctx.store.syncs_of_space(&caller.space).await?;
    let found = syncs
        .iter()
        .find(|s| s.id.to_string() == wanted || s.url == wanted || Some(&s.url) == normal.as_ref());
    let Some(sync) = found else {
        let mut r = Reply::not_found(format!(
            "This space follows no calendar “{}”.",
            shorten(wanted, 80)
        ));
        r.suggestions.push("/event sync list".into());
        return Ok(r);
    };
    let now = ctx.clock.now();
    let cancelled = ctx
        .store
        .remove_sync(&caller.space, sync.id, now)
        .await?
        .unwrap_or_default();
    let mut r = Reply::answer(format!("Stopped following calendar {}", sync.id));
    r.summary = Some(Text::plain(format!(
        "{} is no longer polled; its {} events here are cancelled, and no reminder will be sent for them.",
        sync.url,
        cancelled.len()
    )));
    Ok(r)
}
