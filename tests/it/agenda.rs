//! Agenda posts (`/settings agenda weekly monday 09:00`): the coming period's events posted in
//! the space's channel at the space's time, once per period however many schedulers run and
//! whatever crashes between claim and send, and nothing when nothing is on.

use atlasbot::commands::{self, Caller, Context};
use atlasbot::domain::{Platform, SpaceId, Target};
use atlasbot::render::plain;
use atlasbot::scheduler::{Clock, Delivery, Owner, Scheduler};
use chrono::{DateTime, Duration, Utc};

use crate::support::{Recorder, TempDb};

/// The agenda posts among what `outbox` was given.
fn agendas(outbox: &Recorder) -> Vec<Delivery> {
    outbox
        .deliveries()
        .into_iter()
        .filter(|d| d.key.starts_with("agenda:"))
        .collect()
}

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn space() -> SpaceId {
    SpaceId::parse("console:cohort").unwrap()
}

struct World {
    _db: TempDb,
    ctx: Context,
}

impl World {
    /// Friday 27 November 2026, noon UTC; the space in Zurich.
    async fn new() -> World {
        let db = TempDb::new();
        let mut ctx = db.context().await;
        ctx.set_clock(Clock::fixed(utc("2026-11-27T12:00:00Z")));
        let w = World { _db: db, ctx };
        w.say("/settings timezone Europe/Zurich").await;
        w
    }

    async fn say(&self, line: &str) -> String {
        let moderator = Caller {
            platform: Platform::Console,
            space: space(),
            user: "mod".into(),
            moderator: true,
            channel: None,
        };
        plain::render(&commands::answer(&self.ctx, &moderator, line).await)
    }

    /// A scheduler of its own process (`pid` stands for it).
    fn scheduler(&self, pid: u32) -> Scheduler {
        let mut s = Scheduler::new(
            Platform::Console,
            self.ctx.store.clone(),
            self.ctx.clock.clone(),
            self.ctx.grace,
        );
        s.owner = Owner::of(pid);
        s
    }

    fn at(&self, s: &str) {
        self.ctx.clock.set(utc(s));
    }
}

#[tokio::test]
async fn the_weeks_agenda_is_posted_once_at_the_spaces_time_with_that_weeks_events() {
    let w = World::new().await;
    let set = w.say("/settings agenda weekly monday 09:00").await;
    assert!(set.contains("weekly mon 09:00 (Europe/Zurich)"), "{set}");
    w.say("/event add title:\"Kick-off\" when:\"2026-12-01 18:00\"")
        .await;
    w.say("/event add title:\"Study group\" when:\"2026-12-02 17:00\" repeat:weekly times:4")
        .await;
    w.say("/event add title:\"Next week's panel\" when:\"2026-12-08 10:00\"")
        .await;

    let outbox = Recorder::default();
    let (a, b) = (w.scheduler(1_000_001), w.scheduler(1_000_002));
    // Monday 30 November, 08:59 in Zurich: not yet.
    w.at("2026-11-30T07:59:00Z");
    a.maintain(&outbox).await;
    assert!(agendas(&outbox).is_empty());
    // 09:00 in Zurich (08:00 UTC): two schedulers at once, one post.
    w.at("2026-11-30T08:00:20Z");
    tokio::join!(a.maintain(&outbox), b.maintain(&outbox));
    a.maintain(&outbox).await;
    let posts = agendas(&outbox);
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0].target, Target::Space);
    assert_eq!(posts[0].key, "agenda:console:cohort:20261130T0800Z");
    let text = plain::render(&posts[0].reply);
    assert!(text.starts_with("The week ahead"), "{text}");
    assert!(
        text.contains("Kick-off") && text.contains("Study group"),
        "{text}"
    );
    assert!(
        text.contains("Tue 1 Dec 2026 18:00"),
        "in the space's time: {text}"
    );
    assert!(!text.contains("Next week's panel"), "{text}");
    assert_eq!(
        text.matches("Study group").count(),
        1,
        "one occurrence this week: {text}"
    );
    // Later that week, and after a restart (a new scheduler): nothing more.
    w.at("2026-12-03T10:00:00Z");
    w.scheduler(1_000_003).maintain(&outbox).await;
    assert_eq!(agendas(&outbox).len(), 1);
    // The next Monday: next week's post, with the panel.
    w.at("2026-12-07T08:00:10Z");
    b.maintain(&outbox).await;
    let posts = agendas(&outbox);
    assert_eq!(posts.len(), 2);
    assert!(plain::render(&posts[1].reply).contains("Next week's panel"));
}

#[tokio::test]
async fn nothing_is_posted_for_a_period_with_nothing_on_and_a_crashed_post_goes_out_once() {
    let w = World::new().await;
    w.say("/settings agenda daily 08:00").await;
    let outbox = Recorder::default();
    // Nothing on: nothing posted, and the period is recorded as empty.
    w.at("2026-11-28T07:00:30Z");
    w.scheduler(1_000_001).maintain(&outbox).await;
    assert!(agendas(&outbox).is_empty());
    let posts = w.ctx.store.agenda_posts(&space()).await.unwrap();
    assert_eq!(
        posts,
        [(
            "agenda:console:cohort:20261128T0700Z".to_string(),
            "empty".to_string()
        )]
    );

    // A process claims the next day's post and dies before sending it.
    w.say("/event add title:\"Reading group\" when:\"2026-11-29 12:00\"")
        .await;
    // At the very minute of the agenda: this period's, though the post leaves a little later.
    w.say("/event add title:\"Standup\" when:\"2026-11-29 08:00\"")
        .await;
    w.at("2026-11-29T07:00:05Z");
    let due = utc("2026-11-29T07:00:00Z");
    let key = "agenda:console:cohort:20261129T0700Z";
    let now = w.ctx.clock.now();
    assert!(w
        .ctx
        .store
        .claim_agenda(
            key,
            &space(),
            due,
            "dead-host/1/1",
            now,
            now + Duration::seconds(120)
        )
        .await
        .unwrap());
    let survivor = w.scheduler(1_000_002);
    survivor.maintain(&outbox).await;
    assert!(
        agendas(&outbox).is_empty(),
        "not while the claim's lease runs"
    );
    w.at("2026-11-29T07:02:30Z");
    survivor.maintain(&outbox).await;
    survivor.maintain(&outbox).await;
    let posts = agendas(&outbox);
    assert_eq!(posts.len(), 1, "{posts:?}");
    let text = plain::render(&posts[0].reply);
    assert!(text.starts_with("The day ahead"), "{text}");
    assert!(
        text.contains("Standup") && text.contains("Reading group"),
        "{text}"
    );

    // Off stops it; a bad schedule is explained.
    assert!(w.say("/settings agenda off").await.contains("not posted"));
    let bad = w.say("/settings agenda weekly someday 9").await;
    assert!(bad.contains("not a day like monday"), "{bad}");
}

/// Four weeks walked half an hour at a time, with a restart (a new scheduler) in the middle:
/// one post for each week with something on, none for the empty week.
#[tokio::test]
async fn four_weeks_and_a_restart_give_one_post_a_week_and_none_for_an_empty_week() {
    let w = World::new().await;
    w.say("/settings agenda weekly monday 09:00").await;
    for (title, when) in [
        ("Week one talk", "2026-12-02 18:00"),
        ("Week three talk", "2026-12-16 18:00"),
        ("Week four talk", "2026-12-22 18:00"),
    ] {
        let out = w
            .say(&format!("/event add title:\"{title}\" when:\"{when}\""))
            .await;
        assert!(out.starts_with("Scheduled"), "{out}");
    }
    let outbox = Recorder::default();
    let mut scheduler = w.scheduler(1_000_001);
    let mut at = utc("2026-11-30T00:00:00Z");
    let end = utc("2026-12-27T00:00:00Z");
    while at < end {
        w.at(&at.to_rfc3339());
        if at == utc("2026-12-15T12:00:00Z") {
            scheduler = w.scheduler(1_000_002); // a restart
        }
        scheduler.maintain(&outbox).await;
        at += Duration::minutes(30);
    }
    let posts: Vec<String> = agendas(&outbox)
        .iter()
        .map(|d| plain::render(&d.reply))
        .collect();
    assert_eq!(posts.len(), 3, "{posts:#?}");
    assert!(posts[0].contains("Week one talk"));
    assert!(posts[1].contains("Week three talk") && !posts[1].contains("Week four"));
    assert!(posts[2].contains("Week four talk"));
    let ledger = w.ctx.store.agenda_posts(&space()).await.unwrap();
    let states: Vec<&str> = ledger.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(states, ["sent", "empty", "sent", "sent"], "{ledger:?}");
}
