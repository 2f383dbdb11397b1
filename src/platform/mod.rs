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
