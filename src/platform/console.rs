//! The console: `atlasbot ask "<line>"` answers one command; `atlasbot console` reads lines
//! from a terminal (with line editing and history) or a pipe. No network, no secrets.
//!
//! Contract relied on by scripts: answers (including "not found") exit 0, usage errors 2,
//! failures on our side 1; stdout carries only answers, logs go to stderr.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::commands::{self, Caller, Context};
use crate::render;
use crate::reply::{Reply, Tone};
use crate::scheduler::{Delivery, DeliveryError, Outbox};

/// Reminders on the console: a line on stdout, marked with the reminder's key — the console's
/// idempotency handle (a reader seeing a key twice after a crash knows it is one reminder).
pub struct ConsoleOutbox;

impl Outbox for ConsoleOutbox {
    fn deliver<'a>(
        &'a self,
        d: &'a Delivery,
    ) -> Pin<Box<dyn Future<Output = Result<(), DeliveryError>> + Send + 'a>> {
        Box::pin(async move {
            let text = format!(
                "[reminder {} → {}]\n{}\n",
                d.key,
                d.target,
                render::plain::render(&d.reply)
            );
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| DeliveryError::Temporary(e.to_string()))
        })
    }
}

/// Starts the scheduler for the console space; returns the shutdown switch.
fn start_scheduler(ctx: &Context) -> tokio::sync::watch::Sender<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    super::start_reminders(ctx, "console", Arc::new(ConsoleOutbox), rx);
    tx
}

pub fn exit_code(reply: &Reply) -> ExitCode {
    match reply.tone {
        Tone::Answer | Tone::NotFound => ExitCode::SUCCESS,
        Tone::Usage | Tone::Refusal => ExitCode::from(2),
        Tone::Failure => ExitCode::FAILURE,
    }
}

fn print(reply: &Reply, json: bool) {
    let out = if json {
        serde_json::to_string_pretty(reply).expect("a reply serialises") + "\n"
    } else {
        render::plain::render(reply)
    };
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
}

pub async fn ask(ctx: &Context, line: &str, json: bool) -> ExitCode {
    let reply = commands::answer(ctx, &Caller::console(), line).await;
    print(&reply, json);
    exit_code(&reply)
}

pub async fn run(ctx: &Context, json: bool) -> ExitCode {
    let caller = Caller::console();
    // Started once, here — not per command, not on any "ready" signal.
    let shutdown = start_scheduler(ctx);
    let code = if std::io::stdin().is_terminal() {
        interactive(ctx, &caller, json).await
    } else {
        piped(ctx, &caller, json).await
    };
    let _ = shutdown.send(true);
    code
}

/// Reads lines from a pipe without blocking the runtime, so reminders print while it waits.
async fn piped(ctx: &Context, caller: &Caller, json: bool) -> ExitCode {
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.trim().is_empty() {
            continue;
        }
        let reply = commands::answer(ctx, caller, &line).await;
        print(&reply, json);
        println!();
    }
    ExitCode::SUCCESS
}

async fn interactive(ctx: &Context, caller: &Caller, json: bool) -> ExitCode {
    let mut editor = match rustyline::DefaultEditor::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("cannot start line editing: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("atlasbot console — type /help, or Ctrl-D to leave.");
    loop {
        // rustyline blocks; block_in_place lets the scheduler run on the other workers.
        match tokio::task::block_in_place(|| editor.readline("> ")) {
            Ok(line) => {
                if line.trim().is_empty() {
                    continue;
                }
                let _ = editor.add_history_entry(line.as_str());
                let reply = commands::answer(ctx, caller, &line).await;
                print(&reply, json);
                println!();
            }
            Err(rustyline::error::ReadlineError::Interrupted) => continue,
            Err(_) => break,
        }
    }
    ExitCode::SUCCESS
}
