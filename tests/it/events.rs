//! Events and reminders with an injected clock: what moderators may do, time zones and DST,
//! recurrence, edits and cancellations, the grace window, and exactly-once delivery.

use atlasbot::domain::{EventId, Platform, ReminderState, SpaceId, Target};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use atlasbot::commands::{self, Caller, Context};
use atlasbot::render::plain;
use atlasbot::reply::Tone;
use atlasbot::scheduler::{Clock, Delivery, DeliveryError, Outbox, Owner, Scheduler};
use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::support::{self, TempDb};

/// An outbox that records what it is given, and can be told to fail.
#[derive(Default)]
struct Recorder {
    sent: Mutex<Vec<Delivery>>,
    fail_next: Mutex<Vec<DeliveryError>>,
}

impl Outbox for Recorder {
    fn deliver<'a>(
        &'a self,
        d: &'a Delivery,
    ) -> Pin<Box<dyn Future<Output = Result<(), DeliveryError>> + Send + 'a>> {
        Box::pin(async move {
            if let Some(e) = self.fail_next.lock().unwrap().pop() {
                return Err(e);
            }
            self.sent.lock().unwrap().push(d.clone());
            Ok(())
        })
    }
}

impl Recorder {
    fn keys(&self) -> Vec<String> {
        self.sent
            .lock()
            .unwrap()
            .iter()
            .map(|d| d.key.clone())
            .collect()
    }
}

struct World {
    _db: TempDb,
    ctx: Context,
    moderator: Caller,
    member: Caller,
}

fn t(s: &str) -> DateTime<Utc> {
    Utc.from_utc_datetime(&chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap())
}

impl World {
    /// Monday 23 November 2026, 15:00 UTC.
    async fn new() -> World {
        let db = TempDb::new();
        let mut ctx = db.context().await;
        ctx.set_clock(Clock::fixed(t("2026-11-23 15:00")));
        let moderator = Caller {
            platform: Platform::Console,
            space: SpaceId::parse("console:space").unwrap(),
            user: "mod".into(),
            moderator: true,
            channel: None,
        };
        let member = Caller {
            platform: Platform::Console,
            space: SpaceId::parse("console:space").unwrap(),
            user: "ana".into(),
            moderator: false,
            channel: None,
        };
        World {
            _db: db,
            ctx,
            moderator,
            member,
        }
    }

    /// A line typed on the console (whose adapter reads and writes the files it names).
    async fn say(&self, who: &Caller, line: &str) -> String {
        plain::render(&atlasbot::platform::console::answer_line(&self.ctx, who, line).await)
    }

    fn scheduler(&self) -> Scheduler {
        Scheduler::new(
            Platform::Console,
            self.ctx.store.clone(),
            self.ctx.clock.clone(),
            self.ctx.grace,
        )
    }

    fn at(&self, s: &str) {
        self.ctx.clock.set(t(s));
    }
}

#[tokio::test]
async fn only_moderators_add_edit_and_cancel_events() {
    let w = World::new().await;
    let r = commands::answer(
        &w.ctx,
        &w.member,
        "/event add title:\"Hack night\" when:\"2026-12-01 18:00\"",
    )
    .await;
    assert_eq!(r.tone, Tone::Refusal);
    assert!(plain::render(&r).starts_with("Only moderators of this space can use /event add."));
    assert!(w
        .say(
            &w.moderator,
            "/event add title:\"Hack night\" when:\"2026-12-01 18:00\""
        )
        .await
        .starts_with("Scheduled: Hack night"));
    assert_eq!(
        commands::answer(&w.ctx, &w.member, "/event cancel 1")
            .await
            .tone,
        Tone::Refusal
    );
    assert_eq!(
        commands::answer(&w.ctx, &w.member, "/settings timezone Europe/Zurich")
            .await
            .tone,
        Tone::Refusal
    );
    assert!(
        w.say(&w.member, "/event show hack night")
            .await
            .starts_with("Hack night"),
        "anyone can look"
    );
}

#[tokio::test]
async fn times_are_read_in_the_spaces_zone_and_bad_ones_are_explained() {
    let w = World::new().await;
    w.say(&w.moderator, "/settings timezone europe/zurich")
        .await;
    let out = w
        .say(
            &w.moderator,
            "/event add title:Briefing when:\"3 Dec 14:00\"",
        )
        .await;
    assert!(
        out.contains("Next: Thu 3 Dec 2026 14:00 Europe/Zurich (in 9 days)"),
        "{out}"
    );
    let past = w
        .say(
            &w.moderator,
            "/event add title:Old when:\"2026-11-01 10:00\"",
        )
        .await;
    assert!(
        past.starts_with("Sun 1 Nov 2026 10:00 is in the past (Europe/Zurich)."),
        "{past}"
    );
    let gap = w
        .say(
            &w.moderator,
            "/event add title:Gap when:\"2027-03-28 02:30\"",
        )
        .await;
    assert!(
        gap.contains("does not exist in Europe/Zurich")
            && gap.contains("Try Sun 28 Mar 2027 03:00"),
        "{gap}"
    );
    let bad = w
        .say(&w.moderator, "/event add title:Bad when:banana")
        .await;
    assert!(
        bad.contains("Try for example: 2026-12-03 14:00, 3 Dec 14:00"),
        "{bad}"
    );
}

#[tokio::test]
async fn a_weekly_event_keeps_its_local_hour_across_the_dst_change() {
    let w = World::new().await;
    w.at("2027-03-01 12:00");
    w.say(&w.moderator, "/settings timezone America/New_York")
        .await;
    w.say(&w.moderator, "/event add title:\"Monday call\" when:\"2027-03-08 09:00\" repeat:\"weekly on mon\" times:3").await;
    let out = w.say(&w.member, "/events").await;
    for expected in [
        "Mon 8 Mar 2027 09:00",
        "Mon 15 Mar 2027 09:00",
        "Mon 22 Mar 2027 09:00",
    ] {
        assert!(out.contains(expected), "{expected} in:\n{out}");
    }
    // The reminder one hour before: 13:00 UTC before the change, 12:00 UTC after it.
    let states = w.ctx.store.reminder_states(EventId(1)).await.unwrap();
    let keys: Vec<&str> = states
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| k.ends_with("-60m-space"))
        .collect();
    assert_eq!(
        keys,
        [
            "ev1-20270308T1400Z-60m-space",
            "ev1-20270315T1300Z-60m-space",
            "ev1-20270322T1300Z-60m-space"
        ]
    );
}

#[tokio::test]
async fn atlas_events_are_shown_but_never_listed_as_upcoming() {
    let w = World::new().await;
    let out = w.say(&w.member, "/events").await;
    assert!(out.starts_with("No upcoming events in this space"), "{out}");
    let cop = w.say(&w.member, "/event show COP26").await;
    assert!(
        cop.contains("From the sources — a past or undated event")
            && cop.contains("When: 2021-10-31 to 2021-11-12"),
        "{cop}"
    );
}

#[tokio::test]
async fn reminders_go_out_once_at_each_offset() {
    let w = World::new().await;
    w.say(
        &w.moderator,
        "/event add title:Seminar when:\"2026-11-25 10:00\" place:\"Room 4\"",
    )
    .await;
    let out = Recorder::default();
    let s = w.scheduler();
    assert_eq!(s.tick(&out).await.unwrap(), 0, "nothing is due yet");
    w.at("2026-11-24 10:00");
    assert_eq!(s.tick(&out).await.unwrap(), 1);
    assert_eq!(
        s.tick(&out).await.unwrap(),
        0,
        "a second tick at the same time sends nothing"
    );
    w.at("2026-11-25 09:00");
    s.tick(&out).await.unwrap();
    assert_eq!(
        out.keys(),
        [
            "ev1-20261125T1000Z-1440m-space",
            "ev1-20261125T1000Z-60m-space"
        ]
    );
    let text = plain::render(&out.sent.lock().unwrap()[1].reply);
    assert!(
        text.starts_with(
            "Reminder: Seminar\n\nSeminar starts in 1 hour — Wed 25 Nov 2026 10:00 UTC."
        ),
        "{text}"
    );
    assert!(text.contains("Where: Room 4"), "{text}");
}

#[tokio::test]
async fn editing_moves_and_cancelling_stops_pending_reminders() {
    let w = World::new().await;
    w.say(
        &w.moderator,
        "/event add title:Workshop when:\"2026-11-25 10:00\"",
    )
    .await;
    w.say(
        &w.moderator,
        "/event edit workshop when:\"2026-11-26 16:00\"",
    )
    .await;
    let out = Recorder::default();
    let s = w.scheduler();
    w.at("2026-11-25 09:30");
    s.tick(&out).await.unwrap();
    assert!(
        out.keys().is_empty(),
        "the old time's reminders are gone: {:?}",
        out.keys()
    );
    w.at("2026-11-25 16:00");
    s.tick(&out).await.unwrap();
    assert_eq!(out.keys(), ["ev1-20261126T1600Z-1440m-space"]);
    w.say(&w.moderator, "/event cancel 1").await;
    w.at("2026-11-26 15:00");
    s.tick(&out).await.unwrap();
    assert_eq!(out.keys().len(), 1, "a cancelled event is never announced");
}

#[tokio::test]
async fn cancelling_one_occurrence_skips_only_that_one() {
    let w = World::new().await;
    w.say(
        &w.moderator,
        "/event add title:Standup when:\"2026-11-24 09:00\" repeat:daily times:3",
    )
    .await;
    let cancelled = w
        .say(
            &w.moderator,
            "/event cancel 1 occurrence:\"2026-11-25 09:00\"",
        )
        .await;
    assert!(
        cancelled.starts_with("Cancelled one occurrence of Standup"),
        "{cancelled}"
    );
    let wrong = w
        .say(
            &w.moderator,
            "/event cancel 1 occurrence:\"2026-11-25 10:00\"",
        )
        .await;
    assert!(
        wrong.contains("has no occurrence at Wed 25 Nov 2026 10:00"),
        "{wrong}"
    );
    let out = w.say(&w.member, "/events").await;
    assert!(
        out.contains("Tue 24 Nov 2026 09:00")
            && !out.contains("Wed 25 Nov 2026 09:00")
            && out.contains("Thu 26 Nov 2026 09:00"),
        "{out}"
    );
}

#[tokio::test]
async fn after_downtime_recent_reminders_go_out_late_and_old_ones_are_recorded_as_missed() {
    let w = World::new().await;
    w.say(
        &w.moderator,
        "/event add title:Panel when:\"2026-11-25 10:00\"",
    )
    .await;
    let out = Recorder::default();
    let s = w.scheduler();
    // Down from before the 1-day reminder (due 24 Nov 10:00) until 10:05: 5 minutes late.
    w.at("2026-11-24 10:05");
    s.tick(&out).await.unwrap();
    let text = plain::render(&out.sent.lock().unwrap()[0].reply);
    assert!(text.contains("Sent late: the bot was offline"), "{text}");
    // Down again past the 1-hour reminder by two hours: recorded as missed, not sent.
    w.at("2026-11-25 11:00");
    s.tick(&out).await.unwrap();
    assert_eq!(out.keys().len(), 1);
    let states = w.ctx.store.reminder_states(EventId(1)).await.unwrap();
    assert_eq!(
        states,
        [
            (
                "ev1-20261125T1000Z-1440m-space".to_string(),
                ReminderState::Sent
            ),
            (
                "ev1-20261125T1000Z-60m-space".to_string(),
                ReminderState::Missed
            )
        ]
    );
}

#[tokio::test]
async fn a_reminder_claimed_before_a_crash_is_sent_once_with_the_same_key() {
    let w = World::new().await;
    w.say(
        &w.moderator,
        "/event add title:\"Town hall\" when:\"2026-11-25 10:00\"",
    )
    .await;
    w.at("2026-11-24 10:00");
    // A process of this host claims the reminder and dies before sending it: no process has
    // that pid (it is beyond any pid the kernel hands out).
    let dead = Owner::of(4_000_000_000);
    assert!(
        Owner::is_dead(dead.as_str()),
        "a pid that does not run is dead"
    );
    let claimed = w
        .ctx
        .store
        .claim_due(
            w.ctx.clock.now(),
            10,
            Platform::Console,
            dead.as_str(),
            w.ctx.clock.now() + chrono::Duration::minutes(2),
        )
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let out = Recorder::default();
    let s = w.scheduler();
    s.tick(&out).await.unwrap();
    assert!(
        out.keys().is_empty(),
        "a claimed reminder is not claimed twice"
    );
    if w.ctx.store.shared_by_hosts() {
        // On a server shared by hosts a host name and pid do not name one process: the claim
        // changes hands only when its lease has run out.
        s.recover(&out).await.unwrap();
        assert!(out.keys().is_empty(), "taken over before its lease ran out");
        w.at("2026-11-24 10:03");
    }
    // Its owner is dead: taken over (on one host at once, before its lease runs out), and
    // sent once.
    s.recover(&out).await.unwrap();
    s.recover(&out).await.unwrap();
    assert_eq!(out.keys(), ["ev1-20261125T1000Z-1440m-space"]);
}

/// Regression (CI, PostgreSQL under load: "a process sent a key twice"): a batch that ends
/// after a send and before its record (cancelled here; a store error or a panic in use) lost
/// the only note that the reminder had gone out. Its claim, still this process's, ran out and
/// this process took it over and sent it again. The process's ledger of sends keeps it: taken
/// again, it is recorded, not sent; and the next pass records what the ledger holds.
#[tokio::test]
async fn a_send_whose_batch_ended_before_recording_it_is_never_sent_again_by_its_process() {
    for record_first in [false, true] {
        let w = World::new().await;
        w.say(
            &w.moderator,
            "/event add title:\"Town hall\" when:\"2026-11-25 10:00\"",
        )
        .await;
        w.at("2026-11-24 10:00");
        let out = Recorder::default();
        let mut s = w.scheduler();
        // Sent, then the batch is dropped while it waits to record.
        s.failpoints.after_send = Some(std::time::Duration::from_secs(30));
        let cut = tokio::time::timeout(std::time::Duration::from_secs(1), s.tick(&out)).await;
        assert!(cut.is_err(), "the batch was cut short");
        assert_eq!(out.keys().len(), 1, "it was sent");
        s.failpoints.after_send = None;
        // Its lease runs out; the same process looks for claims to take over.
        w.at("2026-11-24 10:05");
        if record_first {
            s.maintain(&out).await;
        } else {
            s.recover(&out).await.unwrap();
        }
        s.tick(&out).await.unwrap();
        assert_eq!(out.keys().len(), 1, "sent once: {:?}", out.keys());
        let states = w.ctx.store.reminder_states(EventId(1)).await.unwrap();
        let day_before: Vec<_> = states
            .iter()
            .filter(|(k, _)| k.contains("-1440m-"))
            .collect();
        assert_eq!(day_before.len(), 1);
        assert_eq!(day_before[0].1, ReminderState::Sent, "recorded as sent");
    }
}

/// Regression (bench reminders: a 10 000-reminder burst six times slower after #29): the
/// lanes of a batch that start together each found their claim unproven and each ran a fence
/// over the same 500 claims. One fence proves the batch's next claims for all of them; lanes
/// that need it at the same moment wait for it.
#[tokio::test]
async fn lanes_starting_together_share_one_fence() {
    let w = World::new().await;
    w.say(
        &w.moderator,
        "/event add title:\"Town hall\" when:\"2026-11-25 10:00\"",
    )
    .await;
    let event = w.ctx.store.event(EventId(1)).await.unwrap().unwrap();
    let occurrence = t("2026-11-25 10:00");
    // 200 people, each a destination (a lane) of their own, all due now.
    let owed: Vec<(i64, Target)> = (0..200)
        .map(|i| (30, Target::User(format!("u{i}"))))
        .collect();
    let planned: Vec<_> = atlasbot::events::plan(EventId(1), &[occurrence], &owed)
        .into_iter()
        .map(|p| atlasbot::events::Planned {
            due: w.ctx.clock.now(),
            ..p
        })
        .collect();
    let forever = DateTime::from_timestamp(253_402_214_400, 0).unwrap();
    let written = w.ctx.store.replan(&event, &planned, forever).await.unwrap();
    assert_eq!(written, atlasbot::store::events::PlanWrite::Written);
    let out = Recorder::default();
    let s = w.scheduler();
    assert_eq!(s.tick(&out).await.unwrap(), 200);
    let mut keys = out.keys();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 200, "each sent once");
    assert_eq!(
        s.fences_run(),
        1,
        "one fence proved the batch's claims for all {} lanes",
        s.lanes
    );
}

#[tokio::test]
async fn a_claim_of_a_live_process_is_left_alone_until_its_lease_runs_out() {
    let w = World::new().await;
    w.say(
        &w.moderator,
        "/event add title:\"Town hall\" when:\"2026-11-25 10:00\"",
    )
    .await;
    w.at("2026-11-24 10:00");
    // Another process that is alive (the one that started these tests) is delivering it.
    let parent = std::os::unix::process::parent_id();
    let live = Owner::of(parent);
    assert!(!Owner::is_dead(live.as_str()));
    w.ctx
        .store
        .claim_due(
            w.ctx.clock.now(),
            10,
            Platform::Console,
            live.as_str(),
            w.ctx.clock.now() + chrono::Duration::minutes(2),
        )
        .await
        .unwrap();
    let out = Recorder::default();
    let s = w.scheduler();
    s.recover(&out).await.unwrap();
    s.tick(&out).await.unwrap();
    assert!(out.keys().is_empty(), "another live process is sending it");
    // It stalls past its lease: then the reminder is taken over, under the same key.
    w.at("2026-11-24 10:03");
    s.recover(&out).await.unwrap();
    assert_eq!(out.keys(), ["ev1-20261125T1000Z-1440m-space"]);
}

/// Regression (exactly once, a sender stalled past its lease): a process stalled between
/// claiming and sending, whose claim another process took over and delivered, sent it too.
#[tokio::test]
async fn a_sender_stalled_past_its_lease_does_not_send_what_was_taken_over() {
    let w = World::new().await;
    w.say(
        &w.moderator,
        "/event add title:\"Town hall\" when:\"2026-11-25 10:00\"",
    )
    .await;
    w.at("2026-11-24 10:00");
    // Two live processes: the stalled one (named after the process that started the tests)
    // and this one.
    let mut stalled = w.scheduler();
    stalled.owner = Owner::of(std::os::unix::process::parent_id());
    stalled.failpoints.after_claim = Some(std::time::Duration::from_millis(400));
    let other = w.scheduler();
    let (stalled_out, other_out) = (Recorder::default(), Recorder::default());
    let key = "ev1-20261125T1000Z-1440m-space";
    let take_over = async {
        // Once it is claimed, the lease runs out while the claimer stalls, and the other
        // process takes the claim over and delivers it.
        while !w
            .ctx
            .store
            .reminder_states(EventId(1))
            .await
            .unwrap()
            .iter()
            .any(|(_, s)| *s == ReminderState::Claimed)
        {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        w.at("2026-11-24 10:03");
        other.recover(&other_out).await.unwrap()
    };
    let (stalled_sent, taken_over) = tokio::join!(stalled.tick(&stalled_out), take_over);
    assert_eq!(taken_over, 1, "the other process delivered it");
    assert_eq!(stalled_sent.unwrap(), 0, "the stalled process sent nothing");
    assert!(stalled_out.keys().is_empty(), "{:?}", stalled_out.keys());
    assert_eq!(other_out.keys(), [key]);
    let states = w.ctx.store.reminder_states(EventId(1)).await.unwrap();
    assert!(
        states.contains(&(key.to_string(), ReminderState::Sent)),
        "{states:?}"
    );
}

/// Regression (exactly once, a host's clock ahead): a process whose clock ran ahead of the
/// others' by more than the lease took their live claims over and sent them again.
#[tokio::test]
async fn a_process_whose_clock_runs_ahead_claims_nothing_and_takes_nothing_over() {
    let w = World::new().await;
    w.say(
        &w.moderator,
        "/event add title:\"Town hall\" when:\"2026-11-25 10:00\"",
    )
    .await;
    w.at("2026-11-24 10:00");
    let mut live = w.scheduler();
    live.owner = Owner::of(std::os::unix::process::parent_id());
    // The live process claims the reminder and is about to send it.
    let lease_now = w.ctx.store.lease_now().await.unwrap();
    let claimed = w
        .ctx
        .store
        .claim_due(
            w.ctx.clock.now(),
            10,
            Platform::Console,
            live.owner.as_str(),
            lease_now + live.lease,
        )
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    // Another process's clock is 10 minutes ahead of the database's.
    let mut ahead = w.scheduler();
    ahead.clock = Clock::fixed(w.ctx.clock.now() + Duration::minutes(10));
    let out = Recorder::default();
    assert_eq!(ahead.recover(&out).await.unwrap(), 0);
    assert_eq!(ahead.tick(&out).await.unwrap(), 0);
    assert!(out.keys().is_empty(), "{:?}", out.keys());
    // Nor does it claim what falls due by its clock but not yet by the database's.
    w.say(
        &w.moderator,
        "/event add title:Soon when:\"2026-11-25 10:05\"",
    )
    .await;
    assert_eq!(ahead.tick(&out).await.unwrap(), 0);
    assert!(out.keys().is_empty(), "{:?}", out.keys());
    // Set right, it claims again.
    ahead.clock = w.ctx.clock.clone();
    w.at("2026-11-24 10:05");
    ahead.tick(&out).await.unwrap();
    assert_eq!(out.keys(), ["ev2-20261125T1005Z-1440m-space"]);
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_backoff_and_gone_targets_are_not() {
    let w = World::new().await;
    w.say(
        &w.moderator,
        "/event add title:Retry when:\"2026-11-25 10:00\"",
    )
    .await;
    let out = Recorder::default();
    out.fail_next
        .lock()
        .unwrap()
        .push(DeliveryError::Temporary("503".into()));
    let s = w.scheduler();
    w.at("2026-11-24 10:00");
    s.tick(&out).await.unwrap();
    assert!(out.keys().is_empty());
    w.at("2026-11-24 10:01");
    s.tick(&out).await.unwrap();
    assert_eq!(
        out.keys(),
        ["ev1-20261125T1000Z-1440m-space"],
        "retried after the backoff"
    );
    out.fail_next
        .lock()
        .unwrap()
        .push(DeliveryError::Gone("channel deleted".into()));
    w.at("2026-11-25 09:00");
    s.tick(&out).await.unwrap();
    w.at("2026-11-25 09:30");
    s.tick(&out).await.unwrap();
    assert_eq!(
        out.keys(),
        [
            "ev1-20261125T1000Z-1440m-space",
            "ev1-20261125T1000Z-60m-space-failed"
        ],
        "no second reminder, a notice to moderators"
    );
    let states = w.ctx.store.reminder_states(EventId(1)).await.unwrap();
    assert_eq!(states[1].1, ReminderState::Failed);
    let notices: Vec<Delivery> = out
        .sent
        .lock()
        .unwrap()
        .iter()
        .filter(|d| d.target == Target::Moderators)
        .cloned()
        .collect();
    assert!(
        plain::render(&notices[0].reply).contains("the target space is gone (channel deleted)"),
        "moderators are told"
    );
    // Later reminders to the gone target are not attempted; a new channel turns them back on.
    w.say(
        &w.moderator,
        "/event add title:Later when:\"2026-11-28 10:00\"",
    )
    .await;
    w.at("2026-11-27 10:00");
    s.tick(&out).await.unwrap();
    assert_eq!(
        w.ctx.store.reminder_states(EventId(2)).await.unwrap()[0].1,
        ReminderState::Failed
    );
    w.say(&w.moderator, "/settings channel #events").await;
    w.at("2026-11-28 09:00");
    s.tick(&out).await.unwrap();
    assert!(
        out.keys()
            .contains(&"ev2-20261128T1000Z-60m-space".to_string()),
        "{:?}",
        out.keys()
    );
}

#[tokio::test]
async fn personal_reminders_go_to_their_user_and_can_be_cancelled() {
    let w = World::new().await;
    w.say(
        &w.moderator,
        "/event add title:Lecture when:\"2026-11-30 14:00\"",
    )
    .await;
    let set = commands::answer(&w.ctx, &w.member, "/remind me lecture before:30m").await;
    assert_eq!(set.visibility, atlasbot::reply::Visibility::Private);
    assert!(
        plain::render(&set).contains("30 minutes before each occurrence, just to you. Reminder #1")
    );
    assert!(w
        .say(&w.member, "/reminders")
        .await
        .contains("#1 — Lecture — 30 minutes before"));
    let out = Recorder::default();
    let s = w.scheduler();
    w.at("2026-11-30 13:30");
    s.tick(&out).await.unwrap();
    let targets: Vec<Target> = out
        .sent
        .lock()
        .unwrap()
        .iter()
        .map(|d| d.target.clone())
        .collect();
    assert!(targets.contains(&Target::User("ana".into())), "{targets:?}");
    assert!(w
        .say(&w.member, "/reminders cancel 1")
        .await
        .starts_with("Reminder removed"));
    assert!(w
        .say(&w.member, "/reminders cancel 1")
        .await
        .starts_with("You have no reminder #1"));
}

#[tokio::test]
async fn import_never_touches_events() {
    let w = World::new().await;
    w.say(
        &w.moderator,
        "/event add title:Kept when:\"2026-12-01 10:00\"",
    )
    .await;
    let atlas = support::bundled_atlas();
    w.ctx.store.replace_atlas(&atlas, "bundled").await.unwrap();
    assert!(w
        .say(&w.member, "/event show kept")
        .await
        .starts_with("Kept"));
    assert!(w
        .ctx
        .store
        .next_due(Platform::Console)
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn changed_offsets_replan_every_event_of_the_space() {
    let w = World::new().await;
    w.say(
        &w.moderator,
        "/event add title:Talk when:\"2026-11-25 10:00\"",
    )
    .await;
    w.say(&w.moderator, "/settings offsets 15m").await;
    let keys: Vec<String> = w
        .ctx
        .store
        .reminder_states(EventId(1))
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, s)| *s == ReminderState::Pending)
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, ["ev1-20261125T1000Z-15m-space"]);
    let _ = Duration::minutes(1);
    let _ = Arc::new(0);
}

#[tokio::test]
async fn icalendar_export_then_import_gives_the_same_events() {
    let mut w = World::new().await;
    w.moderator.platform = Platform::Console; // file paths are the console's
    w.say(&w.moderator, "/settings timezone Europe/Zurich")
        .await;
    w.say(&w.moderator, "/event add title:\"Study session; part 1\" when:\"2026-12-07 10:00\" repeat:weekly until:2027-01-31 place:\"Room 4, Maison de la Paix\" duration:90").await;
    w.say(
        &w.moderator,
        "/event add title:Briefing when:\"3 Dec 14:00\" description:\"Bring questions, please\"",
    )
    .await;
    w.say(
        &w.moderator,
        "/event cancel 1 occurrence:\"2026-12-14 10:00\"",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.ics");
    let saved = w
        .say(
            &w.moderator,
            &format!("/event export file:{}", file.display()),
        )
        .await;
    assert!(
        saved.contains("2 events of this space. Saved to"),
        "{saved}"
    );
    let other = Caller {
        space: SpaceId::parse("console:other").unwrap(),
        ..w.moderator.clone()
    };
    w.say(&other, "/settings timezone Europe/Zurich").await;
    let imported = w
        .say(&other, &format!("/event import file:{}", file.display()))
        .await;
    assert!(
        imported.contains("2 added, 0 updated, 0 skipped."),
        "{imported}"
    );
    let strip = |s: String| {
        s.lines()
            .map(|l| l.split(" → ").next().unwrap_or(l).to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        strip(w.say(&w.moderator, "/events range:year").await),
        strip(w.say(&other, "/events range:year").await)
    );
    let again = w
        .say(&other, &format!("/event import file:{}", file.display()))
        .await;
    assert!(
        again.contains("0 added, 2 updated, 0 skipped."),
        "importing twice updates by UID: {again}"
    );
}

#[tokio::test]
async fn a_malformed_or_huge_calendar_is_rejected_whole() {
    let mut w = World::new().await;
    w.moderator.platform = Platform::Console;
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.ics");
    std::fs::write(&bad, "BEGIN:VCALENDAR\nthis is not ical").unwrap();
    let out = w
        .say(
            &w.moderator,
            &format!("/event import file:{}", bad.display()),
        )
        .await;
    assert!(
        out.starts_with("Rejected: ") && out.contains("Nothing was imported."),
        "{out}"
    );
    let huge = dir.path().join("huge.ics");
    std::fs::write(&huge, "x".repeat(1_200_000)).unwrap();
    let out = w
        .say(
            &w.moderator,
            &format!("/event import file:{}", huge.display()),
        )
        .await;
    assert!(
        out.contains("at most 1000 KB is accepted. Nothing was imported."),
        "{out}"
    );
    assert!(w
        .say(&w.member, "/events")
        .await
        .starts_with("No upcoming events"));
    assert_eq!(
        commands::answer(
            &w.ctx,
            &w.member,
            &format!("/event import file:{}", bad.display())
        )
        .await
        .tone,
        Tone::Refusal
    );
}

#[tokio::test]
async fn mentions_in_event_text_never_reach_a_reminder_intact() {
    let w = World::new().await;
    w.say(&w.moderator, "/event add title:\"@everyone party\" when:\"2026-11-25 10:00\" description:\"ask <@1234> or @here\"").await;
    let out = Recorder::default();
    w.at("2026-11-24 10:00");
    w.scheduler().tick(&out).await.unwrap();
    let text = plain::render(&out.sent.lock().unwrap()[0].reply);
    for raw in ["@everyone", "<@1234>", "@here"] {
        assert!(!text.contains(raw), "{raw} in {text}");
    }
    assert!(
        text.replace('\u{200B}', "")
            .contains("@everyone party starts in 1 day"),
        "{text}"
    );
    assert!(!w
        .say(&w.member, "/event show 1")
        .await
        .contains("@everyone"));
}

// ---------------------------------------------------------------------------------------------
// Reliability: every occurrence gets its reminders, with bounded rows, whatever is sent.

async fn reminder_rows(w: &World) -> usize {
    let mut n = 0;
    for id in 1..=300 {
        n += w
            .ctx
            .store
            .reminder_states(EventId(id))
            .await
            .unwrap()
            .len();
    }
    n
}

#[tokio::test]
async fn reminders_beyond_the_first_plan_are_sent_when_their_time_comes() {
    let w = World::new().await;
    // Eighteen months ahead: far beyond what is planned at first.
    let out = w
        .say(
            &w.moderator,
            "/event add title:\"Far away\" when:\"2028-05-22 10:00\"",
        )
        .await;
    assert!(out.starts_with("Scheduled:"), "{out}");
    // And a daily series of 1000: occurrence 600 is more than 500 occurrences away.
    let out = w
        .say(
            &w.moderator,
            "/event add title:Daily when:\"2026-11-24 08:00\" repeat:daily times:1000",
        )
        .await;
    assert!(out.starts_with("Scheduled:"), "{out}");
    assert!(
        reminder_rows(&w).await < 100,
        "only the coming weeks are planned"
    );
    let s = w.scheduler();
    let sent = Recorder::default();
    // Eighteen months later (the bot was down meanwhile: what fell due then is missed), the
    // plan catches up with the clock and the reminders owed from now on go out.
    for at in ["2028-05-21 09:00", "2028-05-21 10:00", "2028-05-22 08:00"] {
        w.at(at);
        s.maintain(&sent).await;
        s.tick(&sent).await.unwrap();
    }
    let keys = sent.keys();
    assert!(
        keys.contains(&"ev1-20280522T1000Z-1440m-space".to_string()),
        "{keys:?}"
    );
    // 2028-05-23 is day 547 of the daily series: its reminder comes too.
    assert!(
        keys.contains(&"ev2-20280523T0800Z-1440m-space".to_string()),
        "{keys:?}"
    );
}

#[tokio::test]
async fn one_event_owes_a_bounded_number_of_rows_however_long_its_series() {
    let w = World::new().await;
    w.say(&w.moderator, "/settings offsets 1w,1d,1h,30m,5m")
        .await;
    for n in 0..20 {
        let out = w
            .say(
                &w.moderator,
                &format!("/event add title:\"Daily {n}\" when:\"2026-11-24 08:00\" repeat:daily"),
            )
            .await;
        assert!(out.starts_with("Scheduled:"), "{out}");
    }
    // 20 endless daily series × 5 offsets: the next 35 days of reminders, not years of them.
    let rows = reminder_rows(&w).await;
    assert!(rows <= 20 * 36 * 5, "{rows} rows");
    assert!(
        rows >= 20 * 30 * 5,
        "{rows} rows: the coming weeks are all planned"
    );
}

#[tokio::test]
async fn a_space_has_a_bounded_number_of_events_and_people_of_reminders() {
    let w = World::new().await;
    for n in 0..200 {
        let out = w
            .say(
                &w.moderator,
                &format!("/event add title:\"E{n}\" when:\"2026-12-01 10:00\""),
            )
            .await;
        assert!(out.starts_with("Scheduled:"), "event {n}: {out}");
    }
    let refused = commands::answer(
        &w.ctx,
        &w.moderator,
        "/event add title:\"One too many\" when:\"2026-12-01 10:00\"",
    )
    .await;
    assert_eq!(refused.tone, Tone::Refusal);
    assert!(
        plain::render(&refused).contains("the most it can have (200)"),
        "{}",
        plain::render(&refused)
    );

    let ok = w.say(&w.member, "/remind me 1 before:1d,2h,30m").await;
    assert!(
        ok.contains("1 day, 2 hours and 30 minutes"),
        "every offset kept: {ok}"
    );
    w.say(&w.member, "/remind me 1 before:10m,5m").await;
    let sixth = commands::answer(&w.ctx, &w.member, "/remind me 1 before:1m").await;
    assert_eq!(sixth.tone, Tone::Refusal);
    assert!(plain::render(&sixth).contains("at most 5 reminders for one event"));
}

#[tokio::test]
async fn numbers_beyond_their_bounds_are_explained_never_wrapped() {
    let w = World::new().await;
    for (line, expected) in [
        (
            "/event add title:X when:\"2026-12-01 10:00\" duration:9223372036854775807",
            "too large",
        ),
        (
            "/event add title:X when:\"2026-12-01 10:00\" repeat:daily times:4294967297",
            "too large",
        ),
        (
            "/settings offsets 1830034134296583w",
            "Offsets go from 0m to 60d",
        ),
        (
            "/settings offsets 99999999999999999999999m",
            "Offsets go from 0m to 60d",
        ),
    ] {
        let r = commands::answer(&w.ctx, &w.moderator, line).await;
        assert_eq!(r.tone, Tone::Usage, "{line}: {}", plain::render(&r));
        assert!(
            plain::render(&r).contains(expected),
            "{line}: {}",
            plain::render(&r)
        );
    }
}

#[tokio::test]
async fn an_edit_can_end_a_series_by_count_or_date() {
    let w = World::new().await;
    w.say(
        &w.moderator,
        "/event add title:Weekly when:\"2026-11-30 10:00\" repeat:weekly",
    )
    .await;
    let out = w.say(&w.moderator, "/event edit 1 times:3").await;
    assert!(out.contains("every week, 3 times"), "{out}");
    let out = w.say(&w.moderator, "/event edit 1 until:2026-12-14").await;
    assert!(out.contains("until 14 Dec 2026"), "{out}");
    let never = commands::answer(&w.ctx, &w.moderator, "/event edit 1 until:2026-11-01").await;
    assert!(
        plain::render(&never).contains("it would never happen"),
        "{}",
        plain::render(&never)
    );
}

#[tokio::test]
async fn a_late_reminder_says_how_long_is_really_left() {
    let w = World::new().await;
    w.say(
        &w.moderator,
        "/event add title:Soon when:\"2026-11-25 12:00\"",
    )
    .await;
    // The bot was down when the one-day reminder fell due; it comes back 2 hours before.
    let mut s = w.scheduler();
    s.grace = Duration::days(2);
    w.at("2026-11-25 10:00");
    let sent = Recorder::default();
    s.tick(&sent).await.unwrap();
    let text = sent
        .sent
        .lock()
        .unwrap()
        .iter()
        .map(|d| plain::render(&d.reply))
        .find(|t| t.contains("Soon"))
        .unwrap();
    assert!(text.contains("starts in about 2 hours"), "{text}");
    assert!(!text.contains("starts in 1 day"), "{text}");
}

#[tokio::test]
async fn someone_who_unsubscribes_and_subscribes_again_is_reminded_again() {
    let w = World::new().await;
    w.say(
        &w.moderator,
        "/event add title:Again when:\"2026-11-30 10:00\"",
    )
    .await;
    w.say(&w.member, "/remind me 1 before:30m").await;
    let out = w.say(&w.member, "/reminders cancel 1").await;
    assert!(!out.is_empty());
    w.say(&w.member, "/remind me 1 before:30m").await;
    w.at("2026-11-30 09:30");
    let sent = Recorder::default();
    w.scheduler().tick(&sent).await.unwrap();
    assert!(
        sent.keys()
            .contains(&"ev1-20261130T1000Z-30m-user:ana".to_string()),
        "{:?}",
        sent.keys()
    );
}

/// Regression: a one-off a few weeks beyond the first plan was marked "planned for good" as
/// soon as it fell within the expansion window, and its day-before reminder never came.
#[tokio::test]
async fn a_one_off_weeks_ahead_gets_every_reminder_as_the_plan_moves_on() {
    let w = World::new().await;
    // 23 Nov 2026 → 12 Jan 2027: 50 days ahead, beyond the first 35 days planned.
    w.say(
        &w.moderator,
        "/event add title:\"New year briefing\" when:\"2027-01-12 10:00\"",
    )
    .await;
    let s = w.scheduler();
    let sent = Recorder::default();
    // The scheduler runs on as the days pass (a maintenance pass a day is plenty).
    let mut day = t("2026-11-24 10:00");
    while day <= t("2027-01-12 10:00") {
        w.ctx.clock.set(day);
        s.maintain(&sent).await;
        s.tick(&sent).await.unwrap();
        day += Duration::hours(1);
    }
    assert_eq!(
        sent.keys(),
        [
            "ev1-20270112T1000Z-1440m-space",
            "ev1-20270112T1000Z-60m-space"
        ]
    );
}

#[tokio::test]
async fn the_store_tells_a_waiting_scheduler_of_every_change_to_the_schedule() {
    // The command that changes the schedule does not wake anyone itself: the store announces
    // its own writes, at once, and notices another process's within about a second.
    let w = World::new().await;
    let soon = std::time::Duration::from_millis(300);
    let mut changes = w.ctx.store.watch_changes().await;

    w.say(
        &w.moderator,
        "/event add title:Seminar when:\"2026-11-25 10:00\"",
    )
    .await;
    tokio::time::timeout(soon, changes.next())
        .await
        .expect("an event added in this process is announced at once");
    assert!(
        tokio::time::timeout(soon, changes.next()).await.is_err(),
        "and only once: nothing else changed"
    );

    w.say(&w.moderator, "/event cancel 1").await;
    tokio::time::timeout(soon, changes.next())
        .await
        .expect("a cancellation is announced at once");

    let other = atlasbot::store::Store::open_at(&w._db.location())
        .await
        .unwrap();
    other
        .cancel_event(EventId(1), t("2026-11-23 15:00"))
        .await
        .unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(3), changes.next())
        .await
        .expect("another connection's commit is seen within a second or so");
}

/// Two planners of one event — another process's scheduler, or a command racing this
/// process's scheduler: a plan computed from the event as it was before a change is never
/// written over the plan of the change. Every kind of change counts: an edit, a cancelled
/// occurrence, a personal reminder added or removed, the space's offsets, a cancellation.
#[tokio::test]
async fn a_plan_computed_before_a_change_to_the_event_is_never_written() {
    use atlasbot::store::events::PlanWrite;
    let w = World::new().await;
    w.say(
        &w.moderator,
        "/event add title:Standup when:\"2026-11-24 09:00\" repeat:daily times:5",
    )
    .await;
    let store = &w.ctx.store;
    let forever = t("2099-01-01 00:00");
    // What a planner that read the event at its first time would write.
    let stale_plan = atlasbot::events::plan(
        EventId(1),
        &[t("2026-11-24 09:00")],
        &[(1440, Target::Space)],
    );
    let changes: [(&Caller, &str); 6] = [
        (&w.moderator, "/event edit 1 when:\"2026-11-24 17:00\""),
        (
            &w.moderator,
            "/event cancel 1 occurrence:\"2026-11-25 17:00\"",
        ),
        (&w.member, "/remind me 1 before:2h"),
        (&w.member, "/reminders cancel 1"),
        (&w.moderator, "/settings offsets 1d,15m"),
        (&w.moderator, "/event cancel 1"),
    ];
    for (who, change) in changes {
        let read_before = store.event(EventId(1)).await.unwrap().unwrap();
        let answer = w.say(who, change).await;
        assert_eq!(
            store
                .replan(&read_before, &stale_plan, forever)
                .await
                .unwrap(),
            PlanWrite::EventChanged,
            "after {change:?} ({answer})"
        );
        assert_eq!(
            store
                .add_planned(&read_before, &stale_plan, Some(forever))
                .await
                .unwrap(),
            PlanWrite::EventChanged,
            "after {change:?}"
        );
        let fresh = store.event(EventId(1)).await.unwrap().unwrap();
        assert_eq!(
            store.add_planned(&fresh, &[], None).await.unwrap(),
            PlanWrite::Written,
            "a plan of the event as it is now is written"
        );
    }
    // Nothing stale was written: the cancelled event owes nothing, at the old time or new.
    let out = Recorder::default();
    let s = w.scheduler();
    for at in ["2026-11-23 09:00", "2026-11-24 08:45", "2026-11-24 16:45"] {
        w.at(at);
        s.tick(&out).await.unwrap();
    }
    assert_eq!(out.keys(), Vec::<String>::new());
}

/// An event more than a year ahead has a next occurrence like any other (its card never says
/// "no upcoming occurrence"), and one of its occurrences can be cancelled.
#[tokio::test]
async fn an_event_years_ahead_shows_its_next_occurrence_and_can_skip_one() {
    let w = World::new().await;
    let added = w
        .say(
            &w.moderator,
            "/event add title:Summit when:\"2028-06-01 10:00\" repeat:weekly",
        )
        .await;
    assert!(
        added.contains("Next: Thu 1 Jun 2028 10:00 UTC (in "),
        "{added}"
    );
    let skipped = w
        .say(
            &w.moderator,
            "/event cancel 1 occurrence:\"2028-06-08 10:00\"",
        )
        .await;
    assert!(
        skipped.starts_with("Cancelled one occurrence of Summit"),
        "{skipped}"
    );
}

/// An event added just after its one-day reminder would have fallen due: that reminder was
/// never owed, so it is not sent "late, because the bot was offline" (it was not); the next
/// one comes at its time. The same for a personal reminder asked for too late.
#[tokio::test]
async fn a_reminder_due_before_its_event_existed_is_not_sent_as_if_the_bot_had_been_offline() {
    let w = World::new().await; // 2026-11-23 15:00, offsets 1 day and 1 hour
    w.say(
        &w.moderator,
        "/event add title:Seminar when:\"2026-11-24 14:55\"",
    )
    .await;
    w.say(&w.member, "/remind me seminar before:1d").await;
    let out = Recorder::default();
    let s = w.scheduler();
    s.tick(&out).await.unwrap();
    assert_eq!(out.keys(), Vec::<String>::new(), "nothing was owed yet");
    w.at("2026-11-24 13:55");
    s.tick(&out).await.unwrap();
    assert_eq!(out.keys(), ["ev1-20261124T1455Z-60m-space"]);
    let text = plain::render(&out.sent.lock().unwrap()[0].reply);
    assert!(!text.contains("Sent late"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// Following a topic or an actor (#17).

/// Keys of the pending or sent reminders of an event that go to `user`.
async fn keys_for(w: &World, event: i64, user: &str) -> Vec<(String, ReminderState)> {
    w.ctx
        .store
        .reminder_states(EventId(event))
        .await
        .unwrap()
        .into_iter()
        .filter(|(k, _)| k.ends_with(&format!("-user:{user}")))
        .collect()
}

#[tokio::test]
async fn a_follower_of_a_topic_hears_once_of_a_new_event_on_it_and_is_reminded_before_it() {
    let w = World::new().await;
    let out = w.say(&w.member, "/follow cybersecurity").await;
    assert!(out.starts_with("Following Cybersecurity"), "{out}");
    // Untagged: the topic is inferred from the title, and the card says so.
    let card = w
        .say(
            &w.moderator,
            "/event add title:\"Cybersecurity clinic\" when:\"2026-11-30 14:00\"",
        )
        .await;
    assert!(
        card.contains("Topics (inferred from the title and description): Cybersecurity"),
        "{card}"
    );
    w.say(
        &w.moderator,
        "/event add title:\"Lunch\" when:\"2026-11-30 12:00\"",
    )
    .await;
    let s = w.scheduler();
    let out = Recorder::default();
    s.tick(&out).await.unwrap();
    s.tick(&out).await.unwrap();
    let notes: Vec<Delivery> = out.sent.lock().unwrap().clone();
    assert_eq!(notes.len(), 1, "one note, once: {:?}", out.keys());
    assert_eq!(notes[0].target, Target::User("ana".into()));
    assert!(plain::render(&notes[0].reply).starts_with("New event: Cybersecurity clinic"));
    // The reminder an hour before, to the follower; nothing to them for the lunch.
    w.at("2026-11-30 13:00");
    s.tick(&out).await.unwrap();
    let sent = out.keys();
    assert!(
        sent.contains(&"ev1-20261130T1400Z-60m-user:ana".to_string()),
        "{sent:?}"
    );
    assert!(keys_for(&w, 2, "ana").await.is_empty());
    // The moderator who added it is not told of their own event.
    assert!(!sent.iter().any(|k| k.contains("user:mod")), "{sent:?}");
}

#[tokio::test]
async fn following_an_actor_covers_what_it_organises_or_is_named_in_until_unfollowed() {
    let w = World::new().await;
    w.say(
        &w.moderator,
        "/event add title:\"Standards day\" when:\"2026-12-02 09:00\" organiser:ITU topics:standards",
    )
    .await;
    w.say(
        &w.moderator,
        "/event add title:\"Reading group\" when:\"2026-12-03 09:00\" description:\"On the ITU's latest report\"",
    )
    .await;
    w.say(
        &w.moderator,
        "/event add title:\"Other\" when:\"2026-12-04 09:00\"",
    )
    .await;
    let out = w.say(&w.member, "/follow actor:ITU").await;
    assert!(
        out.contains("Standards day") && out.contains("Reading group"),
        "{out}"
    );
    assert!(!out.contains("Other"), "{out}");
    // Events that existed before the follow remind the follower too; nothing was rewritten
    // for it (the follow is one row).
    let s = w.scheduler();
    let out = Recorder::default();
    w.at("2026-12-02 08:00");
    s.tick(&out).await.unwrap();
    assert!(
        out.keys()
            .contains(&"ev1-20261202T0900Z-60m-user:ana".to_string()),
        "{:?}",
        out.keys()
    );
    let listed = w.say(&w.member, "/following").await;
    assert!(listed.contains("Actor ITU"), "{listed}");
    let out2 = w.say(&w.member, "/unfollow actor:ITU").await;
    assert!(out2.starts_with("No longer following ITU"), "{out2}");
    for at in ["2026-12-03 08:00", "2026-12-04 08:00"] {
        w.at(at);
        s.tick(&out).await.unwrap();
    }
    let to_ana: Vec<String> = out
        .keys()
        .into_iter()
        .filter(|k| k.ends_with("user:ana"))
        .collect();
    assert_eq!(
        to_ana,
        ["ev1-20261202T0900Z-60m-user:ana"],
        "not after the unfollow"
    );
    let again = w.say(&w.member, "/unfollow actor:ITU").await;
    assert!(again.contains("You do not follow ITU"), "{again}");
}

#[tokio::test]
async fn stop_on_one_followed_event_silences_only_that_event() {
    let w = World::new().await;
    w.say(&w.member, "/follow cybersecurity").await;
    for (title, when) in [
        ("Cybersecurity clinic", "2026-11-30 14:00"),
        ("Cybersecurity drill", "2026-12-01 14:00"),
    ] {
        w.say(
            &w.moderator,
            &format!("/event add title:\"{title}\" when:\"{when}\""),
        )
        .await;
    }
    let out = w.say(&w.member, "/remind stop 1").await;
    assert!(
        out.starts_with("No more reminders: Cybersecurity clinic"),
        "{out}"
    );
    // Editing the silenced event does not bring its reminders back.
    w.say(&w.moderator, "/event edit 1 when:\"2026-11-30 15:00\"")
        .await;
    let s = w.scheduler();
    let out = Recorder::default();
    for at in ["2026-11-30 14:00", "2026-12-01 13:00"] {
        w.at(at);
        s.tick(&out).await.unwrap();
    }
    let to_ana: Vec<String> = out
        .keys()
        .into_iter()
        .filter(|k| k.ends_with("user:ana") && !k.contains("-new-"))
        .collect();
    assert_eq!(to_ana, ["ev2-20261201T1400Z-60m-user:ana"]);
}

#[tokio::test]
async fn an_unknown_topic_or_actor_is_never_taken_for_a_neighbour() {
    let w = World::new().await;
    let out = w.say(&w.member, "/follow actor:WIPOX").await;
    assert!(out.contains("No actor called “WIPOX”"), "{out}");
    assert!(out.contains("Did you mean"), "{out}");
    let out = w
        .say(&w.member, "/follow topic:\"quantum basket weaving\"")
        .await;
    assert!(out.contains("is not a topic I know"), "{out}");
    assert!(w
        .say(&w.member, "/following")
        .await
        .contains("You follow nothing here yet"));
    let out = w
        .say(
            &w.moderator,
            "/event add title:X when:\"2026-12-02 09:00\" organiser:WIPOX",
        )
        .await;
    assert!(out.contains("No actor called “WIPOX”"), "{out}");
    let out = w.say(&w.member, "/events actor:WIPOX").await;
    assert!(out.contains("No actor called “WIPOX”"), "{out}");
}

#[tokio::test]
async fn a_follower_who_came_after_the_event_is_not_told_it_is_new_when_it_changes() {
    let w = World::new().await;
    w.say(
        &w.moderator,
        "/event add title:\"Cybersecurity clinic\" when:\"2026-11-30 14:00\"",
    )
    .await;
    let out = w.say(&w.member, "/follow cybersecurity").await;
    assert!(
        out.contains("Cybersecurity clinic"),
        "the answer lists it: {out}"
    );
    w.say(&w.moderator, "/event edit 1 place:\"Room 9\"").await;
    let notes: Vec<_> = keys_for(&w, 1, "ana")
        .await
        .into_iter()
        .filter(|(k, _)| k.contains("-new-"))
        .collect();
    assert!(notes.is_empty(), "{notes:?}");
    // Retagged to a topic they follow, an event is news to them: told once.
    w.say(&w.member, "/follow topic:\"artificial intelligence\"")
        .await;
    w.say(
        &w.moderator,
        "/event add title:\"Reading group\" when:\"2026-12-01 14:00\"",
    )
    .await;
    w.say(
        &w.moderator,
        "/event edit 2 topics:\"artificial intelligence\"",
    )
    .await;
    let notes: Vec<_> = keys_for(&w, 2, "ana")
        .await
        .into_iter()
        .filter(|(k, _)| k.contains("-new-"))
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
}

/// Regression: simultaneous follows on SQLite answered "something went wrong" for some members
/// (a read-then-write transaction cannot upgrade its lock), and on PostgreSQL one person
/// following many subjects at once passed the per-person cap (the lock was per subject).
/// Whatever the interleaving: no error, and both caps hold exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_follows_never_fail_and_never_pass_a_cap() {
    use atlasbot::domain::Subject;
    use atlasbot::store::follows::{Followed, MAX_FOLLOWERS_PER_SUBJECT, MAX_FOLLOWS_PER_PERSON};
    let w = World::new().await;
    let space = SpaceId::parse("console:space").unwrap();
    let now = w.ctx.clock.now();
    // One person, many subjects at once.
    let mut tasks = Vec::new();
    for k in 0..(MAX_FOLLOWS_PER_PERSON + 15) {
        let (store, space) = (w.ctx.store.clone(), space.clone());
        tasks.push(tokio::spawn(async move {
            store
                .follow(&space, "eager", &Subject::Topic(format!("topic-{k}")), now)
                .await
        }));
    }
    let mut followed = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(Followed::New) => followed += 1,
            Ok(Followed::TooManyOfYours) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(followed, MAX_FOLLOWS_PER_PERSON);
    assert_eq!(
        w.ctx.store.follows(&space, "eager").await.unwrap().len() as i64,
        MAX_FOLLOWS_PER_PERSON
    );
    // Many people, one subject at once.
    let mut tasks = Vec::new();
    for k in 0..(MAX_FOLLOWERS_PER_SUBJECT + 20) {
        let (store, space) = (w.ctx.store.clone(), space.clone());
        tasks.push(tokio::spawn(async move {
            store
                .follow(
                    &space,
                    &format!("p{k}"),
                    &Subject::Topic("crowded".into()),
                    now,
                )
                .await
        }));
    }
    let mut followed = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(Followed::New) => followed += 1,
            Ok(Followed::TooManyFollowers) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(followed, MAX_FOLLOWERS_PER_SUBJECT);
}

/// Regression: event UIDs were unique across all spaces, and an import that met another
/// space's UID derived a new one without checking that it was free — a space that imported a
/// public calendar's UIDs first, and their derived forms, made every other space's import of
/// that calendar fail whole with "something went wrong".
#[tokio::test]
async fn a_space_that_squats_a_calendars_uids_cannot_block_another_spaces_import() {
    let w = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let calendar = |uid: &str, title: &str| {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
             DTSTART:20261210T100000Z\r\nSUMMARY:{title}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        )
    };
    let file = |name: &str, text: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        format!("/event import file:{}", path.display())
    };
    let squatter = Caller {
        space: SpaceId::parse("console:squatter").unwrap(),
        user: "squatter".into(),
        ..w.moderator.clone()
    };
    // The public UID and every form derived from it that the bot used to try.
    for (k, uid) in [
        "lecture-1@uni.example",
        "lecture-1@uni.example/console:space",
    ]
    .iter()
    .enumerate()
    {
        let out = w
            .say(
                &squatter,
                &file(&format!("squat{k}.ics"), calendar(uid, "Squat")),
            )
            .await;
        assert!(out.contains("Calendar imported"), "{out}");
    }
    let import = file("real.ics", calendar("lecture-1@uni.example", "Lecture 1"));
    let out = w.say(&w.moderator, &import).await;
    assert!(out.contains("Calendar imported"), "{out}");
    assert!(!out.contains("went wrong"), "{out}");
    // Imported again (the calendar changed): the same event is updated, not a second one.
    let again = file(
        "real2.ics",
        calendar("lecture-1@uni.example", "Lecture 1 (room 2)"),
    );
    let out = w.say(&w.moderator, &again).await;
    assert!(!out.contains("went wrong"), "{out}");
    let events = w
        .ctx
        .store
        .events_of_space(&w.moderator.space)
        .await
        .unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].title, "Lecture 1 (room 2)");
    let squatted = w.ctx.store.events_of_space(&squatter.space).await.unwrap();
    assert_eq!(squatted.len(), 2);
    assert!(squatted.iter().all(|e| e.title == "Squat"));
}

/// Regression: `/event export` on the console replaced every CR of the iCalendar text with
/// U+FFFD, so a file saved from it was rejected by calendar libraries. Into a pipe or a file,
/// `ask` writes the file byte for byte; the interactive console saves it and says where.
#[tokio::test]
async fn an_exported_calendar_reaches_a_console_user_intact() {
    let db = TempDb::new();
    let out = db.run(&["ask", "/event add title:Intact when:\"2027-02-01 10:00\""]);
    assert!(out.status.success(), "{}", support::stdout(&out));
    let out = db.run(&["ask", "/event export"]);
    assert!(out.status.success(), "{}", support::stderr(&out));
    let ics = String::from_utf8(out.stdout).unwrap();
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"), "{ics:?}");
    assert!(ics.ends_with("END:VCALENDAR\r\n"), "{ics:?}");
    assert!(!ics.contains('\u{FFFD}'));
    assert!(ics.contains("SUMMARY:Intact\r\n"));
    // Typed into a console: saved beside it, never over another file, path given.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("events.ics"), "mine").unwrap();
    let mut console = std::process::Command::new(env!("CARGO_BIN_EXE_atlasbot"))
        .args(db.args())
        .arg("console")
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    console
        .stdin
        .take()
        .unwrap()
        .write_all(b"/event export\n")
        .unwrap();
    let out = console.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("Saved to events-2.ics"), "{said}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("events.ics")).unwrap(),
        "mine"
    );
    let saved = std::fs::read_to_string(dir.path().join("events-2.ics")).unwrap();
    assert_eq!(saved, ics);
}

/// Regression: /follow and /unfollow rewrote every reminder of the subject's events (≈20 000
/// rows and over a second for a topic with 200 daily events), and any member could repeat
/// it. Now a follow is one row, whatever the events: each occurrence owes its followers one
/// stand-in reminder, which becomes one per follower when it falls due. Changes are
/// rate-limited per person too.
#[tokio::test]
async fn following_costs_one_row_whatever_the_events_and_is_rate_limited() {
    let w = World::new().await;
    for k in 0..20 {
        let out = w
            .say(
                &w.moderator,
                &format!("/event add title:\"Daily {k}\" when:\"2026-11-24 {:02}:00\" repeat:daily topics:cybersecurity", 8 + k % 10),
            )
            .await;
        assert!(out.starts_with("Scheduled:"), "{out}");
    }
    async fn ledger(w: &World) -> Vec<(String, ReminderState)> {
        let mut all = Vec::new();
        for id in 1..=20 {
            all.extend(w.ctx.store.reminder_states(EventId(id)).await.unwrap());
        }
        all
    }
    let before = ledger(&w).await;
    assert!(before.len() > 20 * 30, "a month of daily reminders each");
    let out = w.say(&w.member, "/follow cybersecurity").await;
    assert!(out.starts_with("Following Cybersecurity"), "{out}");
    assert_eq!(ledger(&w).await, before, "the follow rewrote no reminder");
    // Yet the follower is reminded, from the next occurrence on.
    let s = w.scheduler();
    let out = Recorder::default();
    w.at("2026-11-24 07:00");
    s.tick(&out).await.unwrap();
    assert!(
        out.keys()
            .contains(&"ev1-20261124T0800Z-60m-user:ana".to_string()),
        "{:?}",
        out.keys()
    );
    let out2 = w.say(&w.member, "/unfollow cybersecurity").await;
    assert!(out2.starts_with("No longer following"), "{out2}");
    w.at("2026-11-25 07:00");
    s.tick(&out).await.unwrap();
    assert!(
        !out.keys()
            .contains(&"ev1-20261125T0800Z-60m-user:ana".to_string()),
        "{:?}",
        out.keys()
    );
    // A script repeating follow/unfollow is stopped after a while; others are not.
    let mut refused = None;
    for n in 0..40 {
        let line = if n % 2 == 0 {
            "/follow cybersecurity"
        } else {
            "/unfollow cybersecurity"
        };
        let out = w.say(&w.member, line).await;
        if out.contains("please wait") {
            refused = Some(n);
            break;
        }
    }
    assert!(refused.is_some_and(|n| n >= 15), "{refused:?}");
    let other = Caller {
        user: "bo".into(),
        ..w.member.clone()
    };
    let out = w.say(&other, "/follow cybersecurity").await;
    assert!(out.starts_with("Following"), "{out}");
    // The window passes: the first person may change again.
    w.at("2026-11-25 08:00");
    let out = w.say(&w.member, "/follow cybersecurity").await;
    assert!(!out.contains("please wait"), "{out}");
}

/// Sibling of the follow caps: the caps of /remind me were read, then written, in two steps, so
/// that people asking at once could pass them. Now one transaction; every request answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_personal_reminders_never_pass_the_event_cap() {
    const MAX_PER_EVENT: i64 = 500; // commands::remind::MAX_PER_EVENT
    let w = World::new().await;
    w.say(
        &w.moderator,
        "/event add title:\"Popular\" when:\"2026-12-10 10:00\"",
    )
    .await;
    let mut tasks = Vec::new();
    for k in 0..(MAX_PER_EVENT + 30) {
        let ctx = w.ctx.clone();
        let caller = Caller {
            user: format!("p{k}"),
            ..w.member.clone()
        };
        tasks.push(tokio::spawn(async move {
            commands::answer(&ctx, &caller, "/remind me 1 before:30m").await
        }));
    }
    let mut added = 0;
    for t in tasks {
        let r = t.await.unwrap();
        let text = plain::render(&r);
        assert!(!text.contains("went wrong"), "{text}");
        if r.tone == Tone::Answer {
            added += 1;
        } else {
            assert!(text.contains("the most it can have"), "{text}");
        }
    }
    assert_eq!(added, MAX_PER_EVENT);
    let all = w
        .ctx
        .store
        .subscriptions(&w.member.space, None)
        .await
        .unwrap();
    assert_eq!(all.len() as i64, MAX_PER_EVENT);
}
