//! Claims: due reminders taken under a lease (owner + lease, atomically, in the database),
//! claims of a process that is gone taken over, leases renewed while a delivery takes long,
//! and the fence — the claim proven still ours, and extended, right before its send. It must
//! not send anything itself: claimed batches go to `deliver`.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};

use super::batch::TickCache;
use super::{Outbox, Scheduler};
use crate::store::StoreError;

/// Claims proven ours by one fence statement: the next ones of the batch (a claim takes 500).
const FENCE_CHUNK: usize = 500;

/// Who holds a claim: this process, as "host/pid/start", so that another process on the same
/// host can tell a dead owner from a live one (its pid gone, or reused by a process that
/// started at another time) and take its claims over at once instead of waiting out the
/// lease. Owners on other hosts are judged by their lease alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner(String);

impl Owner {
    pub fn this_process() -> Owner {
        Owner::of(std::process::id())
    }

    /// The owner name of process `pid` of this host (whether or not it runs).
    pub fn of(pid: u32) -> Owner {
        Owner(format!(
            "{}/{pid}/{}",
            host_name(),
            process_start(pid).unwrap_or(0)
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `owner` is known to be dead: a process of this host that is no longer there.
    pub fn is_dead(owner: &str) -> bool {
        let mut parts = owner.rsplitn(3, '/');
        let (Some(start), Some(pid), Some(host)) = (parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        let (Ok(start), Ok(pid)) = (start.parse::<u64>(), pid.parse::<u32>()) else {
            return false;
        };
        if host != host_name() {
            return false;
        }
        match process_start(pid) {
            // No such process: its owner is gone.
            None => true,
            // A process with that pid, started at another time: the pid was reused. (Start 0:
            // unknown when the claim was made; then a running pid counts as the owner.)
            Some(now_start) => start != 0 && now_start != start,
        }
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".into())
}

/// When a process started (clock ticks since boot, field 22 of /proc/PID/stat); None when
/// there is no such process (or no /proc).
fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain spaces: skip past it.
    let rest = stat.rsplit_once(')')?.1;
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// The most this process's clock may disagree with the clock leases are measured by before it
/// stops claiming: a clock ahead would send reminders early and take live claims over, one
/// behind would send them late.
fn max_skew(lease: Duration) -> Duration {
    (lease / 4).clamp(Duration::seconds(1), Duration::seconds(30))
}

impl Scheduler {
    /// How often a delivery in progress renews this process's leases: four times per lease,
    /// so that a slow send (retries, a long DM fan-out) never lets its claim run out.
    pub(super) fn renew_every(&self) -> StdDuration {
        (self.lease / 4)
            .to_std()
            .unwrap_or(StdDuration::from_secs(1))
            .max(StdDuration::from_millis(50))
    }

    /// The lease clock's "now", or None — and said loudly, once — when this process's clock
    /// disagrees with it by more than `max_skew`: then it claims nothing.
    async fn lease_now_if_in_step(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let lease_now = self.store.lease_now().await?;
        let skew = self.clock.now() - lease_now;
        let off = skew.abs() > max_skew(self.lease);
        let was = self.skewed.swap(off, std::sync::atomic::Ordering::Relaxed);
        if off && !was {
            tracing::error!(
                skew_ms = skew.num_milliseconds(),
                "this host's clock disagrees with the database's by more than {} s: claiming no reminders until it is set right (a clock ahead would send them early and take other processes' claims over)",
                max_skew(self.lease).num_seconds()
            );
        } else if !off && was {
            tracing::warn!(
                "this host's clock agrees with the database's again: claiming reminders"
            );
        }
        Ok((!off).then_some(lease_now))
    }

    /// Sends what is due now; returns how many reminders were delivered.
    pub async fn tick(&self, outbox: &dyn Outbox) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let mut delivered = 0;
        loop {
            let Some(lease_now) = self.lease_now_if_in_step().await? else {
                return Ok(delivered);
            };
            let batch = self
                .store
                .claim_due(
                    now,
                    500,
                    self.platform,
                    self.owner.as_str(),
                    lease_now + self.lease,
                )
                .await?;
            if batch.is_empty() {
                break;
            }
            delivered += self.deliver_batch(outbox, batch, now).await?;
        }
        Ok(delivered)
    }

    /// Renews the leases of what the batch holds (`TickCache::held`) every quarter lease,
    /// for as long as the batch runs: a send that outlasts the lease (retries,
    /// `retry_after`, a long fan-out), or a long run of quick ones, keeps its claims, so no
    /// other process takes them over and sends them too. Never ends by itself.
    pub(super) async fn keep_renewed(&self, cache: &TickCache) -> std::convert::Infallible {
        loop {
            tokio::time::sleep(self.renew_every()).await;
            self.renew(&cache.held()).await;
            // Recorded as they go too, so that one hung lane does not keep the others' sent
            // reminders unrecorded (and so re-sendable by a crash) for as long as it hangs.
            if let Err(e) = self.record_sent(cache).await {
                tracing::warn!(error = %e, "could not record sent reminders yet");
            }
        }
    }

    async fn renew(&self, held: &[String]) {
        let renewed = match self.store.lease_now().await {
            Ok(t) => {
                self.store
                    .fence_many(held, self.owner.as_str(), t + self.lease)
                    .await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = renewed {
            // The fence before each send still keeps a lost claim from going out twice.
            tracing::warn!(error = %e, "could not renew the leases of a delivery in progress");
        }
    }

    /// Whether the claim of `key` is still this process's, right before it is sent. One fence
    /// statement proves it for the `FENCE_CHUNK` first claims of the batch that have not yet
    /// passed their fence (lanes reach theirs in any order) and extends their
    /// leases by a whole lease; that proof is used only for sends that start within a quarter
    /// of a lease of it (by this process's monotonic clock, which runs on while it is stopped
    /// or stalled), so no other process can have taken a claim over before its send starts —
    /// it may only once the lease the fence gave has run out. Past that, a new fence.
    pub(super) async fn still_ours(
        &self,
        key: &str,
        cache: &TickCache,
    ) -> Result<bool, StoreError> {
        let valid_for = (self.lease / 4).to_std().unwrap_or_default();
        let proven_now = || {
            let proven = cache.lock(&cache.fenced).remove(key);
            proven.is_some_and(|at| at.elapsed() < valid_for)
        };
        if proven_now() {
            cache.pass(key);
            return Ok(true);
        }
        // One fence at a time per batch; the lane that waited may find its claim proven by it.
        let _fencing = cache.fencing.lock().await;
        if proven_now() {
            cache.pass(key);
            return Ok(true);
        }
        let chunk = cache.to_fence(key, FENCE_CHUNK);
        // The proof counts from before the lease it gives was computed, never after.
        let at = std::time::Instant::now();
        let lease_until = self.store.lease_now().await? + self.lease;
        self.fences
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let proven = self
            .store
            .fence_many(&chunk, self.owner.as_str(), lease_until)
            .await?;
        let ours = {
            let mut fenced = cache.lock(&cache.fenced);
            fenced.extend(proven.into_iter().map(|k| (k, at)));
            fenced.remove(key).is_some()
        };
        if ours {
            cache.pass(key);
        }
        Ok(ours)
    }

    /// Takes over claims nobody is delivering any more (a process that crashed, or stalled
    /// past its lease) and sends them again with the same key. Claims of live processes are
    /// left alone: several processes started side by side never send the same reminder twice.
    pub async fn recover(&self, outbox: &dyn Outbox) -> Result<usize, StoreError> {
        let now = self.clock.now();
        // Whether a lease has run out is judged by the lease clock, never this host's.
        let Some(lease_now) = self.lease_now_if_in_step().await? else {
            return Ok(0);
        };
        // A process of this host known to be gone loses its claims at once — unless the store
        // is shared by several hosts, where a host name and pid do not name one process (two
        // containers may both be "bot", pid 1): there, claims change hands only when their
        // lease has run out.
        let dead: Vec<String> = if self.store.shared_by_hosts() {
            Vec::new()
        } else {
            self.store
                .claim_owners(self.platform)
                .await?
                .into_iter()
                .filter(|o| o != self.owner.as_str() && Owner::is_dead(o))
                .collect()
        };
        let orphans = self
            .store
            .reclaim(
                self.platform,
                self.owner.as_str(),
                lease_now,
                lease_now + self.lease,
                &dead,
            )
            .await?;
        if orphans.is_empty() {
            return Ok(0);
        }
        tracing::info!(
            n = orphans.len(),
            "taking over reminders of a stopped process"
        );
        self.deliver_batch(outbox, orphans, now).await
    }
}
