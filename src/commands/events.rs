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
    let topic = match &p.topic {
        Some(t) => Some(
            super::who_works_on::resolve(atlas, t)
                .and_then(|id| atlas.topic_names.get(&id))
                .map(|(slug, _)| slug.clone())
                .ok_or_else(|| {
                    CommandError::usage(
                        format!(
                            "“{}” is not a topic I know; /topics lists them.",
                            t.chars().take(40).collect::<String>()
                        ),
                        "/events topic:cybersecurity",
                    )
                })?,
        ),
        None => None,
    };
    // The same rule as /actor: an unknown acronym is never taken for a neighbour's.
    let actor = match &p.actor {
        Some(a) => {
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
            Some(Subject::Actor(found.slug))
        }
        None => None,
    };
    let mut rows = Vec::new();
    for e in ctx.store.events_of_space(&caller.space).await? {
        if topic.as_ref().is_some_and(|t| {
            !e.topics
                .as_deref()
                .unwrap_or("")
                .split(',')
                .any(|x| x.trim() == t)
        }) {
            continue;
        }
        // Organised by the actor or naming it, as for people following it.
        if actor
            .as_ref()
            .is_some_and(|a| !crate::feeds::concerns(&e, a))
        {
            continue;
        }
        for occ in occurrences_of(&ctx.store, &e, now, until).await? {
            rows.push((occ, e.clone()));
        }
    }
    rows.sort_by_key(|(occ, e)| (*occ, e.id));
    if rows.is_empty() {
        let mut r = Reply::not_found("No upcoming events in this space for that range. Moderators schedule them with /event add.");
        r.suggestions.push("/event show COP26".into());
        return Ok(r);
    }
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
    r = r.section(
        &format!(
            "Next {}",
            if total > 25 {
                "25 occurrences".to_string()
            } else {
                format!("{total} occurrence{}", if total == 1 { "" } else { "s" })
            }
        ),
        items,
    );
    Ok(r)
}
