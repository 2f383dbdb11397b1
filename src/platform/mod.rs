//! Platforms: adapters that turn what a platform delivers into command lines and `Reply`s into
//! what it displays. They translate; the core (`commands`) decides.

pub mod console;
pub mod discord;
pub mod matrix;

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
pub fn start_reminders(
    ctx: &crate::commands::Context,
    platform: &'static str,
    outbox: std::sync::Arc<dyn crate::scheduler::Outbox>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let scheduler = crate::scheduler::Scheduler {
        platform,
        store: ctx.store.clone(),
        clock: ctx.clock.clone(),
        wake: ctx.wake.clone(),
        grace: ctx.grace,
    };
    tokio::spawn(scheduler.run(outbox, shutdown))
}
