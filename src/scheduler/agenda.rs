//! Agenda posts: at each space's agenda time (`/settings agenda weekly monday 09:00`), the
//! coming period's events are posted in its channel — claimed per (space, period) before
//! anything is read, fenced right before the send, recorded after it, with the period's key
//! as the message's idempotency handle, exactly as a reminder goes out. Nothing is posted for
//! a period with nothing on (recorded as empty, so it is not looked at again).

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::{occurrences_of, Delivery, Outbox, Scheduler};
use crate::domain::{SpaceId, Target};
use crate::events::agenda::Agenda;
use crate::events::when;
use crate::reply::{Item, Moment, Reply, Span, Text};
use crate::store::agenda::AgendaState;
use crate::store::StoreError;

/// Occurrences listed in one post at most; the rest are counted ("and 12 more: /events").
const MAX_LISTED: usize = 25;

impl Scheduler {
    /// Posts the agendas of this platform's spaces that are due and not yet posted: how many
    /// were sent. An agenda more than the grace window late (the bot was down) is skipped.
    pub async fn post_agendas(&self, outbox: &dyn Outbox) -> Result<usize, StoreError> {
        let mut sent = 0;
        for (space, schedule, zone) in self.store.agendas(self.platform).await? {
            let Ok(agenda) = Agenda::parse(&schedule) else {
                continue;
            };
            let tz: Tz = zone.parse().unwrap_or(Tz::UTC);
            let now = self.clock.now();
            let due = agenda.last_post(now, tz);
            if now - due > self.grace.max(Duration::minutes(1)) {
                continue;
            }
            // A channel found gone stays off until a moderator sets one (as for reminders);
            // asked only of a space whose post is due, not of every space at every pass.
            if self
                .store
                .disabled_targets(&space)
                .await?
                .contains_key(&Target::Space)
            {
                continue;
            }
            if self.post_agenda(outbox, &space, agenda, due, tz).await? {
                sent += 1;
            }
        }
        Ok(sent)
    }

    /// One period's post: claimed, built, fenced, sent, recorded. True when it was sent.
    async fn post_agenda(
        &self,
        outbox: &dyn Outbox,
        space: &SpaceId,
        agenda: Agenda,
        due: DateTime<Utc>,
        tz: Tz,
    ) -> Result<bool, StoreError> {
        let key = format!("agenda:{space}:{}", due.format("%Y%m%dT%H%MZ"));
        let owner = self.owner.as_str();
        let lease_now = self.store.lease_now().await?;
        let claimed = self
            .store
            .claim_agenda(&key, space, due, owner, lease_now, lease_now + self.lease)
            .await?;
        if !claimed {
            return Ok(false);
        }
        let now = self.clock.now();
        let Some(reply) = agenda_reply(&self.store, space, agenda, due, tz).await? else {
            self.store
                .finish_agenda(&key, owner, AgendaState::Empty, now)
                .await?;
            return Ok(false);
        };
        // The fence: a process that stalled past its lease does not post what another took.
        let lease_now = self.store.lease_now().await?;
        if !self
            .store
            .still_holds_agenda(&key, owner, lease_now + self.lease)
            .await?
        {
            return Ok(false);
        }
        let delivery = Delivery {
            key: key.clone(),
            space: space.clone(),
            target: Target::Space,
            reply,
            about: None,
        };
        self.send_agenda(outbox, &delivery).await
    }

    /// Sends a claimed post and records how it went: true when it was sent. A gone channel
    /// is recorded (not tried again every pass); anything else gives the claim back for the
    /// next pass.
    async fn send_agenda(
        &self,
        outbox: &dyn Outbox,
        delivery: &Delivery,
    ) -> Result<bool, StoreError> {
        let (key, owner) = (&delivery.key, self.owner.as_str());
        match outbox.deliver(delivery).await {
            Ok(()) => {}
            Err(crate::scheduler::DeliveryError::Gone(e)) => {
                tracing::warn!(%key, error = %e, "agenda post: the space's channel is gone");
                self.store
                    .finish_agenda(key, owner, AgendaState::Failed, self.clock.now())
                    .await?;
                return Ok(false);
            }
            Err(e) => {
                tracing::warn!(%key, error = %e, "agenda post failed; trying again at the next pass");
                self.store.release_agenda(key, owner).await?;
                return Ok(false);
            }
        }
        self.store
            .finish_agenda(key, owner, AgendaState::Sent, self.clock.now())
            .await
    }
}

/// The post for the period from `from` (the schedule's length), or None when nothing is on.
pub async fn agenda_reply(
    store: &crate::store::Store,
    space: &SpaceId,
    agenda: Agenda,
    from: DateTime<Utc>,
    tz: Tz,
) -> Result<Option<Reply>, StoreError> {
    // From the post's own time (an event at that minute is this period's, even if the post
    // leaves a little later) to the next post's.
    let to = agenda.next_post(from, tz);
    let mut on: Vec<(DateTime<Utc>, String, i64)> = Vec::new();
    for e in store.events_of_space(space).await? {
        for at in occurrences_of(store, &e, from, to).await? {
            on.push((at, crate::reply::defang_mentions(&e.title), e.id.0));
        }
    }
    if on.is_empty() {
        return Ok(None);
    }
    on.sort();
    let title = match agenda {
        Agenda::Daily(_) => "The day ahead",
        Agenda::Weekly(..) => "The week ahead",
    };
    let items = on
        .iter()
        .take(MAX_LISTED)
        .map(|(at, title, id)| {
            Item::new(Text::of([
                Span::Time(Moment {
                    relative: None,
                    ..when::moment(*at, tz)
                }),
                Span::Plain(format!(" — {title} (event {id})")),
            ]))
        })
        .collect();
    let mut reply = Reply::answer(title).section("On", items);
    let more = on.len().saturating_sub(MAX_LISTED);
    reply.summary = Some(Text::plain(format!(
        "{} coming up{}. Coming? /rsvp <event> going · all of them: /events",
        on.len(),
        if more > 0 {
            format!(" ({more} more than listed here)")
        } else {
            String::new()
        }
    )));
    Ok(Some(reply))
}
