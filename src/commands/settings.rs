//! /settings show|timezone|channel|offsets|moderators|interested|agenda: a space's settings (moderators change
//! them; changed offsets re-plan every event of the space).

use super::invocation::Args;
use super::{Caller, Context};
use crate::domain::Target;
use crate::error::CommandError;
use crate::events::{describe_offset, parse_offsets, when};
use crate::reply::{Reply, Text};
use crate::scheduler::plan_event;
use crate::store::events::SpaceRow;

#[derive(Debug, Clone)]
pub struct Params {
    pub action: Action,
    pub args: Args,
}

/// The subcommands of /settings, decided at parse time (an unknown one is a usage error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Show,
    Timezone,
    Channel,
    Offsets,
    Moderators,
    Interested,
    Agenda,
}

pub fn parse(args: &Args) -> Result<Params, CommandError> {
    let action = match args.subcommand.as_deref() {
        None | Some("show") => Action::Show,
        Some("timezone") => Action::Timezone,
        Some("channel") => Action::Channel,
        Some("offsets") => Action::Offsets,
        Some("moderators") => Action::Moderators,
        Some("interested") => Action::Interested,
        Some("agenda") => Action::Agenda,
        Some(other) => {
            return Err(CommandError::usage(
                format!(
                    "/settings has no subcommand “{}”.",
                    super::shorten(other, 40)
                ),
                "/help settings",
            ))
        }
    };
    Ok(Params {
        action,
        args: args.clone(),
    })
}

pub async fn run(ctx: &Context, caller: &Caller, p: Params) -> Result<Reply, CommandError> {
    let now = ctx.clock.now();
    let mut space = ctx.store.space(&caller.space).await?;
    change(ctx, caller, p.action, &p.args, &mut space).await?;
    if p.action != Action::Show {
        ctx.store.update_space(&space, now).await?;
        if p.action == Action::Offsets {
            for e in ctx.store.events_of_space(&caller.space).await? {
                plan_event(&ctx.store, e.id, now).await?;
            }
        }
    }
    let channel = reminder_channel(ctx, caller, &space).await?;
    Ok(settings_reply(p.action, &space, channel))
}

/// Applies the subcommand to the space's settings (in memory; `run` saves them).
async fn change(
    ctx: &Context,
    caller: &Caller,
    action: Action,
    a: &Args,
    space: &mut SpaceRow,
) -> Result<(), CommandError> {
    match action {
        Action::Timezone => {
            let tz = when::zone(a.get("zone").unwrap_or_default()).map_err(|e| {
                CommandError::usage(e.to_string(), "/settings timezone Europe/Zurich")
            })?;
            space.timezone = tz.name().to_string();
        }
        Action::Channel => {
            // What a channel may be named is the platform's business: the adapter checked it.
            let channel = a.get("channel").unwrap_or_default().trim();
            space.reminder_target = Some(channel.chars().take(255).collect());
            // A new channel re-enables reminders to the space, if its old one had gone.
            ctx.store
                .enable_target(&caller.space, &Target::Space)
                .await?;
        }
        Action::Offsets => {
            let offsets = parse_offsets(a.get("offsets").unwrap_or_default())
                .map_err(|e| CommandError::usage(e, "/settings offsets 1d,1h"))?;
            space.offsets = offsets
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",");
        }
        Action::Moderators => set_moderators(a, space)?,
        Action::Interested => set_interested(a, space)?,
        Action::Agenda => set_agenda(a, space)?,
        Action::Show => {}
    }
    Ok(())
}

fn set_moderators(a: &Args, space: &mut SpaceRow) -> Result<(), CommandError> {
    if a.get("role").is_none() && a.integer("power").is_none() {
        return Err(CommandError::usage(
            "Give role: (Discord) or power: (Matrix).",
            "/settings moderators power:50",
        ));
    }
    if let Some(role) = a.get("role") {
        space.moderator_role = Some(role.chars().take(100).collect());
    }
    if let Some(power) = a.integer("power") {
        space.moderator_power = power;
    }
    Ok(())
}

/// `weekly monday 09:00`, `daily 08:00` (in the space's zone), or `off`.
fn set_agenda(a: &Args, space: &mut SpaceRow) -> Result<(), CommandError> {
    use crate::events::agenda::{Agenda, EXAMPLE};
    let when = a.get("when").unwrap_or_default().trim();
    if when.eq_ignore_ascii_case("off") || when.eq_ignore_ascii_case("none") {
        space.agenda = None;
        return Ok(());
    }
    let agenda =
        Agenda::parse(when).map_err(|why| CommandError::usage(format!("{why}."), EXAMPLE))?;
    space.agenda = Some(agenda.stored());
    Ok(())
}

fn set_interested(a: &Args, space: &mut SpaceRow) -> Result<(), CommandError> {
    let how = a.get("how").unwrap_or_default().trim().to_ascii_lowercase();
    if !matches!(how.as_str(), "mention" | "dm") {
        return Err(CommandError::usage(
            "interested takes mention (named in the space's reminder) or dm (a direct message each).",
            "/settings interested dm",
        ));
    }
    space.interested = how;
    Ok(())
}

/// Where reminders go, and whether they are off because that channel was found gone.
async fn reminder_channel(
    ctx: &Context,
    caller: &Caller,
    space: &SpaceRow,
) -> Result<String, CommandError> {
    let mut channel = space
        .reminder_target
        .clone()
        .unwrap_or_else(|| "where the space lives".into());
    // A channel found gone stays off until a moderator sets one: say so where they look.
    if let Some(why) = ctx
        .store
        .disabled_targets(&caller.space)
        .await?
        .get(&Target::Space)
    {
        channel.push_str(&format!(
            " — off: {} (set a channel with /settings channel to turn reminders back on)",
            why.chars().take(200).collect::<String>()
        ));
    }
    Ok(channel)
}

/// The space's settings as they now are.
fn settings_reply(action: Action, space: &SpaceRow, channel: String) -> Reply {
    let offsets = parse_offsets(&space.offsets)
        .unwrap_or_default()
        .iter()
        .map(|o| describe_offset(*o))
        .collect::<Vec<_>>()
        .join(", ");
    let mut r = Reply::answer(if action == Action::Show {
        "Settings of this space"
    } else {
        "Settings updated"
    });
    r.summary = Some(Text::plain(format!("Space: {}", space.id)));
    r.field("Time zone", space.timezone.clone(), true)
        .field("Reminders", format!("{offsets} before each event"), true)
        .field("Reminder channel", channel, false)
        .field("Moderators", describe_moderators(space), false)
        .field("Agenda", describe_agenda(space), false)
        .field(
            "Interested on Discord",
            if space.interested == "dm" {
                "sent a direct message each at reminder time"
            } else {
                "named in the space's reminder"
            },
            false,
        )
}

fn describe_agenda(space: &SpaceRow) -> String {
    match &space.agenda {
        None => "not posted (/settings agenda weekly monday 09:00)".into(),
        Some(a) => format!(
            "{a} ({}): the coming period's events, in the reminder channel; nothing when nothing is on",
            space.timezone
        ),
    }
}

fn describe_moderators(space: &SpaceRow) -> String {
    format!(
        "{}Matrix power level ≥ {}",
        space
            .moderator_role
            .as_ref()
            .map(|r| format!("Discord role {r}; "))
            .unwrap_or_default(),
        space.moderator_power
    )
}
