//! The claim protocol as a property: three processes on one database (either backend) claim,
//! renew, stall, crash, take over and send in any order; every reminder goes out exactly once —
//! but for the documented window, a crash between a send and its record, where it may go out
//! once more under the same key (which the platforms' idempotency handle covers).

use std::collections::HashMap;

use atlasbot::clock::Clock;
use atlasbot::domain::Platform;
use atlasbot::scheduler::Owner;
use atlasbot::store::events::ReminderRow;
use atlasbot::store::Store;
use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;

use crate::support::{self, TempDb};

const PROCESSES: usize = 3;
const REMINDERS: usize = 6;

#[derive(Debug, Clone)]
enum Step {
    /// Process p claims what is due (two at most, so that the others find some left).
    Claim(usize),
    /// Process p takes over claims whose lease ran out.
    TakeOver(usize),
    /// Process p renews the leases of the claims it holds.
    Renew(usize),
    /// Process p sends the first reminder it holds, fenced, and records it.
    Send(usize),
    /// The same, but p crashes between the send and its record.
    SendAndCrash(usize),
    /// Process p crashes: it forgets what it held; its claims stay until their lease ends.
    Crash(usize),
    /// Time passes (or every process stalls) for this many seconds.
    Wait(i64),
}

fn step() -> impl Strategy<Value = Step> {
    let p = 0..PROCESSES;
    prop_oneof![
        p.clone().prop_map(Step::Claim),
        p.clone().prop_map(Step::TakeOver),
        p.clone().prop_map(Step::Renew),
        p.clone().prop_map(Step::Send),
        p.clone().prop_map(Step::Send),
        p.clone().prop_map(Step::SendAndCrash),
        p.prop_map(Step::Crash),
        (0i64..=200).prop_map(Step::Wait),
    ]
}

/// One process: its name and what it believes it holds.
struct Process {
    owner: String,
    held: Vec<ReminderRow>,
}

struct Run {
    store: Store,
    clock: Clock,
    lease: Duration,
    processes: Vec<Process>,
    sent: HashMap<String, usize>,
    /// Keys sent by a process that crashed before recording them.
    unrecorded: Vec<String>,
}

impl Run {
    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    async fn apply(&mut self, step: &Step) {
        let until = self.now() + self.lease;
        match *step {
            Step::Claim(p) => {
                let owner = self.processes[p].owner.clone();
                let rows = self
                    .store
                    .claim_due(self.now(), 2, Platform::Console, &owner, until)
                    .await
                    .unwrap();
                self.processes[p].held.extend(rows);
            }
            Step::TakeOver(p) => {
                let owner = self.processes[p].owner.clone();
                let rows = self
                    .store
                    .reclaim(Platform::Console, &owner, self.now(), until, &[])
                    .await
                    .unwrap();
                self.processes[p].held.extend(rows);
            }
            Step::Renew(p) => {
                // As the scheduler renews: the claims it holds, proven still its own.
                let held: Vec<String> = self.processes[p]
                    .held
                    .iter()
                    .map(|r| r.key.clone())
                    .collect();
                let owner = self.processes[p].owner.clone();
                self.store.fence_many(&held, &owner, until).await.unwrap();
            }
            Step::Send(p) => self.send(p, false).await,
            Step::SendAndCrash(p) => self.send(p, true).await,
            Step::Crash(p) => self.processes[p].held.clear(),
            Step::Wait(s) => self.clock.set(self.now() + Duration::seconds(s)),
        }
    }

    /// What the scheduler does with a claim: fence, send, record.
    async fn send(&mut self, p: usize, crash_before_record: bool) {
        if self.processes[p].held.is_empty() {
            return;
        }
        let r = self.processes[p].held.remove(0);
        let owner = self.processes[p].owner.clone();
        let until = self.now() + self.lease;
        let proven = self
            .store
            .fence_many(std::slice::from_ref(&r.key), &owner, until)
            .await
            .unwrap();
        if proven != [r.key.clone()] {
            return;
        }
        *self.sent.entry(r.key.clone()).or_default() += 1;
        if crash_before_record {
            self.unrecorded.push(r.key.clone());
            self.processes[p].held.clear();
            return;
        }
        self.store
            .finish_sent(&[(r.key.clone(), false)], self.now())
            .await
            .unwrap();
    }

    /// Afterwards, a process that runs on delivers whatever is left.
    async fn drain(&mut self) {
        self.clock.set(self.now() + Duration::minutes(10));
        for p in 0..PROCESSES {
            self.apply(&Step::TakeOver(p)).await;
            loop {
                self.apply(&Step::Claim(p)).await;
                if self.processes[p].held.is_empty() {
                    break;
                }
                while !self.processes[p].held.is_empty() {
                    self.send(p, false).await;
                }
            }
        }
    }
}

async fn check(steps: Vec<Step>) -> Result<(), TestCaseError> {
    let db = TempDb::new();
    let store = atlasbot::database::open_store(db.location()).await.unwrap();
    support::meetings_due(&store, REMINDERS, Duration::zero()).await;
    let clock = Clock::fixed(Utc::now() + Duration::minutes(1));
    let mut run = Run {
        store: store.clone().with_lease_clock(clock.clone()),
        clock,
        lease: Duration::minutes(2),
        processes: (0..PROCESSES)
            .map(|p| Process {
                owner: Owner::of(4_000_000_000 + p as u32).as_str().to_string(),
                held: Vec::new(),
            })
            .collect(),
        sent: HashMap::new(),
        unrecorded: Vec::new(),
    };
    for s in &steps {
        run.apply(s).await;
    }
    run.drain().await;
    store.close().await;
    prop_assert_eq!(run.sent.len(), REMINDERS, "every reminder went out");
    for (key, n) in &run.sent {
        let allowed = 1 + run.unrecorded.iter().filter(|k| *k == key).count();
        prop_assert!(
            *n <= allowed,
            "{key} went out {n} times (unrecorded sends: {:?})",
            run.unrecorded
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn any_interleaving_of_claims_stalls_and_crashes_sends_each_reminder_once(
        steps in proptest::collection::vec(step(), 1..40)
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(check(steps))?;
    }
}
