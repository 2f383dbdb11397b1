//! /follow topic:<topic> | actor:<name>, /unfollow (the same), /following: a person follows a
//! topic or an actor of the atlas and is reminded before every event of the space about it —
//! events added later too (the scheduler asks who follows what each event is about, see
//! `Store::followers_of_event`) — and told once when such an event is added
//! (`notify_followers`).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::invocation::Args;
use super::{shorten, Caller, CommandName, Context};
use crate::atlas::Atlas;
use crate::domain::{EventId, Subject};
use crate::error::CommandError;
use crate::events::{describe_offset, new_event_note, when, FOLLOW_OFFSET_MIN};
use crate::reply::{Item, Moment, Reply, Span, Text, Visibility};
use crate::scheduler::occurrences_without;
use crate::store::follows::{Followed, MAX_FOLLOWERS_PER_SUBJECT, MAX_FOLLOWS_PER_PERSON};

/// A topic or an actor in the person's own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    Topic(String),
    Actor(String),
}

#[derive(Debug, Clone)]
pub enum Params {
    Follow(Wanted),
    Unfollow(Wanted),
    Following,
}

pub fn parse(command: CommandName, args: &Args) -> Result<Params, CommandError> {
    if command == CommandName::Following {
        return Ok(Params::Following);
    }
    let example = format!("/{} topic:cybersecurity", command.name());
    let wanted = wanted(args, &example)?.ok_or_else(|| {
        CommandError::usage(
            "Name a topic (topic:cybersecurity) or an actor (actor:WIPO).",
            example,
        )
    })?;
    Ok(if command == CommandName::Follow {
        Params::Follow(wanted)
    } else {
        Params::Unfollow(wanted)
    })
}

/// The topic or actor a command's `topic:` / `actor:` options name, if one does (both at
/// once is a usage error; an empty value names nothing).
pub(crate) fn wanted(args: &Args, example: &str) -> Result<Option<Wanted>, CommandError> {
    let given = |name: &str| args.get(name).map(str::trim).filter(|v| !v.is_empty());
    match (given("topic"), given("actor")) {
        (Some(_), Some(_)) => Err(CommandError::usage(
            "One at a time: a topic or an actor.",
            example,
        )),
        (Some(t), None) => Ok(Some(Wanted::Topic(t.to_string()))),
        (None, Some(a)) => Ok(Some(Wanted::Actor(a.to_string()))),
        (None, None) => Ok(None),
    }
}

pub async fn run(
    ctx: &Context,
    atlas: &Atlas,
    caller: &Caller,
    p: Params,
) -> Result<Reply, CommandError> {
    let changes = matches!(p, Params::Follow(_) | Params::Unfollow(_));
    if changes && !ctx.changes_allowed(caller, ctx.clock.now()) {
        return Err(CommandError::Refused(format!(
            "You changed what you follow {} times in the last {} minutes; please wait a little before the next change.",
            super::CHANGES_PER_WINDOW,
            super::CHANGES_WINDOW.num_minutes()
        )));
    }
    let mut reply = match p {
        Params::Follow(w) => follow(ctx, atlas, caller, &w).await?,
        Params::Unfollow(w) => unfollow(ctx, atlas, caller, &w).await?,
        Params::Following => following(ctx, atlas, caller).await?,
    };
    // What one person follows is theirs.
    reply.visibility = Visibility::Private;
    Ok(reply)
}

/// The subject the words name, with its display name; or "did you mean" when none.
pub(crate) fn resolve(atlas: &Atlas, w: &Wanted) -> Result<(Subject, String), Box<Reply>> {
    match w {
        Wanted::Topic(t) => {
            let found = super::who_works_on::resolve(atlas, t)
                .and_then(|id| atlas.topic_names.get(&id))
                .map(|(slug, name)| (Subject::Topic(slug.clone()), name.clone()));
            found.ok_or_else(|| {
                let close: Vec<String> = atlas
                    .topic_terms
                    .suggest(t, 3)
                    .into_iter()
                    .filter_map(|e| atlas.topic_names.get(&e.payload))
                    .map(|(_, n)| n.clone())
                    .collect();
                unknown(
                    &format!("“{}” is not a topic I know.", shorten(t, 40)),
                    &close,
                    "/topics lists them.",
                )
            })
        }
        Wanted::Actor(a) => super::actor::resolve(atlas, a)
            .map(|actor| {
                let name = super::actor::display_name(&actor);
                (Subject::Actor(actor.slug), name)
            })
            .ok_or_else(|| {
                let close = super::actor::suggestions(atlas, a);
                unknown(
                    &format!("No actor called “{}” in the atlas.", shorten(a, 40)),
                    &close,
                    "/actor finds them.",
                )
            }),
    }
}

fn unknown(message: &str, close: &[String], otherwise: &str) -> Box<Reply> {
    let hint = super::did_you_mean(close).unwrap_or_else(|| otherwise.to_string());
    Box::new(Reply::not_found(format!("{message} {hint}")))
}

/// An event's next occurrence from `now`, however far ahead.
pub(crate) async fn next_occurrence(
    ctx: &Context,
    e: &crate::store::events::EventRow,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, CommandError> {
    Ok(crate::scheduler::next_occurrence(&ctx.store, e, now).await?)
}

async fn follow(
    ctx: &Context,
    atlas: &Atlas,
    caller: &Caller,
    w: &Wanted,
) -> Result<Reply, CommandError> {
    let (subject, name) = match resolve(atlas, w) {
        Ok(found) => found,
        Err(reply) => return Ok(*reply),
    };
    let now = ctx.clock.now();
    match ctx
        .store
        .follow(&caller.space, &caller.user, &subject, now)
        .await?
    {
        Followed::New => {}
        Followed::Already => {
            return Ok(Reply::not_found(format!(
                "You already follow {name} here. /following lists what you follow."
            )))
        }
        Followed::TooManyOfYours => {
            return Err(CommandError::Refused(format!(
                "You follow {MAX_FOLLOWS_PER_PERSON} topics and actors here, the most one person can. /unfollow one first."
            )))
        }
        Followed::TooManyFollowers => {
            return Err(CommandError::Refused(format!(
                "{name} has {MAX_FOLLOWERS_PER_SUBJECT} followers in this space, the most it can have. Use /remind me on its events instead."
            )))
        }
    }
    let mut r = Reply::answer(format!("Following {name}"));
    r.summary = Some(Text::plain(format!(
        "I will remind you {} before every event of this space on {name}, including ones added later, and tell you when one is added. /unfollow {} stops it.",
        describe_offset(FOLLOW_OFFSET_MIN),
        follow_option(&subject, &name),
    )));
    let items = upcoming_items(&space_events(ctx, caller).await?, &subject, now);
    Ok(r.section("Its events here now", items))
}

/// The option that names a subject again ("topic:\"capacity development\"").
fn follow_option(s: &Subject, name: &str) -> String {
    let quoted = if name.contains(' ') {
        format!("\"{name}\"")
    } else {
        name.to_string()
    };
    format!("{}:{quoted}", s.kind())
}

/// The space's upcoming events about a subject, each with its next occurrence.
/// A space's live events and their cancelled occurrences, read once per answer (however
/// many subjects it lists).
struct SpaceEvents {
    events: Vec<crate::store::events::EventRow>,
    exdates: std::collections::HashMap<EventId, Vec<DateTime<Utc>>>,
}

async fn space_events(ctx: &Context, caller: &Caller) -> Result<SpaceEvents, CommandError> {
    Ok(SpaceEvents {
        events: ctx.store.events_of_space(&caller.space).await?,
        exdates: ctx.store.exdates_of_space(&caller.space).await?,
    })
}

fn upcoming_items(all: &SpaceEvents, s: &Subject, now: DateTime<Utc>) -> Vec<Item> {
    let horizon = crate::scheduler::all_ahead(now);
    let mut items = Vec::new();
    for e in &all.events {
        if !crate::feeds::concerns(e, s) {
            continue;
        }
        let tz: Tz = e.tz.parse().unwrap_or(Tz::UTC);
        let cancelled = all.exdates.get(&e.id).map_or(&[][..], Vec::as_slice);
        let Some(&next) = occurrences_without(e, cancelled, now, horizon).first() else {
            continue;
        };
        let when = Text::of([Span::Time(Moment {
            zone: Some(tz.name().to_string()),
            ..when::moment(next, tz)
        })]);
        items.push(
            Item::labelled(crate::reply::defang_mentions(&e.title), when)
                .more(format!("/event show {}", e.id)),
        );
    }
    items
}

async fn unfollow(
    ctx: &Context,
    atlas: &Atlas,
    caller: &Caller,
    w: &Wanted,
) -> Result<Reply, CommandError> {
    let (subject, name) = match resolve(atlas, w) {
        Ok(found) => found,
        Err(reply) => return Ok(*reply),
    };
    if !ctx
        .store
        .unfollow(&caller.space, &caller.user, &subject)
        .await?
    {
        return Ok(Reply::not_found(format!(
            "You do not follow {name} here. /following lists what you follow."
        )));
    }
    let mut r = Reply::answer(format!("No longer following {name}"));
    r.summary = Some(Text::plain(
        "No more reminders or notes for its events. Personal reminders you asked for with /remind me stay.",
    ));
    Ok(r)
}

async fn following(ctx: &Context, atlas: &Atlas, caller: &Caller) -> Result<Reply, CommandError> {
    let follows = ctx.store.follows(&caller.space, &caller.user).await?;
    if follows.is_empty() {
        let mut r = Reply::not_found("You follow nothing here yet.");
        r.suggestions.push("/follow cybersecurity".into());
        r.suggestions.push("/follow actor:WIPO".into());
        return Ok(r);
    }
    let now = ctx.clock.now();
    let mut r = Reply::answer("What you follow");
    r.summary = Some(Text::plain(format!(
        "A reminder {} before every event of this space on each, and a note when one is added.",
        describe_offset(FOLLOW_OFFSET_MIN)
    )));
    let all = space_events(ctx, caller).await?;
    for s in &follows {
        let name = atlas.subject_name(s);
        let heading = format!(
            "{} {name}",
            if matches!(s, Subject::Topic(_)) {
                "Topic"
            } else {
                "Actor"
            }
        );
        let mut items = upcoming_items(&all, s, now);
        if items.is_empty() {
            items.push(Item::new("No event on it here yet."));
        }
        r = r.section(&heading, items);
    }
    Ok(r)
}

/// Tells the followers of an event's subjects, once each, that it was added (or now concerns
/// them): a note through the reminder ledger, so it goes out exactly once even across
/// restarts. Not the person who made the change.
pub(crate) async fn notify_followers(
    ctx: &Context,
    id: EventId,
    author: &str,
) -> Result<(), CommandError> {
    let now = ctx.clock.now();
    let Some(e) = ctx.store.event(id).await? else {
        return Ok(());
    };
    let Some(first) = next_occurrence(ctx, &e, now).await? else {
        return Ok(());
    };
    let notes: Vec<_> = ctx
        .store
        .followers_of_event(id)
        .await?
        .into_iter()
        .filter(|u| u != author)
        .map(|u| new_event_note(id, first, &u, now))
        .collect();
    if !notes.is_empty() {
        ctx.store.add_notes(&e.space, &notes).await?;
    }
    Ok(())
}
