//! `atlasbot bench planning`: what planning an event's reminders costs as its series grows,
//! and what importing a calendar file of many series costs — through the real command path
//! (`/event add`, `/event import`) on a real database file. The rolling plan must keep both
//! linear in the events and bounded in the occurrences (the reliability issue).

use std::time::Instant;

use crate::commands::{self, Caller, Context};

/// Rows in the reminder ledger.
async fn rows(ctx: &Context, events: i64) -> anyhow::Result<usize> {
    let mut n = 0;
    for id in 1..=events {
        n += ctx
            .store
            .reminder_states(crate::domain::EventId(id))
            .await?
            .len();
    }
    Ok(n)
}

async fn fresh(dir: &std::path::Path, name: &str) -> anyhow::Result<Context> {
    let store = crate::database::open_store(&dir.join(name)).await?;
    let ctx = Context::new(store).await?;
    let caller = Caller::console();
    commands::answer(&ctx, &caller, "/settings offsets 1w,1d,1h,30m,5m").await;
    Ok(ctx)
}

pub async fn run() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let caller = Caller::console();
    println!("one event, 5 offsets, by length of its series (rows: reminder rows planned)");
    println!("{:<34} {:>10} {:>8}", "series", "plan", "rows");
    for (label, repeat) in [
        ("once", String::new()),
        ("daily, 10 times", "repeat:daily times:10".into()),
        ("daily, 100 times", "repeat:daily times:100".into()),
        ("daily, 1000 times", "repeat:daily times:1000".into()),
        ("daily, no end", "repeat:daily".into()),
        (
            "weekly on 7 days, no end",
            "repeat:\"weekly on mon,tue,wed,thu,fri,sat,sun\"".into(),
        ),
    ] {
        let ctx = fresh(
            tmp.path(),
            &format!("{}.db", label.replace([' ', ','], "-")),
        )
        .await?;
        let line = format!("/event add title:Bench when:\"tomorrow 10:00\" {repeat}");
        let started = Instant::now();
        let r = commands::answer(&ctx, &caller, &line).await;
        let took = started.elapsed();
        anyhow::ensure!(r.tone == crate::reply::Tone::Answer, "{line} was not added");
        println!(
            "{label:<34} {:>8.2} ms {:>8}",
            took.as_secs_f64() * 1e3,
            rows(&ctx, 1).await?
        );
    }
    println!();
    println!("importing a calendar file of N endless daily series (5 offsets each)");
    println!(
        "{:<10} {:>10} {:>12} {:>8}",
        "events", "import", "per event", "rows"
    );
    for n in [10usize, 50, 100, 200] {
        let ctx = fresh(tmp.path(), &format!("import-{n}.db")).await?;
        let file = tmp.path().join(format!("cal-{n}.ics"));
        std::fs::write(&file, calendar(n))?;
        let started = Instant::now();
        let r = commands::answer(
            &ctx,
            &caller,
            &format!("/event import file:{}", file.display()),
        )
        .await;
        let took = started.elapsed();
        anyhow::ensure!(r.tone == crate::reply::Tone::Answer, "import of {n} failed");
        println!(
            "{n:<10} {:>8.0} ms {:>9.2} ms {:>8}",
            took.as_secs_f64() * 1e3,
            took.as_secs_f64() * 1e3 / n as f64,
            rows(&ctx, n as i64).await?
        );
    }
    Ok(())
}

/// `n` endless daily series starting tomorrow, in the iCalendar the bot imports.
fn calendar(n: usize) -> String {
    let start = (chrono::Utc::now() + chrono::Duration::days(1)).format("%Y%m%d");
    let mut ics = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n");
    for i in 0..n {
        ics.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:bench-{i}\r\nSUMMARY:Series {i}\r\nDTSTART:{start}T{:02}{:02}00Z\r\nRRULE:FREQ=DAILY\r\nEND:VEVENT\r\n",
            8 + i % 10,
            i % 60
        ));
    }
    ics.push_str("END:VCALENDAR\r\n");
    ics
}
