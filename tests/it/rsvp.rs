//! RSVP with attendance: Going / Maybe / Can't, counted on the card, Going reminded, a capacity
//! with a waitlist whose first person is let in — and told once — when someone drops out;
//! names hidden when the moderators say so. Run on whichever backend the suite runs on.

use std::sync::Arc;

use atlasbot::commands::{self, Caller, Context};
use atlasbot::domain::{EventId, Platform, SpaceId, Target};
use atlasbot::render::plain;
use atlasbot::scheduler::{Clock, Delivery, Scheduler};
use chrono::{DateTime, Duration, Utc};

use crate::support::{Recorder, TempDb};

struct World {
    _db: TempDb,
    ctx: Context,
}

fn now() -> DateTime<Utc> {
    "2026-11-23T15:00:00Z".parse().unwrap()
}

fn person(user: &str, moderator: bool) -> Caller {
    Caller {
        platform: Platform::Console,
        space: SpaceId::parse("console:cohort").unwrap(),
        user: user.into(),
        moderator,
        channel: None,
    }
}

impl World {
    async fn new() -> World {
        let db = TempDb::new();
        let mut ctx = db.context().await;
        ctx.set_clock(Clock::fixed(now()));
        World { _db: db, ctx }
    }

    async fn say(&self, who: &str, line: &str) -> String {
        let caller = person(who, who == "mod");
        plain::render(&commands::answer(&self.ctx, &caller, line).await)
    }

    /// Runs the scheduler's delivery once: what it sent.
    async fn deliver(&self, outbox: &Arc<Recorder>) -> Vec<Delivery> {
        let s = Scheduler::new(
            Platform::Console,
            self.ctx.store.clone(),
            self.ctx.clock.clone(),
            self.ctx.grace,
        );
        s.tick(outbox.as_ref()).await.unwrap();
        outbox.take()
    }
}

#[tokio::test]
async fn going_is_counted_and_reminded_and_a_full_event_keeps_a_waitlist_in_order() {
    let w = World::new().await;
    let added = w
        .say(
            "mod",
            "/event add title:\"Study session\" when:\"2026-12-01 18:00\" capacity:2",
        )
        .await;
    assert!(
        added.contains("0 going · 0 maybe · 0 can't · 2 places"),
        "{added}"
    );
    assert!(w
        .say("ana", "/rsvp 1 going")
        .await
        .contains("Going: Study session"));
    assert!(w
        .say("ben", "/rsvp study session going")
        .await
        .contains("Going"));
    let third = w.say("cy", "/rsvp 1 going").await;
    assert!(third.contains("number 1 on the waitlist"), "{third}");
    assert!(w
        .say("dee", "/rsvp 1 yes")
        .await
        .contains("number 2 on the waitlist"));
    assert!(w.say("eve", "/rsvp 1 maybe").await.contains("Maybe"));
    // Asking again changes nothing: still in, still waiting at the same place.
    assert!(w.say("ana", "/rsvp 1 going").await.contains("Going"));
    assert!(w.say("cy", "/rsvp 1 going").await.contains("number 1"));

    let card = w.say("eve", "/event show 1").await;
    assert!(
        card.contains("2 going · 1 maybe · 0 can't · 2 places (full) · 2 waiting"),
        "{card}"
    );
    let going = &card[card.find("Going").unwrap()..];
    assert!(going.contains("ana") && going.contains("ben"), "{card}");
    let waitlist = &card[card.find("Waitlist").unwrap()..];
    assert!(
        waitlist.find("cy").unwrap() < waitlist.find("dee").unwrap(),
        "{card}"
    );

    // Going is reminded; waiting is not (yet).
    let subscribed = |u: &str| {
        let ctx = w.ctx.clone();
        let u = u.to_string();
        async move {
            !ctx.store
                .subscriptions(&SpaceId::parse("console:cohort").unwrap(), Some(&u))
                .await
                .unwrap()
                .is_empty()
        }
    };
    assert!(subscribed("ana").await && subscribed("ben").await);
    assert!(!subscribed("cy").await && !subscribed("eve").await);

    // Ben drops out: Cy, first waiting, is let in — reminded from now on, and told once.
    assert!(w.say("ben", "/rsvp 1 cant").await.contains("Can't go"));
    assert!(!subscribed("ben").await, "can't stops the reminders");
    assert!(subscribed("cy").await);
    let outbox = Arc::new(Recorder::default());
    let sent = w.deliver(&outbox).await;
    let told: Vec<_> = sent
        .iter()
        .filter(|d| {
            d.reply
                .title
                .as_deref()
                .is_some_and(|t| t.starts_with("You're in"))
        })
        .collect();
    assert_eq!(told.len(), 1, "{sent:?}");
    assert_eq!(told[0].target, Target::User("cy".into()));
    assert!(w.deliver(&outbox).await.is_empty(), "told once");
    let card = w.say("eve", "/event show 1").await;
    assert!(
        card.contains("2 going · 1 maybe · 1 can't · 2 places (full) · 1 waiting"),
        "{card}"
    );

    // A larger capacity lets the next one in.
    w.say("mod", "/event edit 1 capacity:3").await;
    assert!(subscribed("dee").await);
    let card = w.say("eve", "/event show 1").await;
    assert!(card.contains("3 going"), "{card}");
    assert!(!card.contains("Waitlist"), "{card}");
}

#[tokio::test]
async fn hidden_names_show_counts_only_and_bad_answers_are_explained() {
    let w = World::new().await;
    w.say(
        "mod",
        "/event add title:\"Closed door\" when:\"2026-12-01 18:00\" names:hidden",
    )
    .await;
    w.say("ana", "/rsvp 1 going").await;
    let card = w.say("ben", "/event show 1").await;
    assert!(card.contains("1 going"), "{card}");
    assert!(!card.contains("ana"), "names are hidden: {card}");
    let out = w.say("ana", "/rsvp 1 perhaps").await;
    assert!(out.contains("going, maybe or cant"), "{out}");
    let out = w.say("ana", "/rsvp 99 going").await;
    assert!(out.contains("No event"), "{out}");
    // Something that is over takes no answers.
    w.say(
        "mod",
        "/event add title:\"Soon over\" when:\"in 2 minutes\" capacity:1",
    )
    .await;
    w.ctx.clock.set(now() + Duration::hours(1));
    let out = w.say("ana", "/rsvp soon over going").await;
    assert!(out.contains("no occurrence ahead"), "{out}");
    let out = w.say("mod", "/event edit 1 capacity:-3").await;
    assert!(out.contains("capacity"), "{out}");
    w.say("mod", "/event edit 1 names:shown").await;
    assert!(w.say("ben", "/event show 1").await.contains("ana"));
}

/// Thirty people answer Going at once for ten places: exactly ten go, twenty wait, and the
/// waitlist has no two people at one place.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_answers_never_pass_the_capacity() {
    let w = World::new().await;
    w.say(
        "mod",
        "/event add title:\"Workshop\" when:\"2026-12-01 18:00\" capacity:10",
    )
    .await;
    let tasks: Vec<_> = (0..30)
        .map(|k| {
            let ctx = w.ctx.clone();
            tokio::spawn(async move {
                ctx.store
                    .set_rsvp(
                        EventId(1),
                        &SpaceId::parse("console:cohort").unwrap(),
                        &format!("p{k}"),
                        atlasbot::store::rsvps::Answer::Going,
                        now() + Duration::seconds(k),
                    )
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut places = Vec::new();
    for t in tasks {
        if let atlasbot::store::rsvps::Standing::Waiting(n) = t.await.unwrap().standing {
            places.push(n);
        }
    }
    let counts = w.ctx.store.rsvp_counts(&[EventId(1)]).await.unwrap()[&EventId(1)];
    assert_eq!((counts.going, counts.waiting), (10, 20));
    places.sort();
    assert_eq!(places, (1..=20).collect::<Vec<i64>>());
}

/// A person at the cap of personal reminders is still Going (and told they will not be
/// reminded), and one let in from the waitlist is told even so — as is everyone let in with
/// them.
#[tokio::test]
async fn the_reminder_caps_never_undo_an_answer_or_a_promotion() {
    let w = World::new().await;
    w.say(
        "mod",
        "/event add title:\"Seminar\" when:\"2026-12-01 18:00\" capacity:1",
    )
    .await;
    w.say("ana", "/rsvp 1 going").await;
    // Cy asked for the most reminders one person may have for an event, then waits.
    let many = w.say("cy", "/remind me 1 before:10m,20m,30m,40m,50m").await;
    assert!(many.contains("I will remind you"), "{many}");
    w.say("dee", "/remind me 1 before:10m,20m,30m,40m,50m")
        .await;
    assert!(w.say("cy", "/rsvp 1 going").await.contains("number 1"));
    assert!(w.say("dee", "/rsvp 1 going").await.contains("number 2"));
    // Ana leaves, and a moderator makes room for one more: both are let in, both told.
    let left = w.say("ana", "/rsvp 1 cant").await;
    assert!(left.contains("Can't go: Seminar"), "{left}");
    let edited = w.say("mod", "/event edit 1 capacity:2").await;
    assert!(edited.contains("Updated: Seminar"), "{edited}");
    let outbox = Arc::new(Recorder::default());
    let told: Vec<Target> = w
        .deliver(&outbox)
        .await
        .into_iter()
        .filter(|d| {
            d.reply
                .title
                .as_deref()
                .is_some_and(|t| t.starts_with("You're in"))
        })
        .map(|d| d.target)
        .collect();
    assert_eq!(told.len(), 2, "{told:?}");
    assert!(
        told.contains(&Target::User("cy".into())) && told.contains(&Target::User("dee".into()))
    );

    // Someone at the cap who answers Going is counted, and told they will not be reminded.
    w.say("mod", "/event edit 1 capacity:0").await;
    w.say("eve", "/remind me 1 before:10m,20m,30m,40m,50m")
        .await;
    let going = w.say("eve", "/rsvp 1 going").await;
    assert!(going.contains("Going: Seminar"), "{going}");
    assert!(going.contains("cannot remind you"), "{going}");
}
