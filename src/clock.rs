//! The time, injectable: what "now" is for deciding what is due (`Clock`), so that tests
//! decide it. It must not decide how long a claim lasts across processes: leases are measured
//! by the store's clock (`Store::lease_now`), which is the database server's on PostgreSQL.

use std::sync::Arc;

use chrono::{DateTime, Utc};

#[derive(Clone, Debug)]
pub enum Clock {
    System,
    Fixed(Arc<std::sync::Mutex<DateTime<Utc>>>),
}

impl Clock {
    pub fn fixed(t: DateTime<Utc>) -> Clock {
        Clock::Fixed(Arc::new(std::sync::Mutex::new(t)))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(t) => *t.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Moves a fixed clock (tests); the system clock moves by itself.
    pub fn set(&self, t: DateTime<Utc>) {
        if let Clock::Fixed(c) = self {
            *c.lock().unwrap_or_else(|e| e.into_inner()) = t;
        }
    }
}
