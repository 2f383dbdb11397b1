//! Platforms: adapters that turn what a platform delivers into command lines and `Reply`s into
//! what it displays. They translate; the core (`commands`) decides.

pub mod console;
#[cfg(feature = "discord")]
pub mod discord;
pub mod http;
#[cfg(feature = "matrix")]
pub mod matrix;
pub mod web;

/// A number in [0, 1) that differs between processes and calls: for jitter only.
#[cfg(any(feature = "discord", feature = "matrix"))]
pub(crate) fn rand_fraction() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    f64::from(nanos % 1000) / 1000.0
}

/// Between half and all of `base`, so that clients that failed together do not return
/// together.
#[cfg(any(feature = "discord", feature = "matrix"))]
pub(crate) fn jittered(base: std::time::Duration) -> std::time::Duration {
    base / 2 + base.mul_f64(rand_fraction() / 2.0)
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM (a service manager stopping the bot).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down");
}

/// Starts a platform's reminder scheduler, once, at start-up (never from a "ready" event):
/// it delivers the reminders of that platform's spaces through `outbox` until `shutdown`
/// turns true.
/// The longest a stopping process waits for a reminder being delivered to be recorded.
const FINISH_DELIVERY_WITHIN: std::time::Duration = std::time::Duration::from_secs(10);

/// A process that stops must let a delivery in flight be recorded before it exits, or the
/// next start sends that reminder again (found by CI: a console whose input ended between
/// printing a reminder and recording it). Bounded: a stuck delivery does not hold the exit.
pub async fn finish_reminders(task: tokio::task::JoinHandle<()>) {
    if tokio::time::timeout(FINISH_DELIVERY_WITHIN, task)
        .await
        .is_err()
    {
        tracing::warn!("a reminder delivery was still running at exit; its lease will expire");
    }
}

pub fn start_reminders(
    ctx: &crate::commands::Context,
    platform: crate::domain::Platform,
    outbox: std::sync::Arc<dyn crate::scheduler::Outbox>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    // Followed calendars are polled beside the reminders, by every platform's process for its
    // own spaces.
    let (c, o) = (ctx.clone(), outbox.clone());
    supervise("calendar poller", shutdown.clone(), move |stop| {
        crate::sync::poll::run(c.clone(), platform, o.clone(), stop)
    });
    let ctx = ctx.clone();
    // One ledger of sent-but-unrecorded reminders for the process: a scheduler started again
    // after a panic knows what the one before it sent.
    let sent = crate::scheduler::SentLedger::default();
    supervise("reminder scheduler", shutdown, move |stop| {
        let mut scheduler = crate::scheduler::Scheduler::new(
            platform,
            ctx.store.clone(),
            ctx.clock.clone(),
            ctx.grace,
        );
        scheduler.lease = ctx.lease;
        scheduler.sent = sent.clone();
        scheduler.run(outbox.clone(), stop)
    })
}

/// Runs the loop `start` makes until shutdown, starting it again after a panic (a bug): it is
/// logged with an incident id, and one bad reminder or feed cannot stop every later one.
fn supervise<F, Fut>(
    what: &'static str,
    shutdown: tokio::sync::watch::Receiver<bool>,
    start: F,
) -> tokio::task::JoinHandle<()>
where
    F: Fn(tokio::sync::watch::Receiver<bool>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        loop {
            match tokio::spawn(start(shutdown.clone())).await {
                Err(e) if e.is_panic() && !*shutdown.borrow() => {
                    let id = crate::error::incident_id();
                    tracing::error!(incident = %id, "the {what} panicked; restarting it");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
                _ => return,
            }
        }
    })
}

#[cfg(test)]
mod supervision {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// A loop that panics (a bug) is started again; one that ends at shutdown is not.
    #[tokio::test]
    async fn a_loop_that_panics_is_started_again_until_shutdown() {
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        let starts = Arc::new(AtomicUsize::new(0));
        let counted = starts.clone();
        let task = super::supervise("test loop", shutdown, move |mut stop| {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    panic!("a bug in the first run");
                }
                let _ = stop.changed().await;
            }
        });
        while starts.load(Ordering::SeqCst) < 2 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        stop.send(true).unwrap();
        task.await.unwrap();
        assert_eq!(
            starts.load(Ordering::SeqCst),
            2,
            "started again once, then ended"
        );
    }
}
