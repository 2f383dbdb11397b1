//! /event show|add|edit|cancel: one event. Moderators add, edit and cancel (enforced in the
//! core before this runs); every change re-plans the event's reminders (the store tells the scheduler).

pub(crate) mod rsvp;
mod sync;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

use super::events::relative;
use super::invocation::Args;
use super::shorten;
use super::{cite, Caller, Context};
use crate::atlas::Atlas;
use crate::domain::{EventId, SpaceId};
use crate::error::CommandError;
use crate::events::{ical, when, Recurrence, REPEAT_EXAMPLES};
use crate::reply::{defang_mentions, Attachment, Item, Moment, Reply, Span, Text};
use crate::scheduler::{all_ahead, occurrences_of, plan_event};
use crate::search::names::NameIndex;
use crate::store::events::{EventInput, EventRow, Imported, SpaceRow};

#[derive(Debug, Clone)]
pub struct Params {
    pub action: Action,
    pub args: Args,
}

/// The subcommands of /event, decided at parse time: a subcommand the manifest gains without
/// a handler here is a usage error, never silently `show`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Show,
    Add,
    Edit,
    Cancel,
    Import,
    Export,
    Subscribe,
    RotateFeed,
    Sync,
}

pub fn parse(args: &Args) -> Result<Params, CommandError> {
    let action = match args.subcommand.as_deref() {
        None | Some("show") => Action::Show,
        Some("add") => Action::Add,
        Some("edit") => Action::Edit,
        Some("cancel") => Action::Cancel,
        Some("import") => Action::Import,
        Some("export") => Action::Export,
        Some("subscribe") => Action::Subscribe,
        Some("rotate-feed") => Action::RotateFeed,
        Some("sync") => Action::Sync,
        Some(other) => {
            return Err(CommandError::usage(
                format!("/event has no subcommand “{}”.", super::shorten(other, 40)),
                "/help event",
            ))
        }
    };
    Ok(Params {
        action,
        args: args.clone(),
    })
}

const MAX_TITLE: usize = 200;
const MAX_TEXT: usize = 1000;

/// An event's text option, cleaned of control characters as it enters (`events::text`): a
/// description keeps its lines, a title or a place is one line.
fn text(args: &Args, name: &str, max: usize) -> Result<Option<String>, CommandError> {
    let clean = |v: &str| match name {
        "description" => crate::events::text::multi_line(v),
        _ => crate::events::text::one_line(v),
    };
    match args.get(name).map(clean).filter(|s| !s.is_empty()) {
        Some(v) if v.chars().count() > max => Err(CommandError::usage(
            format!("{name} is too long (at most {max} characters)."),
            "/help event",
        )),
        Some(v) => Ok(Some(v)),
        None => Ok(None),
    }
}

fn usage(message: impl Into<Text>) -> CommandError {
    CommandError::usage(
        message,
        "/event add title:\"Study session\" when:\"next monday 10:00\" repeat:weekly times:10",
    )
}

/// An event of this space by number ("3", "#3") or by title words.
pub(crate) async fn find(
    ctx: &Context,
    space: &SpaceId,
    text: &str,
) -> Result<Option<EventRow>, CommandError> {
    let t = text.trim().trim_start_matches('#');
    if let Ok(id) = t.parse::<i64>() {
        return Ok(ctx
            .store
            .event(EventId(id))
            .await?
            .filter(|e| e.space == *space && !e.cancelled));
    }
    let events = ctx.store.events_of_space(space).await?;
    let titles = NameIndex::new(
        events
            .iter()
            .enumerate()
            .map(|(i, e)| (e.title.clone(), i, 0.0)),
    );
    Ok(titles
        .lookup(t, 1)
        .into_iter()
        .find(|m| m.score >= 0.74)
        .map(|m| events[m.entry.payload].clone()))
}

fn zone_of(args: &Args, default: &str) -> Result<Tz, CommandError> {
    let name = args.get("tz").unwrap_or(default);
    when::zone(name).map_err(|e| {
        CommandError::usage(
            e.to_string(),
            "/event add title:\"Briefing\" when:\"tomorrow 9:30\" tz:Europe/Zurich",
        )
    })
}

fn recurrence(args: &Args) -> Result<Option<String>, CommandError> {
    let Some(repeat) = args
        .get("repeat")
        .map(str::trim)
        .filter(|r| !r.is_empty() && *r != "none")
    else {
        if args.get("until").is_some() || args.get("times").is_some() {
            return Err(usage(format!(
                "until: and times: go with repeat: ({REPEAT_EXAMPLES})."
            )));
        }
        return Ok(None);
    };
    let until = match args.get("until") {
        Some(u) => Some(
            NaiveDate::parse_from_str(u.trim(), "%Y-%m-%d").map_err(|_| {
                usage(format!(
                    "until:{} is not a date; write it like 2027-03-01.",
                    shorten(u, 20)
                ))
            })?,
        ),
        None => None,
    };
    Recurrence::parse(repeat, until, times(args)?)
        .map(|r| Some(r.to_rrule()))
        .map_err(usage)
}

/// times: as a count (its manifest bounds it; checked again rather than cast).
fn times(args: &Args) -> Result<Option<u32>, CommandError> {
    args.integer("times")
        .map(|t| u32::try_from(t).map_err(|_| usage("times must be between 1 and 1000.")))
        .transpose()
}

/// A series' new end in an edit: until: or times: alone change the existing repetition.
fn new_end(args: &Args, rrule: Option<String>) -> Result<Option<String>, CommandError> {
    if args.get("until").is_none() && args.get("times").is_none() {
        return Ok(rrule);
    }
    let Some(mut rec) = rrule.as_deref().and_then(Recurrence::from_rrule) else {
        return Err(usage(format!(
            "until: and times: change when a repeating event ends; this one does not repeat. Give repeat: too ({REPEAT_EXAMPLES})."
        )));
    };
    rec.until = None;
    rec.count = None;
    if let Some(u) = args.get("until") {
        rec.until = Some(
            NaiveDate::parse_from_str(u.trim(), "%Y-%m-%d").map_err(|_| {
                usage(format!(
                    "until:{} is not a date; write it like 2027-03-01.",
                    shorten(u, 20)
                ))
            })?,
        );
    }
    rec.count = times(args)?;
    if rec.until.is_some() && rec.count.is_some() {
        return Err(usage("Give until: or times:, not both."));
    }
    Ok(Some(rec.to_rrule()))
}

/// Most live events one space may have: each owes reminders, and a space is one community.
pub const MAX_EVENTS_PER_SPACE: i64 = 200;

fn too_many_events(existing: i64) -> CommandError {
    CommandError::Refused(format!(
        "This space has {existing} events, the most it can have ({MAX_EVENTS_PER_SPACE}). Cancel past or unneeded ones with /event cancel first."
    ))
}

/// Refuses an event that would never happen: its first occurrence is its start (or the
/// first after it), so a series ending before it starts has none.
fn check_occurs(start: DateTime<Utc>, rrule: Option<&str>) -> Result<(), CommandError> {
    let Some(until) = rrule.and_then(Recurrence::from_rrule).and_then(|r| r.until) else {
        return Ok(());
    };
    if until < start.date_naive() {
        return Err(usage(format!(
            "until:{} is before the event starts; it would never happen.",
            until.format("%Y-%m-%d")
        )));
    }
    Ok(())
}

fn organiser(atlas: &Atlas, args: &Args) -> Result<Option<String>, CommandError> {
    let Some(name) = args.get("organiser") else {
        return Ok(None);
    };
    // The same rule as /actor: an unknown acronym is never taken for a neighbour's.
    let Some(actor) = super::actor::resolve(atlas, name) else {
        let hint = super::actor::did_you_mean(atlas, name);
        return Err(usage(format!(
            "No actor called “{}” in the atlas to organise it.{hint}",
            shorten(name, 40)
        )));
    };
    Ok(Some(actor.slug))
}

fn topics(atlas: &Atlas, args: &Args) -> Result<Option<String>, CommandError> {
    topic_list(atlas, args.get("topics"))
}

/// Topic names, comma-separated, as the atlas's slugs (each must be a topic).
pub(crate) fn topic_list(
    atlas: &Atlas,
    list: Option<&str>,
) -> Result<Option<String>, CommandError> {
    let Some(list) = list else {
        return Ok(None);
    };
    let mut slugs = Vec::new();
    for t in list.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let slug = super::who_works_on::resolve(atlas, t)
            .and_then(|id| atlas.topic_names.get(&id))
            .map(|(s, _)| s.clone());
        slugs.push(slug.ok_or_else(|| {
            usage(format!(
                "“{}” is not a topic; /topics lists them.",
                shorten(t, 40)
            ))
        })?);
    }
    Ok(Some(slugs.join(",")))
}

/// What an event is about, as stored: (topics, actors, inferred).
pub(crate) type About = (Option<String>, Option<String>, bool);

/// What an event is about: the topics the moderator gave (`given`), or else those its title
/// and description name in the atlas's terms (`inferred`); and the actors they name besides
/// its organiser. The card says which topics were inferred.
pub(crate) fn about(
    atlas: &Atlas,
    given: Option<String>,
    title: &str,
    description: Option<&str>,
    organiser: Option<&str>,
) -> About {
    let text = format!("{title}\n{}", description.unwrap_or_default());
    let found = atlas.subjects_in(&text);
    let actors: Vec<String> = found
        .actors
        .into_iter()
        .filter(|a| Some(a.as_str()) != organiser)
        .collect();
    let actors = (!actors.is_empty()).then(|| actors.join(","));
    match given {
        Some(topics) => (Some(topics), actors, false),
        None => {
            let topics = (!found.topics.is_empty()).then(|| found.topics.join(","));
            (topics, actors, true)
        }
    }
}

pub async fn run(
    ctx: &Context,
    atlas: &Atlas,
    caller: &Caller,
    p: Params,
) -> Result<Reply, CommandError> {
    match p.action {
        Action::Add => add(ctx, atlas, caller, &p.args).await,
        Action::Edit => edit(ctx, atlas, caller, &p.args).await,
        Action::Cancel => cancel(ctx, caller, &p.args).await,
        Action::Import => import(ctx, atlas, caller, &p.args).await,
        Action::Export => export(ctx, caller).await,
        Action::Subscribe => subscribe(ctx, atlas, caller, &p.args).await,
        Action::RotateFeed => rotate_feed(ctx, caller).await,
        Action::Sync => sync::run(ctx, atlas, caller, &p.args).await,
        Action::Show => show(ctx, atlas, caller, &p.args).await,
    }
}

async fn replan(ctx: &Context, id: EventId) -> Result<(), CommandError> {
    plan_event(&ctx.store, id, ctx.clock.now()).await?;
    Ok(())
}

async fn add(
    ctx: &Context,
    atlas: &Atlas,
    caller: &Caller,
    args: &Args,
) -> Result<Reply, CommandError> {
    let now = ctx.clock.now();
    let existing = ctx.store.count_events(&caller.space).await?;
    if existing >= MAX_EVENTS_PER_SPACE {
        return Err(too_many_events(existing));
    }
    let space = ctx.store.space(&caller.space).await?;
    let tz = zone_of(args, &space.timezone)?;
    let input = new_event(atlas, caller, args, tz, now)?;
    let id = ctx.store.insert_event(&input, &new_uid(), now).await?;
    attendance_options(ctx, id, args, (None, false), now).await?;
    let adopted = adopt_channel(ctx, space, caller).await?;
    replan(ctx, id).await?;
    super::follow::notify_followers(ctx, id, &caller.user).await?;
    let e = ctx
        .store
        .event(id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("event {id} vanished"))?;
    let mut r = card(ctx, atlas, &e).await?;
    r.title = Some(format!("Scheduled: {}", defang_mentions(&e.title)));
    if adopted {
        r = r.field(
            "Reminders",
            "Reminders for this space's events will be posted in this channel (change it with /settings channel).",
            false,
        );
    }
    Ok(r)
}

/// The event `/event add` describes, every option checked (in the order the usage errors
/// have always been reported).
fn new_event(
    atlas: &Atlas,
    caller: &Caller,
    args: &Args,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<EventInput, CommandError> {
    let title = text(args, "title", MAX_TITLE)?.ok_or_else(|| usage("An event needs a title."))?;
    let at = when::parse(args.get("when").unwrap_or_default(), now, tz)
        .map_err(|e| usage(e.to_string()))?;
    let rrule = recurrence(args)?;
    check_occurs(at, rrule.as_deref())?;
    let description = text(args, "description", MAX_TEXT)?;
    let organiser = organiser(atlas, args)?;
    let (topics, actors, inferred) = about(
        atlas,
        topics(atlas, args)?,
        &title,
        description.as_deref(),
        organiser.as_deref(),
    );
    Ok(EventInput {
        space: caller.space.clone(),
        title,
        description,
        starts_local: at.with_timezone(&tz).naive_local(),
        tz: tz.name().to_string(),
        duration_min: args.integer("duration"),
        place: text(args, "place", MAX_TITLE)?,
        organiser,
        topics,
        actors,
        inferred,
        rrule,
        created_by: caller.user.clone(),
    })
}

/// A UID no other event has: the wall clock, this process and a counter. (It was the
/// event's clock time and a 16-bit incident id: with an injected clock, two events in 200
/// collided one time in four and the second add failed.)
fn new_uid() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{nanos}-{}-{n}@atlasbot", std::process::id())
}

/// Reminders need somewhere to go: in a space of many channels with none chosen yet, the
/// channel of the first event scheduled. Said in the answer, changeable with /settings.
async fn adopt_channel(
    ctx: &Context,
    mut space: SpaceRow,
    caller: &Caller,
) -> Result<bool, CommandError> {
    let (None, Some(channel)) = (&space.reminder_target, &caller.channel) else {
        return Ok(false);
    };
    space.reminder_target = Some(channel.clone());
    ctx.store.update_space(&space, ctx.clock.now()).await?;
    Ok(true)
}

async fn edit(
    ctx: &Context,
    atlas: &Atlas,
    caller: &Caller,
    args: &Args,
) -> Result<Reply, CommandError> {
    let now = ctx.clock.now();
    let wanted = args.get("event").unwrap_or_default();
    let Some(e) = find(ctx, &caller.space, wanted).await? else {
        return Ok(not_found(wanted));
    };
    followed_elsewhere(&e)?;
    let input = edited_event(atlas, args, &e, now)?;
    let retagged =
        (&input.topics, &input.actors, &input.organiser) != (&e.topics, &e.actors, &e.organiser);
    ctx.store.update_event(e.id, &input, now).await?;
    attendance_options(ctx, e.id, args, (e.capacity, e.hide_names), now).await?;
    replan(ctx, e.id).await?;
    // Retagged, it may now concern people who follow a topic: told once, like an addition.
    // (Any other change tells nobody: followers are reminded of it as it is now.)
    if retagged {
        super::follow::notify_followers(ctx, e.id, &caller.user).await?;
    }
    let e = ctx
        .store
        .event(e.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("event vanished"))?;
    let mut r = card(ctx, atlas, &e).await?;
    r.title = Some(format!("Updated: {}", defang_mentions(&e.title)));
    Ok(r)
}

/// Event `e` with the options `/event edit` gives, every other field as it was.
fn edited_event(
    atlas: &Atlas,
    args: &Args,
    e: &EventRow,
    now: DateTime<Utc>,
) -> Result<EventInput, CommandError> {
    let tz = zone_of(args, &e.tz)?;
    let starts_local = match args.get("when") {
        Some(w) => when::parse(w, now, tz)
            .map_err(|err| usage(err.to_string()))?
            .with_timezone(&tz)
            .naive_local(),
        None => e
            .start()
            .ok_or_else(|| anyhow::anyhow!("event {} has a bad start", e.id))?,
    };
    let rrule = if args.get("repeat").is_some() {
        recurrence(args)?
    } else {
        new_end(args, e.rrule.clone())?
    };
    let start = when::resolve(starts_local, tz).map_err(|err| usage(err.to_string()))?;
    check_occurs(start, rrule.as_deref())?;
    let title = text(args, "title", MAX_TITLE)?.unwrap_or(e.title.clone());
    let description = text(args, "description", MAX_TEXT)?.or(e.description.clone());
    let organiser = match args.get("organiser") {
        Some(_) => organiser(atlas, args)?,
        None => e.organiser.clone(),
    };
    // Topics a moderator gave stay until one gives others; inferred ones follow the words.
    let given = match topics(atlas, args)? {
        Some(t) => Some(t),
        None if e.inferred => None,
        None => e.topics.clone(),
    };
    let (topics, actors, inferred) = about(
        atlas,
        given,
        &title,
        description.as_deref(),
        organiser.as_deref(),
    );
    Ok(EventInput {
        space: e.space.clone(),
        title,
        description,
        starts_local,
        tz: tz.name().to_string(),
        duration_min: args.integer("duration").or(e.duration_min),
        place: text(args, "place", MAX_TITLE)?.or(e.place.clone()),
        organiser,
        topics,
        actors,
        inferred,
        rrule,
        created_by: e.created_by.clone(),
    })
}

async fn cancel(ctx: &Context, caller: &Caller, args: &Args) -> Result<Reply, CommandError> {
    let now = ctx.clock.now();
    let wanted = args.get("event").unwrap_or_default();
    let Some(e) = find(ctx, &caller.space, wanted).await? else {
        return Ok(not_found(wanted));
    };
    followed_elsewhere(&e)?;
    match args.get("occurrence") {
        None => {
            ctx.store.cancel_event(e.id, now).await?;
            let mut r = Reply::answer(format!("Cancelled: {}", defang_mentions(&e.title)));
            r.summary = Some(Text::plain(
                "The event and all its occurrences are cancelled; no reminder will be sent for it.",
            ));
            Ok(r)
        }
        Some(occ) => cancel_one(ctx, &e, occ, now).await,
    }
}

/// `/event cancel N occurrence:…`: one date of a series, which must be one of its own.
async fn cancel_one(
    ctx: &Context,
    e: &EventRow,
    occ: &str,
    now: DateTime<Utc>,
) -> Result<Reply, CommandError> {
    let tz: Tz = e.tz.parse().unwrap_or(Tz::UTC);
    let at = when::parse(occ, now, tz).map_err(|err| usage(err.to_string()))?;
    let upcoming = occurrences_of(&ctx.store, e, now, all_ahead(now)).await?;
    if !upcoming.contains(&at) {
        let mut message = Text::of([
            Span::Plain(format!("{} has no occurrence at ", e.title)),
            Span::Time(when::moment(at, tz)),
            Span::Plain(". Its next ones: ".into()),
        ]);
        for (i, o) in upcoming.iter().take(3).enumerate() {
            if i > 0 {
                message.push(Span::Plain("; ".into()));
            }
            message.push(Span::Time(when::moment(*o, tz)));
        }
        message.push(Span::Plain(".".into()));
        return Err(CommandError::usage(
            message,
            format!(
                "/event cancel {} occurrence:\"{}\"",
                e.id,
                upcoming
                    .first()
                    .map(|o| o.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default()
            ),
        ));
    }
    ctx.store.cancel_occurrence(e.id, at, now).await?;
    let mut r = Reply::answer(format!(
        "Cancelled one occurrence of {}",
        defang_mentions(&e.title)
    ));
    r.summary = Some(Text::of([
        Span::Time(Moment {
            zone: Some(tz.name().to_string()),
            ..when::moment(at, tz)
        }),
        Span::Plain(" is cancelled; the rest of the series goes on.".into()),
    ]));
    Ok(r)
}

async fn export(ctx: &Context, caller: &Caller) -> Result<Reply, CommandError> {
    let items = crate::feeds::live_items(&ctx.store, &caller.space).await?;
    let text = ical::export(&items);
    let mut r = Reply::answer("Events as iCalendar");
    r.summary = Some(Text::plain(format!(
        "{} event{} of this space.",
        items.len(),
        if items.len() == 1 { "" } else { "s" }
    )));
    // Delivered as a file (the console's adapter saves it where `file:` says).
    r.attachment = Some(Attachment {
        filename: "events.ics".into(),
        media_type: "text/calendar".into(),
        content: text,
    });
    Ok(r)
}

/// What to say where the bot serves no calendars.
fn no_feeds() -> Reply {
    let mut r = Reply::not_found(
        "This bot does not serve calendar feeds: whoever runs it sets ATLASBOT_PUBLIC_URL and runs atlasbot serve (or discord-http). /event export gives the events as a file meanwhile.",
    );
    r.suggestions.push("/event export".into());
    r
}

/// The links of a space's calendar (or one subject's), as an answer.
fn feed_links(title: String, links: &crate::feeds::Links, note: &str) -> Reply {
    let mut r = Reply::answer(title);
    r.summary = Some(Text::plain(note.to_string()));
    r = r
        .field("Subscribe in a calendar app", links.webcal.clone(), false)
        .field("Feed (https)", links.https.clone(), false)
        .field("In a browser", links.page.clone(), false);
    // The links are the key to the calendar: given to the asker, not posted to everyone.
    r.visibility = crate::reply::Visibility::Private;
    r
}

async fn subscribe(
    ctx: &Context,
    atlas: &Atlas,
    caller: &Caller,
    args: &Args,
) -> Result<Reply, CommandError> {
    let Some(base) = &ctx.public_url else {
        return Ok(no_feeds());
    };
    let wanted = super::follow::wanted(args, "/event subscribe topic:cybersecurity")?;
    let subject = match wanted.map(|w| super::follow::resolve(atlas, &w)) {
        None => None,
        Some(Ok(found)) => Some(found),
        Some(Err(reply)) => return Ok(*reply),
    };
    let candidate = crate::feeds::new_secret().map_err(|e| anyhow::anyhow!(e))?;
    let secret = ctx
        .store
        .first_feed_secret(&caller.space, &candidate, ctx.clock.now())
        .await?;
    let links = crate::feeds::links(base, &secret, subject.as_ref().map(|(s, _)| s));
    let title = match &subject {
        Some((_, name)) => format!("Calendar of this space's events on {name}"),
        None => "Calendar of this space's events".to_string(),
    };
    Ok(feed_links(
        title,
        &links,
        "A calendar app keeps it in sync; the page shows the upcoming events in your time zone. Anyone with these links can see this space's events; a moderator can replace them with /event rotate-feed.",
    ))
}

async fn rotate_feed(ctx: &Context, caller: &Caller) -> Result<Reply, CommandError> {
    let Some(base) = &ctx.public_url else {
        return Ok(no_feeds());
    };
    let secret = crate::feeds::new_secret().map_err(|e| anyhow::anyhow!(e))?;
    ctx.store
        .set_feed_secret(&caller.space, &secret, ctx.clock.now())
        .await?;
    let links = crate::feeds::links(base, &secret, None);
    Ok(feed_links(
        "New calendar links for this space".into(),
        &links,
        "The old links no longer work: calendars subscribed to them stop updating. Share these instead.",
    ))
}

fn too_big(bytes: usize, example: &str) -> CommandError {
    CommandError::usage(ical::too_big(bytes), example)
}

/// The file's content: adapters deliver attachments as content (Discord downloads it, the
/// console reads the path typed), so the core only checks its size.
fn calendar_content(file: &str, example: &str) -> Result<String, CommandError> {
    if file.len() > ical::MAX_BYTES {
        return Err(too_big(file.len(), example));
    }
    Ok(file.to_string())
}

/// Why an imported event cannot be added, if it cannot: it never occurs from now on (a
/// one-off in the past or in a clock-change gap, a series that has ended).
pub(crate) fn never_occurs(it: &ical::IcsItem, tz: Tz, now: DateTime<Utc>) -> Option<&'static str> {
    match &it.rrule {
        None => match when::resolve(it.start, tz) {
            Err(when::WhenError::Gap { .. }) => {
                Some("its start does not exist in its time zone (the clocks go forward then)")
            }
            Err(_) => Some("its start happens twice in its time zone (the clocks go back then)"),
            Ok(t) if t < now => Some("it is in the past"),
            Ok(_) => None,
        },
        Some(rule) => {
            // Up to ten years ahead: a series with nothing in that time is not an event.
            let next = crate::events::occurrences(
                it.start,
                tz,
                Some(rule),
                now,
                now + Duration::days(3653),
                1,
            );
            next.is_empty()
                .then_some("it has no occurrence from now on (its repetition has ended)")
        }
    }
}

/// The events of a parsed file to add or update, and what is skipped with the reason.
type Batch = Vec<(String, EventInput, Vec<DateTime<Utc>>)>;

fn importable(
    atlas: &Atlas,
    parsed: ical::Parsed,
    caller: &Caller,
    now: DateTime<Utc>,
) -> (Batch, Vec<String>) {
    let mut skipped = parsed.skipped;
    let mut batch = Vec::new();
    for it in parsed.items {
        let Ok(tz) = it.tz.parse::<Tz>() else {
            continue;
        };
        if it.cancelled {
            skipped.push(format!(
                "“{}”: skipped, it is cancelled (STATUS:CANCELLED)",
                shorten(&it.title, 60)
            ));
            continue;
        }
        if let Some(why) = never_occurs(&it, tz, now) {
            skipped.push(format!("“{}”: skipped, {why}", shorten(&it.title, 60)));
            continue;
        }
        let (uid, exdates) = (it.uid.clone(), it.exdates.clone());
        let input = from_calendar(atlas, it, &caller.space, None, &caller.user);
        batch.push((uid, input, exdates));
    }
    (batch, skipped)
}

/// An event read from a calendar file or feed as an event of `space`: about the `topics`
/// given, or what its words name in the atlas (and the actors they name either way).
pub(crate) fn from_calendar(
    atlas: &Atlas,
    it: ical::IcsItem,
    space: &SpaceId,
    topics: Option<String>,
    by: &str,
) -> EventInput {
    let (topics, actors, inferred) =
        about(atlas, topics, &it.title, it.description.as_deref(), None);
    EventInput {
        space: space.clone(),
        title: it.title,
        description: it.description,
        starts_local: it.start,
        tz: it.tz,
        duration_min: it.duration_min,
        place: it.place,
        organiser: None,
        topics,
        actors,
        inferred,
        rrule: it.rrule,
        created_by: by.to_string(),
    }
}

async fn import(
    ctx: &Context,
    atlas: &Atlas,
    caller: &Caller,
    args: &Args,
) -> Result<Reply, CommandError> {
    let now = ctx.clock.now();
    let example = "/event import file:calendar.ics";
    let content = calendar_content(args.get("file").unwrap_or_default(), example)?;
    // Parsing is CPU work on untrusted input: off the async workers, and a panic in it is
    // this request's failure, not the process's.
    let parsed = tokio::task::spawn_blocking(move || ical::parse(&content))
        .await
        .map_err(|e| anyhow::anyhow!("calendar parser failed: {e}"))?
        .map_err(|why| {
            CommandError::usage(format!("Rejected: {why}. Nothing was imported."), example)
        })?;
    let (batch, mut skipped) = importable(atlas, parsed, caller, now);
    let results = match ctx
        .store
        .import_events(&batch, now, MAX_EVENTS_PER_SPACE)
        .await?
    {
        Imported::Done(results, followed) => {
            skipped.extend(followed.iter().map(|uid| {
                format!(
                    "UID {}: skipped, a followed calendar owns that event (change it there)",
                    shorten(uid, 60)
                )
            }));
            results
        }
        Imported::TooMany { existing, adding } => {
            return Err(CommandError::Refused(format!(
                "This space has {existing} events and the file would add {adding}; a space can have at most {MAX_EVENTS_PER_SPACE}. Nothing was imported."
            )))
        }
    };
    for (id, added) in &results {
        plan_event(&ctx.store, *id, now).await?;
        if *added {
            super::follow::notify_followers(ctx, *id, &caller.user).await?;
        }
    }
    let added = results.iter().filter(|(_, a)| *a).count();
    let updated = results.len() - added;
    let mut r = Reply::answer("Calendar imported");
    r.summary = Some(Text::plain(format!(
        "{added} added, {updated} updated, {} skipped.",
        skipped.len()
    )));
    Ok(r.section("Skipped", skipped.into_iter().map(Item::new).collect()))
}

/// An event a followed calendar owns is changed there: a change made here would be undone
/// (or a cancelled event brought back) at the feed's next change.
fn followed_elsewhere(e: &EventRow) -> Result<(), CommandError> {
    match e.sync_id {
        Some(sync) => Err(CommandError::Refused(format!(
            "“{}” comes from followed calendar {sync}: change or cancel it there, and it changes here at the next poll. /event sync remove {sync} stops following it.",
            defang_mentions(&e.title)
        ))),
        None => Ok(()),
    }
}

fn not_found(wanted: &str) -> Reply {
    let mut r = Reply::not_found(format!("No event “{}” in this space.", shorten(wanted, 60)));
    r.suggestions.push("/events".into());
    r
}

async fn show(
    ctx: &Context,
    atlas: &Atlas,
    caller: &Caller,
    args: &Args,
) -> Result<Reply, CommandError> {
    let wanted = args.get("event").unwrap_or_default();
    if let Some(e) = find(ctx, &caller.space, wanted).await? {
        return card(ctx, atlas, &e).await;
    }
    // Events the sources name: history, shown but never listed as upcoming.
    let atlas = atlas.atlas_events();
    let names = NameIndex::new(atlas.iter().enumerate().flat_map(|(i, e)| {
        [
            (e.title.clone(), i, 0.0),
            (e.slug.replace('-', " "), i, 0.0),
        ]
    }));
    if let Some(m) = names
        .lookup(wanted, 1)
        .into_iter()
        .find(|m| m.score >= 0.74)
    {
        let e = &atlas[m.entry.payload];
        let mut r = Reply::answer(e.title.clone());
        r.subtitle =
            Some("From the sources — a past or undated event, not on this space's calendar".into());
        r.summary = Some(Text::plain(e.description.clone()));
        let dates = match (&e.starts, &e.ends) {
            (Some(s), Some(en)) => format!("{s} to {en}"),
            (Some(s), None) => s.clone(),
            _ => "no date in the sources".into(),
        };
        r = r
            .field("When", dates, true)
            .field(
                "As the sources say",
                e.date_text.clone().unwrap_or_default(),
                true,
            )
            .field("Where", e.place.clone().unwrap_or_default(), false)
            .field("Repeats", e.recurrence.clone().unwrap_or_default(), false)
            .field("Organiser", e.organiser.clone().unwrap_or_default(), false);
        r.sources = Some(format!("Source: {}", cite(&e.file, e.line)));
        return Ok(r);
    }
    Ok(not_found_anywhere(wanted))
}

/// /event show looks in both places: the answer says so, and where else to look.
fn not_found_anywhere(wanted: &str) -> Reply {
    let shown = shorten(wanted, 60);
    let mut r = Reply::not_found(format!(
        "No event “{shown}” on this space's calendar, and the sources name no event by these words."
    ));
    r.suggestions = vec!["/events".into(), format!("/search {shown}")];
    r
}

async fn card(ctx: &Context, atlas: &Atlas, e: &EventRow) -> Result<Reply, CommandError> {
    let now = ctx.clock.now();
    let tz: Tz = e.tz.parse().unwrap_or(Tz::UTC);
    let upcoming = occurrences_of(&ctx.store, e, now, all_ahead(now)).await?;
    // Titles, descriptions and places are user text: defanged so that they cannot ping.
    let mut r = Reply::answer(defang_mentions(&e.title));
    r.summary = e
        .description
        .as_ref()
        .map(|d| Text::plain(defang_mentions(d)));
    r = schedule_fields(e, tz, now, &upcoming, r);
    r = subject_fields(atlas, e, r);
    let items: Vec<Item> = upcoming
        .iter()
        .skip(1)
        .take(4)
        .map(|o| Item::new(Text::of([Span::Time(when::moment(*o, tz))])))
        .collect();
    r = r.section("Then", items);
    r = attendance(ctx, e, r).await?;
    r.sources = Some(format!(
        "Event {} · coming? /rsvp {} going · reminders: /remind me {} · {}",
        e.id,
        e.id,
        e.id,
        ics_hint(now, upcoming.first().copied())
    ));
    if !e.cancelled && !upcoming.is_empty() {
        r.actions = crate::reply::Action::rsvp_buttons(e.id.0);
        r.actions
            .extend(crate::reply::Action::remind_buttons(e.id.0));
    }
    Ok(r)
}

/// `capacity:` (0: no limit) and `names:` (shown, hidden), over what the event had (`was`);
/// a capacity raised lets the first waiting in.
async fn attendance_options(
    ctx: &Context,
    id: EventId,
    args: &Args,
    was: (Option<i64>, bool),
    now: DateTime<Utc>,
) -> Result<(), CommandError> {
    let capacity = match args.get("capacity").map(|c| c.trim().parse::<i64>()) {
        None => was.0,
        Some(Ok(0)) => None,
        Some(Ok(n)) if (1..=10_000).contains(&n) => Some(n),
        Some(_) => {
            return Err(usage(
                "capacity: is a number of places from 1 to 10000, or 0 for no limit.",
            ))
        }
    };
    let hide_names = match args.get("names").map(|n| n.trim().to_lowercase()) {
        None => was.1,
        Some(n) if n == "hidden" => true,
        Some(n) if n == "shown" => false,
        Some(_) => return Err(usage("names: is shown or hidden.")),
    };
    if (capacity, hide_names) == was {
        return Ok(());
    }
    let promoted = ctx
        .store
        .set_attendance(id, capacity, hide_names, now)
        .await?;
    if let Some(e) = ctx.store.event(id).await? {
        rsvp::let_in(ctx, &e, &promoted, now).await?;
    }
    Ok(())
}

/// Who is coming: the counts (and the capacity and waitlist, if it has one), and the names
/// of those going unless the moderators chose counts only.
async fn attendance(ctx: &Context, e: &EventRow, r: Reply) -> Result<Reply, CommandError> {
    let answers = ctx.store.rsvps_of(e.id).await?;
    let count = |a: &str| answers.iter().filter(|(_, x)| x == a).count();
    let (going, maybe, cant, waiting) = (
        count("going"),
        count("maybe"),
        count("cant"),
        count("waiting"),
    );
    let mut counts = format!("{going} going · {maybe} maybe · {cant} can't");
    if let Some(c) = e.capacity {
        counts.push_str(&format!(" · {c} place{}", if c == 1 { "" } else { "s" }));
        if going as i64 >= c {
            counts.push_str(" (full)");
        }
    }
    if waiting > 0 {
        counts.push_str(&format!(" · {waiting} waiting"));
    }
    let r = r.field("Coming", counts, false);
    if e.hide_names {
        return Ok(r);
    }
    let names = |a: &str| -> Vec<Item> {
        answers
            .iter()
            .filter(|(_, x)| x == a)
            .take(50)
            .map(|(u, _)| Item::new(Text::of([Span::Person(u.clone())])))
            .collect()
    };
    Ok(r.section("Going", names("going"))
        .section("Waitlist", names("waiting")))
}

/// When and where: the next occurrence (in the event's zone, and how far off), the
/// recurrence, the place and the duration.
fn schedule_fields(
    e: &EventRow,
    tz: Tz,
    now: DateTime<Utc>,
    upcoming: &[DateTime<Utc>],
    mut r: Reply,
) -> Reply {
    let next = upcoming.first().map(|o| {
        Text::of([Span::Time(Moment {
            zone: Some(tz.name().to_string()),
            relative: Some(relative(now, *o)),
            ..when::moment(*o, tz)
        })])
    });
    r = r.field(
        "Next",
        next.unwrap_or_else(|| "no upcoming occurrence".into()),
        false,
    );
    if let Some(rule) = e.rrule.as_deref().and_then(Recurrence::from_rrule) {
        r = r.field("Repeats", rule.to_string(), false);
    }
    r = r.field(
        "Where",
        e.place.as_deref().map(defang_mentions).unwrap_or_default(),
        false,
    );
    if let Some(d) = e.duration_min {
        r = r.field("Duration", format!("{d} minutes"), true);
    }
    r
}

/// Who and what the event is about: its organiser, topics and the actors it names.
fn subject_fields(atlas: &Atlas, e: &EventRow, mut r: Reply) -> Reply {
    if let Some(slug) = &e.organiser {
        if let Some(a) = atlas.actor_by_slug(slug) {
            r = r.field(
                "Organiser",
                format!("{} — /actor {}", a.name, super::actor::display_name(&a)),
                false,
            );
        }
    }
    if let Some(ts) = &e.topics {
        let names: Vec<String> = ts
            .split(',')
            .filter_map(|s| {
                atlas
                    .topics
                    .iter()
                    .find(|t| t.slug == s)
                    .map(|t| t.name.clone())
            })
            .collect();
        // Said plainly when the bot chose them: a moderator can correct them (topics:).
        let label = if e.inferred {
            "Topics (inferred from the title and description)"
        } else {
            "Topics"
        };
        r = r.field(label, names.join(", "), false);
    }
    if let Some(actors) = &e.actors {
        let names: Vec<String> = actors
            .split(',')
            .filter_map(|s| atlas.actor_by_slug(s))
            .map(|a| super::actor::display_name(&a))
            .collect();
        r = r.field("Actors named", names.join(", "), false);
    }
    r
}

fn ics_hint(now: DateTime<Utc>, next: Option<DateTime<Utc>>) -> String {
    match next {
        Some(n) if n - now < Duration::hours(1) => "starting soon".into(),
        _ => "times in the event's own zone".into(),
    }
}
