//! A space's calendar, as people subscribe to it: the events of the space (or those on one
//! topic or actor) as iCalendar, and their upcoming occurrences for the events page. Reached
//! by an unguessable secret per space (`Store::feed_space`), rotated by moderators. Platform
//! neutral: `platform::web` serves it over HTTP, `/event subscribe` hands out its links.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use crate::domain::{EventId, SpaceId, Subject};
use crate::events::ical;
use crate::scheduler::occurrences_without;
use crate::store::events::{parse_ts, EventRow};
use crate::store::{Store, StoreError};

/// Where a space's feed and page live: `{base}/calendar/{secret}` and below.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    /// The events page (HTML for a browser, iCalendar for a calendar).
    pub page: String,
    /// The feed over HTTPS (or HTTP, as the base says).
    pub https: String,
    /// The same feed for calendar apps that subscribe on a click (webcal://).
    pub webcal: String,
}

/// The path under the base of a feed: the whole space's, or one subject's.
fn path(secret: &str, subject: Option<&Subject>) -> String {
    match subject {
        None => format!("/calendar/{secret}"),
        Some(s) => format!("/calendar/{secret}/{}/{}", s.kind(), s.slug()),
    }
}

pub fn links(base: &str, secret: &str, subject: Option<&Subject>) -> Links {
    let base = base.trim_end_matches('/');
    let page = format!("{base}{}", path(secret, subject));
    let https = format!("{page}.ics");
    let webcal = match https.split_once("://") {
        Some((_, rest)) => format!("webcal://{rest}"),
        None => https.clone(),
    };
    Links {
        page,
        https,
        webcal,
    }
}

/// A new secret: 24 random bytes as 48 hex digits (192 bits: not guessable, not
/// enumerable).
pub fn new_secret() -> Result<String, String> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 24];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| "the system's random source failed".to_string())?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether text has the shape of a secret (checked before any query is made with it).
pub fn is_secret_shaped(s: &str) -> bool {
    s.len() == 48
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// A space's live events as iCalendar items (`/event export`), cancelled occurrences read in
/// one query.
pub async fn live_items(store: &Store, space: &SpaceId) -> Result<Vec<ical::IcsItem>, StoreError> {
    let mut exdates = store.exdates_of_space(space).await?;
    Ok(store
        .events_of_space(space)
        .await?
        .iter()
        .filter_map(|e| item_of(e, exdates.remove(&e.id).unwrap_or_default(), None))
        .collect())
}

/// An event as an iCalendar item, with its cancelled occurrences, revision, status and page
/// URL.
fn item_of(
    e: &EventRow,
    exdates: Vec<DateTime<Utc>>,
    url: Option<String>,
) -> Option<ical::IcsItem> {
    let start = e.start()?;
    Some(ical::IcsItem {
        uid: e.uid.clone(),
        title: e.title.clone(),
        description: e.description.clone(),
        place: e.place.clone(),
        start,
        tz: e.tz.clone(),
        duration_min: e.duration_min,
        rrule: e.rrule.clone(),
        exdates,
        revision: ical::Revision {
            sequence: u32::try_from(e.revision).unwrap_or(u32::MAX),
            created: parse_ts(&e.created_at),
            modified: parse_ts(&e.updated_at),
        },
        cancelled: e.cancelled,
        url,
    })
}

/// The anchor of an event on its space's page.
pub fn event_anchor(id: EventId) -> String {
    format!("event-{id}")
}

/// The feed of a space (or of one subject in it): its live events and those cancelled lately.
pub async fn calendar(
    store: &Store,
    space: &SpaceId,
    subject: Option<&Subject>,
    page: Option<&str>,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let mut exdates = store.exdates_of_space(space).await?;
    let mut items = Vec::new();
    for e in store.feed_events(space, now).await? {
        if subject.is_some_and(|s| !concerns(&e, s)) {
            continue;
        }
        let url = page.map(|p| format!("{p}#{}", event_anchor(e.id)));
        let cancelled = exdates.remove(&e.id).unwrap_or_default();
        items.extend(item_of(&e, cancelled, url));
    }
    Ok(ical::export(&items))
}

/// One event of a space as a calendar file ("add to calendar"); None if it is not the space's.
pub async fn one_event(
    store: &Store,
    space: &SpaceId,
    id: EventId,
    page: Option<&str>,
) -> Result<Option<String>, StoreError> {
    let Some(e) = store.event(id).await?.filter(|e| e.space == *space) else {
        return Ok(None);
    };
    let url = page.map(|p| format!("{p}#{}", event_anchor(e.id)));
    Ok(item_of(&e, store.exdates(e.id).await?, url)
        .map(|item| ical::export(std::slice::from_ref(&item))))
}

/// Whether an event is about a subject: a topic among its topics, an actor as its organiser
/// or among the actors it names (the store's rule for followers, `store::follows`).
pub fn concerns(e: &EventRow, s: &Subject) -> bool {
    let listed = |list: &Option<String>, slug: &str| {
        list.as_deref()
            .unwrap_or_default()
            .split(',')
            .any(|x| x == slug)
    };
    match s {
        Subject::Topic(slug) => listed(&e.topics, slug),
        Subject::Actor(slug) => e.organiser.as_deref() == Some(slug) || listed(&e.actors, slug),
    }
}

/// How far ahead the page lists occurrences, and how many of one event's at most (its next
/// one and the dates shown after it): every event of the space is on the page (a space has at
/// most 200), however many times the others occur.
pub const PAGE_DAYS: i64 = 120;
pub const PAGE_PER_EVENT: usize = 6;

/// One occurrence on the events page.
#[derive(Debug, Clone)]
pub struct Listed {
    pub at: DateTime<Utc>,
    pub tz: Tz,
    pub event: EventRow,
    /// How many times its event occurs within the page's window (more than are listed).
    pub in_window: usize,
}

/// The upcoming occurrences of a space's events (or one subject's), soonest first.
pub async fn upcoming(
    store: &Store,
    space: &SpaceId,
    subject: Option<&Subject>,
    now: DateTime<Utc>,
) -> Result<Vec<Listed>, StoreError> {
    let exdates = store.exdates_of_space(space).await?;
    let mut out = Vec::new();
    for e in store.events_of_space(space).await? {
        if subject.is_some_and(|s| !concerns(&e, s)) {
            continue;
        }
        let tz: Tz = e.tz.parse().unwrap_or(Tz::UTC);
        let cancelled = exdates.get(&e.id).map_or(&[][..], Vec::as_slice);
        let all = occurrences_without(&e, cancelled, now, now + Duration::days(PAGE_DAYS));
        for at in all.iter().take(PAGE_PER_EVENT) {
            out.push(Listed {
                at: *at,
                tz,
                event: e.clone(),
                in_window: all.len(),
            });
        }
    }
    out.sort_by_key(|l| (l.at, l.event.id.0));
    Ok(out)
}
