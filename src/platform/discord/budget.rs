//! The invalid-request budget: Discord bans the bot's address for an hour or more once it
//! sends 10 000 requests answered 401, 403 or 429 within 10 minutes — and then every server
//! loses its reminders. The REST client counts those answers over a sliding 10-minute window
//! and admits a request only while the worst case (every request in flight refused too) stays
//! under a bound: `BACKGROUND_LIMIT` for what can wait (the Events-tab mirror, reading who is
//! Interested), `ESSENTIAL_LIMIT` for reminders and interaction answers. It also remembers
//! what Discord refused (a route answered 403 or 404) so that nothing refused is asked again
//! until something changes: a permission change seen on the gateway, or `REFUSAL_TTL`.
//! Pure: the caller passes the time, so tests drive it with any clock.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

/// Discord's window for invalid requests.
pub const WINDOW: Duration = Duration::from_secs(600);
/// Invalid answers in a window past which only essential requests go out (Discord's limit is
/// 10 000).
pub const BACKGROUND_LIMIT: usize = 1_000;
/// Invalid answers (and requests in flight) in a window past which nothing goes out.
pub const ESSENTIAL_LIMIT: usize = 5_000;
/// How long a route Discord refused (403, 404) is not asked again, unless a permission change
/// is seen first.
pub const REFUSAL_TTL: Duration = Duration::from_secs(6 * 3600);
/// Most refused routes remembered (oldest forgotten first beyond it).
const MAX_REFUSALS: usize = 10_000;

/// Whether a request can wait when the budget runs low.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// Reminders, direct messages, interaction answers and follow-ups, registration.
    Essential,
    /// The Events-tab mirror, reading who is Interested: nothing a person waits for.
    Background,
}

/// Why a request was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    /// The budget is spent for this priority.
    Budget { invalid: usize },
    /// Discord refused this route before (status, Discord's code).
    Refused { status: u16, code: i64 },
    /// Discord refused the bot's token: nothing goes out any more.
    Revoked,
}

/// Whether a route names what it acts on (a guild, a channel, a message: a Discord id in its
/// path), so that a refusal is about that thing alone. `POST /users/@me/channels` opens every
/// person's direct messages: one person's refusal must not stop the others'.
fn names_its_target(route: &str) -> bool {
    route
        .split('/')
        .any(|seg| seg.len() >= 15 && seg.bytes().all(|b| b.is_ascii_digit()))
        || route.contains(" /webhooks/")
        || route.contains(" /interactions/")
}

/// What a response says for the budget.
pub fn is_invalid(status: u16) -> bool {
    matches!(status, 401 | 403 | 429)
}

#[derive(Debug, Default)]
pub struct Budget {
    /// When each invalid answer of the window came (oldest first).
    invalid: VecDeque<Instant>,
    in_flight: usize,
    /// Routes refused: until when, and what Discord said.
    refused: HashMap<String, (Instant, u16, i64)>,
    revoked: bool,
    /// Whether the log has said that background traffic stopped (once per episode).
    said: bool,
}

impl Budget {
    fn forget_old(&mut self, now: Instant) {
        while self
            .invalid
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            self.invalid.pop_front();
        }
    }

    /// Admits a request on `route` now (counting it in flight until `settle`), or says why not.
    pub fn admit(&mut self, route: &str, priority: Priority, now: Instant) -> Result<(), Held> {
        if self.revoked {
            return Err(Held::Revoked);
        }
        if let Some(&(until, status, code)) = self.refused.get(route) {
            if now < until {
                return Err(Held::Refused { status, code });
            }
            self.refused.remove(route);
        }
        self.forget_old(now);
        let worst = self.invalid.len() + self.in_flight;
        let limit = match priority {
            Priority::Essential => ESSENTIAL_LIMIT,
            Priority::Background => BACKGROUND_LIMIT,
        };
        if worst >= limit {
            if !self.said {
                self.said = true;
                tracing::error!(
                    invalid = self.invalid.len(),
                    "Discord refused many requests in the last 10 minutes: holding back the Events-tab mirror and other background requests (reminders and answers go on) so that Discord does not ban this address"
                );
            }
            return Err(Held::Budget {
                invalid: self.invalid.len(),
            });
        }
        if self.said && self.invalid.len() < BACKGROUND_LIMIT / 2 {
            self.said = false;
            tracing::warn!("few refused requests again: background requests resume");
        }
        self.in_flight += 1;
        Ok(())
    }

    /// Records the answer to an admitted request (`None`: no answer, a network error).
    /// `remember`: whether a 403 or 404 means the route itself is refused (not, say, an
    /// expired interaction token). `token_refused`: whether a 401 means the bot's token is
    /// no longer valid.
    pub fn settle(
        &mut self,
        route: &str,
        answer: Option<(u16, i64)>,
        remember: bool,
        token_refused: bool,
        now: Instant,
    ) {
        self.in_flight = self.in_flight.saturating_sub(1);
        let Some((status, code)) = answer else {
            return;
        };
        if is_invalid(status) {
            self.invalid.push_back(now);
        }
        if status == 401 && token_refused {
            self.revoked = true;
        }
        if remember && matches!(status, 403 | 404) && names_its_target(route) {
            if self.refused.len() >= MAX_REFUSALS {
                self.refused.retain(|_, (until, _, _)| *until > now);
                if self.refused.len() >= MAX_REFUSALS {
                    self.refused.clear();
                }
            }
            self.refused
                .insert(route.to_string(), (now + REFUSAL_TTL, status, code));
        }
    }

    /// Whether `route` is remembered as refused now.
    pub fn is_refused(&self, route: &str, now: Instant) -> bool {
        self.refused
            .get(route)
            .is_some_and(|(until, _, _)| now < *until)
    }

    /// A permission changed (a role, the guild, the bot's member): what was refused on the
    /// routes `concerned` picks may be allowed now, so those refusals are forgotten.
    pub fn forget_refusals(&mut self, concerned: impl Fn(&str) -> bool) {
        self.refused.retain(|route, _| !concerned(route));
    }

    pub fn revoked(&self) -> bool {
        self.revoked
    }

    /// Invalid answers within the window ending `now`.
    pub fn invalid_in_window(&mut self, now: Instant) -> usize {
        self.forget_old(now);
        self.invalid.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_refused_route_is_not_asked_again_until_a_permission_changes() {
        let mut b = Budget::default();
        let t = Instant::now();
        let route = "POST /guilds/100000000000000001/scheduled-events";
        b.admit(route, Priority::Background, t).unwrap();
        b.settle(route, Some((403, 50013)), true, true, t);
        assert_eq!(
            b.admit(route, Priority::Background, t + Duration::from_secs(60)),
            Err(Held::Refused {
                status: 403,
                code: 50013
            })
        );
        b.forget_refusals(|r| r.contains("/guilds/100000000000000002/"));
        assert!(
            b.admit(route, Priority::Background, t).is_err(),
            "another guild's change"
        );
        b.forget_refusals(|r| r.contains("/guilds/100000000000000001/"));
        assert!(b.admit(route, Priority::Background, t).is_ok());
    }

    #[test]
    fn a_refusal_to_open_one_persons_messages_is_not_everyones() {
        let mut b = Budget::default();
        let t = Instant::now();
        let route = "POST /users/@me/channels";
        b.admit(route, Priority::Essential, t).unwrap();
        b.settle(route, Some((404, 10013)), true, true, t);
        assert!(b.admit(route, Priority::Essential, t).is_ok());
    }

    #[test]
    fn a_refused_token_stops_everything() {
        let mut b = Budget::default();
        let t = Instant::now();
        b.admit("GET /gateway/bot", Priority::Essential, t).unwrap();
        b.settle("GET /gateway/bot", Some((401, 0)), false, true, t);
        assert_eq!(
            b.admit("POST /channels/1/messages", Priority::Essential, t),
            Err(Held::Revoked)
        );
    }

    #[derive(Debug, Clone)]
    struct Step {
        background: bool,
        status: u16,
        /// Requests started before any of them is answered.
        burst: usize,
        wait_ms: u64,
    }

    fn step() -> impl Strategy<Value = Step> {
        (
            any::<bool>(),
            prop_oneof![
                Just(200u16),
                Just(401),
                Just(403),
                Just(404),
                Just(429),
                Just(500)
            ],
            1usize..400,
            0u64..120_000,
        )
            .prop_map(|(background, status, burst, wait_ms)| Step {
                background,
                status,
                burst,
                wait_ms,
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever Discord answers, however many requests are in flight at once, the bot
        /// never gets more invalid answers than the limit in any 10-minute window.
        #[test]
        fn no_window_ever_holds_more_invalid_answers_than_the_limit(
            steps in proptest::collection::vec(step(), 1..200)
        ) {
            let mut b = Budget::default();
            let start = Instant::now();
            let mut now = start;
            let mut answered: Vec<Instant> = Vec::new();
            for (n, s) in steps.iter().enumerate() {
                let priority = if s.background { Priority::Background } else { Priority::Essential };
                // Each step's routes are its own, so that remembered refusals do not hide the
                // budget; a 401 here never means the token (that would stop everything).
                let route = |k: usize| format!("POST /channels/{n}/{k}");
                let admitted: Vec<usize> = (0..s.burst)
                    .filter(|k| b.admit(&route(*k), priority, now).is_ok())
                    .collect();
                for k in admitted {
                    b.settle(&route(k), Some((s.status, 0)), true, false, now);
                    if is_invalid(s.status) {
                        answered.push(now);
                    }
                }
                now += Duration::from_millis(s.wait_ms);
            }
            // Every window that starts at an answer: two pointers over the sorted times.
            let mut end = 0;
            for (i, t) in answered.iter().enumerate() {
                while end < answered.len() && answered[end].duration_since(*t) < WINDOW {
                    end += 1;
                }
                prop_assert!(end - i <= ESSENTIAL_LIMIT, "{} in one window", end - i);
            }
            let _ = start;
        }
    }
}
