//! The outbox: what a platform implements to receive reminders, and what it is handed. The
//! scheduler knows platforms only through this trait; it must not name one.

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};

use crate::domain::{EventId, SpaceId, Target};
use crate::reply::Reply;

/// What an outbox answers if handed a followers' stand-in (`Target::Followers`), which the
/// scheduler expands instead of sending.
pub const NOT_SENT: &str = "a followers' reminder is sent to each follower, never as such";

/// One reminder ready to go out.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The reminder's key: the idempotency handle (Discord nonce, Matrix transaction id).
    pub key: String,
    pub space: SpaceId,
    pub target: Target,
    pub reply: Reply,
    /// The event and occurrence a reminder is about (None for a notice).
    pub about: Option<(EventId, DateTime<Utc>)>,
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// Worth trying again later (rate limit, server error, network).
    #[error("temporary: {0}")]
    Temporary(String),
    /// The target is gone (channel deleted, bot removed): do not retry.
    #[error("gone: {0}")]
    Gone(String),
}

/// Where reminders go: each platform implements this; the scheduler only knows the trait.
pub trait Outbox: Send + Sync {
    fn deliver<'a>(
        &'a self,
        d: &'a Delivery,
    ) -> Pin<Box<dyn Future<Output = Result<(), DeliveryError>> + Send + 'a>>;
}
