//! Reminders leaving through Matrix: the scheduler's deliveries sent to a room, its reminder
//! room, or a person's direct room, with the reminder's key as transaction id.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::client::MatrixError;
use super::messages::message_content;
use super::Bot;
use crate::domain::{Platform, Target};
use crate::scheduler::{Delivery, DeliveryError, Outbox};

/// Gone for "not allowed / no such room" (the bot was removed, the room is gone); temporary
/// for everything else, which the scheduler retries with backoff.
pub(super) fn delivery_error(e: MatrixError) -> DeliveryError {
    match e.status() {
        Some(403 | 404) => DeliveryError::Gone(e.to_string()),
        _ => DeliveryError::Temporary(e.to_string()),
    }
}

/// The scheduler's way out to Matrix (started once, at start-up).
pub(super) struct MatrixOutbox {
    pub(super) bot: Arc<Bot>,
}

impl MatrixOutbox {
    /// One delivery: to a person's direct room, or to the space's room (its reminder room,
    /// if one is set; failure notices to the room itself).
    async fn deliver_one(&self, d: &Delivery) -> Result<(), DeliveryError> {
        let bot = &self.bot;
        if d.space.platform() != Platform::Matrix {
            return Err(DeliveryError::Gone(format!(
                "{} is not a Matrix room",
                d.space
            )));
        }
        let space_room = d.space.local();
        let client = bot.client.get();
        if let Target::User(person) = &d.target {
            return self.deliver_to_person(person, d).await;
        }
        let (room, msgtype) = match &d.target {
            // Failure notices go to the room itself (there is no moderators' channel), quietly.
            Target::Moderators => (space_room.to_string(), "m.notice"),
            Target::Followers => {
                return Err(DeliveryError::Gone(crate::scheduler::NOT_SENT.into()))
            }
            Target::Space | Target::User(_) => {
                let space = bot
                    .ctx
                    .store
                    .space(&d.space)
                    .await
                    .map_err(|e| DeliveryError::Temporary(e.to_string()))?;
                let room = match space.reminder_target.as_deref() {
                    None | Some("") => space_room.to_string(),
                    Some(alias) if alias.starts_with('#') => {
                        client.resolve_alias(alias).await.map_err(delivery_error)?
                    }
                    Some(room) => room.to_string(),
                };
                (room, "m.text")
            }
        };
        bot.send_event(&room, &d.key, &message_content(&d.reply, msgtype, None))
            .await
            .map(drop)
            .map_err(delivery_error)
    }

    /// A personal reminder, in the person's direct room with the bot.
    async fn deliver_to_person(&self, person: &str, d: &Delivery) -> Result<(), DeliveryError> {
        let bot = &self.bot;
        let content = message_content(&d.reply, "m.text", None);
        let room = bot.direct_room(person, false).await?;
        match bot.send_event(&room, &d.key, &content).await {
            Ok(_) => Ok(()),
            // The person left the direct room: open a new one, once.
            Err(e) if matches!(e.status(), Some(403 | 404)) => {
                let room = bot.direct_room(person, true).await?;
                bot.send_event(&room, &d.key, &content)
                    .await
                    .map(drop)
                    .map_err(delivery_error)
            }
            Err(e) => Err(delivery_error(e)),
        }
    }
}

impl Outbox for MatrixOutbox {
    fn deliver<'a>(
        &'a self,
        d: &'a Delivery,
    ) -> Pin<Box<dyn Future<Output = Result<(), DeliveryError>> + Send + 'a>> {
        Box::pin(self.deliver_one(d))
    }
}
