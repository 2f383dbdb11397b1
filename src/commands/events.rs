//! /events [range] [topic] [actor]: upcoming occurrences in the space's time zone.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::invocation::Args;
use super::{Caller, Context};
use crate::atlas::Atlas;
use crate::domain::Subject;
use crate::error::CommandError;
use crate::events::when;
use crate::reply::{Item, Moment, Reply, Span, Text};
use crate::scheduler::occurrences_of;
use crate::store::events::EventRow;

#[derive(Debug, Clone)]
pub struct Params {
    pub range: Option<String>,
    pub topic: Option<String>,
    pub actor: Option<String>,
}

pub fn parse(args: &Args) -> Result<Params, CommandError> {
    Ok(Params {
        range: args.get("range").map(String::from),
        topic: args.get("topic").map(String::from),
        actor: args.get("actor").map(String::from),
    })
}

/// "in 5 minutes", "in 3 hours", "tomorrow", "in 3 days", "in 2 weeks".
pub fn relative(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let d = to - from;
    let plural = |n: i64, u: &str| {
        if n == 1 {
            format!("in 1 {u}")
        } else {
            format!("in {n} {u}s")
        }
    };
    if d < Duration::minutes(1) {
        "now".into()
    } else if d < Duration::hours(1) {
        plural(d.num_minutes(), "minute")
    } else if d < Duration::hours(24) {
        plural(d.num_hours(), "hour")
    } else if d < Duration::days(14) {
        plural(d.num_days(), "day")
    } else {
        plural(d.num_weeks(), "week")
    }
}

fn days(range: Option<&str>) -> Result<i64, CommandError> {
    Ok(match range.map(|r| r.trim().to_lowercase()).as_deref() {
        None | Some("") => 30,
        Some("today") => 1,
        Some("week") => 7,
        Some("month") => 31,
        Some("year") => 366,
        Some(n) => match n
            .trim_end_matches(" days")
            .trim_end_matches('d')
            .parse::<i64>()
        {
            Ok(d) if (1..=366).contains(&d) => d,
            _ => {
                return Err(CommandError::usage(
                    "range takes today, week, month, or a number of days up to 366",
                    "/events week",
                ))
            }
        },
    })
}

pub async fn run(
    ctx: &Context,
    atlas: &Atlas,
    caller: &Caller,
    p: Params,
) -> Result<Reply, CommandError> {
    let now = ctx.clock.now();
    let space = ctx.store.space(&caller.space).await?;
    let tz: Tz = space.timezone.parse().unwrap_or(Tz::UTC);
    let until = now + Duration::days(days(p.range.as_deref())?);
    let topic = topic_slug(atlas, p.topic.as_deref())?;
    let actor = actor_subject(atlas, p.actor.as_deref())?;
    let rows = upcoming(ctx, caller, topic.as_deref(), actor.as_ref(), now, until).await?;
    if rows.is_empty() {
        let mut r = Reply::not_found("No upcoming events in this space for that range. Moderators schedule them with /event add.");
        r.suggestions.push("/event show COP26".into());
        return Ok(r);
    }
    Ok(listing(rows, now, tz))
}

/// The slug of the topic asked for; an unknown topic is a usage error.
fn topic_slug(atlas: &Atlas, topic: Option<&str>) -> Result<Option<String>, CommandError> {
    let Some(t) = topic else {
        return Ok(None);
    };
    super::who_works_on::resolve(atlas, t)
        .and_then(|id| atlas.topic_names.get(&id))
        .map(|(slug, _)| Some(slug.clone()))
        .ok_or_else(|| {
            CommandError::usage(
                format!(
                    "“{}” is not a topic I know; /topics lists them.",
                    t.chars().take(40).collect::<String>()
                ),
                "/events topic:cybersecurity",
            )
        })
}

/// The same rule as /actor: an unknown acronym is never taken for a neighbour's.
fn actor_subject(atlas: &Atlas, actor: Option<&str>) -> Result<Option<Subject>, CommandError> {
    let Some(a) = actor else {
        return Ok(None);
    };
    let found = super::actor::resolve(atlas, a).ok_or_else(|| {
        let hint = super::actor::did_you_mean(atlas, a);
        CommandError::usage(
            format!(
                "No actor called “{}”.{hint}",
                a.chars().take(40).collect::<String>()
            ),
            "/events actor:WIPO",
        )
    })?;
    Ok(Some(Subject::Actor(found.slug)))
}

/// Every occurrence until `until` of the space's events on the topic and concerning the
/// actor (where asked), soonest first.
async fn upcoming(
    ctx: &Context,
    caller: &Caller,
    topic: Option<&str>,
    actor: Option<&Subject>,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<(DateTime<Utc>, EventRow)>, CommandError> {
    let mut rows = Vec::new();
    for e in ctx.store.events_of_space(&caller.space).await? {
        if topic.is_some_and(|t| {
            !e.topics
                .as_deref()
                .unwrap_or("")
                .split(',')
                .any(|x| x.trim() == t)
        }) {
            continue;
        }
        // Organised by the actor or naming it, as for people following it.
        if actor.is_some_and(|a| !crate::feeds::concerns(&e, a)) {
            continue;
        }
        for occ in occurrences_of(&ctx.store, &e, now, until).await? {
            rows.push((occ, e.clone()));
        }
    }
    rows.sort_by_key(|(occ, e)| (*occ, e.id));
    Ok(rows)
}

/// The first 25 occurrences, each with its time in the space's zone and how far off it is.
fn listing(rows: Vec<(DateTime<Utc>, EventRow)>, now: DateTime<Utc>, tz: Tz) -> Reply {
    let mut r = Reply::answer("Upcoming events");
    r.summary = Some(Text::plain(format!(
        "Times in {} (this space's time zone).",
        tz.name()
    )));
    let total = rows.len();
    let items: Vec<Item> = rows
        .into_iter()
        .take(25)
        .map(|(occ, e)| {
            let mut text = Text::of([Span::Time(Moment {
                relative: Some(relative(now, occ)),
                ..when::moment(occ, tz)
            })]);
            if let Some(pl) = &e.place {
                text.push(Span::Plain(format!(" · {pl}")));
            }
            Item::labelled(crate::reply::defang_mentions(&e.title), text)
                .more(format!("/event show {}", e.id))
        })
        .collect();
    r.section(
        &format!(
            "Next {}",
            if total > 25 {
                "25 occurrences".to_string()
            } else {
                format!("{total} occurrence{}", if total == 1 { "" } else { "s" })
            }
        ),
        items,
    )
}
