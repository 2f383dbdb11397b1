//! Two kinds of error. What the user did wrong (usage, permission, too much input) is shown as
//! written, with an example that works. What went wrong on our side is logged with an incident
//! id, and the user sees only an apology with that id — never the internal error text.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::reply::{Reply, Text, Tone};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The request cannot be understood: say why and show one that works.
    #[error("{message}")]
    Usage {
        /// Text, not a string: it may show times (`Span::Time`), which platforms mark up.
        message: Text,
        example: Option<String>,
    },
    /// Understood but not allowed (permissions, limits).
    #[error("{0}")]
    Refused(String),
    /// A bug or an outage: logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for CommandError {
    fn from(e: StoreError) -> Self {
        CommandError::Internal(e.into())
    }
}

impl CommandError {
    pub fn usage(message: impl Into<Text>, example: impl Into<String>) -> CommandError {
        CommandError::Usage {
            message: message.into(),
            example: Some(example.into()),
        }
    }
}

/// A short reference that ties a user's report to the log line ("ref 3f9a").
pub fn incident_id() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{:04x}", (nanos ^ n.wrapping_mul(0x9E37_79B9)) & 0xffff)
}

/// The one place an error becomes a reply.
pub fn into_reply(error: CommandError, command_line: &str) -> Reply {
    match error {
        CommandError::Usage { message, example } => {
            let mut r = Reply::new(Tone::Usage);
            r.summary = Some(message);
            if let Some(e) = example {
                r.suggestions.push(e);
            }
            r
        }
        CommandError::Refused(message) => {
            let mut r = Reply::new(Tone::Refusal);
            r.summary = Some(Text::plain(message));
            r
        }
        CommandError::Internal(e) => {
            let id = incident_id();
            // The command line is user text: logged as a field, length-capped.
            let line: String = command_line.chars().take(200).collect();
            tracing::error!(incident = %id, command = %line, error = format!("{e:#}"), "command failed");
            let mut r = Reply::new(Tone::Failure);
            r.summary = Some(Text::plain(format!(
                "Sorry, something went wrong on my side (ref {id}). Please try again later."
            )));
            r
        }
    }
}

/// What a caught panic said, for the log.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into())
}

/// `work`, with a panic in it (a bug) caught and returned as an internal error.
pub async fn catch_panic<F>(work: F) -> Result<F::Output, anyhow::Error>
where
    F: std::future::Future,
{
    use futures_util::FutureExt;
    std::panic::AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .map_err(|panic| anyhow::anyhow!("panicked: {}", panic_message(panic.as_ref())))
}

/// Runs one piece of work for a person (a command, an interaction, a message) so that a panic
/// in it — a bug — ends only that work: it is logged with an incident id, and the reply to
/// show instead ("something went wrong (ref 3f9a)") comes back as the error.
pub async fn contained<F>(what: &str, work: F) -> Result<F::Output, Reply>
where
    F: std::future::Future,
{
    catch_panic(work)
        .await
        .map_err(|e| into_reply(CommandError::Internal(e), what))
}
