//! The console: `atlasbot ask "<line>"` answers one command; `atlasbot console` reads lines
//! from a terminal (with line editing and history) or a pipe. No network, no secrets.
//!
//! Contract relied on by scripts: answers (including "not found") exit 0, usage errors 2,
//! failures on our side 1; stdout carries only answers, logs go to stderr.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use crate::commands::{self, Caller, Context};
use crate::render;
use crate::reply::{Reply, Tone};

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
    if std::io::stdin().is_terminal() {
        interactive(ctx, &caller, json).await
    } else {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            let Ok(line) = line else { break };
            if line.trim().is_empty() {
                continue;
            }
            let reply = commands::answer(ctx, &caller, &line).await;
            print(&reply, json);
            println!();
        }
        ExitCode::SUCCESS
    }
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
        // rustyline blocks; the console has nothing else to do meanwhile.
        match editor.readline("> ") {
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
