//! Real `atlasbot console` processes, killed with SIGKILL along the reminder path and
//! restarted: a reminder is never lost, never sent under two keys, and never sent again once
//! recorded. Also: a running console sees an event added by another process within seconds.
//! On both backends: `scripts/test` runs these again with the runtime state on PostgreSQL
//! (`ATLASBOT_TEST_BACKEND=postgres`), where a dead process's claims change hands by lease.

use atlasbot::domain::EventId;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{self, TempDb};

pub(crate) struct Console {
    child: Child,
    out: Arc<Mutex<String>>,
    log: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

/// Copies what a pipe carries into a shared string until the pipe closes.
fn collect(
    mut pipe: impl Read + Send + 'static,
) -> (Arc<Mutex<String>>, std::thread::JoinHandle<()>) {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = text.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    (text, reader)
}

impl Console {
    /// A console on the test's state (either backend: `TempDb::args`).
    fn start(db: &TempDb, pause: Option<&str>) -> Console {
        let args = db.args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Console::start_with(&args, pause)
    }

    /// A console whose state is where `args` say (`--db`, `--atlas`).
    pub(crate) fn start_with(args: &[&str], pause: Option<&str>) -> Console {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_atlasbot"));
        cmd.args(args)
            .arg("console")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // The scheduler says when it has caught up (recovered claims, sent what was due).
            .env("ATLASBOT_LOG", "atlasbot::scheduler=info");
        match pause {
            Some(p) => cmd.env("ATLASBOT_TEST_PAUSE", p),
            None => cmd.env_remove("ATLASBOT_TEST_PAUSE"),
        };
        let mut child = cmd.spawn().expect("console starts");
        let (out, stdout_reader) = collect(child.stdout.take().unwrap());
        let (log, stderr_reader) = collect(child.stderr.take().unwrap());
        Console {
            child,
            out,
            log,
            readers: vec![stdout_reader, stderr_reader],
        }
    }

    /// Waits until the scheduler has done its first full pass: anything it was going to send
    /// on start-up has been sent by then.
    pub(crate) fn wait_caught_up(&self) {
        let start = Instant::now();
        while !self.log.lock().unwrap().contains("scheduler caught up") {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the scheduler never caught up: {}",
                self.log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn wait_for(&self, needle: &str, timeout: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if self.out.lock().unwrap().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no destructor, no flush, no goodbye.
    pub(crate) fn kill(mut self) -> String {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.output()
    }

    /// Everything the process printed, once its pipes have closed.
    fn output(self) -> String {
        for reader in self.readers {
            reader.join().unwrap();
        }
        let out = self.out.lock().unwrap().clone();
        out
    }

    /// Closes stdin: the console finishes and exits by itself.
    pub(crate) fn finish(mut self) -> String {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
        self.output()
    }
}

/// An event in the console space whose first reminder is due right away.
fn event_due_now(db: &TempDb, title: &str) {
    let out = db.run(&["ask", "/settings offsets 2m"]);
    assert!(out.status.success(), "{}", support::stdout(&out));
    let out = db.run(&[
        "ask",
        &format!("/event add title:\"{title}\" when:\"in 2 minutes\""),
    ]);
    assert!(
        support::stdout(&out).starts_with("Scheduled:"),
        "{}",
        support::stdout(&out)
    );
}

async fn state_of(db: &TempDb) -> Vec<(String, String)> {
    let store = atlasbot::database::open_store(db.location()).await.unwrap();
    let mut all = Vec::new();
    for id in 1..=3 {
        all.extend(
            store
                .reminder_states(EventId(id))
                .await
                .unwrap()
                .into_iter()
                .map(|(k, s)| (k, s.to_string())),
        );
    }
    store.close().await;
    all
}

async fn wait_state(db: &TempDb, state: &str, timeout: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if state_of(db).await.iter().any(|(_, s)| s == state) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_between_claim_and_send_the_reminder_goes_out_once_after_restart() {
    let db = TempDb::new();
    event_due_now(&db, "Crash after claim");
    let first = Console::start(&db, Some("after-claim:20000"));
    assert!(
        wait_state(&db, "claimed", Duration::from_secs(10)).await,
        "the reminder is claimed"
    );
    let out1 = first.kill();
    assert_eq!(
        count(&out1, "[reminder ev1-"),
        0,
        "killed before sending: {out1}"
    );

    let second = Console::start(&db, None);
    assert!(
        second.wait_for("[reminder ev1-", Duration::from_secs(10)),
        "sent after restart"
    );
    let out2 = second.finish();
    let third = Console::start(&db, None);
    third.wait_caught_up();
    let out3 = third.finish();
    assert_eq!(
        count(&out1, "[reminder ev1-")
            + count(&out2, "[reminder ev1-")
            + count(&out3, "[reminder ev1-"),
        1,
        "exactly once:\n{out2}"
    );
    assert_eq!(
        state_of(&db)
            .await
            .iter()
            .filter(|(_, s)| s == "sent")
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_between_send_and_record_the_reminder_is_resent_under_the_same_key_only() {
    let db = TempDb::new();
    event_due_now(&db, "Crash after send");
    let first = Console::start(&db, Some("after-send:20000"));
    assert!(
        first.wait_for("[reminder ev1-", Duration::from_secs(10)),
        "sent"
    );
    let out1 = first.kill();
    assert_eq!(
        state_of(&db)
            .await
            .iter()
            .filter(|(_, s)| s == "claimed")
            .count(),
        1,
        "not yet recorded"
    );
    let key = out1
        .lines()
        .find(|l| l.starts_with("[reminder "))
        .unwrap()
        .to_string();

    let second = Console::start(&db, None);
    assert!(
        second.wait_for("[reminder ev1-", Duration::from_secs(10)),
        "resent after restart"
    );
    let out2 = second.finish();
    // The same key, which platforms deduplicate (Discord nonce, Matrix transaction id);
    // the console cannot, so it shows the key for a reader to see that it is one reminder.
    assert_eq!(
        out2.lines()
            .filter(|l| l.starts_with("[reminder "))
            .collect::<Vec<_>>(),
        [key.as_str()]
    );
    let third = Console::start(&db, None);
    third.wait_caught_up();
    assert_eq!(
        count(&third.finish(), "[reminder "),
        0,
        "recorded: never again"
    );
    assert_eq!(
        state_of(&db)
            .await
            .iter()
            .filter(|(_, s)| s == "sent")
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_console_whose_input_ends_mid_delivery_records_the_reminder_before_exiting() {
    let db = TempDb::new();
    event_due_now(&db, "Input ends while sending");
    // Two seconds between printing the reminder and recording it: input ends in between.
    let first = Console::start(&db, Some("after-send:2000"));
    assert!(
        first.wait_for("[reminder ev1-", Duration::from_secs(10)),
        "sent"
    );
    first.finish();
    let states = state_of(&db).await;
    assert_eq!(
        states.iter().filter(|(_, s)| s == "sent").count(),
        1,
        "recorded before the exit: {states:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_running_console_sees_an_event_added_by_another_process() {
    let db = TempDb::new();
    let console = Console::start(&db, None);
    console.wait_caught_up();
    event_due_now(&db, "From another process");
    // How fast it notices is measured in BENCHMARKS.md; here only that it does, on its own.
    assert!(
        console.wait_for("[reminder ev1-", Duration::from_secs(20)),
        "the console noticed the new event"
    );
    let out = console.finish();
    assert!(out.contains("Reminder: From another process"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn consoles_started_together_deliver_each_reminder_once() {
    let db = TempDb::new();
    // 150 reminders falling due right now, in the console space.
    let store = atlasbot::database::open_store(db.location()).await.unwrap();
    support::meetings_due(&store, 150, chrono::Duration::zero()).await;
    store.close().await;
    let consoles: Vec<Console> = (0..3).map(|_| Console::start(&db, None)).collect();
    for c in &consoles {
        c.wait_caught_up();
    }
    let outputs: Vec<String> = consoles.into_iter().map(Console::finish).collect();
    let mut keys: Vec<String> = outputs
        .iter()
        .flat_map(|o| {
            o.lines()
                .filter(|l| l.starts_with("[reminder "))
                .map(String::from)
        })
        .collect();
    assert_eq!(
        keys.len(),
        150,
        "each reminder printed once across the three"
    );
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 150, "no reminder printed twice");
}

/// `db`'s arguments with a claim lease of two seconds (replacing the PostgreSQL runs' own).
fn short_lease_args(db: &TempDb) -> Vec<String> {
    let mut args = db.args();
    if let Some(at) = args.iter().position(|a| a == "--claim-lease-seconds") {
        args.drain(at..at + 2);
    }
    args.extend(["--claim-lease-seconds".into(), "2".into()]);
    args
}

fn start_short_lease(db: &TempDb, pause: Option<&str>) -> Console {
    let args = short_lease_args(db);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Console::start_with(&args, pause)
}

/// Regression (exactly once): a delivery that outlasted its lease (a send retried for
/// minutes, a long DM fan-out) was taken over by another process and sent by both. The
/// process delivering keeps renewing its lease, so the other never takes it over.
#[tokio::test(flavor = "multi_thread")]
async fn a_delivery_that_outlasts_its_lease_is_not_taken_over_by_a_live_process() {
    let db = TempDb::new();
    event_due_now(&db, "Slow send");
    // Six seconds between claiming and sending: three leases.
    let slow = start_short_lease(&db, Some("after-claim:6000"));
    assert!(
        wait_state(&db, "claimed", Duration::from_secs(10)).await,
        "the reminder is claimed"
    );
    let other = start_short_lease(&db, None);
    other.wait_caught_up();
    assert!(
        slow.wait_for("[reminder ev1-", Duration::from_secs(15)),
        "the slow process sends it"
    );
    // The other process looks for lapsed claims twice per lease meanwhile and after.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (out1, out2) = (slow.finish(), other.finish());
    assert_eq!(
        count(&out1, "[reminder ev1-") + count(&out2, "[reminder ev1-"),
        1,
        "exactly once:\n{out1}\n---\n{out2}"
    );
}

/// Regression (exactly once): a process frozen between claim and send (SIGSTOP: it cannot
/// even renew its lease) loses its claim to another process, which sends the reminder; woken
/// up, it proves the claim is no longer its own right before sending (the fence) and sends
/// nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_process_frozen_past_its_lease_does_not_send_what_another_took_over() {
    let db = TempDb::new();
    event_due_now(&db, "Frozen sender");
    let frozen = start_short_lease(&db, Some("after-claim:1500"));
    assert!(
        wait_state(&db, "claimed", Duration::from_secs(10)).await,
        "the reminder is claimed"
    );
    let pid = frozen.pid().to_string();
    let signal = |sig: &str| {
        assert!(Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
            .success());
    };
    signal("-STOP");
    let other = start_short_lease(&db, None);
    assert!(
        other.wait_for("[reminder ev1-", Duration::from_secs(15)),
        "the other process takes the lapsed claim over and sends it"
    );
    signal("-CONT");
    // Woken up, the frozen process finishes its pause and reaches the fence.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (out1, out2) = (frozen.finish(), other.finish());
    assert_eq!(
        count(&out1, "[reminder ev1-") + count(&out2, "[reminder ev1-"),
        1,
        "exactly once:\n{out1}\n---\n{out2}"
    );
}

/// One event owing `n` personal reminders due now, each to a person of its own (`p0`, `p1`,
/// …): `n` destinations, which a batch delivers side by side.
async fn reminders_to_people(db: &TempDb, n: usize) -> EventId {
    use atlasbot::domain::Target;
    use atlasbot::events::Planned;
    let store = atlasbot::database::open_store(db.location()).await.unwrap();
    let now = chrono::Utc::now();
    let start = now + chrono::Duration::minutes(30);
    let id = store
        .insert_event(
            &support::event_input("Study group", start),
            "group@test",
            now,
        )
        .await
        .unwrap();
    let planned: Vec<Planned> = (0..n)
        .map(|i| Planned {
            key: format!("p{i}"),
            event_id: id,
            occurrence: start,
            offset_min: 30,
            target: Target::User(format!("person{i}")),
            due: now,
        })
        .collect();
    let event = store.event(id).await.unwrap().unwrap();
    let forever = chrono::DateTime::from_timestamp(253_402_214_400, 0).unwrap();
    let written = store.replan(&event, &planned, forever).await.unwrap();
    assert_eq!(written, atlasbot::store::events::PlanWrite::Written);
    store.close().await;
    id
}

/// Each reminder of `event` and its state, as stored now.
async fn state_of_event(db: &TempDb, event: EventId) -> std::collections::HashMap<String, String> {
    let store = atlasbot::database::open_store(db.location()).await.unwrap();
    let states = store.reminder_states(event).await.unwrap();
    store.close().await;
    states
        .into_iter()
        .map(|(k, s)| (k, s.to_string()))
        .collect()
}

/// The reminder keys a console printed, in order.
fn printed_keys(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.strip_prefix("[reminder "))
        .filter_map(|l| l.split(' ').next())
        .map(String::from)
        .collect()
}

/// Exactly once through a parallel batch (#29): a process killed (SIGKILL) while its lanes
/// are sending loses no reminder, and the process that takes over sends again only what the
/// dead one had sent but not yet recorded — under the same keys, which the platforms
/// deduplicate — never one it had recorded.
#[tokio::test(flavor = "multi_thread")]
async fn a_parallel_batch_killed_midway_loses_none_and_sends_nothing_recorded_again() {
    let db = TempDb::new();
    let event = reminders_to_people(&db, 200).await;
    // Each send holds its lane 500 ms before the next: the batch takes seconds, lanes
    // overlap, and sent reminders are recorded every quarter of the two-second lease.
    let first = start_short_lease(&db, Some("after-send:500"));
    assert!(
        first.wait_for("[reminder p", Duration::from_secs(20)),
        "the first process starts sending"
    );
    // Killed once some are recorded as sent (and, lanes being side by side, more are out).
    let deadline = Instant::now() + Duration::from_secs(20);
    while !state_of_event(&db, event)
        .await
        .values()
        .any(|s| s == "sent")
    {
        assert!(
            Instant::now() < deadline,
            "nothing was ever recorded as sent"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sent_by_first = printed_keys(&first.kill());
    let at_kill = state_of_event(&db, event).await;
    let second = start_short_lease(&db, None);
    assert!(
        second.wait_for("[reminder p", Duration::from_secs(20)),
        "the second process takes the rest over"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut seen = printed_keys(&second.out.lock().unwrap());
        seen.extend(sent_by_first.iter().cloned());
        seen.sort();
        seen.dedup();
        if seen.len() >= 200 || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // Anything it would send twice comes right after.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent_by_second = printed_keys(&second.finish());
    // Lanes ran side by side: more reminders went out in that time than one lane could send.
    assert!(
        sent_by_first.len() > 4 && sent_by_first.len() < 200,
        "the first process sent {} before it was killed",
        sent_by_first.len()
    );
    let recorded = at_kill.values().filter(|s| *s == "sent").count();
    assert!(
        recorded > 0,
        "some were recorded before the kill: {at_kill:?}"
    );
    let mut all: Vec<&String> = sent_by_first.iter().chain(&sent_by_second).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 200, "none lost");
    for key in &sent_by_second {
        assert_ne!(
            at_kill.get(key).map(String::as_str),
            Some("sent"),
            "{key} was recorded as sent, and sent again"
        );
    }
    for keys in [&sent_by_first, &sent_by_second] {
        let mut once = keys.clone();
        once.sort();
        once.dedup();
        assert_eq!(once.len(), keys.len(), "a process sent a key twice");
    }
}
