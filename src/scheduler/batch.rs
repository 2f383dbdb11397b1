//! One batch of claimed reminders as it is delivered: split into lanes — one per destination
//! (a space's channel, its moderators, one person), each delivered in order while lanes run
//! side by side — and what its lanes share: the events and disabled targets read once, the
//! claims proven ours by the last fences, those in flight and those sent but not recorded.
//! Locks here are held for a lookup, never across an await.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use crate::domain::{EventId, SpaceId, Target};
use crate::store::events::{EventRow, ReminderRow};

/// Sent reminders recorded together at most this many at a time (and at least every quarter
/// lease): what a crash could make go out again stays bounded; until then their leases are
/// renewed with the ones in flight.
const RECORD_EVERY: usize = 500;

/// What the lanes of one batch share.
pub(super) struct TickCache {
    pub(super) events: Mutex<HashMap<EventId, Option<EventRow>>>,
    /// Disabled targets by space: target → reason.
    pub(super) disabled: Mutex<HashMap<SpaceId, HashMap<Target, String>>>,
    /// Sent and not yet recorded (key, late).
    pub(super) sent: Mutex<Vec<(String, bool)>>,
    /// Claims being delivered right now: renewed with the sent ones while they take long.
    pub(super) in_flight: Mutex<HashSet<String>>,
    /// The batch's keys in claim order (a fence proves the next ones together).
    pub(super) keys: Vec<String>,
    /// Claims proven ours by a fence, with when: good for a send that starts within a
    /// quarter lease of it (`Scheduler::still_ours`).
    pub(super) fenced: Mutex<HashMap<String, Instant>>,
    /// Held while a fence statement runs: lanes that find their claim unproven at the same
    /// moment wait for the one fence that proves the next claims of them all, instead of each
    /// re-proving the same 500 (32 lanes fencing at once made a burst six times slower).
    pub(super) fencing: tokio::sync::Mutex<()>,
    /// Claims that have passed their fence (sent, or being sent, by this batch).
    passed: Mutex<HashSet<String>>,
    /// When the sent ones were last recorded.
    recorded: Mutex<Instant>,
}

impl TickCache {
    pub(super) fn new(keys: Vec<String>) -> TickCache {
        TickCache {
            events: Mutex::default(),
            disabled: Mutex::default(),
            sent: Mutex::default(),
            in_flight: Mutex::default(),
            keys,
            fenced: Mutex::default(),
            fencing: tokio::sync::Mutex::new(()),
            passed: Mutex::default(),
            recorded: Mutex::new(Instant::now()),
        }
    }

    /// One of the shared parts, locked (a poisoned lock is still the data: a panicking
    /// delivery cannot have left it half-written).
    pub(super) fn lock<'a, T>(&self, part: &'a Mutex<T>) -> MutexGuard<'a, T> {
        part.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What must stay ours while the batch runs: the claims in flight and those sent but not
    /// recorded. (Claims not started are not: if the batch hangs, another process may take
    /// them over, and the fence keeps this one from sending them.)
    pub(super) fn held(&self) -> Vec<String> {
        let mut held: Vec<String> = self.lock(&self.in_flight).iter().cloned().collect();
        held.extend(self.lock(&self.sent).iter().map(|(k, _)| k.clone()));
        held
    }

    /// Notes that `key` passed its fence: no later fence of the batch needs to prove it.
    pub(super) fn pass(&self, key: &str) {
        self.lock(&self.passed).insert(key.to_string());
    }

    /// What one fence proves: `key`, then the batch's claims that have not passed their fence
    /// yet, in claim order, `n` in all — the lanes behind `key` as much as those after it.
    pub(super) fn to_fence(&self, key: &str, n: usize) -> Vec<String> {
        let passed = self.lock(&self.passed);
        let rest = self
            .keys
            .iter()
            .filter(|k| k.as_str() != key && !passed.contains(k.as_str()));
        std::iter::once(key.to_string())
            .chain(rest.take(n.saturating_sub(1)).cloned())
            .collect()
    }

    /// Whether the sent ones are due to be recorded (and, if so, the clock restarted).
    pub(super) fn due_for_recording(&self, every: std::time::Duration) -> bool {
        let many = self.lock(&self.sent).len() >= RECORD_EVERY;
        let mut recorded = self.lock(&self.recorded);
        let due = many || recorded.elapsed() >= every;
        if due {
            *recorded = Instant::now();
        }
        due
    }
}

/// The batch split by destination — a space's channel, its moderators, a person (whichever
/// space reminds them: their direct messages are one place) — in claim order within each and
/// lanes in the order of their first reminder: messages to one destination leave in the order
/// they fell due, and different destinations need not wait for each other.
pub(super) fn lanes_of(batch: Vec<ReminderRow>) -> Vec<Vec<ReminderRow>> {
    let mut index: HashMap<(Option<SpaceId>, Target), usize> = HashMap::new();
    let mut lanes: Vec<Vec<ReminderRow>> = Vec::new();
    for r in batch {
        // A person is one destination whichever space reminds them (one direct room).
        let space = (!matches!(r.target, Target::User(_))).then(|| r.space.clone());
        let lane = *index.entry((space, r.target.clone())).or_insert_with(|| {
            lanes.push(Vec::new());
            lanes.len() - 1
        });
        lanes[lane].push(r);
    }
    lanes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ReminderState;

    fn reminder(key: &str, space: &str, target: Target) -> ReminderRow {
        ReminderRow {
            key: key.into(),
            event_id: EventId(1),
            space: SpaceId::parse(space).unwrap(),
            occurrence_utc: "2030-01-01T10:00:00Z".into(),
            offset_min: 60,
            target,
            due_utc: "2030-01-01T09:00:00Z".into(),
            state: ReminderState::Claimed,
            attempts: 1,
        }
    }

    #[test]
    fn a_batch_is_split_by_destination_keeping_each_ones_order() {
        let batch = vec![
            reminder("a1", "discord:1", Target::Space),
            reminder("b1", "discord:2", Target::Space),
            reminder("u1", "discord:1", Target::User("9".into())),
            reminder("a2", "discord:1", Target::Space),
            reminder("m1", "discord:1", Target::Moderators),
            reminder("b2", "discord:2", Target::Space),
            reminder("u2", "discord:2", Target::User("9".into())),
        ];
        let lanes: Vec<Vec<String>> = lanes_of(batch)
            .into_iter()
            .map(|l| l.into_iter().map(|r| r.key).collect())
            .collect();
        assert_eq!(
            lanes,
            [
                vec!["a1", "a2"],
                vec!["b1", "b2"],
                vec!["u1", "u2"],
                vec!["m1"]
            ],
            "one person is one destination, whichever space reminds them"
        );
    }

    #[test]
    fn a_fence_proves_the_claims_not_yet_past_theirs_lanes_behind_included() {
        let keys: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).into();
        let cache = TickCache::new(keys);
        cache.pass("a");
        cache.pass("c");
        assert_eq!(cache.to_fence("d", 3), ["d", "b", "e"]);
        assert_eq!(cache.to_fence("b", 10), ["b", "d", "e"]);
    }

    #[test]
    fn what_is_held_is_what_is_in_flight_and_sent_but_not_recorded() {
        let cache = TickCache::new(vec!["a".into(), "b".into(), "c".into()]);
        cache.lock(&cache.in_flight).insert("b".into());
        cache.lock(&cache.sent).push(("a".into(), false));
        let mut held = cache.held();
        held.sort();
        assert_eq!(held, ["a", "b"]);
    }
}
