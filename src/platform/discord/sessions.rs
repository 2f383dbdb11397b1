//! Keeping a gateway shard connected without spending Discord's budget of session starts.
//! Discord allows a bot a number of IDENTIFYs a day (`session_start_limit`: 1 000 for most
//! bots, told by `GET /gateway/bot` with what is left and when it resets) and resets the token
//! of a bot that goes over. A token whose sessions keep being invalidated would otherwise
//! identify again every few seconds, all day.
//!
//! So: connections that end quickly (before `STABLE`) or with an invalid session back off
//! exponentially with jitter — reaching HELLO is not enough to count as recovered; identifies
//! are spaced `IDENTIFY_SPACING` apart within this process; and when what is left of the
//! budget reaches `RESERVE` (kept for a restart by hand), the shard waits for the reset —
//! saying so in the log once — after asking Discord again what is left.
//!
//! It must not speak the protocol: `gateway` does, through `Connection`.

use std::future::Future;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;
use tokio::time::Instant;

/// How a connection ended, and so what the shard does next.
#[derive(Debug, PartialEq)]
pub enum Ended {
    /// Reconnect and resume the session (network trouble, op 7, a zombied connection).
    Resume,
    /// Start a new session (op 9 not resumable, session expired).
    Identify,
    /// Discord refused us for good (bad token, bad shard): the process stops with this.
    Fatal(String),
    /// We were asked to stop.
    Shutdown,
}

/// A connection that lasted this long was healthy: the back-off starts again from nothing.
pub const STABLE: Duration = Duration::from_secs(60);
/// The longest wait between two connections.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Identifies of this process are at least this far apart (Discord's rule per bucket).
pub const IDENTIFY_SPACING: Duration = Duration::from_secs(5);
/// Session starts never spent by a running bot: left for an operator's restart.
pub const RESERVE: u32 = 10;
/// Discord's window for session starts.
const DAY: Duration = Duration::from_secs(86_400);
/// The shortest window believed (a `reset_after` of 0 would make every identify a new one).
const MIN_WINDOW: Duration = Duration::from_secs(60);

/// What `GET /gateway/bot` says of the session-start budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StartLimit {
    pub total: u32,
    pub remaining: u32,
    pub reset_after: Duration,
    pub max_concurrency: u32,
}

impl StartLimit {
    /// Read from `/gateway/bot`'s `session_start_limit`; None when it is not there.
    pub fn from_json(v: &Value) -> Option<StartLimit> {
        let n = |k: &str| v[k].as_u64().and_then(|n| u32::try_from(n).ok());
        Some(StartLimit {
            total: n("total")?,
            remaining: n("remaining")?,
            reset_after: Duration::from_millis(v["reset_after"].as_u64()?.min(86_400_000)),
            max_concurrency: n("max_concurrency").unwrap_or(1).max(1),
        })
    }
}

/// Asks Discord again what is left of the budget (None: cannot tell now).
pub trait Recount: Send + Sync {
    fn recount(&self) -> impl Future<Output = Option<StartLimit>> + Send;
}

/// The budget as this process knows it, shared by its shards.
#[derive(Debug)]
struct Known {
    remaining: u32,
    total: u32,
    reset_at: Instant,
    last_identify: Option<Instant>,
    /// Whether the wait for a reset has been said in the log (once per wait).
    said_waiting: bool,
}

/// Session starts of one bot token in this process.
#[derive(Debug)]
pub struct Starts<R> {
    known: tokio::sync::Mutex<Known>,
    recount: R,
}

impl<R: Recount> Starts<R> {
    pub fn new(limit: StartLimit, recount: R) -> Starts<R> {
        Starts {
            known: tokio::sync::Mutex::new(Known {
                remaining: limit.remaining,
                total: limit.total,
                reset_at: Instant::now() + limit.reset_after,
                last_identify: None,
                said_waiting: false,
            }),
            recount,
        }
    }

    /// Waits until this process may IDENTIFY, and counts it. Shards take turns (the lock is
    /// held through the wait), so no two identify within `IDENTIFY_SPACING`.
    pub async fn identify_turn(&self) {
        let mut known = self.known.lock().await;
        loop {
            let now = Instant::now();
            if now >= known.reset_at {
                // A new window: Discord's count, if it answers; else a whole day's budget for
                // a day from now (a window is a day; this one cannot have started earlier).
                let limit = self.recount.recount().await;
                known.remaining = limit.map_or(known.total, |l| l.remaining);
                known.total = limit.map_or(known.total, |l| l.total);
                known.reset_at = now + limit.map_or(DAY, |l| l.reset_after.max(MIN_WINDOW));
            }
            if known.remaining > RESERVE {
                break;
            }
            self.wait_for_reset(&mut known).await;
        }
        if let Some(spaced) = known.last_identify.map(|t| t + IDENTIFY_SPACING) {
            tokio::time::sleep_until(spaced).await;
        }
        known.remaining -= 1;
        known.last_identify = Some(Instant::now());
    }

    /// Asks Discord what is left (another process of the bot may have spent some, or the
    /// budget reset); if nothing is, waits for the reset, saying so once.
    async fn wait_for_reset(&self, known: &mut Known) {
        if let Some(limit) = self.recount.recount().await {
            known.remaining = limit.remaining;
            known.total = limit.total;
            known.reset_at = Instant::now() + limit.reset_after.max(MIN_WINDOW);
            if known.remaining > RESERVE {
                known.said_waiting = false;
                return;
            }
        }
        let wait = known
            .reset_at
            .saturating_duration_since(Instant::now())
            .max(Duration::from_secs(1));
        if !known.said_waiting {
            known.said_waiting = true;
            tracing::warn!(
                wait_s = wait.as_secs(),
                left = known.remaining,
                "the gateway's budget of session starts is spent but for a reserve: waiting for Discord to reset it before identifying again"
            );
        }
        tokio::time::sleep(wait).await;
    }
}

/// How long to wait before the next connection: exponential with jitter while connections
/// keep ending quickly or with a session Discord will not resume.
#[derive(Debug, Default)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    pub fn after(&mut self, ended: &Result<Ended, String>, lasted: Duration) -> Duration {
        let healthy = matches!(ended, Ok(Ended::Resume)) && lasted >= STABLE;
        if healthy {
            self.failures = 0;
        } else {
            self.failures = self.failures.saturating_add(1);
        }
        let base = (Duration::from_millis(500) * (1 << self.failures.min(7))).min(MAX_BACKOFF);
        crate::platform::jittered(base)
    }
}

/// One shard's side of a connection, as `keep_connected` drives it.
pub trait Connection {
    /// Connects once and serves until the connection ends.
    fn connect(
        &mut self,
        shutdown: &mut watch::Receiver<bool>,
    ) -> impl Future<Output = Result<Ended, String>>;
    /// Forgets the session (the next connection identifies).
    fn forget_session(&mut self);
    /// Names the shard in the log.
    fn id(&self) -> u32;
}

/// Connects again and again until shutdown (Ok) or a refusal for good (Err), backing off as
/// `Backoff` says.
pub async fn keep_connected<C: Connection>(
    conn: &mut C,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), String> {
    let mut backoff = Backoff::default();
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        let started = Instant::now();
        let ended = conn.connect(&mut shutdown).await;
        match &ended {
            Ok(Ended::Shutdown) => return Ok(()),
            Ok(Ended::Fatal(why)) => return Err(why.clone()),
            Ok(Ended::Identify) => conn.forget_session(),
            Ok(Ended::Resume) => {}
            Err(e) => tracing::warn!(shard = conn.id(), error = %e, "gateway connection failed"),
        }
        let wait = backoff.after(&ended, started.elapsed());
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Discord as the budget's keeper: 1 000 session starts a window, the window a day from
    /// the first start in it.
    #[derive(Default)]
    struct Budget {
        left: u32,
        window_end: Option<Instant>,
    }

    impl Budget {
        fn renewed(&mut self) {
            if self.window_end.is_none_or(|end| Instant::now() >= end) {
                self.left = 1000;
                self.window_end = None;
            }
        }
    }

    #[derive(Clone, Default)]
    struct Keeper(Arc<Mutex<Budget>>);

    impl Keeper {
        /// An IDENTIFY, as Discord counts it; going over would reset the token.
        fn spend(&self) {
            let mut b = self.0.lock().unwrap();
            b.renewed();
            assert!(b.left > 0, "identified with no session starts left");
            b.left -= 1;
            b.window_end
                .get_or_insert(Instant::now() + Duration::from_secs(86_400));
        }
    }

    impl Recount for Keeper {
        async fn recount(&self) -> Option<StartLimit> {
            let mut b = self.0.lock().unwrap();
            b.renewed();
            let reset_after = b.window_end.map_or(Duration::from_secs(86_400), |end| {
                end.saturating_duration_since(Instant::now())
            });
            Some(StartLimit {
                total: 1000,
                remaining: b.left,
                reset_after,
                max_concurrency: 1,
            })
        }
    }

    /// A stand-in gateway that invalidates every session a moment after it starts.
    struct Invalidating {
        starts: Arc<Starts<Keeper>>,
        session: bool,
        identified: Arc<AtomicU32>,
        discord: Keeper,
    }

    impl Connection for Invalidating {
        async fn connect(&mut self, _: &mut watch::Receiver<bool>) -> Result<Ended, String> {
            if !self.session {
                self.starts.identify_turn().await;
                self.identified.fetch_add(1, Ordering::SeqCst);
                self.discord.spend();
                self.session = true;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            Ok(Ended::Identify)
        }
        fn forget_session(&mut self) {
            self.session = false;
        }
        fn id(&self) -> u32 {
            0
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_token_whose_sessions_are_always_invalidated_stays_within_a_days_budget() {
        let discord = Keeper::default();
        let limit = discord.recount().await.unwrap();
        let starts = Arc::new(Starts::new(limit, discord.clone()));
        let identified = Arc::new(AtomicU32::new(0));
        let (stop, shutdown) = watch::channel(false);
        let mut conn = Invalidating {
            starts,
            session: false,
            identified: identified.clone(),
            discord,
        };
        // Two days and more: the budget's reset at the end of the first must not make the
        // second unlimited.
        let days = Duration::from_secs(2 * 86_400 + 3_600);
        let run = keep_connected(&mut conn, shutdown);
        tokio::select! {
            done = run => panic!("the shard stopped by itself: {done:?}"),
            _ = tokio::time::sleep(days) => {}
        }
        drop(stop);
        let n = identified.load(Ordering::SeqCst);
        // It kept trying (back-off capped at a minute), never past a day's budget and never
        // into its reserve: at most two days' worth and the first hour of a third.
        assert!(n > 1000, "only {n} identifies in two days");
        assert!(
            n <= 3 * (1000 - RESERVE),
            "{n} identifies in two days and an hour"
        );
    }

    #[test]
    fn only_a_connection_that_lasted_resets_the_backoff() {
        let mut b = Backoff::default();
        let quick = Duration::from_secs(2);
        let waits: Vec<Duration> = (0..8).map(|_| b.after(&Ok(Ended::Resume), quick)).collect();
        assert!(waits[7] >= Duration::from_secs(30), "{waits:?}");
        assert!(waits.windows(2).all(|w| w[1] * 2 >= w[0]), "{waits:?}");
        let calm = b.after(&Ok(Ended::Resume), STABLE);
        assert!(calm <= Duration::from_millis(500), "{calm:?}");
        let invalid = b.after(&Ok(Ended::Identify), STABLE * 2);
        assert!(invalid >= Duration::from_millis(500), "{invalid:?}");
    }

    #[test]
    fn the_budget_is_read_from_gateway_bot() {
        let v = serde_json::json!({"total": 1000, "remaining": 998, "reset_after": 14_400_000, "max_concurrency": 1});
        let limit = StartLimit::from_json(&v).unwrap();
        assert_eq!(limit.remaining, 998);
        assert_eq!(limit.reset_after, Duration::from_secs(14_400));
        assert_eq!(StartLimit::from_json(&serde_json::json!({})), None);
    }
}
