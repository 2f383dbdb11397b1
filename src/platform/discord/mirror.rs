//! The server's own Events tab: each event's next occurrences mirrored as Discord Scheduled
//! Events (external, the place as location), kept in step when a moderator adds, edits or
//! cancels, and never created twice — across restarts and across processes.
//!
//! One pass per guild compares what should be there (the next `PER_EVENT` occurrences of each
//! live event within `WINDOW_DAYS`) with what the store says the bot created, and makes
//! Discord agree: create, update (what it should say changed), cancel (status 4). A creation is
//! claimed in the store before the request; a claim left without an id (a crash between
//! Discord's answer and the store) is resolved by the marker every description ends with, so
//! the event the crashed process created is adopted rather than made again.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use crate::commands::Context;
use crate::domain::{EventId, SpaceId, Target};
use crate::reply::{Reply, Text, Tone};
use crate::scheduler::{occurrences_of, Delivery, Outbox};
use crate::store::discord::MirrorRow;
use crate::store::events::{parse_ts, ts, EventRow};
use crate::store::StoreError;

use super::rest::{Rest, RestError};

/// How far ahead occurrences are mirrored.
pub const WINDOW_DAYS: i64 = 30;
/// At most this many occurrences of one event at a time (a daily series would fill the tab).
pub const PER_EVENT: usize = 3;
/// A claim without an id older than this is a crashed creation: look for it on Discord.
const CLAIM_STALE_SECONDS: i64 = 60;
/// Discord's limits on a Scheduled Event's fields.
const NAME_MAX: usize = 100;
const DESCRIPTION_MAX: usize = 1000;
const LOCATION_MAX: usize = 100;

/// Why a pass stopped early.
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("Discord: {0}")]
    Rest(#[from] RestError),
}

/// One occurrence to mirror: the event and when.
struct Wanted<'a> {
    event: &'a EventRow,
    occurrence: DateTime<Utc>,
}

/// The line every mirrored description ends with: which event and occurrence it is.
fn marker(event: EventId, occurrence_utc: &str) -> String {
    format!("atlasbot event {event} · {occurrence_utc}")
}

/// Brings a guild's Events tab in step with its events. Returns how many requests changed
/// something on Discord.
pub async fn sync_guild(
    ctx: &Context,
    rest: &Rest,
    outbox: &dyn Outbox,
    guild: &str,
) -> Result<usize, MirrorError> {
    let space = SpaceId::discord(guild);
    // Refused before (no Manage Events, or the bot is gone): nothing is asked, and nothing is
    // written, until a permission change is seen (`Rest::permissions_changed_in`) or the refusal
    // expires — a refused request repeated every second is how a bot gets its address banned.
    if was_refused(rest, guild) {
        return Ok(0);
    }
    let now = ctx.clock.now();
    let events: Vec<EventRow> = ctx.store.events_of_space(&space).await?;
    let wanted = wanted(ctx, &events, now).await?;
    let kept = ctx.store.mirrors_of_guild(guild).await?;
    let mut pass = Pass {
        ctx,
        rest,
        guild,
        now,
        on_discord: None,
    };
    let mut changed = 0;
    for row in &kept {
        changed += pass.bring_in_step(row, &wanted).await?;
    }
    let missing = missing(&wanted, &kept);
    Ok(changed + pass.create(missing, outbox, &space).await?)
}

/// Whether Discord refused the guild's Scheduled Events before (creating or listing them).
fn was_refused(rest: &Rest, guild: &str) -> bool {
    rest.is_refused(&reqwest::Method::POST, &creation_path(guild))
        || rest.is_refused(
            &reqwest::Method::GET,
            &format!("/guilds/{guild}/scheduled-events"),
        )
}

/// What should be on the Events tab: the next `PER_EVENT` occurrences of each event within
/// `WINDOW_DAYS`, by (event, occurrence).
async fn wanted<'e>(
    ctx: &Context,
    events: &'e [EventRow],
    now: DateTime<Utc>,
) -> Result<HashMap<(EventId, String), Wanted<'e>>, StoreError> {
    let mut wanted = HashMap::new();
    for e in events {
        let upcoming =
            occurrences_of(&ctx.store, e, now, now + Duration::days(WINDOW_DAYS)).await?;
        for occurrence in upcoming.into_iter().take(PER_EVENT) {
            wanted.insert(
                (e.id, ts(occurrence)),
                Wanted {
                    event: e,
                    occurrence,
                },
            );
        }
    }
    Ok(wanted)
}

/// What is wanted and has no row yet, earliest first.
fn missing<'w, 'e>(
    wanted: &'w HashMap<(EventId, String), Wanted<'e>>,
    kept: &[MirrorRow],
) -> Vec<(&'w (EventId, String), &'w Wanted<'e>)> {
    let known: HashSet<(EventId, String)> = kept
        .iter()
        .map(|r| (r.event_id, r.occurrence_utc.clone()))
        .collect();
    let mut missing: Vec<(&(EventId, String), &Wanted)> =
        wanted.iter().filter(|(k, _)| !known.contains(*k)).collect();
    missing.sort_by_key(|(_, w)| (w.occurrence, w.event.id));
    missing
}

/// One pass over one guild: where it writes, as of when, and what the bot put on the guild's
/// Events tab (fetched at most once, when a claim must be resolved).
struct Pass<'a> {
    ctx: &'a Context,
    rest: &'a Rest,
    guild: &'a str,
    now: DateTime<Utc>,
    on_discord: Option<HashMap<String, String>>,
}

impl Pass<'_> {
    /// Makes Discord agree with one row the store keeps: update what changed, resolve a
    /// claim left without an id, cancel what is no longer wanted. Returns the changes made.
    async fn bring_in_step(
        &mut self,
        row: &MirrorRow,
        wanted: &HashMap<(EventId, String), Wanted<'_>>,
    ) -> Result<usize, MirrorError> {
        let key = (row.event_id, row.occurrence_utc.clone());
        match (wanted.get(&key), &row.discord_id) {
            (Some(w), Some(id)) if row.shown != fingerprint(w) => {
                self.update(row, id, w).await?;
                Ok(1)
            }
            (Some(_), Some(_)) => Ok(0),
            (wanted_now, None) => self.resolve_claim(row, wanted_now).await,
            (None, Some(id)) => {
                // Cancelled, moved or past: a past one Discord ends by itself.
                let past = parse_ts(&row.occurrence_utc).is_some_and(|o| o <= self.now);
                if !past {
                    cancel(self.rest, self.guild, id).await?;
                }
                self.ctx
                    .store
                    .forget_mirror(row.event_id, &row.occurrence_utc)
                    .await?;
                Ok(usize::from(!past))
            }
        }
    }

    /// Brings the Scheduled Event `id` up to date with `w`, and records what it now says.
    async fn update(&self, row: &MirrorRow, id: &str, w: &Wanted<'_>) -> Result<(), MirrorError> {
        self.rest
            .modify_scheduled_event(self.guild, id, &body(w, self.now))
            .await?;
        self.ctx
            .store
            .set_mirror(row.event_id, &row.occurrence_utc, id, fingerprint(w))
            .await?;
        Ok(())
    }

    /// A claim without an id: another process creating it now, or a crash — then the marker
    /// says whether the crashed process created it.
    async fn resolve_claim(
        &mut self,
        row: &MirrorRow,
        wanted_now: Option<&Wanted<'_>>,
    ) -> Result<usize, MirrorError> {
        let claimed = parse_ts(&row.claimed_at).unwrap_or(self.now);
        if self.now - claimed < Duration::seconds(CLAIM_STALE_SECONDS) {
            return Ok(0);
        }
        let found = markers(self.rest, self.guild, &mut self.on_discord).await?;
        match (
            found
                .get(&marker(row.event_id, &row.occurrence_utc))
                .cloned(),
            wanted_now,
        ) {
            (Some(id), Some(w)) => {
                // Created by a process that crashed before recording it: adopted, and
                // brought up to date (the event may have changed since).
                self.update(row, &id, w).await?;
                Ok(1)
            }
            (Some(id), None) => {
                cancel(self.rest, self.guild, &id).await?;
                self.ctx
                    .store
                    .forget_mirror(row.event_id, &row.occurrence_utc)
                    .await?;
                Ok(0)
            }
            // Never created: drop the claim, the creation below tries again.
            (None, _) => {
                self.ctx
                    .store
                    .forget_mirror(row.event_id, &row.occurrence_utc)
                    .await?;
                Ok(0)
            }
        }
    }

    /// Creates what is missing, each claimed in the store first. Without Manage Events the
    /// moderators are told (once) and the pass ends there. Returns how many were created.
    async fn create(
        &self,
        missing: Vec<(&(EventId, String), &Wanted<'_>)>,
        outbox: &dyn Outbox,
        space: &SpaceId,
    ) -> Result<usize, MirrorError> {
        let (ctx, guild, now) = (self.ctx, self.guild, self.now);
        let mut created = 0;
        for ((event_id, occurrence_utc), w) in missing {
            if !ctx
                .store
                .claim_mirror(*event_id, w.occurrence, guild, fingerprint(w), now)
                .await?
            {
                continue;
            }
            match self.rest.create_scheduled_event(guild, &body(w, now)).await {
                Ok(id) => {
                    ctx.store
                        .set_mirror(*event_id, occurrence_utc, &id, fingerprint(w))
                        .await?;
                    created += 1;
                }
                Err(e) => {
                    ctx.store.forget_mirror(*event_id, occurrence_utc).await?;
                    if is_missing_permission(&e) {
                        tell_moderators_once(ctx, outbox, space, now).await?;
                        return Ok(created);
                    }
                    return Err(e.into());
                }
            }
        }
        Ok(created)
    }
}

/// What the bot put on the guild's Events tab, by marker → Scheduled Event id (fetched once
/// per pass, when a claim must be resolved).
async fn markers<'a>(
    rest: &Rest,
    guild: &str,
    cache: &'a mut Option<HashMap<String, String>>,
) -> Result<&'a HashMap<String, String>, RestError> {
    if cache.is_none() {
        let mut found = HashMap::new();
        for e in rest.scheduled_events(guild).await? {
            let (Some(id), Some(description)) = (e["id"].as_str(), e["description"].as_str())
            else {
                continue;
            };
            if let Some(last) = description.lines().last() {
                found.insert(last.trim().to_string(), id.to_string());
            }
        }
        *cache = Some(found);
    }
    Ok(cache.get_or_insert_with(HashMap::new))
}

/// Where a guild's Scheduled Events are created (`Rest::create_scheduled_event`).
fn creation_path(guild: &str) -> String {
    format!("/guilds/{guild}/scheduled-events")
}

async fn cancel(rest: &Rest, guild: &str, id: &str) -> Result<(), RestError> {
    match rest
        .modify_scheduled_event(guild, id, &json!({"status": 4}))
        .await
    {
        // Deleted by hand, or already over: nothing left to cancel.
        Err(e) if matches!(e.status(), Some(404)) => Ok(()),
        other => other,
    }
}

/// What a Scheduled Event for `w` says, as a number (FNV-1a over its body as of its own
/// start): equal fingerprints, nothing to update.
fn fingerprint(w: &Wanted) -> i64 {
    let text = body(w, w.occurrence - Duration::days(1)).to_string();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

/// Missing Access / Missing Permissions (no Manage Events).
fn is_missing_permission(e: &RestError) -> bool {
    e.status() == Some(403) || matches!(e.code(), Some(50001 | 50013))
}

/// The Scheduled Event for one occurrence: external, the place as location, the end the
/// event's duration (an hour when it has none; Discord needs one).
fn body(w: &Wanted, now: DateTime<Utc>) -> Value {
    let e = w.event;
    let occurrence_utc = ts(w.occurrence);
    let end = w.occurrence + Duration::minutes(e.duration_min.unwrap_or(60).max(1));
    let mark = marker(e.id, &occurrence_utc);
    let about = e
        .description
        .as_deref()
        .map(crate::reply::defang_mentions)
        .unwrap_or_default();
    let room = DESCRIPTION_MAX.saturating_sub(mark.chars().count() + 2);
    let mut description: String = about.chars().take(room).collect();
    if !description.is_empty() {
        description.push_str("\n\n");
    }
    description.push_str(&mark);
    let location = e
        .place
        .as_deref()
        .map(crate::reply::defang_mentions)
        .unwrap_or_else(|| format!("See /event show {}", e.id));
    // Discord refuses a start in the past: an occurrence starting right now is nudged ahead.
    let start = w.occurrence.max(now + Duration::seconds(30));
    json!({
        "name": crate::reply::defang_mentions(&e.title).chars().take(NAME_MAX).collect::<String>(),
        "privacy_level": 2,
        "entity_type": 3,
        "entity_metadata": {"location": location.chars().take(LOCATION_MAX).collect::<String>()},
        "scheduled_start_time": ts(start),
        "scheduled_end_time": ts(end.max(start + Duration::minutes(1))),
        "description": description,
    })
}

/// "I need Manage Events": said once per guild, to its moderators (the system channel, else
/// the reminder channel). The events themselves work as before.
async fn tell_moderators_once(
    ctx: &Context,
    outbox: &dyn Outbox,
    space: &SpaceId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if !ctx.store.first_notice(space, "manage-events", now).await? {
        return Ok(());
    }
    let mut reply = Reply::new(Tone::Refusal);
    reply.title = Some("Events are not on this server's Events tab".into());
    reply.summary = Some(Text::plain(
        "I could not add this server's events to its Events tab: I need the Manage Events permission. Everything else works as before — events, /events, reminders. Grant it and they appear there at the next change.",
    ));
    let delivery = Delivery {
        key: format!("notice-manage-events-{}", space.local()),
        space: space.clone(),
        target: Target::Moderators,
        reply,
        about: None,
    };
    if let Err(e) = outbox.deliver(&delivery).await {
        tracing::warn!(error = %e, "cannot tell the moderators that Manage Events is missing");
    }
    Ok(())
}

/// Every guild with events or mirrors, brought in step; errors are logged per guild, and a
/// guild whose pass failed waits `backoff` before its next (doubling up to six hours): a
/// request Discord refuses for a reason of its own (400, 5xx) is not repeated at every pass —
/// and on SQLite the failed pass's own writes would wake the next one within a second.
pub async fn sync_all(ctx: &Context, rest: &Rest, outbox: &dyn Outbox, backoff: &mut Backoff) {
    let guilds = match guilds(ctx).await {
        Ok(g) => g,
        Err(e) => {
            tracing::error!(error = %e, "cannot list the guilds to mirror events in");
            return;
        }
    };
    for guild in guilds {
        if !backoff.ready(&guild) {
            continue;
        }
        match sync_guild(ctx, rest, outbox, &guild).await {
            Ok(_) => backoff.succeeded(&guild),
            Err(e) => {
                let wait = backoff.failed(&guild);
                tracing::warn!(%guild, error = %e, wait_s = wait.as_secs(), "cannot mirror the guild's events; trying again later");
            }
        }
    }
}

/// When each guild whose mirroring failed may be tried again.
#[derive(Debug, Default)]
pub struct Backoff {
    until: std::collections::HashMap<String, (tokio::time::Instant, u32)>,
}

/// The first wait after a failed pass, and the longest.
const FIRST_WAIT: std::time::Duration = std::time::Duration::from_secs(60);
const LONGEST_WAIT: std::time::Duration = std::time::Duration::from_secs(6 * 3600);

impl Backoff {
    fn ready(&self, guild: &str) -> bool {
        self.until
            .get(guild)
            .is_none_or(|(t, _)| tokio::time::Instant::now() >= *t)
    }

    fn succeeded(&mut self, guild: &str) {
        self.until.remove(guild);
    }

    fn failed(&mut self, guild: &str) -> std::time::Duration {
        let failures = self.until.get(guild).map_or(0, |(_, n)| *n) + 1;
        let wait = FIRST_WAIT
            .saturating_mul(1 << (failures - 1).min(12))
            .min(LONGEST_WAIT);
        if self.until.len() >= 100_000 {
            self.until.clear();
        }
        self.until.insert(
            guild.to_string(),
            (tokio::time::Instant::now() + wait, failures),
        );
        wait
    }

    /// A permission may have changed: every guild may be tried at once.
    fn forget(&mut self) {
        self.until.clear();
    }
}

/// Guilds (not direct-message spaces) with live events, and those with mirrors to tidy.
async fn guilds(ctx: &Context) -> Result<Vec<String>, StoreError> {
    let mut all: Vec<String> = ctx.store.guilds_with_mirrors().await?;
    for space in ctx
        .store
        .spaces_with_events(crate::domain::Platform::Discord)
        .await?
    {
        let local = space.local().to_string();
        if super::rest::snowflake(&local).is_ok() && !all.contains(&local) {
            all.push(local);
        }
    }
    Ok(all)
}

/// Keeps every guild's Events tab in step: at start, after each change to events, and every
/// few minutes (the window rolls on). Stops with `stopped`.
pub async fn run(
    ctx: Context,
    rest: Arc<Rest>,
    outbox: Arc<dyn Outbox>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let mut changes = ctx.store.watch_changes().await;
    let mut backoff = Backoff::default();
    loop {
        sync_all(&ctx, &rest, outbox.as_ref(), &mut backoff).await;
        tokio::select! {
            _ = changes.next() => {}
            _ = rest.permissions_change() => backoff.forget(),
            _ = tokio::time::sleep(std::time::Duration::from_secs(600)) => {}
            _ = stopped.changed() => return,
        }
    }
}
