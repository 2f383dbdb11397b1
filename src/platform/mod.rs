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
    let ctx = ctx.clone();
    // Followed calendars are polled beside the reminders, by every platform's process for its
    // own spaces (a panic in a poll ends only that pass's task; the loop is not restarted).
    tokio::spawn(crate::sync::poll::run(
        ctx.clone(),
        platform,
        outbox.clone(),
        shutdown.clone(),
    ));
    // Supervised: a panic in the scheduler (a bug) is logged and the loop starts again, so
    // that one bad reminder cannot stop every later one.
    tokio::spawn(async move {
        loop {
            let mut scheduler = crate::scheduler::Scheduler::new(
                platform,
                ctx.store.clone(),
                ctx.clock.clone(),
                ctx.grace,
            );
            scheduler.lease = ctx.lease;
            let run = tokio::spawn(scheduler.run(outbox.clone(), shutdown.clone())).await;
            match run {
                Err(e) if e.is_panic() && !*shutdown.borrow() => {
                    let id = crate::error::incident_id();
                    tracing::error!(incident = %id, "the reminder scheduler panicked; restarting it");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
                _ => return,
            }
        }
    })
}
