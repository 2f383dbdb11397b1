//! One pass over the followed feeds that are due, and the loop that makes passes.
//!
//! Each feed is claimed before it is fetched (`Store::claim_due_sync`: one process per poll,
//! however many run), fetched through the one safe client (`fetch`), read with the importer's
//! bounds (`events::ical`), mirrored while the claim is still ours, and its outcome recorded
//! with the next poll's time. Moderators hear of a feed once when it starts failing, once when
//! it recovers, and once when it is paused after a week of failures — never on every poll.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::fetch::{Fetched, Fetcher, Validators};
use crate::commands::Context;
use crate::domain::{Platform, Target};
use crate::events::ical;
use crate::reply::{Reply, Text, Tone, Visibility};
use crate::scheduler::{plan_event, Delivery, Outbox};
use crate::store::syncs::{Mirrored, PollOutcome, SyncRow};
use crate::store::StoreError;

/// How long a poll is one process's: the fetch's own time limit, the mirror, and margin.
pub const POLL_LEASE: Duration = Duration::minutes(2);
/// Feeds polled at most per pass, so that a pass ends (the next one takes the rest).
const MAX_POLLS_PER_PASS: usize = 50;
/// Feeds fetched at once.
const AT_ONCE: usize = 4;
/// New events of one poll that their topics' followers hear of; a poll that adds more (a
/// feed's first poll, or one whose UIDs changed) tells nobody — they are reminded all the same.
const NOTES_PER_POLL: usize = 5;
/// How often the loop looks for due feeds when none is due sooner (a feed just added is due
/// at once; the loop hears of it within this long).
const LOOK_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Polls the feeds of `platform`'s spaces that are due, a few at once (a slow feed holds only
/// its own place): how many.
pub async fn poll_due(
    ctx: &Context,
    platform: Platform,
    owner: &str,
    fetcher: &Fetcher,
    outbox: &dyn Outbox,
) -> Result<usize, StoreError> {
    let mut polled = 0;
    while polled < MAX_POLLS_PER_PASS {
        let mut claimed = Vec::new();
        while claimed.len() < AT_ONCE {
            let now = ctx.store.lease_now().await?;
            match ctx
                .store
                .claim_due_sync(platform, owner, now, now + POLL_LEASE)
                .await?
            {
                Some(sync) => claimed.push(sync),
                None => break,
            }
        }
        if claimed.is_empty() {
            break;
        }
        polled += claimed.len();
        let polls = claimed
            .iter()
            .map(|sync| poll_one(ctx, sync, owner, fetcher, outbox));
        for done in futures_util::future::join_all(polls).await {
            done?;
        }
    }
    Ok(polled)
}

/// Fetches, mirrors and records one claimed feed, then tells its moderators what changed in
/// its health.
async fn poll_one(
    ctx: &Context,
    sync: &SyncRow,
    owner: &str,
    fetcher: &Fetcher,
    outbox: &dyn Outbox,
) -> Result<(), StoreError> {
    let since = Validators {
        etag: sync.etag.clone(),
        last_modified: sync.last_modified.clone(),
    };
    let outcome = match fetcher.fetch(&sync.url, &since).await {
        Ok(Fetched::Unchanged) => PollOutcome::Ok {
            etag: None,
            last_modified: None,
            mirrored: None,
        },
        Ok(Fetched::Body { text, validators }) => match mirror(ctx, sync, owner, text).await? {
            // The validators are kept only with a mirrored feed: a feed that could not be
            // taken is fetched whole again next time.
            Ok(counts) => PollOutcome::Ok {
                etag: validators.etag,
                last_modified: validators.last_modified,
                mirrored: Some(counts),
            },
            Err(why) => PollOutcome::Failed {
                why,
                permanent: false,
            },
        },
        Err(e) => PollOutcome::Failed {
            why: e.to_string(),
            permanent: !e.is_transient(),
        },
    };
    if let PollOutcome::Failed { why, .. } = &outcome {
        tracing::warn!(sync = sync.id, space = %sync.space, error = %why, "calendar feed poll failed");
    }
    let now = ctx.store.lease_now().await?;
    if ctx.store.record_poll(sync, owner, &outcome, now).await? {
        tell_moderators(ctx, sync, &outcome, now, outbox).await?;
    }
    Ok(())
}

/// Reads a fetched feed and mirrors it: Ok((live events it mirrors, events skipped)), or
/// Err(why the feed cannot be taken) for its moderators.
async fn mirror(
    ctx: &Context,
    sync: &SyncRow,
    owner: &str,
    text: String,
) -> Result<Result<(i64, i64), String>, StoreError> {
    // CPU work on untrusted input: off the async workers; a panic in it fails this poll only.
    let parsed = match tokio::task::spawn_blocking(move || ical::parse(&text)).await {
        Ok(Ok(parsed)) => parsed,
        Ok(Err(why)) => return Ok(Err(format!("the feed was refused: {why}"))),
        Err(_) => return Ok(Err("the feed could not be read".into())),
    };
    let now = ctx.clock.now();
    let atlas = ctx.atlas().await?;
    let (items, mut present, skipped) = mirrorable(&atlas, sync, parsed, now);
    keep_what_is_over(ctx, sync, &mut present, now).await?;
    let max = crate::commands::event::MAX_EVENTS_PER_SPACE;
    let Some(result) = ctx
        .store
        .mirror_sync(sync, owner, &items, &present, now, max)
        .await?
    else {
        return Ok(Err("another process took this poll over".into()));
    };
    if result.too_many {
        return Ok(Err(format!(
            "the feed would bring this space past {max} events; nothing was changed"
        )));
    }
    if result.too_many_rows {
        return Ok(Err(format!(
            "the feed has made more than {} events here in a week (do its events change their UIDs at every change?); nothing was changed",
            crate::store::syncs::MAX_ROWS_PER_SYNC
        )));
    }
    for id in &result.changed {
        plan_event(&ctx.store, *id, now).await?;
    }
    // Followers of its topics hear of a new event as they would of one added by hand — but
    // not of a whole calendar at once (its first poll), nor of a feed that renews everything.
    // A poll that also cancelled events is a feed renewing its UIDs: no one is told.
    let renewed = !result.cancelled.is_empty();
    if sync.last_ok.is_some() && !renewed && result.added.len() <= NOTES_PER_POLL {
        for id in &result.added {
            if let Err(e) = crate::commands::follow::notify_followers(ctx, *id, "").await {
                tracing::warn!(error = %e, event = id.0, "could not tell followers of a synced event");
            }
        }
    }
    let not_owned = result.not_owned.len() as i64;
    Ok(Ok((items.len() as i64 - not_owned, skipped + not_owned)))
}

/// An event that is over and then leaves the feed (a calendar publishing a rolling window)
/// is not cancelled: it happened. Its UID counts as present.
async fn keep_what_is_over(
    ctx: &Context,
    sync: &SyncRow,
    present: &mut HashSet<String>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for (id, uid) in ctx.store.synced_live(sync.id).await? {
        if present.contains(&uid) {
            continue;
        }
        let Some(e) = ctx.store.event(id).await? else {
            continue;
        };
        if crate::scheduler::next_occurrence(&ctx.store, &e, now)
            .await?
            .is_none()
        {
            present.insert(uid);
        }
    }
    Ok(())
}

/// The feed's events as they are to be mirrored, the UIDs of every event it still carries
/// (a past one too: it is over, not cancelled), and how many it carries that cannot be taken.
fn mirrorable(
    atlas: &crate::atlas::Atlas,
    sync: &SyncRow,
    parsed: ical::Parsed,
    now: DateTime<Utc>,
) -> (Vec<Mirrored>, HashSet<String>, i64) {
    let mut skipped = parsed.skipped.len() as i64;
    let mut present = HashSet::new();
    let mut items = Vec::new();
    for it in parsed.items {
        if it.cancelled {
            continue;
        }
        // A UID the feed gives twice is taken once (else each poll would rewrite it twice).
        if !present.insert(it.uid.clone()) {
            skipped += 1;
            continue;
        }
        let Ok(tz) = it.tz.parse::<Tz>() else {
            skipped += 1;
            continue;
        };
        if crate::commands::event::never_occurs(&it, tz, now).is_some() {
            continue;
        }
        items.push(mirrored(atlas, sync, it));
    }
    (items, present, skipped)
}

/// One feed event as an event of the space, about the sync's topics (or what its text names).
fn mirrored(atlas: &crate::atlas::Atlas, sync: &SyncRow, it: ical::IcsItem) -> Mirrored {
    let (source_uid, exdates) = (it.uid.clone(), it.exdates.clone());
    let by = format!("sync:{}", sync.id);
    let input =
        crate::commands::event::from_calendar(atlas, it, &sync.space, sync.topics.clone(), &by);
    let digest = digest(&input, &exdates);
    Mirrored {
        source_uid,
        input,
        exdates,
        digest,
    }
}

/// What the feed says of an event, as a short digest: equal digests, nothing to rewrite.
fn digest(e: &crate::store::events::EventInput, exdates: &[DateTime<Utc>]) -> String {
    let mut exdates: Vec<String> = exdates.iter().map(|x| x.to_rfc3339()).collect();
    exdates.sort();
    let text = format!(
        "{}\u{1f}{:?}\u{1f}{}\u{1f}{}\u{1f}{:?}\u{1f}{:?}\u{1f}{:?}\u{1f}{:?}\u{1f}{}",
        e.title,
        e.description,
        e.starts_local,
        e.tz,
        e.duration_min,
        e.place,
        e.rrule,
        e.topics,
        exdates.join(",")
    );
    let hash = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    hash.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What the moderators of a feed's space hear of its health: that it is failing (at its
/// second failure in a row, so a feed that fails once now and then is not news — and at most
/// once a day), that it works again (only if they were told it failed), that it is paused.
/// Each once per run of failures, whichever process polled (a notice is recorded before it
/// is sent).
async fn tell_moderators(
    ctx: &Context,
    sync: &SyncRow,
    outcome: &PollOutcome,
    now: DateTime<Utc>,
    outbox: &dyn Outbox,
) -> Result<(), StoreError> {
    let Some((what, title, text)) = news(sync, outcome, now) else {
        return Ok(());
    };
    if what.starts_with("sync-failing:") {
        let since = sync.failing_since.as_deref().unwrap_or_default();
        ctx.store.mark_told(sync.id, since, now).await?;
    }
    if !ctx.store.first_notice(&sync.space, &what, now).await? {
        return Ok(());
    }
    let mut reply = Reply::new(Tone::Refusal);
    reply.title = Some(title.into());
    reply.summary = Some(Text::plain(text));
    reply.visibility = Visibility::Private;
    let delivery = Delivery {
        key: what,
        space: sync.space.clone(),
        target: Target::Moderators,
        reply,
        about: None,
    };
    if let Err(e) = outbox.deliver(&delivery).await {
        tracing::warn!(error = %e, sync = sync.id, "could not tell the moderators about a followed calendar");
    }
    Ok(())
}

/// The notice a poll's outcome is news for, if any: (its once-only key, title, text).
fn news(
    sync: &SyncRow,
    outcome: &PollOutcome,
    now: DateTime<Utc>,
) -> Option<(String, &'static str, String)> {
    let days = crate::store::syncs::PAUSE_AFTER_DAYS;
    match (outcome, &sync.failing_since) {
        (PollOutcome::Failed { why, permanent: true }, _) => Some((
            format!("sync-refused:{}:{}", sync.id, crate::store::events::ts(now)),
            "A followed calendar is paused",
            format!(
                "I stopped polling {}: {why} Retrying cannot help; /event sync remove it, or add the address it should be.",
                sync.url
            ),
        )),
        (PollOutcome::Failed { why, .. }, Some(since)) if paused_now(since, now) => Some((
            format!("sync-paused:{}:{since}", sync.id),
            "A followed calendar is paused",
            format!(
                "{} has failed for {days} days ({why}); I stopped polling it. /event sync add with the same address resumes it.",
                sync.url
            ),
        )),
        (PollOutcome::Failed { why, .. }, Some(since))
            if sync.told_failing.is_none() && !told_lately(sync, now) =>
        {
            Some((
                format!("sync-failing:{}:{since}", sync.id),
                "A followed calendar is failing",
                format!(
                    "I could not read {} ({why}). I keep trying at each interval and will say when it works again; its events stay as they were. /event sync list shows its state.",
                    sync.url
                ),
            ))
        }
        (PollOutcome::Ok { .. }, _) => sync.told_failing.as_ref().map(|since| {
            (
                format!("sync-recovered:{}:{since}", sync.id),
                "A followed calendar works again",
                format!("{} answers again; its events are up to date.", sync.url),
            )
        }),
        _ => None,
    }
}

/// Whether the moderators heard that this feed was failing within the last day.
fn told_lately(sync: &SyncRow, now: DateTime<Utc>) -> bool {
    sync.told_at
        .as_deref()
        .and_then(crate::store::events::parse_ts)
        .is_some_and(|t| now - t < Duration::days(1))
}

/// Whether a feed failing since `since` is paused by a failure at `now`.
fn paused_now(since: &str, now: DateTime<Utc>) -> bool {
    crate::store::events::parse_ts(since)
        .is_some_and(|s| now - s >= Duration::days(crate::store::syncs::PAUSE_AFTER_DAYS))
}

/// Polls `platform`'s feeds until `shutdown`: a pass, then a sleep until the next feed is
/// due (at most `LOOK_EVERY`, so that a feed added by another process is seen). No error ends
/// it.
pub async fn run(
    ctx: Context,
    platform: Platform,
    outbox: Arc<dyn Outbox>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let fetcher = Fetcher::new(ctx.sync_policy.clone());
    let owner = crate::scheduler::Owner::this_process();
    while !*shutdown.borrow() {
        if let Err(e) = poll_due(&ctx, platform, owner.as_str(), &fetcher, outbox.as_ref()).await {
            tracing::error!(error = %e, "calendar feed pass failed");
        }
        let wait = match ctx.store.next_sync_due(platform).await {
            Ok(Some(next)) => (next - ctx.clock.now())
                .to_std()
                .unwrap_or_default()
                .min(LOOK_EVERY),
            _ => LOOK_EVERY,
        };
        tokio::select! {
            _ = tokio::time::sleep(wait.max(std::time::Duration::from_millis(200))) => {}
            _ = shutdown.changed() => {}
        }
    }
}
