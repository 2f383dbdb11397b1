//! Discord: slash commands, autocomplete, paging buttons and reminders, over the gateway
//! (`atlasbot discord`) or the HTTP interactions endpoint (`atlasbot discord-http`).
//!
//! Both transports hand the same interaction JSON to `handle`, which turns it into the core's
//! terms (command, subcommand, named values, a `Caller` with the member's permissions) and the
//! core's `Reply` into Discord's response — embeds within every limit, ephemeral for errors,
//! usage and personal commands, no mentions. Permissions are decided here from what Discord
//! says about the member, never from the UI hint set at registration.

pub mod budget;
pub mod endpoint;
pub mod gateway;
pub mod limits;
pub mod mirror;
pub mod register;
pub mod rest;
pub mod sessions;

use crate::domain::{Platform, SpaceId, Target};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::{json, Value};

use crate::commands::{self, spec, Caller, CommandName, Context};
use crate::render::discord as embeds;
use crate::reply::{Reply, Tone, Visibility};
use crate::scheduler::{Delivery, DeliveryError, Outbox};

use self::rest::{Rest, RestError};

/// Discord permission bits that make a member a moderator of the bot's events.
const ADMINISTRATOR: u64 = 1 << 3;
const MANAGE_GUILD: u64 = 1 << 5;
const MANAGE_EVENTS: u64 = 1 << 33;
/// The UI hint given at registration for moderator-only commands (Manage Events or Server).
pub const MODERATOR_PERMISSIONS: u64 = MANAGE_EVENTS | MANAGE_GUILD;

/// Message flag: only the person who asked sees it.
const EPHEMERAL: u64 = 1 << 6;

/// The message menu's command: what the atlas knows of the names in a message.
pub const LOOK_UP_MESSAGE: &str = "Look up in atlas";
/// `data.type` of a command from the message menu.
const MESSAGE_MENU: u64 = 3;

/// Interaction and response types (https://discord.com/developers/docs/interactions).
mod kind {
    pub const PING: u64 = 1;
    pub const COMMAND: u64 = 2;
    pub const COMPONENT: u64 = 3;
    pub const AUTOCOMPLETE: u64 = 4;
    pub const MODAL_SUBMIT: u64 = 5;
    pub const PONG: u64 = 1;
    pub const MESSAGE: u64 = 4;
    pub const DEFERRED_MESSAGE: u64 = 5;
    pub const UPDATE_MESSAGE: u64 = 7;
    pub const CHOICES: u64 = 8;
    pub const MODAL: u64 = 9;
}

/// What to answer an interaction with, and any work that continues after the answer.
pub struct Handled {
    pub response: Value,
    pub follow_up: Option<FollowUp>,
    /// A lookup's answer (not a failure): the same question may get it again, for the same
    /// atlas (`lookup_line`).
    pub reusable: bool,
}

impl Handled {
    /// A response and nothing more: no follow-up, nothing to keep.
    fn done(response: Value) -> Handled {
        Handled {
            response,
            follow_up: None,
            reusable: false,
        }
    }
}

/// The canonical line of a lookup command (`CommandName::is_lookup`): the key under which its
/// rendered answer may be kept for the atlas it came from. None for anything else.
pub fn lookup_line(i: &Value) -> Option<String> {
    if i["type"].as_u64() != Some(kind::COMMAND) {
        return None;
    }
    let data = &i["data"];
    let command = spec::find(data["name"].as_str()?)?;
    let options = options_of(data);
    if !command.is_lookup() || deferred(command, options.subcommand.as_deref()) {
        return None;
    }
    Some(commands::invocation::line_of(
        command,
        options.subcommand.as_deref(),
        &options.values,
    ))
}

/// A deferred command: run after the "thinking…" response, its answer posted as a follow-up.
pub struct FollowUp {
    pub application: String,
    pub token: String,
    pub caller: Caller,
    pub command: CommandName,
    pub subcommand: Option<String>,
    pub values: Vec<(String, String)>,
    /// Uploaded files, by option name: where Discord keeps them and their size. They are
    /// fetched after the deferred response and passed on as the options' values.
    pub files: Vec<(String, String, u64)>,
    /// When the interaction arrived: its token lasts 15 minutes, after which a follow-up is
    /// refused (and counted against the bot's address), so none is sent.
    pub received: std::time::Instant,
    /// An answer already made (an RSVP button updates the card in its response and tells
    /// the clicker privately here): sent as it is instead of running the command.
    pub ready: Option<Reply>,
}

/// How long an interaction's token may still be used for a follow-up (Discord: 15 minutes).
const FOLLOW_UP_WITHIN: std::time::Duration = std::time::Duration::from_secs(14 * 60);

/// Commands that may take longer than Discord's 3 seconds, or answer with a file.
fn deferred(command: CommandName, subcommand: Option<&str>) -> bool {
    command == CommandName::Event && matches!(subcommand, Some("export" | "import"))
}

/// Whether only the asker should see the reply: errors, usage, not-found, help and the
/// personal commands.
fn ephemeral(command: Option<CommandName>, reply: &Reply) -> bool {
    reply.visibility == Visibility::Private
        || !matches!(reply.tone, Tone::Answer)
        || matches!(
            command,
            Some(
                CommandName::Help
                    | CommandName::Remind
                    | CommandName::Reminders
                    | CommandName::Follow
                    | CommandName::Unfollow
                    | CommandName::Following
            )
        )
}

/// A message for a reply, flagged ephemeral when it should be.
pub fn message(command: Option<CommandName>, reply: &Reply) -> Value {
    let mut m = embeds::message(reply);
    if ephemeral(command, reply) {
        m["flags"] = json!(EPHEMERAL);
    }
    m
}

/// The person asking, where, and whether they moderate: Manage Events, Manage Server or
/// Administrator in the channel (Discord computes `member.permissions` for us), or the role
/// the space's settings name. In a direct message the person is alone in their own space.
/// The role is looked up only when `role_matters` (the command's answer depends on it).
pub async fn caller_of(ctx: &Context, i: &Value, role_matters: bool) -> Caller {
    let channel = i["channel_id"].as_str().map(str::to_string);
    let Some(guild) = i["guild_id"].as_str() else {
        let user = i["user"]["id"].as_str().unwrap_or_default().to_string();
        return Caller {
            platform: Platform::Discord,
            space: SpaceId::discord(&format!("dm-{user}")),
            user,
            moderator: true,
            channel,
        };
    };
    let member = &i["member"];
    let user = member["user"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let permissions: u64 = member["permissions"]
        .as_str()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let space = SpaceId::discord(guild);
    let by_permission = permissions & (ADMINISTRATOR | MANAGE_GUILD | MANAGE_EVENTS) != 0;
    let by_role = if by_permission || !role_matters {
        false
    } else {
        match ctx.store.space(&space).await {
            Ok(s) => s.moderator_role.is_some_and(|role| {
                member["roles"]
                    .as_array()
                    .is_some_and(|roles| roles.iter().any(|r| r.as_str() == Some(role.as_str())))
            }),
            Err(e) => {
                tracing::error!(error = %e, "cannot read the space's settings");
                false
            }
        }
    };
    Caller {
        platform: Platform::Discord,
        space,
        user,
        moderator: by_permission || by_role,
        channel,
    }
}

/// A command interaction's options: its subcommand, its named values, and the option being
/// typed (autocomplete).
struct Options {
    subcommand: Option<String>,
    values: Vec<(String, String)>,
    focused: Option<(String, String)>,
}

fn options_of(data: &Value) -> Options {
    let empty = vec![];
    let mut options = data["options"].as_array().unwrap_or(&empty);
    let mut subcommand = None;
    if let Some(first) = options.first() {
        // Type 1: a subcommand, whose own options follow.
        if first["type"].as_u64() == Some(1) {
            subcommand = first["name"].as_str().map(str::to_string);
            options = first["options"].as_array().unwrap_or(&empty);
        }
    }
    let mut values = Vec::new();
    let mut focused = None;
    for o in options {
        let name = o["name"].as_str().unwrap_or_default().to_string();
        let value = match &o["value"] {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => continue,
        };
        if o["focused"].as_bool() == Some(true) {
            focused = Some((name.clone(), value.clone()));
        }
        values.push((name, value));
    }
    Options {
        subcommand,
        values,
        focused,
    }
}

fn reply_message(response_type: u64, command: Option<CommandName>, reply: &Reply) -> Value {
    json!({"type": response_type, "data": message(command, reply)})
}

fn notice(text: &str) -> Reply {
    let mut r = Reply::new(Tone::Usage);
    r.summary = Some(crate::reply::Text::plain(text));
    r
}

/// Answers one interaction. Never fails: anything unexpected becomes a private message, and
/// a bug that panics becomes an answer with an incident id (never a silent "interaction
/// failed").
pub async fn handle(ctx: &Context, i: &Value) -> Handled {
    match crate::error::contained("discord interaction", handle_unguarded(ctx, i)).await {
        Ok(handled) => handled,
        Err(reply) => Handled {
            response: reply_message(kind::MESSAGE, None, &reply),
            follow_up: None,
            reusable: false,
        },
    }
}

async fn handle_unguarded(ctx: &Context, i: &Value) -> Handled {
    let done = Handled::done;
    match i["type"].as_u64().unwrap_or(0) {
        kind::PING => done(json!({"type": kind::PONG})),
        kind::COMMAND if i["data"]["type"].as_u64() == Some(MESSAGE_MENU) => {
            done(look_up_message(ctx, &i["data"]).await)
        }
        kind::COMMAND => command_invoked(ctx, i).await,
        kind::AUTOCOMPLETE => done(autocompleted(ctx, &i["data"]).await),
        kind::COMPONENT => match rsvp_on_card(ctx, i).await {
            Some(handled) => handled,
            None => done(clicked(ctx, i).await),
        },
        kind::MODAL_SUBMIT => done(submitted(ctx, i).await),
        _ => done(reply_message(
            kind::MESSAGE,
            None,
            &notice("I cannot handle that kind of interaction."),
        )),
    }
}

/// A slash command: its form when started bare, a deferred answer for the slow ones, else
/// the answer itself.
async fn command_invoked(ctx: &Context, i: &Value) -> Handled {
    let data = &i["data"];
    let name = data["name"].as_str().unwrap_or_default();
    let Some(command) = spec::find(name) else {
        return Handled::done(reply_message(
            kind::MESSAGE,
            None,
            &notice("I no longer know that command; try /help."),
        ));
    };
    let Options {
        subcommand, values, ..
    } = options_of(data);
    let caller = caller_of(ctx, i, command.depends_on_role()).await;
    if values.is_empty() {
        if let Some(form) = form(command, subcommand.as_deref(), &caller) {
            return Handled::done(form);
        }
    }
    if deferred(command, subcommand.as_deref()) {
        return deferral(i, caller, command, subcommand, values);
    }
    let reply =
        commands::answer_values(ctx, &caller, command, subcommand.as_deref(), &values).await;
    Handled {
        response: reply_message(kind::MESSAGE, Some(command), &reply),
        follow_up: None,
        reusable: command.is_lookup() && reply.tone != Tone::Failure,
    }
}

/// "Thinking…" now, and the command run as a follow-up (`follow_up`); private for an import.
fn deferral(
    i: &Value,
    caller: Caller,
    command: CommandName,
    subcommand: Option<String>,
    values: Vec<(String, String)>,
) -> Handled {
    let private = command == CommandName::Event && subcommand.as_deref() == Some("import");
    let mut response = json!({"type": kind::DEFERRED_MESSAGE,
        "data": {"allowed_mentions": {"parse": []}}});
    if private {
        response["data"]["flags"] = json!(EPHEMERAL);
    }
    let files = files_of(&i["data"], &values);
    Handled {
        response,
        reusable: false,
        follow_up: Some(FollowUp {
            files,
            application: i["application_id"].as_str().unwrap_or_default().to_string(),
            token: i["token"].as_str().unwrap_or_default().to_string(),
            caller,
            command,
            subcommand,
            values,
            received: std::time::Instant::now(),
            ready: None,
        }),
    }
}

/// The choices for the option being typed.
async fn autocompleted(ctx: &Context, data: &Value) -> Value {
    let command = spec::find(data["name"].as_str().unwrap_or_default());
    let focused = options_of(data).focused;
    let choices = match (command, focused, ctx.atlas().await) {
        (Some(c), Some((option, partial)), Ok(index)) => {
            commands::autocomplete::complete(&index, c, &option, &partial)
        }
        _ => vec![],
    };
    json!({"type": kind::CHOICES, "data": {"choices": choices}})
}

/// The form of a subcommand started bare (`/event add` alone): Discord's modal, one text
/// field per option the manifest's `form` names. None when it has no form — or when the
/// person may not run it, so that nobody fills in a form only to be refused.
fn form(command: CommandName, subcommand: Option<&str>, caller: &Caller) -> Option<Value> {
    let manifest = spec::manifest(command);
    let sub = manifest.subcommand(subcommand?)?;
    if sub.form.is_empty() {
        return None;
    }
    if let Some(refused) = commands::refusal(command, subcommand, caller) {
        return Some(reply_message(kind::MESSAGE, Some(command), &refused));
    }
    let rows: Vec<Value> = sub
        .form
        .iter()
        .filter_map(|name| sub.options.iter().find(|o| &o.name == name))
        .map(|o| {
            let long = o.name == "description";
            json!({"type": 1, "components": [{
                "type": 4,
                "custom_id": o.name,
                "label": form_label(&o.name),
                "style": if long { 2 } else { 1 },
                "required": o.required,
                "max_length": if long { commands::MAX_INPUT_CHARS } else { 200 },
                "placeholder": o.description.chars().take(100).collect::<String>(),
            }]})
        })
        .collect();
    Some(json!({"type": kind::MODAL, "data": {
        "custom_id": format!("form:{} {}", manifest.name, sub.name),
        "title": sub.summary.chars().take(45).collect::<String>(),
        "components": rows,
    }}))
}

/// "when" → "When" (a text field's label: at most 45 characters).
fn form_label(option: &str) -> String {
    let mut c = option.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// A form sent back: its fields are the subcommand's options (the empty ones left out),
/// answered as if typed.
async fn submitted(ctx: &Context, i: &Value) -> Value {
    let data = &i["data"];
    let id = data["custom_id"].as_str().unwrap_or_default();
    let target = id
        .strip_prefix("form:")
        .and_then(|rest| rest.split_once(' '))
        .and_then(|(c, s)| Some((spec::find(c)?, s)));
    let Some((command, subcommand)) = target else {
        return reply_message(
            kind::MESSAGE,
            None,
            &notice("That form no longer works; use the command again."),
        );
    };
    let values: Vec<(String, String)> = data["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter_map(|field| {
            let name = field["custom_id"].as_str()?.to_string();
            let value = field["value"].as_str()?.trim().to_string();
            (!value.is_empty()).then_some((name, value))
        })
        .collect();
    let caller = caller_of(ctx, i, command.depends_on_role()).await;
    let reply = commands::answer_values(ctx, &caller, command, Some(subcommand), &values).await;
    reply_message(kind::MESSAGE, Some(command), &reply)
}

/// Going / Maybe / Can't on an event's card: the answer is recorded, the card is updated in
/// place for everyone (its counts and who is going), and the clicker alone is told where they
/// stand (a follow-up: "number 2 on the waitlist"). None: not an RSVP button on a card.
async fn rsvp_on_card(ctx: &Context, i: &Value) -> Option<Handled> {
    let id = i["data"]["custom_id"].as_str().unwrap_or_default();
    let Some(embeds::Button::Run(line)) = embeds::button_of(id) else {
        return None;
    };
    let event = line.strip_prefix("/rsvp ")?.split_whitespace().next()?;
    if !on_a_card(&i["message"]) {
        return None;
    }
    // The clicker read once: the card they are shown again is an /event command, whose answer
    // may depend on their role.
    let caller = caller_of(ctx, i, CommandName::Event.depends_on_role()).await;
    let answered = commands::answer(ctx, &caller, line).await;
    if answered.tone != Tone::Answer {
        return Some(Handled::done(private_message(&answered)));
    }
    let card = commands::answer(ctx, &caller, &format!("/event show {event}")).await;
    let response = json!({"type": kind::UPDATE_MESSAGE, "data": embeds::message(&card)});
    Some(Handled {
        response,
        reusable: false,
        follow_up: Some(FollowUp {
            files: vec![],
            application: i["application_id"].as_str().unwrap_or_default().to_string(),
            token: i["token"].as_str().unwrap_or_default().to_string(),
            caller,
            command: CommandName::Rsvp,
            subcommand: None,
            values: vec![],
            received: std::time::Instant::now(),
            ready: Some(answered),
        }),
    })
}

/// Whether a message is an event's card: it carries all three RSVP buttons (a note with a
/// single "Can't go" is not one, and is not turned into a card).
fn on_a_card(message: &Value) -> bool {
    let rsvps = message["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().into_iter().flatten())
        .filter_map(|b| b["custom_id"].as_str())
        .filter(|c| matches!(embeds::button_of(c), Some(embeds::Button::Run(l)) if l.starts_with("/rsvp ")))
        .count();
    rsvps >= 3
}

fn private_message(reply: &Reply) -> Value {
    let mut m = embeds::message(reply);
    m["flags"] = json!(EPHEMERAL);
    json!({"type": kind::MESSAGE, "data": m})
}

/// A button: another page replaces the message; anything else acts for the clicker and
/// answers them alone, leaving the shared message as it was.
async fn clicked(ctx: &Context, i: &Value) -> Value {
    use embeds::Button;
    let id = i["data"]["custom_id"].as_str().unwrap_or_default();
    let reply = match embeds::button_of(id) {
        Some(Button::Page(line)) => {
            let reply = run_as_clicker(ctx, i, line).await;
            if reply.tone == Tone::Answer {
                // An update keeps the message's own visibility: no flags.
                return json!({"type": kind::UPDATE_MESSAGE, "data": embeds::message(&reply)});
            }
            reply
        }
        Some(Button::Run(line)) => run_as_clicker(ctx, i, line).await,
        Some(Button::Snooze { minutes, key }) => {
            let caller = caller_of(ctx, i, false).await;
            commands::snooze(ctx, &caller, key, minutes).await
        }
        Some(Button::StopReminding(event)) => {
            let caller = caller_of(ctx, i, false).await;
            commands::stop_reminding(ctx, &caller, crate::domain::EventId(event)).await
        }
        None => notice("That button no longer works; ask again."),
    };
    let mut m = embeds::message(&reply);
    m["flags"] = json!(EPHEMERAL);
    json!({"type": kind::MESSAGE, "data": m})
}

async fn run_as_clicker(ctx: &Context, i: &Value, line: &str) -> Reply {
    let role_matters = commands::bind(line).is_none_or(|b| b.command.depends_on_role());
    let caller = caller_of(ctx, i, role_matters).await;
    commands::answer(ctx, &caller, line).await
}

/// "Look up in atlas" on a message: its text from the interaction's resolved data (Discord
/// sends the target message, no intent needed), the answer only for the person who asked.
async fn look_up_message(ctx: &Context, data: &Value) -> Value {
    if data["name"].as_str() != Some(LOOK_UP_MESSAGE) {
        return reply_message(
            kind::MESSAGE,
            None,
            &notice("I no longer know that command; try /help."),
        );
    }
    let target = data["target_id"].as_str().unwrap_or_default();
    let text = data["resolved"]["messages"][target]["content"]
        .as_str()
        .unwrap_or_default();
    let reply = match ctx.atlas().await {
        Ok(atlas) => commands::look_up::run(&atlas, text),
        Err(e) => crate::error::into_reply(e.into(), LOOK_UP_MESSAGE),
    };
    let mut message = message(None, &reply);
    message["flags"] = json!(EPHEMERAL);
    json!({"type": kind::MESSAGE, "data": message})
}

/// The files attached to a command: (option, url, size) from the interaction's resolved data.
fn files_of(data: &Value, values: &[(String, String)]) -> Vec<(String, String, u64)> {
    values
        .iter()
        .filter_map(|(name, id)| {
            let a = &data["resolved"]["attachments"][id.as_str()];
            Some((
                name.clone(),
                a["url"].as_str()?.to_string(),
                a["size"].as_u64().unwrap_or(0),
            ))
        })
        .collect()
}

/// Runs a deferred command and posts its answer (and file) as the follow-up.
/// Runs a deferred command and posts its answer; a bug that panics still gets the person an
/// answer (with an incident id) instead of "thinking…" forever.
pub async fn follow_up(ctx: &Context, rest: &Rest, f: FollowUp) {
    let (application, token, received) = (f.application.clone(), f.token.clone(), f.received);
    if let Err(reply) =
        crate::error::contained("discord follow-up", follow_up_unguarded(ctx, rest, f)).await
    {
        if received.elapsed() > FOLLOW_UP_WITHIN {
            return;
        }
        let mut message = message(None, &reply);
        message["allowed_mentions"] = json!({"parse": []});
        if let Err(e) = rest.follow_up(&application, &token, &message, None).await {
            tracing::warn!(error = %e, "cannot send a follow-up");
        }
    }
}

async fn follow_up_unguarded(ctx: &Context, rest: &Rest, mut f: FollowUp) {
    if let Some(reply) = f.ready.take() {
        let mut message = message(Some(f.command), &reply);
        message["allowed_mentions"] = json!({"parse": []});
        if reply.visibility == crate::reply::Visibility::Private {
            message["flags"] = json!(EPHEMERAL);
        }
        if let Err(e) = rest
            .follow_up(&f.application, &f.token, &message, None)
            .await
        {
            tracing::warn!(error = %e, "cannot send a follow-up");
        }
        return;
    }
    // Refused before anything is downloaded for someone who may not run the command.
    let refused = commands::refusal(f.command, f.subcommand.as_deref(), &f.caller);
    let fetched = match refused {
        Some(r) => Err(r),
        None => fetch_files(rest, &mut f).await.map_err(|why| notice(&why)),
    };
    let reply = match fetched {
        Ok(()) => {
            commands::answer_values(
                ctx,
                &f.caller,
                f.command,
                f.subcommand.as_deref(),
                &f.values,
            )
            .await
        }
        Err(reply) => reply,
    };
    let mut message = message(Some(f.command), &reply);
    let file = reply.attachment.as_ref().map(|a| rest::File {
        name: a.filename.clone(),
        media_type: a.media_type.clone(),
        content: a.content.as_bytes().to_vec(),
    });
    message["allowed_mentions"] = json!({"parse": []});
    if f.received.elapsed() > FOLLOW_UP_WITHIN {
        tracing::warn!("an answer took longer than its interaction lasts; not sent");
        return;
    }
    if let Err(e) = rest
        .follow_up(&f.application, &f.token, &message, file.as_ref())
        .await
    {
        tracing::warn!(error = %e, "cannot send a follow-up");
    }
}

/// Replaces each attachment's id by the file's content (refusing big or non-text files
/// before they are read in full).
async fn fetch_files(rest: &Rest, f: &mut FollowUp) -> Result<(), String> {
    for (name, url, size) in &f.files {
        if *size as usize > crate::events::ical::MAX_BYTES {
            return Err(crate::events::ical::too_big(*size as usize));
        }
        let bytes = rest
            .download(url, crate::events::ical::MAX_BYTES)
            .await
            .map_err(|e| {
                format!("I could not fetch the attached file ({e}). Nothing was imported.")
            })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            "The attached file is not text (an .ics file is). Nothing was imported.".to_string()
        })?;
        for (n, v) in f.values.iter_mut() {
            if n == name {
                *v = text.clone();
            }
        }
    }
    Ok(())
}

/// The question in a message, when it is one for the bot: a direct message, or a guild
/// message that mentions the bot — from a person (not a bot, not a webhook, not the bot
/// itself), of the default or reply type, with the mention taken out. A slash command written
/// out ("@bot /actor WIPO") is kept as it is; other words are asked with /ask. Bounded.
pub fn question_in(d: &Value, me: &str) -> Option<String> {
    let author = &d["author"];
    if author["bot"].as_bool() == Some(true)
        || author["id"].as_str() == Some(me)
        || d["webhook_id"].is_string()
        || !matches!(d["type"].as_u64(), Some(0 | 19) | None)
    {
        return None;
    }
    let direct = d["guild_id"].is_null();
    let mentioned = d["mentions"]
        .as_array()
        .is_some_and(|m| m.iter().any(|u| u["id"].as_str() == Some(me)));
    if !direct && !mentioned {
        return None;
    }
    let content: String = d["content"].as_str()?.chars().take(2000).collect();
    let text = content
        .replace(&format!("<@{me}>"), " ")
        .replace(&format!("<@!{me}>"), " ");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return Some("/help".into());
    }
    Some(if text.starts_with('/') {
        text
    } else {
        format!("/ask {text}")
    })
}

/// At most this many questions by message per person per window (answers are messages the
/// bot posts: a person cannot make it post without bound).
const QUESTIONS_PER_WINDOW: usize = 20;

/// Answers a question asked in a message with a reply to that message. The person asks as
/// a member (a message carries no permissions; moderators use the commands), in a direct
/// message as the person in their own space. The nonce makes a repeated delivery of the same
/// message one answer.
pub async fn answer_question(ctx: &Context, rest: &Rest, d: &Value, line: &str) {
    let (Some(channel), Some(id), Some(user)) = (
        d["channel_id"].as_str(),
        d["id"].as_str(),
        d["author"]["id"].as_str(),
    ) else {
        return;
    };
    let caller = match d["guild_id"].as_str() {
        Some(guild) => Caller {
            platform: Platform::Discord,
            space: SpaceId::discord(guild),
            user: user.to_string(),
            moderator: false,
            channel: Some(channel.to_string()),
        },
        None => Caller {
            platform: Platform::Discord,
            space: SpaceId::discord(&format!("dm-{user}")),
            user: user.to_string(),
            moderator: true,
            channel: Some(channel.to_string()),
        },
    };
    let budget = Caller {
        user: format!("{user}/questions"),
        ..caller.clone()
    };
    if !ctx.changes_allowed_within(&budget, ctx.clock.now(), QUESTIONS_PER_WINDOW) {
        return;
    }
    let reply = crate::commands::answer(ctx, &caller, line).await;
    let mut msg = embeds::message(&reply);
    msg["message_reference"] = json!({"message_id": id, "fail_if_not_exists": false});
    if let Err(e) = rest
        .send_message(channel, &msg, &nonce(&format!("ask:{id}")))
        .await
    {
        tracing::warn!(error = %e, "cannot answer a question asked in a message");
    }
}

/// A nonce for a reminder key: Discord allows 25 characters, keys are longer, so a stable
/// 64-bit FNV-1a hash of the key, in hex.
pub fn nonce(key: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Gone: the channel or the bot's access to it is gone (403, 404), or the person does not
/// take direct messages (50007). Everything else is worth another try later.
fn delivery_error(e: RestError) -> DeliveryError {
    match (e.status(), e.code()) {
        (Some(403 | 404), _) | (_, Some(50007)) => DeliveryError::Gone(e.to_string()),
        _ => DeliveryError::Temporary(e.to_string()),
    }
}

/// A moderator's `/settings` in a guild (a command, not its autocomplete) may follow a
/// permission they just granted or a channel they fixed: what Discord refused in that guild
/// and that channel is asked again once (`Rest::permissions_changed_in`, itself rate-limited).
pub(crate) fn note_moderator_action(rest: &Rest, interaction: &Value) {
    let permissions: u64 = interaction["member"]["permissions"]
        .as_str()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let command = interaction["data"]["name"].as_str().unwrap_or_default();
    let Some(guild) = interaction["guild_id"].as_str() else {
        return;
    };
    if interaction["type"].as_u64() == Some(kind::COMMAND)
        && permissions & (ADMINISTRATOR | MANAGE_GUILD | MANAGE_EVENTS) != 0
        && command == "settings"
    {
        rest.permissions_changed_in(guild, interaction["channel_id"].as_str());
    }
}

/// Reminders on Discord: channel messages with a nonce, personal ones by direct message,
/// moderators' notices to the guild's system channel.
pub struct DiscordOutbox {
    pub ctx: Context,
    pub rest: Arc<Rest>,
}

/// Direct messages of one reminder's fan-out in flight at once.
const DIRECT_AT_ONCE: usize = 8;

/// At most this many people "Interested" are named in one reminder: a message's content holds
/// 2 000 characters, a mention up to 24.
const MAX_MENTIONED: usize = 80;

/// Who is "Interested" in the Scheduled Event of a reminder's occurrence, and how the space
/// wants them reminded.
#[derive(Default)]
struct Interested {
    mention: Vec<String>,
    direct: Vec<String>,
}

impl DiscordOutbox {
    /// The people Interested in the occurrence `d` is about (its mirrored Scheduled Event,
    /// fetched over REST — no gateway intent needed). Nobody if anything is missing: the
    /// reminder itself never waits on this.
    async fn interested(&self, d: &Delivery) -> Interested {
        let (Target::Space, Some((event, occurrence))) = (&d.target, d.about) else {
            return Interested::default();
        };
        let guild = d.space.local();
        if rest::snowflake(guild).is_err() {
            return Interested::default();
        }
        let found = async {
            let mirrors = self.ctx.store.mirrors_of_guild(guild).await.ok()?;
            let occurrence_utc = crate::store::events::ts(occurrence);
            let id = mirrors
                .into_iter()
                .find(|m| m.event_id == event && m.occurrence_utc == occurrence_utc)?
                .discord_id?;
            match self.rest.interested(guild, &id, MAX_MENTIONED).await {
                Ok(users) => Some(users),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read who is Interested; reminding the channel only");
                    None
                }
            }
        };
        let Some(users) = found.await else {
            return Interested::default();
        };
        let Ok(space) = self.ctx.store.space(&d.space).await else {
            return Interested::default();
        };
        if space.interested != "dm" {
            return Interested {
                mention: users,
                direct: vec![],
            };
        }
        // Whoever has a personal reminder for the event gets that one, not a second.
        let personal: Vec<String> = self
            .ctx
            .store
            .subscriptions_of_event(event)
            .await
            .map(|s| s.into_iter().map(|(user, _)| user).collect())
            .unwrap_or_default();
        Interested {
            mention: vec![],
            direct: users
                .into_iter()
                .filter(|u| !personal.contains(u))
                .collect(),
        }
    }

    /// A copy of the space's reminder, by direct message, to each Interested person (under a
    /// nonce of its own per person), `DIRECT_AT_ONCE` at a time — the client keeps Discord's
    /// limits, so 80 people take what the limits allow, not 160 answers one after another.
    /// One who does not take direct messages is skipped.
    async fn tell_directly(&self, d: &Delivery, users: &[String]) {
        use futures_util::StreamExt;
        let mut reply = d.reply.clone();
        // Its buttons act in the server; a direct message is not there.
        reply.actions.clear();
        let message = embeds::message(&reply);
        let message = &message;
        futures_util::stream::iter(users)
            .for_each_concurrent(DIRECT_AT_ONCE, |user| async move {
                let sent = async {
                    let channel = self.rest.create_dm(user).await?;
                    let nonce = nonce(&format!("{}/{user}", d.key));
                    self.rest.send_message(&channel, message, &nonce).await
                };
                if let Err(e) = sent.await {
                    tracing::warn!(%user, error = %e, "cannot send an Interested person their reminder");
                }
            })
            .await;
    }

    async fn deliver_one(&self, d: &Delivery) -> Result<(), DeliveryError> {
        let mut message = embeds::message(&d.reply);
        let interested = self.interested(d).await;
        if !interested.mention.is_empty() {
            let mentions: Vec<String> = interested
                .mention
                .iter()
                .map(|u| format!("<@{u}>"))
                .collect();
            message["content"] = json!(format!("Interested: {}", mentions.join(" ")));
            // Exactly these people, and nobody else (no roles, no @everyone).
            message["allowed_mentions"] = json!({"parse": [], "users": interested.mention});
        }
        let space = || async {
            self.ctx
                .store
                .space(&d.space)
                .await
                .map_err(|e| DeliveryError::Temporary(e.to_string()))
        };
        let guild = d.space.local();
        let channel = match &d.target {
            Target::User(user) => self.rest.create_dm(user).await.map_err(delivery_error)?,
            Target::Moderators => {
                let system = if rest::snowflake(guild).is_ok() {
                    self.rest.system_channel(guild).await.ok().flatten()
                } else {
                    None
                };
                system.or(space().await?.reminder_target).ok_or_else(|| {
                    DeliveryError::Gone("no channel to tell the moderators in".into())
                })?
            }
            Target::Space => space().await?.reminder_target.ok_or_else(|| {
                DeliveryError::Gone(
                    "no reminder channel: a moderator can set one with /settings channel".into(),
                )
            })?,
            // The scheduler turns it into one reminder per follower; never sent as such.
            Target::Followers => {
                return Err(DeliveryError::Gone(crate::scheduler::NOT_SENT.into()))
            }
        };
        self.rest
            .send_message(&channel, &message, &nonce(&d.key))
            .await
            .map_err(delivery_error)?;
        self.tell_directly(d, &interested.direct).await;
        Ok(())
    }
}

impl Outbox for DiscordOutbox {
    fn deliver<'a>(
        &'a self,
        d: &'a Delivery,
    ) -> Pin<Box<dyn Future<Output = Result<(), DeliveryError>> + Send + 'a>> {
        Box::pin(self.deliver_one(d))
    }
}

/// The scheduler and the Events-tab mirror, running until `stop`.
pub struct Reminders {
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Reminders {
    /// Stops both and waits (bounded) for a delivery in flight to be recorded.
    pub async fn finish(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            super::finish_reminders(task).await;
        }
    }
}

/// Starts the scheduler for Discord's spaces.
pub fn start_reminders(ctx: &Context, rest: Arc<Rest>) -> Reminders {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let outbox = Arc::new(DiscordOutbox {
        ctx: ctx.clone(),
        rest: rest.clone(),
    });
    // The server's Events tab follows the events (needs the bot token too).
    let mirror = tokio::spawn(mirror::run(ctx.clone(), rest, outbox.clone(), rx.clone()));
    let scheduler = super::start_reminders(ctx, crate::domain::Platform::Discord, outbox, rx);
    Reminders {
        stop: tx,
        tasks: vec![scheduler, mirror],
    }
}

/// `atlasbot discord [register]`.
pub async fn run_gateway(ctx: Context, args: crate::config::DiscordArgs) -> Result<(), String> {
    let token = crate::config::secret("DISCORD_TOKEN")
        .ok_or("set DISCORD_TOKEN in the environment (the bot token from the developer portal)")?;
    let rest = Arc::new(Rest::new(&args.api_base, Some(token.clone())));
    if let Some(crate::config::DiscordAction::Register) = args.action {
        return register_commands(&rest, args.application_id, args.guild).await;
    }
    let shards = gateway::Shards::parse(args.shards.as_deref(), args.shard_total)?;
    // Developing in one guild: its commands are brought up to date at every start (instant
    // there, unlike global registration).
    if args.guild.is_some() {
        register_commands(&rest, args.application_id, args.guild).await?;
    }
    // Started once, before connecting — never from "ready", which fires on every reconnect.
    let reminders = start_reminders(&ctx, rest.clone());
    let stopped = stop_on_signal_or_revoked_token(&rest);
    let result = gateway::run(ctx, rest.clone(), &token, shards, stopped).await;
    reminders.finish().await;
    revoked_or(&rest, result)
}

/// Turns true on SIGINT/SIGTERM, or when Discord refuses the bot's token: every request would
/// be refused again (and counted against the address), so the process stops and says why.
fn stop_on_signal_or_revoked_token(rest: &Rest) -> tokio::sync::watch::Receiver<bool> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut revoked = rest.revoked();
    tokio::spawn(async move {
        tokio::select! {
            _ = super::shutdown_signal() => {}
            _ = revoked.wait_for(|r| *r) => {}
        }
        let _ = stop.send(true);
    });
    stopped
}

/// The process's result: the refused token when that is why it stopped.
fn revoked_or(rest: &Rest, result: Result<(), String>) -> Result<(), String> {
    if *rest.revoked().borrow() {
        return Err(RestError::Revoked.to_string());
    }
    result
}

async fn register_commands(
    rest: &Rest,
    application: Option<String>,
    guild: Option<String>,
) -> Result<(), String> {
    let application = match application {
        Some(a) => a,
        None => rest.application_id().await.map_err(|e| e.to_string())?,
    };
    let body = register::commands();
    let done = rest
        .overwrite_commands(&application, guild.as_deref(), &body)
        .await
        .map_err(|e| format!("registration failed: {e}"))?;
    let n = done.as_array().map_or(0, Vec::len);
    match guild {
        Some(g) => println!("Registered {n} commands in guild {g} (available now)."),
        None => println!(
            "Registered {n} commands globally (Discord may take up to an hour to show them)."
        ),
    }
    Ok(())
}

/// `atlasbot discord-http --listen ADDR`.
pub async fn run_endpoint(
    ctx: Context,
    args: crate::config::DiscordHttpArgs,
) -> Result<(), String> {
    let verifier = endpoint::verifier(&args.public_key)?;
    rest::snowflake(&args.application_id)
        .map_err(|_| "DISCORD_APPLICATION_ID must be the application's numeric id".to_string())?;
    let token = crate::config::secret("DISCORD_TOKEN");
    let rest = Arc::new(Rest::new(&args.api_base, token.clone()));
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    // Reminders need the bot token (they are sent as the bot, not as interaction answers).
    let reminders = match token {
        Some(_) => Some(start_reminders(&ctx, rest.clone())),
        None => {
            tracing::warn!(
                "DISCORD_TOKEN is not set: answering interactions, but sending no reminders"
            );
            None
        }
    };
    let stopped = stop_on_signal_or_revoked_token(&rest);
    eprintln!("atlasbot: Discord interactions endpoint on http://{address}");
    let calendars = ctx
        .public_url
        .clone()
        .map(|base| Arc::new(crate::platform::web::Calendars::new(ctx.clone(), &base)));
    let mut ep = endpoint::Endpoint::new(ctx, verifier, rest.clone());
    ep.calendars = calendars;
    let ep = Arc::new(ep);
    endpoint::serve(listener, ep, stopped).await;
    if let Some(r) = reminders {
        r.finish().await;
    }
    revoked_or(&rest, Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_fit_discord_and_are_stable() {
        let n = nonce("ev12-20261123T1500Z-1440m-user:123456789012345678");
        assert_eq!(n.len(), 16);
        assert_eq!(
            n,
            nonce("ev12-20261123T1500Z-1440m-user:123456789012345678")
        );
        assert_ne!(n, nonce("ev12-20261123T1500Z-60m-user:123456789012345678"));
    }

    #[test]
    fn subcommands_and_focused_options_are_read() {
        let data = json!({"name": "event", "options": [{"type": 1, "name": "add", "options": [
            {"type": 3, "name": "title", "value": "Town hall"},
            {"type": 4, "name": "duration", "value": 90},
            {"type": 3, "name": "organiser", "value": "WI", "focused": true}
        ]}]});
        let o = options_of(&data);
        assert_eq!(o.subcommand.as_deref(), Some("add"));
        assert_eq!(o.values[1], ("duration".to_string(), "90".to_string()));
        assert_eq!(o.focused, Some(("organiser".to_string(), "WI".to_string())));
    }
}
